"""card.js's pure functions, called in Chromium: the instance rule, number reading, grading."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .built_cards import card_js
from .checks import day_number, hash32
from .origin import TIMEZONE, make_context

ZONE = ZoneInfo(TIMEZONE)


@pytest.fixture(scope="module")
def page(browser, site):
    context = make_context(browser, site)
    page = context.new_page()
    page.set_content("<!doctype html><title>card.js</title>")
    page.add_script_tag(content=card_js())
    yield page
    context.close()


def call(page, name: str, *args: object) -> object:
    return page.evaluate("([name, args]) => ankismith[name](...args)", [name, list(args)])


def test_hash_is_the_documented_one(page):
    texts = [f"{salt}:{day}" for salt in ("3f9a0c1b", "", "zz") for day in (0, 1, 20_000, 20_517, 99_999)]
    assert page.evaluate("(ts) => ts.map((t) => ankismith.hash32(t))", texts) == [hash32(t) for t in texts]


@pytest.mark.parametrize(
    "local",
    [
        datetime(2026, 3, 7, 23, 59, 59, tzinfo=ZONE),
        datetime(2026, 3, 8, 0, 0, 1, tzinfo=ZONE),  # the night clocks go forward
        datetime(2026, 3, 8, 3, 30, tzinfo=ZONE),
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZONE),  # the hour that happens twice
        datetime(2026, 12, 31, 23, 30, tzinfo=ZONE),  # already 2027 in UTC
        datetime(1970, 1, 1, 12, 0, tzinfo=ZONE),
    ],
)
def test_day_number_is_the_local_date(page, local):
    ms = int(local.timestamp() * 1000)
    assert page.evaluate("(ms) => ankismith.dayNumber(new Date(ms))", ms) == day_number(local)


def test_choice_is_spread_and_independent_per_note(page):
    days = list(range(20_000, 20_365))
    first = page.evaluate("(ds) => ds.map((d) => ankismith.chooseIndex('3f9a0c1b', d, 21))", days)
    other = page.evaluate("(ds) => ds.map((d) => ankismith.chooseIndex('5c2e91d4', d, 21))", days)
    counts = Counter(first)
    assert set(counts) == set(range(21)) and max(counts.values()) <= 3 * 365 / 21
    assert sum(a == b for a, b in zip(first, other, strict=True)) < 0.12 * len(days)  # notes do not move in step
    assert call(page, "chooseIndex", "3f9a0c1b", 20_000, 1) == 0


@pytest.mark.parametrize(
    ("hash_", "size", "index"),
    [
        ("#am-instance=3", 21, 3),
        ("#am-instance=0", 21, 0),
        ("#am-instance=40", 21, 20),
        ("#x=1&am-instance=2", 21, 2),
        ("#am-instance=-1", 21, None),
        ("#am-instance=2.5", 21, None),
        ("#am-instance=", 21, None),
        ("#answer", 21, None),
        ("", 21, None),
    ],
)
def test_forced_instance(page, hash_, size, index):
    assert call(page, "forcedIndex", hash_, size) == index


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("2.9", 2.9),
        (" 2.90 ", 2.9),
        ("-6.5", -6.5),
        ("\u22126.5", -6.5),
        ("+4", 4),
        ("61706", 61706),
        ("61,706", 61706),
        ("1,234,567.5", 1234567.5),
        ("61\u202f706", 61706),
        ("1e-3", 0.001),
        ("1.5E3", 1500),
        ("3/4", 0.75),
        ("-3 / 4", -0.75),
        (".5", 0.5),
        ("5.", 5),
        ("6.1706\u00d710^4", 61706),
        ("2*10^(-3)", 0.002),
        ("\u2248 0.1192", 0.1192),
        ("", None),
        ("abc", None),
        ("1,2", None),  # neither thousands nor (for one number) two entries
        ("61,70", None),
        ("2,9", None),  # no decimal comma: it would collide with thousands
        ("1/0", None),
        ("1/2/3", None),
        ("1e999", None),
        ("--1", None),
        ("2 3", None),
        ("0x10", None),
    ],
)
def test_parse_number(page, typed, number):
    assert call(page, "parseNumber", typed) == number


SCALAR = {"value": 2.9, "shown": "2.9", "integer": False}
ROUNDED = {"value": 0.11920292202211755, "shown": "0.1192", "integer": False}
WHOLE = {"value": 61706, "shown": "61706", "integer": True}
ZERO = {"value": 0, "shown": "0", "integer": False}
MATRIX = {
    "value": [[1.5, 2.5], [6, 5], [4.5, 3.5]],
    "shown": [["1.5", "2.5"], ["6.0", "5.0"], ["4.5", "3.5"]],
    "integer": False,
}
INT_MATRIX = {"value": [[1, 2], [3, 4]], "shown": [["1", "2"], ["3", "4"]], "integer": True}
SQUARE = {"value": 5, "shown": "5", "integer": True, "square": True}


@pytest.mark.parametrize(
    ("typed", "instance", "verdict"),
    [
        ("2.9", SCALAR, "correct"),
        ("2.90", SCALAR, "correct"),
        ("29/10", SCALAR, "correct"),
        ("2.9029", SCALAR, "correct"),  # within 0.1 %
        ("2.9031", SCALAR, "wrong"),
        ("2.94", SCALAR, "wrong"),  # rounds to 2.9, but 2.9 is exact: no rounding rule
        ("3", SCALAR, "wrong"),
        ("", SCALAR, "blank"),
        ("   ", SCALAR, "blank"),
        (None, SCALAR, "blank"),
        ("two point nine", SCALAR, "wrong"),
        ("0.1192", ROUNDED, "correct"),  # the answer as shown
        ("0.11924", ROUNDED, "correct"),  # rounds to it
        ("0.119203", ROUNDED, "correct"),
        ("0.1193", ROUNDED, "correct"),  # 0.08 % off: within tolerance
        ("0.1194", ROUNDED, "wrong"),
        ("0.119", ROUNDED, "wrong"),  # 3 digits: 0.17 % off
        ("61706", WHOLE, "correct"),
        ("61,706", WHOLE, "correct"),
        ("6.1706e4", WHOLE, "correct"),
        ("61706.0", WHOLE, "correct"),
        ("61707", WHOLE, "wrong"),
        ("61706.01", WHOLE, "wrong"),  # whole answers are exact (0.00002 % off)
        ("0", ZERO, "correct"),
        ("-0", ZERO, "correct"),
        ("0.0005", ZERO, "correct"),  # an answer of 0: absolute tolerance at scale 1
        ("0.002", ZERO, "wrong"),
        ("1.5 2.5; 6 5; 4.5 3.5", MATRIX, "correct"),
        ("1.5 2.5\n6 5\n4.5 3.5", MATRIX, "correct"),
        ("1.5, 2.5; 6, 5; 4.5, 3.5", MATRIX, "correct"),
        ("[[1.5, 2.5], [6, 5], [4.5, 3.5]]", MATRIX, "correct"),
        ("[1.5 2.5; 6.0 5.0; 4.5 3.5]", MATRIX, "correct"),
        ("3/2 5/2; 6 5; 9/2 7/2", MATRIX, "correct"),
        ("1.5 2.5; 6 5; 4.5 3.5;", MATRIX, "correct"),
        ("1.5 2.5; 6 5.004; 4.5 3.5", MATRIX, "correct"),  # within tolerance
        ("1.5 2.5; 6 5.01; 4.5 3.5", MATRIX, "wrong"),
        ("1.5 2.5; 6 5", MATRIX, "wrong"),  # a row missing
        ("1.5 2.5 6; 5 4.5 3.5", MATRIX, "wrong"),  # transposed shape
        ("1.5 2.5 6 5 4.5 3.5", MATRIX, "wrong"),
        ("1.5 2.5; 6 x; 4.5 3.5", MATRIX, "wrong"),
        ("", MATRIX, "blank"),
        ("1 2; 3 4", INT_MATRIX, "correct"),
        ("1,2;3,4", INT_MATRIX, "correct"),
        ("1 2; 3 4.001", INT_MATRIX, "wrong"),
        ("5", SQUARE, "correct"),
        ("5x5", SQUARE, "correct"),
        ("5 \u00d7 5", SQUARE, "correct"),
        ("5*5", SQUARE, "correct"),
        ("5x6", SQUARE, "wrong"),
        ("25", SQUARE, "wrong"),
    ],
)
def test_grade(page, typed, instance, verdict):
    assert call(page, "grade", typed, instance, 0.001) == verdict


def test_grade_uses_the_pools_tolerance(page):
    assert call(page, "grade", "2.92", SCALAR, 0.01) == "correct"
    assert call(page, "grade", "2.92", SCALAR, None) == "wrong"  # default 0.001


def test_parse_answer_keeps_the_shape(page):
    assert call(page, "parseAnswer", "1 2; 3 4", INT_MATRIX) == [[1, 2], [3, 4]]
    assert call(page, "parseAnswer", "1 2 3", {"value": [1, 2, 3]}) == [1, 2, 3]
    assert call(page, "parseAnswer", "5x5", SQUARE) == 5


def test_local_day_changes_at_local_midnight(page):
    """Late evening in New York is already tomorrow in UTC: the local date decides."""
    evening = datetime(2026, 6, 1, 22, 0, tzinfo=ZONE)
    ms = [int((evening + timedelta(hours=h)).timestamp() * 1000) for h in (0, 1.9, 2.1)]
    days = page.evaluate("(ms) => ms.map((m) => ankismith.dayNumber(new Date(m)))", ms)
    assert days[0] == days[1] == day_number(evening) and days[2] == days[0] + 1
