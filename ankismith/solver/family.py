"""Typed params: what a family's parameter is (its kind, meaning, bounds, default draw), and how a value given
or drawn for it is checked and put in canonical form (whole numbers as ints, decimals as exact fractions)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver.values import LAYER_TYPES, as_array, exact, format_number, is_number

Params = Mapping[str, Any]
MISSING: Any = object()
MAX_MATRIX_SIDE = 12
MAX_LIST = 32
MAX_DIGITS = 100  # numbers are exact, with at most 100 digits before the point and 100 decimals


class InvalidParams(ValueError):
    """A draw or a given instance the family cannot use (degenerate, out of range, wrong type): raise it
    (as `kit.Invalid`) from `valid` or `solve` with the reason, in words a card author understands."""


@dataclass(frozen=True)
class Param:
    """One parameter of a family: its kind, what it means, its allowed range and its default."""

    name: str
    kind: str  # int | number | ints | vector | matrix | shape | layers | option | any
    doc: str = ""
    default: Any = MISSING
    low: float | None = None
    high: float | None = None
    options: tuple[str, ...] = ()
    draw: Any = None  # the family's default draw, in the `params:` syntax (None: not drawn unless a block says)

    @property
    def required(self) -> bool:
        """Whether a card must give this param (it has no default)."""
        return self.default is MISSING

    def describe(self) -> str:
        """One line for `ankismith problems`."""
        bounds = ""
        if self.options:
            bounds = " (" + " | ".join(self.options) + ")"
        elif self.low is not None or self.high is not None:
            low = "" if self.low is None else format_number(exact(self.low))
            high = "" if self.high is None else format_number(exact(self.high))
            bounds = f" in {low}..{high}"
        if self.required or self.default is None:
            default = ""
        else:
            default = f", default {format_number(self.default) if is_number(self.default) else self.default}"
        drawn = f", drawn from {self.draw}" if self.draw is not None else ""
        doc = f" - {self.doc}" if self.doc else ""
        kind = "one of" if self.options else self.kind
        return f"{self.name}: {kind}{bounds}{default}{drawn}{doc}"

    def coerce(self, value: Any) -> Any:
        """The value in canonical form (ints, Fractions, 2-D object arrays), or InvalidParams saying why."""
        value = _COERCE["option" if self.options else self.kind](self, value)
        self._check_bounds(value)
        return value

    def _check_bounds(self, value: Any) -> None:
        if self.low is None and self.high is None:
            return
        values = value if isinstance(value, list) else [value] if not isinstance(value, np.ndarray) else value.flat
        for v in values:
            if not is_number(v):
                continue
            if (self.low is not None and v < self.low) or (self.high is not None and v > self.high):
                low = "-inf" if self.low is None else format_number(exact(self.low))
                high = "inf" if self.high is None else format_number(exact(self.high))
                raise InvalidParams(f"{self.name} = {format_number(v)} is outside {low}..{high}")


def _is_whole(value: Any) -> bool:
    """A whole number, also when written as a decimal (`2.0`, `1e3`) or drawn by numpy."""
    if not is_number(value):
        return False
    value = exact(value)
    return isinstance(value, int)


def check_size(name: str, value: Any) -> Any:
    """An exact number within MAX_DIGITS digits, or InvalidParams saying why not."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidParams(f"{name} must be a finite number, found {format_number(value)}")
    value = exact(value)
    if value != 0 and abs(value) >= Fraction(10) ** MAX_DIGITS:
        raise InvalidParams(f"{name} = {format_number(value)} is too large: numbers are limited to {MAX_DIGITS} digits")
    if value.denominator > 10**MAX_DIGITS:
        raise InvalidParams(f"{name} = {format_number(value)} has too many decimals: the limit is {MAX_DIGITS}")
    return value


def _int(param: Param, value: Any) -> int:
    if not _is_whole(value):
        raise InvalidParams(f"{param.name} must be a whole number, found {_found(value)}")
    return check_size(param.name, value)


def _number(param: Param, value: Any) -> int | Fraction:
    if not is_number(value):
        raise InvalidParams(f"{param.name} must be a number, found {_found(value)}")
    return check_size(param.name, value)


def _found(value: Any) -> str:
    return format_number(value) if is_number(value) else repr(value)


