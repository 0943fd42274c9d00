"""Numeric cards: draw params with a seeded generator, compute the answer, write the worked steps.

`instantiate` turns one ```numeric block into its instances: the `given` one (the card's own
key) and `variants` drawn ones (`key~1`, `key~2`, ...). Draws come from the deck seed, the card
key and the variant index only, so editing one card never reshuffles another.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ankismith.rules import MAX_VARIANTS, SOLVER_KEYS, is_int
from ankismith.solver import safe_eval, steps
from ankismith.solver.family import Family, InvalidParams, Param, check_size
from ankismith.solver.params import Draw, SpecProblem, parse_draw
from ankismith.solver.registry import FAMILIES
from ankismith.solver.steps import BREAK, RESULT, Chain, Expr
from ankismith.solver.values import is_exact, is_matrix, is_number, to_json, to_tex, to_text

__all__ = ["FAMILIES", "Instance", "SpecIssue", "instantiate", "is_matrix", "to_json", "to_tex", "to_text"]

BLOCK_KEYS = SOLVER_KEYS
MAX_TRIES = 1000


@dataclass(frozen=True)
class SpecIssue:
    """A problem with a numeric block, tied to the block key it is about (for the line number)."""

    key: str | None
    message: str


class SpecErrors(Exception):
    """Every problem found in one numeric block."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        super().__init__("; ".join(i.message for i in issues))
        self.issues = issues


@dataclass(frozen=True)
class Instance:
    """One solved instance of a numeric card: its key suffix, params as shown, answer, steps.

    `steps` are the TeX rows of the worked solution; `worked` is the same solution as data, every
    term with its computed value (see `steps.verify`)."""

    suffix: str
    problem: str | None
    params: dict[str, Any]
    answer: Any
    answer_tex: str
    exact: bool
    steps: tuple[str, ...]
    convention: str = ""
    worked: tuple[steps.Rendered, ...] = ()


class _KeyedInvalid(InvalidParams):
    """InvalidParams about one block key (`answer`, `where`) rather than the values given."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


FORMULA_STYLE = safe_eval.TexStyle()  # an author's formula, written as given: a \cdot b


@dataclass(frozen=True)
class _Problem:
    """A numeric block read and vetted: how to complete, check and solve one set of params."""

    family: Family | None
    formula: Any  # a vetted ast.Expression for `answer:` cards
    where: Any

    def solve(self, raw: Mapping[str, Any]) -> Instance:
        values = self.family.complete(raw) if self.family else _formula_values(raw)
        if self.where is not None:
            try:
                ok = safe_eval.evaluate(self.where, values)
            except safe_eval.MissingValue as exc:
                raise InvalidParams(f"where: {exc}") from None
            except safe_eval.FormulaError as exc:
                raise _KeyedInvalid("where", f"where: {exc}") from None
            if isinstance(ok, np.ndarray) or not bool(ok):
                raise InvalidParams("the `where:` condition does not hold")
        if self.family:
            try:
                answer = self.family.solve(values)
                _check_answer(answer)
                chains = self.family.steps(values, answer)
            except safe_eval.FormulaError as exc:
                raise InvalidParams(str(exc)) from None
            except (ArithmeticError, ValueError) as exc:  # a float overflow, a domain error
                raise InvalidParams(f"cannot compute the answer: {exc}") from None
            answer_tex = self.family.answer_tex(values, answer) if self.family.answer_tex else to_tex(answer, True)
            formulas = self.family.formulas
        else:
            try:
                answer = safe_eval.evaluate(self.formula, values)
            except safe_eval.MissingValue as exc:
                raise InvalidParams(str(exc)) from None
            except safe_eval.FormulaError as exc:  # the values are fine, the formula cannot take them
                raise _KeyedInvalid("answer", str(exc)) from None
            if (isinstance(answer, np.ndarray) and answer.ndim > 2) or isinstance(answer, bool):
                raise _KeyedInvalid("answer", "the answer formula must give a number or a matrix")
            answer_tex = to_tex(answer, True)
            chains = _formula_steps(self.formula, values)
            formulas = ()
        try:
            rendered = steps.render(chains, values)
        except steps.StepError as exc:
            raise InvalidParams(f"the worked solution cannot be computed: {exc}") from None
        problems = steps.verify(rendered, answer, formulas)
        if problems:  # a family's bug: never show a student a false line
            raise _KeyedInvalid("problem", "internal error, please report: " + "; ".join(problems))
        return Instance(
            "",
            self.family.name if self.family else None,
            values,
            answer,
            answer_tex,
            is_exact(answer),
            steps.tex_lines(rendered),
            self.family.convention if self.family else "",
            tuple(rendered),
        )


def _check_answer(answer: Any) -> None:
    """A family's answer must be finite: huge inputs can overflow a float computation."""
    values = answer.flat if isinstance(answer, np.ndarray) else [answer]
    for value in values:
        if isinstance(value, float) and not np.isfinite(value):
            raise InvalidParams("the answer overflows: the numbers are too large to compute with")


