"""Numbers as a person writes them (716, 2.9, 61,706, 1×10⁻⁸), in text and in TeX; matrices as bmatrix.

The solver computes exactly where it can: whole numbers are Python ints (any size), decimals are
`Fraction`s of the decimal as written (0.1 is 1/10, so 0.1 + 0.2 is 0.3), and only irrational
steps (sqrt of a non-square, exp, log, ...) give floats. A value is *exact* when it can be written
out in full; otherwise it is shown rounded to 4 significant digits, and the card says `≈`.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

EXACT_DECIMALS = 6  # a result with at most this many decimals is shown exactly
ROUND_DIGITS = 4  # otherwise it is rounded to this many significant digits, shown with ≈
SMALL = -4  # below 10^-4 (in magnitude), numbers are written in scientific notation
LARGE = 15  # from 10^15 up, round numbers (and rounded ones) are written in scientific notation
ROUND_NUMBER_DIGITS = 6  # "round" big numbers: at most this many significant digits (2×10²⁰)

MAX_EXACT_BITS = 3000  # beyond ~900 digits a value is only ever shown rounded

LAYER_TYPES = ("conv", "pool", "fc")  # the kinds of layer a CNN param lists (cnn_params)
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def is_matrix(value: Any) -> bool:
    """A 2-D numpy array: shown as a bmatrix."""
    return isinstance(value, np.ndarray) and value.ndim == 2


def is_number(value: Any) -> bool:
    """An int, Fraction or float (numpy's included), and not a bool."""
    return not isinstance(value, bool | np.bool_) and isinstance(value, int | Fraction | float | np.number)


def exact(value: Any) -> Any:
    """A number in exact form: ints stay ints, a float becomes the decimal it prints as (0.1 is 1/10),
    a whole Fraction becomes an int. Anything else (and inf or nan) is returned unchanged."""
    if isinstance(value, bool | np.bool_):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        if not math.isfinite(value):
            return float(value)
        value = Fraction(repr(float(value)))
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else value
    return value


def normalize(value: Any) -> Any:
    """Computed values in canonical form: numpy scalars to Python numbers, whole Fractions to ints."""
    if isinstance(value, np.ndarray):
        if value.dtype != object:
            value = value.astype(object)
        flat = [normalize(v) for v in value.flat]
        result = np.empty(value.shape, dtype=object)
        result.flat[:] = flat if flat else []
        return result
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, Fraction) and value.denominator == 1:
        return value.numerator
    return value


def as_array(rows: Any) -> np.ndarray:
    """An object array of exact numbers (Python ints and Fractions), so that no entry overflows."""
    array = np.array(rows, dtype=object)
    return normalize(np.vectorize(exact, otypes=[object])(array)) if array.size else array


# --- decimal digits of a value ------------------------------------------------------------


def _terminating(value: Fraction) -> bool:
    den = value.denominator
    for p in (2, 5):
        while den % p == 0:
            den //= p
    return den == 1


def _digits(value: Any) -> tuple[str, str, int] | None:
    """(sign, significant digits, exponent) of an exactly writable value: value = ±digits × 10^exponent,
    digits without trailing zeros; None when it has no exact decimal form.

    A float is never exact: exact values are ints and Fractions (params are read as the decimals
    they are written as, see `exact`), so a float is the result of an irrational step or a float
    fallback, and printing it short would claim more than is known."""
    if isinstance(value, float | np.floating):
        return None
    value = Fraction(value)
    if value == 0:
        return ("", "0", 0)
    if max(value.numerator.bit_length(), value.denominator.bit_length()) > MAX_EXACT_BITS or not _terminating(value):
        return None
    sign = "-" if value < 0 else ""
    value = abs(value)
    exponent = 0
    while value.denominator != 1:
        value *= 10
        exponent -= 1
    number = value.numerator
    while number % 10 == 0:
        number //= 10
        exponent += 1
    return sign, str(number), exponent


def _rounded(value: Any, digits: int) -> tuple[str, str, int]:
    """(sign, digits, exponent) of `value` rounded to `digits` significant digits (halves away from 0, as by hand)."""
    exact_value = Fraction(value) if not isinstance(value, Fraction) else value
    if exact_value == 0:
        return ("", "0", 0)
    sign = "-" if exact_value < 0 else ""
    magnitude = abs(exact_value)
    top = _magnitude(magnitude)
    exponent = top - digits + 1
    scaled = math.floor(magnitude / Fraction(10) ** exponent + Fraction(1, 2))
    if scaled >= 10**digits:  # 9.9996 -> 10.00
        scaled = math.floor(magnitude / Fraction(10) ** (exponent + 1) + Fraction(1, 2))
        exponent += 1
    text = str(scaled)
    stripped = text.rstrip("0")
    return sign, stripped or "0", exponent + len(text) - len(stripped)


