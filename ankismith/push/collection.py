"""The collection route: a collection file opened with Anki's own backend (the `anki` package)
while Anki is closed.

Reading is done with SELECTs through Anki's database proxy (one query for thousands of notes);
every write goes through Anki's own operations (add notes, update notes, change deck, tags,
remove notes, note types, decks), never SQL, inside one database transaction: a push that fails
or is killed half-way leaves the collection as it was. Media files are copied before the
transaction; if the push stops, they are only unused files (Tools > Check Media lists them).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ankismith.package import models
from ankismith.package.models import NOTE_TYPES
from ankismith.push.plan import REMOVED_TAG, DeckPush, PushPlan
from ankismith.push.route import CardState, DeckState, NoteState, NoteTypeState, PushError, Snapshot

if TYPE_CHECKING:
    from anki.collection import Collection as AnkiCollection

INSTALL_HINT = "pip install 'ankismith[push]'"
_CHUNK = 500  # values per `in (...)`: far below SQLite's limit on parameters


def anki_missing() -> str | None:
    """One line saying how to install Anki's backend, when it is not installed."""
    try:
        import anki.collection  # noqa: F401
    except ImportError:
        return f"push needs Anki's backend, the `anki` package, which is not installed: {INSTALL_HINT}"
    return None


@contextmanager
def open_collection(path: Path) -> Iterator[CollectionRoute]:
    """The collection at `path`, opened for a push and closed after; PushError when Anki has it
    open (its backend refuses a second opener) or it cannot be opened."""
    from anki.collection import Collection as AnkiCollection
    from anki.errors import AnkiException, DBError

    try:
        col = AnkiCollection(str(path))
    except DBError as exc:
        if "already open" in str(exc).lower():
            raise PushError(
                f"{path}: Anki has this collection open: close Anki (or switch it to another profile) and push again, "
                "or import the .apkg instead (`ankismith build`, then File > Import); nothing was changed"
            ) from None
        raise PushError(f"{path}: cannot open the collection: {exc}") from None
    except AnkiException as exc:
        raise PushError(f"{path}: cannot open the collection: {exc}") from None
    try:
        yield CollectionRoute(col, path)
    finally:
        col.close()


