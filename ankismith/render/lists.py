"""Nest lists the way GitHub does, by 2 or by 4 spaces, for Python-Markdown (which wants 4).

CommonMark's rule: a list item is a child of the item above when it is indented at least to that
item's content column (2 for `- `, 3 for `1. `). This preprocessor re-indents list items, their
continuation lines and fenced code inside them to Python-Markdown's 4 spaces per level, and lets
a list start right after a paragraph line, as on GitHub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

from ankismith.cards.fences import Mark, fence_marks

_ITEM = re.compile(r"^(?P<indent> *)(?P<marker>[-*+]|\d{1,9}[.)])(?P<gap> {1,4}|$)(?P<rest>.*)$")


@dataclass
class _Item:
    content: int  # source column where the item's text starts
    depth: int


def _expand_tabs(line: str) -> str:
    """Leading tabs to spaces with 4-column stops, as Python-Markdown reads them."""
    stripped = line.lstrip(" \t")
    lead = line[: len(line) - len(stripped)]
    return lead.expandtabs(4) + stripped if "\t" in lead else line


def normalize_lists(lines: list[str]) -> list[str]:
    """Re-indent nested lists so that Python-Markdown nests them as GitHub renders them."""
    out: list[str] = []
    stack: list[_Item] = []
    fence_shift = 0
    blank_before = True
    expanded = [_expand_tabs(raw) for raw in lines]
    for line, mark in zip(expanded, fence_marks(expanded), strict=True):
        indent = len(line) - len(line.lstrip(" "))
        if mark in (Mark.INSIDE, Mark.CLOSE):
            out.append(_shift(line, fence_shift))  # code moves with the fence that opened it
            continue
        if not line.strip():
            out.append("")
            blank_before = True
            continue
        item = _ITEM.match(line)
        if item and (stack or indent < 4):
            if not stack and not blank_before and _interrupts_paragraph(item):
                out.append("")  # GitHub starts a list right after a paragraph line; Markdown needs a blank
            while stack and indent < stack[-1].content:
                stack.pop()
            depth = len(stack)
            gap = item["gap"] or " "
            stack.append(_Item(indent + len(item["marker"]) + len(gap), depth))
            out.append(" " * (4 * depth) + item["marker"] + " " + item["rest"])
            blank_before = False
            continue
        if stack and indent < stack[-1].content:
            if blank_before:
                while stack and indent < stack[-1].content:
                    stack.pop()
            elif mark is not Mark.OPEN:
                out.append(line)  # lazy continuation of the paragraph above
                continue
        shift = 0
        if stack:
            shift = 4 * (stack[-1].depth + 1) - stack[-1].content
        if mark is Mark.OPEN:
            fence_shift = shift
        out.append(_shift(line, shift))
        blank_before = False
    return out


def _interrupts_paragraph(item: re.Match[str]) -> bool:
    """CommonMark: a list item may interrupt a paragraph unless it is empty or an ordered item
    not numbered 1 (so that "in 1984. Then" wrapped onto a new line stays text)."""
    marker = item["marker"]
    return bool(item["rest"].strip()) and (marker in "-*+" or int(marker[:-1]) == 1)


def _shift(line: str, shift: int) -> str:
    if shift >= 0:
        return " " * shift + line if line.strip() else line
    indent = len(line) - len(line.lstrip(" "))
    return line[min(indent, -shift) :]


class _ListPreprocessor(Preprocessor):
    def run(self, lines: list[str]) -> list[str]:
        return normalize_lists(lines)


class ListNestingExtension(Extension):
    """Register the list re-indenting preprocessor before any block parsing."""

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        """Called by Python-Markdown when the extension is loaded."""
        md.preprocessors.register(_ListPreprocessor(md), "ankismith-lists", 28)
