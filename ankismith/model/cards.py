"""The shared model, as the read stage makes it: a deck's settings, its card files and its cards (frozen)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar


class Kind(StrEnum):
    """What a card is, told apart by what its body holds (FORMAT.md)."""

    BASIC = "basic"
    CLOZE = "cloze"
    CHOICE = "choice"
    NUMERIC = "numeric"


@dataclass(frozen=True)
class Review:
    """How numeric cards behave at review time: deck.yaml sets it, a numeric block may override it."""

    fresh: bool = True  # one note whose instance changes daily; False: one note per instance
    type_answer: bool = True  # an answer box on the front, a graded verdict on the back
    tolerance: float | None = None  # relative; None: 0.001, and whole-number answers must be exact

    KEYS: ClassVar[tuple[str, ...]] = ("fresh", "type_answer", "tolerance")


@dataclass(frozen=True)
class DeckConfig:
    """The settings of deck.yaml, with defaults filled in."""

    name: str
    id: str
    root: Path
    description: str = ""
    tags: tuple[str, ...] = ()
    seed: int = 0
    variants: int = 20
    review: Review = Review()
    id_line: int = 0  # the line of `id:` in deck.yaml; 0: no `id:`, the deck takes its folder's name


@dataclass(frozen=True)
class SourceFile:
    """A card file of a deck: where it is on disk, and how notes and messages name it."""

    path: Path  # on disk: for reading it and for resolving its images
    inner: str  # inside the deck folder, with forward slashes: what notes and export show
    shown: str  # what messages show: the deck folder as given, then `inner`


@dataclass(frozen=True)
class Choice:
    """One lettered choice of a multiple-choice card; `text` is Markdown."""

    text: str
    correct: bool
    line: int


@dataclass(frozen=True)
class ImageRef:
    """An image the card's Markdown refers to, as written, and where."""

    src: str
    line: int


@dataclass(frozen=True)
class NumericBlock:
    """The YAML of a ```numeric block, parsed, with the line of each top-level key.

    `spec` is what the solver reads (problem, answer, given, params, where, variants, ask); `review`
    holds the block's own review settings (fresh, type_answer, tolerance), given ones only.
    """

    spec: dict[str, Any]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)
    review: dict[str, Any] = field(default_factory=dict)
    unit: str = ""  # the answer's unit: the box takes the number with or without it

    def line_of(self, key: str | None) -> int:
        """Line of a top-level key of the block, or of the block's opening fence."""
        return self.key_lines.get(key or "", self.line)


@dataclass(frozen=True)
class Placeholder:
    """A `{{name}}` (or `{{name|format}}`) in a numeric card's text, and where."""

    name: str
    line: int
    format: str | None = None


@dataclass(frozen=True)
class Card:
    """One card as written: heading, question and answer Markdown, and where it came from."""

    key: str
    kind: Kind
    heading: str
    question: str
    answer: str
    file: SourceFile
    line: int  # of the card's heading
    subdeck: str = ""
    tags: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    numeric: NumericBlock | None = None
    placeholders: tuple[Placeholder, ...] = ()
    images: tuple[ImageRef, ...] = ()

    @property
    def source(self) -> str:
        """`path:line` of the card's heading inside the deck, as export reports it."""
        return f"{self.file.inner}:{self.line}"


@dataclass(frozen=True)
class FamilySource:
    """A Python file of the deck's problems/ folder, as read: a family named after the file, or a
    helper its families import (a name starting with '_')."""

    name: str
    path: Path
    shown: str
    code: bytes

    @property
    def helper(self) -> bool:
        """A module the families may import, not a family itself."""
        return self.name.startswith("_")


FAMILY_ENTRY_POINTS = "ankismith.families"  # the entry-point group of installed packages' families


def family_digest(name: str, sources: tuple[FamilySource, ...]) -> str | None:
    """What a card that names the family `name` depends on in its deck: that family's file and the
    helpers it may import (None: the deck has no family of that name)."""
    own = [s for s in sources if s.name == name and not s.helper]
    if not own:
        return None
    from ankismith.model.canon import sha256_hex

    return sha256_hex(b"".join(s.code for s in (*own, *(s for s in sources if s.helper))))


@dataclass(frozen=True)
class Deck:
    """A deck folder read: its settings, each card file (in path order) with its bytes, its families."""

    config: DeckConfig
    files: tuple[tuple[SourceFile, bytes], ...]
    settings: str = ""  # the digest of deck.yaml's bytes
    families: tuple[FamilySource, ...] = ()


@dataclass(frozen=True)
class KeyRef:
    """A card key and the heading that gave it, for the duplicate check across files."""

    key: str
    path: str
    line: int
