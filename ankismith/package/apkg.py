"""Write notes, decks and media into an .apkg: reproducibly, and atomically.

genanki provides the note types' JSON and the collection schema; the rows are written here so that
each note carries its own `mod` (Anki updates a note on import only when the incoming `mod` is
newer) and so that the same input gives the same bytes: no clock, fixed ids, fixed zip metadata.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import sqlite3
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from ankismith.model.canon import sha256_int
from ankismith.model.cards import Kind
from ankismith.package.atomic import atomic_write
from ankismith.package.models import NOTE_TYPES
from ankismith.rules import CLOZE_OPEN, strip_tags

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_FIELD_SEP = "\x1f"


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: `write_apkg`'s memo is keyed by it
class NoteSpec:
    """One note ready for Anki: identity, note type, deck, HTML fields, tags and modification time."""

    guid: str
    kind: Kind
    deck: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    mod: int


@dataclass(frozen=True)
class Previous:
    """The collection of the package last written for this deck (every id in it its GUID's own),
    whose rows are kept but for those of the notes `dropped` (by GUID: changed or gone). A note kept
    has the same GUID, content and mod as there, so the same rows."""

    collection: bytes
    dropped: tuple[str, ...]


@dataclass(frozen=True)
class DeckSpec:
    """An Anki deck (full '::' name) and its overview text."""

    name: str
    description: str = ""


def anki_deck_id(deck_id: str, name: str) -> int:
    """A stable Anki deck id for a deck name within one ankismith deck."""
    return (1 << 30) + sha256_int(f"{deck_id}\x1f{name}", 8) % (1 << 30)


def write_apkg(
    target: Path,
    deck_id: str,
    decks: Iterable[DeckSpec],
    notes: Iterable[NoteSpec],
    media: Mapping[str, bytes],
    model_mods: Mapping[Kind, int],
    memo: dict[NoteSpec, Prepared] | None = None,
    previous: Previous | None = None,
    keep: Callable[[bytes], None] | None = None,
    bases: Bases | None = None,
) -> bool:
    """Write the package to `target` atomically: a temporary file beside it, then a rename.

    `memo`, kept by a caller that writes the same package again and again (`serve`) and passes the
    same NoteSpec objects for the notes that did not change, saves the work per note of each of
    them; with `previous`, `notes` are only those not in it (new or changed), the others' rows are
    copied from it (CannotReuse when that cannot give what a fresh package would: then nothing is
    written). The bytes are the same with either or without. Returns whether every id in the
    package is its GUID's own (what `previous` needs of the package it was). `keep`, if given, is
    handed the collection's bytes while the package is written, in another thread (the build cache
    writes them to a file of its own, so that the next build need not unzip them). `bases`, if
    given, keeps the collection's base (`Base`).
    """
    data, clean = _collection_bytes(deck_id, list(decks), list(notes), model_mods, memo, previous, bases)

    def write(raw: BinaryIO) -> None:
        with zipfile.ZipFile(raw, "w") as archive:
            _add(archive, "collection.anki2", data)
            names = sorted(media)
            _add(archive, "media", json.dumps({str(i): name for i, name in enumerate(names)}).encode())
            for index, name in enumerate(names):
                _add(archive, str(index), media[name])

    if keep is None:
        atomic_write(target, write)
        return clean
    # `keep` writes a file too: the two run side by side (zlib and the writes let go of the GIL)
    failed: list[BaseException] = []
    writer = threading.Thread(target=_catching(failed, atomic_write), args=(target, write), name="ankismith-apkg")
    writer.start()
    try:
        keep(data)
    finally:
        writer.join()
    if failed:
        raise failed[0]
    return clean


def _catching(failed: list[BaseException], call: Callable[..., None]) -> Callable[..., None]:
    """`call`, with what it raises put in `failed` (for the thread that waits for it to raise)."""

    def run(*args: Any) -> None:
        try:
            call(*args)
        except BaseException as exc:  # raised again by the thread that joins
            failed.append(exc)

    return run


def _add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.external_attr = 0o644 << 16
    # level 1: most of the size saving of the default level at a fraction of its time
    info.compress_type, info._compresslevel = zipfile.ZIP_DEFLATED, _LEVEL  # what writestr sets
    info.file_size = len(data)  # as writestr: the same choice of zip64
    with archive.open(info, "w") as entry:
        if len(data) > _PIECE and hasattr(entry, "_compressor"):  # zipfile's writer, Python 3.11 to 3.14
            entry._compressor = _Deflating(data)
        entry.write(data)


_LEVEL = 1
_PIECE = 1 << 20  # bytes of an entry deflated on their own, side by side with the others


class _Deflating:
    """The raw deflate of `data`, made in pieces of _PIECE bytes on every core: each piece is
    deflated on its own and ends on a full flush (byte-aligned, nothing referred back across it),
    so the pieces joined are one deflate stream, as pigz makes them. The pieces are fixed by the
    data alone, so the bytes do not depend on the number of cores. Stands in for zipfile's
    compressor: `compress` (called as zipfile takes the CRC-32 of the data, which overlaps) returns
    the whole stream, `flush` nothing."""

    def __init__(self, data: bytes) -> None:
        view = memoryview(data)
        self._pieces = [view[start : start + _PIECE] for start in range(0, len(data), _PIECE)]
        self._out: list[bytes] = [b""] * len(self._pieces)
        self._failed: list[BaseException] = []
        workers = max(1, min(len(self._pieces), os.cpu_count() or 1))
        self._threads = [
            threading.Thread(target=_catching(self._failed, self._deflate), args=(first, workers))
            for first in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def _deflate(self, first: int, step: int) -> None:
        last = len(self._pieces) - 1
        for index in range(first, len(self._pieces), step):
            deflate = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15)
            end = zlib.Z_FINISH if index == last else zlib.Z_FULL_FLUSH
            self._out[index] = deflate.compress(self._pieces[index]) + deflate.flush(end)

    def compress(self, data: object) -> bytes:
        for thread in self._threads:
            thread.join()
        if self._failed:
            raise self._failed[0]
        return b"".join(self._out)

    def flush(self) -> bytes:
        return b""


@dataclass(frozen=True)
class Base:
    """A collection.anki2 before its rows (the tables, and the `col` row with the decks and the note
    types), and the statements that make its indexes once the rows are in."""

    collection: bytes
    indexes: str


class Bases(Protocol):
    """Where the collections' bases are kept between builds (the build cache), by what they are made of."""

    def collection_base(self, parts: list[Any]) -> Base | None:
        """The base made of `parts`, as kept; None when there is none."""

    def keep_base(self, parts: list[Any], base: Base) -> None:
        """Keep `base`, made of `parts`."""


