"""Numeric cards: draw params with a seeded generator, compute the answer, write the worked steps.

`instantiate` turns one ```numeric block into its instances: the `given` one (the card's own
key) and `variants` drawn ones (`key~1`, `key~2`, ...). Draws come from the deck seed, the card
key and the variant index only, so editing one card never reshuffles another. Every instance is
checked before any card is written: the family's `verify` agrees, every worked step is true.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ankismith.rules import MAX_VARIANTS, SOLVER_KEYS, is_int
from ankismith.solver import safe_eval, steps, texsteps
from ankismith.solver.contract import Family, FamilyError
from ankismith.solver.family import InvalidParams, Param, check_size
from ankismith.solver.params import Draw, SpecProblem, parse_draw
from ankismith.solver.steps import BREAK, RESULT, Chain, Expr
from ankismith.solver.values import is_exact, is_matrix, is_number, normalize, to_json, to_tex

MAX_TRIES = 1000


@dataclass(frozen=True)
class SpecIssue:
    """A problem with a numeric block, tied to the block key it is about (for the line number)."""

    key: str | None
    message: str


class SpecErrors(Exception):
    """Every problem found in one numeric block (and the family files at fault, if any)."""

    def __init__(self, issues: list[SpecIssue], faults: tuple[FamilyError, ...] = ()) -> None:
        super().__init__("; ".join(i.message for i in issues))
        self.issues = issues
        self.faults = faults


@dataclass(frozen=True)
class Mistake:
    """What a classic wrong method gives for one part: its label (one line, Markdown) and value."""

    label: str
    value: Any


@dataclass(frozen=True)
class Part:
    """One answer of an instance ("" for a card of one answer), as the card shows it, and the
    values of the classic mistakes for it."""

    name: str
    answer: Any
    answer_tex: str
    exact: bool
    mistakes: tuple[Mistake, ...] = ()


@dataclass(frozen=True)
class Instance:
    """One solved instance of a numeric card: its key suffix, params as shown, answers, worked steps."""

    suffix: str
    problem: str | None
    params: dict[str, Any]
    parts: tuple[Part, ...]
    steps: tuple[str, ...]
    convention: str = ""

    @property
    def answer(self) -> Any:
        """The answer (a card of one answer), or the answers by part."""
        if len(self.parts) == 1 and not self.parts[0].name:
            return self.parts[0].answer
        return {part.name: part.answer for part in self.parts}

    @property
    def exact(self) -> bool:
        """Whether every answer is written out exactly (no ≈)."""
        return all(part.exact for part in self.parts)

    @property
    def answer_tex(self) -> str:
        """The TeX of the answer of a card of one answer."""
        (part,) = self.parts
        return part.answer_tex


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
    ask: tuple[str, ...]  # the parts the card asks for (a family of several parts); () for all

    def solve(self, raw: Mapping[str, Any], light: bool = False) -> Instance:
        """The instance of these params; `light`: without the worked steps (the stress check)."""
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
        if self.family is None:
            return self._formula(values, light)
        return _solve_family(self.family, values, self.ask, light)

    def _formula(self, values: dict[str, Any], light: bool) -> Instance:
        try:
            answer = safe_eval.evaluate(self.formula, values)
        except safe_eval.MissingValue as exc:
            raise InvalidParams(str(exc)) from None
        except safe_eval.FormulaError as exc:  # the values are fine, the formula cannot take them
            raise _KeyedInvalid("answer", str(exc)) from None
        if (isinstance(answer, np.ndarray) and answer.ndim > 2) or isinstance(answer, bool):
            raise _KeyedInvalid("answer", "the answer formula must give a number or a matrix")
        lines: tuple[str, ...] = ()
        if not light:
            worked = _work(_formula_steps(self.formula, values), values)
            _check_worked(worked, {"": answer}, ())
            lines = steps.tex_lines(worked)
        part = Part("", answer, to_tex(answer, True), is_exact(answer))
        return Instance("", None, values, (part,), lines)


def _solve_family(family: Family, values: dict[str, Any], ask: tuple[str, ...], light: bool = False) -> Instance:
    """One instance of a family: valid, solve, verify, the worked steps (unless `light`) and the mistakes."""
    family.check(values)
    try:
        answers = _answers(family, family.call("solve", values), "solve")
        if family.verify is not None:
            _agree(family, answers, _answers(family, family.call("verify", values), "verify"), values)
        lines = () if light else _family_steps(family, values, answers)
        mistakes = _mistakes(family, values, answers) if family.mistakes is not None else {}
        answer_tex = family.call("answer_tex", values) if family.answer_tex is not None else None
    except safe_eval.FormulaError as exc:
        raise InvalidParams(str(exc)) from None
    except (ArithmeticError, ValueError) as exc:  # a built-in's float overflow, a domain error
        if isinstance(exc, InvalidParams):
            raise
        raise InvalidParams(f"cannot compute the answer: {exc}") from None
    names = list(ask) if ask else list(answers)
    parts = tuple(
        Part(
            name,
            answers[name],
            answer_tex if isinstance(answer_tex, str) and name == "" else to_tex(answers[name], True),
            is_exact(answers[name]),
            tuple(Mistake(label, value[name]) for label, value in mistakes.items() if name in value),
        )
        for name in names
    )
    return Instance("", family.name, values, parts, lines, family.convention)


def _answers(family: Family, result: Any, what: str) -> dict[str, Any]:
    """A family's result as answers by part ("" for a family of one answer), each checked."""
    if isinstance(result, Mapping):
        if not result or not all(isinstance(k, str) and k.isidentifier() for k in result):
            raise family.fault(None, f"{what}() must return the parts by name, like {{'loss': 0.5}}")
        # a mistake gives the parts it affects; solve and verify give them all
        unknown = set(result) - set(family.parts) if what == "mistakes" else set(result) ^ set(family.parts)
        if family.parts and unknown:
            raise family.fault(
                None, f"{what}() returned the parts {', '.join(result)}; PARTS says {', '.join(family.parts)}"
            )
        return {name: _answer(family, value, what) for name, value in result.items()}
    return {"": _answer(family, result, what)}


