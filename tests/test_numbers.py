"""Numbers as the card author writes them, exact where they can be (issue 12, items 2 to 4).

Scientific notation is read wherever a number is, big integers stay exact, a rounded value is
never shown as if it were exact, and each number is written in its shortest exact form, the same
in the question, the worked lines and the answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import write_deck

from ankismith import solver
from ankismith.cards.yamlsafe import load_mapping
from ankismith.pipeline import compile_decks

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


@pytest.mark.parametrize(
    "params",
    ["{lr: [1e-3, 1e-2]}", "{lr: {one_of: [1e-3, 5e-3]}}", "{lr: 1e-3..5e-3}", "{lr: 0.001..0.005 step 1e-3}"],
)
def test_scientific_notation_in_lists_one_of_and_steps(deck_dir: Path, params: str) -> None:
    write_deck(
        deck_dir, {"a.md": f"## C {{#c}}\n```numeric\nanswer: lr\nparams: {params}\nvariants: 6\n```\n{{{{lr}}}}\n"}
    )
    drawn = {n.numeric["params"]["lr"] for n in compile_decks([deck_dir]).decks[0].notes}
    assert drawn and all(0.001 <= v <= 0.005 or v == 0.01 for v in drawn)


def test_drawn_big_ranges_are_exact_and_uniform_enough() -> None:
    spec = {"answer": "m", "params": {"m": "1..99999999999999999999999"}}
    drawn = [i.answer for i in solver.instantiate(spec, 7, "k", 40)]
    assert all(type(v) is int and 1 <= v <= 99999999999999999999999 for v in drawn)
    assert len(set(drawn)) == 40 and sum(v > 10**22 for v in drawn) > 20  # spread over the range
    assert drawn == [i.answer for i in solver.instantiate(spec, 7, "k", 40)]  # and seeded


def test_int64_ranges_draw_as_before() -> None:
    # the numbers of existing decks must not move: inside int64 the draw is numpy's, as it was
    from ankismith.solver import _key_words

    rng = np.random.default_rng([788, *_key_words("k"), 1])
    (instance,) = solver.instantiate({"answer": "W", "params": {"W": "5..32"}}, 788, "k", 1)
    assert instance.answer == int(rng.integers(5, 33))
