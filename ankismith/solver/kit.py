"""The kit a family may be written with: the built-in families use it, and so may a deck author.

Everything here is public and stable (docs/families.md). A family needs none of it — a module
with `solve(**params)` is a family — but with the kit:

- params are typed: `PARAMS = {"W": Int("input width", low=1, high=4096, draw="5..32")}` checks
  values given or drawn, and documents them for `ankismith problems`;
- numbers stay exact: params arrive as ints and `Fraction`s (0.1 is 1/10), matrices as numpy
  object arrays of them, and `div`, `sqrt`, `power`, `exp`, `log` keep them exact where the
  result is (sqrt(2.25) is 3/2), so answers and worked steps agree to the last digit;
- worked steps are data: a `Chain` of computed terms (`sym` the general formula, `sub` the values
  substituted, `RESULT` the value) that ankismith computes and checks, so that no `=` on a card
  can be false, rendered as TeX the way a course writes it;
- `Invalid("reason")` refuses values a family cannot take (raised from `valid` or `solve`).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ankismith.solver import safe_eval
from ankismith.solver.family import MISSING, InvalidParams, Param
from ankismith.solver.safe_eval import TexStyle
from ankismith.solver.steps import BREAK, EXAM, RESULT, Chain, Expr, Formula, Shown, Size
from ankismith.solver.values import as_array, exact, format_number, to_tex

__all__ = [
    "BREAK",
    "CDOT",
    "CHW",
    "EXAM",
    "MAX_ENTRY_LINES",
    "RESULT",
    "TIMES",
    "VDOTS",
    "Chain",
    "Expr",
    "Formula",
    "Int",
    "Ints",
    "Invalid",
    "Layers",
    "Matrix",
    "Number",
    "Option",
    "Shown",
    "Size",
    "TexStyle",
    "Vector",
    "as_array",
    "conv_out",
    "cos",
    "div",
    "entry_lines",
    "exact",
    "exp",
    "floor_if",
    "format_number",
    "log",
    "n",
    "power",
    "refuse",
    "sigmoid",
    "sqrt",
    "sub",
    "sym",
    "tanh",
    "to_tex",
]

Invalid = InvalidParams  # raise Invalid("padding as large as the filter ...") to refuse values

# --- typed params ------------------------------------------------------------------------------


def _typed(kind: str, doc: str, low: Any, high: Any, default: Any, draw: Any, options: tuple[str, ...] = ()) -> Param:
    return Param("", kind, doc, default=exact(default), low=low, high=high, options=options, draw=draw)


# Each typed param: what it means (`doc`), its bounds, its `default` (when `solve`'s signature has
# none: a family written `solve(**p)`) and its default `draw` in the `params:` syntax.


def Int(doc: str = "", low: Any = None, high: Any = None, default: Any = MISSING, draw: Any = None) -> Param:  # noqa: N802
    """A whole number (a decimal like 2.0 is taken as 2), within low..high."""
    return _typed("int", doc, low, high, default, draw)


def Number(doc: str = "", low: Any = None, high: Any = None, default: Any = MISSING, draw: Any = None) -> Param:  # noqa: N802
    """A number, exact as written (0.1 is 1/10), within low..high."""
    return _typed("number", doc, low, high, default, draw)


def Ints(doc: str = "", low: Any = None, high: Any = None, default: Any = MISSING, draw: Any = None) -> Param:  # noqa: N802
    """A list of whole numbers (layer sizes), each within low..high."""
    return _typed("ints", doc, low, high, default, draw)


def Vector(doc: str = "", low: Any = None, high: Any = None, default: Any = MISSING, draw: Any = None) -> Param:  # noqa: N802
    """A list of numbers (logits, a batch of one feature), each within low..high."""
    return _typed("vector", doc, low, high, default, draw)


def Matrix(doc: str = "", low: Any = None, high: Any = None, default: Any = MISSING, draw: Any = None) -> Param:  # noqa: N802
    """A matrix (rows of equal length, at most 12 per side), as a numpy object array of exact numbers."""
    return _typed("matrix", doc, low, high, default, draw)


def CHW(doc: str = "", default: Any = MISSING, draw: Any = None) -> Param:  # noqa: N802
    """An image shape [channels, height, width] of positive whole numbers."""
    return _typed("shape", doc, None, None, default, draw)


def Layers(doc: str = "", default: Any = MISSING, draw: Any = None) -> Param:  # noqa: N802
    """CNN layers in order: {type: conv|pool|fc, out, kernel, stride, padding}."""
    return _typed("layers", doc, None, None, default, draw)


def Option(*options: str, doc: str = "", default: Any = MISSING, draw: Any = None) -> Param:  # noqa: N802
    """One of some words (an activation's name, a pooling mode)."""
    return _typed("option", doc, None, None, default, draw, tuple(options))


def refuse(reason: str | None) -> bool:
    """For `valid`: raise Invalid(reason) when there is one, else True (the values are fine)."""
    if reason:
        raise InvalidParams(reason)
    return True


# --- numbers, exact where they can be ----------------------------------------------------------------


def _function(name: str) -> Any:
    return lambda *args: safe_eval.FUNCTIONS[name](*map(_exact_arg, args))


def _exact_arg(value: Any) -> Any:
    return value if hasattr(value, "shape") else exact(value)


def div(a: Any, b: Any) -> Any:
    """a / b: exact for exact numbers (a Fraction), a float where either is one."""
    return safe_eval.evaluate(safe_eval.parse("a / b", {"a", "b"}), {"a": a, "b": b})


def power(base: Any, exponent: Any) -> Any:
    """base ** exponent, exact while the digits stay few."""
    return safe_eval.evaluate(safe_eval.parse("b ** t", {"b", "t"}), {"b": base, "t": exponent})


sqrt = _function("sqrt")  # exact for squares of exact numbers: sqrt(2.25) is 3/2
exp = _function("exp")  # exp(0) is exactly 1
cos = _function("cos")  # cos(0) is exactly 1; a float elsewhere (as the safe evaluator computes it)
log = _function("log")  # natural log; log(1) is exactly 0
sigmoid = _function("sigmoid")  # exact at 0 (1/2), no overflow for large |x|
tanh = _function("tanh")


# --- writing worked steps ----------------------------------------------------------------------------

CDOT = replace(EXAM, times="\\cdot")  # the exam's convolution sums: 1 \cdot (-0.5) + 2 \cdot 1
TIMES = replace(EXAM, implicit=False)  # products of named quantities, written out: H^2 \times C
VDOTS = "\\;\\;\\vdots"
MAX_ENTRY_LINES = 12  # worked lines for entries of a matrix answer; the rest is the matrix itself


def sym(text: str, env: Any, style: Any = EXAM, **names: str) -> Expr:
    """The general formula: `text` written with its names (TeX of a name from `names`)."""
    return Expr(text, env, symbolic=True, style=replace(style, names=names))


def sub(text: str, env: Any, style: Any = EXAM, written: bool = False) -> Expr:
    """`text` with its names replaced by their values (`written`: shown as the question shows them)."""
    return Expr(text, env, style=style, written=frozenset(env) if written else frozenset())


def n(value: Any) -> str:
    """A number in TeX, for labels such as O(1, 2) or \\sigma'(0.5)."""
    return format_number(value, tex=True)


def entry_lines(rows: int, cols: int, line: Callable[[int, int], Chain]) -> list[Chain]:
    """The worked line of each entry (i, j) of a rows x cols answer, row by row: the first
    MAX_ENTRY_LINES of them, then ⋮ (the matrix itself is shown after them)."""
    chains = []
    for index, (i, j) in enumerate(itertools.product(range(rows), range(cols))):
        if index == MAX_ENTRY_LINES:
            chains.append(Chain("", (Formula(VDOTS),), rel=""))
            break
        chains.append(line(i, j))
    return chains


def floor_if(text: str, divides: bool) -> str:
    """`text` (a quotient) under a floor where the division does not come out even."""
    return text if divides else f"floor({text})"


def conv_out(w: int, f: int, p: int = 0, s: int = 1, d: int = 1) -> int:
    """PyTorch's Conv2d (and pooling) output size: floor((W + 2P - D(F-1) - 1) / S) + 1."""
    return (w + 2 * p - d * (f - 1) - 1) // s + 1
