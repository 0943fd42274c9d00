"""What a build may skip: card files and cards whose notes are known, decks whose inputs did not
change, and in packaging what the last package holds (its collection, kept unzipped beside the
database, whose unchanged rows are copied) and the collections' bases (tables, decks, note types).

One SQLite file in the cache folder (safe to delete, kept out of git). Every key is a digest of the
whole value an entry was made from (`model/canon.py`: every field of every dataclass, recursively,
so a field added later is in the key without anyone listing it) and of the code fingerprint (every
file of the ankismith package, the versions of the libraries that shape the output, and the files
of installed packages that offer families). What a compilation read besides its source (images, a
deck's family files) is recorded in the entry with the digest of its bytes, and checked again
before the entry is used.

A cache decides how fast a build is, never what it writes: any error reading it (a damaged file, an
entry that does not decode) means "no cache" for the rest of the run, with one warning, and the
file is set aside. Entries are JSON, never pickles: a cache file cannot run code.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import sys
import threading
import typing
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

from ankismith.errors import Collector, SourceError
from ankismith.model.canon import decode, decoder, digest, digest_with, encode, same, sha256_hex
from ankismith.model.cards import FAMILY_ENTRY_POINTS, KeyRef
from ankismith.model.notes import BuiltNote, MediaFile
from ankismith.package.apkg import Base

LIBRARIES = ("markdown", "pymdown-extensions", "pygments", "numpy", "genanki", "pyyaml")
TABLES = ("files", "cards", "runs", "locks")
FILE_NAME = "build.sqlite"
COLLECTIONS = "collections"  # the last packages' collection.anki2, unzipped (keep_collection)
PACKAGE = Path(__file__).resolve().parent.parent  # the ankismith package's folder


@cache
def code_fingerprint(package: Path = PACKAGE) -> str:
    """A digest of every file of the ankismith package (code, card script, stylesheets), the Python
    version, the versions of the libraries that shape the output, and the installed packages'
    families."""
    files = sorted(p for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    parts: list[Any] = [[p.relative_to(package).as_posix(), sha256_hex(p.read_bytes())] for p in files]
    parts.append(list(sys.version_info[:2]))
    parts.append(installed_families())
    for name in LIBRARIES:
        try:
            parts.append([name, metadata.version(name)])
        except metadata.PackageNotFoundError:
            parts.append([name, None])
    return digest(*parts)


def installed_families() -> list[Any]:
    """What the families of installed packages are made of: each entry point of the group, its
    distribution's version, and the digest of every Python file of its top-level package (found
    without running it), so a family package edited in place (an editable install) is a new input."""
    import importlib.util

    found: list[Any] = []
    for point in sorted(metadata.entry_points(group=FAMILY_ENTRY_POINTS), key=lambda p: (p.name, p.value)):
        dist = [point.dist.name, point.dist.version] if point.dist is not None else None
        top = point.value.split(":")[0].split(".")[0].strip()
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        files: list[Path] = []
        if spec is not None and spec.submodule_search_locations:
            for folder in spec.submodule_search_locations:
                files.extend(sorted(Path(folder).rglob("*.py")))
        elif spec is not None and spec.origin and Path(spec.origin).is_file():
            files.append(Path(spec.origin))
        found.append([point.name, point.value, dist, [[str(f), sha256_hex(f.read_bytes())] for f in files]])
    return found


def key(table: str, *parts: Any) -> str:
    """The key of an entry made from `parts` (whole values: configs, files, cards) by this code."""
    return digest(table, code_fingerprint(), *parts)


def key_with(table: str, *first: Any) -> typing.Callable[..., str]:
    """`key(table, *first, *rest)` as a function of `rest`, the first parts encoded once."""
    return digest_with(table, code_fingerprint(), *first)


@dataclass(frozen=True)
class FileNotes:
    """What one card file contributes to its deck (the `files` entry), and what else it read."""

    keys: tuple[KeyRef, ...]
    notes: tuple[BuiltNote, ...]
    media: tuple[MediaFile, ...]
    warnings: tuple[SourceError, ...]
    inputs: tuple[tuple[str, str], ...]  # (path, digest) of every other file read (images)


_FIELDS_AT = [f.name for f in dataclasses.fields(BuiltNote)].index("fields")


def file_text(notes: FileNotes) -> str:
    """A `files` entry as stored: one line of JSON with everything but the notes' fields (and the
    CRC-32 of the rest), then one line with the fields, which a reader decodes only when asked."""
    heads, bodies = [], []
    for note in notes.notes:
        head = encode(note)
        bodies.append(head.pop(_FIELDS_AT))
        heads.append(head)
    body = json.dumps(bodies, ensure_ascii=False)
    rest = encode(dataclasses.replace(notes, notes=()))
    return json.dumps([rest, heads, zlib.crc32(body.encode())], ensure_ascii=False) + "\n" + body


def read_file_text(text: str | bytes) -> FileNotes:
    """The FileNotes `file_text` stored (as text, or as its UTF-8 bytes: the cache reads those, with
    no copy of the fields to decode, split or encode again); each note's fields decoded on first use
    (ValueError and the like when the entry is damaged: the checksum covers the fields, so a later
    use cannot fail)."""
    data = text.encode() if isinstance(text, str) else text
    cut = data.find(b"\n")
    if cut < 0:
        raise ValueError("a files entry without its fields")
    rest, heads, checksum = json.loads(data[:cut])
    if zlib.crc32(memoryview(data)[cut + 1 :]) != checksum:
        raise ValueError("a files entry whose fields do not match their checksum")
    found = decode(FileNotes, rest)
    lazy = _LazyFields(data, cut + 1, len(heads))
    notes = []
    new, names, convert, size = object.__new__, _HEAD_NAMES, _HEAD_READERS, len(_HEAD_NAMES)
    for index, data in enumerate(heads):
        if len(data) != size:
            raise ValueError(f"BuiltNote has {size} fields besides its fields, the entry {len(data)}")
        for at, read in convert:
            data[at] = read(data[at])
        # as BuiltNote(...) would make it, but for the fields: read from `lazy` when first asked for
        note = new(BuiltNote)
        values = note.__dict__
        values.update(zip(names, data, strict=True))
        values["_lazy"] = (lazy, index)
        notes.append(note)
    return dataclasses.replace(found, notes=tuple(notes))


class _LazyFields:
    """The fields of a cached file's notes, as stored, decoded all at once on first use."""

    def __init__(self, data: bytes, start: int, count: int) -> None:
        self._data = data  # the whole entry; the fields from `start`
        self._start = start
        self._count = count
        self._items: list[Any] | None = None

    def fields(self, index: int) -> tuple[tuple[str, str], ...]:
        """The fields of the file's note at `index`."""
        if self._items is None:
            items = json.loads(self._data[self._start :])
            if not isinstance(items, list) or len(items) != self._count:
                raise ValueError("a files entry whose fields do not match its notes")
            self._items, self._data = items, b""
        return _read_fields(self._items[index])


