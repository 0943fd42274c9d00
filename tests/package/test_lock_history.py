"""The lock's history for push: each note's deck and tags, what the sources gave before and no
longer give, and the notes gone; old locks read, one line per note, packages unchanged by it."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import write_deck

from ankismith.errors import Collector
from ankismith.model.ids import guid_for
from ankismith.package import lock as lockfile
from ankismith.package.lock import Entry, Lock, NoteFacts, advance, lock_text, parse_lock
from ankismith.pipeline.run import build

CARDS = """
---
subdeck: Basics
tags: [file-tag]
---
## First {#first tags="a b"}
One.
## Second {#second}
Two.
"""


def read(deck: Path) -> dict:
    return json.loads((deck / "ankismith.lock").read_text())


def test_each_note_records_its_deck_and_tags_on_one_line(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "out", now=1_000)
    text = (deck_dir / "ankismith.lock").read_text()
    data = json.loads(text)
    assert data["version"] == 1
    assert data["notes"]["first"]["deck"] == "Test Deck::Basics"
    assert data["notes"]["first"]["tags"] == ["file-tag", "a", "b"]
    assert data["notes"]["second"]["tags"] == ["file-tag"]
    assert data["gone"] == []
    for key in ("first", "second"):  # one line per note, everything of it on that line
        (line,) = [line for line in text.splitlines() if f'"{key}"' in line]
        assert json.loads("{" + line.rstrip(",") + "}")[key] == data["notes"][key]


def test_tags_and_decks_the_sources_no_longer_give_are_remembered(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "out", now=1_000)
    cards = deck_dir / "cards.md"
    cards.write_text(cards.read_text().replace('tags="a b"', 'tags="a c"').replace("Basics", "Fundamentals"))
    build([deck_dir], tmp_path / "out", now=2_000)
    first = read(deck_dir)["notes"]["first"]
    assert first["tags"] == ["file-tag", "a", "c"] and first["old_tags"] == ["b"]
    assert first["deck"] == "Test Deck::Fundamentals" and first["old_decks"] == ["Test Deck::Basics"]
    assert first["mod"] == 2_000
    # a build in between (say `build`, then `push`) keeps the history: it only grows with the sources
    cards.write_text(cards.read_text().replace('tags="a c"', 'tags="a c d"'))
    build([deck_dir], tmp_path / "out", now=3_000)
    first = read(deck_dir)["notes"]["first"]
    assert first["old_tags"] == ["b"] and first["old_decks"] == ["Test Deck::Basics"]
    # a tag given again leaves the history (case ignored, as Anki ignores it)
    cards.write_text(cards.read_text().replace('tags="a c d"', 'tags="A B"'))
    build([deck_dir], tmp_path / "out", now=4_000)
    first = read(deck_dir)["notes"]["first"]
    assert first["tags"] == ["file-tag", "A", "B"] and first["old_tags"] == ["c", "d"]


def test_notes_gone_are_remembered_until_they_come_back(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "out", now=1_000)
    cards = deck_dir / "cards.md"
    full = cards.read_text()
    cards.write_text(full.replace("## Second {#second}\nTwo.\n", ""))
    build([deck_dir], tmp_path / "out", now=2_000)
    assert read(deck_dir)["gone"] == [["second", guid_for("test-deck", "second")]]
    cards.write_text(full.replace("## First", "## Third {#third}\nThree.\n## First"))
    written, _ = build([deck_dir], tmp_path / "out", now=3_000)
    assert read(deck_dir)["gone"] == []  # back in the sources: no longer gone
    assert written[0].report.added == ("third", "second")


def test_a_new_deck_id_puts_the_old_guids_among_the_gone(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "out", now=1_000)
    (deck_dir / "deck.yaml").write_text('name: "Test Deck"\nid: other\n')
    build([deck_dir], tmp_path / "out", now=2_000, new_id=True)
    gone = read(deck_dir)["gone"]
    assert gone == sorted([["first", guid_for("test-deck", "first")], ["second", guid_for("test-deck", "second")]])


def test_a_lock_from_before_push_is_read_and_kept(deck_dir: Path, tmp_path: Path) -> None:
    """A version 1 lock without decks, tags or gone: every mod kept, the rest recorded now."""
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "out", now=1_000)
    path = deck_dir / "ankismith.lock"
    old = re.sub(r', "deck": [^}]*\}', "}", path.read_text()).replace(',\n "gone": []', "")
    assert '"tags"' not in old and '"gone"' not in old
    path.write_text(old)
    lock = parse_lock(old.encode(), guid_for)
    assert lock.notes["first"] == Entry(lock.notes["first"].hash, 1_000, guid_for("test-deck", "first"))
    written, warnings = build([deck_dir], tmp_path / "out", now=2_000)
    assert not warnings and written[0].report.unchanged == ("first", "second")
    data = read(deck_dir)
    assert data["notes"]["first"]["mod"] == 1_000 and data["notes"]["first"]["tags"] == ["file-tag", "a", "b"]


def test_the_package_does_not_depend_on_what_only_push_reads(deck_dir: Path, tmp_path: Path) -> None:
    """The same notes and mods give the same .apkg bytes, whether the lock records decks, tags and gone or not."""
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "a", now=1_000, cache_dir=None)
    path = deck_dir / "ankismith.lock"
    path.write_text(re.sub(r', "deck": [^}]*\}', "}", path.read_text()))
    build([deck_dir], tmp_path / "b", now=2_000, cache_dir=None)
    assert (tmp_path / "a" / "test-deck.apkg").read_bytes() == (tmp_path / "b" / "test-deck.apkg").read_bytes()


def test_a_damaged_history_makes_the_lock_unusable_with_a_warning(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "out", now=1_000)
    path = deck_dir / "ankismith.lock"
    for damage, says in [
        ('"tags": ["file-tag", "a", "b"]', '"tags": "a b"'),
        ('"deck": "Test Deck::Basics"', '"deck": 3'),
        ('"gone": []', '"gone": [["x"]]'),
    ]:
        text = path.read_text()
        assert damage in text
        file = lockfile.LockFile(path, text.replace(damage, says).encode())
        errors = Collector()
        assert lockfile.read_lock(file, guid_for, errors) == Lock()
        assert "cannot be used" in str(errors.warnings[0])


def test_lock_text_round_trips() -> None:
    lock = Lock(
        {"k": Entry("h", 5, guid_for("d", "k"), "D::S", ("x", "ü"), ("old",), ("D",))},
        {"basic": Entry("m", 7)},
        "d",
        (("gone-key", "some guid"),),
    )
    assert parse_lock(lock_text(lock).encode(), guid_for) == lock


def test_advance_moves_mod_only_with_content_and_keeps_history_case_blind() -> None:
    guid = guid_for("d", "k")
    first, _ = advance(Lock(), "d", [NoteFacts("k", guid, "h1", "D", ("Tag",))], [], 100)
    second, report = advance(first, "d", [NoteFacts("k", guid, "h2", "d", ("tag", "new"))], [], 200)
    assert report.updated == ("k",)
    entry = second.notes["k"]
    assert entry.mod == 200 and entry.old_tags == () and entry.old_decks == ()  # only case changed
    third, report = advance(second, "d", [NoteFacts("k", guid, "h2", "d", ("tag", "new"))], [], 300)
    assert report.unchanged == ("k",) and third.notes["k"] == entry


def test_a_trusted_lock_reads_as_a_checked_one_and_its_lines_are_reused() -> None:
    """A lock this code wrote (the build cache recorded its digest) is read without checks: the same
    Lock as a checked read, and written back the same text; a note changed gets a new line."""
    guid = guid_for("d", "k")
    lock = Lock(
        {
            "k": Entry("h", 5, guid, "D::S", ("x", "ü"), ("old",), ("D",)),
            "m": Entry("h2", 6, guid_for("d", "m"), "D", ()),
        },
        {"basic": Entry("m", 7)},
        "d",
        (("gone-key", "some guid"),),
    )
    data = lock_text(lock).encode()
    trusted = parse_lock(data, guid_for, trusted=True)
    assert trusted == parse_lock(data, guid_for) == lock
    assert all(vars(trusted.notes[key]) == vars(entry) for key, entry in lock.notes.items())  # every field
    assert set(trusted.lines) == {"k", "m"} and lock_text(trusted) == data.decode()
    facts = [NoteFacts("k", guid, "h", "D::S", ("x", "ü")), NoteFacts("m", guid_for("d", "m"), "h3", "D", ("t",))]
    again, report = advance(trusted, "d", facts, [("basic", "m")], 100)
    checked, _ = advance(parse_lock(data, guid_for), "d", facts, [("basic", "m")], 100)
    assert report.updated == ("m",) and again.notes["k"] is trusted.notes["k"]
    assert lock_text(again) == lock_text(checked)
    assert '"m": {"guid"' in lock_text(again) and '"hash": "h3"' in lock_text(again)


def test_only_a_lock_the_cache_saw_written_is_read_without_checks(deck_dir: Path, tmp_path: Path) -> None:
    """A lock edited by hand after a cached build is checked as ever: a damaged one warns, and the
    next lock written is good."""
    write_deck(deck_dir, {"cards.md": CARDS})
    out, cache = tmp_path / "out", tmp_path / "cache"
    build([deck_dir], out, now=1_000, cache_dir=cache)
    path = deck_dir / "ankismith.lock"
    path.write_text(path.read_text().replace('"mod": 1000', '"mod": "soon"', 1))
    (deck_dir / "cards.md").write_text(CARDS.replace("Two.", "Two!"))
    _, warnings = build([deck_dir], out, now=2_000, cache_dir=cache)
    assert any("cannot be used" in str(w) for w in warnings)
    assert all(entry["mod"] == 2_000 for entry in read(deck_dir)["notes"].values())
