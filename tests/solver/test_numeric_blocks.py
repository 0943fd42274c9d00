"""What a numeric block can hold never gets past the solver as anything but SpecErrors.

A fuzz test feeds `instantiate` arbitrary YAML-like values (huge and tiny numbers, odd Unicode,
nesting, every family's own param names); the rest pins the reports of mistakes in a block.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_deck
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ankismith import solver
from ankismith.errors import DeckErrors
from ankismith.pipeline.run import compile_decks
from ankismith.solver import SpecErrors, builtin

NUMBERS = st.one_of(
    st.integers(-20, 20),
    st.integers(),
    st.integers(-(10**120), 10**120),
    st.floats(),
    st.floats(-10, 10),
    st.sampled_from([0, 2**63, -(2**63) - 1, 10**100, 10**99, 1e300, -1e-300, 5e-324, 1e-100, 0.1, -0.5]),
)
TEXT = st.one_of(
    st.text(max_size=6),
    st.sampled_from(["x", "𝑥", "Ω", "e\u0301", "\u200b", "\x00", "نص", "..", "1..", "1..5", "1e3", "nan", "inf"]),
    st.sampled_from(
        [
            "1..99999999999999999999999",
            "1.." + "9" * 101,
            "-1e99..1e99",
            "0.1..0.5 step 0.1",
            "1..2 step 0.0000000001",
            "1e-300..1e-299",
            "5..1",
            "0..0",
            "1e2..1e3 step 1e-3",
        ]
    ),
)
SCALARS = st.one_of(NUMBERS, TEXT, st.booleans(), st.none())
MATRICES = st.lists(st.lists(NUMBERS, min_size=1, max_size=4), min_size=1, max_size=4)
VALUES = st.recursive(
    st.one_of(SCALARS, MATRICES),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(TEXT, st.integers(), st.none()), inner, max_size=3),
        st.fixed_dictionaries({"one_of": st.lists(inner, max_size=3)}),
        st.fixed_dictionaries({"shape": st.lists(st.integers(-1, 13), max_size=3), "values": inner}),
    ),
    max_leaves=10,
)
FORMULAS = st.one_of(
    st.sampled_from(
        [
            "a",
            "a - b * m",
            "a ** b",
            "a / b",
            "a // b",
            "a % b",
            "exp(a)",
            "log(a)",
            "sqrt(a)",
            "a @ a",
            "sum(a)",
            "mean(a)",
            "max(a, b)",
            "floor(a) + ceil(b)",
            "round(a)",
            "transpose(a) @ a",
            "sigmoid(a) * tanh(b)",
            "m * v**2 / 2",
            "[a, b]",
            "[[a, b], [b, a]]",
            "a if a > b else b",
            "not a",
            "a < b < m",
            "9**9**9",
            "(-8) ** (1/3)",
            "0 ** -1",
            "10 ** 400",
            "2 ** 0.5 ** 2",
        ]
    ),
    VALUES,
)
NAMES = st.sampled_from(
    ["a", "b", "m", "v", "vv", "x", "lr", "grad", "I", "K", "G", "W", "F", "P", "S", "layers", "z", "y"]
)


@st.composite
def blocks(draw: st.DrawFn) -> dict[str, Any]:
    family = draw(st.sampled_from([*builtin(), None, "nope"]))
    names = [p.name for p in builtin()[family].params] if family in builtin() else ["a", "b", "m", "v"]
    name_strategy = st.one_of(st.sampled_from(names), NAMES)
    spec: dict[str, Any] = {"problem": family} if family else {"answer": draw(FORMULAS)}
    if draw(st.booleans()):
        spec["given"] = draw(st.one_of(st.dictionaries(name_strategy, VALUES, max_size=6), VALUES))
    if draw(st.booleans()):
        spec["params"] = draw(st.one_of(st.dictionaries(name_strategy, VALUES, max_size=4), VALUES))
    for key in ("where", "variants", "bogus"):
        if draw(st.integers(0, 5)) == 0:
            spec[key] = draw(st.one_of(FORMULAS, VALUES))
    return spec


@settings(max_examples=1500, deadline=None, suppress_health_check=list(HealthCheck))
@given(blocks(), st.integers(0, 2**64), st.integers(0, 3))
def test_any_block_gives_instances_or_spec_errors(spec: dict[str, Any], seed: int, variants: int) -> None:
    try:
        instances = solver.instantiate(spec, seed, "k", variants)
    except SpecErrors as exc:
        assert exc.issues and all(issue.message and "internal error" not in issue.message for issue in exc.issues)
        return
    for instance in instances:  # what came out can be shown and exported
        assert all(part.answer_tex for part in instance.parts) and isinstance(instance.steps, tuple)
        solver.to_json(instance.answer), solver.to_json(instance.params)
        for value in instance.params.values():
            solver.to_tex(value), solver.to_text(value)


def _range_text(low: float, high: float, step: float | None) -> str:
    low, high = sorted((low, high))
    return f"{low!r}..{high!r}" + (f" step {step!r}" if step else "")


RANGES = st.builds(
    _range_text,
    st.one_of(st.floats(-1e6, 1e6, allow_subnormal=False), st.sampled_from([1e-8, -3e-5, 1e20, 1.5])),
    st.one_of(st.floats(-1e6, 1e6, allow_subnormal=False), st.sampled_from([1e-3, 2.5e-5, 1e21, 7])),
    st.one_of(st.none(), st.sampled_from([1e-3, 0.5, 1e-4, 2.0, 3e7])),
)


@st.composite
def mostly_valid_blocks(draw: st.DrawFn) -> dict[str, Any]:
    """A family's own params, mostly sensible values with odd ones mixed in, drawn params as ranges."""
    from test_worked_steps import param_strategy

    family = builtin()[draw(st.sampled_from(sorted(builtin())))]
    length = draw(st.integers(1, 4))
    odd = st.one_of(NUMBERS, TEXT, MATRICES, st.none())
    given_values = {}
    for param in family.params:
        if param.required or draw(st.booleans()):
            sensible = param_strategy(param, length)
            given_values[param.name] = draw(st.one_of(sensible, sensible, sensible, odd))
    spec: dict[str, Any] = {"problem": family.name, "given": given_values}
    numeric = [p.name for p in family.params if p.kind in ("int", "number")]
    if numeric and draw(st.booleans()):
        spec["params"] = {name: draw(st.one_of(RANGES, NUMBERS)) for name in draw(st.sets(st.sampled_from(numeric)))}
    return spec


