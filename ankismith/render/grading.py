"""How a typed answer is read and graded: the Python twin of the card script (package/assets/card.js).

The card grades in the browser; Python needs the same rules to drop a mistake that would be
graded right and to check cards at build time. One table of cases (tests/cases/grading.json and
numbers.json) drives the tests of both sides: change a rule here, in card.js and in the table
together. Numbers are IEEE doubles on both sides and every step is written the same way, so the two
agree to the last bit. docs/card-script.md says the rules in prose.

A part is a dict as the pool (format 2) carries it: `value` (number, flat list or list of rows),
`shown`, `integer`, optionally `square`, `unit` and `mistakes` ([{"label", "value", "shown"}]).
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_TOLERANCE = 0.001
MULTIPLIERS = {"k": 3, "K": 3, "M": 6, "G": 9}  # a count typed as 1.05M, 61.706k: powers of ten
MAX_EXPONENT = 9999  # beyond this a typed exponent is unreadable (both sides stop at the same place)

Number = float
Answer = float | list[float] | list[list[float]]

_A = re.ASCII  # \d and \s as in JavaScript: ASCII digits; whitespace is normalised to " " and "\n" first
_LINE_BREAKS = re.compile("\r\n?|[\u2028\u2029\x85]")
_SPACES = re.compile("[\t\x0b\x0c\x1c-\x1f\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\ufeff]")
_MINUS = re.compile("[\u2212\u2012\u2013\u2014\ufe63\uff0d]")
_APPROX = re.compile(r"^\s*[\u2248~=]\s*", _A)
_PLAIN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?", _A | re.I)
_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?|[+-]?\d{1,3}(?: \d{3})+(?:\.\d*)?", _A)
_MANTISSA = re.compile(r"([^eE]+)(?:[eE]([+-]?\d+))?", _A)
_SUFFIXED = re.compile(r"(.+?)\s*([kKMG])", _A)
_TIMES_TEN = re.compile(r"(.+?)\s*[x\u00d7*\u00b7]\s*10\s*\^\s*\(?\s*([+-]?\d+)\s*\)?", _A | re.I)
_ROW_BREAK = re.compile(r"\s*(?:;|\n)\s*", _A)
_BETWEEN_ROWS = re.compile(r"\]\s*[,;]?\s*\[", _A)
_BRACKETS = re.compile(r"[\[\]]")
_SQUARE = re.compile(r"(.+?)\s*[x\u00d7*]\s*(.+)", _A | re.I)
_DECIMAL = re.compile(r"[+-]?\d+(?:\.\d+)?", _A)
_DECIMALS = re.compile(r"\.(\d+)$", _A)


def clean(text: str) -> str:
    """Typed text as the rules read it: one kind of minus, of space and of line break; no leading ≈."""
    s = _LINE_BREAKS.sub("\n", str(text))
    s = _SPACES.sub(" ", s)
    s = _MINUS.sub("-", s)
    s = _APPROX.sub("", s, count=1)
    return s.strip(" \n")


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _scaled(plain: str, extra: int) -> float | None:
    """A plain decimal times 10**extra, read in one go (61.706 with k is exactly 61706)."""
    m = _MANTISSA.fullmatch(plain)
    if m is None:
        return None
    exponent = (int(m[2]) if m[2] else 0) + extra
    if abs(exponent) > MAX_EXPONENT:
        return None
    return _finite(float(f"{m[1]}e{exponent}"))


def _simple(text: str, extra: int = 0) -> float | None:
    s = text.strip(" \n")
    if _PLAIN.fullmatch(s):
        return _scaled(s, extra)
    if _GROUPED.fullmatch(s):
        return _scaled(s.replace(",", "").replace(" ", ""), extra)
    return None


def parse_number(text: str) -> float | None:
    """A number as people type it (2.90, −6.5, 61,706, 1e-3, 3/4, 1.2×10^-3, 61.706k, 1.05M); else None."""
    s = clean(text)
    m = _SUFFIXED.fullmatch(s)
    if m:
        return _simple(m[1], MULTIPLIERS[m[2]])
    m = _TIMES_TEN.fullmatch(s)
    if m:
        mantissa = m[1].strip(" \n")
        return _scaled(mantissa, int(m[2])) if _PLAIN.fullmatch(mantissa) else None
    parts = s.split("/")
    if len(parts) == 2:
        num, den = _simple(parts[0]), _simple(parts[1])
        return None if num is None or den is None or den == 0 else _finite(num / den)
    return _simple(s) if len(parts) == 1 else None


def without_unit(text: str, unit: Any) -> str:
    """The typed text without the part's unit at its end (as the card writes the unit, case and all)."""
    s = clean(text)
    u = clean(unit) if isinstance(unit, str) else ""
    if u and len(s) > len(u) and s.endswith(u):
        return s[: -len(u)].strip(" \n")
    return s


