"""Images a card refers to: checked to lie inside the deck, packaged under content-hash names."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ankismith.cards.model import Card
from ankismith.errors import Collector

MAX_MEDIA_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class MediaFile:
    """A packaged media file: its name in Anki, where it is on disk, and its size and mtime then."""

    name: str
    path: str
    size: int
    mtime_ns: int

    def unchanged(self) -> bool:
        """Whether the file on disk still has the size and mtime it had when it was hashed."""
        try:
            stat = Path(self.path).stat()
        except OSError:
            return False
        return (stat.st_size, stat.st_mtime_ns) == (self.size, self.mtime_ns)


@dataclass(frozen=True)
class CardMedia:
    """For one card: each `src` as written -> packaged name, and the packaged files."""

    names: dict[str, str]
    files: tuple[MediaFile, ...]


def media_name(original: str, content: bytes) -> str:
    """Packaged name: the file's stem plus a hash of its bytes (Anki's media folder is flat,
    so two different `fig.png` in two folders must not collide)."""
    path = Path(original)
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-")[:40] or "media"
    return f"{safe}-{hashlib.sha256(content).hexdigest()[:16]}{path.suffix.lower()}"


def resolve_media(card: Card, root: Path, errors: Collector) -> CardMedia:
    """Find each image of `card` on disk, relative to its Markdown file, inside the deck folder."""
    names: dict[str, str] = {}
    files: list[MediaFile] = []
    if not card.images:
        return CardMedia(names, ())
    deck_root = root.resolve()
    for ref in card.images:
        parsed = urlparse(ref.src)
        if parsed.scheme in ("http", "https", "data"):
            continue  # remote images are left to the client, as a browser would
        where = (card.file.shown, ref.line)
        relative = unquote(parsed.path if not parsed.scheme else ref.src)
        if Path(relative).is_absolute() or parsed.scheme:
            errors.error(*where, f"image {ref.src!r} is an absolute path; expected a path relative to the .md file")
            continue
        path = (card.file.path.parent / relative).resolve()
        if not path.is_relative_to(deck_root):
            errors.error(*where, f"image {ref.src!r} lies outside the deck folder (symlinks included); move it inside")
            continue
        if not path.is_file():
            errors.error(*where, f"image {ref.src!r} not found (looked for {path.relative_to(deck_root).as_posix()})")
            continue
        stat = path.stat()
        if stat.st_size > MAX_MEDIA_BYTES:
            errors.error(*where, f"image {ref.src!r} is {stat.st_size:,} bytes; the limit is {MAX_MEDIA_BYTES:,}")
            continue
        name = media_name(path.name, path.read_bytes())
        names[ref.src] = name
        files.append(MediaFile(name, str(path), stat.st_size, stat.st_mtime_ns))
    return CardMedia(names, tuple(files))
