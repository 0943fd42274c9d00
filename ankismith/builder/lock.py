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
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    """The lock's content: notes by key, note types by kind."""

    notes: dict[str, Entry] = field(default_factory=dict)
    models: dict[str, Entry] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeReport:
    """What a build changed compared with the last one the lock records."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    removed: tuple[tuple[str, str], ...] = ()  # (key, guid) of notes gone from the sources
    models_changed: tuple[str, ...] = ()


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
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        errors.warn(path.as_posix(), 1, f"{path.name} is unreadable ({exc}); every note counts as changed this time")
        return Lock()
    return Lock(notes, models)


def advance(
    lock: Lock,
    notes: Iterable[tuple[str, str, str]],
    models: Iterable[tuple[str, str]],
    now: int,
) -> tuple[Lock, ChangeReport]:
    """New lock and report for notes given as (key, guid, hash) and note types as (kind, hash).

    A changed note gets `now`, or one second past its previous time if the clock is behind it,
    so its `mod` always moves forward.
    """
    new_notes: dict[str, Entry] = {}
    added, updated, unchanged = [], [], []
    for key, guid, digest in notes:
        old = lock.notes.get(key)
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
    removed = tuple(sorted((k, e.guid) for k, e in lock.notes.items() if k not in new_notes))
    report = ChangeReport(tuple(added), tuple(updated), tuple(unchanged), removed, tuple(changed_models))
    return Lock(new_notes, new_models), report


def lock_text(lock: Lock) -> str:
    """The lock as stable, diff-friendly JSON: one line per note, sorted by key."""

    def lines(entries: dict[str, Entry], with_guid: bool) -> str:
        encode = json.JSONEncoder(ensure_ascii=False).encode
        rows = []
        for key, entry in sorted(entries.items()):
            guid = f'"guid": {encode(entry.guid)}, ' if with_guid else ""
            rows.append(f'  {encode(key)}: {{{guid}"hash": {encode(entry.hash)}, "mod": {int(entry.mod)}}}')
        return "{\n" + ",\n".join(rows) + "\n }" if rows else "{}"

    return (
        f'{{"version": {LOCK_VERSION},\n "models": {lines(lock.models, False)},\n'
        f' "notes": {lines(lock.notes, True)}}}\n'
    )


def lock_digest(lock: Lock) -> str:
    """A hash of the lock's content (cheaper than its text)."""
    digest = hashlib.sha256()
    for table in (lock.models, lock.notes):
        for key, entry in sorted(table.items()):
            digest.update(f"{key}\x1f{entry.guid}\x1f{entry.hash}\x1f{entry.mod}\n".encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def write_lock(path: Path, lock: Lock) -> None:
    """Write the lock atomically (temporary file, then rename); unchanged locks are not rewritten."""
    text = lock_text(lock)
    if path.exists() and path.read_text(encoding="utf-8", errors="replace") == text:
        return
    atomic_write(path, lambda out: out.write(text.encode()))
