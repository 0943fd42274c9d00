"""The lock file beside deck.yaml: per note, the hash of what was built and when it last changed.

Anki updates a note on import only when the incoming `mod` is newer than its own, and equal times
mean no update. So a note's `mod` must move forward exactly when its content changes: the lock
remembers each note's content hash and the time it last changed, and users commit it like a
package lock. A missing or stale lock only makes notes look changed (they update in Anki, which is
safe); it never keeps an edit from reaching Anki.

It also remembers what `ankismith push` needs to tell the sources' doing from the student's: the
deck and tags the sources give each note, the tags and decks they gave it before and no longer
give (push removes those tags and moves cards out of those decks, nothing else), and the notes
once built and now gone from the sources (push marks them; `--prune` deletes only those). These
only ever grow or move with the sources, never with a collection: the same lock serves every
collection and every build between two pushes. Locks written before they were recorded read as
knowing none of it (version 1 still: older ankismith ignores what it does not know).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from stat import S_ISREG
from typing import Any, NamedTuple

from ankismith.errors import Collector
from ankismith.model.canon import sha256_hex
from ankismith.package.atomic import atomic_write

LOCK_VERSION = 1


@dataclass(frozen=True)
class Entry:
    """What the lock knows of one note or note type (a note type has only a hash and a mod).

    `deck` is "" when unknown (a lock from before push). Tags and decks are compared as Anki does,
    ignoring case.
    """

    hash: str
    mod: int
    guid: str = ""
    deck: str = ""  # the Anki deck the sources put the note in
    tags: tuple[str, ...] = ()  # the tags the sources give it
    old_tags: tuple[str, ...] = ()  # tags the sources gave it before and no longer give
    old_decks: tuple[str, ...] = ()  # decks the sources put it in before


class NoteFacts(NamedTuple):
    """What a build says of one note, for the lock: identity, content hash, deck and tags."""

    key: str
    guid: str
    hash: str
    deck: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Lock:
    """The lock's content: the deck id its GUIDs were made from, notes by key, note types by kind,
    and (key, GUID) of every note once built and now gone from the sources.

    `deck_id` is "" in a lock written before ankismith recorded it (see `id_change`).
    """

    notes: dict[str, Entry] = field(default_factory=dict)
    models: dict[str, Entry] = field(default_factory=dict)
    deck_id: str = ""
    gone: tuple[tuple[str, str], ...] = ()
    # each note's line as the lock file held it, with the entry it encodes: a line whose entry is
    # still the note's is written again as it was (`lock_text`), not encoded afresh
    lines: dict[str, tuple[Entry, str]] = field(default_factory=dict, compare=False, repr=False)


# what a build's counts are relative to
BASELINE_LOCK = "lock"  # the last build, as ankismith.lock recorded it
BASELINE_NONE = "none"  # nothing: there was no lock (a first build, or a copy of the deck without it)
BASELINE_UNREADABLE = "unreadable"  # nothing: the lock could not be read


@dataclass(frozen=True)
class ChangeReport:
    """What a build changed compared with the last one the lock records (never with what Anki has:
    ankismith cannot see a collection)."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[tuple[str, str], ...] = ()  # (key, guid) of notes the sources no longer make
    models_changed: tuple[str, ...] = ()
    baseline: str = BASELINE_LOCK
    old_id: str | None = None  # the deck id the lock recorded, when this build changed it ("": not recorded)


MAX_LOCK_BYTES = 64 * 1024 * 1024
MOD_RANGE = (0, 2**53)  # a note's modification time in seconds: what Anki (and JSON readers) can hold


class LockProblem(Exception):
    """A lock file that cannot be used: its bytes are not a lock this ankismith wrote."""


@dataclass(frozen=True)
class LockFile:
    """A deck's lock file as read once per build: its bytes (None: there is none), or why it cannot be read."""

    path: Path
    data: bytes | None
    problem: str = ""

    @cached_property
    def digest(self) -> str:
        """What the build cache knows the lock by (asked several times a build: hashed once)."""
        return sha256_hex(self.data) if self.data is not None else f"none:{self.problem}"


