"""Rules that more than one stage must agree on, written once (stdlib only, like `errors`)."""

from __future__ import annotations

from typing import Any

MAX_VARIANTS = 100  # drawn variants per numeric card: deck.yaml, a numeric block, --variants
# the keys of a ```numeric block that the solver reads (the reader adds the review settings)
SOLVER_KEYS = ("problem", "answer", "given", "params", "where", "variants")


def is_int(value: Any) -> bool:
    """A whole number as YAML gives it: an int, and not a bool (YAML's `true` is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)