def collection_base(deck_id: str, decks: list[DeckSpec], extra: list[str], model_mods: Mapping[Kind, int]) -> Base:
    """The base of a collection with the decks `decks`, then the sub-decks `extra` only notes name,
    and the note types of `model_mods`. Made of exactly what `_base_parts` lists (and of this code
    and genanki's), so the build cache keeps it by those: a rebuild need not import genanki."""
    import genanki  # the note types' JSON and the collection schema: only when a base is made
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    conn = sqlite3.connect(":memory:")
    try:
        tables = "\n".join(line for line in APKG_SCHEMA.splitlines() if not line.startswith("CREATE INDEX"))
        conn.executescript(tables)
        conn.executescript(APKG_COL)
        deck_ids = _deck_ids(deck_id, decks, extra)
        descriptions = {spec.name: spec.description for spec in decks}
        (decks_json,) = conn.execute("SELECT decks FROM col").fetchone()
        all_decks = json.loads(decks_json)
        for name, did in sorted(deck_ids.items()):
            all_decks[str(did)] = genanki.Deck(did, name, descriptions.get(name, "")).to_json()
        first_deck = deck_ids[decks[0].name] if decks else 1
        (models_json,) = conn.execute("SELECT models FROM col").fetchone()
        models = json.loads(models_json)
        for kind, note_type in sorted(NOTE_TYPES.items()):
            models[str(note_type.model_id)] = note_type.model().to_json(model_mods.get(kind, 0), first_deck)
        conn.execute("UPDATE col SET decks = ?, models = ?", (json.dumps(all_decks), json.dumps(models)))
        conn.commit()
        indexes = "\n".join(line for line in APKG_SCHEMA.splitlines() if line.startswith("CREATE INDEX"))
        return Base(conn.serialize(), indexes)
    finally:
        conn.close()