def load_lock(path: Path) -> LockFile:
    """Read the lock file: only a regular file (a FIFO or a device would hang or never end), and
    only up to the size a lock can have."""
    try:
        stat = path.lstat()
    except FileNotFoundError:
        return LockFile(path, None)
    except OSError as exc:
        return LockFile(path, None, f"cannot read it: {exc.strerror or exc}")
    if not S_ISREG(stat.st_mode):
        return LockFile(path, None, "it is not a regular file (a link, a folder or a device)")
    if stat.st_size > MAX_LOCK_BYTES:
        return LockFile(path, None, f"it is {stat.st_size:,} bytes; a lock is at most {MAX_LOCK_BYTES:,}")
    try:
        with path.open("rb") as handle:
            return LockFile(path, handle.read(MAX_LOCK_BYTES + 1))
    except OSError as exc:
        return LockFile(path, None, f"cannot read it: {exc.strerror or exc}")


Known = tuple[str, Mapping[str, str]]  # a deck id, and the GUIDs its notes have now by key


def parse_lock(
    data: bytes, guid_for: Callable[[str, str], str], known: Known | None = None, trusted: bool = False
) -> Lock:
    """The lock in `data`, every value checked (LockProblem says what is wrong). `known`: the GUIDs
    the deck's notes have now (they spare computing those again where the deck id is the lock's).
    `trusted`: `data` is, byte for byte, a lock this code wrote (`lock_text`; the build cache
    recorded its digest), so its values are not checked again and its lines are kept for reuse."""
    try:
        text = data.decode("utf-8")
        parsed = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise LockProblem(f"not JSON ({exc})") from None
    if trusted:
        return _trusted(parsed, text)
    if not isinstance(parsed, dict) or parsed.get("version") != LOCK_VERSION:
        found = parsed.get("version") if isinstance(parsed, dict) else parsed
        raise LockProblem(f"not a lock of version {LOCK_VERSION} (found {_short(found)})")
    deck_id = parsed.get("deck_id", "")  # absent in locks written before it was recorded
    if not isinstance(deck_id, str):
        raise LockProblem(f"deck_id must be text, found {_short(deck_id)}")
    notes = _entries(parsed.get("notes"), "notes", with_guid=True)
    models = _entries(parsed.get("models"), "models", with_guid=False)
    if deck_id:
        now = known[1] if known is not None and known[0] == deck_id else {}
        for key, entry in notes.items():
            if entry.guid and entry.guid != (now.get(key) or guid_for(deck_id, key)):
                raise LockProblem(f"the GUID of {key!r} is not the one deck id {deck_id!r} gives it")
    return Lock(notes, models, deck_id, _gone(parsed.get("gone", [])))


def _trusted(parsed: dict[str, Any], text: str) -> Lock:
    """The lock `lock_text` wrote as `text` (parsed: `parsed`), read without checks, each note's line kept."""
    models = {key: Entry(value["hash"], value["mod"]) for key, value in parsed["models"].items()}
    notes = {}
    new = object.__new__
    for key, value in parsed["notes"].items():
        # as Entry(...) makes it, without a frozen dataclass's __init__ (a setattr call per field)
        entry = notes[key] = new(Entry)
        fields = entry.__dict__
        fields["hash"], fields["mod"], fields["guid"] = value["hash"], value["mod"], value["guid"]
        fields["deck"], fields["tags"] = value["deck"], tuple(value["tags"])
        fields["old_tags"], fields["old_decks"] = tuple(value.get("old_tags", ())), tuple(value.get("old_decks", ()))
    lines: dict[str, tuple[Entry, str]] = {}
    start = text.find('\n "notes": {\n')
    if notes and start >= 0:  # one line per note, in the order of the file (json.loads keeps it)
        rows = text[start + 13 :].split("\n", len(notes))[: len(notes)]
        if len(rows) == len(notes):
            lines = {key: (entry, row.rstrip(",")) for (key, entry), row in zip(notes.items(), rows, strict=True)}
    gone = tuple((key, guid) for key, guid in parsed["gone"])
    return Lock(notes, models, parsed.get("deck_id", ""), gone, lines)


