"""Numeric cards: deterministic draws, placeholders, number formatting, and malformed blocks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import without_pool, write_deck
from test_fresh_and_fixed import pool_of

from ankismith.errors import DeckErrors
from ankismith.pipeline.run import compile_decks
from ankismith.solver import safe_eval
from ankismith.solver.values import format_number, to_tex

CARD = """
## Output size {{#conv}}
```numeric
problem: conv_output_size
given: {{W: 7, F: 3, P: 2, S: 2}}
params:
  W: 5..32
  F: [1, 3, 5]
  P: 0..2
  S: [1, 2]
{extra}```
A {{{{W}}}}×{{{{W}}}} map, filter {{{{F}}}}, padding $P = {{{{P}}}}$, stride {{{{S}}}}: size?
"""


def numeric_notes(deck: Path, **overrides: int) -> dict[str, object]:
    return {n.key: n for n in compile_decks([deck], **overrides).decks[0].notes}


def instances(deck: Path) -> list[dict[str, object]]:
    """Params and answer of every instance of every numeric note: fresh notes' pools, fixed notes."""
    notes = numeric_notes(deck).values()
    return [entry for n in notes for entry in n.numeric.get("pool", [n.numeric])]


def test_variants_are_deterministic_and_independent_of_other_cards(tmp_path: Path) -> None:
    one = write_deck(tmp_path / "one", {"a.md": CARD.format(extra="variants: 3\nfresh: false\n")})
    notes = numeric_notes(one)
    assert list(notes) == ["conv", "conv~1", "conv~2", "conv~3"]
    again = numeric_notes(one)
    assert [n.fields for n in notes.values()] == [n.fields for n in again.values()]
    # another card added and edited before it: the draws of this card do not move
    two = write_deck(
        tmp_path / "two",
        {
            "0.md": "## Other {#other}\n```numeric\nanswer: a\nparams: {a: 1..9}\n```\n{{a}}\n",
            "a.md": CARD.format(extra="variants: 3\nfresh: false\n"),
        },
    )
    moved = numeric_notes(two)
    for key in ("conv~1", "conv~2", "conv~3"):
        assert moved[key].numeric == notes[key].numeric
        assert moved[key].guid == notes[key].guid


