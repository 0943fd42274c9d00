"""Rebuild without losing anything: in-place updates in a real Anki collection, review history
kept, reproducible packages, the change report, atomic output."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest
from conftest import import_apkg, notes_by_key, review_all, write_deck

from ankismith.package import models
from ankismith.pipeline.run import build

CARDS = """
## First question {#first}
First answer.
## Second question {#second}
Second answer.
## Third question {#third}
Third answer.
## Step {#step}
```numeric
answer: x - lr * grad
given: {x: 3, lr: 0.1, grad: 1}
params: {x: -5..5, lr: 0.1..0.9, grad: -3..3}
variants: 2
fresh: false
```
x = {{x}}, lr = {{lr}}, grad = {{grad}}
"""


@pytest.fixture
def deck(deck_dir: Path) -> Path:
    return write_deck(deck_dir, {"cards.md": CARDS})


def apkg(out: Path) -> Path:
    return out / "test-deck.apkg"


def test_the_whole_story_in_anki(
    deck: Path, tmp_path: Path, anki_collection: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    col = anki_collection
    out = tmp_path / "out"
    start = int(time.time())
    written, _ = build([deck], out, now=start - 1000)
    assert len(written[0].report.added) == 6
    import_apkg(col, apkg(out))
    assert col.note_count() == 6
    reviewed = review_all(col)
    assert reviewed == 6
    revlog_before = col.db.scalar("select count() from revlog")
    assert revlog_before == 6
    before = {key: (note.id, note.mod, [c.id for c in note.cards()]) for key, note in notes_by_key(col).items()}
    sched_before = {
        c: col.db.first("select type, queue, due, ivl, reps from cards where id = ?", c)
        for _, _, cards in before.values()
        for c in cards
    }

    # the user edits a field of an unchanged card inside Anki
    third = notes_by_key(col)["third"]
    third["Back"] = "<p>My own words.</p>"
    col.update_note(third)

    # the source: one answer edited; ankismith's stylesheet changes (a note-type detail)
    (deck / "cards.md").write_text((deck / "cards.md").read_text().replace("Second answer.", "Second answer, edited."))
    monkeypatch.setattr(models, "stylesheet", lambda: ".card { color: red; }")
    written, _ = build([deck], out, now=start + 10)  # a later session: after the import
    report = written[0].report
    assert report.updated == ("second",) and not report.added and not report.removed
    assert set(report.unchanged) == {"first", "third", "step", "step~1", "step~2"}
    assert "basic" in report.models_changed

    import_apkg(col, apkg(out))
    after = notes_by_key(col)
    assert col.note_count() == 6  # no duplicates
    assert "Second answer, edited." in after["second"]["Back"]
    assert after["third"]["Back"] == "<p>My own words.</p>"  # the user's edit survives
    assert after["first"].mod == before["first"][1]  # untouched notes are not rewritten
    for key, (nid, _, cards) in before.items():
        assert after[key].id == nid and [c.id for c in after[key].cards()] == cards
    assert col.db.scalar("select count() from revlog") == revlog_before
    for card_id, state in sched_before.items():
        assert col.db.first("select type, queue, due, ivl, reps from cards where id = ?", card_id) == state
    col.models._clear_cache()  # the Python side caches note types; read what the import stored
    assert col.models.by_name("ankismith Basic")["css"] == ".card { color: red; }"

    # another seed: numeric variants get fresh numbers in the same notes
    monkeypatch.undo()
    build([deck], out, seed=99, now=start + 20)
    import_apkg(col, apkg(out))
    reseeded = notes_by_key(col)
    assert col.note_count() == 6
    assert reseeded["step~1"].id == before["step~1"][0]
    assert reseeded["step~1"]["Question"] != after["step~1"]["Question"]
    assert reseeded["step"]["Question"] == after["step"]["Question"]  # the given instance stays

    # a card removed from the sources: the report names it; Anki keeps it
    (deck / "cards.md").write_text(
        (deck / "cards.md").read_text().replace("## First question {#first}\nFirst answer.\n", "")
    )
    written, _ = build([deck], out, seed=99, now=start + 30)
    assert [key for key, _ in written[0].report.removed] == ["first"]
    import_apkg(col, apkg(out))
    assert col.note_count() == 6


def test_same_sources_and_lock_give_identical_bytes(deck: Path, tmp_path: Path) -> None:
    build([deck], tmp_path / "a", now=1_000_000)
    first = apkg(tmp_path / "a").read_bytes()
    lock = (deck / "ankismith.lock").read_text()
    build([deck], tmp_path / "b", now=5_000_000)  # later clock, same sources and lock
    assert apkg(tmp_path / "b").read_bytes() == first
    assert (deck / "ankismith.lock").read_text() == lock
    with zipfile.ZipFile(apkg(tmp_path / "a")) as archive:
        assert [i.date_time for i in archive.infolist()] == [(1980, 1, 1, 0, 0, 0)] * len(archive.infolist())


def test_changed_note_gets_a_newer_mod_even_with_a_clock_behind(deck: Path, tmp_path: Path) -> None:
    build([deck], tmp_path / "out", now=1_000_000)
    (deck / "cards.md").write_text((deck / "cards.md").read_text().replace("First answer.", "Changed."))
    written, _ = build([deck], tmp_path / "out", now=10)  # a clock set back
    lock = (deck / "ankismith.lock").read_text()
    assert written[0].report.updated == ("first",)
    assert '"mod": 1000001' in lock


def test_missing_or_broken_lock_updates_everything_once(deck: Path, tmp_path: Path) -> None:
    build([deck], tmp_path / "out", now=1_000_000)
    (deck / "ankismith.lock").write_text("{not json")
    written, warnings = build([deck], tmp_path / "out", now=2_000_000)
    assert len(written[0].report.added) == 6
    assert any("ankismith.lock cannot be used: not JSON" in str(w) for w in warnings)
    (deck / "ankismith.lock").unlink()
    written, _ = build([deck], tmp_path / "out", now=3_000_000)
    assert len(written[0].report.added) == 6


def test_failure_mid_write_leaves_the_previous_package(
    deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build([deck], out, now=1_000_000)
    before = apkg(out).read_bytes()
    (deck / "cards.md").write_text((deck / "cards.md").read_text().replace("First answer.", "Changed."))

    def explode(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "open", explode)  # what each entry is written through
    with pytest.raises(OSError, match="disk full"):
        build([deck], out, now=2_000_000)
    assert apkg(out).read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["test-deck.apkg"]  # no temporary file left


def test_a_lock_with_a_wrong_guid_never_calls_a_live_note_gone(deck: Path, tmp_path: Path) -> None:
    # a lock written before the deck id was recorded, whose GUID for a live key is not this deck's
    build([deck], tmp_path / "out", now=1_000_000)
    lock = json.loads((deck / "ankismith.lock").read_text())
    lock.pop("deck_id")
    key = next(iter(lock["notes"]))
    lock["notes"][key]["guid"] = "not-this-deck-guid"
    (deck / "ankismith.lock").write_text(json.dumps(lock))
    written, _ = build([deck], tmp_path / "out", now=2_000_000)
    assert key not in [k for k, _ in written[0].report.removed]
    assert written[0].report.removed == ()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"version": 1, "deck_id": "test-deck", "models": {}, "notes": {"a": {"hash": "h", "mod": 1e400}}}', "mod"),
        ('{"version": 1, "deck_id": "test-deck", "models": {}, "notes": {"a": {"hash": "h", "mod": -5}}}', "mod"),
        ('{"version": 1, "models": {}, "notes": {"a": {"hash": 5, "mod": 1}}}', "text hash"),
        (
            '{"version": 1, "deck_id": "test-deck", "models": {}, '
            '"notes": {"a": {"hash": "h", "mod": 1, "guid": "x"}}}',
            "GUID",
        ),
        ("[1, 2]", "not a lock"),
    ],
)
def test_a_lock_with_odd_values_is_set_aside_with_a_clear_warning(
    deck: Path, tmp_path: Path, content: str, problem: str
) -> None:
    build([deck], tmp_path / "out", now=1_000_000)
    (deck / "ankismith.lock").write_text(content)
    _, warnings = build([deck], tmp_path / "out", now=2_000_000)
    (warning,) = [w for w in warnings if "ankismith.lock" in w.path]
    assert "cannot be used" in warning.message and problem in warning.message
    assert "a good ankismith.lock is written in its place" in warning.message
    assert json.loads((deck / "ankismith.lock").read_text())["deck_id"] == "test-deck"


@pytest.mark.parametrize("kind", ["fifo", "devzero"])
def test_a_lock_that_is_no_regular_file_is_never_read(deck: Path, tmp_path: Path, kind: str) -> None:
    import os

    lock = deck / "ankismith.lock"
    if kind == "fifo":
        os.mkfifo(lock)  # reading it would wait forever
    else:
        lock.symlink_to("/dev/zero")  # reading it would never end
    _, warnings = build([deck], tmp_path / "out", now=2_000_000)
    assert any("not a regular file" in w.message for w in warnings)
    assert lock.is_file() and not lock.is_symlink()  # a good lock replaced it
