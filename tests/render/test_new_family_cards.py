"""Cards of the issue-19 families built and imported into a real Anki collection: what a student sees.

The MLP card asks several parts: the card must carry one box per asked part (the card script builds
them from the pool), labelled (a), (b), ..., and the back must give each part's answer under its
label, the worked solution, and the convention.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from conftest import import_apkg, notes_by_key, write_deck

from ankismith.pipeline.run import build
from ankismith.render.pool import read_pool

MLP_CARD = """
## Backprop through an MLP {#mlp}

```numeric
problem: mlp_backprop
given:
  x: [1, 2]
  W1: [[0.5, -1], [1, 0.5]]
  b1: [0, 0.5]
  W2: [[1, -0.5]]
  b2: [0.5]
  y: [1]
  act: relu
ask: [loss, dW2, db1]
variants: 3
```

With $x = {{x}}$, $W_1 = {{W1}}$, $b_1 = {{b1}}$, $W_2 = {{W2}}$, $b_2 = {{b2}}$ and $y = {{y}}$,
give the loss, $\\partial L / \\partial W_2$ and $\\partial L / \\partial b_1$.
"""

OTHER_CARDS = """
## Average pool {#avg}

```numeric
problem: avgpool_backward
given: {dout: [[4, -8], [2, 6]], K: 2, S: 1}
variants: 2
```

dout is $\\text{dout} = {{dout}}$ for a {{K}}×{{K}} window, stride {{S}}.

## Conv layer {#conv}

```numeric
problem: conv_layer
given: {H: 32, W: 32, C_in: 3, C_out: 16, F: 5, P: 2, S: 1}
ask: [out_shape, params]
variants: 2
```

{{H}}×{{W}}×{{C_in}} in, {{C_out}} filters {{F}}×{{F}}, stride {{S}}, padding {{P}}.

## Transposed conv {#convt}

```numeric
problem: conv_transpose_size
given: {W: 4, F: 3, P: 1, S: 2, output_padding: 1}
variants: 2
```

ConvTranspose2d on a {{W}}×{{W}} input, filter {{F}}, stride {{S}}, padding {{P}}, output padding {{output_padding}}.

## Init {#init}

```numeric
problem: init_scale
given: {fan_in: 256, fan_out: 128, scheme: he_normal}
variants: 2
```

{{scheme}} with fan-in {{fan_in}} and fan-out {{fan_out}}.

## Softmax gradient {#softmax}

```numeric
problem: softmax_ce_grad
given: {z: [1, 1, 1], y: 2}
variants: 2
```

Logits $z = {{z}}$, class {{y}}.
"""


def visible(text: str) -> str:
    """Roughly what a student reads: scripts and tags dropped, entities decoded."""
    text = re.sub(r"<script.*?</script>", "", text, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


def imported(tmp_path: Path, anki_collection: object, cards: str) -> dict[str, object]:
    root = write_deck(tmp_path / "deck", {"cards.md": cards})
    build([root], tmp_path / "dist")
    import_apkg(anki_collection, tmp_path / "dist" / "test-deck.apkg")
    return notes_by_key(anki_collection)


def test_an_mlp_card_asks_each_part_in_a_labelled_box_and_answers_it_on_the_back(
    tmp_path: Path, anki_collection: object
) -> None:
    note = imported(tmp_path, anki_collection, MLP_CARD)["mlp"]
    (card,) = note.cards()
    output = card.render_output()
    question, answer = output.question_text, output.answer_text
    assert 'data-am="box"' in question  # the card script puts one box per part there
    pool = read_pool(question)
    assert pool is not None and len(pool["instances"]) == 4  # the given instance and 3 drawn
    for instance in pool["instances"]:
        parts = instance["parts"]
        assert [(p["label"], p["name"]) for p in parts] == [("(a)", "loss"), ("(b)", "dW2"), ("(c)", "db1")]
    given = pool["instances"][0]["parts"]
    # by hand: a = (-1.5, 2.5), h = (0, 2.5), y_hat = -0.75, L = 1.75² / 2, delta1 = (0, 0.875)
    assert given[0]["value"] == 1.53125
    assert given[1]["value"] == [[0, -4.375]]
    assert given[2]["value"] == [0, 0.875]
    assert any("frac{1}{2}" in m["label"] for m in given[0]["mistakes"])  # the ½ forgotten: on the loss only
    assert not any("frac{1}{2}" in m["label"] for m in given[2]["mistakes"])
    shown = visible(answer)
    assert "(a) loss" in shown and "= 1.53125" in shown
    assert "(b) dW2" in shown and "\\begin{bmatrix} 0 & -4.375 \\end{bmatrix}" in shown
    assert "(c) db1" in shown and "= [0, 0.875]" in shown
    assert "\\frac{\\partial L}{\\partial W_{1}}(2, 2) &= 0.875 \\times 2 = 1.75" in shown  # the worked solution
    assert "ReLU'(0) = 0" in shown  # the convention
    assert "{{" not in question + answer


def test_the_other_new_families_cards_import_and_show_their_answers(tmp_path: Path, anki_collection: object) -> None:
    notes = imported(tmp_path, anki_collection, OTHER_CARDS)
    expected = {
        "avg": ["\\begin{bmatrix} 1 & -1 & -2 \\\\ 1.5 & 1 & -0.5 \\\\ 0.5 & 2 & 1.5 \\end{bmatrix}"],
        "conv": ["(a) out_shape", "[32, 32, 16]", "(b) params", "= 1216"],
        "convt": ["8 \\times 8"],
        "init": ["\\approx 0.08839"],
        "softmax": ["[0.3333, 0.3333, -0.6667]"],
    }
    assert set(notes) == set(expected)
    for key, pieces in expected.items():
        (card,) = notes[key].cards()
        output = card.render_output()
        assert "{{" not in output.question_text + output.answer_text
        shown = visible(output.answer_text)
        for piece in pieces:
            assert piece in shown, (key, piece, shown)
        pool = read_pool(output.question_text)
        assert pool is not None and len(pool["instances"]) == 3, key


FIXED_PARTS_CARD = """
## RMSprop, one note per instance {#rms}