def _answer(family: Family, value: Any, what: str) -> Any:
    """A number, vector or matrix in canonical form (exact numbers stay exact, floats finite)."""
    if isinstance(value, list | tuple):
        try:
            array = np.array(value, dtype=object)
        except ValueError:
            array = None
        if array is None or array.ndim not in (1, 2) or array.size == 0:
            raise family.fault(None, f"{what}() returned a list that is neither a vector nor a matrix")
        value = array
    if family.origin.kind != "builtin":  # an author's float that prints short is the decimal it prints as
        value = (
            np.vectorize(_exact_float, otypes=[object])(value) if isinstance(value, np.ndarray) else _exact_float(value)
        )
    if isinstance(value, np.ndarray):
        value = normalize(value)
        entries = list(value.flat)
    else:
        value = normalize(value)
        entries = [value]
    for entry in entries:
        if not is_number(entry):
            raise family.fault(None, f"{what}() must return numbers, found {entry!r}")
        if isinstance(entry, float) and not np.isfinite(entry):
            raise InvalidParams("the answer overflows: the numbers are too large to compute with")
    return value


def _exact_float(value: Any) -> Any:
    return safe_eval.exact_float(value) if isinstance(value, float) else value


def _agree(family: Family, answers: dict[str, Any], second: dict[str, Any], values: Mapping[str, Any]) -> None:
    """`verify` computes the same answers, to float noise."""
    if set(answers) != set(second) or not all(steps.close_enough(answers[k], second[k]) for k in answers):
        shown = ", ".join(f"{k or 'answer'} {to_json(answers[k])} vs {to_json(second.get(k))}" for k in answers)
        raise family.fault(None, f"verify() disagrees with solve(): {shown}", values)


def _family_steps(family: Family, values: Mapping[str, Any], answers: dict[str, Any]) -> tuple[str, ...]:
    """The worked steps: the kit's chains, computed and checked, or TeX lines with every `=` checked."""
    if family.steps is None:
        return ()
    given = family.call("steps", values)
    if not isinstance(given, list | tuple):
        raise family.fault(None, "steps() must return a list (of TeX lines, or of the kit's Chains)")
    if all(isinstance(line, str) for line in given):
        _, problems = texsteps.check_lines(given)
        if problems:
            raise family.fault(None, "steps() writes a false step: " + "; ".join(problems), values)
        return tuple(line if "&" in line else "&" + line for line in given)
    if not all(isinstance(chain, Chain) for chain in given):
        raise family.fault(None, "steps() must return TeX lines or the kit's Chains, not a mix")
    try:
        worked = _work(list(given), values)
    except InvalidParams as exc:
        raise family.fault(None, f"steps() cannot be computed: {exc}", values) from None
    problems = steps.verify(worked, answers, family.formulas)
    if problems:  # never show a student a false line
        raise family.fault(None, "steps() writes a false step: " + "; ".join(problems), values)
    return steps.tex_lines(worked)


