"""Numbers as a person writes them (716, 2.9, 61,706), in text and in TeX; matrices as bmatrix."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

EXACT_DECIMALS = 6  # a float with at most this many decimals is shown exactly
ROUND_DIGITS = 4  # otherwise it is rounded to this many significant digits, shown with ≈


def is_matrix(value: Any) -> bool:
    """A 2-D numpy array: shown as a bmatrix."""
    return isinstance(value, np.ndarray) and value.ndim == 2


def _clean(value: float) -> float:
    """Drop binary noise: 2.9000000000000004 -> 2.9."""
    return float(f"{value:.12g}")


def is_exact(value: Any) -> bool:
    """Whether `value` can be written out exactly with a few decimals (no ≈ needed)."""
    if isinstance(value, np.ndarray):
        return all(is_exact(v) for v in value.flat)
    if isinstance(value, int | np.integer) or isinstance(value, str):
        return True
    cleaned = _clean(float(value))
    return round(cleaned, EXACT_DECIMALS) == cleaned


def _decimals(value: float) -> int:
    text = np.format_float_positional(_clean(value), trim="-")
    return len(text.partition(".")[2])


def format_number(value: Any, tex: bool = False, decimals: int | None = None) -> str:
    """One number as a person writes it; `decimals` forces a fixed count (aligned matrices)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return _group(int(value), tex)
    number = float(value)
    if not math.isfinite(number):
        return "\\infty" if tex and number > 0 else str(number)
    if decimals is not None:
        text = f"{number:.{decimals}f}"
    elif is_exact(number):
        cleaned = _clean(number)
        if cleaned == int(cleaned) and abs(cleaned) < 1e15:
            return _group(int(cleaned), tex)
        text = np.format_float_positional(cleaned, trim="-")
    else:
        text = np.format_float_positional(number, precision=ROUND_DIGITS, unique=False, fractional=False, trim="-")
    if text.startswith("-") and float(text) == 0:
        text = text[1:]
    whole, dot, frac = text.partition(".")
    return _group_text(whole, tex) + (dot + frac if dot else "")


def _group(number: int, tex: bool) -> str:
    return _group_text(str(number), tex)


def _group_text(whole: str, tex: bool) -> str:
    """Thousands separators from 10,000 up (2400 stays 2400, as in the exam)."""
    sign, digits = ("-", whole[1:]) if whole.startswith("-") else ("", whole)
    if len(digits) <= 4:
        return whole
    groups = []
    while digits:
        groups.insert(0, digits[-3:])
        digits = digits[:-3]
    return sign + ("{,}" if tex else ",").join(groups)


def matrix_decimals(matrix: np.ndarray) -> int | None:
    """Decimals that align a matrix: None when every entry is whole, else the most any entry needs."""
    if np.issubdtype(matrix.dtype, np.integer):
        return None
    values = [float(v) for v in matrix.flat]
    if all(_clean(v) == int(_clean(v)) for v in values):
        return None
    if not is_exact(matrix):
        return ROUND_DIGITS
    return max(_decimals(v) for v in values)


def to_tex(value: Any) -> str:
    """TeX for a value: numbers as written, matrices as bmatrix, lists in brackets."""
    if is_matrix(value):
        decimals = matrix_decimals(value)
        rows = [" & ".join(format_number(v, tex=True, decimals=decimals) for v in row) for row in value]
        return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"
    if isinstance(value, np.ndarray):
        return to_tex(value.tolist())
    if isinstance(value, list | tuple):
        if value and all(_is_layer(v) for v in value):
            return " \\to ".join(f"\\text{{{layer_text(v)}}}" for v in value)
        return "[" + ", ".join(to_tex(v) for v in value) + "]"
    if isinstance(value, dict):
        if _is_layer(value):
            return f"\\text{{{layer_text(value)}}}"
        return ", ".join(f"\\text{{{k}}}={to_tex(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, str):
        return f"\\text{{{value}}}"
    return format_number(value, tex=True)


def to_text(value: Any) -> str:
    """Plain text for a value outside math (a matrix as a bracketed list: where shown, it goes through math)."""
    if isinstance(value, np.ndarray):
        return to_text(value.tolist())
    if isinstance(value, list | tuple):
        if value and all(_is_layer(v) for v in value):
            return " → ".join(layer_text(v) for v in value)
        return "[" + ", ".join(to_text(v) for v in value) + "]"
    if isinstance(value, dict):
        if _is_layer(value):
            return layer_text(value)
        return ", ".join(f"{k}={to_text(v)}" for k, v in value.items() if v is not None)
    return format_number(value)


def _is_layer(value: Any) -> bool:
    return isinstance(value, dict) and value.get("type") in ("conv", "pool", "fc")


def layer_text(layer: dict[str, Any]) -> str:
    """A CNN layer as a course writes it: 'conv 6@5×5', 'pool 2×2', 'fc 84' (stride and padding
    only where they are not the usual 1 / window size and 0)."""
    if layer["type"] == "fc":
        return f"fc {layer['out']}"
    kernel = layer.get("kernel")
    text = f"conv {layer['out']}@{kernel}×{kernel}" if layer["type"] == "conv" else f"pool {kernel}×{kernel}"
    usual_stride = 1 if layer["type"] == "conv" else kernel
    extras = []
    if layer.get("stride") not in (None, usual_stride):
        extras.append(f"stride {layer['stride']}")
    if layer.get("padding"):
        extras.append(f"padding {layer['padding']}")
    return f"{text} ({', '.join(extras)})" if extras else text


def to_json(value: Any) -> Any:
    """Plain JSON: numbers, lists (of lists for matrices), strings, mappings."""
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _clean(float(value))
    return value
