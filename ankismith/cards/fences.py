"""Fenced code blocks, found line by line: the one rule the reader and both Markdown
preprocessors share, so that none of them looks inside code the others treat as code."""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import Enum

# CommonMark: three or more backticks or tildes; a backtick fence's info string has no backtick.
# Any indentation: fences inside list items are indented.
FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)[ \t]*$")


class Mark(Enum):
    """Where a line stands relative to fenced code."""

    OPEN = "open"
    INSIDE = "inside"
    CLOSE = "close"


def fence_marks(lines: Sequence[str]) -> list[Mark | None]:
    """For each line, its place in a fenced code block (None: outside any). A block closes at a
    fence of the same character, at least as long, with no info string; unclosed, it runs to the end."""
    marks: list[Mark | None] = []
    fence = ""
    for line in lines:
        match = FENCE.match(line)
        if fence:
            closing = match and match["fence"][0] == fence[0] and len(match["fence"]) >= len(fence)
            if closing and not match["info"]:
                marks.append(Mark.CLOSE)
                fence = ""
            else:
                marks.append(Mark.INSIDE)
        elif match:
            marks.append(Mark.OPEN)
            fence = match["fence"]
        else:
            marks.append(None)
    return marks


def info_word(line: str) -> str:
    """The first word of an opening fence's info string (`numeric`, `python`), or ''."""
    match = FENCE.match(line)
    words = match["info"].split() if match else []
    return words[0] if words else ""
