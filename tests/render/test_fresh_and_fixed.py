"""Fresh numeric cards: one note with a pool of instances; fixed ones: a note per instance; the
switch between them in a real Anki collection."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path

import pytest
from conftest import import_apkg, notes_by_key, without_pool, write_deck

from ankismith.errors import DeckErrors
from ankismith.pipeline.run import build, compile_decks
from ankismith.render.pool import OPEN, read_pool

STEP = """
## Step {{#step}}
```numeric
answer: x - lr * grad
given: {{x: 3, lr: 0.1, grad: 1}}
params: {{x: -5..5, lr: 0.1..0.9, grad: -3..3}}
variants: 4
{extra}```
$x = {{{{x}}}}$, $\\eta = {{{{lr}}}}$, $g = {{{{grad}}}}$: $x_{{t+1}}$?
"""


def pool_of(question_field: str) -> dict[str, object]:
    pool = read_pool(question_field)
    assert pool is not None, question_field
    text = question_field[question_field.index(OPEN) + len(OPEN) : question_field.rindex("</script>")]
    assert "<" not in text and ">" not in text and "&" not in text  # nothing the HTML parser could act on
    return pool


def only_note(deck: Path) -> object:
    (note,) = compile_decks([deck]).decks[0].notes
    return note


def test_a_fresh_note_shows_the_given_instance_and_carries_the_pool(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": STEP.format(extra="")})
    note = only_note(deck_dir)
    fields = dict(note.fields)
    assert note.key == "step"
    # with scripts off the fields are the given instance, complete
    assert r"\(x = 3\)" in without_pool(fields["Question"]) and r"\(2.9\)" in fields["Answer"]
    assert r"3 - 0.1 \cdot 1" in fields["Solution"]
    pool = pool_of(fields["Question"])
    assert (pool["v"], pool["type"], pool["tolerance"], len(pool["instances"])) == (2, True, 0.001, 5)
    assert pool["exact_ints"] is True  # the default tolerance: whole-number answers exact
    assert re.fullmatch(r"[0-9a-f]{8}", pool["salt"])
    first = pool["instances"][0]
    assert first["question"] == without_pool(fields["Question"])
    assert (first["answer"], first["solution"]) == (fields["Answer"], fields["Solution"])
    (part,) = first["parts"]
    assert (part["name"], part["label"], part["value"], part["shown"], part["integer"]) == ("", "", 2.9, "2.9", False)
    # every instance's HTML shows its own numbers, and its answer is right for them
    for entry, data in zip(pool["instances"], note.numeric["pool"], strict=True):
        p = data["params"]
        assert f"\\(x = {p['x']}\\)".replace("-", "-") in html.unescape(entry["question"])
        assert entry["parts"][0]["value"] == pytest.approx(p["x"] - p["lr"] * p["grad"])
        assert "am-pool" not in entry["question"]
    assert len({repr(d["params"]) for d in note.numeric["pool"]}) == 5


def test_the_salt_is_stable_and_differs_per_note(tmp_path: Path) -> None:
    one = write_deck(tmp_path / "one", {"a.md": STEP.format(extra="")})
    two = write_deck(tmp_path / "two", {"a.md": STEP.format(extra="").replace("{#step}", "{#other}")})
    salt = lambda deck: pool_of(dict(only_note(deck).fields)["Question"])["salt"]  # noqa: E731
    assert salt(one) == salt(one) != salt(two)


def test_review_settings_from_deck_yaml_and_the_block(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": STEP.format(extra="type_answer: false\ntolerance: 0.01\n")})
    pool = pool_of(dict(only_note(deck_dir).fields)["Question"])
    assert (pool["type"], pool["tolerance"], pool["exact_ints"]) == (False, 0.01, False)  # a card's own tolerance
    write_deck(
        deck_dir,
        {"a.md": STEP.format(extra="fresh: true\n")},
        "name: T\nid: test-deck\nfresh: false\ntype_answer: false\ntolerance: 0.05\n",
    )
    (note,) = compile_decks([deck_dir]).decks[0].notes  # the block's fresh wins over deck.yaml's
    pool = pool_of(dict(note.fields)["Question"])
    assert (len(pool["instances"]), pool["type"], pool["tolerance"]) == (5, False, 0.05)


def test_fixed_notes_each_carry_a_pool_of_one(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": STEP.format(extra="fresh: false\n")})
    notes = compile_decks([deck_dir]).decks[0].notes
    assert [n.key for n in notes] == ["step", "step~1", "step~2", "step~3", "step~4"]
    for note in notes:
        pool = pool_of(dict(note.fields)["Question"])
        assert len(pool["instances"]) == 1 and pool["instances"][0]["parts"][0]["value"] == note.numeric["answer"]
        assert "pool" not in note.numeric
    salts = {pool_of(dict(n.fields)["Question"])["salt"] for n in notes}
    assert len(salts) == 5


def test_a_card_without_params_is_one_plain_instance(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Size {#s}\n```numeric\nproblem: conv_output_size\ngiven: {W: 7, F: 3}\n```\n?\n"})
    note = only_note(deck_dir)
    pool = pool_of(dict(note.fields)["Question"])
    assert len(pool["instances"]) == 1 and len(note.numeric["pool"]) == 1
    assert pool["instances"][0] | {"question": ""} == {
        "question": "",
        "answer": r'<span class="math">\(5 \times 5\)</span>',
        "solution": pool["instances"][0]["solution"],
        "extra": "",
        "parts": [
            {
                "name": "",
                "label": "",
                "value": 5,
                "shown": "5",
                "integer": True,
                "square": True,
                "mistakes": [
                    {
                        "label": "the $+1$ is forgotten: $\\lfloor (W - F + 2P)/S \\rfloor$",
                        "html": r'the <span class="math">\(+1\)</span> is forgotten: '
                        r'<span class="math">\(\lfloor (W - F + 2P)/S \rfloor\)</span>',
                        "value": 4,
                        "shown": "4",
                    }
                ],
            }
        ],
    }


def test_matrix_answers_are_shown_entry_by_entry(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": """
        ## Pool {#pool}
        ```numeric
        problem: pool2d
        given: {I: [[1, 3, 2, 4], [5, 6, 1, 0], [7, 2, 9, 8], [3, 4, 1, 2]], mode: avg}
        ```
        $I = {{I}}$
        """
        },
    )
    (entry,) = pool_of(dict(only_note(deck_dir).fields)["Question"])["instances"][0]["parts"]
    assert entry["value"] == [[3.75, 1.75], [4, 5]]
    assert entry["shown"] == [["3.75", "1.75"], ["4", "5"]]
    assert entry["integer"] is False


def test_html_in_card_text_cannot_break_out_of_the_pool(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {"a.md": STEP.format(extra="").replace(": $x_{t+1}$?", ": </script><b>&amp;</b> $x_{t+1}$?")},
    )
    field = dict(only_note(deck_dir).fields)["Question"]
    pool = pool_of(field)
    # the card's own raw HTML stays as written in the field (Markdown passes raw HTML through);
    # inside the pool it is data, escaped, and comes back intact
    assert field.count("</script>") == 2
    assert "</script><b>&amp;</b>" in pool["instances"][0]["question"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fresh: maybe\n", "`fresh` must be true or false, found 'maybe'"),
        ("type_answer: 1\n", "`type_answer` must be true or false, found 1"),
        ("tolerance: 5\n", "`tolerance` must be a relative tolerance from 0 to below 1"),
    ],
)
def test_bad_review_settings(deck_dir: Path, text: str, message: str) -> None:
    write_deck(deck_dir, {"a.md": STEP.format(extra=text)})
    with pytest.raises(DeckErrors) as exc:
        compile_decks([deck_dir])
    (error,) = exc.value.errors
    assert str(error).startswith(f"{deck_dir.as_posix()}/a.md:7: {message}")
    write_deck(deck_dir, {"a.md": "## Q\nA\n"}, f"name: T\n{text}")
    with pytest.raises(DeckErrors) as exc:
        compile_decks([deck_dir])
    (error,) = exc.value.errors
    assert str(error).startswith(f"{deck_dir.as_posix()}/deck.yaml:2: {message}")


def test_switching_fixed_to_fresh_keeps_the_note_and_its_history(
    deck_dir: Path, tmp_path: Path, anki_collection: object
) -> None:
    """The migration of decks built before fresh cards: `key` keeps its id and reviews, `key~N` are
    reported as removed (Anki keeps them: the report says how to find them)."""
    from conftest import review_all

    col, out = anki_collection, tmp_path / "out"
    write_deck(deck_dir, {"a.md": STEP.format(extra="")}, "name: Test Deck\nid: test-deck\nfresh: false\n")
    start = int(time.time())
    build([deck_dir], out, now=start - 1000)
    import_apkg(col, out / "test-deck.apkg")
    assert review_all(col) == 5
    before = notes_by_key(col)
    card_before = col.db.first("select id, type, queue, due, ivl, reps from cards where nid = ?", before["step"].id)

    (deck_dir / "deck.yaml").write_text("name: Test Deck\nid: test-deck\n")  # fresh, the default
    written, _ = build([deck_dir], out, now=start + 10)
    report = written[0].report
    assert report.updated == ("step",) and not report.added
    assert [key for key, _ in report.removed] == ["step~1", "step~2", "step~3", "step~4"]
    import_apkg(col, out / "test-deck.apkg")
    after = notes_by_key(col)
    assert after["step"].id == before["step"].id
    assert col.db.first("select id, type, queue, due, ivl, reps from cards where nid = ?", after["step"].id) == (
        card_before
    )
    assert col.db.scalar("select count() from revlog") == 5
    assert len(pool_of(after["step"]["Question"])["instances"]) == 5  # the update reached Anki
    # and back: the fixed notes return under their old keys (Anki still had them)
    (deck_dir / "deck.yaml").write_text("name: Test Deck\nid: test-deck\nfresh: false\n")
    written, _ = build([deck_dir], out, now=start + 20)
    assert set(written[0].report.added) == {"step~1", "step~2", "step~3", "step~4"}
    import_apkg(col, out / "test-deck.apkg")
    assert col.note_count() == 5
    assert len(pool_of(notes_by_key(col)["step"]["Question"])["instances"]) == 1


def test_a_whole_answer_from_decimals_is_graded_as_whole(deck_dir: Path) -> None:
    """3 - 0.5 × 2 is exactly 2 (the solver computes decimals exactly): only 2 is right, not 2.001."""
    block = "problem: gd_step\ngiven: {x: 3, lr: 0.5, grad: 2}"
    write_deck(deck_dir, {"a.md": f"## W {{#w}}\n```numeric\n{block}\n```\n?\n"})
    (entry,) = pool_of(dict(only_note(deck_dir).fields)["Question"])["instances"][0]["parts"]
    assert (entry["value"], entry["shown"], entry["integer"]) == (2, "2", True)
