"""A safe evaluator for `answer:` and `where:` formulas: arithmetic and math over the params only.

The formula is parsed with `ast` and walked node by node; anything not on the allow-list (names
other than params and constants, attributes, subscripts, lambdas, comprehensions, calls to
anything but the functions below) is refused before evaluation starts. Exponents, integer sizes
and array sizes are bounded, so `9**9**9` is an error, not a hang.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver.values import exact, format_number, normalize, to_tex

MAX_LENGTH = 500
MAX_NODES = 200
MAX_ARRAY = 10_000
MAX_INT_DIGITS = 100
MAX_INT_BITS = math.ceil(MAX_INT_DIGITS * math.log2(10))
MAX_FRACTION_BITS = 4_000  # a fraction beyond ~1200 digits goes on as a float
MAX_EXPONENT = 10_000
MAX_POWER_BITS = 20_000  # an exact power beyond this size is computed in floats
SHORT_FLOAT_DIGITS = 12  # a function's float result with at most this many digits is that decimal


class FormulaError(Exception):
    """A formula that is not allowed or cannot be evaluated, with a message for the user."""


class OverBudget(Exception):
    """A card's formulas take longer than their budget (not a FormulaError: nothing may catch it as a
    bad draw or a bad step; it ends the card, at its block's line)."""


class MissingValue(FormulaError):
    """A name of the formula that has no value: the values given are incomplete, the formula is fine."""


def exact_float(value: float) -> Any:
    """A function's float result as the short decimal it prints as, when it is one (sqrt(2.25) is 3/2),
    so that it does not turn exact arithmetic after it into floats. Values near the ends of the
    float range (an underflow to 0, say) stay floats: they are not what they print as."""
    if math.isfinite(value) and 1e-300 < abs(value) < 1e300:
        digits = repr(value).split("e")[0].replace("-", "").replace(".", "").strip("0")
        if len(digits) <= SHORT_FLOAT_DIGITS:
            return exact(value)
    return value


def _real(fn: Callable[[float], float], exact_at: tuple[Any, Any] | None = None) -> Callable[[Any], Any]:
    """`fn` computed in floats, except at the one point where its value is exact (exp(0) is 1)."""

    def apply(x: Any) -> Any:
        if exact_at is not None and x == exact_at[0]:
            return exact_at[1]
        return exact_float(fn(float(x)))

    return apply


_SPECIAL = (0, Fraction(1, 2), 1)  # |sin| and |cos| at whole multiples of pi/6, where they are rational


def _trig(fn: Callable[[float], float]) -> Callable[[Any], Any]:
    """sin or cos in floats, exact where the angle is a whole multiple of pi/6 and the value rational:
    cos(pi * 5 / 10) is 0, not 6.1e-17, and cos(pi / 3) is 1/2 (a float angle near k·pi/6 is taken as it)."""

    def apply(x: Any) -> Any:
        if x == 0:
            return 1 if fn(0.0) else 0  # cos(0) is 1, sin(0) is 0, exactly
        value = fn(float(x))
        sixths = float(x) / (math.pi / 6)
        if abs(sixths - round(sixths)) <= 1e-9 * max(1.0, abs(sixths)):
            for special in _SPECIAL:
                if abs(abs(value) - special) <= 1e-9:
                    return special if value >= 0 or special == 0 else -special
        return exact_float(value)

    return apply


def _sqrt(x: Any) -> Any:
    if isinstance(x, int | Fraction) and x >= 0:
        x = Fraction(x)
        num, den = math.isqrt(x.numerator), math.isqrt(x.denominator)
        if num * num == x.numerator and den * den == x.denominator:
            return Fraction(num, den)
    return exact_float(math.sqrt(x))


def sigmoid(x: Any) -> Any:
    """The logistic function, exact at 0 (1/2), without overflow for large |x|."""
    if x == 0:
        return Fraction(1, 2)
    x = float(x)
    if x >= 0:
        return exact_float(1.0 / (1.0 + math.exp(-x)))
    z = math.exp(x)
    return exact_float(z / (1.0 + z))


def tanh(x: Any) -> Any:
    """tanh, exact at 0."""
    return 0 if x == 0 else exact_float(math.tanh(float(x)))


