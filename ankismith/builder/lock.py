"""The lock file beside deck.yaml: per note, the hash of what was built and when it last changed.

Anki updates a note on import only when the incoming `mod` is newer than its own, and equal times
mean no update. So a note's `mod` must move forward exactly when its content changes: the lock
remembers each note's content hash and the time it last changed, and users commit it like a
package lock. A missing or stale lock only makes notes look changed (they update in Anki, which is
safe); it never keeps an edit from reaching Anki.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ankismith.builder.atomic import atomic_write
from ankismith.errors import Collector

LOCK_NAME = "ankismith.lock"
LOCK_VERSION = 1


@dataclass(frozen=True)
class Entry:
    """What the lock knows of one note or note type."""

    hash: str
    mod: int
    guid: str = ""


@dataclass(frozen=True)
class Lock:
    """The lock's content: the deck id its GUIDs were made from, notes by key, note types by kind.

    `deck_id` is "" in a lock written before ankismith recorded it (see `id_change`).
    """

    notes: dict[str, Entry] = field(default_factory=dict)
    models: dict[str, Entry] = field(default_factory=dict)
    deck_id: str = ""


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


def content_hash(*parts: Any) -> str:
    """A stable hash of JSON-like parts (a note's content, a note type's, a cache key's parts)."""
    text = json.dumps(parts, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def read_lock(path: Path, errors: Collector) -> Lock:
    """The lock at `path`; empty when missing, and empty with a warning when unreadable."""
    if not path.exists():
        return Lock()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("version") != LOCK_VERSION:
            raise ValueError(f"version {data.get('version')!r}")
        notes = {k: Entry(v["hash"], int(v["mod"]), v.get("guid", "")) for k, v in data["notes"].items()}
        models = {k: Entry(v["hash"], int(v["mod"])) for k, v in data["models"].items()}
        deck_id = data.get("deck_id", "")  # absent in locks written before it was recorded
        if not isinstance(deck_id, str):
            raise TypeError(f"deck_id {deck_id!r}")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        errors.warn(path.as_posix(), 1, f"{path.name} is unreadable ({exc}); every note counts as changed this time")
        return Lock()
    return Lock(notes, models, deck_id)


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
    notes: Iterable[tuple[str, str, str]],
    models: Iterable[tuple[str, str]],
    now: int,
) -> tuple[Lock, ChangeReport]:
    """New lock and report for the deck `deck_id`, its notes given as (key, guid, hash) and note
    types as (kind, hash).

    A changed note gets `now`, or one second past its previous time if the clock is behind it,
    so its `mod` always moves forward. A note whose GUID changed (a new deck id) is a new note
    to Anki: it counts as added, and the note of the old GUID as removed.
    """
    new_notes: dict[str, Entry] = {}
    added, updated, unchanged = [], [], []
    replaced: list[tuple[str, str]] = []
    for key, guid, digest in notes:
        old = lock.notes.get(key)
        if old is not None and old.guid and old.guid != guid:
            replaced.append((key, old.guid))
            old = None
        if old is not None and old.hash == digest and old.guid == guid:
            new_notes[key] = old
            unchanged.append(key)
        else:
            new_notes[key] = Entry(digest, max(now, old.mod + 1) if old else now, guid)
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
    removed = tuple(sorted([*((k, e.guid) for k, e in lock.notes.items() if k not in new_notes), *replaced]))
    report = ChangeReport(tuple(added), tuple(updated), tuple(unchanged), removed, tuple(changed_models))
    return Lock(new_notes, new_models, deck_id), report


def lock_text(lock: Lock) -> str:
    """The lock as stable, diff-friendly JSON: one line per note, sorted by key."""

    def lines(entries: dict[str, Entry], with_guid: bool) -> str:
        rows = [_lock_line(key, entry, with_guid) for key, entry in sorted(entries.items())]
        return "{\n" + ",\n".join(rows) + "\n }" if rows else "{}"

    deck_id = _encode(lock.deck_id)
    return (
        f'{{"version": {LOCK_VERSION},\n "deck_id": {deck_id},\n "models": {lines(lock.models, False)},\n'
        f' "notes": {lines(lock.notes, True)}}}\n'
    )


_encode = json.JSONEncoder(ensure_ascii=False).encode


@lru_cache(maxsize=1 << 17)
def _lock_line(key: str, entry: Entry, with_guid: bool) -> str:
    """One note's (or note type's) line of the lock: remembered, since a rebuild rewrites the lock
    with most of its lines as they were (`serve`, on a big deck)."""
    guid = f'"guid": {_encode(entry.guid)}, ' if with_guid else ""
    return f'  {_encode(key)}: {{{guid}"hash": {_encode(entry.hash)}, "mod": {int(entry.mod)}}}'


def lock_digest(lock: Lock) -> str:
    """A hash of the lock's content (cheaper than its text)."""
    digest = hashlib.sha256(f"{lock.deck_id}\x00".encode())
    for table in (lock.models, lock.notes):
        text = "".join(
            f"{key}\x1f{entry.guid}\x1f{entry.hash}\x1f{entry.mod}\n" for key, entry in sorted(table.items())
        )
        digest.update(text.encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def write_lock(path: Path, lock: Lock) -> None:
    """Write the lock atomically (temporary file, then rename); unchanged locks are not rewritten."""
    text = lock_text(lock)
    if path.exists() and path.read_text(encoding="utf-8", errors="replace") == text:
        return
    atomic_write(path, lambda out: out.write(text.encode()))
