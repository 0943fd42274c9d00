"""Typed, immutable values the reader produces: a deck's settings and its cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any


class Kind(StrEnum):
    """What a card is, told apart by what its body holds (FORMAT.md)."""

    BASIC = "basic"
    CLOZE = "cloze"
    CHOICE = "choice"
    NUMERIC = "numeric"


@dataclass(frozen=True)
class DeckConfig:
    """The settings of deck.yaml, with defaults filled in."""

    name: str
    id: str
    root: Path
    description: str = ""
    tags: tuple[str, ...] = ()
    seed: int = 0
    variants: int = 1


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
    """The YAML of a ```numeric block, parsed, with the line of each top-level key."""

    spec: dict[str, Any]
    line: int
    key_lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, key: str | None) -> int:
        """Line of a top-level key of the block, or of the block's opening fence."""
        return self.key_lines.get(key or "", self.line)


@dataclass(frozen=True)
class Placeholder:
    """A `{{name}}` in a numeric card's text, and where."""

    name: str
    line: int


@dataclass(frozen=True)
class Card:
    """One card as written: heading, question and answer Markdown, and where it came from."""

    key: str
    kind: Kind
    heading: str
    question: str
    answer: str
    path: str  # relative to the deck root, with forward slashes: what notes and export show
    line: int
    subdeck: str = ""
    tags: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    numeric: NumericBlock | None = None
    placeholders: tuple[Placeholder, ...] = ()
    images: tuple[ImageRef, ...] = ()
    file: Path = Path()  # the Markdown file on disk, for resolving images
    shown_path: str = ""  # the file as error messages name it (deck folder included)

    @property
    def source(self) -> str:
        """`path:line` of the card's heading inside the deck, as export reports it."""
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class Deck:
    """A deck folder read into settings and cards, in path order."""

    config: DeckConfig
    cards: tuple[Card, ...]
