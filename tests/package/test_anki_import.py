"""Build decks and import them into a real Anki collection; check what a student would see."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import import_apkg, notes_by_key, write_deck

from ankismith.pipeline.run import build, compile_decks

DECK = "24-788 Deep Learning::Midterm"


@pytest.fixture
def bundled_collection(bundled_copy: Path, tmp_path: Path, anki_collection: object) -> object:
    build([bundled_copy], tmp_path / "dist")
    import_apkg(anki_collection, tmp_path / "dist" / "dl-midterm.apkg")
    return anki_collection


def rendered(note: object) -> list[tuple[str, str]]:
    return [(c.render_output().question_text, c.render_output().answer_text) for c in note.cards()]


def visible(html: str) -> str:
    """Roughly what a student reads: tags dropped, entities decoded."""
    import html as html_module

    return html_module.unescape(re.sub(r"<[^>]+>", "", html))


def test_every_bundled_note_imports_and_renders(bundled_copy: Path, bundled_collection: object) -> None:
    col = bundled_collection
    expected = compile_decks([bundled_copy]).decks[0].notes
    notes = notes_by_key(col)
    assert len(notes) == len(expected) == col.note_count()
    assert set(notes) == {n.key for n in expected}
    for note in notes.values():
        numeric = note.note_type()["name"] == "ankismith Numeric"
        for question, answer in rendered(note):
            assert question.strip() and answer.strip()
            for text in (question, answer):
                assert "{{" not in text, text  # no unfilled template or placeholder
                assert "template has a problem" not in text.lower()
                # scripts: on numeric cards only, the pool (data, never run) and the card script
                scripts = re.findall(r"<script[^>]*>", text)
                assert scripts == (['<script type="application/json" class="am-pool">', "<script>"] if numeric else [])


def test_bundled_decks_subdecks_and_tags(bundled_collection: object) -> None:
    col = bundled_collection
    names = {d.name for d in col.decks.all_names_and_ids()}
    for sub in ("Short Answer", "Calculation", "Multiple Choice", "Practice"):
        assert f"{DECK}::{sub}" in names
    notes = notes_by_key(col)
    assert set(notes["threshold-activation"].tags) == {"dl-midterm", "activations", "backprop"}
    card = notes["threshold-activation"].cards()[0]
    assert col.decks.name(card.did) == f"{DECK}::Short Answer"
    assert col.decks.name(notes["maxpool-backprop"].cards()[0].did) == f"{DECK}::Multiple Choice"


def test_bundled_short_answer_has_the_exam_equation(bundled_collection: object) -> None:
    note = notes_by_key(bundled_collection)["threshold-activation"]
    question, answer = rendered(note)[0]
    assert (
        r"\[f(x) = \begin{cases} 0, &amp; \text{if } x &lt; 0, \\ 1, &amp; \text{if } x \geq 0. \end{cases}\]"
        in question
    )
    assert "not differentiable" in answer
    assert '<div class="source">1-short-answer.md · threshold-activation</div>' in answer


EXAM_CHOICES = {
    "maxpool-backprop": "D",
    "meanpool-backprop": "A",
    "conv-rgb-output": "A",
    "gd-definition": "C",
    "activation-statements": "A, B, D",
    "l2-regularization": "C",
    "momentum-benefits": "D",
    "weight-init": "B",
    "mlp-statements": "A, C, D",
    "conv-channels": "A, D",
}


@pytest.mark.parametrize(("key", "letters"), EXAM_CHOICES.items())
def test_bundled_multiple_choice_as_the_exam(bundled_collection: object, key: str, letters: str) -> None:
    question, answer = rendered(notes_by_key(bundled_collection)[key])[0]
    shown = visible(question)
    for letter in "ABCD":
        assert f"{letter}. " in shown
    assert "E. " not in shown
    assert ("Select all that apply" in shown) == ("," in letters)
    assert f"Answer: {letters}" in visible(answer)
    correct = re.findall(r'<li class="correct"><span class="letter">([A-Z])\.</span>', answer)
    assert ", ".join(correct) == letters
    assert "Answer:" not in shown  # the front does not give it away


EXAM_ANSWERS = {
    "dense-params": (716, r"\(716\)"),
    "conv-output-size": (5, r"\(5 \times 5\)"),
    "same-padding": (2, r"\(2\)"),
    "conv2d-feature-map": (
        [[1.5, 2.5], [6, 5], [4.5, 3.5]],
        r"\[\begin{bmatrix} 1.5 &amp; 2.5 \\ 6 &amp; 5 \\ 4.5 &amp; 3.5 \end{bmatrix}\]",  # as its worked lines: = 6
    ),
    "lenet-params": (61706, r"\(61{,}706\)"),
    "gd-step": (2.9, r"\(2.9\)"),
}


@pytest.mark.parametrize(("key", "expected"), EXAM_ANSWERS.items())
def test_bundled_calculations_give_the_exam_answers(
    bundled_copy: Path, bundled_collection: object, key: str, expected: tuple[object, str]
) -> None:
    value, tex = expected
    note = next(n for n in compile_decks([bundled_copy]).decks[0].notes if n.key == key)
    assert note.numeric["answer"] == value
    anki_note = notes_by_key(bundled_collection)[key]
    _, answer = rendered(anki_note)[0]
    assert tex in answer
    assert r"\begin{aligned}" in answer  # the worked solution, as MathJax
    # fresh: one note, whose pool holds the exam's instance first and 20 drawn ones, all different
    assert not [k for k in notes_by_key(bundled_collection) if k.startswith(f"{key}~")]
    pool = note.numeric["pool"]
    assert len(pool) == 21 and (pool[0]["params"], pool[0]["answer"]) == (note.numeric["params"], value)
    assert all(isinstance(m["label"], str) and m["value"] != value for m in pool[0]["mistakes"])
    assert len({repr(entry["params"]) for entry in pool}) == 21


def test_conv2d_question_shows_the_matrices_as_bmatrix(bundled_collection: object) -> None:
    question, _ = rendered(notes_by_key(bundled_collection)["conv2d-feature-map"])[0]
    assert r"I = \begin{bmatrix} 1 &amp; 2 &amp; -1 \\ 0 &amp; 3 &amp; 5" in question
    assert r"K = \begin{bmatrix} -0.5 &amp; 1 \\ 1.5 &amp; 0 \end{bmatrix}" in question  # as the exam writes K


def test_cloze_as_a_student_sees_it(deck_dir: Path, tmp_path: Path, anki_collection: object) -> None:
    write_deck(
        deck_dir,
        {
            "c.md": """
        ## Activations {#act}
        ReLU is {{c1::$\\max(0, x)$}} and its derivative for $x > 0$ is {{c2::1::a number}}.

        ???
        Extra words.
        """
        },
    )
    build([deck_dir], tmp_path / "out")
    import_apkg(anki_collection, tmp_path / "out" / "test-deck.apkg")
    note = notes_by_key(anki_collection)["act"]
    cards = sorted(note.cards(), key=lambda c: c.ord)
    assert len(cards) == 2
    first_q = cards[0].render_output().question_text
    first_a = cards[0].render_output().answer_text
    assert "[...]" in first_q and r"\max(0, x)" not in first_q
    assert r"\(\max(0, x)\)" in first_a and "Extra words." in first_a
    assert "[a number]" in cards[1].render_output().question_text


def test_media_are_packaged_per_card(deck_dir: Path, tmp_path: Path, anki_collection: object) -> None:
    png_a = b"\x89PNG\r\n\x1a\n" + b"A" * 20
    png_b = b"\x89PNG\r\n\x1a\n" + b"B" * 20
    write_deck(
        deck_dir,
        {
            "one/fig.png": png_a,
            "two/fig.png": png_b,
            "one/a.md": "## First figure {#first}\n![a](fig.png)\n",
            "two/b.md": "## Second figure {#second}\n![b](./fig.png)\n",
        },
    )
    build([deck_dir], tmp_path / "out")
    import_apkg(anki_collection, tmp_path / "out" / "test-deck.apkg")
    notes = notes_by_key(anki_collection)
    names = []
    for key, content in (("first", png_a), ("second", png_b)):
        src = re.search(r'src="([^"]+)"', notes[key]["Back"]).group(1)
        assert src.startswith("fig-") and src.endswith(".png")
        assert (Path(anki_collection.media.dir()) / src).read_bytes() == content
        names.append(src)
    assert names[0] != names[1]


def test_cnn_layers_read_as_a_course_writes_them(bundled_collection: object) -> None:
    question, _ = rendered(notes_by_key(bundled_collection)["lenet-params"])[0]
    assert "conv 6@5×5 → pool 2×2 → conv 16@5×5 → pool 2×2 → conv 120@5×5 → fc 84 → fc 10" in question
    assert "takes a 1×32×32 input" in question  # the shape, as a person writes it
