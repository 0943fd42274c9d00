"""A persistent render cache: Markdown fragment -> HTML, in one SQLite file the user may delete.

The key is a hash of the fragment, its media map and a fingerprint of everything that shapes the
HTML: ankismith's version and rendering code, Python-Markdown, pymdown-extensions and Pygments
versions, and the extension settings. Any change to those gives new keys, so the cache can never
serve HTML from another renderer. Rendering many misses is spread over the machine's cores.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from importlib import metadata
from pathlib import Path

from ankismith.cards import render

CACHE_DIR = Path(".ankismith-cache")
PARALLEL_MIN = 400  # below this many misses a process pool costs more than it saves
_CODE = ("render.py", "mathext.py", "lists.py")


@cache
def fingerprint() -> str:
    """Hash of everything that can change the HTML of a fragment."""
    parts = {
        "ankismith": metadata.version("ankismith") if _installed("ankismith") else "dev",
        "markdown": metadata.version("markdown"),
        "pymdown-extensions": metadata.version("pymdown-extensions"),
        "pygments": metadata.version("pygments"),
        "extensions": render.EXTENSIONS,
        "configs": render.EXTENSION_CONFIGS,
        "code": [hashlib.sha256((Path(render.__file__).parent / name).read_bytes()).hexdigest() for name in _CODE],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def _key(mode: str, text: str, media: Mapping[str, str] | None) -> str:
    payload = json.dumps([fingerprint(), mode, text, sorted((media or {}).items())])
    return hashlib.sha256(payload.encode()).hexdigest()


class CachedRenderer:
    """A Renderer in front of a SQLite cache; same `block` / `inline` interface."""

    def __init__(self, path: Path, renderer: render.Renderer | None = None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path)
        self._db.execute("CREATE TABLE IF NOT EXISTS html (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        self._renderer = renderer or render.default_renderer()
        self._memory: dict[str, str] = {}
        self._new: dict[str, str] = {}
        self.hits = self.misses = 0

    def block(self, text: str, media: Mapping[str, str] | None = None) -> str:
        """Render block Markdown, from the cache when possible."""
        return self._get("block", text, media)

    def inline(self, text: str, media: Mapping[str, str] | None = None) -> str:
        """Render one line of Markdown, from the cache when possible."""
        return self._get("inline", text, media)

    def _get(self, mode: str, text: str, media: Mapping[str, str] | None) -> str:
        key = _key(mode, text, media)
        found = self._memory.get(key)
        if found is None:
            row = self._db.execute("SELECT value FROM html WHERE key = ?", (key,)).fetchone()
            found = row[0] if row else None
        if found is not None:
            self.hits += 1
            return found
        self.misses += 1
        value = getattr(self._renderer, mode)(text, media)
        self._memory[key] = self._new[key] = value
        return value

    def warm(self, fragments: Iterable[tuple[str, str, Mapping[str, str] | None]]) -> None:
        """Render every fragment not yet cached, across all cores when there are many."""
        wanted = {}
        for mode, text, media in fragments:
            wanted.setdefault(_key(mode, text, media), (mode, text, dict(media or {})))
        keys = list(wanted)
        known = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            known.update(k for (k,) in self._db.execute(f"SELECT key FROM html WHERE key IN ({marks})", chunk))
        missing = [k for k in keys if k not in known and k not in self._memory]
        workers = os.cpu_count() or 1
        if len(missing) < PARALLEL_MIN or workers < 2:
            return  # rendered on demand
        jobs = [wanted[k] for k in missing]
        size = max(50, len(jobs) // (workers * 4))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = pool.map(_render_chunk, [jobs[i : i + size] for i in range(0, len(jobs), size)])
            for offset, htmls in zip(range(0, len(jobs), size), results, strict=True):
                for key, value in zip(missing[offset : offset + size], htmls, strict=True):
                    self._memory[key] = self._new[key] = value

    def save(self) -> None:
        """Store what this run rendered; called only after a successful compile."""
        if self._new:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO html VALUES (?, ?)", self._new.items())
            self._new.clear()

    def close(self) -> None:
        """Close the database."""
        self._db.close()


def _render_chunk(jobs: list[tuple[str, str, dict[str, str]]]) -> list[str]:
    renderer = render.default_renderer()
    return [getattr(renderer, mode)(text, media or None) for mode, text, media in jobs]