def _magnitude(value: Fraction) -> int:
    """floor(log10(value)) of a positive Fraction, computed exactly."""
    guess = math.floor((value.numerator.bit_length() - value.denominator.bit_length()) * math.log10(2))
    while Fraction(10) ** guess > value:
        guess -= 1
    while Fraction(10) ** (guess + 1) <= value:
        guess += 1
    return guess


def _layout(sign: str, digits: str, exponent: int, tex: bool, rounded: bool = False) -> str:
    """Positional (716, 0.001, 61,706) or scientific (1×10⁻⁸, 2×10²⁰) as a person writes it.

    A big number is written out in full only when it is exact and not round: a rounded one in
    full would read as a (wrong) exact integer."""
    if digits == "0":
        return "0"
    top = len(digits) + exponent - 1  # exponent of the leading digit
    if top < SMALL or (top >= LARGE and (rounded or len(digits) <= ROUND_NUMBER_DIGITS)):
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        if tex:
            return f"{sign}{mantissa} \\times 10^{{{top}}}"
        return f"{sign}{mantissa}×10{str(top).translate(_SUPERSCRIPT)}"
    if exponent >= 0:
        whole, frac = digits + "0" * exponent, ""
    elif -exponent >= len(digits):
        whole, frac = "0", "0" * (-exponent - len(digits)) + digits
    else:
        whole, frac = digits[:exponent], digits[exponent:]
    return sign + _group_text(whole, tex) + ("." + frac if frac else "")


def _group_text(whole: str, tex: bool) -> str:
    """Thousands separators from 10,000 up (2400 stays 2400, as in the exam)."""
    if len(whole) <= 4:
        return whole
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return ("{,}" if tex else ",").join(groups)


def _significant(value: Any, digits: int) -> int:
    """The digits a rounded value keeps: `digits`, but every digit before the point below 10^15
    (≈ 12,346, not ≈ 12,350: zeros written out would read as exact digits)."""
    magnitude = abs(Fraction(value))
    top = _magnitude(magnitude) if magnitude else 0
    return max(digits, top + 1) if top < LARGE else digits


def _round_for_display(value: Any) -> tuple[str, str, int]:
    return _rounded(value, _significant(value, ROUND_DIGITS))


def shown_parts(value: Any, result: bool = False) -> tuple[tuple[str, str, int], bool]:
    """The decimal digits a value is shown with, and whether they are exact.

    As written (`result=False`, params): every exact value in full. As a result: exact values with
    more than 6 decimals are rounded too (1 - 0.9^10 ≈ 0.6513).
    """
    if isinstance(value, np.generic):
        value = normalize(value)
    parts = _digits(value)
    if parts is not None and result:
        _, digits, exponent = parts
        top = len(digits) + exponent - 1
        long = -exponent > EXACT_DECIMALS if top >= SMALL else len(digits) > ROUND_NUMBER_DIGITS
        if long:
            parts = None
    if parts is not None:
        return parts, True
    return _round_for_display(value), False


