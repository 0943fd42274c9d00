"""STAND-IN card HTML for the browser tests: replace with the HTML of notes built by ankismith.

What is real here: the HTML comes from the `anki` package itself (`card.question()`, `card.answer()`
of notes in a real collection), with the templates written exactly as the numeric note type's
contract gives them and card.js / numeric.css inlined from the package data.

What is a stand-in, to be replaced once builder/models.py has the numeric templates: `FRONT`,
`BACK` and the notes below (their pools are made here, not by the solver). The tests rely only on
`RenderedCard` and on the card names (the tests recompute each kind's answer on their own).
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from importlib import resources
from pathlib import Path

ASSETS = resources.files("ankismith.builder") / "assets"


def card_js() -> str:
    return (ASSETS / "card.js").read_text(encoding="utf-8")


def numeric_css() -> str:
    return (ASSETS / "numeric.css").read_text(encoding="utf-8")


# STAND-IN: the templates of the "ankismith Numeric" note type, as the contract writes them.
FRONT = """<div class="question" data-am="question">{{Question}}</div>
<div class="am-box" data-am="box"></div>
<span class="am-mathjax" hidden>\\(\\)</span>
<script>%(script)s</script>"""

BACK = """<div class="question" data-am="question">{{Question}}</div>
<hr id="answer">
<div class="result" data-am="answer">{{Answer}}</div>
<div data-am="verdict"></div>
{{#Solution}}<div class="solution" data-am="solution">{{Solution}}</div>{{/Solution}}
{{#Extra}}<div class="extra" data-am="extra">{{Extra}}</div>{{/Extra}}
<div class="source">{{Source}}</div>
<span class="am-mathjax" hidden>\\(\\)</span>
<script>%(script)s</script>"""

FIELDS = ("Question", "Answer", "Solution", "Extra", "Source")


@dataclass(frozen=True)
class RenderedCard:
    """One note's card as Anki renders it, with the pool it carries."""

    name: str
    question: str  # card.question(): <style>...</style> + the front
    answer: str  # card.answer()
    pool: dict


def math(tex: str, display: bool = False) -> str:
    """As ankismith's renderer writes math: delimiters around the HTML-escaped TeX."""
    tex = tex.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f'<div class="math">\\[{tex}\\]</div>' if display else f'<span class="math">\\({tex}\\)</span>'


def fmt(x: float | Fraction) -> str:
    """A number as the card shows it: plain digits, no exponent, no trailing zeros."""
    text = f"{float(x):.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def signed(x: float | Fraction) -> str:
    """Plain text with a real minus sign, as a typographer would set it."""
    return fmt(x).replace("-", "\u2212")


def bmatrix(rows: list[list[Fraction]]) -> str:
    decimals = max((len(fmt(x).partition(".")[2]) for row in rows for x in row), default=0)
    cell = (lambda x: f"{float(x):.{decimals}f}") if decimals else fmt
    return r"\begin{bmatrix} " + r" \\ ".join(" & ".join(cell(x) for x in row) for row in rows) + r" \end{bmatrix}"


def shown_matrix(rows: list[list[Fraction]]) -> list[list[str]]:
    decimals = max((len(fmt(x).partition(".")[2]) for row in rows for x in row), default=0)
    return [[f"{float(x):.{decimals}f}" if decimals else fmt(x) for x in row] for row in rows]


def product_sum(a: Fraction, b: Fraction, c: Fraction) -> dict:
    value = a * b + c
    formula = math("a \\times b + c")
    return {
        "question": f"<p>With a = {signed(a)}, b = {signed(b)} and c = {signed(c)}, compute {formula}.</p>",
        "answer": fmt(value),
        "solution": math(f"a \\times b + c = {fmt(a)} \\times {fmt(b)} + ({fmt(c)}) = {fmt(value)}", display=True),
        "extra": "",
        "value": float(value),
        "shown": fmt(value),
        "integer": value.denominator == 1,
    }


def ratio(a: int, b: int) -> dict:
    value = a / b
    shown = f"{value:.4g}"
    exact = Fraction(a, b) == Fraction(shown)
    relation = "=" if exact else "\\approx"
    return {
        "question": f"<p>For a = {a} and b = {b}, compute {math('a / b')} (4 significant digits).</p>",
        "answer": shown if exact else f"\u2248 {shown}",
        "solution": math(f"\\frac{{a}}{{b}} = \\frac{{{a}}}{{{b}}} {relation} {shown}", display=True),
        "extra": '<span class="hint">Round to 4 significant digits.</span>',
        "value": value,
        "shown": shown,
        "integer": Fraction(a, b).denominator == 1,
    }


def matrix_sum(a: list[list[Fraction]], b: list[list[Fraction]]) -> dict:
    total = [[x + y for x, y in zip(ra, rb, strict=True)] for ra, rb in zip(a, b, strict=True)]
    return {
        "question": f"<p>Compute {math('A + B')} for</p>"
        + math(f"A = {bmatrix(a)},\\quad B = {bmatrix(b)}", display=True),
        "answer": math(bmatrix(total)),
        "solution": math(f"A + B = {bmatrix(total)}", display=True),
        "extra": "",
        "value": [[float(x) for x in row] for row in total],
        "shown": shown_matrix(total),
        "integer": all(x.denominator == 1 for row in total for x in row),
    }


def conv_size(w: int, f: int, p: int, s: int) -> dict:
    out = (w - f + 2 * p) // s + 1
    return {
        "question": f"<p>A {w}\u00d7{w} input, a {f}\u00d7{f} filter, padding {p}, stride {s}: output size?</p>",
        "answer": math(f"{out} \\times {out}"),
        "solution": math(f"\\lfloor ({w} - {f} + 2 \\cdot {p}) / {s} \\rfloor + 1 = {out}", display=True),
        "extra": "",
        "value": out,
        "shown": str(out),
        "integer": True,
        "square": True,
    }


def pool_script(pool: dict) -> str:
    text = json.dumps(pool, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" class="am-pool">{text}</script>'


def note_fields(name: str, pool: dict) -> dict[str, str]:
    """STAND-IN for the builder: the static fields hold the first instance, the question the pool."""
    first = pool["instances"][0]
    return {
        "Question": first["question"] + pool_script(pool),
        "Answer": first["answer"],
        "Solution": first["solution"],
        "Extra": first["extra"],
        "Source": f"fixtures.md \u00b7 {name}",
    }


def _pools() -> dict[str, dict]:
    rng = random.Random(788)
    half = lambda lo, hi: Fraction(rng.randint(2 * lo, 2 * hi), 2)  # noqa: E731
    whole = lambda lo, hi: Fraction(rng.randint(lo, hi))  # noqa: E731

    def pool(salt: str, instances: list[dict], typed: bool = True) -> dict:
        return {"v": 1, "salt": salt, "type": typed, "tolerance": 0.001, "instances": instances}

    products = [product_sum(Fraction(7, 2), Fraction(4), Fraction(-2))]
    products += [product_sum(half(-9, 9), whole(2, 12), whole(-20, 20)) for _ in range(20)]
    ratios = [ratio(1, 7)] + [ratio(rng.randint(1, 50), rng.randint(3, 97)) for _ in range(20)]
    matrices = [matrix_sum([[Fraction(1), Fraction(2)], [Fraction(3), Fraction(4)]], [[Fraction(1, 2)] * 2] * 2)]
    matrices += [
        matrix_sum(
            [[half(-5, 5) for _ in range(2)] for _ in range(2)], [[whole(-9, 9) for _ in range(2)] for _ in range(2)]
        )
        for _ in range(20)
    ]
    untyped = [product_sum(whole(1, 9), whole(1, 9), whole(1, 9)) for _ in range(21)]
    return {
        "product-sum": pool("3f9a0c1b", products),
        "ratio": pool("b0d1e7a2", ratios),
        "matrix-sum": pool("5c2e91d4", matrices),
        "conv-fixed": pool("77aa01fe", [conv_size(7, 3, 2, 2)]),
        "untyped": pool("0e4d2c6a", untyped, typed=False),
    }


@cache
def rendered_cards() -> dict[str, RenderedCard]:
    """Every fixture note through a real Anki collection: what card.question()/card.answer() give."""
    from anki.collection import Collection

    from ankismith.builder.models import stylesheet

    pools = _pools()
    script = card_js()
    with tempfile.TemporaryDirectory() as folder:
        col = Collection(str(Path(folder) / "collection.anki2"))
        try:
            models = col.models
            model = models.new("ankismith Numeric")
            for field in FIELDS:
                models.add_field(model, models.new_field(field))
            template = models.new_template("Card 1")
            template["qfmt"] = FRONT % {"script": script}
            template["afmt"] = BACK % {"script": script}
            models.add_template(model, template)
            model["css"] = stylesheet() + "\n" + numeric_css()
            models.add(model)
            model = models.by_name("ankismith Numeric")
            deck = col.decks.id("Fixtures")
            cards = {}
            for name, pool in pools.items():
                note = col.new_note(model)
                for field, value in note_fields(name, pool).items():
                    note[field] = value
                col.add_note(note, deck)
                card = note.cards()[0]
                cards[name] = RenderedCard(name, card.question(), card.answer(), pool)
            return cards
        finally:
            col.close()
