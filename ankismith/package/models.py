"""The four Anki note types: fixed ids, fields designed to last, templates and one stylesheet.

Anki matches note types by id and refuses or mangles an update whose field list changed, so the
ids below and each field list must never change once shipped. Add a new note type instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ankismith.model.canon import content_hash
from ankismith.model.cards import Kind
from ankismith.model.notes import NOTE_FIELDS
from ankismith.rules import read_asset

if TYPE_CHECKING:
    import genanki

# Model ids: constants, never change once shipped (notes in users' collections point at them).
BASIC_MODEL_ID = 1_733_402_001
CLOZE_MODEL_ID = 1_733_402_002
CHOICE_MODEL_ID = 1_733_402_003
NUMERIC_MODEL_ID = 1_733_402_004

_SOURCE = '<div class="source">{{Source}}</div>'
_MATHJAX_HINT = '<span class="am-mathjax" hidden>\\(\\)</span>'


@cache
def asset(name: str) -> str:
    """A file of `package/assets/`: what runs and is styled on the card lives in files of its own."""
    return read_asset("ankismith.package", name)


@cache
def stylesheet() -> str:
    """The one stylesheet of every note type: layout, night mode, code colours for both."""
    from pygments.formatters import HtmlFormatter

    day = HtmlFormatter(style="default").get_style_defs(".highlight")
    night = HtmlFormatter(style="monokai").get_style_defs((".nightMode .highlight", ".night_mode .highlight"))
    return f"{asset('card.css')}\n{asset('numeric.css')}\n/* code, day */\n{day}\n/* code, night mode */\n{night}\n"


@dataclass(frozen=True)
class NoteType:
    """A note type as ankismith defines it; `model()` turns it into genanki's."""

    kind: Kind
    model_id: int
    name: str
    fields: tuple[str, ...]
    front: str
    back: str
    cloze: bool = False
    script: bool = False  # both sides end with the card script (builder/assets/card.js)

    def templates(self) -> tuple[str, str]:
        """The front and back templates as Anki stores them."""
        if not self.script:
            return self.front, self.back
        script = f"\n<script>\n{asset('card.js')}</script>"
        return self.front + script, self.back + script

    def content_hash_parts(self) -> tuple[object, ...]:
        """Everything Anki stores of the note type: a change moves its modification time."""
        return (self.name, self.fields, *self.templates(), self.cloze, stylesheet())

    def model(self) -> genanki.Model:
        """The genanki Model (fresh each call: genanki mutates templates when serializing)."""
        import genanki

        front, back = self.templates()
        return genanki.Model(
            self.model_id,
            self.name,
            fields=[{"name": name} for name in self.fields],
            templates=[{"name": "Card 1" if not self.cloze else "Cloze", "qfmt": front, "afmt": back}],
            css=stylesheet(),
            model_type=1 if self.cloze else 0,  # genanki.Model.CLOZE / FRONT_BACK
        )


NOTE_TYPES: dict[Kind, NoteType] = {
    Kind.BASIC: NoteType(
        Kind.BASIC,
        BASIC_MODEL_ID,
        "ankismith Basic",
        NOTE_FIELDS[Kind.BASIC],
        front='<div class="question">{{Front}}</div>',
        back='<div class="question">{{Front}}</div>\n<hr id="answer">\n<div class="back">{{Back}}</div>\n' + _SOURCE,
    ),
    Kind.CLOZE: NoteType(
        Kind.CLOZE,
        CLOZE_MODEL_ID,
        "ankismith Cloze",
        NOTE_FIELDS[Kind.CLOZE],
        front="{{cloze:Text}}",
        back='{{cloze:Text}}\n{{#Back Extra}}<hr id="answer">\n<div class="extra">{{Back Extra}}</div>{{/Back Extra}}\n'
        + _SOURCE,
        cloze=True,
    ),
    Kind.CHOICE: NoteType(
        Kind.CHOICE,
        CHOICE_MODEL_ID,
        "ankismith Multiple Choice",
        NOTE_FIELDS[Kind.CHOICE],
        front='<div class="question">{{Question}}</div>\n{{Choices}}',
        back='<div class="question">{{Question}}</div>\n{{Marked}}\n<hr id="answer">\n'
        '<div class="result">Answer: {{Answer}}</div>\n'
        '{{#Explanation}}<div class="extra">{{Explanation}}</div>{{/Explanation}}\n' + _SOURCE,
    ),
    Kind.NUMERIC: NoteType(
        Kind.NUMERIC,
        NUMERIC_MODEL_ID,
        "ankismith Numeric",
        NOTE_FIELDS[Kind.NUMERIC],
        # data-am marks where the card script writes the instance of the day; the Question field ends
        # with the pool it chooses from. AnkiDroid loads MathJax only for a card whose text holds
        # \( or \[: the hidden empty formula makes sure it does when an instance has math and the
        # first does not.
        front='<div class="question" data-am="question">{{Question}}</div>\n'
        '<div class="am-box" data-am="box"></div>\n' + _MATHJAX_HINT,
        back='<div class="question" data-am="question">{{Question}}</div>\n<hr id="answer">\n'
        '<div class="result" data-am="answer">{{Answer}}</div>\n<div data-am="verdict"></div>\n'
        '{{#Solution}}<div class="solution" data-am="solution">{{Solution}}</div>{{/Solution}}\n'
        '{{#Extra}}<div class="extra" data-am="extra">{{Extra}}</div>{{/Extra}}\n' + _SOURCE + "\n" + _MATHJAX_HINT,
        script=True,
    ),
}


def model_hashes() -> list[tuple[Kind, str]]:
    """(kind, hash) of each note type: its name, fields, templates and stylesheet."""
    return [(kind, content_hash(*t.content_hash_parts())) for kind, t in sorted(NOTE_TYPES.items())]
