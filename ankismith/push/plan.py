"""What a push changes: a pure function of the built decks (with their locks) and a snapshot of
the collection. Nothing here talks to Anki; a route applies the plan.

The rules, each keeping what is the student's:

- A note the collection lacks is added, as an import of the `.apkg` would add it (same GUID,
  note type, deck, fields and tags).
- A note whose sources changed after it last changed in the collection (its `mod` in the lock
  is newer: the rule Anki's importer follows; push also takes the same second, since it writes
  only what differs) gets the sources' fields, and its tags merged: the tags the sources gave it
  before and no longer give are removed, the ones they give now added, every other tag kept
  (`marked`, `leech`, the student's own). A note edited in Anki after its sources last changed
  keeps the edit, as with an import.
- A card moves deck only out of a deck its sources gave it before, into the one they give now:
  a card the student moved elsewhere stays where they put it.
- A note gone from the sources (the lock's `gone`) is tagged `ankismith::removed` and kept, with
  its history; with `prune` it is deleted instead: only such notes, never anything else.
- ankismith's note types get the templates and CSS of the `.apkg` when ankismith changed them
  after they last changed in the collection (the same second counts, as for notes); the
  student's own fields and card types on them stay.
- Scheduling, review history, flags, suspended and buried cards: nothing here can touch them.
"""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ankismith.model.cards import DeckConfig, Kind
from ankismith.model.notes import BuiltNote, MediaFile
from ankismith.package import models
from ankismith.package.lock import Entry
from ankismith.package.models import NOTE_TYPES
from ankismith.pipeline.run import Pushable
from ankismith.push.route import NoteState, Snapshot
from ankismith.rules import strip_tags

REMOVED_TAG = "ankismith::removed"  # what push tags a note gone from the sources with


@dataclass(frozen=True)
class AddNote:
    """A note to add, as the `.apkg` holds it."""

    key: str
    guid: str
    kind: Kind
    deck: str
    fields: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]


@dataclass(frozen=True)
class UpdateNote:
    """A note to update: new fields (none: its fields stay) and its tags after the merge."""

    key: str
    note_id: int
    fields: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]
    added_tags: tuple[str, ...] = ()
    removed_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class MoveCards:
    """Cards of a note to move out of a deck its sources gave it before, into the one they give now."""

    key: str
    card_ids: tuple[int, ...]
    source: str
    target: str


@dataclass(frozen=True)
class GoneNote:
    """A note gone from the sources, still in the collection: to tag, or to delete with --prune."""

    key: str
    note_id: int
    text: str  # the start of its first field, to say which note it is


@dataclass(frozen=True)
class LeftAlone:
    """A note or card push does not touch, and why."""

    key: str
    reason: str


@dataclass(frozen=True)
class NoteTypeChange:
    """One of ankismith's note types to add (as the `.apkg` has it), or whose templates and CSS to update."""

    kind: Kind
    add: bool
    mod: int  # the lock's time for it: what an import gives an added note type


@dataclass(frozen=True)
class DeckPush:
    """What a push changes for one deck."""

    config: DeckConfig
    added: tuple[AddNote, ...] = ()
    updated: tuple[UpdateNote, ...] = ()
    moved: tuple[MoveCards, ...] = ()
    marked: tuple[GoneNote, ...] = ()
    pruned: tuple[GoneNote, ...] = ()
    left_alone: tuple[LeftAlone, ...] = ()
    unchanged: int = 0
    media: tuple[MediaFile, ...] = ()  # files the collection's media folder lacks

    @property
    def changes(self) -> bool:
        """Whether anything is written for this deck."""
        return bool(self.added or self.updated or self.moved or self.marked or self.pruned or self.media)


@dataclass(frozen=True)
class PushPlan:
    """Everything one push changes, in every deck; `problems` (one line each) stop it before any write."""

    decks: tuple[DeckPush, ...] = ()
    note_types: tuple[NoteTypeChange, ...] = ()
    new_decks: tuple[str, ...] = ()
    descriptions: tuple[tuple[str, str], ...] = ()  # (deck name, its description from deck.yaml)
    problems: tuple[str, ...] = ()

    @property
    def changes(self) -> bool:
        """Whether applying the plan writes anything."""
        return bool(self.note_types or self.new_decks or self.descriptions or any(d.changes for d in self.decks))


