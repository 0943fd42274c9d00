"""Images a card refers to: checked to lie inside the deck, packaged under content-hash names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ankismith.errors import Collector
from ankismith.model.canon import sha256_hex
from ankismith.model.cards import Card
from ankismith.model.inputs import Inputs
from ankismith.model.notes import MediaFile

MAX_MEDIA_BYTES = 50 * 1024 * 1024


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
    return f"{safe}-{sha256_hex(content)[:16]}{path.suffix.lower()}"


# what each kind of image starts with; the extensions that say it (the first one is the usual)
IMAGE_KINDS = {
    "PNG": (".png",),
    "JPEG": (".jpg", ".jpeg", ".jpe"),
    "GIF": (".gif",),
    "WebP": (".webp",),
    "SVG": (".svg",),
    "BMP": (".bmp",),
    "AVIF": (".avif",),
}


def sniff_image(data: bytes) -> str | None:
    """The kind of image `data` is, from its first bytes (an SVG: XML text with an <svg> element)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WebP"
    if data[4:12] in (b"ftypavif", b"ftypavis"):
        return "AVIF"
    if data[:2] == b"BM" and int.from_bytes(data[14:18], "little") in (12, 40, 52, 56, 64, 108, 124):
        return "BMP"
    head = _text_head(data)
    if head is not None and head.lstrip("\ufeff \t\r\n").startswith("<") and "<svg" in head:
        return "SVG"
    return None


def _text_head(data: bytes) -> str | None:
    """The start of `data` as text, or None when it is not UTF-8 text."""
    head = data[:65536]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut in two at the end
            return None
        text = head[: exc.start].decode("utf-8")
    return None if "\x00" in text else text


def image_problem(suffix: str, data: bytes) -> str | None:
    """What is wrong with an image file whose name ends in `suffix` and holds `data`, or None.

    A known extension must match the bytes (a text file saved as fig.png shows as a broken image in
    Anki); another extension, or none, is fine when the bytes are an image of a known kind.
    """
    expected = next((kind for kind, suffixes in IMAGE_KINDS.items() if suffix.lower() in suffixes), None)
    found = sniff_image(data)
    if found is not None and found == (expected or found):
        return None
    article = "an" if expected in ("SVG", "AVIF") else "a"
    what = f"is not {article} {expected} image" if expected else "is not an image"
    if not data:
        why = "the file is empty"
    elif found is not None:
        why = f"it is {'an' if found in ('SVG', 'AVIF') else 'a'} {found} image; rename it to {IMAGE_KINDS[found][0]}"
    elif _text_head(data) is not None:
        why = "it holds text"
    else:
        why = "its first bytes are not those of any image kind"
    kinds = list(IMAGE_KINDS)
    known = "" if expected else f" (expected {', '.join(kinds[:-1])} or {kinds[-1]})"
    return f"{what}: {why}{known}"


def resolve_media(card: Card, root: Path, inputs: Inputs, errors: Collector) -> CardMedia:
    """Find each image of `card` on disk, relative to its Markdown file, inside the deck folder (read
    through `inputs`, which records what a cached result depends on)."""
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
        try:
            stat = path.stat()
            if stat.st_size > MAX_MEDIA_BYTES:
                errors.error(*where, f"image {ref.src!r} is {stat.st_size:,} bytes; the limit is {MAX_MEDIA_BYTES:,}")
                continue
            data = inputs.read_bytes(path)
        except OSError as exc:
            errors.error(*where, f"image {ref.src!r} cannot be read: {exc.strerror or exc}")
            continue
        if (problem := image_problem(path.suffix, data)) is not None:
            errors.error(*where, f"image {ref.src!r} {problem}")
            continue
        name = media_name(path.name, data)
        names[ref.src] = name
        files.append(MediaFile(name, str(path), len(data)))
    return CardMedia(names, tuple(files))