@settings(max_examples=800, deadline=None, suppress_health_check=list(HealthCheck))
@given(mostly_valid_blocks(), st.integers(0, 2**32), st.integers(0, 3))
def test_mostly_valid_blocks_with_odd_values(spec: dict[str, Any], seed: int, variants: int) -> None:
    test_any_block_gives_instances_or_spec_errors.hypothesis.inner_test(spec, seed, variants)


def issues(spec: dict[str, Any], variants: int = 2) -> list[tuple[str | None, str]]:
    with pytest.raises(SpecErrors) as caught:
        solver.instantiate(spec, 0, "k", variants)
    return [(i.key, i.message) for i in caught.value.issues]


# --- a huge range is drawn, an absurd one refused at `params` -------------------


def test_a_range_beyond_int64_is_drawn_exactly() -> None:
    instances = solver.instantiate({"answer": "m", "params": {"m": "1..99999999999999999999999"}}, 0, "k", 3)
    assert all(1 <= i.answer <= 99999999999999999999999 for i in instances)


def test_a_range_beyond_100_digits_is_an_error_at_params() -> None:
    assert issues({"answer": "m", "params": {"m": "1.." + "9" * 101}}) == [
        ("params", "m: range '1.." + "9" * 101 + "': numbers are limited to 100 digits and 100 decimals")
    ]


def test_a_given_number_beyond_100_digits_is_an_error_at_given() -> None:
    ((key, message),) = issues({"answer": "m", "given": {"m": 10**100}})
    assert key == "given" and "numbers are limited to 100 digits" in message


# --- a drawn param nothing uses -----------------------------------------------


def test_a_drawn_param_the_formula_does_not_use_is_an_error() -> None:
    spec = {"answer": "m * v**2 / 2", "given": {"m": 2, "v": 15}, "params": {"vv": "5..40"}}
    assert issues(spec) == [("params", "unknown param 'vv'; the formula uses: m, v")]


def test_a_drawn_param_the_family_does_not_have_is_an_error() -> None:
    spec = {"problem": "gd_step", "given": {"x": 3, "lr": 0.1, "grad": 1}, "params": {"gard": "-3..3"}}
    assert issues(spec) == [("params", "unknown param 'gard'; the family's params are: x, lr, grad")]


def test_a_param_used_only_by_where_or_given_is_fine() -> None:
    spec = {"answer": "a", "params": {"a": "1..9", "b": "1..9"}, "where": "a > b"}
    assert len(solver.instantiate(spec, 0, "k", 3)) == 3
    assert solver.instantiate({"answer": "a", "given": {"a": 1, "n": 2}, "params": {"n": "1..3"}}, 0, "k", 1)


# --- an error of the formula is reported at `answer:` ---------------------------


@pytest.mark.parametrize(
    ("formula", "message"),
    [("exp(a)", "overflow"), ("a / (a - 1000)", "division by zero"), ("log(-a)", "math domain error")],
)
def test_an_answer_that_cannot_be_computed_is_reported_at_answer(formula: str, message: str) -> None:
    ((key, text),) = issues({"answer": formula, "given": {"a": 1000}})
    assert key == "answer" and message in text


