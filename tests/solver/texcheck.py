"""An independent reader of worked solutions: the TeX a student sees, evaluated again.

It knows nothing of the solver. It reads the rows of an `aligned` block (`lhs &= a = b \\approx c`),
turns every piece that holds only numbers into Python over exact `Fraction`s, and checks each
relation: `=` must hold exactly (up to float noise where an irrational function is involved),
`\\approx` must be a rounding of the value before it to the digits shown.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

COMMANDS = [
    ("{,}", ""),
    ("\\left(", "("),
    ("\\right)", ")"),
    ("\\left[", "["),
    ("\\right]", "]"),
    ("\\left|", "abs("),
    ("\\right|", ")"),
    ("\\left\\lfloor", "floor("),
    ("\\right\\rfloor", ")"),
    ("\\left\\lceil", "ceil("),
    ("\\right\\rceil", ")"),
    ("\\lfloor", "floor("),
    ("\\rfloor", ")"),
    ("\\times", "*"),
    ("\\cdot", "*"),
    ("\\ln", "log"),
    ("\\max", "max"),
    ("\\min", "min"),
    ("\\sigma", "sigmoid"),
    ("\\tanh", "tanh"),
    ("\\exp", "exp"),
    ("\\le", "<="),
    ("\\ge", ">="),
    ("\\ne", "!="),
]
CASES = re.compile(r"\\begin\{cases\} (.*?) & (.*?) \\\\ (.*?) & \\text\{otherwise\} \\end\{cases\}")
ALLOWED = re.compile(r"^[\d\s.+\-*/(),<>=!]*$")
WORDS = {"floor", "ceil", "sqrt", "exp", "log", "max", "min", "sigmoid", "tanh", "abs", "if", "else"}


def _sqrt(x: Any) -> Any:
    if isinstance(x, Fraction) and x >= 0:
        num, den = math.isqrt(x.numerator), math.isqrt(x.denominator)
        if num * num == x.numerator and den * den == x.denominator:
            return Fraction(num, den)
    return math.sqrt(x)


def _sigmoid(x: Any) -> Any:
    return Fraction(1, 2) if x == 0 else 1 / (1 + math.exp(-float(x)))


NAMESPACE = {
    "F": Fraction,
    "floor": math.floor,
    "ceil": math.ceil,
    "sqrt": _sqrt,
    "exp": lambda x: Fraction(1) if x == 0 else math.exp(x),
    "log": lambda x: Fraction(0) if x == 1 else math.log(x),
    "max": lambda *a: max(a),
    "min": lambda *a: min(a),
    "abs": abs,
    "sigmoid": _sigmoid,
    "tanh": lambda x: Fraction(0) if x == 0 else math.tanh(x),
}


def _group(text: str, start: int) -> tuple[str, int]:
    """The text inside the braces that open at `start`, and the index after them."""
    assert text[start] == "{", (text, start)
    depth = 0
    for i in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        if depth == 0:
            return text[start + 1 : i], i + 1
    raise ValueError(f"unbalanced braces in {text!r}")


def _convert(text: str) -> str:
    out = []
    i = 0
    while i < len(text):
        if text.startswith("\\frac{", i):
            top, j = _group(text, i + 5)
            bottom, k = _group(text, j)
            out.append(f"(({_convert(top)})/({_convert(bottom)}))")
            i = k
        elif text.startswith("\\sqrt{", i):
            inner, i = _group(text, i + 5)
            out.append(f"sqrt({_convert(inner)})")
        elif text.startswith("e^{", i) and (i == 0 or not text[i - 1].isalnum()):
            inner, i = _group(text, i + 2)
            out.append(f"exp({_convert(inner)})")
        elif text[i] == "^" and text[i + 1 : i + 2] != "{":  # x^2
            out.append(f"**({text[i + 1 : i + 2]})")
            i += 2
        elif text[i] == "^":
            inner, i = _group(text, i + 1)
            out.append(f"**({_convert(inner)})")
        elif text[i] == "{":
            inner, i = _group(text, i)
            out.append(f"({_convert(inner)})")
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def to_python(tex: str) -> str | None:
    """Python for a piece of TeX that holds only numbers; None for one with symbols."""
    text = CASES.sub(lambda m: f"(({m[1]}) if ({m[2]}) else ({m[3]}))", tex)
    text = text.replace(" if ", " @IF@ ").replace(" else ", " @ELSE@ ")
    for command, python in COMMANDS:
        text = text.replace(command, python)
    if "'" in text or "_" in text:
        return None
    text = _convert(text)
    if "\\" in text:
        return None
    if set(re.findall(r"[A-Za-z]+", text.replace("@IF@", "").replace("@ELSE@", ""))) - WORDS:
        return None
    text = text.replace("@IF@", "if").replace("@ELSE@", "else")
    if not ALLOWED.match(re.sub(r"[A-Za-z]+", "", text)):
        return None
    text = re.sub(r"(\d|\))\s*\(", r"\1*(", text)  # 1(7 - 1), (a)(b): juxtaposition multiplies
    return re.sub(r"(?<![\w.])(\d+\.\d+|\d+)(?![\w.])", r"F('\1')", text)


def value_of(tex: str) -> Any:
    """The value of a piece of TeX holding only numbers (a matrix as a list of rows), else None."""
    tex = tex.strip()
    if tex.startswith("\\begin{bmatrix}"):
        body = tex.removeprefix("\\begin{bmatrix}").removesuffix("\\end{bmatrix}")
        rows = [[value_of(cell) for cell in row.split("&")] for row in body.split("\\\\")]
        return None if any(v is None for row in rows for v in row) else rows
    if tex.startswith("[") and tex.endswith("]"):  # a vector, read as a matrix of one row
        cells = [value_of(cell) for cell in _split(tex[1:-1], (", ",))[::2]]
        return None if any(v is None or isinstance(v, list) for v in cells) else [cells]
    python = to_python(tex)
    if python is None:
        return None
    return eval(python, {"__builtins__": {}}, NAMESPACE)  # our own TeX, numbers only


def _split(text: str, separators: tuple[str, ...]) -> list[str]:
    """`text` cut at the separators that stand outside braces, \\left..\\right and \\begin..\\end."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        if text.startswith(("\\left", "\\begin"), i) or text[i] == "{":
            depth += 1
        elif text.startswith(("\\right", "\\end"), i) or text[i] == "}":
            depth -= 1
        elif depth == 0:
            hit = next((s for s in separators if text.startswith(s, i)), None)
            if hit:
                parts += [text[start:i], hit]
                i += len(hit)
                start = i
                continue
        i += 1
    return [*parts, text[start:]]


def _inexact(value: Any) -> bool:
    if isinstance(value, list):
        return any(_inexact(v) for row in value for v in row)
    return isinstance(value, float)


def _flat(value: Any) -> list[Any]:
    return [v for row in value for v in row] if isinstance(value, list) else [value]


def _brief(value: Any) -> str:
    """A value for a message (an exact fraction may have thousands of digits)."""
    if isinstance(value, list):
        return "[" + ", ".join(_brief(v) for v in _flat(value)) + "]"
    try:
        return f"{float(value):.10g}"
    except OverflowError:
        return "(huge)"


def _last_digit(tex: str) -> Fraction:
    """The unit of the last digit a number is written with (0.6590 -> 0.0001, 4.54 × 10^-5 -> 10^-7)."""
    tex = tex.replace("{,}", "")
    match = re.fullmatch(r"-?(\d+)(?:\.(\d+))?(?: \\times 10\^\{(-?\d+)\})?", tex.strip())
    if not match:
        return Fraction(0)
    decimals = len(match[2] or "")
    return Fraction(10) ** (int(match[3] or 0) - decimals)


def equal(a: Any, b: Any) -> bool:
    """`=`: exactly, or to float noise where an irrational function gave a float."""
    if isinstance(a, list) or isinstance(b, list):
        if not (isinstance(a, list) and isinstance(b, list)) or len(_flat(a)) != len(_flat(b)):
            return False
        return all(equal(x, y) for x, y in zip(_flat(a), _flat(b), strict=True))
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)
    return a == b


