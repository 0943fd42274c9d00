"""The shared model, as the render stage makes it: notes with their HTML fields, media, a deck of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ankismith.model.cards import DeckConfig, Kind

# Each note type's fields, in order: what the render stage fills and the package stage's note types
# declare. Anki refuses or mangles an update whose field list changed: never change one once shipped.
NOTE_FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.BASIC: ("Front", "Back", "Source"),
    Kind.CLOZE: ("Text", "Back Extra", "Source"),
    Kind.CHOICE: ("Question", "Choices", "Marked", "Answer", "Explanation", "Source"),
    Kind.NUMERIC: ("Question", "Answer", "Solution", "Extra", "Source"),
}


@dataclass(frozen=True)
class BuiltNote:
    """One note as it will be in Anki: identity, where it came from, HTML fields."""

    key: str
    kind: Kind
    guid: str
    deck: str
    tags: tuple[str, ...]
    source: str  # path:line inside the deck folder
    fields: tuple[tuple[str, str], ...]
    numeric: dict[str, Any] | None = None
    hash: str = ""  # of everything Anki shows or stores of the note (not its source line)

    def export(self) -> dict[str, Any]:
        """The note as `export --format json` prints it (FORMAT.md)."""
        data: dict[str, Any] = {
            "guid": self.guid,
            "key": self.key,
            "kind": str(self.kind),
            "deck": self.deck,
            "tags": list(self.tags),
            "source": self.source,
            "fields": dict(self.fields),
        }
        if self.numeric is not None:
            data["numeric"] = self.numeric
        return data


class _CachedFields:
    """A note read back from the build cache decodes its fields only when something asks for them
    (a one-card rebuild needs only the unchanged notes' keys, GUIDs and hashes). A note made any
    other way has its fields in its own `__dict__`, which Python looks at first."""

    def __get__(self, note: BuiltNote | None, owner: type | None = None) -> Any:
        if note is None:
            raise AttributeError("fields")  # a class attribute would be a default to dataclasses
        source, index = note.__dict__["_lazy"]
        fields = source.fields(index)
        note.__dict__["fields"] = fields
        return fields


BuiltNote.fields = _CachedFields()  # type: ignore[assignment,misc]


@dataclass(frozen=True)
class MediaFile:
    """A packaged media file: its name in Anki (the content's hash is part of it), where it is on
    disk, and its size."""

    name: str
    path: str
    size: int


@dataclass(frozen=True)
class BuiltDeck:
    """A deck compiled to notes and media, ready to package."""

    config: DeckConfig
    notes: tuple[BuiltNote, ...]
    media: tuple[MediaFile, ...]
    overrides: tuple[str, ...] = ()  # deck.yaml settings --seed/--variants changed, as "--seed 9 (deck.yaml: 1)"
    families: tuple[str, ...] = ()  # the deck's own family files that were run (problems/*.py)
