"""The files a compilation reads besides its card file (images, family files), each with the
digest of the bytes it read: what a cached result depends on, checked again before it is used."""

from __future__ import annotations

from pathlib import Path

from ankismith.model.canon import sha256_hex


class Inputs:
    """Reads files and remembers each one's digest; `known` digests (of this run) save a second read."""

    def __init__(self, known: dict[str, str | None] | None = None) -> None:
        self.read: dict[str, str] = {}  # path -> digest of the bytes read
        self._known = known if known is not None else {}

    def read_bytes(self, path: Path) -> bytes:
        """The file's bytes (OSError as `Path.read_bytes`), recorded as an input."""
        data = path.read_bytes()
        digest = sha256_hex(data)
        self.read[str(path)] = digest
        self._known[str(path)] = digest
        return data

    def digest(self, path: str) -> str | None:
        """The digest of the file at `path` as it is now (None: it cannot be read), read once per run."""
        if path not in self._known:
            try:
                self._known[path] = sha256_hex(Path(path).read_bytes())
            except OSError:
                self._known[path] = None
        return self._known[path]

    def unchanged(self, recorded: tuple[tuple[str, str], ...]) -> bool:
        """Whether every recorded input still holds the bytes it held."""
        return all(self.digest(path) == digest for path, digest in recorded)
