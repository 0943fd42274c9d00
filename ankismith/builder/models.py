"""The four Anki note types: fixed ids, fields designed to last, templates and one stylesheet.

Anki matches note types by id and refuses or mangles an update whose field list changed, so the
ids below and each field list must never change once shipped. Add a new note type instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from ankismith.builder.lock import content_hash
from ankismith.cards.model import Kind

if TYPE_CHECKING:
    import genanki

# Model ids: constants, never change once shipped (notes in users' collections point at them).
BASIC_MODEL_ID = 1_733_402_001
CLOZE_MODEL_ID = 1_733_402_002
CHOICE_MODEL_ID = 1_733_402_003
NUMERIC_MODEL_ID = 1_733_402_004

BASIC_FIELDS = ("Front", "Back", "Source")
CLOZE_FIELDS = ("Text", "Back Extra", "Source")
CHOICE_FIELDS = ("Question", "Choices", "Marked", "Answer", "Explanation", "Source")
NUMERIC_FIELDS = ("Question", "Answer", "Solution", "Extra", "Source")

_SOURCE = '<div class="source">{{Source}}</div>'

_BASE_CSS = """\
.card {
  font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 20px;
  line-height: 1.45;
  text-align: left;
  color: #1d1d1f;
  background-color: #ffffff;
  max-width: 42em;
  margin: 0 auto;
  padding: 0.6em;
  overflow-wrap: break-word;
}
.card.nightMode, .nightMode .card, .night_mode .card { color: #e8e8e8; background-color: #1e1e1e; }
.nightMode, .night_mode { color-scheme: dark; }  /* dark scrollbars under wide formulas */
.question { font-weight: 600; }
hr#answer { margin: 1em 0; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.5em 0; display: block; overflow-x: auto; }
th, td { border: 1px solid #c8c8c8; padding: 0.2em 0.5em; }
.nightMode th, .nightMode td, .night_mode th, .night_mode td { border-color: #555; }
code { font-family: "SF Mono", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.85em; }
.highlight { border-radius: 6px; margin: 0.5em 0; }
.highlight pre { padding: 0.6em 0.8em; overflow-x: auto; margin: 0; line-height: 1.35; }
.math { overflow-x: auto; }
div.math { margin: 0.5em 0; }
.question .prompt { font-weight: normal; margin-top: 0.5em; }
ul.choices { list-style: none; padding-left: 0; }
ul.choices li { margin: 0.35em 0; padding-left: 1.8em; text-indent: -1.8em; }
ul.choices .letter { display: inline-block; width: 1.8em; text-indent: 0; font-weight: 700; }
ul.choices li.correct { font-weight: 600; color: #127a2e; }
ul.choices li.wrong { opacity: 0.55; }
.nightMode ul.choices li.correct, .night_mode ul.choices li.correct { color: #6fd48a; }
ul.task-list { list-style: none; padding-left: 1.2em; }
.hint { font-size: 0.8em; font-style: italic; color: #6e6e73; }
.result { font-size: 1.3em; font-weight: 700; margin: 0.3em 0 0.6em; }
.solution { margin-top: 0.5em; }
.extra { margin-top: 0.8em; }
.source { margin-top: 1.5em; font-size: 0.6em; color: #8e8e93; }
.nightMode .hint, .night_mode .hint, .nightMode .source, .night_mode .source { color: #a0a0a5; }
@media (max-width: 480px) { .card { font-size: 18px; padding: 0.3em; } }
"""


@cache
def stylesheet() -> str:
    """The one stylesheet of every note type: layout, night mode, code colours for both."""
    from pygments.formatters import HtmlFormatter

    day = HtmlFormatter(style="default").get_style_defs(".highlight")
    night = HtmlFormatter(style="monokai").get_style_defs((".nightMode .highlight", ".night_mode .highlight"))
    return f"{_BASE_CSS}\n/* code, day */\n{day}\n/* code, night mode */\n{night}\n"


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

    def content_hash_parts(self) -> tuple[object, ...]:
        """Everything Anki stores of the note type: a change moves its modification time."""
        return (self.name, self.fields, self.front, self.back, self.cloze, stylesheet())

    def model(self) -> genanki.Model:
        """The genanki Model (fresh each call: genanki mutates templates when serializing)."""
        import genanki

        return genanki.Model(
            self.model_id,
            self.name,
            fields=[{"name": name} for name in self.fields],
            templates=[{"name": "Card 1" if not self.cloze else "Cloze", "qfmt": self.front, "afmt": self.back}],
            css=stylesheet(),
            model_type=1 if self.cloze else 0,  # genanki.Model.CLOZE / FRONT_BACK
        )


NOTE_TYPES: dict[Kind, NoteType] = {
    Kind.BASIC: NoteType(
        Kind.BASIC,
        BASIC_MODEL_ID,
        "ankismith Basic",
        BASIC_FIELDS,
        front='<div class="question">{{Front}}</div>',
        back='<div class="question">{{Front}}</div>\n<hr id="answer">\n<div class="back">{{Back}}</div>\n' + _SOURCE,
    ),
    Kind.CLOZE: NoteType(
        Kind.CLOZE,
        CLOZE_MODEL_ID,
        "ankismith Cloze",
        CLOZE_FIELDS,
        front="{{cloze:Text}}",
        back='{{cloze:Text}}\n{{#Back Extra}}<hr id="answer">\n<div class="extra">{{Back Extra}}</div>{{/Back Extra}}\n'
        + _SOURCE,
        cloze=True,
    ),
    Kind.CHOICE: NoteType(
        Kind.CHOICE,
        CHOICE_MODEL_ID,
        "ankismith Multiple Choice",
        CHOICE_FIELDS,
        front='<div class="question">{{Question}}</div>\n{{Choices}}',
        back='<div class="question">{{Question}}</div>\n{{Marked}}\n<hr id="answer">\n'
        '<div class="result">Answer: {{Answer}}</div>\n'
        '{{#Explanation}}<div class="extra">{{Explanation}}</div>{{/Explanation}}\n' + _SOURCE,
    ),
    Kind.NUMERIC: NoteType(
        Kind.NUMERIC,
        NUMERIC_MODEL_ID,
        "ankismith Numeric",
        NUMERIC_FIELDS,
        front='<div class="question">{{Question}}</div>',
        back='<div class="question">{{Question}}</div>\n<hr id="answer">\n<div class="result">{{Answer}}</div>\n'
        '{{#Solution}}<div class="solution">{{Solution}}</div>{{/Solution}}\n'
        '{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}\n' + _SOURCE,
    ),
}


def model_hashes() -> list[tuple[Kind, str]]:
    """(kind, hash) of each note type: its name, fields, templates and stylesheet."""
    return [(kind, content_hash(*t.content_hash_parts())) for kind, t in sorted(NOTE_TYPES.items())]
