"""Python's grader (render/grading.py) on the tables of cases that also drive the card script's tests
(tests/browser/test_card_functions.py): numbers, typed answers, mistakes, math delimiters."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from ankismith import rules
from ankismith.render import grading

CASES = Path(__file__).resolve().parent.parent / "cases"


def table(name: str) -> dict:
    return json.loads((CASES / name).read_text(encoding="utf-8"))


NUMBERS = table("numbers.json")["cases"]
GRADING = table("grading.json")
DELIMITERS = table("math_delimiters.json")["cases"]


def case_id(case: dict) -> str:
    return f"{case.get('part', '')}:{case.get('typed', case.get('text'))!r}"


@pytest.mark.parametrize("case", NUMBERS, ids=case_id)
def test_parse_number(case):
    assert grading.parse_number(case["text"]) == case["value"], case.get("why")


def grade_args(case: dict) -> tuple:
    part = GRADING["parts"][case["part"]]
    return case["typed"], part, case.get("tolerance", 0.001), case.get("exact_ints", True)


@pytest.mark.parametrize("case", GRADING["cases"], ids=case_id)
def test_grade_and_mistakes(case):
    typed, part, tolerance, exact_ints = grade_args(case)
    if "exact_ints" in case:
        assert grading.grade(typed, part, tolerance, exact_ints) == case["verdict"], case.get("why")
    else:
        assert grading.grade(typed, part, tolerance) == case["verdict"], case.get("why")
    assert grading.matching_mistakes(typed, part, tolerance, exact_ints) == case.get("mistakes", []), case.get("why")
    if "read" in case:
        assert grading.parse_answer(typed, part) == case["read"], case.get("why")


@pytest.mark.parametrize("case", DELIMITERS, ids=lambda c: repr(c["text"]))
def test_math_open(case):
    assert bool(rules.MATH_OPEN.search(case["text"])) is case["math"], case.get("why")


def test_the_tables_cover_every_rule():
    """Each table holds what it must pin down: a verdict of each kind, mistakes, units, exact_ints both ways."""
    cases = GRADING["cases"]
    assert {c["verdict"] for c in cases} == {"correct", "wrong", "blank"}
    assert any(len(c.get("mistakes", [])) > 1 for c in cases)
    assert {c.get("exact_ints") for c in cases} == {None, True, False}
    assert any("unit" in GRADING["parts"][c["part"]] for c in cases)
    assert {c["part"] for c in cases} == set(GRADING["parts"]), "a part no case uses"
    assert any(c["value"] is None for c in NUMBERS) and any(isinstance(c["value"], float) for c in NUMBERS)
    assert {c["math"] for c in DELIMITERS} == {True, False}


def test_values_from_the_solver_are_graded_too():
    """The lead's side grades a mistake's value against the answer before writing it: Fractions, ints, floats."""
    part = {"value": 0.5, "shown": "0.5", "integer": False}
    assert grading.value_is_right(Fraction(1, 2), part)
    assert grading.value_is_right(0.5004, part) and not grading.value_is_right(0.5006, part)
    assert not grading.value_is_right(True, {"value": 1, "shown": "1", "integer": True}), "a bool is no number"
    whole = {"value": 90, "shown": "90", "integer": True}
    assert not grading.value_is_right(89.5, whole, 0.01) and grading.value_is_right(89.5, whole, 0.01, False)
    matrix = {"value": [[1, 2], [3, 4]], "shown": [["1", "2"], ["3", "4"]], "integer": True}
    assert grading.value_is_right([[1, 2], [3, 4]], matrix) and not grading.value_is_right([[1, 2]], matrix)
    assert grading.is_whole([[1.0, 2]]) and not grading.is_whole(2.5) and not grading.is_whole("2")


def test_the_preview_says_how_a_card_grades() -> None:
    from ankismith.render.grading import describe

    part = {"name": "", "label": "", "value": 90, "shown": "90", "integer": True}
    default = {"type": True, "tolerance": 0.001, "exact_ints": True, "instances": [{"parts": [part]}]}
    assert describe(default) == "Graded within 0.1% or to the digits shown; whole-number answers must be exact."
    own = default | {"tolerance": 0.01, "exact_ints": False}
    assert describe(own) == (
        "Graded within 1% (the card's own tolerance), whole-number answers too, or to the digits shown."
    )
    with_unit = own | {"instances": [{"parts": [part | {"unit": "J"}, part | {"name": "b", "unit": "J"}]}]}
    assert describe(with_unit).endswith("; the unit (J) may be typed or left out; 2 parts, each graded on its own.")
    assert describe(default | {"type": False}).startswith("No answer box")
