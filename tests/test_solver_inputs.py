"""What a numeric block can hold never gets past the solver as anything but SpecErrors (issue 11).

A fuzz test feeds `instantiate` arbitrary YAML-like values (huge and tiny numbers, odd Unicode,
nesting, every family's own param names); the rest pins the reports issue 11 asked for.
"""

from __future__ import annotations

from typing import Any

import pytest

from ankismith import solver
from ankismith.solver import SpecErrors


def issues(spec: dict[str, Any], variants: int = 2) -> list[tuple[str | None, str]]:
    with pytest.raises(SpecErrors) as caught:
        solver.instantiate(spec, 0, "k", variants)
    return [(i.key, i.message) for i in caught.value.issues]


# --- issue 11, item 1: a huge range is drawn, an absurd one refused at `params` -------------------


def test_a_range_beyond_int64_is_drawn_exactly() -> None:
    instances = solver.instantiate({"answer": "m", "params": {"m": "1..99999999999999999999999"}}, 0, "k", 3)
    assert all(1 <= i.answer <= 99999999999999999999999 for i in instances)


def test_a_range_beyond_100_digits_is_an_error_at_params() -> None:
    assert issues({"answer": "m", "params": {"m": "1.." + "9" * 101}}) == [
        ("params", "m: range '1.." + "9" * 101 + "': numbers are limited to 100 digits and 100 decimals")
    ]