def _list(param: Param, value: Any, item: Callable[[Param, Any], Any]) -> list[Any]:
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if not isinstance(value, list | tuple) or not value:
        raise InvalidParams(f"{param.name} must be a non-empty list, found {value!r}")
    if len(value) > MAX_LIST:
        raise InvalidParams(f"{param.name} has {len(value)} entries; the limit is {MAX_LIST}")
    return [item(param, v) for v in value]


def _matrix(param: Param, value: Any) -> np.ndarray:
    rows = value.tolist() if isinstance(value, np.ndarray) else value
    if (
        not isinstance(rows, list | tuple)
        or not rows
        or not all(isinstance(r, list | tuple) and r for r in rows)
        or len({len(r) for r in rows}) != 1
    ):
        raise InvalidParams(f"{param.name} must be a matrix: a list of equally long rows, like [[1, 2], [3, 4]]")
    if len(rows) > MAX_MATRIX_SIDE or len(rows[0]) > MAX_MATRIX_SIDE:
        raise InvalidParams(f"{param.name} is {len(rows)}x{len(rows[0])}; the limit is {MAX_MATRIX_SIDE} per side")
    return as_array([[_number(param, v) for v in row] for row in rows])


def _shape(param: Param, value: Any) -> list[int]:
    shape = _list(param, value, _int)
    if len(shape) != 3 or min(shape) < 1:
        raise InvalidParams(
            f"{param.name} must be [channels, height, width] of positive whole numbers, found {value!r}"
        )
    return shape


LAYER_KEYS = ("type", "out", "kernel", "stride", "padding")


def _layer(param: Param, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidParams(
            f"each of {param.name} must be a mapping like {{type: conv, out: 6, kernel: 5}}, found {value!r}"
        )
    unknown = sorted(set(value) - set(LAYER_KEYS))
    if unknown:
        raise InvalidParams(f"layer keys {', '.join(unknown)} unknown; expected {', '.join(LAYER_KEYS)}")
    kind = value.get("type")
    if kind not in LAYER_TYPES:
        raise InvalidParams(f"layer type must be {', '.join(LAYER_TYPES[:-1])} or {LAYER_TYPES[-1]}, found {kind!r}")

    def whole(key: str, default: Any, low: int) -> Any:
        number = value.get(key, default)
        if number is None or not _is_whole(number) or exact(number) < low:
            raise InvalidParams(f"{kind} layer needs `{key}` as a whole number >= {low}, found {_found(number)}")
        return check_size(f"{kind} layer `{key}`", number)

    if kind == "fc":
        return {"type": "fc", "out": whole("out", None, 1), "kernel": None, "stride": None, "padding": None}
    if kind == "conv":
        return {
            "type": "conv",
            "out": whole("out", None, 1),
            "kernel": whole("kernel", None, 1),
            "stride": whole("stride", 1, 1),
            "padding": whole("padding", 0, 0),
        }
    kernel = whole("kernel", 2, 1)
    return {
        "type": "pool",
        "out": None,
        "kernel": kernel,
        "stride": whole("stride", kernel, 1),
        "padding": whole("padding", 0, 0),
    }


def _coerce_option(param: Param, value: Any) -> str:
    if isinstance(value, bool) and {"true", "false"} <= set(param.options):
        value = "true" if value else "false"  # YAML reads `scaled: true` as a boolean
    if not isinstance(value, str) or value not in param.options:
        raise InvalidParams(f"{param.name} must be one of {', '.join(param.options)}, found {value!r}")
    return str(value)


def _any(param: Param, value: Any) -> Any:
    """An untyped param (a deck family's, without a kit type): numbers exact, lists of them as lists."""
    if is_number(value):
        return check_size(param.name, value)
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, list | tuple):
        return [_any(param, v) for v in value]
    if isinstance(value, str | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {k: _any(param, v) for k, v in value.items()}
    raise InvalidParams(f"{param.name} must be a number, a list or text, found {value!r}")


_COERCE: dict[str, Callable[[Param, Any], Any]] = {
    "any": _any,
    "option": _coerce_option,
    "int": _int,
    "number": _number,
    "ints": lambda p, v: _list(p, v, _int),
    "vector": lambda p, v: _list(p, v, _number),
    "matrix": _matrix,
    "shape": _shape,
    "layers": lambda p, v: _list(p, v, _layer),
}
