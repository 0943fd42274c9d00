"""card.js's pure functions, called in Chromium: the instance rule, and number reading, grading and math
delimiters on the tables of cases (tests/cases/) that Python's twin follows too."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ankismith.render import grading

from .built_cards import card_js
from .checks import day_number, hash32
from .origin import TIMEZONE, make_context

ZONE = ZoneInfo(TIMEZONE)
CASES = Path(__file__).resolve().parent.parent / "cases"


def table(name: str) -> dict:
    """A table of cases that drives the Python side's tests too (tests/render/test_grading.py)."""
    return json.loads((CASES / name).read_text(encoding="utf-8"))


def case_id(case: dict) -> str:
    return f"{case.get('part', '')}:{case.get('typed', case.get('text'))!r}"


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


NUMBERS = table("numbers.json")["cases"]
GRADING = table("grading.json")
DELIMITERS = table("math_delimiters.json")["cases"]


@pytest.mark.parametrize("case", NUMBERS, ids=case_id)
def test_parse_number(page, case):
    assert call(page, "parseNumber", case["text"]) == case["value"], case.get("why")


@pytest.mark.parametrize("case", GRADING["cases"], ids=case_id)
def test_grade_and_mistakes(page, case):
    """The table Python's grader follows too (tests/render/test_grading.py)."""
    part = GRADING["parts"][case["part"]]
    tolerance = case.get("tolerance", 0.001)
    exact = [case["exact_ints"]] if "exact_ints" in case else []  # left out: the script's default
    got = page.evaluate(
        "([typed, part, tol, exact]) => [ankismith.grade(typed, part, tol, ...exact),"
        " ankismith.matchingMistakes(typed, part, tol, ...exact).map((m) => m.label),"
        " ankismith.parseAnswer(typed ?? '', part)]",
        [case["typed"], part, tolerance, exact],
    )
    assert got[0] == case["verdict"], case.get("why")
    assert got[1] == case.get("mistakes", []), case.get("why")
    if "read" in case:
        assert got[2] == case["read"], case.get("why")


@pytest.mark.parametrize("case", DELIMITERS, ids=lambda c: repr(c["text"]))
def test_raw_math(page, case):
    assert page.evaluate("(t) => ankismith.RAW_MATH.test(t)", case["text"]) is case["math"], case.get("why")


ALPHABET = "0123456789" * 3 + "..,,  -+eEkKMGmJB/x×*^()[];\n\t\u2212\u00a0\u202f\u2248~=%" + "\u0663\ufeff\x1c\x85"
FUZZ_PARTS = [
    {"value": 61706, "shown": "61706", "integer": True},
    {"value": 0.11920292202211755, "shown": "0.1192", "integer": False, "unit": "J"},
    {"value": 1.5, "shown": "1.5", "integer": False, "unit": "MB", "mistakes": [{"label": "m", "value": 1500000}]},
    {"value": [[1, 2], [3, 4]], "shown": [["1", "2"], ["3", "4"]], "integer": True},
    {"value": 5, "shown": "5", "integer": True, "square": True, "unit": "px"},
]


def test_python_and_the_card_read_and_grade_alike(page):
    """A differential check beyond the table: many seeded scraps of typed text (digits, separators,
    multipliers, units, odd spaces), read and graded by both; every result must agree."""
    rng = random.Random(788)
    texts = []
    for _ in range(3000):
        n = rng.randint(1, 12)
        texts.append("".join(rng.choice(ALPHABET) for _ in range(n)))
    texts += [
        rng.choice(["", "-", "\u2248 "]) + str(rng.randint(0, 99999)) + rng.choice(["", ".", ".5", "k", " M", "e3"])
        for _ in range(1000)
    ]
    js = page.evaluate(
        """([texts, parts]) => texts.map((t) => [ankismith.parseNumber(t)].concat(parts.map((p) =>
             [ankismith.grade(t, p, 0.001, false), ankismith.matchingMistakes(t, p).map((m) => m.label),
               ankismith.parseAnswer(t, p)])))""",
        [texts, FUZZ_PARTS],
    )
    readable = 0
    for text, got in zip(texts, js, strict=True):
        want = [grading.parse_number(text)] + [
            [grading.grade(text, p, 0.001, False), grading.matching_mistakes(text, p), grading.parse_answer(text, p)]
            for p in FUZZ_PARTS
        ]
        assert got == want, repr(text)
        readable += want[0] is not None
    assert 0.1 * len(texts) < readable < 0.9 * len(texts), "the scraps should be a mix of numbers and not"


def test_parse_answer_keeps_the_shape(page):
    assert call(page, "parseAnswer", "1 2; 3 4", GRADING["parts"]["int_matrix"]) == [[1, 2], [3, 4]]
    assert call(page, "parseAnswer", "1 2 3", {"value": [1, 2, 3]}) == [1, 2, 3]
    assert call(page, "parseAnswer", "5x5", GRADING["parts"]["square"]) == 5


def test_local_day_changes_at_local_midnight(page):
    """Late evening in New York is already tomorrow in UTC: the local date decides."""
    evening = datetime(2026, 6, 1, 22, 0, tzinfo=ZONE)
    ms = [int((evening + timedelta(hours=h)).timestamp() * 1000) for h in (0, 1.9, 2.1)]
    days = page.evaluate("(ms) => ms.map((m) => ankismith.dayNumber(new Date(m)))", ms)
    assert days[0] == days[1] == day_number(evening) and days[2] == days[0] + 1