def _deck_ids(deck_id: str, decks: list[DeckSpec], extra: list[str]) -> dict[str, int]:
    """Each Anki deck's id by its name: the decks given, then the sub-decks only notes name."""
    return {name: anki_deck_id(deck_id, name) for name in [spec.name for spec in decks] + extra}


def _base_parts(deck_id: str, decks: list[DeckSpec], extra: list[str], model_mods: Mapping[Kind, int]) -> list[Any]:
    """What `collection_base` is made of, as plain values (the build cache's key)."""
    mods = sorted([str(kind), mod] for kind, mod in model_mods.items())
    return [deck_id, [[spec.name, spec.description] for spec in decks], extra, mods]


def _collection_bytes(
    deck_id: str,
    decks: list[DeckSpec],
    notes: list[NoteSpec],
    model_mods: Mapping[Kind, int],
    memo: dict[NoteSpec, Prepared] | None,
    previous: Previous | None,
    bases: Bases | None,
) -> tuple[bytes, bool]:
    """The collection.anki2 SQLite file, built in memory on its base (kept in `bases`, or made now:
    the same bytes either way, as the base is always read back from its bytes)."""
    extra = sorted({note.deck for note in notes} - {spec.name for spec in decks})
    parts = _base_parts(deck_id, decks, extra, model_mods)
    base = bases.collection_base(parts) if bases is not None else None
    if base is None:
        base = collection_base(deck_id, decks, extra, model_mods)
        if bases is not None:
            bases.keep_base(parts, base)
    deck_ids = _deck_ids(deck_id, decks, extra)
    conn = sqlite3.connect(":memory:")
    try:
        conn.deserialize(base.collection)
        if previous is not None:
            conn.execute("ATTACH ':memory:' AS old")
            conn.deserialize(previous.collection, name="old")
        clean = _insert_notes(conn, notes, deck_ids, memo, previous)
        conn.executescript("DROP TABLE temp.new_notes; DROP TABLE temp.new_cards")
        # indexes after the rows: one sort each instead of an update per row
        conn.executescript(base.indexes)
        conn.commit()
        return conn.serialize(), clean
    finally:
        conn.close()


@dataclass(frozen=True)
class Prepared:
    """What a note's rows are made of, computed once per note content (`write_apkg`'s memo)."""

    base_id: int
    sort_field: str
    checksum: int
    tags: str
    fields: str
    model_id: int
    ordinals: tuple[int, ...]


def _base_id(guid: str) -> int:
    """The id a note of this GUID gets unless another has it already."""
    return 1_500_000_000_000 + sha256_int(guid, 6) % 10**12


def _prepare(note: NoteSpec) -> Prepared:
    sort_field = html.unescape(strip_tags(note.fields[0])).strip()
    return Prepared(
        _base_id(note.guid),
        sort_field,
        int(hashlib.sha1(sort_field.encode()).hexdigest()[:8], 16),
        f" {' '.join(note.tags)} " if note.tags else "",
        _FIELD_SEP.join(note.fields),
        NOTE_TYPES[note.kind].model_id,
        tuple(_card_ordinals(note)),
    )


# The rows go to tables of their own first, then into the collection's in the order of their ids:
# a package made afresh and one that copies rows from the previous package then insert the same rows
# in the same order, so they are the same bytes. (The staging tables are declared as the
# collection's are, so that each value is stored as it will be.)
# The notes dropped are given by GUID, and found by the id their GUID gives (`_base_id`): every id of
# the previous package is its GUID's own (`Previous`), and an integer key is found without reading
# the notes (the collection has no index on guid).
_REUSE = """
CREATE TEMP TABLE dropped (id INTEGER PRIMARY KEY);
CREATE TEMP TABLE fresh_ids (id INTEGER PRIMARY KEY);
"""
_KEPT_NOTES = "SELECT * FROM old.notes WHERE id NOT IN temp.dropped"
# every card of the previous package is one of its notes' (it was written here): the cards kept are
# those whose note is not dropped, read in the order of their ids (no sort, unlike a search by note)
_KEPT_CARDS = "SELECT * FROM old.cards WHERE nid NOT IN temp.dropped"