def wanted(decks: Sequence[Pushable]) -> tuple[set[str], set[int], set[str]]:
    """What a snapshot must hold for `plan_push`: the GUIDs of the decks' notes, live and gone,
    ankismith's note type ids, and the names of the decks' media files."""
    guids = {n.guid for d in decks for n in d.deck.notes} | {guid for d in decks for _, guid in d.lock.gone}
    media = {m.name for d in decks for m in d.deck.media}
    return guids, {t.model_id for t in NOTE_TYPES.values()}, media


def plan_push(decks: Sequence[Pushable], snapshot: Snapshot, prune: bool) -> PushPlan:
    """What pushing the built `decks` into the collection `snapshot` shows changes (see the module's rules)."""
    problems: list[str] = []
    note_types = _note_types(decks, snapshot, problems)
    new_decks, descriptions = _decks(decks, snapshot, problems)
    pushes = tuple(_deck_push(d, snapshot, prune) for d in decks)
    return PushPlan(pushes, note_types, new_decks, descriptions, tuple(problems))


def _note_types(decks: Sequence[Pushable], snapshot: Snapshot, problems: list[str]) -> tuple[NoteTypeChange, ...]:
    """The note types of the decks' notes (an import brings those of the `.apkg`): added when
    missing, templates and CSS updated when ankismith changed them after the collection's copy last changed."""
    changes = []
    used = {note.kind for d in decks for note in d.deck.notes}
    for kind, ours in sorted(NOTE_TYPES.items()):
        if kind not in used:
            continue
        mod = max((d.lock.models[kind].mod for d in decks if kind in d.lock.models), default=0)
        theirs = snapshot.note_types.get(ours.model_id)
        if theirs is None:
            changes.append(NoteTypeChange(kind, True, mod))
            continue
        missing = [name for name in ours.fields if name not in theirs.fields]
        if theirs.cloze != ours.cloze or missing or not theirs.templates:
            what = f"has no field {missing[0]!r}" if missing else "is not of the kind ankismith's is (cloze or not)"
            problems.append(
                f"note type {theirs.name!r} (id {ours.model_id}, ankismith's {ours.name!r}) in the collection {what}: "
                f"ankismith's notes cannot be written into it. Give it back the fields {', '.join(ours.fields)} "
                "(Tools > Manage Note Types > Fields), or import the .apkg instead (Anki then adds a copy of the "
                "note type)"
            )
            continue
        front, back = ours.templates()
        if mod >= theirs.mod and (theirs.templates[0] != (front, back) or theirs.css != models.stylesheet()):
            changes.append(NoteTypeChange(kind, False, mod))
    return tuple(changes)


