"""A note from its fields: identity, deck, tags and content hash, the same for every kind of card."""

from __future__ import annotations

from typing import Any

from ankismith.model.canon import content_hash
from ankismith.model.cards import Card, DeckConfig
from ankismith.model.ids import guid_for
from ankismith.model.notes import NOTE_FIELDS, BuiltNote


def front(heading: str, question: str) -> str:
    """The question side: the heading, then the text above `???`."""
    return f'{heading}\n<div class="prompt">{question}</div>' if question else heading


def note(
    card: Card, config: DeckConfig, key: str, fields: dict[str, str], numeric: dict[str, Any] | None = None
) -> BuiltNote:
    """A note of `card` (under `key`: a numeric variant has its own) with its identity and hash."""
    assert tuple(fields) == NOTE_FIELDS[card.kind], "fields must follow the note type's order"
    deck = f"{config.name}::{card.subdeck}" if card.subdeck else config.name
    tags = tuple(dict.fromkeys((*config.tags, *card.tags)))
    items = tuple(fields.items())
    digest = content_hash(card.kind, deck, items, tags)
    return BuiltNote(key, card.kind, guid_for(config.id, key), deck, tags, card.source, items, numeric, digest)
