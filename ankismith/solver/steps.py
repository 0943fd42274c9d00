"""Worked solutions as data: chains of expressions that the safe evaluator computes, rendered to TeX.

A family writes its solution as `Chain`s, each a left side and terms joined by `=`:

    W_out = (W - F + 2P)/S + 1          Expr(formula, params, symbolic=True)
          = (7 - 3 + 2 × 2)/2 + 1       Expr(formula, params): the same formula, values substituted
          = 8/2 + 1                     Expr("inner / S + 1", {...})
          = 5                           RESULT: the value above, as the card shows it

Every term is computed, so the relation between two terms is written from their values (`=` when
they are equal, `\\approx` where a value is rounded), and `verify` checks every relation again: a
family cannot print `\\frac{5}{2} + 1 = 2`. A `Formula` is the one thing not computed: a family's
general formula as text (a sum over layers, a definition), declared in `Family.formulas`.
"""

from __future__ import annotations

import ast
import itertools
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver import safe_eval
from ankismith.solver.safe_eval import TexStyle
from ankismith.solver.values import (
    ROUND_DIGITS,
    format_number,
    is_number,
    round_to,
    shown_parts,
    shown_value,
    to_tex,
)

EXAM = TexStyle(times="\\times", implicit=True, exp_power=True)
MAX_DIGITS = 17  # an intermediate is shown with 4 significant digits, more where the next line needs them
CLOSE = 1e-12  # floats from the same exact inputs agree to this relative error


@dataclass(frozen=True)
class Expr:
    """A computed term: a formula in the safe evaluator's language and the values of its names.

    `symbolic`: written with the names (the general formula), else with their values (a substitution).
    `written`: names shown exactly as written even if long (entries of a param); params always are."""

    text: str
    env: Mapping[str, Any] = field(default_factory=dict)
    symbolic: bool = False
    style: TexStyle = EXAM
    written: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Size:
    """A size `a × b` whose parts are computed (the output size of a convolution)."""

    parts: tuple[Expr, ...]


@dataclass(frozen=True)
class Shown:
    """A value written out as it is (a matrix answer); its entries are checked by `Chain.entry` lines."""

    value: Any


@dataclass(frozen=True)
class Formula:
    """A family's general formula, as TeX: must be one of `Family.formulas` (the only unchecked text)."""

    tex: str


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


RESULT: Any = _Marker("RESULT")  # the value of the term before, as the card shows it
BREAK: Any = _Marker("BREAK")  # go on on a new row (`&= ...`)

Term = Expr | Size | Shown | Formula | _Marker


@dataclass(frozen=True)
class Chain:
    """One equation of a worked solution: `lhs = term = term ...`, over one or more rows.

    `lhs` is a label (TeX) or a computed term; `rel` joins a label to the first term (`=`, or `:`
    for a label like `conv1:`). `name` is the env name later chains give this chain's value (they
    show it with as many digits as this chain's result). `entry` marks the line that computes entry
    (i, j) of a matrix answer. `note` is TeX shown after the first row (`\\quad` ...), never a claim."""

    lhs: str | Expr
    terms: tuple[Term, ...]
    rel: str = "="
    note: str = ""
    name: str | None = None
    entry: tuple[int, int] | None = None
    part: str | None = None  # in a family of several parts: the part this chain ends with


@dataclass(frozen=True)
class Piece:
    """A rendered term: its TeX, its value as shown, and whether a rounded value went into it."""

    tex: str
    value: Any
    rounded: bool
    term: Any


@dataclass(frozen=True)
class Worked:
    """A chain worked out: the TeX rows and the pieces, with the relation written before each piece."""

    chain: Chain
    rows: tuple[str, ...]
    pieces: tuple[Piece, ...]
    relations: tuple[str, ...]  # relations[k] is written between pieces[k] and pieces[k + 1]


_CLAIM = re.compile(r"(=|\\approx)\s*[-+(]*\s*[0-9]")  # "= 5", "\approx -0.3": a note states no value


class StepError(Exception):
    """A worked solution that does not compute (a bug in a family, never the user's input)."""


# --- rendering ---------------------------------------------------------------------------------


def work_out(chains: Sequence[Chain], params: Mapping[str, Any]) -> list[Worked]:
    """Compute every term of every chain and write it as TeX rows of an aligned block."""
    digits = _digits_needed(chains, params)
    return [_work_chain(chain, params, digits) for chain in chains]


