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
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ankismith.solver.values import format_number, to_tex

MAX_LENGTH = 500
MAX_NODES = 200
MAX_ARRAY = 10_000
MAX_INT_DIGITS = 100
MAX_EXPONENT = 1_000


class FormulaError(Exception):
    """A formula that is not allowed or cannot be evaluated, with a message for the user."""


def _sigmoid(x: Any) -> Any:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sqrt": np.sqrt,
    "exp": np.exp,
    "log": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sin": np.sin,
    "cos": np.cos,
    "tan": np.tan,
    "tanh": np.tanh,
    "sigmoid": _sigmoid,
    "relu": lambda x: np.maximum(x, 0),
    "abs": np.abs,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "min": lambda *a: np.min(a[0]) if len(a) == 1 else min(a),
    "max": lambda *a: np.max(a[0]) if len(a) == 1 else max(a),
    "sum": np.sum,
    "mean": np.mean,
    "transpose": np.transpose,
}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.MatMult: operator.matmul,
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


def parse(formula: Any, names: set[str]) -> ast.Expression:
    """Parse and vet a formula over `names`; raises FormulaError for anything not allowed."""
    if isinstance(formula, bool) or not isinstance(formula, str | int | float):
        raise FormulaError(f"expected a formula as text, found {formula!r}")
    text = str(formula)
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula is {len(text)} characters long; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"cannot read formula {text!r}: {exc.msg}") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
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
    """Evaluate a vetted formula; raises FormulaError on unsafe sizes or undefined results."""
    with np.errstate(all="raise"):
        try:
            return _eval(tree.body, values)
        except FormulaError:
            raise
        except (ArithmeticError, FloatingPointError, ValueError, TypeError) as exc:
            raise FormulaError(f"cannot evaluate: {exc}") from None


def _eval(node: ast.AST, values: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        if node.id in values:
            return values[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        raise FormulaError(f"no value for {node.id!r}: give it in `given:` or draw it in `params:`")
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, values), _eval(node.right, values)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        return _bounded(_BINARY[type(node.op)](left, right))
    if isinstance(node, ast.UnaryOp):
        return _UNARY[type(node.op)](_eval(node.operand, values))
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
        return np.array([_eval(e, values) for e in node.elts])
    if isinstance(node, ast.Call):
        args = [_eval(a, values) for a in node.args]
        return _bounded(FUNCTIONS[node.func.id](*args))  # type: ignore[attr-defined]
    raise FormulaError(f"{type(node).__name__} is not allowed")  # unreachable after parse()


def _check_power(base: Any, exponent: Any) -> None:
    if isinstance(exponent, np.ndarray):
        raise FormulaError("exponents must be single numbers")
    if abs(exponent) > MAX_EXPONENT:
        raise FormulaError(f"exponent {format_number(exponent)} is too large (limit {MAX_EXPONENT})")
    magnitude = np.max(np.abs(base)) if isinstance(base, np.ndarray) else abs(base)
    if magnitude > 1 and exponent * math.log10(magnitude) > 300:
        raise FormulaError("the power is too large to compute")


def _bounded(result: Any) -> Any:
    if isinstance(result, np.ndarray):
        if result.size > MAX_ARRAY:
            raise FormulaError(f"result has {result.size} entries; the limit is {MAX_ARRAY}")
        if np.issubdtype(result.dtype, np.floating) and not np.all(np.isfinite(result)):
            raise FormulaError("the result is not a finite number")
    elif isinstance(result, int) and abs(result) >= 10**MAX_INT_DIGITS:
        raise FormulaError(f"the result has more than {MAX_INT_DIGITS} digits")
    elif isinstance(result, float | np.floating) and not math.isfinite(result):
        raise FormulaError("the result is not a finite number")
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
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.MatMult: 2, ast.Mod: 2, ast.Div: 3, ast.FloorDiv: 3, ast.Pow: 4}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "\\cdot", ast.MatMult: "", ast.Mod: "\\bmod"}
_FUNCTION_TEX = {
    "exp": "\\exp",
    "log": "\\ln",
    "sin": "\\sin",
    "cos": "\\cos",
    "tan": "\\tan",
    "tanh": "\\tanh",
    "min": "\\min",
    "max": "\\max",
}


def name_tex(name: str) -> str:
    """TeX for a param name: greek letters as symbols, `x_t` subscripted, longer names upright."""
    head, _, sub = name.partition("_")
    if not sub and (digits := re.search(r"\d+$", head)) and digits.start() > 0:
        head, sub = head[: digits.start()], digits.group(0)
    base = f"\\{head}" if head in _GREEK else head if len(head) == 1 else f"\\mathrm{{{head}}}"
    return f"{base}_{{{sub}}}" if sub else base


def to_latex(tree: ast.Expression, values: Mapping[str, Any] | None = None) -> str:
    """The formula in TeX; with `values`, each param replaced by its value (substitution step)."""
    return _tex(tree.body, values, 0)


def _tex(node: ast.AST, values: Mapping[str, Any] | None, parent: int) -> str:
    if isinstance(node, ast.Constant):
        return format_number(node.value, tex=True)
    if isinstance(node, ast.Name):
        if values is not None and node.id in values:
            shown = to_tex(values[node.id])
            return f"\\left({shown}\\right)" if shown.startswith("-") and parent else shown
        return "\\pi" if node.id == "pi" else name_tex(node.id)
    if isinstance(node, ast.UnaryOp):
        inner = _tex(node.operand, values, 5)
        return {ast.USub: "-", ast.UAdd: "+", ast.Not: "\\lnot "}[type(node.op)] + inner
    if isinstance(node, ast.BinOp):
        op = type(node.op)
        level = _PRECEDENCE[op]
        if op in (ast.Div, ast.FloorDiv):
            fraction = f"\\frac{{{_tex(node.left, values, 0)}}}{{{_tex(node.right, values, 0)}}}"
            return fraction if op is ast.Div else f"\\left\\lfloor {fraction} \\right\\rfloor"
        if op is ast.Pow:
            return f"{{{_tex(node.left, values, 5)}}}^{{{_tex(node.right, values, 0)}}}"
        right_level = level + 1 if op in (ast.Sub, ast.Mod) else level
        text = f"{_tex(node.left, values, level)} {_SYMBOL[op]} {_tex(node.right, values, right_level)}"
        return f"\\left({text}\\right)" if level < parent else text
    if isinstance(node, ast.Call):
        name = node.func.id  # type: ignore[attr-defined]
        args = ", ".join(_tex(a, values, 0) for a in node.args)
        if name == "sqrt":
            return f"\\sqrt{{{args}}}"
        if name == "abs":
            return f"\\left|{args}\\right|"
        if name in ("floor", "ceil"):
            left, right = ("\\lfloor", "\\rfloor") if name == "floor" else ("\\lceil", "\\rceil")
            return f"\\left{left} {args} \\right{right}"
        command = _FUNCTION_TEX.get(name) or "\\operatorname{" + name + "}"
        return f"{command}\\left({args}\\right)"
    if isinstance(node, ast.Compare | ast.BoolOp | ast.IfExp | ast.List | ast.Tuple):
        return f"\\text{{{ast.unparse(node)}}}"
    return ast.unparse(node)
