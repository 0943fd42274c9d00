"""Rules that more than one stage must agree on, written once (stdlib only, like `errors`).

Where a rule also lives in the card script (math delimiters, number reading, the pool), one table
of cases in tests/cases/ drives the tests of both sides.
"""

from __future__ import annotations

import re
from typing import Any

MAX_VARIANTS = 100  # drawn variants per numeric card: deck.yaml, a numeric block, --variants
# the keys of a ```numeric block that the solver reads (the reader adds the review settings)
SOLVER_KEYS = ("problem", "answer", "given", "params", "where", "variants", "ask")

LOCK_NAME = "ankismith.lock"  # beside deck.yaml: what each note was when last built (package/lock.py)
CACHE_DIR = ".ankismith-cache"  # the build cache's default folder (pipeline/cache.py), safe to delete

# Anki's cloze markup: `{{c1::text}}` or `{{c1::text::hint}}`; the number makes the card
CLOZE_OPEN = re.compile(r"\{\{c(?P<number>\d+)::")
CLOZE = re.compile(r"\{\{c(?P<number>\d+)::(?P<text>.*?)(?:::(?P<hint>.*?))?\}\}", re.DOTALL)

# math as it stands in a rendered field: MathJax's \(..\) and \[..\] (render/mathext.py writes them)
MATH_OPEN = re.compile(r"\\\(|\\\[")
MATH_SPAN = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)

# `{{name}}` or `{{name|format}}` in a numeric card; the formats render/placeholders.py writes
PLACEHOLDER = re.compile(r"\{\{\s*(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s*(?:\|\s*(?P<format>[^\s{}|]*)\s*)?\}\}")
PLACEHOLDER_FORMATS = ("and", "or", "list", "x", "×", "brackets")

_TAG = re.compile(r"<[^>]*>")


def is_int(value: Any) -> bool:
    """A whole number as YAML gives it: an int, and not a bool (YAML's `true` is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`1 note`, `2 notes`: a count with its noun in the right number, as every message writes it."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def strip_tags(html: str, replacement: str = "") -> str:
    """HTML without its tags (entities left as they are)."""
    return _TAG.sub(replacement, html)


def script_json(data: Any) -> str:
    """JSON that is safe as the text of a <script> element: `<`, `>` and `&` escaped, so the text
    can never close the element, and entity-like text stays text."""
    import json

    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def read_asset(package: str, name: str) -> str:
    """A text file shipped in `package`'s assets/ folder (the card script, stylesheets, the preview's files)."""
    from importlib import resources

    return resources.files(package).joinpath("assets").joinpath(name).read_text(encoding="utf-8")