def tex_lines(rendered: Sequence[Worked]) -> tuple[str, ...]:
    """The TeX rows of a worked solution, in order."""
    return tuple(row for r in rendered for row in r.rows)


def _digits_needed(chains: Sequence[Chain], params: Mapping[str, Any]) -> dict[str, int]:
    """For each intermediate name, the significant digits that keep every line using it true."""
    needed: dict[str, int] = {}
    for chain in chains:
        for term in (chain.lhs, *chain.terms):
            if isinstance(term, Expr) and not term.symbolic:
                for name, count in _fit(term, params, needed).items():
                    needed[name] = max(needed.get(name, 0), count)
            elif isinstance(term, Size):
                for part in term.parts:
                    for name, count in _fit(part, params, needed).items():
                        needed[name] = max(needed.get(name, 0), count)
    return needed


def _rounded_names(expr: Expr, params: Mapping[str, Any]) -> list[str]:
    """The intermediates of `expr` that are shown rounded (floats, and exact values with long decimals)."""
    used = {node.id for node in ast.walk(_parse(expr)) if isinstance(node, ast.Name)}
    return [
        name
        for name, value in expr.env.items()
        if name in used
        and name not in params
        and name not in expr.written
        and is_number(value)
        and not shown_parts(value, True)[1]
    ]


def _parse(expr: Expr) -> ast.Expression:
    try:
        return safe_eval.parse(expr.text, set(expr.env), limits=False)
    except safe_eval.FormulaError as exc:
        raise StepError(f"cannot read {expr.text!r}: {exc}") from None


def _fit(expr: Expr, params: Mapping[str, Any], floor: Mapping[str, int]) -> dict[str, int]:
    """The fewest digits (from 4) for the rounded names of `expr` so that it rounds like the exact value."""
    names = _rounded_names(expr, params)
    if not names:
        return {}
    precise = _evaluate(expr, expr.env)
    exact_target = not _is_inexact(precise) and _exact_shown(precise)
    for count in range(4, MAX_DIGITS + 1):
        env = {**expr.env, **{n: _round(expr.env[n], max(count, floor.get(n, 0))) for n in names}}
        value = _evaluate(expr, env)
        if _same(value, precise) if exact_target else _approx_text(value) == _approx_text(precise):
            return dict.fromkeys(names, count)
    return dict.fromkeys(names, MAX_DIGITS + 1)  # shown in full


def _round(value: Any, count: int) -> Any:
    """`value` with `count` significant digits; past MAX_DIGITS, in full where it can be written out."""
    if count > MAX_DIGITS and shown_parts(value)[1]:
        return value
    return round_to(value, min(count, MAX_DIGITS))


def _format(value: Any, count: int) -> str:
    """TeX of `_round(value, count)`."""
    if count > MAX_DIGITS and shown_parts(value)[1]:
        return to_tex(value)
    return format_number(value, tex=True, digits=min(count, MAX_DIGITS))


def _approx_text(value: Any) -> str:
    """The value rounded as a result is (4 significant digits), whether or not it is exact."""
    if isinstance(value, tuple):
        return " × ".join(_approx_text(v) for v in value)
    if isinstance(value, np.ndarray):
        return " ".join(_approx_text(v) for v in value.flat)
    return format_number(value, tex=True, digits=ROUND_DIGITS) if is_number(value) else str(value)


def _result_text(value: Any) -> str:
    if isinstance(value, tuple):
        return " × ".join(_result_text(v) for v in value)
    return to_tex(value, result=True) if not isinstance(value, bool) else str(value)


def _evaluate(expr: Expr, env: Mapping[str, Any]) -> Any:
    try:
        return safe_eval.evaluate(_parse(expr), env)
    except safe_eval.FormulaError as exc:
        raise StepError(f"cannot compute {expr.text!r}: {exc}") from None


def _work_expr(expr: Expr, params: Mapping[str, Any], digits: Mapping[str, int]) -> Piece:
    tree = _parse(expr)
    if expr.symbolic:
        value = _evaluate(expr, expr.env)
        tex = safe_eval.to_latex(tree, None, expr.style)
        return Piece(tex, value, _is_inexact(value), expr)
    names = _rounded_names(expr, params)
    counts = {name: max(digits.get(name, 4), 4) for name in names}
    env = dict(expr.env)
    for name in names:  # what is shown is what is computed: the rounded value
        env[name] = _round(env[name], counts[name])

    def show(name: str, value: Any) -> str:
        return _format(expr.env[name], counts[name]) if name in counts else to_tex(value)

    value = _evaluate(expr, env)
    # approximate where the rounding changed the value (a float stands for a value not known
    # exactly, even where it equals its rounding; a rounded value times 0 changes nothing)
    rounded = bool(names) and not _same(value, _evaluate(expr, expr.env))
    return Piece(safe_eval.to_latex(tree, env, expr.style, show), value, rounded or _is_inexact(value), expr)