def _row(text: str, cols: int) -> list[float] | None:
    """One row of `cols` entries, split at spaces, or at commas where that gives the right count."""
    for tokens in (re.split(r"\s+", text, flags=_A), re.split(r"[\s,]+", text, flags=_A)):
        tokens = [t for t in tokens if t != ""]
        if len(tokens) != cols:
            continue
        row = [parse_number(t) for t in tokens]
        if None not in row:
            return row  # type: ignore[return-value]
    return None


def _matrix(text: str, rows: int, cols: int) -> list[list[float]] | None:
    """Rows separated by ";" or new lines (or written as [[a, b], [c, d]]), exactly rows × cols."""
    s = clean(text)
    if "[" in s:
        s = _BRACKETS.sub(" ", _BETWEEN_ROWS.sub(";", s))
    lines = [line for line in _ROW_BREAK.split(s) if line.strip(" \n") != ""]
    if len(lines) != rows:
        return None
    out = []
    for line in lines:
        row = _row(line.strip(" \n"), cols)
        if row is None:
            return None
        out.append(row)
    return out


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)


def _rows(value: Any) -> list[list[float]] | None:
    """A part's value as rows of floats (a number is one row of one; a flat list is one row); None if malformed."""
    if _is_number(value):
        return [[float(value)]]
    if not isinstance(value, list | tuple) or not value:
        return None
    if all(_is_number(x) for x in value):
        return [[float(x) for x in value]]
    if not all(isinstance(r, list | tuple) and r and len(r) == len(value[0]) for r in value):
        return None
    if not all(_is_number(x) for r in value for x in r):
        return None
    return [[float(x) for x in r] for r in value]


def parse_answer(text: str, part: Mapping[str, Any]) -> Answer | None:
    """The typed answer in the shape of the part's value (number, flat list or rows); None if unreadable."""
    value = part.get("value")
    rows = _rows(value)
    if rows is None:
        return None
    s = without_unit(text, part.get("unit"))
    if isinstance(value, list | tuple):
        got = _matrix(s, len(rows), len(rows[0]))
        return got[0] if got is not None and not isinstance(value[0], list | tuple) else got
    if part.get("square") is True:
        m = _SQUARE.fullmatch(s)
        if not m:
            return parse_number(s)
        a, b = parse_number(m[1]), parse_number(m[2])
        return a if a is not None and a == b else None
    return parse_number(s)


def _entry_is_right(
    got: float, value: float, shown: Any, integer: bool, exact_ints: bool, tolerance: float, scale: float
) -> bool:
    """One entry: exact; or, when `shown` is a rounding of `value`, rounds to it; or within tolerance."""
    if got == value:
        return True
    if integer and exact_ints:
        return False
    text = clean(shown) if isinstance(shown, str) else ""
    if _DECIMAL.fullmatch(text):
        s = float(text)
        if s != value:
            m = _DECIMALS.search(text)
            half = 0.5 * float(f"1e-{len(m[1]) if m else 0}")
            if abs(got - s) <= half * (1 + 1e-9):
                return True
    ref = abs(value) if value != 0 else scale  # an answer of 0: absolute, at the answer's scale
    return abs(got - value) <= tolerance * ref * (1 + 1e-9)


def _tolerance(tolerance: Any) -> float:
    return float(tolerance) if _is_number(tolerance) and tolerance >= 0 else DEFAULT_TOLERANCE