class CannotReuse(Exception):
    """The previous package's rows cannot be kept as they are: a new note's id is one a kept note has."""


def _insert_notes(
    conn: sqlite3.Connection,
    notes: list[NoteSpec],
    deck_ids: Mapping[str, int],
    memo: dict[NoteSpec, Prepared] | None,
    previous: Previous | None,
) -> bool:
    """Insert the notes' rows (and, with `previous`, those of its notes not dropped); whether every
    id is the one its GUID gives (none had to move to the next free one)."""
    for name in ("notes", "cards"):
        (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        conn.executescript(sql.replace(f"CREATE TABLE {name} ", f"CREATE TEMP TABLE new_{name} ", 1))
    used: set[int] = set()
    clean = True
    note_rows, card_rows = [], []
    known = memo if memo is not None else {}
    prepared_now: dict[NoteSpec, Prepared] = {}
    for note in notes:
        prepared = known.get(note) or _prepare(note)
        prepared_now[note] = prepared
        note_id = _next_free(prepared.base_id, used)  # a deterministic id; Anki reassigns ids that clash
        clean = clean and note_id == prepared.base_id
        note_rows.append(
            (note_id, note.guid, prepared.model_id, note.mod, -1, prepared.tags, prepared.fields)
            + (prepared.sort_field, prepared.checksum, 0, "")
        )
        deck = deck_ids[note.deck]
        for ordinal in prepared.ordinals:
            card_id = _next_free(note_id + 1 + ordinal, used)
            clean = clean and card_id == note_id + 1 + ordinal
            card_rows.append((card_id, note_id, deck, ordinal, note.mod, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ""))
    conn.executemany("INSERT INTO temp.new_notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", note_rows)
    conn.executemany("INSERT INTO temp.new_cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", card_rows)
    if previous is None:
        conn.execute("INSERT INTO main.notes SELECT * FROM temp.new_notes ORDER BY id")
        conn.execute("INSERT INTO main.cards SELECT * FROM temp.new_cards ORDER BY id")
    else:
        # the kept rows are those the previous package has, ids and all: that package's ids were all
        # its GUIDs' own, so these are the ids a fresh package gives them unless a new note's id
        # meets one of theirs (then the whole package is made afresh)
        if not clean:
            raise CannotReuse("a new note's id moved")
        conn.executescript(_REUSE)
        conn.executemany("INSERT OR IGNORE INTO temp.dropped VALUES(?)", [(_base_id(g),) for g in previous.dropped])
        conn.executemany("INSERT INTO temp.fresh_ids VALUES(?)", [(value,) for value in used])
        clash = f"SELECT id FROM ({_KEPT_NOTES}) UNION ALL SELECT id FROM ({_KEPT_CARDS})"
        if conn.execute(f"SELECT EXISTS (SELECT 1 FROM ({clash}) WHERE id IN temp.fresh_ids)").fetchone()[0]:
            raise CannotReuse("a new note's id is a kept note's")
        conn.execute(
            f"INSERT INTO main.notes SELECT * FROM ({_KEPT_NOTES} UNION ALL SELECT * FROM temp.new_notes) ORDER BY id"
        )
        conn.execute(
            f"INSERT INTO main.cards SELECT * FROM ({_KEPT_CARDS} UNION ALL SELECT * FROM temp.new_cards) ORDER BY id"
        )
    if memo is not None:  # keep what this package holds, nothing older
        memo.clear()
        memo.update(prepared_now)
    return clean


def _card_ordinals(note: NoteSpec) -> list[int]:
    if not NOTE_TYPES[note.kind].cloze:
        return [0]
    numbers = {int(n) for field in note.fields for n in CLOZE_OPEN.findall(field)}
    return sorted(n - 1 for n in numbers if n > 0) or [0]


def _next_free(value: int, used: set[int]) -> int:
    while value in used:
        value += 1
    used.add(value)
    return value