def _work(chains: list[Chain], values: Mapping[str, Any]) -> list[steps.Worked]:
    try:
        return steps.work_out(chains, values)
    except steps.StepError as exc:
        raise InvalidParams(f"the worked solution cannot be computed: {exc}") from None


def _check_worked(worked: list[steps.Worked], answers: dict[str, Any], formulas: tuple[str, ...]) -> None:
    problems = steps.verify(worked, answers, formulas)
    if problems:  # a bug of ankismith's: the worked solution of a formula is written here
        raise _KeyedInvalid("problem", "internal error, please report: " + "; ".join(problems))


def _mistakes(family: Family, values: Mapping[str, Any], answers: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each classic mistake's values, by part; one equal to the right answer is left out (render
    leaves out one that the card's grading would take as right)."""
    given = family.call("mistakes", values)
    if not isinstance(given, Mapping) or not all(isinstance(k, str) and k.strip() for k in given):
        raise family.fault(None, "mistakes() must return {label: value}, each label a line of text")
    found: dict[str, dict[str, Any]] = {}
    for label, value in given.items():
        if value is None:
            continue  # a mistake that does not apply to these values
        by_part = (
            _answers(family, value, "mistakes")
            if isinstance(value, Mapping)
            else {"": _answer(family, value, "mistakes")}
        )
        if set(by_part) - set(answers):
            raise family.fault(None, f"mistakes(): {label!r} gives parts the answer does not have")
        kept = {part: v for part, v in by_part.items() if not steps.close_enough(v, answers[part])}
        if kept:
            found[" ".join(label.split())] = kept
    return found


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


def instantiate(
    spec: Mapping[str, Any],
    seed: int,
    key: str,
    variants: int,
    families: Mapping[str, Family | FamilyError] | None = None,
) -> list[Instance]:
    """All instances of a numeric block; raises SpecErrors listing every problem found (and the
    family files at fault: a FamilyError is the family's, reported at its own file and line).
    `families`: those the block may name (default: the built-in ones)."""
    if families is None:
        from ankismith.solver.registry import builtin

        families = builtin()
    try:
        with safe_eval.budget():
            return _instantiate(spec, seed, key, variants, families)
    except safe_eval.OverBudget as exc:
        raise SpecErrors([SpecIssue("answer" if "answer" in spec else "where", str(exc))]) from None
    except FamilyError as exc:
        raise SpecErrors(
            [SpecIssue("problem", f"the family {spec.get('problem')!r} cannot be used: its file fails at {_at(exc)}")],
            (exc,),
        ) from None


def _at(exc: FamilyError) -> str:
    return f"{exc.path}:{exc.line}" if exc.line else exc.path


def _instantiate(
    spec: Mapping[str, Any], seed: int, key: str, variants: int, families: Mapping[str, Family | FamilyError]
) -> list[Instance]:
    problem, draws, issues = _read(spec, families)
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
        instance = draw_instance(problem, draws, given or {}, seed, key, index, seen)
        seen.append(_fingerprint(instance.params))
        instances.append(replace(instance, suffix=f"~{index}"))
    return instances


def draw_instance(
    problem: _Problem,
    draws: dict[str, Draw],
    given: Mapping[str, Any],
    seed: int,
    key: str,
    index: int,
    seen: list[str],
    light: bool = False,
) -> Instance:
    """Variant `index` of a card: rejection sampling with a bound, preferring draws unlike those
    before it. Params that no draw names keep their `given` value."""
    rng = np.random.default_rng([seed, *_key_words(key), index])
    fallback: Instance | None = None
    last_reason = ""
    for attempt in range(MAX_TRIES):
        raw = {**given, **{name: draw.draw(rng) for name, draw in draws.items()}}
        try:
            instance = problem.solve(raw, light)
        except _KeyedInvalid as exc:
            if exc.key == "problem":  # a bug, not a bad draw
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


def read_block(
    spec: Mapping[str, Any], families: Mapping[str, Family | FamilyError]
) -> tuple[_Problem, dict[str, Draw]]:
    """A numeric block read and vetted: its problem and its draws; SpecErrors when it has problems."""
    problem, draws, issues = _read(spec, families)
    if issues:
        raise SpecErrors(issues)
    return problem, draws


def _read(
    spec: Mapping[str, Any], families: Mapping[str, Family | FamilyError]
) -> tuple[_Problem, dict[str, Draw], list[SpecIssue]]:
    issues: list[SpecIssue] = []
    for name in spec:
        if name not in SOLVER_KEYS:
            issues.append(
                SpecIssue(name, f"unknown key {name!r} in the numeric block; expected {', '.join(SOLVER_KEYS)}")
            )
    family: Family | None = None
    name = spec.get("problem")
    if name is not None and "answer" in spec:
        issues.append(SpecIssue("answer", "give either `problem:` or `answer:`, not both"))
    elif name is not None:
        found = families.get(name) if isinstance(name, str) else None
        if isinstance(found, FamilyError):
            raise found  # the deck's family file fails: reported at its own line
        family = found
        if family is None:
            issues.append(SpecIssue("problem", f"unknown problem family {name!r}; known: {', '.join(families)}"))
    elif "answer" not in spec:
        issues.append(SpecIssue(None, "a numeric block needs `problem:` (a family) or `answer:` (a formula)"))
    given, params = spec.get("given"), spec.get("params")
    if given is not None and not isinstance(given, dict):
        issues.append(SpecIssue("given", f"`given` must be a mapping of param values, found {given!r}"))
        given = None
    if params is not None and not isinstance(params, dict):
        issues.append(SpecIssue("params", f"`params` must be a mapping of param ranges, found {params!r}"))
        params = None
    family_draws = _family_draws(family, given)
    if given is None and not params and not family_draws:
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
    for param_name, value in {**family_draws, **(params or {})}.items():
        param = family.param(str(param_name)) if family else None
        if family and param is None:
            issues.append(SpecIssue("params", family.unknown_param(str(param_name))))
            continue
        kind = param.kind if param is not None and param.kind != "any" else None
        try:
            draws[str(param_name)] = parse_draw(str(param_name), value, kind)
        except SpecProblem as exc:
            issues.append(SpecIssue("params", str(exc)))
    ask = _ask(spec.get("ask"), family, issues)
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
    return _Problem(family, formula, where, ask), draws, issues


def _family_draws(family: Family | None, given: Any) -> dict[str, Any]:
    """The family's own default draws (PARAMS); a block's `params:` override them name by name."""
    if family is None:
        return {}
    return {p.name: p.draw for p in family.params if p.draw is not None}


def _ask(value: Any, family: Family | None, issues: list[SpecIssue]) -> tuple[str, ...]:
    """The parts a block asks for: `ask: dW1` or `ask: [loss, dW2]` (a family of several parts)."""
    if value is None:
        return ()
    asked = [value] if isinstance(value, str) else value
    if not isinstance(asked, list) or not asked or not all(isinstance(a, str) for a in asked):
        issues.append(SpecIssue("ask", f"`ask` must be a part's name or a list of them, found {value!r}"))
        return ()
    if family is None or not family.parts:
        what = "a formula" if family is None else f"{family.name}, a family of one answer,"
        issues.append(SpecIssue("ask", f"`ask` chooses parts of a family of several parts; {what} has none"))
        return ()
    unknown = [a for a in asked if a not in family.parts]
    if unknown:
        issues.append(
            SpecIssue("ask", f"unknown part {unknown[0]!r}; {family.name}'s parts are: {', '.join(family.parts)}")
        )
    if len(set(asked)) != len(asked):
        issues.append(SpecIssue("ask", "a part is asked twice"))
    return tuple(dict.fromkeys(asked))


def _names(tree: ast.Expression) -> set[str]:
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and node.id not in safe_eval.FUNCTIONS}


def _key_words(key: str) -> list[int]:
    digest = hashlib.sha256(key.encode()).digest()
    return [int.from_bytes(digest[i : i + 4], "big") for i in range(0, 16, 4)]


def _fingerprint(values: Mapping[str, Any]) -> str:
    return repr(sorted((k, to_json(v)) for k, v in values.items()))


__all__ = ["Instance", "Mistake", "Part", "SpecErrors", "SpecIssue", "instantiate", "is_matrix"]
