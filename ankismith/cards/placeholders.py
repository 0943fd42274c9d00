"""Fill `{{name}}` placeholders into rendered HTML, as math where they stand inside math."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*\}\}")  # `{{name}}` in a numeric card
_MATH_OR_PLACEHOLDER = re.compile(rf"(?P<math>\\\(.*?\\\)|\\\[.*?\\\])|{PLACEHOLDER.pattern}", re.DOTALL)


@dataclass(frozen=True)
class Value:
    """A value as text (outside math, already HTML) and as TeX (inside math)."""

    html: str
    tex: str


def fill(rendered: str, values: Mapping[str, Value]) -> str:
    """Replace every known `{{name}}` in `rendered`; inside \\(..\\) or \\[..\\] use the TeX form."""

    def in_math(match: re.Match[str]) -> str:
        name = match["name"]
        return html.escape(values[name].tex, quote=False) if name in values else match.group(0)

    def anywhere(match: re.Match[str]) -> str:
        if match["math"]:
            return PLACEHOLDER.sub(in_math, match["math"])
        name = match["name"]
        return values[name].html if name in values else match.group(0)

    return _MATH_OR_PLACEHOLDER.sub(anywhere, rendered)