def test_another_seed_draws_other_numbers_under_the_same_keys(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": CARD.format(extra="variants: 3\nfresh: false\n")})
    first, second = numeric_notes(deck_dir, seed=1), numeric_notes(deck_dir, seed=2)
    assert list(first) == list(second)
    assert first["conv"].numeric == second["conv"].numeric  # the given instance never changes
    assert [first[k].numeric for k in ("conv~1", "conv~2", "conv~3")] != [
        second[k].numeric for k in ("conv~1", "conv~2", "conv~3")
    ]
    assert numeric_notes(deck_dir, variants=5) and len(numeric_notes(deck_dir, variants=5)) == 4  # card says 3


def test_placeholders_fill_as_text_and_as_math(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": CARD.format(extra="")})
    note = numeric_notes(deck_dir)["conv"]
    fields = dict(note.fields)
    assert "A 7×7 map, filter 3, padding" in fields["Question"]
    assert r'<span class="math">\(P = 2\)</span>' in fields["Question"]
    assert fields["Answer"] == r'<span class="math">\(5 \times 5\)</span>'
    assert r"\frac{7 - 3 + 2 \times 2}{2} + 1" in fields["Solution"]
    assert "variants" not in fields["Question"]


def test_every_draw_is_valid(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": CARD.format(extra="variants: 40\nwhere: (W - F + 2*P) % S == 0\n")})
    drawn = instances(deck_dir)
    assert len(drawn) == 41
    for instance in drawn:
        p = instance["params"]
        assert (p["W"] - p["F"] + 2 * p["P"]) % p["S"] == 0, instance
        assert instance["answer"] == (p["W"] - p["F"] + 2 * p["P"]) // p["S"] + 1


def test_formula_cards_and_decimal_steps(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": """
        ## Step {#step}
        ```numeric
        answer: x - lr * grad
        given: {x: 3, lr: 0.1, grad: 1}
        params: {x: -5..5, lr: 0.05..0.5 step 0.05, grad: -3..3 step 0.5}
        variants: 20
        ```
        $x = {{x}}$, $\\eta = {{lr}}$, $g = {{grad}}$.
        """
        },
    )
    notes = numeric_notes(deck_dir)
    assert notes["step"].numeric["answer"] == 2.9
    assert r"\(2.9\)" in dict(notes["step"].fields)["Answer"]
    assert "0000000" not in str(notes["step"].fields)  # numbers as a person writes them (the pool too)
    drawn = instances(deck_dir)
    assert len(drawn) == 21
    for instance in drawn:
        p = instance["params"]
        assert round(p["lr"] / 0.05, 9) == round(p["lr"] / 0.05) and 0.05 <= p["lr"] <= 0.5
        assert instance["answer"] == pytest.approx(p["x"] - p["lr"] * p["grad"])


def test_matrix_params_render_as_bmatrix(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": """
        ## Pool {#pool}
        ```numeric
        problem: pool2d
        params: {I: {shape: [4, 4], values: 0..9}}
        variants: 2
        fresh: false
        ```
        Pool $I = {{I}}$, or outside math: {{I}}.
        """
        },
    )
    notes = numeric_notes(deck_dir)
    assert list(notes) == ["pool~1", "pool~2"]
    question = without_pool(dict(notes["pool~1"].fields)["Question"])
    assert question.count(r"\begin{bmatrix}") == 2
    assert np.array(notes["pool~1"].numeric["params"]["I"]).shape == (4, 4)


@pytest.mark.parametrize(
    ("block", "line", "message"),
    [
        ("problem: nope\ngiven: {a: 1}\n", 3, "unknown problem family 'nope'"),
        ("problem: conv_output_size\nparams: {W: 9..3, F: 3}\n", 4, "empty range '9..3'"),
        ("problem: conv_output_size\ngiven: {W: 3, F: 5}\n", 4, "the given values cannot be used"),
        ("problem: conv_output_size\nparams: {W: 3..4, F: 9}\n", 4, "no valid draw for variant k~1 in 1000 tries"),
        ("answer: a\nparams: {a: 1..5}\nwhere: a > 10\n", 4, "no valid draw"),
        ("answer: __import__('os')\ngiven: {a: 1}\n", 3, "call of '__import__' is not allowed"),
        ("answer: ().__class__\ngiven: {a: 1}\n", 3, "attribute access (.__class__) is not allowed"),
        ("answer: 9**9**9\ngiven: {a: 1}\n", 3, "exponent 387,420,489 is too large"),  # at `answer:`, not `given:`
        ("answer: a\nproblem: gd_step\ngiven: {a: 1}\n", 3, "give either `problem:` or `answer:`"),
        ("given: {a: 1}\n", 2, "needs `problem:`"),
        ("answer: a\nparams: {a: {shape: [100, 100], values: 1..2}}\n", 4, "shape must be [rows, cols], each 1..12"),
        ("answer: b\ngiven: {a: 1}\n", 3, "unknown name 'b'"),
        ("answer: a\nparams: {a: 1..3}\nvariants: 1000\n", 5, "`variants` must be a whole number from 0 to 100"),
        ("answer: a\ngiven: {a: .nan}\n", 4, "a must be a finite number or a matrix"),
        ("answer: W * 2\ngiven: {}\nparams: {W: 1..3}\n", 4, "no value for 'W'"),  # found by the fuzz test
        ("problem: gd_step\ngiven: {x: .inf, lr: 0.1, grad: 1}\n", 4, "x must be a finite number"),
    ],
)
def test_malformed_blocks_are_errors_at_their_line(deck_dir: Path, block: str, line: int, message: str) -> None:
    write_deck(deck_dir, {"a.md": f"## Card {{#k}}\n```numeric\n{block}```\n{{{{a}}}}\n"})
    with pytest.raises(DeckErrors) as caught:
        compile_decks([deck_dir])
    texts = [str(e) for e in caught.value.errors]
    assert any(t.startswith(f"{deck_dir.as_posix()}/a.md:{line}: ") and message in t for t in texts), texts


def test_unknown_placeholder(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## C {#c}\n```numeric\nanswer: a\ngiven: {a: 1}\n```\nfirst\n{{a}} and {{b}}\n"})
    with pytest.raises(DeckErrors) as caught:
        compile_decks([deck_dir])
    assert [str(e) for e in caught.value.errors] == [
        f"{deck_dir.as_posix()}/a.md:7: unknown placeholder {{{{b}}}}; expected one of: a, answer, solution"
    ]


def test_safe_evaluator_refuses_and_bounds() -> None:
    for text in ["open('x')", "a.real", "a[0]", "[x for x in a]", "lambda: 1", "'text'", "a if True else __x"]:
        with pytest.raises(safe_eval.FormulaError):
            safe_eval.parse(text, {"a"})
    with pytest.raises(safe_eval.FormulaError, match=r"overflow|finite"):
        safe_eval.evaluate(safe_eval.parse("exp(a)", {"a"}), {"a": 1000.0})
    with pytest.raises(safe_eval.FormulaError, match="too large"):
        safe_eval.evaluate(safe_eval.parse("10 ** 400", set()), {})
    assert safe_eval.evaluate(safe_eval.parse("max(a, 2) + sqrt(16)", {"a"}), {"a": 1}) == 6.0


def test_number_formatting() -> None:
    assert format_number(716) == "716"
    assert format_number(3 - 0.1) == "2.9"
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(61706) == "61,706" and format_number(61706, tex=True) == "61{,}706"
    assert format_number(2400) == "2400"
    assert format_number(1 / 3) == "0.3333"
    assert format_number(6.0) == "6"
    assert to_tex(np.array([[1.5, 2.5], [6.0, 5.0]])) == r"\begin{bmatrix} 1.5 & 2.5 \\ 6 & 5 \end{bmatrix}"
    assert to_tex(np.array([[1, -2]])) == r"\begin{bmatrix} 1 & -2 \end{bmatrix}"


def test_export_gives_cnn_layers_in_the_normalized_form(bundled_copy: Path) -> None:
    lenet = next(n for n in compile_decks([bundled_copy]).decks[0].notes if n.key == "lenet-params")
    layers = lenet.numeric["params"]["layers"]
    assert lenet.numeric["problem"] == "cnn_params" and lenet.numeric["answer"] == 61706
    assert all(set(layer) == {"type", "out", "kernel", "stride", "padding"} for layer in layers)
    assert layers[1] == {"type": "pool", "out": None, "kernel": 2, "stride": 2, "padding": 0}
    assert layers[5] == {"type": "fc", "out": 84, "kernel": None, "stride": None, "padding": None}


def test_one_of_picks_whole_values_for_list_params(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": """
        ## Dense {#dense}
        ```numeric
        problem: dense_params
        params:
          layers: {one_of: [[9, 4, 2], [5, 3, 1]]}
        variants: 6
        ```
        Layers {{layers}}?
        """
        },
    )
    drawn = [entry["params"]["layers"] for entry in numeric_notes(deck_dir)["dense"].numeric["pool"]]
    assert len(drawn) == 6 and all(layers in ([9, 4, 2], [5, 3, 1]) for layers in drawn)
    assert {tuple(layers) for layers in drawn} == {(9, 4, 2), (5, 3, 1)}


# --- {{solution}} below `???`: the back shows it already; the HTML stays valid -------------------

BLOCKS = {"address", "blockquote", "div", "dl", "fieldset", "figure", "form", "h1", "h2", "h3", "h4", "h5", "h6"}
BLOCKS |= {"hr", "ol", "p", "pre", "section", "table", "ul"}


def blocks_inside_paragraphs(fragment: str) -> list[str]:
    """Block elements that start while a <p> is open: a browser would end the paragraph before
    them (and make an empty one of the `</p>` after them), so the field would not be what it says."""
    from html.parser import HTMLParser

    found: list[str] = []

    class Check(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.open: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag in BLOCKS and "p" in self.open:
                found.append(f"<{tag}> inside <p>")
            if tag not in {"br", "hr", "img", "input"}:
                self.open.append(tag)

        def handle_endtag(self, tag: str) -> None:
            if tag in self.open:
                del self.open[len(self.open) - 1 - self.open[::-1].index(tag) :]

    Check().feed(fragment)
    return found


def test_the_html_check_sees_a_div_in_a_paragraph() -> None:
    assert blocks_inside_paragraphs('<p>a <div class="math">x</div></p>') == ["<div> inside <p>"]
    assert blocks_inside_paragraphs('<p>a <span class="math">x</span></p><div>y</div>') == []


def test_solution_below_the_split_warns_and_keeps_the_html_valid(tmp_path: Path) -> None:
    card = (
        "## Output size {#conv}\n```numeric\nproblem: conv_output_size\ngiven: {W: 7, F: 3, P: 2, S: 2}\n"
        "params: {W: 5..32}\nvariants: 2\n```\nA {{W}}×{{W}} map: size?\n\n???\n\n"
        "{{solution}}\n\nSo it is {{solution}}, see.\n"
    )
    deck = write_deck(tmp_path / "d", {"a.md": card})
    compiled = compile_decks([deck])
    message = (
        "{{solution}} below `???` shows the worked solution twice: the back of a numeric card already shows it "
        "after the answer, above the text below `???`; remove the placeholder"
    )
    assert [str(w) for w in compiled.warnings] == [f"{deck.as_posix()}/a.md:{n}: {message}" for n in (12, 14)]
    (note,) = compiled.decks[0].notes
    fields = dict(note.fields)
    extra, solution = fields["Extra"], fields["Solution"]
    assert "\\begin{aligned}" in solution and extra.startswith(solution)  # alone in its paragraph: as a block
    assert '<p>So it is <span class="math">\\[\\begin{aligned}' in extra  # amid text: inline elements
    assert '<span class="hint">PyTorch Conv2d' in extra
    for name, value in fields.items():
        assert blocks_inside_paragraphs(value) == [], name
    instances = pool_of(fields["Question"])["instances"]  # what the card script shows on other days
    assert len(instances) == 3
    for instance in instances:
        assert '<span class="math">\\[\\begin{aligned}' in instance["extra"]
        assert blocks_inside_paragraphs(instance["extra"]) == []


def test_solution_above_the_split_or_in_a_card_without_one_does_not_warn(tmp_path: Path) -> None:
    card = "## Step {#step}\n```numeric\nanswer: x * 2\ngiven: {x: 3}\n```\nx = {{x}}\n\n{{solution}}\n"
    compiled = compile_decks([write_deck(tmp_path / "d", {"a.md": card})])
    assert compiled.warnings == ()
    assert blocks_inside_paragraphs(dict(compiled.decks[0].notes[0].fields)["Question"]) == []
