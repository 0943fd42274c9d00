"""What a build may skip: card files and cards whose notes are known, packages already written.

One SQLite file in the cache folder (safe to delete, kept out of git). Entries are keyed by a hash
of what they were made from (a card file's bytes, its deck's settings) and of a fingerprint of
ankismith's own code and of the libraries that shape its output; an entry is used only while the
images it refers to keep their size and mtime. Entries are JSON, never pickles: a cache file
cannot run code. The records themselves (`FileNotes`, the parts of each key) are written here too,
so that the pipeline only asks and tells.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import asdict, dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ankismith.builder.lock import LOCK_NAME, content_hash
from ankismith.cards.media import MediaFile
from ankismith.cards.model import Card, DeckConfig
from ankismith.cards.reader import KeyRef, card_files
from ankismith.errors import Collector, SourceError
from ankismith.notes import BuiltNote

LIBRARIES = ("markdown", "pymdown-extensions", "pygments", "numpy", "genanki", "pyyaml")
TABLES = ("files", "cards", "runs")


@cache
def code_fingerprint() -> str:
    """Hash of ankismith's sources (card script and CSS included), its Markdown settings and the
    versions of its libraries."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".js", ".css")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    from ankismith.cards import extensions

    digest.update(json.dumps([extensions.EXTENSIONS, extensions.EXTENSION_CONFIGS], sort_keys=True).encode())
    for name in LIBRARIES:
        try:
            digest.update(f"{name}={metadata.version(name)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=?".encode())
    return digest.hexdigest()


def cache_key(*parts: Any) -> str:
    """A cache key: a hash of the parts (bytes by their SHA-256, anything else as JSON) and of the code."""
    return content_hash(
        code_fingerprint(), *(hashlib.sha256(p).hexdigest() if isinstance(p, bytes) else p for p in parts)
    )


