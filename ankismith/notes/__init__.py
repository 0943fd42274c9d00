"""The render stage: a card, read and solved, becomes Anki notes with HTML fields.

`render_notes` is the one entry point: a basic, cloze or multiple-choice card makes one note; a
numeric card makes its notes through `notes.numeric`. How a note type looks (its templates and
stylesheet) is the builder's business; what goes into each field is decided here.
"""

from __future__ import annotations

import dataclasses
import html
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ankismith.builder.ids import guid_for
from ankismith.builder.lock import content_hash
from ankismith.builder.models import NOTE_TYPES
from ankismith.cards.model import Card, DeckConfig, Kind
from ankismith.errors import Collector

if TYPE_CHECKING:
    from ankismith.cards.render import Renderer

__all__ = ["BuiltNote", "render_notes"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class BuiltNote:
    """One note as it will be in Anki: identity, where it came from, HTML fields."""

    key: str
    kind: Kind
    guid: str
    deck: str
    tags: tuple[str, ...]
    source: str  # path:line inside the deck folder
    fields: tuple[tuple[str, str], ...]
    numeric: dict[str, Any] | None = None
    hash: str = ""  # of everything Anki shows or stores of the note (not its source line)

    def export(self) -> dict[str, Any]:
        """The note as `export --format json` prints it (FORMAT.md)."""
        data: dict[str, Any] = {
            "guid": self.guid,
            "key": self.key,
            "kind": str(self.kind),
            "deck": self.deck,
            "tags": list(self.tags),
            "source": self.source,
            "fields": dict(self.fields),
        }
        if self.numeric is not None:
            data["numeric"] = self.numeric
        return data

    def to_json(self) -> list[Any]:
        """Every attribute, in order, as plain JSON (for the build cache: a list reads back fastest)."""
        return [getattr(self, name) for name in _ATTRIBUTES]

    @classmethod
    def from_json(cls, data: list[Any]) -> BuiltNote:
        """The note `to_json` gave."""
        key, kind, guid, deck, tags, source, fields, numeric, digest = data
        return cls(key, _KINDS[kind], guid, deck, tuple(tags), source, tuple(map(tuple, fields)), numeric, digest)


_ATTRIBUTES = tuple(f.name for f in dataclasses.fields(BuiltNote))
_KINDS = {str(kind): kind for kind in Kind}


def render_notes(card: Card, config: DeckConfig, media: Mapping[str, str], errors: Collector) -> list[BuiltNote]:
    """The notes of one card; `media` maps each image `src` as written to its packaged name.

    Problems (a numeric block the solver refuses, an unknown placeholder) go to `errors`, and the
    card then gives no note.
    """
    from ankismith.cards.render import default_renderer  # Markdown: only when something is rendered

    renderer = default_renderer()
    heading = renderer.inline(card.heading, media)
    question = renderer.block(card.question, media)
    answer = renderer.block(card.answer, media)
    source = html.escape(f"{card.file.inner} · {card.key}")
    if card.kind is Kind.NUMERIC:
        from ankismith.notes.numeric import numeric_notes

        return numeric_notes(card, config, front(heading, question), answer, errors)
    if card.kind is Kind.BASIC:
        fields = {"Front": front(heading, question), "Back": answer, "Source": source}
    elif card.kind is Kind.CLOZE:
        fields = {"Text": front(heading, question), "Back Extra": answer, "Source": source}
    else:
        fields = {
            "Question": front(heading, question),
            **_choice_fields(card, renderer, media),
            "Explanation": answer,
            "Source": source,
        }
    return [note(card, config, card.key, fields)]


def front(heading: str, question: str) -> str:
    """The question side: the heading, then the text above `???`."""
    return f'{heading}\n<div class="prompt">{question}</div>' if question else heading


def note(
    card: Card, config: DeckConfig, key: str, fields: dict[str, str], numeric: dict[str, Any] | None = None
) -> BuiltNote:
    """A note of `card` (under `key`: a numeric variant has its own) with its identity and hash."""
    assert tuple(fields) == NOTE_TYPES[card.kind].fields, "fields must follow the note type's order"
    deck = f"{config.name}::{card.subdeck}" if card.subdeck else config.name
    tags = tuple(dict.fromkeys((*config.tags, *card.tags)))
    items = tuple(fields.items())
    digest = content_hash(card.kind, deck, items, tags)
    return BuiltNote(key, card.kind, guid_for(config.id, key), deck, tags, card.source, items, numeric, digest)


def _choice_fields(card: Card, renderer: Renderer, media: Mapping[str, str]) -> dict[str, str]:
    texts = [renderer.inline(choice.text, media) for choice in card.choices]
    letters = LETTERS[: len(texts)]
    correct = [letter for letter, choice in zip(letters, card.choices, strict=True) if choice.correct]
    hint = '<p class="hint">Select all that apply.</p>\n' if len(correct) > 1 else ""
    plain = "".join(
        f'<li><span class="letter">{letter}.</span> {text}</li>' for letter, text in zip(letters, texts, strict=True)
    )
    mark = ' <span class="mark">✓</span>'
    marked = "".join(
        f'<li class="{"correct" if choice.correct else "wrong"}"><span class="letter">{letter}.</span> {text}'
        f"{mark if choice.correct else ''}</li>"
        for letter, text, choice in zip(letters, texts, card.choices, strict=True)
    )
    return {
        "Choices": f'{hint}<ul class="choices">{plain}</ul>',
        "Marked": f'<ul class="choices">{marked}</ul>',
        "Answer": ", ".join(correct),
    }
