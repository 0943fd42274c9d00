"""The card script's grading rules in Python (interim: the card script's own table of cases drives both)."""

from __future__ import annotations

import re
from typing import Any

_PLAIN = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)


def parse_number(text: str) -> float | None:
    """A number as people type it; None when it cannot be read."""
    text = text.strip().replace("\u2212", "-")
    if "/" in text:
        top, _, bottom = text.partition("/")
        a, b = parse_number(top), parse_number(bottom)
        return None if a is None or b in (None, 0) else a / b
    text = text.replace(",", "") if re.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?", text) else text
    return float(text) if _PLAIN.match(text) else None


def _rows(text: str, value: Any) -> list[list[float | None]] | None:
    rows = value if isinstance(value[0], list) else [value]
    lines = [line for line in re.split(r"\s*;\s*", text.strip()) if line]
    if len(lines) != len(rows):
        return None
    got = [[parse_number(t) for t in line.split()] for line in lines]
    return got if all(len(g) == len(r) for g, r in zip(got, rows, strict=True)) else None


def _entry(
    got: float | None, value: Any, shown: Any, integer: bool, tolerance: float, exact_ints: bool, scale: float
) -> bool:
    if got is None:
        return False
    if got == value:
        return True
    if integer and exact_ints:
        return False
    text = str(shown) if isinstance(shown, str) else ""
    if re.fullmatch(r"[+-]?\d+(?:\.\d+)?", text) and float(text) != value:
        decimals = len(text.partition(".")[2])
        if abs(got - float(text)) <= 0.5 * 10**-decimals * (1 + 1e-9):
            return True
    ref = abs(value) if value != 0 else scale
    return abs(got - value) <= tolerance * ref * (1 + 1e-9)


def grade(typed: str | None, part: dict[str, Any], tolerance: float, exact_ints: bool = True) -> str:
    """'correct', 'wrong' or 'blank' for what was typed, by the card script's rules."""
    if typed is None or not typed.strip():
        return "blank"
    value, shown, integer = part["value"], part.get("shown"), bool(part.get("integer"))
    if isinstance(value, list):
        got = _rows(typed, value)
        want = value if isinstance(value[0], list) else [value]
        shown_rows = shown if isinstance(shown, list) and shown and isinstance(shown[0], list) else [shown or []]
        if got is None:
            return "wrong"
        scale = max((abs(v) for row in want for v in row), default=0) or 1
        ok = all(
            _entry(g, w, s, integer, tolerance, exact_ints, scale)
            for grow, wrow, srow in zip(got, want, shown_rows, strict=False)
            for g, w, s in zip(grow, wrow, srow or [None] * len(wrow), strict=False)
        )
        return "correct" if ok else "wrong"
    return "correct" if _entry(parse_number(typed), value, shown, integer, tolerance, exact_ints, 1) else "wrong"
