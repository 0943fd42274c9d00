"""Numbers as the card author writes them, exact where they can be.

Scientific notation is read wherever a number is, big integers stay exact, a rounded value is
never shown as if it were exact, and each number is written in its shortest exact form, the same
in the question, the worked lines and the answer.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from conftest import write_deck

from ankismith import solver
from ankismith.cards.yamlsafe import load_mapping
from ankismith.pipeline.run import compile_decks
from ankismith.solver.values import format_number, is_exact, to_tex, to_text

# --- item 2: scientific notation --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("m: 1e3", 1000.0),
        ("lr: 1e-3", 0.001),
        ("lr: 1.5e-3", 0.0015),
        ("x: -2E+10", -2e10),
        ("x: .5e2", 50.0),
        ("x: 1.0e-3", 0.001),  # YAML 1.1 already read this one
    ],
)
def test_yaml_reads_scientific_notation_as_numbers(text: str, value: float) -> None:
    assert load_mapping(text).data == {text.split(":")[0]: value}


def test_yaml_keeps_text_that_is_not_a_number() -> None:
    assert load_mapping("a: 1e\nb: e5\nc: '1e3'\nd: 1e2..1e3\ne: 1_000\n").data == {
        "a": "1e",
        "b": "e5",
        "c": "1e3",
        "d": "1e2..1e3",
        "e": 1000,
    }


def test_yaml_refuses_an_absurdly_long_integer_at_its_line() -> None:
    from ankismith.cards.yamlsafe import YamlProblem

    with pytest.raises(YamlProblem, match="5,000 digits is too long") as caught:
        load_mapping("a: 1\nb: " + "9" * 5000 + "\n")
    assert caught.value.line in (1, 2)  # 0-based inside the text here, or counted from its first line


SCI_CARD = """
## Scientific {#sci}
```numeric
answer: m * lr
given: {m: 1e3, lr: 1e-3}
params:
  m: 1e2..1e3
  lr: 1e-4..1e-2 step 1e-4
variants: 5
```
$m = {{m}}$, $\\eta = {{lr}}$, in text {{m}} and {{lr}}.
"""


def test_scientific_notation_everywhere_a_number_is_accepted(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": SCI_CARD})
    given = next(n for n in compile_decks([deck_dir]).decks[0].notes if n.key == "sci")
    assert given.numeric["params"] == {"m": 1000, "lr": 0.001}
    assert given.numeric["answer"] == 1
    question = dict(given.fields)["Question"]
    assert r"\(m = 1000\)" in question and r"\(\eta = 0.001\)" in question
    assert "in text 1000 and 0.001" in question
    spec = {"answer": "m * lr", "params": {"m": "1e2..1e3", "lr": "1e-4..1e-2 step 1e-4"}}
    for instance in solver.instantiate(spec, 0, "sci", 5):
        m, lr = instance.params["m"], instance.params["lr"]
        assert isinstance(m, int) and 100 <= m <= 1000
        assert Fraction(1, 10_000) <= lr <= Fraction(1, 100) and (lr * 10_000).denominator == 1  # on the grid


@pytest.mark.parametrize(
    "params",
    ["{lr: [1e-3, 1e-2]}", "{lr: {one_of: [1e-3, 5e-3]}}", "{lr: 1e-3..5e-3}", "{lr: 0.001..0.005 step 1e-3}"],
)
def test_scientific_notation_in_lists_one_of_and_steps(deck_dir: Path, params: str) -> None:
    write_deck(
        deck_dir, {"a.md": f"## C {{#c}}\n```numeric\nanswer: lr\nparams: {params}\nvariants: 6\n```\n{{{{lr}}}}\n"}
    )
    assert compile_decks([deck_dir]).decks[0].notes  # the deck builds
    spec = {"answer": "lr", "params": {"lr": load_mapping(f"lr: {params[5:-1]}").data["lr"]}}
    drawn = {instance.params["lr"] for instance in solver.instantiate(spec, 0, "c", 6)}
    assert drawn and all(Fraction(1, 1000) <= v <= Fraction(5, 1000) or v == Fraction(1, 100) for v in drawn)


@pytest.mark.parametrize(
    ("value", "text", "tex"),
    [
        (Fraction(1, 1000), "0.001", "0.001"),
        (Fraction(1, 10**4), "0.0001", "0.0001"),
        (Fraction(1, 10**5), "1×10⁻⁵", r"1 \times 10^{-5}"),
        (Fraction(1, 10**8), "1×10⁻⁸", r"1 \times 10^{-8}"),
        (Fraction(-25, 10**7), "-2.5×10⁻⁶", r"-2.5 \times 10^{-6}"),
        (1000, "1000", "1000"),
        (10**6, "1,000,000", "1{,}000{,}000"),
        (10**20, "1×10²⁰", r"1 \times 10^{20}"),
        (2 * 10**20, "2×10²⁰", r"2 \times 10^{20}"),
    ],
)
def test_how_numbers_in_scientific_notation_are_written(value: object, text: str, tex: str) -> None:
    assert format_number(value) == text
    assert format_number(value, tex=True) == tex


def test_adam_epsilon_reads_as_written(deck_dir: Path) -> None:
    card = (
        "## A {#a}\n```numeric\nproblem: adam_step\ngiven: {x: 1, grad: 0.5, eps: 1e-8}\n```\n"
        "$\\epsilon = {{eps}}$, {{eps}}\n"
    )
    write_deck(deck_dir, {"a.md": card})
    note = compile_decks([deck_dir]).decks[0].notes[0]
    assert r"\(\epsilon = 1 \times 10^{-8}\)" in dict(note.fields)["Question"]
    assert "1×10⁻⁸" in dict(note.fields)["Question"]
    assert r"\sqrt{0.25} + 1 \times 10^{-8}" in dict(note.fields)["Solution"]


# --- item 3: big numbers exact ------------------------------------------------------------------

M = 111_111_111_011_111_111_101_111_111_110  # 30 digits


def test_big_integers_stay_exact_in_formulas() -> None:
    (instance,) = solver.instantiate({"answer": "m * v**2 / 2", "given": {"m": M, "v": 15}}, 0, "k", 0)
    assert instance.answer == M * 225 // 2 and instance.exact  # M * 225 is even
    assert instance.answer_tex == format_number(M * 225 // 2, tex=True)
    assert instance.answer_tex.replace("{,}", "") == str(M * 225 // 2)
    assert instance.steps[-1] == "&= " + instance.answer_tex


def test_a_rounded_big_number_is_never_shown_as_an_exact_integer() -> None:
    (instance,) = solver.instantiate({"answer": "sqrt(m) * 10**6", "given": {"m": M}}, 0, "k", 0)
    assert not instance.exact
    assert re.fullmatch(r"\d\.\d{3} \\times 10\^\{20\}", instance.answer_tex), instance.answer_tex
    (instance,) = solver.instantiate({"answer": "sqrt(m)", "given": {"m": M}}, 0, "k", 0)  # below 10^15:
    assert instance.answer_tex == "333{,}333{,}333{,}183{,}333"  # every digit before the point, with ≈
    (instance,) = solver.instantiate({"answer": "m / 3", "given": {"m": M + 1}}, 0, "k", 0)
    assert not instance.exact and instance.answer_tex == r"3.704 \times 10^{28}"
    assert instance.steps[-1] == r"&\approx 3.704 \times 10^{28}"


@pytest.mark.parametrize(
    ("family", "given", "expected"),
    [
        ("dense_params", {"layers": [100_000] * 32}, 31 * (100_000 * 100_000 + 100_000)),
        ("lstm_params", {"input": 100_000, "hidden": 100_000}, 4 * (100_000 * 200_000 + 200_000)),
        ("conv_macs", {"H": 4096, "C_in": 4096, "C_out": 4096, "F": 15}, (4096 - 14) ** 2 * 4096 * 4096 * 225),
    ],
)
def test_integer_families_are_exact_at_their_bounds(family: str, given: dict, expected: int) -> None:
    (instance,) = solver.instantiate({"problem": family, "given": given}, 0, "k", 0)
    assert instance.answer == expected and type(instance.answer) is int
    assert instance.answer_tex.replace("{,}", "") == str(expected)


def test_big_matrix_entries_do_not_overflow() -> None:
    big = 10**18
    (instance,) = solver.instantiate({"answer": "A @ A", "given": {"A": [[big, 1], [1, big]]}}, 0, "k", 0)
    assert instance.answer[0, 0] == big * big + 1 and instance.exact
    assert to_tex(instance.answer, True).startswith(r"\begin{bmatrix} 1{,}000{,}000{,}000{,}000")
    assert to_tex(instance.answer, True).replace("{,}", "").startswith(r"\begin{bmatrix} " + str(big * big + 1))


def test_drawn_big_ranges_are_exact_and_uniform_enough() -> None:
    spec = {"answer": "m", "params": {"m": "1..99999999999999999999999"}}
    drawn = [i.answer for i in solver.instantiate(spec, 7, "k", 40)]
    assert all(type(v) is int and 1 <= v <= 99999999999999999999999 for v in drawn)
    assert len(set(drawn)) == 40 and sum(v > 10**22 for v in drawn) > 20  # spread over the range
    assert drawn == [i.answer for i in solver.instantiate(spec, 7, "k", 40)]  # and seeded


def test_int64_ranges_draw_as_before() -> None:
    # the numbers of existing decks must not move: inside int64 the draw is numpy's, as it was
    from ankismith.solver.instantiate import _key_words

    rng = np.random.default_rng([788, *_key_words("k"), 1])
    (instance,) = solver.instantiate({"answer": "W", "params": {"W": "5..32"}}, 788, "k", 1)
    assert instance.answer == int(rng.integers(5, 33))


# --- item 4: numbers as written -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.0, "1"), (0.0, "0"), (-0.0, "0"), (-0.5, "-0.5"), (6.0, "6"), (Fraction(29, 10), "2.9"), (61706, "61,706")],
)
def test_shortest_form(value: object, text: str) -> None:
    assert format_number(value) == text


def test_matrices_are_written_entry_by_entry_in_shortest_form() -> None:
    assert to_tex(np.array([[-0.5, 1.0], [1.5, 0.0]])) == r"\begin{bmatrix} -0.5 & 1 \\ 1.5 & 0 \end{bmatrix}"
    assert to_text(np.array([[1.5, 2.5], [6.0, 5.0]])) == "[[1.5, 2.5], [6, 5]]"


def test_exam_convolution_is_the_same_in_question_steps_and_answer(bundled_copy: Path) -> None:
    note = next(n for n in compile_decks([bundled_copy]).decks[0].notes if n.key == "conv2d-feature-map")
    fields = dict(note.fields)
    assert r"K = \begin{bmatrix} -0.5 &amp; 1 \\ 1.5 &amp; 0 \end{bmatrix}" in fields["Question"]
    assert r"\begin{bmatrix} 1.5 &amp; 2.5 \\ 6 &amp; 5 \\ 4.5 &amp; 3.5 \end{bmatrix}" in fields["Answer"]
    assert r"+ 1 \cdot 0 = 6 \\" in fields["Solution"] and r"+ 4 \cdot 0 = 5 \\" in fields["Solution"]
    assert "6.0" not in str(fields) and "1.0" not in str(fields)


def test_decimals_are_exact_in_formulas() -> None:
    (instance,) = solver.instantiate({"answer": "a + b", "given": {"a": 0.1, "b": 0.2}}, 0, "k", 0)
    assert instance.exact and instance.answer_tex == "0.3" and instance.steps[-1] == "&= 0.3"
    (instance,) = solver.instantiate({"answer": "a / 3", "given": {"a": 1}}, 0, "k", 0)
    assert not instance.exact and instance.answer_tex == "0.3333" and instance.steps[-1] == r"&\approx 0.3333"


def test_long_exact_results_are_rounded_with_approx() -> None:
    (instance,) = solver.instantiate({"answer": "1 - b ** 10", "given": {"b": 0.9}}, 0, "k", 0)
    assert instance.answer == Fraction(6513215599, 10**10)
    assert not instance.exact and instance.answer_tex == "0.6513"


def test_is_exact_never_trusts_a_float() -> None:
    assert not is_exact(0.25) and is_exact(Fraction(1, 4)) and is_exact(10**40)