def rounds_to(value: Any, shown: Any, shown_tex: str) -> bool:
    """`\\approx`: `shown` is `value` rounded to the digits it is written with."""
    if isinstance(value, list) or isinstance(shown, list):
        if not (isinstance(value, list) and isinstance(shown, list)):
            return False
        if shown_tex.strip().startswith("["):  # a vector
            cells = _split(shown_tex.strip()[1:-1], (", ",))[::2]
        else:
            cells = [c for row in shown_tex.split("\\\\") for c in row.split("&")]
            cells[0] = cells[0].replace("\\begin{bmatrix}", "")
            cells[-1] = cells[-1].replace("\\end{bmatrix}", "")
        return all(rounds_to(v, s, t) for v, s, t in zip(_flat(value), _flat(shown), cells, strict=True))
    unit = _last_digit(shown_tex)
    if unit == 0:
        return math.isclose(float(value), float(shown), rel_tol=1e-3)
    return abs(Fraction(value) - Fraction(shown)) <= unit / 2 * (1 + Fraction(1, 10**9))


@dataclass
class Report:
    """What reading a worked solution found."""

    checked: int = 0
    problems: list[str] = field(default_factory=list)
    last: tuple[Any, str] | None = None  # the last number shown, and its TeX
    ends: list[tuple[Any, str]] = field(default_factory=list)  # each row's last value (the parts of an answer)