def test_a_missing_value_is_reported_at_given() -> None:
    ((key, text),) = issues({"answer": "a + b", "given": {"a": 1}, "params": {"b": "1..2"}})
    assert key == "given" and "no value for 'b'" in text


def test_answer_overflow_line_in_a_deck(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## C {#c}\n```numeric\ngiven: {a: 1000}\nanswer: exp(a)\n```\n{{a}}\n"})
    with pytest.raises(DeckErrors) as caught:
        compile_decks([deck_dir])
    (error,) = caught.value.errors
    assert str(error).startswith(f"{deck_dir.as_posix()}/a.md:4: ") and "overflow" in str(error)


def test_unknown_drawn_param_line_in_a_deck(deck_dir: Path) -> None:
    card = "## C {#c}\n```numeric\nanswer: m * v**2 / 2\ngiven: {m: 2, v: 15}\nparams: {vv: 5..40}\n```\n{{m}}\n"
    write_deck(deck_dir, {"a.md": card})
    with pytest.raises(DeckErrors) as caught:
        compile_decks([deck_dir])
    assert [str(e) for e in caught.value.errors] == [
        f"{deck_dir.as_posix()}/a.md:5: numeric block: unknown param 'vv'; the formula uses: m, v"
    ]


# --- found by the fuzz test ------------------------------------------------------------------------


def test_adam_with_no_gradient_history_and_no_epsilon_is_refused() -> None:
    ((key, text),) = issues({"problem": "adam_step", "given": {"x": 1, "grad": 0, "eps": 0}})
    assert key == "given" and "divides by zero" in text


def test_matrix_entries_beyond_int64() -> None:
    (instance,) = solver.instantiate({"problem": "pool2d", "given": {"I": [[-(10**19)], [0]], "kernel": 1}}, 0, "k", 0)
    assert instance.answer[0, 0] == -(10**19)


def test_param_names_must_be_text() -> None:
    ((key, text),) = issues({"answer": "a", "given": {1: 2, "a": 1}})
    assert key == "given" and "param names must be text" in text


def test_a_float_overflow_in_a_family_is_refused_not_raised() -> None:
    ((key, _),) = issues({"problem": "softmax_cross_entropy", "given": {"z": [1e300, 1], "y": 0}})
    assert key == "given"


# --- a formula never hangs a build -------------------------------------------------------------------


@pytest.mark.parametrize("digits", ["10000000", "10**8", "-101", "0.5"])
def test_round_is_asked_for_at_most_100_digits(digits: str) -> None:
    ((key, text),) = issues({"answer": f"round(x / 7, {digits})", "given": {"x": 3}})
    assert key == "answer" and "round(x, " in text and ("n must be from -100 to 100" in text or "whole number" in text)


def test_a_long_chain_of_matrix_products_finishes_in_floats() -> None:
    matrix = [[(i * 7 + j) % 5 / 3 + 0.1 for j in range(12)] for i in range(12)]
    (instance,) = solver.instantiate({"answer": " @ ".join(["A"] * 40), "given": {"A": matrix}}, 0, "k", 0)
    assert isinstance(instance.answer[0, 0], float) and not instance.exact


def test_a_card_whose_formulas_take_too_long_is_an_error_at_its_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    from ankismith.solver import safe_eval

    monkeypatch.setattr(safe_eval, "CARD_BUDGET_SECONDS", 0.0)
    ((key, text),) = issues({"answer": "a + 1", "params": {"a": "1..9"}})
    assert key == "answer" and "take longer than 0 s to compute" in text


def test_sin_and_cos_are_exact_where_their_value_is_rational() -> None:
    # cos(pi * 5 / 10) was 6.1e-17 and a cosine schedule's halfway rate a float shown with ≈
    from fractions import Fraction

    from ankismith.solver import safe_eval

    def value(formula: str) -> object:
        return safe_eval.evaluate(safe_eval.parse(formula, set()), {})

    assert value("cos(pi * 5 / 10)") == 0 and not isinstance(value("cos(pi * 5 / 10)"), float)
    assert value("cos(pi / 3)") == Fraction(1, 2) and value("cos(2 * pi / 3)") == Fraction(-1, 2)
    assert value("sin(7 * pi / 6)") == Fraction(-1, 2) and value("sin(pi)") == 0 and value("cos(pi)") == -1
    assert value("sin(0)") == 0 and not isinstance(value("sin(0)"), float) and value("cos(0)") == 1
    assert isinstance(value("cos(pi / 4)"), float) and isinstance(value("cos(1)"), float)
