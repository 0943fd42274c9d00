"""The `params:` of a numeric block: ranges, choices, decimals with a step, random matrices.

W: 5..32                      integers from 5 to 32
F: [1, 3, 5]                  one of these (for a list-valued param: element by element)
lr: 0.01..0.5 step 0.01       decimals on a grid (the step defaults to the bounds' precision)
lr: 1e-4..1e-2 step 1e-4      the same in scientific notation
I: {shape: [4, 3], values: -2..5}   a random matrix
layers: {one_of: [[9, 4, 2], [5, 3, 1]]}   one of these values, whatever their kind

Every drawn value is exact: whole numbers are Python ints (of any size up to 100 digits, drawn
from the seeded generator 32 bits at a time beyond numpy's int64), decimals are Fractions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver.family import MAX_DIGITS, MAX_MATRIX_SIDE
from ankismith.solver.values import as_array, exact

LIST_KINDS = {"ints", "vector", "shape", "layers"}
_NUMBER = r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(
    rf"^\s*(?P<low>[-+]?{_NUMBER})\s*\.\.\s*(?P<high>[-+]?{_NUMBER})(?:\s+step\s+(?P<step>{_NUMBER}))?\s*$"
)
MAX_GRID = 10**9
INT64 = 2**63 - 1


class SpecProblem(ValueError):
    """A `params:` entry that cannot be read; the message says what was expected."""


@dataclass(frozen=True)
class Draw:
    """How one value is drawn."""

    def draw(self, rng: np.random.Generator) -> Any:
        """One value from `rng`."""
        raise NotImplementedError


@dataclass(frozen=True)
class Fixed(Draw):
    """A value given as it is."""

    value: Any

    def draw(self, rng: np.random.Generator) -> Any:  # noqa: D102 (see Draw.draw)
        return self.value


@dataclass(frozen=True)
class IntRange(Draw):
    """A whole number from `low` to `high`, both included."""

    low: int
    high: int

    def draw(self, rng: np.random.Generator) -> Any:  # noqa: D102 (see Draw.draw)
        if -INT64 <= self.low and self.high < INT64:
            return int(rng.integers(self.low, self.high + 1))
        span = self.high - self.low + 1  # beyond int64: 32-bit words, rejection keeps it uniform
        bits = span.bit_length()
        words = (bits + 31) // 32
        while True:
            value = 0
            for word in rng.integers(0, 2**32, size=words, dtype=np.uint64):
                value = (value << 32) | int(word)
            value >>= 32 * words - bits
            if value < span:
                return self.low + value


@dataclass(frozen=True)
class Grid(Draw):
    """A number on the grid low, low + step, ... (decimals stay exact: 0.1 + 0.2 is 0.3)."""

    low: Fraction
    step: Fraction
    count: int  # number of grid points

    def draw(self, rng: np.random.Generator) -> Any:  # noqa: D102 (see Draw.draw)
        return exact(self.low + self.step * int(rng.integers(0, self.count)))


@dataclass(frozen=True)
class Choice(Draw):
    """One of the options, each drawn in turn."""

    options: tuple[Draw, ...]

    def draw(self, rng: np.random.Generator) -> Any:  # noqa: D102 (see Draw.draw)
        return self.options[int(rng.integers(0, len(self.options)))].draw(rng)


@dataclass(frozen=True)
class Matrix(Draw):
    """A rows x cols matrix, each entry drawn from `values`."""

    rows: int
    cols: int
    values: Draw

    def draw(self, rng: np.random.Generator) -> Any:  # noqa: D102 (see Draw.draw)
        return as_array([[self.values.draw(rng) for _ in range(self.cols)] for _ in range(self.rows)])


@dataclass(frozen=True)
class Each(Draw):
    """A list drawn element by element."""

    items: tuple[Draw, ...]

    def draw(self, rng: np.random.Generator) -> Any:  # noqa: D102 (see Draw.draw)
        return [item.draw(rng) for item in self.items]


@dataclass(frozen=True)
class Fields(Draw):
    """A mapping drawn key by key (a cnn_params layer)."""

    items: tuple[tuple[str, Draw], ...]

    def draw(self, rng: np.random.Generator) -> Any:  # noqa: D102 (see Draw.draw)
        return {key: item.draw(rng) for key, item in self.items}


def parse_draw(name: str, value: Any, kind: str | None) -> Draw:
    """Read one `params:` entry; `kind` is the family's kind for the param (None for formulas)."""
    if isinstance(value, str) and ".." in value:
        return _range(name, value)
    if isinstance(value, dict):
        if "one_of" in value:
            options = value["one_of"]
            if set(value) != {"one_of"} or not isinstance(options, list) or not options:
                raise SpecProblem(f"{name}: `one_of` needs a non-empty list of values, and nothing beside it")
            return Choice(tuple(parse_draw(name, option, kind) for option in options))
        if "shape" in value:
            return _matrix(name, value)
        return Fields(tuple((str(k), parse_draw(f"{name}.{k}", v, None)) for k, v in value.items()))
    if isinstance(value, list):
        if not value:
            raise SpecProblem(f"{name}: empty list; expected values to choose from")
        if kind == "matrix" and all(isinstance(row, list) for row in value):
            return Fixed(value)
        if kind in LIST_KINDS:
            element = "layer" if kind == "layers" else None
            return Each(tuple(parse_draw(f"{name}[{i}]", v, element) for i, v in enumerate(value)))
        return Choice(tuple(parse_draw(name, v, kind) for v in value))
    return Fixed(value)