def file_hash(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


class CacheReader:
    """Read access to the cache's entries; read-only as such, for worker processes (SQLite
    allows many readers)."""

    def __init__(self, path: Path, writable: bool = False) -> None:
        self.path = path
        self._db = sqlite3.connect(path) if writable else sqlite3.connect(f"file:{path}?mode=ro", uri=True)

    def get(self, table: str, key: str) -> Any:
        """The stored entry, or None."""
        row = self._db.execute(f"SELECT value FROM {_table(table)} WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def close(self) -> None:
        """Close the database."""
        self._db.close()


class BuildCache(CacheReader):
    """Compiled card files and cards, and written packages, remembered between builds."""

    MAX_BYTES = 1 << 30  # entries are never updated in place, only added: start afresh past this

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "build.sqlite"
        if path.exists() and path.stat().st_size > self.MAX_BYTES:
            path.unlink()
        super().__init__(path, writable=True)
        for table in TABLES:
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS outputs (path TEXT PRIMARY KEY, digest TEXT, sha TEXT)")
        self._pending: dict[str, dict[str, str]] = {table: {} for table in TABLES}
        self._files: dict[str, FileNotes] = {}  # compiled card files, as read or made while open
        self._used: set[str] = set()

    def get_file(self, key: str) -> FileNotes | None:
        """A card file's compiled notes; kept in memory once read, for as long as the cache is open."""
        self._used.add(key)
        if key not in self._files:
            entry = self.get("files", key)
            if entry is None:
                return None
            self._files[key] = FileNotes.from_json(entry)
        return self._files[key]

    def put_file(self, key: str, notes: FileNotes) -> None:
        """Remember a card file's compiled notes (stored by `save`)."""
        self._used.add(key)
        self._files[key] = notes
        self.put("files", key, notes.to_json())

    def forget_unused(self) -> None:
        """Drop from memory the card files no compile asked for since the last call (a long-running
        server would otherwise keep every version of every edited file)."""
        self._files = {key: notes for key, notes in self._files.items() if key in self._used}
        self._used = set()

    def put(self, table: str, key: str, entry: Any) -> None:
        """Remember an entry (stored by `save`)."""
        self._pending[_table(table)][key] = json.dumps(entry, ensure_ascii=False)

    def output_is(self, target: Path, digest: str) -> bool:
        """Whether `target` is, byte for byte, the package last written for `digest`."""
        row = self._db.execute("SELECT digest, sha FROM outputs WHERE path = ?", (str(target.resolve()),)).fetchone()
        return bool(row) and row[0] == digest and file_hash(target) == row[1]

    def record_output(self, target: Path, digest: str) -> None:
        """Remember what was written to `target`."""
        with self._db:
            self._db.execute(
                "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)", (str(target.resolve()), digest, file_hash(target))
            )

    def save(self) -> None:
        """Store the entries of this run."""
        with self._db:
            for table, entries in self._pending.items():
                self._db.executemany(f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", entries.items())
                entries.clear()


def open_cache(cache_dir: Path | None, errors: Collector) -> BuildCache | None:
    """The build cache in `cache_dir`, or None (with a warning when it cannot be used: a build never
    fails for want of its cache)."""
    if cache_dir is None:
        return None
    try:
        return BuildCache(cache_dir)
    except (OSError, sqlite3.Error) as exc:
        errors.warn(cache_dir.as_posix(), 1, f"cache not used ({exc}); building without it")
        return None


def _table(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"unknown cache table {table!r}")
    return table


# --- what the entries hold and are keyed by --------------------------------------------------


@dataclass(frozen=True)
class FileNotes:
    """What one card file contributes to its deck: the `files` entry of the cache."""

    keys: tuple[KeyRef, ...]
    notes: tuple[BuiltNote, ...]
    media: tuple[MediaFile, ...]
    warnings: tuple[SourceError, ...]

    def to_json(self) -> dict[str, Any]:
        """The entry as plain JSON."""
        return {
            "keys": [asdict(k) for k in self.keys],
            "notes": [n.to_json() for n in self.notes],
            "media": [asdict(m) for m in self.media],
            "warnings": [asdict(w) for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FileNotes:
        """The entry `to_json` gave."""
        return cls(
            tuple(KeyRef(k["key"], k["path"], k["line"]) for k in data["keys"]),
            tuple(BuiltNote.from_json(n) for n in data["notes"]),
            tuple(MediaFile(**m) for m in data["media"]),
            tuple(SourceError(**w) for w in data["warnings"]),
        )


def deck_settings(config: DeckConfig) -> list[Any]:
    """The deck settings that reach a note (part of every file's and card's key)."""
    return [
        config.name,
        config.id,
        config.tags,
        config.seed,
        config.variants,
        asdict(config.review),
        config.root.as_posix(),
    ]


def card_content(card: Card) -> list[Any]:
    """Everything of a card that reaches its notes, except line numbers: lines move when lines above
    change, and reach a note only through its `source`, which is set afresh."""
    numeric = card.numeric.spec if card.numeric is not None else None
    return [
        card.key,
        card.kind.value,
        card.heading,
        card.question,
        card.answer,
        card.file.inner,
        card.subdeck,
        card.tags,
        [(c.text, c.correct) for c in card.choices],
        numeric,
        [p.name for p in card.placeholders],
        [i.src for i in card.images],
    ]


def deck_inputs(root: Path, seed: int | None, variants: int | None, out_dir: Path) -> list[Any]:
    """Hashes of what a deck's package is made from, but the lock (and images: checked apart)."""
    parts: list[Any] = [root.as_posix(), seed, variants, out_dir.resolve().as_posix()]
    for path in (root / "deck.yaml", *card_files(root)):
        parts.append([path.relative_to(root).as_posix(), file_hash(path)])
    return parts


def inputs_digest(root: Path, inputs: list[Any]) -> str:
    """The key of a deck's `runs` entry: its inputs, and its lock as it is on disk now."""
    return cache_key(*inputs, file_hash(root / LOCK_NAME))
