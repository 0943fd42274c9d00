"""Independent expectations for the browser tests: the documented instance rule, and each fixture
card's answer recomputed from the numbers a student reads on the front (never from the pool)."""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from fractions import Fraction

from .harness import Side

MINUS = "\u2212"


def hash32(text: str) -> int:
    """docs/card-script.md: FNV-1a over the code units, then murmur3's 32-bit finalizer."""
    h = 0x811C9DC5
    for char in text:
        h = ((h ^ ord(char)) * 0x01000193) & 0xFFFFFFFF
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & 0xFFFFFFFF
    h ^= h >> 16
    return h


def day_number(local: datetime) -> int:
    """Days since 1970-01-01 of the local calendar date."""
    return local.date().toordinal() - date(1970, 1, 1).toordinal()


def expected_index(pool: dict, local: datetime) -> int:
    return hash32(f"{pool['salt']}:{day_number(local)}") % len(pool["instances"])


def number(text: str) -> Fraction:
    """A number as a side shows it: typeset math comes out of innerText with breaks between its
    parts ("−\n28"), untypeset math (scripts off) as TeX ("\\(\\approx 0.1429\\)"); either may
    group thousands."""
    for tex in ("\\(", "\\)", "\\approx", "{,}"):
        text = text.replace(tex, "")
    cleaned = "".join(text.split()).replace(MINUS, "-").replace("\u2248", "").replace(",", "")
    return Fraction(cleaned)


def product_sum_operands(question: str) -> tuple[Fraction, Fraction, Fraction]:
    m = re.search(r"a = (\S+), b = (\S+) and c = (\S+), compute", question)
    assert m, f"no a, b, c in the question: {question!r}"
    return number(m[1]), number(m[2]), number(m[3])


def ratio_operands(question: str) -> tuple[int, int]:
    m = re.search(r"For a = (\d+) and b = (\d+), compute", question)
    assert m, f"no a, b in the question: {question!r}"
    return int(m[1]), int(m[2])


def tex_matrices(tex: str) -> list[list[list[Fraction]]]:
    """Every bmatrix in some TeX, as rows of numbers (for sides shown without MathJax)."""
    found = re.findall(r"\\begin\{bmatrix\}(.*?)\\end\{bmatrix\}", tex, re.S)
    return [[[number(x) for x in row.split("&")] for row in body.split(r"\\")] for body in found]


def table(rows: list[list[str]]) -> list[list[Fraction]]:
    return [[number(x) for x in row] for row in rows]


def expected_answer(name: str, front: Side) -> Fraction | list[list[Fraction]]:
    """The right answer for the numbers on the front, computed here."""
    if name == "product-sum":
        a, b, c = product_sum_operands(front.question or "")
        return a * b + c
    if name == "ratio":
        a, b = ratio_operands(front.question or "")
        return Fraction(a, b)
    if name == "matrix-sum":
        if front.question_tables:
            left, right = (table(t) for t in front.question_tables)
        else:  # scripts off: the TeX itself
            left, right = tex_matrices(" ".join(front.math_tex))
        return [[x + y for x, y in zip(p, q, strict=True)] for p, q in zip(left, right, strict=True)]
    raise AssertionError(f"no recomputation for {name}")


def shown_answer(name: str, back: Side) -> Fraction | list[list[Fraction]]:
    """The answer the back displays, read off the page."""
    if name == "matrix-sum":
        if back.answer_tables:
            return table(back.answer_tables[0])
        return tex_matrices(back.answer or "")[0]
    return number(back.answer or "")


def assert_answer_fits_front(name: str, front: Side, back: Side) -> None:
    want = expected_answer(name, front)
    got = shown_answer(name, back)
    if name == "ratio":  # shown to 4 significant digits
        half_unit = Fraction(1, 2) * Fraction(10) ** (math.floor(math.log10(want)) - 3)
        assert abs(got - want) <= half_unit, f"ratio: the back shows {got}, the front's numbers give {want}"
    else:
        assert got == want, f"{name}: the back shows {got}, the front's numbers give {want}"


def decimal(x: Fraction, digits: int = 12) -> str:
    """A plain decimal string with up to `digits` decimals and no trailing zeros."""
    text = f"{float(x):.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def typed_for(name: str, want: Fraction | list[list[Fraction]], kind: str) -> tuple[str, str]:
    """What a student types on a given kind of day, and the verdict it deserves."""
    if isinstance(want, list):
        whole = all(x.denominator == 1 for row in want for x in row)
        rows = lambda f: "; ".join(" ".join(decimal(f(x)) for x in row) for row in want)  # noqa: E731
        if kind == "exact":
            return rows(lambda x: x), "correct"
        if kind == "close":  # 0.05 % off: inside the tolerance, unless the answer is whole
            return rows(lambda x: x * Fraction(10005, 10000)), "wrong" if whole and any(
                any(r) for r in want
            ) else "correct"
        if kind == "wrong":
            return rows(lambda x: x + 1), "wrong"
        if kind == "formatted":
            inner = ", ".join("[" + ", ".join(decimal(x).replace("-", MINUS) for x in row) + "]" for row in want)
            return f" [{inner}] ", "correct"
        return "", "blank"
    if kind == "exact":
        return decimal(want), "correct"
    if kind == "close":
        return decimal(want * Fraction(10005, 10000) if want else Fraction(5, 10_000)), (
            "wrong" if want.denominator == 1 else "correct"
        )
    if kind == "wrong":
        return decimal(want * Fraction(1003, 1000) if want else Fraction(1, 100)), "wrong"
    if kind == "formatted":  # a real minus sign, a trailing zero, spaces around
        text = decimal(want).replace("-", MINUS)
        return f"  {text}{'' if '.' in text else '.'}0 ", "correct"
    return "", "blank"


KINDS = ("exact", "close", "wrong", "blank", "formatted")
