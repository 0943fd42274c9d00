"""build_for_push: the build `push` runs, the same package and lock as `build`, or nothing at all in a dry run."""

from __future__ import annotations

from pathlib import Path

from conftest import write_deck

from ankismith.pipeline.run import build, build_for_push

CARDS = "## One {#one}\nA.\n## Two {#two}\nB.\n"


def test_it_writes_what_build_writes_and_keeps_the_notes_and_lock(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "a", now=1_000)
    lock, package = (deck_dir / "ankismith.lock").read_text(), (tmp_path / "a" / "test-deck.apkg").read_bytes()
    (deck_dir / "ankismith.lock").unlink()
    cache = tmp_path / "cache"
    for _ in range(2):  # the second time from the build cache, which must still give the notes
        built, _ = build_for_push([deck_dir], tmp_path / "b", now=1_000, cache_dir=cache)
        assert (deck_dir / "ankismith.lock").read_text() == lock
        assert (tmp_path / "b" / "test-deck.apkg").read_bytes() == package
        (item,) = built
        assert [n.key for n in item.deck.notes] == ["one", "two"]
        assert item.lock.notes["one"].mod == 1_000 and item.written.path == tmp_path / "b" / "test-deck.apkg"


def test_a_dry_run_writes_nothing_and_gives_the_lock_it_would_write(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    build([deck_dir], tmp_path / "out", now=1_000)
    lock = (deck_dir / "ankismith.lock").read_text()
    package = (tmp_path / "out" / "test-deck.apkg").read_bytes()
    (deck_dir / "cards.md").write_text(CARDS.replace("B.", "B, edited."))
    built, _ = build_for_push([deck_dir], tmp_path / "out", now=2_000, write=False)
    assert built[0].lock.notes["two"].mod == 2_000 and built[0].written.report.updated == ("two",)
    assert (deck_dir / "ankismith.lock").read_text() == lock
    assert (tmp_path / "out" / "test-deck.apkg").read_bytes() == package
    built, _ = build_for_push([deck_dir], tmp_path / "new", now=2_000, write=False)
    assert not (tmp_path / "new").exists()