def _lift(fn: Callable[..., Any], arity: int = 1) -> Callable[..., Any]:
    """`fn` on numbers, applied entry by entry to arrays (object arrays: exact entries stay exact)."""
    ufunc = np.frompyfunc(fn, arity, 1)

    def apply(*args: Any) -> Any:
        if any(isinstance(a, np.ndarray) for a in args):
            return ufunc(*args)
        return fn(*args)

    return apply


def _div(a: Any, b: Any) -> Any:
    if isinstance(a, float) or isinstance(b, float):
        return 0 if a == 0 and not isinstance(a, float) and b != 0 else a / b  # 0 / x is exactly 0
    return Fraction(a) / b


def _mul(a: Any, b: Any) -> Any:
    if (a == 0 and not isinstance(a, float)) or (b == 0 and not isinstance(b, float)):
        return 0  # an exact 0 times any (finite) number is exactly 0, not 0.0
    return a * b


def _pow(a: Any, b: Any) -> Any:
    if isinstance(b, int | Fraction) and Fraction(b).denominator == 1 and isinstance(a, int | Fraction):
        base = Fraction(a)
        if abs(int(b)) * max(base.numerator.bit_length(), base.denominator.bit_length()) <= MAX_POWER_BITS:
            return base ** int(b)
        return float(base) ** int(b)  # 0.99999 ** 10000: a float, shown rounded
    result = float(a) ** float(b)
    if isinstance(result, complex):
        raise FormulaError(
            f"{format_number(a)} ** {format_number(b)} is not a real number (a negative base needs a whole exponent)"
        )
    return exact_float(result)


def _reduce(fn: Callable[[list[Any]], Any], name: str) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        if len(args) == 1:
            values = list(args[0].flat) if isinstance(args[0], np.ndarray) else [args[0]]
        elif name in ("min", "max"):
            values = list(args)
        else:
            raise FormulaError(f"{name}() takes one argument (a list or a matrix)")
        if not values:
            raise FormulaError(f"{name}() of nothing")
        return fn(values)

    return apply


MAX_ROUND_DIGITS = 100  # round(x, n): n within ±100 (numbers have at most 100 decimals)
MAX_EXACT_PRODUCT_BITS = 128  # a matrix product of entries longer than this is computed in floats
CARD_BUDGET_SECONDS = 5.0  # a card's formulas, all its instances together, computed within this
_DEADLINE: ContextVar[float | None] = ContextVar("ankismith_formula_deadline", default=None)


def _round(value: Any, digits: Any = 0) -> Any:
    """round(x) or round(x, n), with n a whole number from -100 to 100 (a bigger n takes forever)."""
    if isinstance(digits, np.ndarray) or not isinstance(digits, int) or isinstance(digits, bool):
        raise FormulaError("round(x, n) needs n as a whole number")
    if abs(digits) > MAX_ROUND_DIGITS:
        raise FormulaError(f"round(x, {digits}): n must be from -{MAX_ROUND_DIGITS} to {MAX_ROUND_DIGITS}")
    return _lift(lambda x: round(x, digits), 1)(value)


def _matmul(a: Any, b: Any) -> Any:
    """a @ b, exactly while the entries stay short; in floats once they grow long (a chain of
    products of fractions doubles their length each time)."""
    if not isinstance(a, np.ndarray) or not isinstance(b, np.ndarray):
        raise FormulaError("@ multiplies matrices (or vectors): both sides must be lists of numbers")
    entries = (*a.flat, *b.flat)
    if any(isinstance(v, float) for v in entries) or max(map(_bits, entries), default=0) > MAX_EXACT_PRODUCT_BITS:
        a, b = a.astype(float), b.astype(float)  # floats times fractions is the slowest of both
    return operator.matmul(a, b)


def _bits(value: Any) -> int:
    if isinstance(value, Fraction):
        return max(value.numerator.bit_length(), value.denominator.bit_length())
    return value.bit_length() if isinstance(value, int) else 0


