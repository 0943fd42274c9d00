"""ankismith: Anki decks from Markdown notes."""

__version__ = "0.1.0"