def _read_fields(data: Any) -> tuple[tuple[str, str], ...]:
    return decode(_FIELDS_TYPE, data)


_FIELDS_TYPE = typing.get_type_hints(BuiltNote)["fields"]
_HEAD_NAMES = [f.name for f in dataclasses.fields(BuiltNote) if f.name != "fields"]
_HEAD_READERS = [
    (at, read)
    for at, name in enumerate(_HEAD_NAMES)
    if (read := decoder(typing.get_type_hints(BuiltNote)[name])) is not same
]
assert not hasattr(BuiltNote, "__post_init__")  # read_file_text makes notes without __init__


@dataclass(frozen=True)
class Run:
    """What a deck's last build wrote (the `runs` entry, keyed by all its sources and settings)."""

    target: str
    digest: str  # of the package's content, as packaging planned it
    keys: tuple[str, ...]
    media_count: int
    warnings: tuple[SourceError, ...]
    inputs: tuple[tuple[str, str], ...]  # images, as for FileNotes


class _Broken(Exception):
    """The cache cannot be read or written: the run goes on without it."""


class CacheReader:
    """Read access to the cache's entries: read-only, for worker processes (SQLite allows many
    readers). An entry that cannot be read is a miss."""

    def __init__(self, path: Path, writable: bool = False) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        try:
            self._db = sqlite3.connect(path) if writable else sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        except sqlite3.Error:
            if writable:
                raise  # open_cache warns and builds without it

    @property
    def usable(self) -> bool:
        """Whether the cache is there to be read (not set aside)."""
        return self._db is not None

    def get(self, table: str, entry_key: str) -> Any:
        """The stored entry, or None."""
        try:
            return self._get(table, entry_key)
        except _Broken as exc:
            self._set_aside(exc)
            return None

    def entry(self, table: str, entry_key: str, kind: Any) -> Any:
        """The stored entry decoded as `kind`, or None (an entry that does not decode: as a damaged file)."""
        return self.entries(table, [entry_key], kind).get(entry_key)

    def entries(self, table: str, keys: typing.Sequence[str], kind: Any) -> dict[str, Any]:
        """The stored entries of `keys` (asked at once), decoded as `kind`; those not stored, or
        that do not decode (as a damaged file: the cache is set aside), left out."""
        rows: list[tuple[str, str]] = []
        if self._db is None:
            return {}
        try:
            for start in range(0, len(keys), 500):  # well under SQLite's limit of parameters
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT key, value FROM {_table(table)} WHERE key IN ({marks})"
                rows.extend(self._db.execute(sql, chunk).fetchall())
        except sqlite3.Error as exc:
            self._set_aside(exc)
            return {}
        found = {}
        for entry_key, value in rows:
            try:
                found[entry_key] = decode(kind, json.loads(value))
            except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
                self._set_aside(exc)
        return found

    def _set_aside(self, problem: object) -> None:
        """A reader (a worker process) treats what it cannot read as a miss; the build's own cache sets it aside."""

    def _get(self, table: str, entry_key: str) -> Any:
        if self._db is None:
            return None
        try:
            row = self._db.execute(f"SELECT value FROM {_table(table)} WHERE key = ?", (entry_key,)).fetchone()
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError, TypeError) as exc:
            raise _Broken(str(exc)) from exc

    def _raw(self, table: str, entry_key: str) -> bytes | None:
        """The stored text of an entry, as its UTF-8 bytes (not decoded), or None."""
        if self._db is None:
            return None
        sql = f"SELECT typeof(value), CAST(value AS BLOB) FROM {_table(table)} WHERE key = ?"
        try:
            row = self._db.execute(sql, (entry_key,)).fetchone()
        except sqlite3.Error as exc:
            raise _Broken(str(exc)) from exc
        if row is not None and row[0] != "text":
            raise _Broken("an entry that is not text")
        return row[1] if row else None

    def close(self) -> None:
        """Close the database."""
        if self._db is not None:
            self._db.close()
            self._db = None