def _entries(table: Any, name: str, with_guid: bool) -> dict[str, Entry]:
    if not isinstance(table, dict):
        raise LockProblem(f"{name} must be a mapping, found {_short(table)}")
    entries = {}
    for key, value in table.items():
        if not isinstance(value, dict):
            raise LockProblem(f"{name} entry {key!r} must be a mapping, found {_short(value)}")
        digest, mod, guid = value.get("hash"), value.get("mod"), value.get("guid", "")
        if not isinstance(digest, str) or not isinstance(guid, str):
            raise LockProblem(f"{name} entry {key!r} needs a text hash (and guid)")
        if not isinstance(mod, int) or isinstance(mod, bool) or not MOD_RANGE[0] <= mod <= MOD_RANGE[1]:
            raise LockProblem(f"{name} entry {key!r} has mod {_short(mod)}; expected whole seconds since 1970")
        if not with_guid:
            entries[key] = Entry(digest, mod)
            continue
        deck = value.get("deck", "")
        if not isinstance(deck, str):
            raise LockProblem(f"{name} entry {key!r} has deck {_short(deck)}; expected text")
        lists = {part: _texts(value.get(part, []), f"{name} entry {key!r}", part) for part in _LISTS}
        entries[key] = Entry(digest, mod, guid, deck, lists["tags"], lists["old_tags"], lists["old_decks"])
    return entries


_LISTS = ("tags", "old_tags", "old_decks")


def _texts(value: Any, where: str, part: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise LockProblem(f"{where} has {part} {_short(value)}; expected a list of text")
    return tuple(value)


def _gone(value: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(item, str) for item in pair) for pair in value
    ):
        raise LockProblem(f"gone must be a list of [key, guid] pairs, found {_short(value)}")
    return tuple(sorted({(key, guid) for key, guid in value}))


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_lock(
    file: LockFile,
    guid_for: Callable[[str, str], str],
    errors: Collector,
    known: Known | None = None,
    trusted: bool = False,
) -> Lock:
    """The lock `file` holds; empty when there is none, and empty with a warning when it cannot be
    used. `trusted`: as for `parse_lock`."""
    try:
        if file.problem:
            raise LockProblem(file.problem)
        return parse_lock(file.data, guid_for, known, trusted) if file.data is not None else Lock()
    except LockProblem as exc:
        errors.warn(
            file.path.as_posix(),
            0,
            f"{file.path.name} cannot be used: {exc}. Every note counts as changed this time (Anki updates the "
            f"notes it has), and a good {file.path.name} is written in its place",
        )
        return Lock()


def id_change(
    lock: Lock, deck_id: str, guid_for: Callable[[str, str], str], candidates: Iterable[str] = ()
) -> str | None:
    """The deck id the lock was built with, when it is not `deck_id`; None when it is the same or unknown.

    A lock written before the id was recorded still tells: its GUIDs were made from the old id and
    the card keys, so none of them matches `deck_id`. The old id is then found among `candidates`
    (the folder name, say), or given as "".
    """
    if lock.deck_id:
        return lock.deck_id if lock.deck_id != deck_id else None
    keyed = [(key, entry.guid) for key, entry in lock.notes.items() if entry.guid]
    if not keyed or any(guid_for(deck_id, key) == guid for key, guid in keyed):
        return None
    key, guid = keyed[0]
    return next((old for old in candidates if guid_for(old, key) == guid), "")


def advance(
    lock: Lock,
    deck_id: str,
    notes: Iterable[NoteFacts],
    models: Iterable[tuple[str, str]],
    now: int,
) -> tuple[Lock, ChangeReport]:
    """New lock and report for the deck `deck_id`, its notes given as NoteFacts and note types
    as (kind, hash).

    A changed note gets `now`, or one second past its previous time if the clock is behind it,
    so its `mod` always moves forward. A note whose GUID changed (a new deck id) is a new note
    to Anki: it counts as added. `removed` lists only keys the sources no longer make: a search for
    the key finds the live note too, and the report must never advise deleting a note in use. Every
    note removed joins `gone`, and leaves it if it comes back.
    """
    new_notes: dict[str, Entry] = {}
    added, updated, unchanged = [], [], []
    for key, guid, digest, deck, tags in notes:
        old = lock.notes.get(key)
        if old is not None and old.guid and old.guid != guid:
            old = None
        if old is not None and old.hash == digest and old.guid == guid:
            # the same content: the same deck and tags (recorded now if the lock predates them); the
            # entry itself when nothing changed, so that its line in the lock is reused
            same = old.deck == deck and old.tags == tags
            new_notes[key] = old if same else Entry(digest, old.mod, guid, deck, tags, old.old_tags, old.old_decks)
            unchanged.append(key)
        else:
            mod = max(now, old.mod + 1) if old else now
            new_notes[key] = Entry(digest, mod, guid, deck, tags, *_history(old, deck, tags))
            (updated if old else added).append(key)
    new_models: dict[str, Entry] = {}
    changed_models = []
    for kind, digest in models:
        old = lock.models.get(kind)
        if old is not None and old.hash == digest:
            new_models[kind] = old
        else:
            new_models[kind] = Entry(digest, max(now, old.mod + 1) if old else now)
            changed_models.append(kind)
    removed = tuple(sorted((k, e.guid) for k, e in lock.notes.items() if k not in new_notes))
    report = ChangeReport(tuple(added), tuple(updated), tuple(unchanged), removed, tuple(changed_models))
    # every note the lock knew that the sources no longer make, by GUID: a key gone, or a key whose
    # GUID changed (a new deck id; the live note has the new GUID, so push never touches it)
    live = {(key, entry.guid) for key, entry in new_notes.items()}
    known = {(key, entry.guid) for key, entry in lock.notes.items() if entry.guid}
    gone = tuple(sorted({*lock.gone, *known} - live))
    return Lock(new_notes, new_models, deck_id, gone, lock.lines), report