def _is_inexact(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return any(_is_inexact(v) for v in value.flat)
    if isinstance(value, tuple):
        return any(_is_inexact(v) for v in value)
    return isinstance(value, float)


def _work_term(
    term: Any, params: Mapping[str, Any], digits: Mapping[str, int], previous: Piece | None, name: str | None
) -> Piece:
    if isinstance(term, Expr):
        return _work_expr(term, params, digits)
    if isinstance(term, Size):
        parts = [_work_expr(p, params, digits) for p in term.parts]
        tex = " \\times ".join(_factor(p.tex) for p in parts)
        return Piece(tex, tuple(p.value for p in parts), any(p.rounded for p in parts), term)
    if isinstance(term, Shown):
        value = term.value
        return Piece(to_tex(value, result=True), _shown(value), _is_inexact(value) or not _exact_shown(value), term)
    if isinstance(term, Formula):
        return Piece(term.tex, None, False, term)
    if term is RESULT:
        if previous is None or previous.value is None:
            raise StepError("RESULT needs a computed term before it")
        value = previous.value
        count = digits.get(name, 0) if name else 0
        if isinstance(value, tuple):
            tex = " \\times ".join(to_tex(v, result=True) for v in value)
            return Piece(tex, tuple(shown_value(v) for v in value), previous.rounded, term)
        if is_number(value) and (previous.rounded or not shown_parts(value, True)[1]):
            # rounded: computed from rounded values, or too long to write out (a later line may want more digits)
            count = max(count, ROUND_DIGITS)
            shown = _round(value, count)
            return Piece(_format(value, count), shown, True, term)
        return Piece(to_tex(value, result=True), _shown(value), previous.rounded or not _exact_shown(value), term)
    raise StepError(f"not a term: {term!r}")


def _shown(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        out = np.empty(value.shape, dtype=object)
        for index, v in np.ndenumerate(value):
            out[index] = shown_value(v)
        return out
    return shown_value(value) if is_number(value) else value


def _exact_shown(value: Any) -> bool:
    if isinstance(value, np.ndarray):
        return all(_exact_shown(v) for v in value.flat)
    return not is_number(value) or shown_parts(value, True)[1]


def _factor(tex: str) -> str:
    """A part of a size `a × b`, in parentheses when it is more than a number."""
    simple = tex.replace("{,}", "").lstrip("-").replace(".", "").isdigit()
    return tex if simple else f"\\left({tex}\\right)"


def _work_chain(chain: Chain, params: Mapping[str, Any], digits: Mapping[str, int]) -> Worked:
    pieces: list[Piece] = []
    breaks: list[bool] = []  # breaks[k]: piece k starts a new row
    terms: list[Any] = ([chain.lhs] if isinstance(chain.lhs, Expr) else []) + list(chain.terms)
    pending_break = False
    for term in terms:
        if term is BREAK:
            pending_break = True
            continue
        piece = _work_term(term, params, digits, pieces[-1] if pieces else None, chain.name)
        pieces.append(piece)
        breaks.append(pending_break)
        pending_break = False
    relations = tuple(_relation(a, b) for a, b in itertools.pairwise(pieces))
    rows: list[str] = []
    if isinstance(chain.lhs, Expr):
        current = f"{pieces[0].tex} &{relations[0] if relations else '='}"
        start = 1
    else:
        current = f"{chain.lhs} &{chain.rel}"
        start = 0
    for k in range(start, len(pieces)):
        if k > start:
            relation = relations[k - 1]
            if breaks[k]:
                rows.append(current)
                current = f"&{relation}"
            else:
                current += f" {relation}"
        current += f" {pieces[k].tex}"
    rows.append(current)
    if chain.note:
        rows[0] += f" \\quad {chain.note}"
    return Worked(chain, tuple(rows), tuple(pieces), relations)


def _relation(a: Piece, b: Piece) -> str:
    if a.value is None or b.value is None:
        return "="  # a formula: the family's definition
    return "=" if _same(a.value, b.value) else "\\approx"


def _same(a: Any, b: Any) -> bool:
    """`=` holds: equal exact values, or floats computed from the same inputs (never a float and an exact value)."""
    if _is_inexact(a) != _is_inexact(b):
        return False
    return _equal(a, b)


def _pairwise(a: Any, b: Any, leaf: Callable[[Any, Any], bool]) -> bool:
    """`leaf` holds for every pair of entries of two values of one shape (numbers, tuples, matrices)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return (
            isinstance(a, tuple)
            and isinstance(b, tuple)
            and len(a) == len(b)
            and all(_pairwise(x, y, leaf) for x, y in zip(a, b, strict=True))
        )
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
        return a.shape == b.shape and all(_pairwise(x, y, leaf) for x, y in zip(a.flat, b.flat, strict=True))
    return leaf(a, b)


def _equal(a: Any, b: Any) -> bool:
    return _pairwise(a, b, _equal_number)


def _equal_number(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a == b
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=CLOSE, abs_tol=1e-300)
    return Fraction(a) == Fraction(b)


def close_enough(a: Any, b: Any) -> bool:
    """Two computations of one value agree: exact values equal, floats to 1e-9 relative (numbers,
    vectors and matrices of one shape)."""
    return _pairwise(a, b, _agree)


def _agree(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not (is_number(a) and is_number(b)):
        return bool(a == b)
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return Fraction(a) == Fraction(b)


def _close(a: Any, b: Any) -> bool:
    """Equal to the 4 significant digits a rounded value is shown with."""
    return _pairwise(a, b, lambda x, y: abs(float(x) - float(y)) <= 1e-3 * max(abs(float(x)), abs(float(y))))


# --- checking -----------------------------------------------------------------------------------


def verify(worked: Sequence[Worked], answers: Mapping[str, Any], formulas: Sequence[str] = ()) -> list[str]:
    """Every relation of a worked solution, checked again; it must end with the answer.

    `answers` maps each part to its answer ("" for a family of one answer: the solution's last value
    must be it; in a family of several parts, each part's chain must end with its answer). Returns
    what is wrong, empty when every `=` holds exactly, every `\\approx` is a rounding and the
    solution gives the answer as the card shows it."""
    problems: list[str] = []
    checked = 0
    last: dict[str, Piece] = {}
    for r in worked:
        if _CLAIM.search(r.chain.note):
            problems.append(f"a note may not claim a value: {r.chain.note!r}")
        for a, b, relation in zip(r.pieces, r.pieces[1:], r.relations, strict=False):
            if a.value is None or b.value is None:
                continue
            checked += 1
            where = f"{a.tex} {relation} {b.tex}"
            if relation == "=" and not _same(a.value, b.value):
                problems.append(f"false: {where} ({a.value!r} vs {b.value!r})")
            elif relation != "=" and not (a.rounded or b.rounded):
                problems.append(f"approximate without rounding: {where} ({a.value!r} vs {b.value!r})")
            elif relation != "=" and not _close(a.value, b.value):
                problems.append(f"not even approximately: {where} ({a.value!r} vs {b.value!r})")
        for piece in r.pieces:
            if isinstance(piece.term, Formula) and piece.tex not in formulas:
                problems.append(f"a formula the family does not declare: {piece.tex}")
        computed = [p for p in r.pieces if p.value is not None]
        part = r.chain.part or ""
        if r.chain.entry is not None and computed and part in answers:
            i, j = r.chain.entry
            answer = answers[part]
            if not _close(computed[-1].value, answer[i, j]) or (
                not computed[-1].rounded and not _equal(computed[-1].value, answer[i, j])
            ):
                problems.append(f"entry ({i + 1}, {j + 1}) is {computed[-1].value!r}, the answer has {answer[i, j]!r}")
        if computed and (r.chain.part is not None or list(answers) == [""]):
            last[part] = computed[-1]
    if checked == 0:
        problems.append("no computed step: the worked solution checks nothing")
    for part, answer in answers.items():
        piece = last.get(part)
        if piece is None:
            problems.append(f"the worked solution gives no value for {part or 'the answer'}")
            continue
        expected = _shown(answer)
        if not _equal(piece.value, expected) and not (piece.rounded and _close(piece.value, expected)):
            problems.append(f"the solution ends with {piece.tex}, the answer is {to_tex(answer, result=True)}")
        elif _result_text(piece.value) != _result_text(expected) and not isinstance(piece.value, tuple):
            problems.append(f"the solution ends with {piece.tex}, the card shows {to_tex(answer, result=True)}")
    return problems