def _range(name: str, text: str) -> Draw:
    match = _RANGE.match(text)
    if not match:
        raise SpecProblem(
            f"{name}: cannot read range {text!r}; expected `a..b` or `a..b step s` "
            "(like 0.1..0.9 step 0.1, or 1e-4..1e-2 step 1e-4)"
        )
    try:
        low, high = Decimal(match["low"]), Decimal(match["high"])
        step_decimal = Decimal(match["step"]) if match["step"] else None
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        raise SpecProblem(f"{name}: cannot read range {text!r}") from None
    limit = Decimal(10) ** MAX_DIGITS
    tiny = 1 / limit
    if max(abs(low), abs(high)) >= limit or any(-v.as_tuple().exponent > MAX_DIGITS for v in (low, high)):  # type: ignore[operator]
        raise SpecProblem(
            f"{name}: range {text!r}: numbers are limited to {MAX_DIGITS} digits and {MAX_DIGITS} decimals"
        )
    if low > high:
        raise SpecProblem(f"{name}: empty range {text!r}: the low end is above the high end")
    written_whole = "." not in match["low"] + match["high"]
    if step_decimal is None and written_whole and low == low.to_integral() and high == high.to_integral():
        return IntRange(int(low), int(high))
    if step_decimal is None:
        places = max(-low.as_tuple().exponent, -high.as_tuple().exponent, 0)  # type: ignore[operator]
        step = Fraction(1, 10**places)
    else:
        step = Fraction(step_decimal)
    if step <= 0:
        raise SpecProblem(f"{name}: step must be above 0, found {match['step']}")
    if step < Fraction(tiny):
        raise SpecProblem(f"{name}: step {match['step']} is too fine: at most {MAX_DIGITS} decimals")
    count = int((Fraction(high) - Fraction(low)) / step) + 1
    if count > MAX_GRID:
        raise SpecProblem(f"{name}: {count:,} grid points; use a coarser step (at most {MAX_GRID:,})")
    return Grid(Fraction(low), step, count)


def _matrix(name: str, value: dict[str, Any]) -> Draw:
    unknown = set(value) - {"shape", "values"}
    if unknown:
        raise SpecProblem(f"{name}: unknown matrix keys {', '.join(sorted(unknown))}; expected shape and values")
    shape = value["shape"]
    if (
        not isinstance(shape, list)
        or len(shape) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_MATRIX_SIDE for n in shape)
    ):
        raise SpecProblem(f"{name}: shape must be [rows, cols], each 1..{MAX_MATRIX_SIDE}, found {shape!r}")
    if "values" not in value:
        raise SpecProblem(f"{name}: a random matrix needs `values`, like values: -2..5")
    return Matrix(shape[0], shape[1], parse_draw(f"{name}.values", value["values"], "number"))