def _history(old: Entry | None, deck: str, tags: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The tags and decks the sources gave a note before and no longer give, `old` being its last
    entry: what they gave then joins what they had given before, less what they give now."""
    if old is None:
        return (), ()
    decks = (*old.old_decks, old.deck) if old.deck else old.old_decks
    return _unique_folded((*old.old_tags, *old.tags), tags), _unique_folded(decks, (deck,))


def _unique_folded(names: Iterable[str], but: Iterable[str]) -> tuple[str, ...]:
    """`names` but those in `but`, without repeats; case ignored, as Anki ignores it in tags and decks."""
    seen = {name.casefold() for name in but}
    kept = []
    for name in names:
        if name.casefold() not in seen:
            seen.add(name.casefold())
            kept.append(name)
    return tuple(kept)


def lock_text(lock: Lock) -> str:
    """The lock as stable, diff-friendly JSON: one line per note, sorted by key (and one per note gone)."""

    def lines(entries: dict[str, Entry], with_guid: bool, known: dict[str, tuple[Entry, str]]) -> str:
        rows = []
        for key, entry in sorted(entries.items()):
            line = known.get(key)
            rows.append(line[1] if line is not None and line[0] is entry else _lock_line(key, entry, with_guid))
        return "{\n" + ",\n".join(rows) + "\n }" if rows else "{}"

    deck_id = _encode(lock.deck_id)
    gone = ",\n".join(f"  {_encode(list(pair))}" for pair in lock.gone)
    gone = f"[\n{gone}\n ]" if gone else "[]"
    return (
        f'{{"version": {LOCK_VERSION},\n "deck_id": {deck_id},\n "models": {lines(lock.models, False, {})},\n'
        f' "notes": {lines(lock.notes, True, lock.lines)},\n "gone": {gone}}}\n'
    )


_encode = json.JSONEncoder(ensure_ascii=False).encode


@lru_cache(maxsize=1 << 17)
def _lock_line(key: str, entry: Entry, with_guid: bool) -> str:
    """One note's (or note type's) line of the lock: remembered, since a rebuild rewrites the lock
    with most of its lines as they were (`serve`, on a big deck)."""
    guid = f'"guid": {_encode(entry.guid)}, ' if with_guid else ""
    line = f'  {_encode(key)}: {{{guid}"hash": {_encode(entry.hash)}, "mod": {int(entry.mod)}'
    if with_guid:
        line += f', "deck": {_encode(entry.deck)}, "tags": {_encode(list(entry.tags))}'
        for part in ("old_tags", "old_decks"):
            if values := getattr(entry, part):
                line += f', "{part}": {_encode(list(values))}'
    return line + "}"


def lock_digest(lock: Lock) -> str:
    """A hash of what a package is written from in the lock: deck id, hashes and mods (cheaper than
    its text; what only push reads, decks, tags and `gone`, is not in the package)."""
    parts = [f"{lock.deck_id}\x00"]
    for table in (lock.models, lock.notes):
        parts.extend(f"{key}\x1f{entry.guid}\x1f{entry.hash}\x1f{entry.mod}\n" for key, entry in sorted(table.items()))
        parts.append("\x00")
    return sha256_hex("".join(parts))


def write_lock(file: LockFile, text: str) -> None:
    """Write the lock's text (`lock_text`) atomically (temporary file, then rename), unless the file
    as read holds it already."""
    data = text.encode()
    if file.data != data:
        atomic_write(file.path, lambda out: out.write(data))