@contextmanager
def budget(seconds: float | None = None) -> Iterator[None]:
    """Every formula evaluated inside (one card's, all its instances) must be done within `seconds`
    (default CARD_BUDGET_SECONDS)."""
    token = _DEADLINE.set(time.monotonic() + (CARD_BUDGET_SECONDS if seconds is None else seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def _mean(values: list[Any]) -> Any:
    total = sum(values)
    return total / len(values) if isinstance(total, float) else Fraction(total) / len(values)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": _lift(_sqrt),
    "exp": _lift(_real(math.exp, (0, 1))),
    "log": _lift(_real(math.log, (1, 0))),
    "log2": _lift(_real(math.log2, (1, 0))),
    "log10": _lift(_real(math.log10, (1, 0))),
    "sin": _lift(_trig(math.sin)),
    "cos": _lift(_trig(math.cos)),
    "tan": _lift(_real(math.tan, (0, 0))),
    "tanh": _lift(tanh),
    "sigmoid": _lift(sigmoid),
    "relu": _lift(lambda x: x if x > 0 else 0),
    "abs": _lift(abs),
    "floor": _lift(math.floor),
    "ceil": _lift(math.ceil),
    "round": _round,
    "min": _reduce(min, "min"),
    "max": _reduce(max, "max"),
    "sum": _reduce(lambda v: sum(v[1:], v[0]), "sum"),
    "mean": _reduce(_mean, "mean"),
    "transpose": np.transpose,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: _lift(_mul, 2),
    ast.Div: _lift(_div, 2),
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: _lift(_pow, 2),
    ast.MatMult: lambda a, b: _matmul(a, b),
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
    ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_ALLOWED = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.List,
    ast.Tuple,
    ast.And,
    ast.Or,
    *_BINARY,
    *_UNARY,
    *_COMPARE,
)


def parse(formula: Any, names: set[str], limits: bool = True) -> ast.Expression:
    """Parse and vet a formula over `names`; raises FormulaError for anything not allowed.

    `limits=False` lifts the length and size limits (a worked step's long sum, never an author's formula)."""
    if isinstance(formula, bool) or not isinstance(formula, str | int | float):
        raise FormulaError(f"expected a formula as text, found {formula!r}")
    text = str(formula)
    if limits and len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot read formula {text!r}: {exc.msg}") from None
    nodes = list(ast.walk(tree))
    if limits and len(nodes) > MAX_NODES:
        raise FormulaError(f"formula has {len(nodes)} parts; the limit is {MAX_NODES}")
    for node in nodes:
        _vet(node, names)
    return tree


def _vet(node: ast.AST, names: set[str]) -> None:
    if isinstance(node, ast.Attribute):
        raise FormulaError(f"attribute access (.{node.attr}) is not allowed in formulas")
    if isinstance(node, ast.Subscript):
        raise FormulaError("indexing with [...] is not allowed in formulas")
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            shown = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise FormulaError(f"call of {shown!r} is not allowed; functions: {', '.join(sorted(FUNCTIONS))}")
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise FormulaError(f"{node.func.id}() takes plain arguments only")
        return
    if isinstance(node, ast.Name):
        if node.id not in names and node.id not in CONSTANTS and node.id not in FUNCTIONS:
            known = ", ".join(sorted(names)) or "none"
            raise FormulaError(f"unknown name {node.id!r} in formula; params: {known}; constants: pi, e")
        return
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise FormulaError(f"only numbers may appear in formulas, found {node.value!r}")
        return
    if not isinstance(node, _ALLOWED):
        raise FormulaError(f"{type(node).__name__} is not allowed in formulas (arithmetic and math functions only)")


def evaluate(tree: ast.Expression, values: Mapping[str, Any]) -> Any:
    """Evaluate a vetted formula, exactly where it can; raises FormulaError on unsafe sizes or undefined results.

    Whole numbers stay Python ints, decimals (in the formula and in `values`) are computed as exact
    fractions, and only irrational functions (sqrt of a non-square, exp, log, ...) give floats.
    """
    with np.errstate(all="raise"):
        try:
            return _eval(tree.body, values)
        except FormulaError:
            raise
        except ZeroDivisionError:
            raise FormulaError("cannot evaluate: division by zero") from None
        except OverflowError:
            raise FormulaError("cannot evaluate: overflow (a value is too large to compute)") from None
        except (ArithmeticError, FloatingPointError, ValueError, TypeError, RecursionError) as exc:
            raise FormulaError(f"cannot evaluate: {exc}") from None


def _eval(node: ast.AST, values: Mapping[str, Any]) -> Any:
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise OverBudget(
            f"the formulas of this card take longer than {CARD_BUDGET_SECONDS:g} s to compute; simplify them"
        )
    if isinstance(node, ast.Constant):
        return exact(node.value)
    if isinstance(node, ast.Name):
        if node.id in values:
            return _bounded(values[node.id])
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise MissingValue(f"no value for {node.id!r}: give it in `given:` or draw it in `params:`")
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _bounded(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp):
        return _bounded(_UNARY[type(node.op)](_eval(node.operand, values)))
    if isinstance(node, ast.BoolOp):
        results = (_eval(v, values) for v in node.values)
        return all(results) if isinstance(node.op, ast.And) else any(results)
    if isinstance(node, ast.Compare):
        left = _eval(node.left, values)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = _eval(comparator, values)
            if not bool(np.all(_COMPARE[type(op)](left, right))):
                return False
            left = right
        return True
    if isinstance(node, ast.IfExp):
        return _eval(node.body, values) if bool(_eval(node.test, values)) else _eval(node.orelse, values)
    if isinstance(node, ast.List | ast.Tuple):
        return _bounded(_array([_eval(e, values) for e in node.elts]))
    if isinstance(node, ast.Call):
        args = [_eval(a, values) for a in node.args]
        return _bounded(FUNCTIONS[node.func.id](*args))  # type: ignore[attr-defined]
    raise FormulaError(f"{type(node).__name__} is not allowed")  # unreachable after parse()


def _array(items: list[Any]) -> np.ndarray:
    """A list literal: numbers make a vector, equally long vectors make a matrix."""
    if all(not isinstance(i, np.ndarray) for i in items):
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array
    if all(isinstance(i, np.ndarray) and i.ndim == 1 for i in items) and len({i.shape for i in items}) == 1:
        return np.array([list(i) for i in items], dtype=object).reshape(len(items), -1)
    raise FormulaError("a list must hold numbers, or rows of numbers all of the same length")


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(exponent, np.ndarray):
        raise FormulaError("exponents must be single numbers")
    if abs(exponent) > MAX_EXPONENT:
        raise FormulaError(f"exponent {format_number(exponent)} is too large (limit {MAX_EXPONENT})")
    magnitude = max((abs(v) for v in base.flat), default=0) if isinstance(base, np.ndarray) else abs(base)
    if magnitude > 1 and abs(exponent) * math.log10(magnitude) > MAX_INT_DIGITS * 3:
        raise FormulaError("the power is too large to compute")


def _bounded(result: Any) -> Any:
    """The result in canonical form, refused when too large; exact values too long to handle become floats."""
    if isinstance(result, np.ndarray):
        if result.size > MAX_ARRAY:
            raise FormulaError(f"result has {result.size} entries; the limit is {MAX_ARRAY}")
        if result.ndim == 0:
            return _bounded(result.item())
        if result.dtype != object:
            result = result.astype(object)
        out = np.empty(result.shape, dtype=object)
        for index, value in np.ndenumerate(result):
            out[index] = _bounded(value)
        return out
    result = normalize(result)
    if isinstance(result, bool):
        return result
    if isinstance(result, complex):
        raise FormulaError("the result is not a real number")
    if isinstance(result, int):
        if result.bit_length() > MAX_INT_BITS:
            raise FormulaError(f"the result has more than {MAX_INT_DIGITS} digits")
    elif isinstance(result, Fraction):
        if max(result.numerator.bit_length(), result.denominator.bit_length()) > MAX_FRACTION_BITS:
            as_float = float(result)  # an OverflowError here is "too large to compute"
            if as_float == 0:
                raise FormulaError("the result is too small to compute (it rounds to 0)")
            return as_float
        if abs(result) >= 10**MAX_INT_DIGITS:
            raise FormulaError(f"the result has more than {MAX_INT_DIGITS} digits")
    elif isinstance(result, float) and not math.isfinite(result):
        raise FormulaError("the result is not a finite number")
    elif not isinstance(result, float):
        raise FormulaError(f"expected a number, found {result!r}")
    return result


# --- TeX of a formula, for worked solutions -------------------------------------------------

_GREEK = {
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "eta",
    "theta",
    "lambda",
    "mu",
    "sigma",
    "tau",
    "phi",
    "omega",
}
_FUNCTION_TEX = {
    "exp": "\\exp",
    "log": "\\ln",
    "sin": "\\sin",
    "cos": "\\cos",
    "tan": "\\tan",
    "tanh": "\\tanh",
    "min": "\\min",
    "max": "\\max",
    "sigmoid": "\\sigma",
}


def name_tex(name: str) -> str:
    """TeX for a param name: greek letters as symbols, `x_t` subscripted, longer names upright."""
    head, _, sub = name.partition("_")
    if not sub and (digits := re.search(r"\d+$", head)) and digits.start() > 0:
        head, sub = head[: digits.start()], digits.group(0)
    base = f"\\{head}" if head in _GREEK else head if len(head) == 1 else f"\\mathrm{{{head}}}"
    return f"{base}_{{{sub}}}" if sub else base


@dataclass(frozen=True)
class TexStyle:
    """How a formula is written: the multiplication sign, juxtaposition, e^x, the TeX of names."""

    times: str = "\\cdot"
    implicit: bool = False  # symbols multiply by juxtaposition (2P, S(W - 1)), as in textbooks
    exp_power: bool = False  # exp(x) as e^{x}
    names: Mapping[str, str] = field(default_factory=dict)  # TeX of names shown as symbols


Show = Callable[[str, Any], str]


def to_latex(
    tree: ast.Expression,
    values: Mapping[str, Any] | None = None,
    style: TexStyle | None = None,
    show: Show | None = None,
) -> str:
    """The formula in TeX; with `values`, each name replaced by its value (the substitution step).

    `show(name, value)` writes a substituted value (default: as the card shows params)."""
    writer = _TexWriter(values, style or TexStyle(), show or (lambda _name, value: to_tex(value)))
    return writer.tex(tree.body)[0]


# what a piece of TeX is, for parentheses: a sum, a leading minus, a product, a fraction, a power,
# something atomic, or a relation
_SUM, _NEG, _PROD, _FRAC, _POW, _ATOM, _REL = "sum", "neg", "prod", "frac", "pow", "atom", "rel"
_COMPARE_TEX = {ast.Lt: "<", ast.LtE: "\\le", ast.Gt: ">", ast.GtE: "\\ge", ast.Eq: "=", ast.NotEq: "\\ne"}


def _paren(text: str) -> str:
    return f"\\left({text}\\right)"


def _kind_of_number(text: str) -> str:
    if text.startswith("-"):
        return _NEG
    if "\\times" in text:
        return _PROD
    return _ATOM


@dataclass(frozen=True)
class _TexWriter:
    values: Mapping[str, Any] | None
    style: TexStyle
    show: Show

    def tex(self, node: ast.AST) -> tuple[str, str]:
        """(TeX, kind) of a node."""
        if isinstance(node, ast.Constant):
            text = format_number(exact(node.value), tex=True)
            return text, _kind_of_number(text)
        if isinstance(node, ast.Name):
            if self.values is not None and node.id in self.values:
                text = self.show(node.id, self.values[node.id])
                return text, (_ATOM if "bmatrix" in text else _kind_of_number(text))
            if node.id in self.style.names:
                return self.style.names[node.id], _ATOM
            return ("\\pi" if node.id == "pi" else name_tex(node.id)), _ATOM
        if isinstance(node, ast.UnaryOp):
            inner, kind = self.tex(node.operand)
            if isinstance(node.op, ast.Not):
                return "\\lnot " + (_paren(inner) if kind == _REL else inner), _REL
            sign = "-" if isinstance(node.op, ast.USub) else "+"
            return sign + (_paren(inner) if kind in (_SUM, _NEG, _REL) else inner), _NEG
        if isinstance(node, ast.BinOp):
            return self._binary(node)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Compare):
            parts = [self._operand(node.left)]
            for op, right in zip(node.ops, node.comparators, strict=True):
                parts += [_COMPARE_TEX[type(op)], self._operand(right)]
            return " ".join(parts), _REL
        if isinstance(node, ast.BoolOp):
            joiner = " \\text{ and } " if isinstance(node.op, ast.And) else " \\text{ or } "
            return joiner.join(self._operand(v) for v in node.values), _REL
        if isinstance(node, ast.IfExp):
            body, test, orelse = self.tex(node.body)[0], self.tex(node.test)[0], self.tex(node.orelse)[0]
            return f"\\begin{{cases}} {body} & {test} \\\\ {orelse} & \\text{{otherwise}} \\end{{cases}}", _ATOM
        if isinstance(node, ast.List | ast.Tuple):
            if node.elts and all(isinstance(e, ast.List | ast.Tuple) for e in node.elts):
                rows = [" & ".join(self.tex(c)[0] for c in row.elts) for row in node.elts]  # type: ignore[attr-defined]
                return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}", _ATOM
            return "\\left[" + ", ".join(self.tex(e)[0] for e in node.elts) + "\\right]", _ATOM
        return f"\\text{{{ast.unparse(node)}}}", _ATOM

    def _operand(self, node: ast.AST) -> str:
        text, kind = self.tex(node)
        return _paren(text) if kind == _REL else text

    def _binary(self, node: ast.BinOp) -> tuple[str, str]:
        op = type(node.op)
        (left, lkind), (right, rkind) = self.tex(node.left), self.tex(node.right)
        if op is ast.Div:
            return f"\\frac{{{left}}}{{{right}}}", _FRAC
        if op is ast.FloorDiv:
            return f"\\left\\lfloor \\frac{{{left}}}{{{right}}} \\right\\rfloor", _ATOM
        if op is ast.Pow:
            base = left if lkind == _ATOM else _paren(left)
            if base.startswith("\\left(") and base.endswith("\\right)"):
                return f"{base}^{{{right}}}", _POW  # a bracket is a group already (and "{{" is a field to Anki)
            return f"{{{base}}}^{{{right}}}", _POW
        if op in (ast.Add, ast.Sub):
            left = _paren(left) if lkind == _REL else left
            # a sum on the right was grouped by the author (a - (b + c)); a negative one needs them
            right = _paren(right) if rkind in (_SUM, _NEG, _REL) else right
            return f"{left} {'+' if op is ast.Add else '-'} {right}", _SUM
        left = _paren(left) if lkind in (_SUM, _NEG, _REL) else left
        right = _paren(right) if rkind in (_SUM, _NEG, _REL, _PROD) else right
        if op is ast.MatMult:
            return f"{left} {right}", _PROD
        if op is ast.Mod:
            return f"{left} \\bmod {right}", _PROD
        if self._juxtapose(node.right, right, left, lkind):
            joiner = "\\," if left.endswith("}") and "\\mathrm" in left and right.startswith("\\mathrm") else " "
            return f"{left}{joiner}{right}", _PROD
        return f"{left} {self.style.times} {right}", _PROD

    def _juxtapose(self, node: ast.AST, right: str, left: str, lkind: str) -> bool:
        """2P, S(W - 1), \\eta \\frac{m}{v}: a symbol or a bracket after a factor, in a formula shown with symbols."""
        if not self.style.implicit or self.values is not None or lkind == _FRAC:
            return False
        if isinstance(node, ast.Constant) or (right.startswith("\\frac") and left[-1:].isdigit()):
            return False
        return right.startswith("\\left(") or isinstance(node, ast.Name | ast.Call | ast.BinOp)

    def _call(self, node: ast.Call) -> tuple[str, str]:
        name = node.func.id  # type: ignore[attr-defined]
        args = ", ".join(self.tex(a)[0] for a in node.args)
        if name == "sqrt":
            return f"\\sqrt{{{args}}}", _ATOM
        if name == "abs":
            return f"\\left|{args}\\right|", _ATOM
        if name in ("floor", "ceil"):
            left, right = ("\\lfloor", "\\rfloor") if name == "floor" else ("\\lceil", "\\rceil")
            return f"\\left{left} {args} \\right{right}", _ATOM
        if name == "exp" and self.style.exp_power:
            return f"e^{{{args}}}", _POW
        command = _FUNCTION_TEX.get(name) or "\\operatorname{" + name + "}"
        return f"{command}\\left({args}\\right)", _ATOM
