"""The kit a family is written with: the built-in families use it, and deck authors may.

Worked steps are data (`Chain`s of computed `Expr`s), written with the helpers below; numbers
come out as a person writes them (`n`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ankismith.solver.family import Params
from ankismith.solver.steps import EXAM, Expr
from ankismith.solver.values import format_number

CDOT = replace(EXAM, times="\\cdot")  # the exam's convolution sums: 1 \cdot (-0.5) + 2 \cdot 1
TIMES = replace(EXAM, implicit=False)  # products of named quantities, written out: H^2 \times C
VDOTS = "\\;\\;\\vdots"
MAX_ENTRY_LINES = 12  # worked lines for entries of a matrix answer; the rest is the matrix itself


def sym(text: str, env: Params, style: Any = EXAM, **names: str) -> Expr:
    """The general formula: `text` written with its names (TeX of a name from `names`)."""
    return Expr(text, env, symbolic=True, style=replace(style, names=names))


def sub(text: str, env: Params, style: Any = EXAM, written: bool = False) -> Expr:
    """`text` with its names replaced by their values (`written`: shown as the question shows them)."""
    return Expr(text, env, style=style, written=frozenset(env) if written else frozenset())


def n(value: Any) -> str:
    """A number in TeX, for labels such as O(1, 2) or \\sigma'(0.5)."""
    return format_number(value, tex=True)


def floor_if(text: str, divides: bool) -> str:
    """`text` (a quotient) under a floor where the division does not come out even."""
    return text if divides else f"floor({text})"


def conv_out(w: int, f: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    """PyTorch's Conv2d (and pooling) output size: floor((W + 2P - D(F-1) - 1) / S) + 1."""
    return (w + 2 * p - d * (f - 1) - 1) // s + 1