def value_is_right(got: Any, part: Mapping[str, Any], tolerance: Any = None, exact_ints: Any = True) -> bool:
    """Whether a value (a number or rows, as parse_answer gives it, or a mistake's) is right for the part."""
    want = _rows(part.get("value"))
    have = _rows(got)
    if want is None or have is None or len(have) != len(want) or len(have[0]) != len(want[0]):
        return False
    shown = part.get("shown")
    if not isinstance(part.get("value"), list | tuple):
        shown_rows = [[shown]]
    else:
        shown_rows = _as_rows(shown) if isinstance(shown, list) else []
    scale = max(abs(x) for row in want for x in row) or 1  # the largest entry: an answer of 0 is measured against it
    tol, integer, exact = _tolerance(tolerance), part.get("integer") is True, exact_ints is not False
    for i, row in enumerate(want):
        for j, x in enumerate(row):
            line = shown_rows[i] if i < len(shown_rows) else None
            entry = line[j] if isinstance(line, list) and j < len(line) else None
            if not _entry_is_right(have[i][j], x, entry, integer, exact, tol, scale):
                return False
    return True


def _as_rows(value: list[Any]) -> list[Any]:
    """A list as rows: a flat list is one row (as card.js's asRows)."""
    return value if value and isinstance(value[0], list) else [value]


def _blank(typed: str | None) -> bool:
    return typed is None or clean(typed) == ""


def grade(typed: str | None, part: Mapping[str, Any], tolerance: Any = None, exact_ints: Any = True) -> str:
    """ "correct", "wrong" or "blank" for what was typed into a part's box (None: nothing reached the back)."""
    if _blank(typed):
        return "blank"
    got = parse_answer(typed, part)  # type: ignore[arg-type]
    return "correct" if got is not None and value_is_right(got, part, tolerance, exact_ints) else "wrong"


def is_whole(value: Any) -> bool:
    """Whether every entry of a value is a whole number (a mistake without `integer` is judged by this)."""
    rows = _rows(value)
    return rows is not None and all(x.is_integer() for row in rows for x in row)


def mistake_part(mistake: Mapping[str, Any], part: Mapping[str, Any]) -> dict[str, Any]:
    """A mistake graded as if it were the answer: its value and shown text, the part's shape and unit."""
    integer = mistake.get("integer")
    return {
        "value": mistake.get("value"),
        "shown": mistake.get("shown"),
        "integer": integer if isinstance(integer, bool) else is_whole(mistake.get("value")),
        "square": part.get("square") is True,
        "unit": part.get("unit"),
    }


def matching_mistakes(
    typed: str | None, part: Mapping[str, Any], tolerance: Any = None, exact_ints: Any = True
) -> list[str]:
    """The labels of the part's mistakes a wrong answer matches, by the rules that grade the answer."""
    if grade(typed, part, tolerance, exact_ints) != "wrong":
        return []
    mistakes: Sequence[Any] = part.get("mistakes") or []
    return [
        m["label"]
        for m in mistakes
        if isinstance(m, Mapping)
        and isinstance(m.get("label"), str)
        and grade(typed, mistake_part(m, part), tolerance, exact_ints) == "correct"
    ]


def describe(pool: Mapping[str, Any]) -> str:
    """How the card of this pool grades what is typed, in one sentence (the preview shows it)."""
    if not pool.get("type", True):
        return "No answer box: the back shows the answer and the worked solution."
    tolerance = _tolerance(pool.get("tolerance"))
    percent = f"{tolerance * 100:g}%"
    instances = pool.get("instances") or [{}]
    parts = instances[0].get("parts") or [{}]
    units = sorted({p["unit"] for p in parts if isinstance(p.get("unit"), str) and p["unit"]})
    if pool.get("exact_ints") is False:
        rule = f"Graded within {percent} (the card's own tolerance), whole-number answers too, or to the digits shown"
    else:
        rule = f"Graded within {percent} or to the digits shown; whole-number answers must be exact"
    unit = f"; the unit ({', '.join(units)}) may be typed or left out" if units else ""
    several = f"; {len(parts)} parts, each graded on its own" if len(parts) > 1 else ""
    return rule + unit + several + "."
