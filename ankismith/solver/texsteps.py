"""Worked steps written as TeX lines (a family without the kit): every relation between numbers, checked.

A line like `E_k &= \\frac{1}{2} \\cdot 2 \\cdot 3^2 = 9` is cut at its `=` and `\\approx` (outside
braces); a piece that holds only numbers is turned into the safe evaluator's language and computed
exactly. `=` between two such pieces must hold exactly (to float noise where an irrational function
is involved); `\\approx` must be a rounding to the digits shown. Pieces with symbols are passed over.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from ankismith.solver import safe_eval

_COMMANDS = [
    ("{,}", ""),
    ("\\,", ""),
    ("\\left(", "("),
    ("\\right)", ")"),
    ("\\left[", "("),
    ("\\right]", ")"),
    ("\\left|", "abs("),
    ("\\right|", ")"),
    ("\\left\\lfloor", "floor("),
    ("\\right\\rfloor", ")"),
    ("\\left\\lceil", "ceil("),
    ("\\right\\rceil", ")"),
    ("\\lfloor", "floor("),
    ("\\rfloor", ")"),
    ("\\lceil", "ceil("),
    ("\\rceil", ")"),
    ("\\times", "*"),
    ("\\cdot", "*"),
    ("\\ln", "log"),
    ("\\exp", "exp"),
    ("\\max", "max"),
    ("\\min", "min"),
    ("\\tanh", "tanh"),
]
_WORDS = {"floor", "ceil", "sqrt", "exp", "log", "max", "min", "tanh", "abs"}
_RELATIONS = (" = ", " \\approx ", "= ", "\\approx ", "=", "\\approx")


def _group(text: str, start: int) -> tuple[str, int] | None:
    """The text inside the braces that open at `start`, and the index after them."""
    if start >= len(text) or text[start] != "{":
        return None
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1 : i], i + 1
    return None


def _convert(text: str) -> str | None:
    """TeX (numbers, \\frac, \\sqrt, ^) as a formula of the safe evaluator; None when it is more."""
    out = []
    i = 0
    while i < len(text):
        for command, name in (("\\frac", "frac"), ("\\dfrac", "frac"), ("\\sqrt", "sqrt")):
            if text.startswith(command + "{", i):
                first = _group(text, i + len(command))
                if first is None:
                    return None
                if name == "sqrt":
                    inner = _convert(first[0])
                    if inner is None:
                        return None
                    out.append(f"sqrt({inner})")
                    i = first[1]
                else:
                    second = _group(text, first[1])
                    top, bottom = _convert(first[0]), _convert(second[0]) if second else None
                    if second is None or top is None or bottom is None:
                        return None
                    out.append(f"(({top})/({bottom}))")
                    i = second[1]
                break
        else:
            if text.startswith("e^{", i) and (i == 0 or not text[i - 1].isalnum()):
                inner = _group(text, i + 2)
                converted = _convert(inner[0]) if inner else None
                if inner is None or converted is None:
                    return None
                out.append(f"exp({converted})")
                i = inner[1]
            elif text[i] == "^":
                inner = _group(text, i + 1)
                if inner is None:
                    out.append(f"**({text[i + 1 : i + 2]})")
                    i += 2
                else:
                    converted = _convert(inner[0])
                    if converted is None:
                        return None
                    out.append(f"**({converted})")
                    i = inner[1]
            elif text[i] == "{":
                inner = _group(text, i)
                converted = _convert(inner[0]) if inner else None
                if inner is None or converted is None:
                    return None
                out.append(f"({converted})")
                i = inner[1]
            else:
                out.append(text[i])
                i += 1
    return "".join(out)


def value_of(tex: str) -> Any:
    """The value of a piece of TeX that holds only numbers, computed exactly; None otherwise."""
    text = tex.strip().strip("&").strip()
    if not text or not re.search(r"\d", text):
        return None
    for command, formula in _COMMANDS:
        text = text.replace(command, formula)
    converted = _convert(text)
    if converted is None or "\\" in converted or "_" in converted or "'" in converted:
        return None
    if set(re.findall(r"[A-Za-z]+", converted)) - _WORDS:
        return None
    converted = re.sub(r"(\d|\))\s*\(", r"\1*(", converted)  # 2(3 + 1): juxtaposition multiplies
    try:
        return safe_eval.evaluate(safe_eval.parse(converted, set(), limits=False), {})
    except safe_eval.FormulaError:
        return None


def _split(text: str) -> list[str]:
    """`text` cut at the relations that stand outside braces and \\left..\\right."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text.startswith(("\\left", "\\begin"), i) or text[i] == "{":
            depth += 1
        elif text.startswith(("\\right", "\\end"), i) or text[i] == "}":
            depth -= 1
        elif depth == 0:
            hit = next((r for r in _RELATIONS if text.startswith(r, i)), None)
            if hit:
                parts += [text[start:i], hit.strip()]
                i += len(hit)
                start = i
                continue
        i += 1
    return [*parts, text[start:]]


def _last_digit(tex: str) -> Fraction:
    """The unit of the last digit a number is written with (0.6590 -> 0.0001)."""
    match = re.fullmatch(r"-?(\d+)(?:\.(\d+))?(?: ?\\times ?10\^\{?(-?\d+)\}?)?", tex.replace("{,}", "").strip())
    if not match:
        return Fraction(0)
    return Fraction(10) ** (int(match[3] or 0) - len(match[2] or ""))


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-300)
    return bool(a == b)


def _rounds_to(value: Any, shown: Any, shown_tex: str) -> bool:
    unit = _last_digit(shown_tex)
    if unit == 0:
        return math.isclose(float(value), float(shown), rel_tol=1e-3)
    return abs(Fraction(value) - Fraction(shown)) <= unit / 2 * (1 + Fraction(1, 10**9))


def check_lines(lines: Sequence[str]) -> tuple[int, list[str]]:
    """(relations checked, what is false) for worked steps written as TeX lines."""
    checked, problems = 0, []
    for line in lines:
        if not isinstance(line, str):
            problems.append(f"a step must be a line of TeX, found {line!r}")
            continue
        pieces = _split(line.split("\\quad")[0].split("\\qquad")[0])
        values = [value_of(p) for p in pieces[0::2]]
        for k, relation in enumerate(pieces[1::2]):
            a, b = values[k], values[k + 1]
            if a is None or b is None or not all(_is_number(v) for v in (a, b)):
                continue
            checked += 1
            left, right = pieces[2 * k].strip(), pieces[2 * k + 2].strip()
            if relation == "=" and not _equal(a, b):
                problems.append(f"false: {left} = {right} ({float(a):.10g} vs {float(b):.10g})")
            elif relation == "\\approx" and not _rounds_to(a, b, right):
                problems.append(f"not a rounding: {left} \\approx {right} ({float(a):.10g})")
    return checked, problems


def _is_number(value: Any) -> bool:
    return isinstance(value, int | Fraction | float) and not isinstance(value, bool)