def _decks(
    decks: Sequence[Pushable], snapshot: Snapshot, problems: list[str]
) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The Anki decks to create (by name, as an import finds them), and the descriptions to set."""
    names: dict[str, str] = {}
    for d in decks:
        for name in (d.deck.config.name, *(n.deck for n in d.deck.notes)):
            names.setdefault(name.casefold(), name)
    new = []
    for name in sorted(names.values()):
        found = snapshot.deck_named(name)
        if found is None:
            new.append(name)
        elif found.filtered:
            problems.append(
                f"deck {found.name!r} is a filtered deck in the collection: Anki cannot add or move cards into it. "
                "Rename or delete the filtered deck, then push again"
            )
    descriptions = []
    for d in decks:
        config = d.deck.config
        found = snapshot.deck_named(config.name)
        if config.description and (found is None or found.description != config.description):
            descriptions.append((config.name, config.description))
    return tuple(new), tuple(descriptions)


def _deck_push(built: Pushable, snapshot: Snapshot, prune: bool) -> DeckPush:
    added, updated, moved, left = [], [], [], []
    unchanged = 0
    for note in built.deck.notes:
        found = snapshot.notes.get(note.guid)
        if found is None:
            added.append(AddNote(note.key, note.guid, note.kind, note.deck, note.fields, note.tags))
            continue
        ours = NOTE_TYPES[note.kind]
        if found.model_id != ours.model_id:
            theirs = snapshot.note_types.get(found.model_id)
            was = f"{theirs.name!r}" if theirs is not None else f"another note type (id {found.model_id})"
            left.append(LeftAlone(note.key, f"its note in the collection is of {was}, not {ours.name!r}"))
            continue
        entry = built.lock.notes[note.key]
        update = _update(note, entry, found)
        moves, stuck = _moves(note, entry, found, snapshot)
        if update is not None:
            updated.append(update)
        elif not moves:
            unchanged += 1
        moved.extend(moves)
        left.extend(stuck)
    marked, pruned = _gone(built, snapshot, prune)
    media = tuple(m for m in built.deck.media if m.name not in snapshot.media)
    return DeckPush(
        built.deck.config, tuple(added), tuple(updated), tuple(moved), marked, pruned, tuple(left), unchanged, media
    )


def _update(note: BuiltNote, entry: Entry, found: NoteState) -> UpdateNote | None:
    """The note's new fields and tags, when its sources changed after it last changed in the
    collection; and `ankismith::removed` taken off a note back in the sources."""
    tags = found.tags
    fields: tuple[tuple[str, str], ...] = ()
    # `>=`: a note pushed in the second its sources changed again (or imported with the lock's
    # time) is compared; a note that differs in nothing is left as it is, so this never loops
    if entry.mod >= found.mod:
        theirs = dict(found.fields)
        if any(_nfc(theirs.get(name, "")) != _nfc(value) for name, value in note.fields):
            fields = note.fields
        tags = merge_tags(found.tags, note.tags, entry.old_tags)
    tags = tuple(t for t in tags if t.casefold() != REMOVED_TAG)
    before, after = _folded(found.tags), _folded(tags)
    if not fields and before == after:
        return None
    added = tuple(t for t in tags if t.casefold() not in before)
    removed = tuple(t for t in found.tags if t.casefold() not in after)
    return UpdateNote(note.key, found.id, fields, tags, added, removed)


def merge_tags(current: Iterable[str], given: Iterable[str], given_before: Iterable[str]) -> tuple[str, ...]:
    """A note's tags after an update: the tags the sources gave before and no longer give removed,
    the ones they give added, every other tag kept (case ignored, as Anki ignores it)."""
    current, given = tuple(current), tuple(given)
    drop = _folded(given_before) - _folded(given)
    kept = [t for t in current if t.casefold() not in drop]
    have = _folded(kept)
    return (*kept, *(t for t in given if t.casefold() not in have))


def _moves(
    note: BuiltNote, entry: Entry, found: NoteState, snapshot: Snapshot
) -> tuple[list[MoveCards], list[LeftAlone]]:
    """The note's cards to move: those in a deck its sources gave it before (never one the student chose)."""
    before = _folded(entry.old_decks) - {note.deck.casefold()}
    by_deck: dict[str, list[int]] = {}
    stuck = []
    for card in found.cards:
        name = snapshot.deck_name(card.deck_id)
        if name.casefold() not in before:
            continue
        if card.filtered:
            stuck.append(
                LeftAlone(note.key, f"a card is in a filtered deck: it moves to {note.deck!r} once it is back home")
            )
            continue
        by_deck.setdefault(name, []).append(card.id)
    moves = [MoveCards(note.key, tuple(ids), name, note.deck) for name, ids in sorted(by_deck.items())]
    return moves, stuck


def _gone(built: Pushable, snapshot: Snapshot, prune: bool) -> tuple[tuple[GoneNote, ...], tuple[GoneNote, ...]]:
    """Notes of the lock's history (gone from the sources) that the collection has: to tag, or to delete."""
    live = {n.guid for n in built.deck.notes}
    marked, pruned = [], []
    for key, guid in built.lock.gone:
        found = snapshot.notes.get(guid)
        if found is None or guid in live:
            continue
        gone = GoneNote(key, found.id, _first_words(found))
        if prune:
            pruned.append(gone)
        elif REMOVED_TAG not in _folded(found.tags):
            marked.append(gone)
    return tuple(marked), tuple(pruned)


def _first_words(note: NoteState, size: int = 60) -> str:
    text = " ".join(html.unescape(strip_tags(note.fields[0][1] if note.fields else "", " ")).split())
    return text if len(text) <= size else text[: size - 1] + "…"


def _folded(tags: Iterable[str]) -> set[str]:
    return {tag.casefold() for tag in tags}


def _nfc(text: str) -> str:
    """Text as Anki stores it (it normalizes fields to NFC, unless told not to)."""
    return unicodedata.normalize("NFC", text)