def _formula_steps(formula: ast.Expression, values: Mapping[str, Any]) -> list[Chain]:
    """The author's formula, the values substituted, the result."""
    text = ast.unparse(formula)
    symbolic = Expr(text, values, symbolic=True, style=FORMULA_STYLE)
    uses_names = any(isinstance(node, ast.Name) and node.id in values for node in ast.walk(formula))
    substituted = (BREAK, Expr(text, values, style=FORMULA_STYLE)) if uses_names else ()
    return [Chain("\\text{answer}", (symbolic, *substituted, BREAK, RESULT))]


def _formula_values(raw: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if isinstance(value, list | np.ndarray) and len(value) and all(isinstance(r, list | np.ndarray) for r in value):
            value = Param(name, "matrix", name).coerce(value)
        elif is_number(value) and (not isinstance(value, float) or np.isfinite(value)):
            value = check_size(name, value)
        else:
            raise InvalidParams(f"{name} must be a finite number or a matrix, found {_shown_input(value)}")
        values[name] = value
    return values


def _shown_input(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def instantiate(spec: Mapping[str, Any], seed: int, key: str, variants: int) -> list[Instance]:
    """All instances of a numeric block; raises SpecErrors listing every problem found."""
    problem, draws, issues = _read(spec)
    if issues:
        raise SpecErrors(issues)
    instances: list[Instance] = []
    given = spec.get("given")
    if given is not None:
        try:
            instance = problem.solve(given)
        except _KeyedInvalid as exc:
            raise SpecErrors([SpecIssue(exc.key, f"with the given values: {exc}")]) from None
        except InvalidParams as exc:
            raise SpecErrors([SpecIssue("given", f"the given values cannot be used: {exc}")]) from None
        instances.append(instance)
    count = spec.get("variants", variants) if draws else 0
    seen = [_fingerprint(i.params) for i in instances]
    for index in range(1, count + 1):
        rng = np.random.default_rng([seed, *_key_words(key), index])
        instance = _draw_valid(problem, draws, given or {}, rng, seen, key, index)
        seen.append(_fingerprint(instance.params))
        instances.append(replace(instance, suffix=f"~{index}"))
    return instances


def _draw_valid(
    problem: _Problem,
    draws: dict[str, Draw],
    given: Mapping[str, Any],
    rng: np.random.Generator,
    seen: list[str],
    key: str,
    index: int,
) -> Instance:
    """Rejection sampling with a bound; prefers draws unlike the instances before it.

    Params that `params:` does not draw keep their `given` value.
    """
    fallback: Instance | None = None
    last_reason = ""
    for attempt in range(MAX_TRIES):
        raw = {**given, **{name: draw.draw(rng) for name, draw in draws.items()}}
        try:
            instance = problem.solve(raw)
        except _KeyedInvalid as exc:
            if exc.key == "problem":  # a family's bug, not a bad draw
                raise SpecErrors([SpecIssue("problem", str(exc))]) from None
            last_reason = str(exc)
            continue
        except InvalidParams as exc:
            last_reason = str(exc)
            continue
        if _fingerprint(instance.params) not in seen:
            return instance
        fallback = fallback or instance
        if attempt >= MAX_TRIES // 4:
            break
    if fallback is not None:
        return fallback
    raise SpecErrors(
        [
            SpecIssue(
                "params",
                f"no valid draw for variant {key}~{index} in {MAX_TRIES} tries (last rejected: {last_reason}); "
                "widen the ranges or loosen `where:`",
            )
        ]
    )


def _read(spec: Mapping[str, Any]) -> tuple[_Problem, dict[str, Draw], list[SpecIssue]]:
    issues: list[SpecIssue] = []
    for name in spec:
        if name not in BLOCK_KEYS:
            issues.append(
                SpecIssue(name, f"unknown key {name!r} in the numeric block; expected {', '.join(BLOCK_KEYS)}")
            )
    family: Family | None = None
    name = spec.get("problem")
    if name is not None and "answer" in spec:
        issues.append(SpecIssue("answer", "give either `problem:` or `answer:`, not both"))
    elif name is not None:
        family = FAMILIES.get(name) if isinstance(name, str) else None
        if family is None:
            issues.append(SpecIssue("problem", f"unknown problem family {name!r}; known: {', '.join(FAMILIES)}"))
    elif "answer" not in spec:
        issues.append(SpecIssue(None, "a numeric block needs `problem:` (a family) or `answer:` (a formula)"))
    given, params = spec.get("given"), spec.get("params")
    if given is not None and not isinstance(given, dict):
        issues.append(SpecIssue("given", f"`given` must be a mapping of param values, found {given!r}"))
        given = None
    if params is not None and not isinstance(params, dict):
        issues.append(SpecIssue("params", f"`params` must be a mapping of param ranges, found {params!r}"))
        params = None
    if given is None and not params:
        issues.append(SpecIssue(None, "a numeric block needs `given:` values, `params:` to draw from, or both"))
    variants = spec.get("variants")
    if variants is not None and (not is_int(variants) or not 0 <= variants <= MAX_VARIANTS):
        issues.append(
            SpecIssue("variants", f"`variants` must be a whole number from 0 to {MAX_VARIANTS}, found {variants!r}")
        )
    for key, mapping in (("given", given), ("params", params)):
        bad = [k for k in mapping or {} if not isinstance(k, str)]
        if bad:
            issues.append(SpecIssue(key, f"param names must be text, like `x` or `lr`, found {bad[0]!r}"))
    given = {k: v for k, v in given.items() if isinstance(k, str)} if given is not None else None
    params = {k: v for k, v in params.items() if isinstance(k, str)} if params is not None else None
    draws: dict[str, Draw] = {}
    for param_name, value in (params or {}).items():
        param = family.param(str(param_name)) if family else None
        if family and param is None:
            issues.append(SpecIssue("params", family.unknown_param(str(param_name))))
            continue
        try:
            draws[str(param_name)] = parse_draw(str(param_name), value, param.kind if param else None)
        except SpecProblem as exc:
            issues.append(SpecIssue("params", str(exc)))
    names = frozenset(str(n) for n in (*(given or {}), *(params or {})))
    if family:
        names |= {p.name for p in family.params}
    formula = where = None
    if "answer" in spec and family is None and name is None:
        try:
            formula = safe_eval.parse(spec["answer"], set(names))
        except safe_eval.FormulaError as exc:
            issues.append(SpecIssue("answer", str(exc)))
    if spec.get("where") is not None:
        try:
            where = safe_eval.parse(spec["where"], set(names))
        except safe_eval.FormulaError as exc:
            issues.append(SpecIssue("where", f"where: {exc}"))
    if formula is not None:
        used = _names(formula) | (_names(where) if where is not None else set())
        for param_name in params or {}:
            if param_name not in used and param_name not in (given or {}):
                issues.append(
                    SpecIssue("params", f"unknown param {param_name!r}; the formula uses: {', '.join(sorted(used))}")
                )
    return _Problem(family, formula, where), draws, issues


def _names(tree: ast.Expression) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id not in safe_eval.FUNCTIONS}


def _key_words(key: str) -> list[int]:
    digest = hashlib.sha256(key.encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "big") for i in range(0, 16, 4)]


def _fingerprint(values: Mapping[str, Any]) -> str:
    return repr(sorted((k, to_json(v)) for k, v in values.items()))
