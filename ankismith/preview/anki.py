"""Card sides as Anki renders them, from a note and its note type's templates.

Anki's template language, the part ankismith's note types use: `{{Field}}`, `{{#Field}}..{{/Field}}`
and `{{^Field}}..{{/Field}}` (a field counts as empty when it holds only whitespace and <br>/<div>
tags), and `{{cloze:Field}}`, rendered the way Anki's backend does it (rslib `cloze.rs`): the
active cloze as `[...]` (or its hint) in a `span.cloze` on the front and as its text on the back,
the others as `span.cloze-inactive`, and inside MathJax as bare text. The tests hold this against
the `anki` package's own rendering of every card, so the preview shows what Anki shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ankismith.model.cards import Kind
from ankismith.package.models import NOTE_TYPES
from ankismith.rules import CLOZE, CLOZE_OPEN, MATH_SPAN

_TAG = re.compile(r"\{\{(?P<sigil>[#^/]?)(?P<name>[^{}]+?)\}\}")
_EMPTY = re.compile(r"^(?:\s|</?(?:br|div)\s?/?>)*$", re.IGNORECASE)


@dataclass(frozen=True)
class Side:
    """One card of a note: its ordinal (0 for the first card) and both sides' HTML, as Anki renders them."""

    ordinal: int
    question: str
    answer: str


def card_sides(kind: Kind, fields: dict[str, str]) -> list[Side]:
    """Every card of a note of note type `kind` with these `fields` (a cloze note: one per number)."""
    note_type = NOTE_TYPES[kind]
    front, back = note_type.templates()
    if not note_type.cloze:
        return [Side(0, fill_template(front, fields), fill_template(back, fields))]
    numbers = sorted({int(m["number"]) for text in fields.values() for m in CLOZE_OPEN.finditer(text)})
    return [
        Side(n - 1, fill_template(front, fields, n, answer=False), fill_template(back, fields, n, answer=True))
        for n in (numbers or [1])
    ]


def fill_template(template: str, fields: dict[str, str], cloze: int = 0, answer: bool = False) -> str:
    """A template with the fields filled in; `cloze` is the active cloze number of a cloze card."""
    out: list[str] = []
    stack: list[tuple[str, bool]] = []  # open sections: (field, shown)
    position = 0
    for match in _TAG.finditer(template):
        shown = all(visible for _, visible in stack)
        if shown:
            out.append(template[position : match.start()])
        position = match.end()
        sigil, name = match["sigil"], match["name"].strip()
        if sigil in ("#", "^"):
            empty = _EMPTY.match(fields.get(name, "")) is not None
            stack.append((name, empty if sigil == "^" else not empty))
        elif sigil == "/":
            if stack and stack[-1][0] == name:
                stack.pop()
        elif shown:
            out.append(_field(name, fields, cloze, answer))
    if all(visible for _, visible in stack):
        out.append(template[position:])
    return "".join(out)


def _field(name: str, fields: dict[str, str], cloze: int, answer: bool) -> str:
    if name.startswith("cloze:"):
        return render_cloze(fields.get(name[len("cloze:") :], ""), cloze, answer)
    return fields.get(name, "")


def render_cloze(text: str, active: int, answer: bool) -> str:
    """A cloze field for the card of cloze number `active`, front or back."""
    math = [(m.start(), m.end()) for m in MATH_SPAN.finditer(text)]

    def one(match: re.Match[str]) -> str:
        number, content, hint = int(match["number"]), match["text"], match["hint"]
        if any(start <= match.start() < end for start, end in math):
            return content if answer or number != active else f"[{hint or '...'}]"
        if number != active:
            return f'<span class="cloze-inactive" data-ordinal="{number}">{content}</span>'
        if answer:
            return f'<span class="cloze" data-ordinal="{number}">{content}</span>'
        hidden = f"[{hint or '...'}]"
        return f'<span class="cloze" data-cloze="{_attribute(content)}" data-ordinal="{number}">{hidden}</span>'

    return CLOZE.sub(one, text)


def _attribute(text: str) -> str:
    """Anki's attribute encoding: ASCII letters and digits as they are, everything else as an entity."""
    named = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
    return "".join(c if c.isascii() and c.isalnum() else named.get(c, f"&#x{ord(c):X};") for c in text)
