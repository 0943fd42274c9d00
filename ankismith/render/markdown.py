"""Markdown to the HTML that goes into Anki fields, with Python-Markdown and our extensions."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from functools import cache

import markdown

from ankismith.render import extensions
from ankismith.render.lists import ListNestingExtension
from ankismith.render.longtext import Chunking, LongTextExtension
from ankismith.render.mathext import INLINE_DOLLAR, MathExtension, math_html

_IMG_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")', re.IGNORECASE)
_SINGLE_PARAGRAPH = re.compile(r"^<p>(.*)</p>$", re.DOTALL)
# Inline text that Markdown would pass through unchanged but for `$..$` math: no character that
# starts any inline syntax, escape or entity, no HTML, one line (tested against Markdown itself).
_PLAIN = re.compile(r"[^\\`*_\[\]<>&!{}~|#=^$\n\t\r]*")
_INLINE_MATH = re.compile(INLINE_DOLLAR)
CHUNKING = Chunking()


class Renderer:
    """One configured Python-Markdown instance, reset between conversions (building it is slow)."""

    def __init__(self, chunking: Chunking | None = CHUNKING) -> None:
        """`chunking`: which long inline texts are rendered in pieces (None: never; the HTML is the same)."""
        long_text = [LongTextExtension(chunking)] if chunking is not None else []
        self._md = markdown.Markdown(
            extensions=[*extensions.EXTENSIONS, MathExtension(), ListNestingExtension(), *long_text],
            extension_configs=extensions.EXTENSION_CONFIGS,
            output_format="html",
        )

    def block(self, text: str, media: Mapping[str, str] | None = None) -> str:
        """Render block Markdown (paragraphs, lists, code...) to HTML."""
        if not text.strip():
            return ""
        self._md.reset()
        rendered = self._md.convert(text)
        return _rewrite_images(rendered, media) if media else rendered

    def inline(self, text: str, media: Mapping[str, str] | None = None) -> str:
        """Render one line of Markdown (a heading, a choice) without the surrounding <p>.

        Only inline syntax applies, as in a GitHub heading: "## 1. Why?" is not a list.
        """
        text = _protect_block_start(text.strip())
        fast = _plain_inline(text)
        if fast is not None:
            return fast
        self._md.ankismith_inline = True  # type: ignore[attr-defined]  # read by mathext's display blocks
        try:
            rendered = self.block(text, media)
        finally:
            self._md.ankismith_inline = False  # type: ignore[attr-defined]
        match = _SINGLE_PARAGRAPH.match(rendered)
        return match.group(1) if match and "<p>" not in match.group(1) else rendered


_BLOCK_START = re.compile(r"^(?:[#>]|```|[-+*_](?=\s|$|[-+*_ ]+$)|\d{1,9}(?P<ordered>[.)])(?=\s|$))")


def _protect_block_start(text: str) -> str:
    """Escape what would make one line a block (heading, quote, list item, rule, code fence)."""
    match = _BLOCK_START.match(text)
    if match is None:
        return text
    cut = match.start("ordered") if match["ordered"] else 0
    return f"{text[:cut]}\\{text[cut:]}"


def _plain_inline(text: str) -> str | None:
    """The HTML of plain text with `$..$` math, without Markdown (most headings); else None."""
    if text != text.strip() or not text:
        return None
    parts, position = [], 0
    for match in _INLINE_MATH.finditer(text):
        if not _PLAIN.fullmatch(text, position, match.start()):
            return None
        parts.append(text[position : match.start()])
        parts.append(math_html(match["math"], display=False))
        position = match.end()
    if not _PLAIN.fullmatch(text, position):
        return None
    parts.append(text[position:])
    return "".join(parts)


@cache
def default_renderer() -> Renderer:
    """The process-wide renderer."""
    return Renderer()


def _rewrite_images(rendered: str, media: Mapping[str, str]) -> str:
    """Point each <img> at its packaged media file (content-hash name)."""

    def swap(match: re.Match[str]) -> str:
        src = html.unescape(match.group(2))
        packaged = media.get(src)
        return match.group(0) if packaged is None else f"{match.group(1)}{html.escape(packaged)}{match.group(3)}"

    return _IMG_SRC.sub(swap, rendered)