def format_number(value: Any, tex: bool = False, result: bool = False, digits: int | None = None) -> str:
    """One number as a person writes it: shortest exact form, or 4 significant digits where it is not exact.

    `digits` rounds to that many significant digits (an intermediate a later line needs more of)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating) and not math.isfinite(value):
        if math.isnan(value):
            return "nan"
        return ("" if value > 0 else "-") + ("\\infty" if tex else "∞")
    if digits is not None:
        return _layout(*_rounded(value, _significant(value, digits)), tex, rounded=True)
    (sign, shown_digits, exponent), is_exact_value = shown_parts(value, result)
    return _layout(sign, shown_digits, exponent, tex, rounded=not is_exact_value)


def grading_text(value: Any) -> str:
    """A result as shown, for the card's "rounds to the answer as shown" rule: plain digits, no
    thousands separators, and a rounded value with every digit it was rounded to (≈ 0.6000 reads
    "0.6" on the card, but a student's 0.55 must not round to it)."""
    (sign, digits, exponent), is_exact_value = shown_parts(value, result=True)
    if not is_exact_value and digits != "0":
        missing = _significant(value, ROUND_DIGITS) - len(digits)
        if missing > 0:
            digits, exponent = digits + "0" * missing, exponent - missing
        top = len(digits) + exponent - 1
        if SMALL <= top < LARGE:
            whole = digits[:exponent] if exponent < 0 else digits + "0" * exponent
            if exponent >= 0:
                return sign + whole
            if -exponent >= len(digits):
                return sign + "0." + "0" * (-exponent - len(digits)) + digits
            return sign + whole + "." + digits[exponent:]
    return format_number(value, result=True).replace(",", "")


def shown_value(value: Any, result: bool = True) -> Any:
    """The value as the card shows it: the exact value, or the rounded decimal where it is rounded."""
    (sign, digits, exponent), is_exact_value = shown_parts(value, result)
    if is_exact_value:
        return exact(value) if isinstance(value, float) else normalize(value)
    number = int(digits) * Fraction(10) ** exponent
    return normalize(-number if sign else number)


def round_to(value: Any, digits: int) -> Any:
    """`value` rounded to `digits` significant digits (as `format_number` writes it), as an exact decimal."""
    sign, rounded_digits, exponent = _rounded(value, _significant(value, digits))
    number = int(rounded_digits) * Fraction(10) ** exponent
    return normalize(-number if sign else number)


def is_exact(value: Any) -> bool:
    """Whether `value`, as a result, is written out exactly (no ≈ needed)."""
    if isinstance(value, np.ndarray):
        return all(is_exact(v) for v in value.flat)
    if isinstance(value, str | bool | np.bool_ | int | np.integer):
        return True
    if isinstance(value, list | tuple):
        return all(is_exact(v) for v in value)
    if isinstance(value, dict):
        return True
    return shown_parts(value, result=True)[1]


def to_tex(value: Any, result: bool = False) -> str:
    """TeX for a value: numbers as written, matrices as bmatrix, lists in brackets.

    `result=True` rounds long decimals (an answer or a worked step); params are shown as written."""
    if is_matrix(value):
        rows = [" & ".join(format_number(v, tex=True, result=result) for v in row) for row in value]
        return "\\begin{bmatrix} " + " \\\\ ".join(rows) + " \\end{bmatrix}"
    if isinstance(value, np.ndarray):
        return to_tex(value.tolist(), result)
    if isinstance(value, list | tuple):
        if value and all(_is_layer(v) for v in value):
            return " \\to ".join(f"\\text{{{layer_text(v)}}}" for v in value)
        return "[" + ", ".join(to_tex(v, result) for v in value) + "]"
    if isinstance(value, dict):
        if _is_layer(value):
            return f"\\text{{{layer_text(value)}}}"
        return ", ".join(f"\\text{{{k}}}={to_tex(v, result)}" for k, v in value.items() if v is not None)
    if isinstance(value, str):
        return f"\\text{{{value}}}"
    return format_number(value, tex=True, result=result)


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
    return isinstance(value, dict) and value.get("type") in LAYER_TYPES


def _n(value: Any) -> str:
    return format_number(value) if is_number(value) else str(value)


def layer_text(layer: dict[str, Any]) -> str:
    """A CNN layer as a course writes it: 'conv 6@5×5', 'pool 2×2', 'fc 84' (stride and padding
    only where they are not the usual 1 / window size and 0)."""
    if layer["type"] == "fc":
        return f"fc {_n(layer.get('out'))}"
    kernel = _n(layer.get("kernel"))
    out = _n(layer.get("out"))
    text = f"conv {out}@{kernel}×{kernel}" if layer["type"] == "conv" else f"pool {kernel}×{kernel}"
    usual_stride = 1 if layer["type"] == "conv" else layer.get("kernel")
    extras = []
    if layer.get("stride") not in (None, usual_stride):
        extras.append(f"stride {_n(layer['stride'])}")
    if layer.get("padding"):
        extras.append(f"padding {_n(layer['padding'])}")
    return f"{text} ({', '.join(extras)})" if extras else text


def to_json(value: Any) -> Any:
    """Plain JSON: numbers (exact ones as ints or the nearest float), lists (of lists for matrices), mappings."""
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
    if isinstance(value, Fraction):
        return value.numerator if value.denominator == 1 else float(value)
    if isinstance(value, float | np.floating):
        return float(value)
    return value