class BuildCache(CacheReader):
    """Compiled card files and cards, deck runs and written packages, remembered between builds."""

    MAX_BYTES = 1 << 30  # entries are never updated in place, only added: start afresh past this

    def __init__(self, directory: Path, warnings: Collector) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE_NAME
        if path.exists() and path.stat().st_size > self.MAX_BYTES:
            path.unlink()
        super().__init__(path, writable=True)
        self._warnings = warnings
        self._pending: dict[str, dict[str, str]] = {table: {} for table in TABLES}
        self._files: dict[str, FileNotes] = {}  # compiled card files, as read or made while open
        self._used: set[str] = set()
        try:
            assert self._db is not None
            # a disposable cache: no waiting for the disk (a crash at worst loses it, and a damaged
            # file is set aside), and readers in the worker processes never block the writer
            self._db.execute("PRAGMA synchronous = OFF")
            self._db.execute("PRAGMA journal_mode = WAL")
            for table in TABLES:
                self._db.execute(f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS outputs (path TEXT PRIMARY KEY, digest TEXT, sha TEXT)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS bases (key TEXT PRIMARY KEY, collection BLOB, indexes TEXT, sha TEXT)"
            )
            self._db.execute("SELECT count(*) FROM files").fetchone()
        except sqlite3.Error as exc:
            self._set_aside(exc)

    def get_file(self, entry_key: str) -> FileNotes | None:
        """A card file's compiled notes; kept in memory once read, for as long as the cache is open."""
        self._used.add(entry_key)
        if entry_key not in self._files:
            try:
                text = self._raw("files", entry_key)
                if text is None:
                    return None
                found = read_file_text(text)
            except (_Broken, TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
                self._set_aside(exc)  # unreadable or damaged: compiled again
                return None
            self._files[entry_key] = found
        return self._files[entry_key]

    def put_file(self, entry_key: str, notes: FileNotes) -> None:
        """Remember a card file's compiled notes (stored by `save`)."""
        self._used.add(entry_key)
        self._files[entry_key] = notes
        self._pending["files"][entry_key] = file_text(notes)

    def forget_unused(self) -> None:
        """Drop from memory the card files no compile asked for since the last call (a long-running
        server would otherwise keep every version of every edited file)."""
        self._files = {k: notes for k, notes in self._files.items() if k in self._used}
        self._used = set()

    def put(self, table: str, entry_key: str, entry: Any) -> None:
        """Remember an entry (stored by `save`)."""
        self._pending[_table(table)][entry_key] = json.dumps(entry, ensure_ascii=False)

    def output_is(self, target: Path, package_digest: str) -> bool:
        """Whether `target` is, byte for byte, the package last written for `package_digest`."""
        try:
            row = self._query("SELECT digest, sha FROM outputs WHERE path = ?", (str(target.resolve()),))
        except _Broken as exc:
            self._set_aside(exc)
            return False
        return bool(row) and row[0] == package_digest and _file_digest(target) == row[1]

    def record_output(self, target: Path, package_digest: str) -> None:
        """Remember what was written to `target`."""
        self._write(
            [
                (
                    "INSERT OR REPLACE INTO outputs VALUES (?, ?, ?)",
                    [(str(target.resolve()), package_digest, _file_digest(target))],
                )
            ]
        )

    def wrote_lock(self, lock_digest: str) -> bool:
        """Whether this code wrote a lock whose bytes have `lock_digest` (its values need no checking)."""
        return self.get("locks", key("locks", lock_digest)) is not None

    def record_lock(self, lock_digest: str, target: Path, clean: bool) -> None:
        """Remember that this code wrote a lock whose bytes have `lock_digest`, with the package now
        at `target` (`clean`: every id in it its GUID's own; stored by `save`)."""
        try:
            row = self._query("SELECT sha FROM outputs WHERE path = ?", (str(target.resolve()),))
        except _Broken as exc:
            self._set_aside(exc)
            return
        sha = row[0] if row and clean else None  # a package whose ids moved is never reused
        self.put("locks", key("locks", lock_digest), [str(target.resolve()), sha])

    def package_of_lock(self, lock_digest: str, target: Path) -> typing.Callable[[], bytes | None]:
        """The collection.anki2 of the package at `target` if it is, byte for byte, the one this code
        wrote with the lock whose bytes have `lock_digest` (so that its rows can be reused), read
        in another thread (its files only: the cache's database is asked here): call the result
        to wait for it."""
        found = self.get("locks", key("locks", lock_digest))
        if not isinstance(found, list) or len(found) != 2 or found[0] != str(target.resolve()) or not found[1]:
            return lambda: None
        read: list[bytes | None] = [None]
        reader = threading.Thread(
            target=lambda: read.__setitem__(0, self._package_collection(target, found[1])), daemon=True
        )
        reader.start()

        def wait() -> bytes | None:
            reader.join()
            return read[0]

        return wait

    def _package_collection(self, target: Path, package_sha: str) -> bytes | None:
        """The collection of the package at `target` if its SHA-256 is `package_sha`: the one kept
        unzipped if it is whole, else unzipped."""
        import io
        import zipfile

        try:
            data = target.read_bytes()
            if sha256_hex(data) != package_sha:
                return None
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                kept = self._kept_collection(package_sha, archive.getinfo("collection.anki2"))
                return kept if kept is not None else archive.read("collection.anki2")
        except (OSError, zipfile.BadZipFile, KeyError, zlib.error):
            return None

    def collection_base(self, parts: list[Any]) -> Base | None:
        """The collection base made of `parts` by this code, if kept (and whole: its SHA-256 is checked)."""
        try:
            row = self._query("SELECT collection, indexes, sha FROM bases WHERE key = ?", (key("bases", *parts),))
        except _Broken as exc:
            self._set_aside(exc)
            return None
        if not row or not isinstance(row[0], bytes) or not isinstance(row[1], str) or sha256_hex(row[0]) != row[2]:
            return None
        return Base(row[0], row[1])

    def keep_base(self, parts: list[Any], base: Base) -> None:
        """Keep the collection base made of `parts` (for every later package of the same decks and note types)."""
        row = (key("bases", *parts), base.collection, base.indexes, sha256_hex(base.collection))
        self._write([("INSERT OR REPLACE INTO bases VALUES (?, ?, ?, ?)", [row])])

    def stage_collection(self, target: Path, collection: bytes) -> Path | None:
        """Write the collection of the package being written to `target` to a temporary file in the
        cache folder (`keep_collection` names it once the package is recorded); None when it cannot
        be written. The file kept for the package `target` held so far is written over (renamed
        first), not a new one made: the system reuses its blocks, where a new file of 10 MB costs
        about ten times as much to write here. (A write cut short leaves a file whose size or CRC-32
        is not its package's: `_kept_collection` does not use it.)"""
        import tempfile

        folder = self.path.parent / COLLECTIONS
        try:
            row = self._query("SELECT sha FROM outputs WHERE path = ?", (str(target.resolve()),))
        except _Broken:
            row = None
        try:
            folder.mkdir(exist_ok=True)
            if row and row[0] and (old := folder / f"{row[0]}.anki2").is_file():
                staged = folder / f"{row[0]}.anki2.tmp"
                old.replace(staged)
                with staged.open("r+b") as file:
                    file.write(collection)
                    file.truncate()
                return staged
            handle, name = tempfile.mkstemp(suffix=".anki2.tmp", dir=folder)
            with os.fdopen(handle, "wb") as file:
                file.write(collection)
            return Path(name)
        except OSError:
            return None

    def keep_collection(self, target: Path, staged: Path) -> None:
        """Keep the collection `stage_collection` wrote, that of the package just written to `target`
        (as `record_output` recorded it), unzipped in the cache folder, named by the package's
        SHA-256, for the next build's `package_of_lock`; the collections of packages no longer
        recorded are deleted. A failure only means the next build unzips."""
        try:
            rows = self._db.execute("SELECT path, sha FROM outputs").fetchall() if self._db is not None else None
        except sqlite3.Error:
            rows = None
        sha = next((row[1] for row in rows or () if row[0] == str(target.resolve())), None)
        folder = self.path.parent / COLLECTIONS
        live = {f"{row[1]}.anki2" for row in rows or () if row[1]}
        try:
            if not sha:
                staged.unlink()
                return
            staged.replace(folder / f"{sha}.anki2")
            for old in folder.iterdir():
                if old.name not in live:
                    old.unlink(missing_ok=True)
        except OSError:
            pass

    def _kept_collection(self, package_sha: str, info: Any) -> bytes | None:
        """The collection kept for the package of SHA-256 `package_sha`, if its size and CRC-32 are
        those the package's zip directory gives (`info`); else None (unzip it)."""
        try:
            data = (self.path.parent / COLLECTIONS / f"{package_sha}.anki2").read_bytes()
        except OSError:
            return None
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            return None
        return data

    def save(self) -> None:
        """Store the entries of this run."""
        writes = []
        for table, entries in self._pending.items():
            writes.append((f"INSERT OR REPLACE INTO {table} VALUES (?, ?)", list(entries.items())))
            entries.clear()
        self._write(writes)

    def _query(self, sql: str, args: tuple[Any, ...]) -> Any:
        if self._db is None:
            return None
        try:
            return self._db.execute(sql, args).fetchone()
        except sqlite3.Error as exc:
            raise _Broken(str(exc)) from exc

    def _write(self, writes: list[tuple[str, list[tuple[Any, ...]]]]) -> None:
        if self._db is None:
            return
        try:
            with self._db:
                for sql, rows in writes:
                    self._db.executemany(sql, rows)
        except sqlite3.Error as exc:
            self._set_aside(exc)

    def _set_aside(self, problem: object) -> None:
        """Go on without the cache: warn once, move the file out of the way (the next build starts a
        fresh one), keep nothing of it."""
        if self._db is None:
            return
        self.close()
        self._files.clear()
        for entries in self._pending.values():
            entries.clear()
        aside = self.path.with_name(self.path.name + ".broken")
        try:
            self.path.replace(aside)
            where = f"moved aside to {aside.name}"
        except OSError:
            where = "delete the folder to start afresh"
        self._warnings.warn(
            self.path.parent.as_posix(), 0, f"build cache unreadable ({problem}); building without it ({where})"
        )


def open_cache(cache_dir: Path | None, errors: Collector) -> BuildCache | None:
    """The build cache in `cache_dir`, or None (with a warning when it cannot be used: a build never
    fails for want of its cache)."""
    if cache_dir is None:
        return None
    try:
        return BuildCache(cache_dir, errors)
    except (OSError, sqlite3.Error) as exc:
        errors.warn(cache_dir.as_posix(), 0, f"cache not used ({exc}); building without it")
        return None


def _table(table: str) -> str:
    if table not in TABLES:
        raise ValueError(f"unknown cache table {table!r}")
    return table


def _file_digest(path: Path) -> str | None:
    try:
        return sha256_hex(path.read_bytes())
    except OSError:
        return None
