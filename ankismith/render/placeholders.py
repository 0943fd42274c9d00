"""Fill `{{name}}` placeholders into rendered HTML, as math where they stand inside math.

A list param reads as prose by default (`99, 7 and 2`); `{{name|format}}` chooses another way to
write it: `and` (the default), `or`, `list` (`99, 7, 2`), `x` or `×` (`1×32×32`), `brackets`
(`[99, 7, 2]`). Inside math a list is `[99, 7, 2]` unless a format says otherwise.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from ankismith.rules import MATH_SPAN, PLACEHOLDER

_MATH_OR_PLACEHOLDER = re.compile(rf"(?P<math>{MATH_SPAN.pattern})|{PLACEHOLDER.pattern}", re.DOTALL)
# a paragraph that holds nothing but one placeholder: Markdown's rendering of a line `{{solution}}`
_OWN_PARAGRAPH = re.compile(rf"<p>\s*{PLACEHOLDER.pattern}\s*</p>")


def _series(word: str) -> Callable[[Sequence[str], bool], str]:
    def join(items: Sequence[str], tex: bool) -> str:
        if len(items) < 2:
            return "".join(items)
        last = f" \\text{{ {word} }} " if tex else f" {word} "
        return ", ".join(items[:-1]) + last + items[-1]

    return join


# format -> how the items (HTML outside math, TeX inside) are joined
FORMATS: dict[str, Callable[[Sequence[str], bool], str]] = {
    "and": _series("and"),
    "or": _series("or"),
    "list": lambda items, tex: ", ".join(items),
    "x": lambda items, tex: (" \\times " if tex else "×").join(items),
    "×": lambda items, tex: (" \\times " if tex else "×").join(items),
    "brackets": lambda items, tex: "[" + ", ".join(items) + "]",
}


@dataclass(frozen=True)
class Value:
    """A value as text (outside math, already HTML) and as TeX (inside math); a list value also
    has its items, each a Value, for the formats. A value that is a block (a worked solution: a
    display formula and a note) has `block`, the HTML that replaces a paragraph holding nothing but
    its placeholder; elsewhere `html` must be inline HTML, which may stand inside a paragraph."""

    html: str
    tex: str
    items: tuple[Value, ...] | None = None
    block: str | None = None

    def shown(self, format_: str | None, math: bool) -> str:
        """The value written with `format_` (None: the default), as TeX inside math, else as HTML."""
        if format_ is None or self.items is None:
            return html.escape(self.tex, quote=False) if math else self.html
        joined = FORMATS[format_]([item.tex if math else item.html for item in self.items], math)
        return html.escape(joined, quote=False) if math else joined


def fill(rendered: str, values: Mapping[str, Value]) -> str:
    """Replace every known `{{name}}` in `rendered`; inside \\(..\\) or \\[..\\] use the TeX form.

    A block value alone in its paragraph replaces the paragraph (a <div> inside a <p> is not valid
    HTML: a browser ends the paragraph before it and leaves an empty one after it).
    """

    def own_paragraph(match: re.Match[str]) -> str:
        value = values.get(match["name"])
        return value.block if value is not None and value.block is not None else match.group(0)

    def in_math(match: re.Match[str]) -> str:
        name = match["name"]
        return values[name].shown(match["format"], math=True) if name in values else match.group(0)

    def anywhere(match: re.Match[str]) -> str:
        if match["math"]:
            return PLACEHOLDER.sub(in_math, match["math"])
        name = match["name"]
        return values[name].shown(match["format"], math=False) if name in values else match.group(0)

    if "<p>" in rendered and any(value.block is not None for value in values.values()):
        rendered = _OWN_PARAGRAPH.sub(own_paragraph, rendered)
    return _MATH_OR_PLACEHOLDER.sub(anywhere, rendered)