def check_rows(rows: tuple[str, ...] | list[str]) -> Report:
    """Every relation between numeric pieces of the rows, re-evaluated."""
    report = Report()
    previous: tuple[Any, str] | None = None  # the last piece of the row before (value, tex)
    for row in rows:
        row = row.split("\\quad")[0]
        lhs, _, rest = row.partition("&")
        pieces = _split(rest.strip(), (" = ", " \\approx ", "= ", "\\approx ", ": ", ":"))
        if pieces and pieces[0] == "":
            pieces = pieces[1:]
        relation_first = pieces[0] if pieces and pieces[0] in ("= ", "\\approx ", ": ", ":") else None
        if relation_first:
            pieces = pieces[1:]
        chain: list[tuple[Any, str]] = []
        relations: list[str] = []
        if lhs.strip():
            if relation_first and relation_first.startswith(":"):
                pass  # a label
            else:
                chain.append((value_of(lhs), lhs.strip()))
                relations.append((relation_first or "=").strip())
        elif previous is not None and relation_first:
            chain.append(previous)
            relations.append(relation_first.strip())
        for k, piece in enumerate(pieces):
            if k % 2 == 1:
                relations.append(piece.strip())
            else:
                chain.append((value_of(piece), piece.strip()))
        for (a, a_tex), relation, (b, b_tex) in zip(chain, relations, chain[1:], strict=False):
            if a is None or b is None:
                continue
            report.checked += 1
            if relation == "=" and not equal(a, b):
                report.problems.append(f"false: {a_tex} = {b_tex} ({_brief(a)} vs {_brief(b)})")
            if relation == "\\approx" and not rounds_to(a, b, b_tex):
                report.problems.append(f"not a rounding: {a_tex} \\approx {b_tex} ({_brief(a)})")
            if relation == "\\approx" and not (_inexact(a) or _inexact(b) or a != b):
                report.problems.append(f"\\approx between equal exact values: {a_tex} \\approx {b_tex}")
        if chain:
            previous = chain[-1]
            if chain[-1][0] is not None:
                report.last = chain[-1]
                report.ends.append(chain[-1])
    return report