class CollectionRoute:
    """A push into a collection file (Anki closed)."""

    def __init__(self, col: AnkiCollection, path: Path) -> None:
        self.col = col
        self.where = str(path)

    # --- reading ----------------------------------------------------------------------------

    def snapshot(self, guids: Collection[str], model_ids: Collection[int], media: Collection[str]) -> Snapshot:
        """What the collection holds of these notes, note types and media files."""
        col = self.col
        rows = [
            row
            for chunk in _chunks(sorted(guids))
            for row in col.db.all(
                f"select id, guid, mid, mod, tags, flds from notes where guid in ({_marks(chunk)})", *chunk
            )
        ]
        cards: dict[int, list[CardState]] = {}
        for chunk in _chunks([row[0] for row in rows]):
            query = f"select id, nid, ord, did, odid from cards where nid in ({_marks(chunk)}) order by nid, ord"
            for card_id, note_id, ordinal, deck_id, home_id in col.db.all(query, *chunk):
                state = CardState(card_id, ordinal, home_id or deck_id, bool(home_id))
                cards.setdefault(note_id, []).append(state)
        field_names: dict[int, tuple[str, ...]] = {}
        notes = {}
        for note_id, guid, model_id, mod, tags, fields in rows:
            if model_id not in field_names:
                note_type = col.models.get(model_id)
                field_names[model_id] = _note_type_state(note_type).fields if note_type else ()
            values = fields.split("\x1f")
            names = field_names[model_id] or tuple(str(i) for i in range(len(values)))
            named = tuple(zip(names, values, strict=False))
            notes[guid] = NoteState(
                note_id, guid, model_id, mod, named, tuple(tags.split()), tuple(cards.get(note_id, ()))
            )
        decks = tuple(
            DeckState(int(d["id"]), d["name"], bool(d.get("dyn")), d.get("desc", "") or "") for d in col.decks.all()
        )
        types = {}
        for model_id in sorted({*model_ids, *field_names}):
            if (note_type := col.models.get(model_id)) is not None:
                types[model_id] = _note_type_state(note_type)
        have = frozenset(name for name in media if col.media.have(name))
        return Snapshot(notes, decks, types, have)

    # --- writing ----------------------------------------------------------------------------

    def apply(self, plan: PushPlan) -> None:
        """Apply `plan` in one transaction: all of it, or (on any error, or if killed) none of it."""
        from anki.errors import AnkiException

        self._copy_media(plan)
        try:
            self.col.db.transact(lambda: self._write(plan))
        except AnkiException as exc:
            raise PushError(f"{self.where}: Anki refused the push ({exc}); nothing was changed") from None

    def _copy_media(self, plan: PushPlan) -> None:
        for deck in plan.decks:
            for media in deck.media:
                stored = self.col.media.write_data(media.name, Path(media.path).read_bytes())
                if stored != media.name:  # names hold a hash of the bytes: a clash means another file
                    raise PushError(
                        f"{self.where}: the media folder has another file named {media.name!r} (Anki stored this "
                        f"one as {stored!r}); nothing was changed in the collection"
                    )

    def _write(self, plan: PushPlan) -> None:
        """Every change of the plan, in order: decks, note types, then each deck's notes and cards."""
        col = self.col
        for name in plan.new_decks:
            col.decks.id(name, create=True)
        for name, text in plan.descriptions:
            deck = col.decks.by_name(name)
            deck["desc"] = text
            col.decks.update_dict(deck)
        first_deck = col.decks.id_for_name(plan.decks[0].config.name) if plan.decks else None
        for change in plan.note_types:
            note_type = NOTE_TYPES[change.kind]
            if change.add:
                # as an import adds it: its fixed id, and the lock's time (the JSON the .apkg carries)
                data = note_type.model().to_json(change.mod, first_deck or 1)
                col._backend.add_or_update_notetype(
                    json=json.dumps(data).encode(), preserve_usn_and_mtime=True, skip_checks=False
                )
            else:
                _update_note_type(col, note_type.model_id, *note_type.templates())
        for deck in plan.decks:
            self._write_notes(deck)

    def _write_notes(self, deck: DeckPush) -> None:
        from anki.collection import AddNoteRequest

        col = self.col
        deck_ids: dict[str, int] = {}
        requests = []
        for add in deck.added:
            note = col.new_note(col.models.get(NOTE_TYPES[add.kind].model_id))
            note.guid = add.guid  # the GUID the .apkg gives it: push and import make the same note
            for name, value in add.fields:
                note[name] = value
            note.tags = list(add.tags)
            if add.deck not in deck_ids:
                deck_ids[add.deck] = col.decks.id(add.deck, create=True)
            requests.append(AddNoteRequest(note=note, deck_id=deck_ids[add.deck]))
        if requests:
            col.add_notes(requests)
        notes = []
        for update in deck.updated:
            note = col.get_note(update.note_id)
            for name, value in update.fields:
                note[name] = value
            note.tags = list(update.tags)
            notes.append(note)
        if notes:
            col.update_notes(notes)
        for move in deck.moved:
            col.set_deck(list(move.card_ids), col.decks.id(move.target, create=True))
        if deck.marked:
            col.tags.bulk_add([gone.note_id for gone in deck.marked], REMOVED_TAG)
        if deck.pruned:
            col.remove_notes([gone.note_id for gone in deck.pruned])


def _update_note_type(col: AnkiCollection, model_id: int, front: str, back: str) -> None:
    """ankismith's templates (its first card type) and CSS into the collection's note type, in
    place: its name, fields and any card type the student added stay."""
    note_type = dict(col.models.get(model_id))
    templates = [dict(t) for t in note_type["tmpls"]]
    first = min(range(len(templates)), key=lambda i: templates[i]["ord"])
    templates[first].update(qfmt=front, afmt=back)
    note_type.update(tmpls=templates, css=models.stylesheet())
    col.models.update_dict(note_type)


def _note_type_state(note_type: dict[str, Any]) -> NoteTypeState:
    templates = sorted(note_type["tmpls"], key=lambda t: t["ord"])
    return NoteTypeState(
        int(note_type["id"]),
        note_type["name"],
        note_type.get("type") == 1,
        tuple(f["name"] for f in sorted(note_type["flds"], key=lambda f: f["ord"])),
        tuple((t["qfmt"], t["afmt"]) for t in templates),
        note_type.get("css", ""),
        int(note_type.get("mod", 0)),
    )


def _chunks(values: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _marks(chunk: list[Any]) -> str:
    return ",".join("?" * len(chunk))