```numeric
problem: rmsprop_step
fresh: false
given: {x: 1, grad: 0.5, s: 0, lr: 0.01, rho: 0.9, eps: 0.00000001}
variants: 2
```

From $x = {{x}}$ with $g = {{grad}}$, $s = {{s}}$: $s$ and $x$ after one RMSprop step?
"""


def test_fixed_notes_of_a_several_part_family_each_ask_every_part(tmp_path: Path, anki_collection: object) -> None:
    """`fresh: false`: one note per instance, each with its own pool of one, a box and an answer per part."""
    notes = imported(tmp_path, anki_collection, FIXED_PARTS_CARD)
    assert set(notes) == {"rms", "rms~1", "rms~2"}
    for key, note in notes.items():
        (card,) = note.cards()
        output = card.render_output()
        pool = read_pool(output.question_text)
        assert pool is not None and len(pool["instances"]) == 1, key
        (instance,) = pool["instances"]
        assert [(p["label"], p["name"]) for p in instance["parts"]] == [("(a)", "s"), ("(b)", "x")], key
        shown = visible(output.answer_text)
        assert "(a) s" in shown and "(b) x" in shown, key
    given = read_pool(notes["rms"].cards()[0].render_output().question_text)["instances"][0]["parts"]
    # by hand: s = 0.9 * 0 + 0.1 * 0.25 = 0.025; x = 1 - 0.01 * 0.5 / (sqrt(0.025) + 1e-8)
    assert given[0]["value"] == 0.025
    assert abs(given[1]["value"] - (1 - 0.01 * 0.5 / (0.025**0.5 + 1e-8))) < 1e-12


def test_export_gives_a_several_part_answer_as_an_object_of_its_parts(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from ankismith.cli import app

    root = write_deck(tmp_path / "deck", {"cards.md": MLP_CARD + FIXED_PARTS_CARD})
    result = CliRunner().invoke(app, ["export", str(root)])
    assert result.exit_code == 0, result.output
    notes = {n["key"]: n["numeric"] for n in json.loads(result.output)["decks"][0]["notes"]}
    mlp = notes["mlp"]
    assert mlp["answer"] == {"loss": 1.53125, "dW2": [[0, -4.375]], "db1": [0, 0.875]}
    for entry in mlp["pool"]:
        assert set(entry["answer"]) == {"loss", "dW2", "db1"}
        for mistake in entry["mistakes"]:  # a mistake gives the parts it affects, among those asked
            assert mistake["value"] and set(mistake["value"]) <= {"loss", "dW2", "db1"}, mistake
    assert set(notes["rms"]["answer"]) == {"s", "x"} and notes["rms"]["answer"]["s"] == 0.025
