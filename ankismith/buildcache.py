"""What a build may skip: card files whose compiled notes are known, packages already written.

One SQLite file in the cache folder (safe to delete, kept out of git). A card file's entry is
keyed by a hash of its bytes, its deck's settings and a fingerprint of ankismith's own code and
of the libraries that shape its output, and is used only while the images it refers to keep
their size and mtime. Entries are JSON, never pickles: a cache file cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

LIBRARIES = ("markdown", "pymdown-extensions", "pygments", "numpy", "genanki", "pyyaml")


@cache
def code_fingerprint() -> str:
    """Hash of ankismith's sources, its Markdown settings and the versions of its libraries."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted(package.rglob("*.py")):
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


def file_key(*parts: Any) -> str:
    """A cache key: a hash of the parts (bytes as they are, anything else as JSON) and of the code."""
    digest = hashlib.sha256(code_fingerprint().encode())
    for part in parts:
        digest.update(b"\x00")
        digest.update(part if isinstance(part, bytes) else json.dumps(part, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def file_hash(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it cannot be read."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


TABLES = ("files", "cards", "runs")


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


def _table(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"unknown cache table {table!r}")
    return table
