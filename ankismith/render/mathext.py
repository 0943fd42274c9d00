"""Math for Anki's MathJax as a Python-Markdown extension, built like pymdownx.arithmatex.

`$..$` and `\\(..\\)` become `\\(..\\)`; `$$..$$` and `\\[..\\]` become `\\[..\\]`. The TeX is kept
exactly as written and HTML-escaped once (Anki hands the field's text to MathJax, so `&lt;` is
read as `<`). The inline patterns sit just below code spans, so code wins; `\\$` is a dollar.
Dollars follow pandoc's rule so that prose like "$5 and $6" stays text: an opening `$` is not
followed by a space, a closing one is not preceded by a space nor followed by a digit.
"""

from __future__ import annotations

import html
import re

from markdown import Extension, Markdown
from markdown.inlinepatterns import InlineProcessor
from markdown.preprocessors import Preprocessor

from ankismith.cards.fences import fence_marks

# The TeX never holds STX or ETX: they mark Markdown's placeholders for what an earlier pattern took (a code
# span, another formula), which would otherwise end up, control characters and all, inside the formula.
INLINE_DISPLAY = r"(?<!\\)\$\$(?P<math>(?:\\[^\x02\x03]|[^\\$\x02\x03])+?)\$\$"
# the TeX may end with an escaped character (`\}`, `\%`, `\|`): its last element is a backslash pair or
# a character that is not a space
INLINE_DOLLAR = (
    r"(?<![\\$])\$(?![\s$])(?P<math>(?:\\[^\x02\x03]|[^\\$\x02\x03])*?(?:\\[^\x02\x03]|[^\s\\$\x02\x03]))\$(?![\d$])"
)
INLINE_ROUND = r"(?<!\\)\\\((?P<math>(?:\\[^)\x02\x03]|[^\\\x02\x03])+?)\\\)"
INLINE_SQUARE = r"(?<!\\)\\\[(?P<math>(?:\\[^\]\x02\x03]|[^\\\x02\x03])+?)\\\]"

_BLOCK_OPEN = re.compile(r"^(?P<open>\$\$|\\\[)(?P<rest>.*)$")


def math_html(tex: str, display: bool, block: bool = False) -> str:
    """The HTML Anki needs for one formula: MathJax delimiters around the escaped TeX."""
    left, right = (r"\[", r"\]") if display else (r"\(", r"\)")
    tag = "div" if block else "span"  # inside a paragraph a div would end it in a browser
    return f'<{tag} class="math">{left}{html.escape(tex, quote=False)}{right}</{tag}>'


class _MathPattern(InlineProcessor):
    def __init__(self, pattern: str, md: Markdown, display: bool) -> None:
        super().__init__(pattern, md)
        self.display = display

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[str, int, int]:  # noqa: N802
        return self.md.htmlStash.store(math_html(m["math"], self.display)), m.start(0), m.end(0)


class _DisplayBlocks(Preprocessor):
    """Display math that starts a line becomes a block of its own, whatever its lines look like
    (not in a one-line inline rendering, a heading or a choice: there it stays inline)."""

    def run(self, lines: list[str]) -> list[str]:
        if getattr(self.md, "ankismith_inline", False):
            return lines
        out: list[str] = []
        marks = fence_marks(lines)
        i = 0
        while i < len(lines):
            line = lines[i]
            if marks[i] is not None:  # code: never math
                out.append(line)
                i += 1
                continue
            block = self._display_at(lines, i)
            if block is None:
                out.append(line)
                i += 1
                continue
            tex, end, tail = block
            out.extend(["", self.md.htmlStash.store(math_html(tex, display=True, block=True)), ""])
            if tail.strip():
                out.append(tail)
            i = end + 1
        return out

    @staticmethod
    def _display_at(lines: list[str], start: int) -> tuple[str, int, str] | None:
        """(TeX, index of the closing line, text after the closing delimiter) or None."""
        match = _BLOCK_OPEN.match(lines[start])
        if not match:
            return None
        closer = "$$" if match["open"] == "$$" else r"\]"
        text = match["rest"]
        for end in range(start, min(len(lines), start + 200)):
            if end > start:
                text += "\n" + lines[end]
            position = _find_closer(text, closer)
            if position >= 0:
                return text[:position], end, text[position + len(closer) :]
            if end > start and not lines[end].strip():
                return None  # a blank line before the closer: not display math after all
        return None


def _find_closer(text: str, closer: str) -> int:
    i = 0
    while i < len(text):
        if text[i] == "\\" and not text.startswith(closer, i):
            i += 2
            continue
        if text.startswith(closer, i):
            return i
        i += 1
    return -1


class MathExtension(Extension):
    """Register the math patterns just below code spans (priority 190), above escapes (180)."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        """Called by Python-Markdown when the extension is loaded."""
        if "$" not in md.ESCAPED_CHARS:
            md.ESCAPED_CHARS.append("$")
        md.preprocessors.register(_DisplayBlocks(md), "ankismith-math-blocks", 29)
        md.inlinePatterns.register(_MathPattern(INLINE_DISPLAY, md, True), "ankismith-math-display", 187)
        md.inlinePatterns.register(_MathPattern(INLINE_SQUARE, md, True), "ankismith-math-square", 186.5)
        md.inlinePatterns.register(_MathPattern(INLINE_DOLLAR, md, False), "ankismith-math-inline", 186)
        md.inlinePatterns.register(_MathPattern(INLINE_ROUND, md, False), "ankismith-math-round", 185)
