"""What a route into Anki reads and takes: a snapshot of what a collection holds of some decks,
and the plan (push/plan.py) it applies.

A route is the one part of push that talks to Anki. The collection route (push/collection.py)
opens a collection file with Anki's backend while Anki is closed; a second route (AnkiConnect into
a running Anki) would read the same Snapshot and apply the same PushPlan. The snapshot is plain
frozen data, so that the plan is a pure function of it and of the built decks.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ankismith.push.plan import PushPlan


class PushError(Exception):
    """Push cannot go on: one line that says why and what to do (nothing was changed in Anki)."""


@dataclass(frozen=True)
class CardState:
    """A card of a note as the collection has it: its deck, and whether that deck is its home or a
    filtered deck it was borrowed into (`deck_id` is then its home deck)."""

    id: int
    ord: int
    deck_id: int
    filtered: bool = False


@dataclass(frozen=True)
class NoteState:
    """A note as the collection has it. `fields` by name, as its note type names them."""

    id: int
    guid: str
    model_id: int
    mod: int
    fields: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]
    cards: tuple[CardState, ...] = ()


@dataclass(frozen=True)
class NoteTypeState:
    """A note type as the collection has it (for ankismith's fixed ids): what push may update."""

    id: int
    name: str
    cloze: bool
    fields: tuple[str, ...]
    templates: tuple[tuple[str, str], ...]  # (front, back) by ordinal
    css: str
    mod: int


@dataclass(frozen=True)
class DeckState:
    """A deck of the collection (its full '::' name)."""

    id: int
    name: str
    filtered: bool = False
    description: str = ""


@dataclass(frozen=True)
class Snapshot:
    """What a collection holds of the decks being pushed: their notes (live and gone) by GUID,
    every deck, ankismith's note types by id, and which of the decks' media files it has."""

    notes: Mapping[str, NoteState] = field(default_factory=dict)
    decks: tuple[DeckState, ...] = ()
    note_types: Mapping[int, NoteTypeState] = field(default_factory=dict)
    media: frozenset[str] = frozenset()

    def deck_named(self, name: str) -> DeckState | None:
        """The deck of that name; Anki ignores case in deck names."""
        return self._by_name.get(name.casefold())

    def deck_name(self, deck_id: int) -> str:
        """The name of a deck by id ("" if there is none: a card whose deck was deleted)."""
        deck = self._by_id.get(deck_id)
        return deck.name if deck is not None else ""

    @cached_property
    def _by_name(self) -> dict[str, DeckState]:
        return {deck.name.casefold(): deck for deck in self.decks}

    @cached_property
    def _by_id(self) -> dict[int, DeckState]:
        return {deck.id: deck for deck in self.decks}


class Route(Protocol):
    """A way into Anki: read what it holds, apply a plan to it as one change."""

    where: str  # what messages call it: a collection's path

    def snapshot(self, guids: Collection[str], model_ids: Collection[int], media: Collection[str]) -> Snapshot:
        """What Anki holds of the notes with these GUIDs, the note types with these ids, these media files."""

    def apply(self, plan: PushPlan) -> None:
        """Apply the plan entirely, or not at all (PushError says why not)."""
