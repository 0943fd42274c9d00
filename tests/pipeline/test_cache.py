"""The build cache: unchanged card files are not compiled again, unchanged packages not rewritten,
and nothing stale is ever served (edited files, changed images, settings, errors, warnings)."""

from __future__ import annotations

import os
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import genanki
import pytest
from conftest import write_deck

from ankismith.errors import DeckErrors
from ankismith.model.ids import guid_for
from ankismith.pipeline import compiler
from ankismith.pipeline import run as pipeline
from ankismith.pipeline.run import build, compile_decks

PNG_A = b"\x89PNG\r\n\x1a\nAAAA"
PNG_B = b"\x89PNG\r\n\x1a\nBBBB"


def notes(deck: Path, cache: Path, **kwargs: object) -> dict[str, object]:
    return {n.key: n for n in compile_decks([deck], cache_dir=cache, **kwargs).decks[0].notes}


def spy(
    monkeypatch: pytest.MonkeyPatch, name: str, label: Callable[[Any], str], module: object = compiler
) -> list[str]:
    """Record label(first argument) of each call of <module>.<name> (the compile stage's by default), then call it."""
    calls: list[str] = []
    real = getattr(module, name)

    def recording(first: Any, *args: object, **kwargs: object) -> object:
        calls.append(label(first))
        return real(first, *args, **kwargs)

    monkeypatch.setattr(module, name, recording)
    return calls


def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return spy(monkeypatch, "read_cards", lambda file: file.path.name)


def test_guid_matches_genanki() -> None:
    for deck_id, key in [("dl-midterm", "conv-output-size~2"), ("d", "größe"), ("x", "")]:
        assert guid_for(deck_id, key) == genanki.guid_for(deck_id, key)


def test_unchanged_files_come_from_the_cache(deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(deck_dir, {"a.md": "## A {#a}\none\n", "b.md": "## B {#b}\ntwo\n"})
    cache = tmp_path / "cache"
    first = notes(deck_dir, cache)
    parsed = count_parses(monkeypatch)
    assert notes(deck_dir, cache) == first and parsed == []
    (deck_dir / "b.md").write_text("## B {#b}\ntwo, edited\n")
    second = notes(deck_dir, cache)
    assert parsed == ["b.md"]
    assert second["a"] == first["a"] and "two, edited" in dict(second["b"].fields)["Back"]


def test_settings_and_seed_are_part_of_the_key(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## N {#n}\n```numeric\nanswer: a\nparams: {a: 1..1000}\n```\n{{a}}\n"})
    cache = tmp_path / "cache"
    one = notes(deck_dir, cache, seed=1)
    assert notes(deck_dir, cache, seed=2)["n"].numeric["pool"] != one["n"].numeric["pool"]
    assert notes(deck_dir, cache, seed=1)["n"].numeric == one["n"].numeric
    (deck_dir / "deck.yaml").write_text("name: Renamed\nid: test-deck\n")
    assert notes(deck_dir, cache, seed=1)["n"].deck == "Renamed"
    (deck_dir / "deck.yaml").write_text("name: Renamed\nid: test-deck\nfresh: false\n")
    assert "n~1" in notes(deck_dir, cache, seed=1)


def test_a_changed_image_recompiles_its_file(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"fig.png": PNG_A, "a.md": "## A {#a}\n![f](fig.png)\n"})
    cache = tmp_path / "cache"
    before = dict(notes(deck_dir, cache)["a"].fields)["Back"]
    (deck_dir / "fig.png").write_bytes(PNG_B + b"more")
    after = dict(notes(deck_dir, cache)["a"].fields)["Back"]
    assert before != after
    (deck_dir / "fig.png").unlink()
    with pytest.raises(DeckErrors, match=r"image 'fig\.png' not found"):
        notes(deck_dir, cache)


def test_errors_are_never_cached_and_warnings_always_shown(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "---\ncolour: red\n---\n## A {#a}\none\n", "b.md": "## B\n- [ ] x\n- [ ] y\n"})
    cache = tmp_path / "cache"
    for _ in range(2):
        with pytest.raises(DeckErrors, match="no correct choice"):
            compile_decks([deck_dir], cache_dir=cache)
    (deck_dir / "b.md").write_text("## B {#b}\nfine\n")
    for _ in range(2):
        warnings = [str(w) for w in compile_decks([deck_dir], cache_dir=cache).warnings]
        assert any("unknown key 'colour' in the front matter" in w for w in warnings)


def test_duplicate_keys_across_cached_files(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## A {#k}\none\n", "b.md": "## B {#b}\ntwo\n"})
    cache = tmp_path / "cache"
    notes(deck_dir, cache)
    (deck_dir / "b.md").write_text("## B {#k}\ntwo\n")
    with pytest.raises(DeckErrors, match="duplicate card key 'k'"):
        notes(deck_dir, cache)


def test_an_unchanged_package_is_not_rewritten(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## A {#a}\none\n"})
    out, cache = tmp_path / "out", tmp_path / "cache"
    first, _ = build([deck_dir], out, now=1000, cache_dir=cache)
    stamp = os.stat(out / "test-deck.apkg").st_mtime_ns
    again, _ = build([deck_dir], out, now=2000, cache_dir=cache)
    assert not first[0].skipped and again[0].skipped
    assert os.stat(out / "test-deck.apkg").st_mtime_ns == stamp
    (out / "test-deck.apkg").write_bytes(b"tampered")
    third, _ = build([deck_dir], out, now=3000, cache_dir=cache)
    assert not third[0].skipped and (out / "test-deck.apkg").read_bytes().startswith(b"PK")
    (deck_dir / "a.md").write_text("## A {#a}\nchanged\n")
    fourth, _ = build([deck_dir], out, now=4000, cache_dir=cache)
    assert not fourth[0].skipped and fourth[0].report.updated == ("a",)


def test_cached_and_uncached_builds_write_the_same_bytes(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"fig.png": PNG_A, "a.md": "## A {#a}\n![f](fig.png) $x$\n## C\n{{c1::x}}\n"})
    build([deck_dir], tmp_path / "plain", now=1000)
    build([deck_dir], tmp_path / "cached", now=1000, cache_dir=tmp_path / "cache")
    build([deck_dir], tmp_path / "cached2", now=1000, cache_dir=tmp_path / "cache")
    plain = (tmp_path / "plain" / "test-deck.apkg").read_bytes()
    assert (tmp_path / "cached" / "test-deck.apkg").read_bytes() == plain
    assert (tmp_path / "cached2" / "test-deck.apkg").read_bytes() == plain


def test_in_an_edited_file_only_the_edited_card_is_compiled(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(deck_dir, {"a.md": "## A {#a}\none\n## B {#b}\ntwo\n## C {#c}\nthree\n"})
    cache = tmp_path / "cache"
    notes(deck_dir, cache)
    compiled = spy(monkeypatch, "render_notes", lambda card: card.key)
    (deck_dir / "a.md").write_text("## A {#a}\none\n## B {#b}\ntwo, edited\n## C {#c}\nthree\n")
    notes(deck_dir, cache)
    assert compiled == ["b"]


def test_a_card_that_moved_is_compiled_again_at_its_new_line(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a card's key is the whole card, its lines included: a moved card is a new value (never a stale `source`)
    write_deck(deck_dir, {"a.md": "## A {#a}\none\n## B {#b}\ntwo\n## C {#c}\nthree\n"})
    cache = tmp_path / "cache"
    first = notes(deck_dir, cache)
    compiled = spy(monkeypatch, "render_notes", lambda card: card.key)
    (deck_dir / "a.md").write_text("## A {#a}\none\nmore lines\nabove\n## B {#b}\ntwo\n## C {#c}\nthree\n")
    second = notes(deck_dir, cache)
    assert compiled == ["a", "b", "c"]
    assert second["c"].source == "a.md:7" and first["c"].source == "a.md:5"
    assert dict(second["c"].fields) == dict(first["c"].fields)


def test_parallel_compile_gives_the_same_notes_and_errors(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = {f"{i}.md": f"## Card {i} {{#c{i}}}\n$x_{i}$ and **{i}**\n" for i in range(6)}
    files["n.md"] = "## N {#n}\n```numeric\nanswer: a * 2\ngiven: {a: 3}\nparams: {a: 1..9}\n```\n{{a}}\n"
    write_deck(deck_dir, files)
    serial = compile_decks([deck_dir]).decks[0].notes
    monkeypatch.setattr(compiler, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(compiler.os, "cpu_count", lambda: 2)
    assert compile_decks([deck_dir]).decks[0].notes == serial
    assert compile_decks([deck_dir], cache_dir=tmp_path / "cache").decks[0].notes == serial
    assert compile_decks([deck_dir], cache_dir=tmp_path / "cache").decks[0].notes == serial
    (deck_dir / "3.md").write_text("## Bad\n- [ ] a\n- [ ] b\n")
    with pytest.raises(DeckErrors, match=r"3\.md:2: no correct choice"):
        compile_decks([deck_dir], cache_dir=tmp_path / "cache")


def test_the_code_fingerprint_covers_every_file_of_the_package(tmp_path: Path) -> None:
    import shutil

    from ankismith.pipeline import cache as buildcache

    package = Path(buildcache.__file__).resolve().parent.parent
    copy = tmp_path / "ankismith"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__"))
    seen = {buildcache.code_fingerprint.__wrapped__(copy)}
    for name in ("render/extensions.py", "package/assets/card.js", "package/assets/card.css", "rules.py"):
        with (copy / name).open("a") as handle:
            handle.write("\n")
        seen.add(buildcache.code_fingerprint.__wrapped__(copy))
    assert len(seen) == 5


def test_a_library_version_change_recompiles(deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ankismith.pipeline import cache as buildcache

    write_deck(deck_dir, {"a.md": "## Code {#code}\n```python\nx = 1\n```\n"})
    cache = tmp_path / "cache"
    notes(deck_dir, cache)
    parsed = count_parses(monkeypatch)
    real = buildcache.metadata.version
    monkeypatch.setattr(buildcache.metadata, "version", lambda name: "99.0" if name == "markdown" else real(name))
    buildcache.code_fingerprint.cache_clear()
    try:
        notes(deck_dir, cache)
        assert parsed == ["a.md"]  # a Markdown upgrade: compiled again
    finally:
        buildcache.code_fingerprint.cache_clear()


def test_nothing_changed_means_nothing_compiled(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(deck_dir, {"fig.png": PNG_A, "a.md": "---\ncolour: red\n---\n## A {#a}\n![f](fig.png)\n## B {#b}\nx\n"})
    out, cache = tmp_path / "out", tmp_path / "cache"
    build([deck_dir], out, now=1000, cache_dir=cache)
    calls = spy(monkeypatch, "_compile", lambda paths: "compile", pipeline)
    again, warnings = build([deck_dir], out, now=2000, cache_dir=cache)
    assert calls == [] and again[0].skipped
    assert (again[0].note_count, again[0].media_count, again[0].report.unchanged) == (2, 1, ("a", "b"))
    assert any("unknown key 'colour' in the front matter" in str(w) for w in warnings)
    # each input, changed, brings the compile back
    changes = [
        lambda: (deck_dir / "fig.png").write_bytes(PNG_B),
        lambda: (deck_dir / "deck.yaml").write_text("name: Other\nid: test-deck\n"),
        lambda: (deck_dir / "ankismith.lock").write_text("{}"),
        lambda: (deck_dir / "b.md").write_text("## C {#c}\nnew file\n"),
    ]
    for change in changes:
        change()
        before = len(calls)
        build([deck_dir], out, now=3000, cache_dir=cache)
        assert len(calls) == before + 1
        build([deck_dir], out, now=3000, cache_dir=cache)
        assert len(calls) == before + 1  # and the build after it is quick again
    before = len(calls)
    build([deck_dir], out, seed=5, now=4000, cache_dir=cache)  # another seed is another input
    assert len(calls) == before + 1


def test_progress_is_reported_up_to_the_total(deck_dir: Path) -> None:
    write_deck(deck_dir, {f"{i}.md": f"## C{i} {{#c{i}}}\ntext {i}\n" for i in range(3)})
    seen: list[tuple[int, int]] = []
    build([deck_dir], deck_dir.parent / "out", on_progress=lambda done, total: seen.append((done, total)))
    assert len(seen) == 3 and seen[-1][0] == seen[-1][1] > 0
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)


def test_an_oversized_cache_starts_afresh(deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ankismith.pipeline.cache import BuildCache

    write_deck(deck_dir, {"a.md": "## A {#a}\none\n"})
    cache = tmp_path / "cache"
    first = notes(deck_dir, cache)
    monkeypatch.setattr(BuildCache, "MAX_BYTES", 0)
    parsed = count_parses(monkeypatch)
    assert notes(deck_dir, cache) == first and parsed == ["a.md"]


def test_check_list_and_export_use_the_build_cache(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from ankismith.cli import app

    write_deck(deck_dir, {"a.md": "## A {#a}\nx\n", "b.md": "## B {#b}\ny\n"})
    cache = str(tmp_path / "cache")
    runner = CliRunner()
    built = runner.invoke(app, ["build", str(deck_dir), "-o", str(tmp_path / "out"), "--cache-dir", cache])
    assert built.exit_code == 0, built.output
    parsed = count_parses(monkeypatch)
    for command in (["check"], ["list"], ["export", "--format", "json"]):
        result = runner.invoke(app, [*command, str(deck_dir), "--cache-dir", cache])
        assert result.exit_code == 0, result.output
    assert parsed == []  # nothing read again: every file came from the cache
    result = runner.invoke(app, ["check", str(deck_dir), "--no-cache"])
    assert result.exit_code == 0 and parsed == ["a.md", "b.md"]


# --- a damaged cache is set aside, never blocks a build ------------------------------------------


def test_a_corrupt_cache_file_is_set_aside_with_one_warning(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {f"{i}.md": f"## C{i} {{#c{i}}}\ntext {i}\n" for i in range(20)})
    cache, out = tmp_path / "cache", tmp_path / "out"
    build([deck_dir], out, now=1000, cache_dir=cache)
    database = cache / "build.sqlite"
    data = bytearray(database.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the header's tail and the first page: "disk image is malformed"
    database.write_bytes(bytes(data))
    written, warnings = build([deck_dir], out, now=2000, cache_dir=cache)
    assert written[0].note_count == 20
    aside = [w for w in warnings if "build cache unreadable" in w.message]
    assert len(aside) == 1 and "moved aside to build.sqlite.broken" in aside[0].message
    assert (cache / "build.sqlite.broken").exists()
    _, warnings = build([deck_dir], out, now=3000, cache_dir=cache)  # and the next build has a fresh one
    assert not [w for w in warnings if "cache" in w.message]


def test_a_cache_entry_that_does_not_decode_is_set_aside(deck_dir: Path, tmp_path: Path) -> None:
    import sqlite3

    write_deck(deck_dir, {"a.md": "## A {#a}\none\n"})
    cache, out = tmp_path / "cache", tmp_path / "out"
    build([deck_dir], out, now=1000, cache_dir=cache)
    with sqlite3.connect(cache / "build.sqlite") as db:
        db.execute("UPDATE files SET value = '{not json'")
        db.execute("UPDATE runs SET value = '[1, 2]'")
    written, warnings = build([deck_dir], out, now=2000, cache_dir=cache)
    assert written[0].note_count == 1 and not written[0].skipped
    assert len([w for w in warnings if "build cache unreadable" in w.message]) == 1


def test_workers_end_when_a_build_is_killed(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    deck = write_deck(
        tmp_path / "big",
        {f"{i}.md": "".join(f"## C{i}-{j} {{#c{i}-{j}}}\n$x_{j}$ **b** text\n" for j in range(400)) for i in range(8)},
    )
    probe = tmp_path / "workers.txt"
    script = (
        "import os, sys\n"
        "import ankismith.pipeline.compiler as c\n"
        "real = c._compile_file\n"
        f"def slow(task):\n    open({str(probe)!r}, 'a').write(str(os.getpid()) + '\\n')\n"
        "    import time; time.sleep(60); return real(task)\n"
        "c._compile_file = slow\n"
        "c.PARALLEL_MIN_BYTES = 0\n"
        "c.os.cpu_count = lambda: 2\n"
        "from ankismith.cli import app\n"
        f"sys.argv = ['ankismith', 'build', {str(deck)!r}, '-o', {str(tmp_path / 'out')!r}, '--no-cache']\n"
        "app()\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 60
    while (not probe.exists() or len(probe.read_text().split()) < 2) and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = [int(pid) for pid in probe.read_text().split()]
    assert len(workers) >= 2
    process.send_signal(signal.SIGKILL)
    process.wait()
    deadline = time.monotonic() + 10
    alive = workers
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in workers if _alive(pid)]
    assert alive == []


def _alive(pid: int) -> bool:
    import os

    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = open(f"/proc/{pid}/stat").read().split()[2] if os.path.exists(f"/proc/{pid}/stat") else "X"
    return status not in ("Z", "X")  # a zombie has ended; its parent (dead) never reaps it


def _reuse_spy(monkeypatch: pytest.MonkeyPatch) -> list[int | None]:
    """How many rows each package written copied from the previous one's dropped (None: made afresh)."""
    from ankismith.package import apkg

    seen: list[int | None] = []
    real = apkg._insert_notes

    def recording(conn: Any, notes: Any, deck_ids: Any, memo: Any, previous: Any) -> bool:
        seen.append(None if previous is None else len(previous.dropped))
        return real(conn, notes, deck_ids, memo, previous)

    monkeypatch.setattr(apkg, "_insert_notes", recording)
    return seen


EDITS = [
    "## A {#a}\none $x$\n## B {#b}\ntwo\n## C\n{{c1::x}} {{c2::y}}\n",
    "## A {#a}\none, edited\n## B {#b}\ntwo\n## C\n{{c1::x}} {{c2::y}}\n",  # a note changed
    "## A {#a}\none, edited\n## C\n{{c1::x}} {{c2::y}} {{c3::z}}\n## D {#d}\nnew\n",  # gone, cards added, new
]


def test_rows_kept_from_the_previous_package_give_a_fresh_packages_bytes(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that copies the unchanged notes' rows from the package it wrote before writes the
    bytes a --no-cache build writes; an edited note is made afresh."""
    plain = tmp_path / "plain-deck"
    seen = _reuse_spy(monkeypatch)
    for step, text in enumerate(EDITS):
        for root in (deck_dir, plain):
            write_deck(root, {"a.md": text})
        build([deck_dir], tmp_path / "cached", now=1000 + step, cache_dir=tmp_path / "cache")
        build([plain], tmp_path / "plain", now=1000 + step)
        cached = (tmp_path / "cached" / "test-deck.apkg").read_bytes()
        assert cached == (tmp_path / "plain" / "test-deck.apkg").read_bytes(), step
        assert (deck_dir / "ankismith.lock").read_bytes() == (plain / "ankismith.lock").read_bytes()
    assert seen[0::2] == [None, 1, 2]  # the cached builds: afresh, then the changed and gone notes dropped


def test_rows_are_not_kept_from_a_package_changed_on_disk_or_by_other_code(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The previous package's rows are copied only when it is, byte for byte, what this code wrote
    with the lock now read: a package replaced on disk, or a new code fingerprint (a note type
    changed), makes it afresh."""
    out, cache = tmp_path / "out", tmp_path / "cache"
    write_deck(deck_dir, {"a.md": EDITS[0]})
    build([deck_dir], out, now=1000, cache_dir=cache)
    seen = _reuse_spy(monkeypatch)
    other = tmp_path / "other"
    write_deck(other, {"a.md": "## Z {#z}\nother\n"})
    build([other], tmp_path / "elsewhere", now=1000)
    (out / "test-deck.apkg").write_bytes((tmp_path / "elsewhere" / "test-deck.apkg").read_bytes())
    write_deck(deck_dir, {"a.md": EDITS[1]})
    build([deck_dir], out, now=1001, cache_dir=cache)
    monkeypatch.setattr(pipeline.buildcache, "code_fingerprint", lambda: "another version")
    write_deck(deck_dir, {"a.md": EDITS[2]})
    build([deck_dir], out, now=1002, cache_dir=cache)
    assert seen == [None, None, None]
    keys = {n.key for n in compile_decks([deck_dir]).decks[0].notes}
    with zipfile.ZipFile(out / "test-deck.apkg") as archive:
        db = tmp_path / "col.sqlite"
        db.write_bytes(archive.read("collection.anki2"))
    with sqlite3.connect(db) as conn:
        guids = {row[0] for row in conn.execute("SELECT guid FROM notes")}
    assert guids == {guid_for("test-deck", key) for key in keys}


@pytest.mark.parametrize("damage", ["none", "missing", "changed", "short"])
def test_the_previous_collection_kept_unzipped_gives_a_fresh_packages_bytes(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """The build cache keeps the last package's collection unzipped, named by the package's SHA-256,
    and the next build copies rows from it without unzipping; a kept collection that is missing or
    damaged (its size or CRC-32 not the package's) is not used: the package is unzipped instead,
    and either way the bytes are those of a --no-cache build."""
    import hashlib

    plain, cache = tmp_path / "plain-deck", tmp_path / "cache"
    for root in (deck_dir, plain):
        write_deck(root, {"a.md": EDITS[0]})
    build([deck_dir], tmp_path / "cached", now=1000, cache_dir=cache)
    build([plain], tmp_path / "plain", now=1000)
    package = tmp_path / "cached" / "test-deck.apkg"
    kept = cache / "collections" / f"{hashlib.sha256(package.read_bytes()).hexdigest()}.anki2"
    with zipfile.ZipFile(package) as archive:
        assert kept.read_bytes() == archive.read("collection.anki2")
    if damage == "missing":
        kept.unlink()
    elif damage == "changed":
        data = bytearray(kept.read_bytes())
        data[200] ^= 0xFF
        kept.write_bytes(bytes(data))
    elif damage == "short":
        kept.write_bytes(kept.read_bytes()[:-1])
    inode = kept.stat().st_ino if kept.exists() else None
    unzipped: list[str] = []
    real_read = zipfile.ZipFile.read
    monkeypatch.setattr(
        zipfile.ZipFile, "read", lambda self, name, *a: unzipped.append(name) or real_read(self, name, *a)
    )
    seen = _reuse_spy(monkeypatch)
    for root in (deck_dir, plain):
        write_deck(root, {"a.md": EDITS[1]})
    build([deck_dir], tmp_path / "cached", now=1001, cache_dir=cache)
    build([plain], tmp_path / "plain", now=1001)
    assert seen[0] == 1  # rows copied from the previous package either way
    assert unzipped == ([] if damage == "none" else ["collection.anki2"])
    assert package.read_bytes() == (tmp_path / "plain" / "test-deck.apkg").read_bytes()
    assert (deck_dir / "ankismith.lock").read_bytes() == (plain / "ankismith.lock").read_bytes()
    # only the collection of the package now on disk is kept, written over the one kept before
    names = [p.name for p in (cache / "collections").iterdir()]
    assert names == [f"{hashlib.sha256(package.read_bytes()).hexdigest()}.anki2"]
    if inode is not None:  # its blocks reused: much cheaper to write than a new file
        assert (cache / "collections" / names[0]).stat().st_ino == inode


@pytest.mark.parametrize("damage", ["none", "changed", "description"])
def test_the_collection_base_kept_gives_a_fresh_packages_bytes(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    """The build cache keeps a collection's base (its tables, decks and note types: what genanki
    gives) by what it is made of, and the next package is built on it without genanki; a kept base
    that is damaged is made again, and a deck description changed makes another base. Either way
    the bytes are those of a --no-cache build."""
    from ankismith.package import apkg

    plain, cache = tmp_path / "plain-deck", tmp_path / "cache"
    for root in (deck_dir, plain):
        write_deck(root, {"a.md": EDITS[0]})
    build([deck_dir], tmp_path / "cached", now=1000, cache_dir=cache)
    build([plain], tmp_path / "plain", now=1000)
    with sqlite3.connect(cache / "build.sqlite") as db:
        assert db.execute("SELECT count(*) FROM bases").fetchone() == (1,)
        if damage == "changed":
            (base,) = db.execute("SELECT collection FROM bases").fetchone()
            db.execute("UPDATE bases SET collection = ?", (base[:100] + bytes([base[100] ^ 0xFF]) + base[101:],))
    made: list[int] = []
    real = apkg.collection_base
    monkeypatch.setattr(apkg, "collection_base", lambda *args: made.append(1) or real(*args))
    settings = 'name: "Test Deck"\nid: test-deck\ndescription: "Now *described*."\n'
    for root in (deck_dir, plain):
        write_deck(root, {"a.md": EDITS[1]}, settings if damage == "description" else None)
    build([deck_dir], tmp_path / "cached", now=1001, cache_dir=cache)
    assert len(made) == (0 if damage == "none" else 1)
    build([plain], tmp_path / "plain", now=1001)
    cached = (tmp_path / "cached" / "test-deck.apkg").read_bytes()
    assert cached == (tmp_path / "plain" / "test-deck.apkg").read_bytes()


def test_a_files_entry_reads_the_same_from_its_text_and_from_its_bytes(deck_dir: Path, tmp_path: Path) -> None:
    from ankismith.pipeline.cache import read_file_text

    write_deck(deck_dir, {"a.md": "## A {#a}\none $x$ é\n\n## B {#b}\n**two** ✓\n"})
    cache = tmp_path / "cache"
    notes(deck_dir, cache)
    with sqlite3.connect(cache / "build.sqlite") as db:
        (value,) = db.execute("SELECT value FROM files").fetchone()
    as_text, as_bytes = read_file_text(value), read_file_text(value.encode())
    assert as_text == as_bytes and [n.fields for n in as_text.notes] == [n.fields for n in as_bytes.notes]


def test_notes_of_a_cached_file_decode_their_fields_only_when_asked_and_equal_fresh_ones(
    deck_dir: Path, tmp_path: Path
) -> None:
    from ankismith.model.canon import encode

    write_deck(deck_dir, {"a.md": "## A {#a}\none $x$\n\n## B {#b}\n**two**\n", "b.md": "## C {#c}\nthree\n"})
    fresh = notes(deck_dir, None)  # type: ignore[arg-type]
    cache = tmp_path / "cache"
    notes(deck_dir, cache)
    cached = notes(deck_dir, cache)
    assert all("fields" not in n.__dict__ for n in cached.values())  # nothing decoded them yet
    assert [n.key for n in cached.values()] == [n.key for n in fresh.values()]
    assert all(cached[k].hash == fresh[k].hash and cached[k].guid == fresh[k].guid for k in fresh)
    assert cached == fresh and encode(list(cached.values())) == encode(list(fresh.values()))
    assert "fields" in cached["a"].__dict__


def test_an_edit_after_a_lazy_read_gives_the_new_fields(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## A {#a}\none\n", "b.md": "## B {#b}\ntwo\n"})
    cache = tmp_path / "cache"
    notes(deck_dir, cache)
    assert "two" in dict(notes(deck_dir, cache)["b"].fields)["Back"]
    (deck_dir / "b.md").write_text("## B {#b}\ntwo, edited\n")
    edited = notes(deck_dir, cache)
    assert "two, edited" in dict(edited["b"].fields)["Back"]
    assert edited == notes(deck_dir, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("damage", ["drop the fields", "change a field", "bytes, not text", "not UTF-8"])
def test_a_files_entry_with_damaged_fields_is_set_aside(deck_dir: Path, tmp_path: Path, damage: str) -> None:
    write_deck(deck_dir, {"a.md": "## A {#a}\none\n"})
    cache, out = tmp_path / "cache", tmp_path / "out"
    build([deck_dir], out, now=1000, cache_dir=cache)
    reference = tmp_path / "reference"
    build([deck_dir], reference, now=2000)
    with sqlite3.connect(cache / "build.sqlite") as db:
        (value,) = db.execute("SELECT value FROM files").fetchone()
        head, _, body = value.partition("\n")
        value = {
            "drop the fields": head,
            "change a field": head + "\n" + body.replace("one", "uno"),
            "bytes, not text": value.encode(),  # the same bytes, stored as a blob
            "not UTF-8": value.replace("one", "\udcff").encode(errors="surrogateescape"),
        }[damage]
        as_text = "CAST(? AS TEXT)" if damage == "not UTF-8" else "?"  # text, but not UTF-8
        db.execute(f"UPDATE files SET value = {as_text}", (value,))
        assert db.execute("SELECT typeof(value) FROM files").fetchone()[0] == ("blob" if "bytes" in damage else "text")
        db.execute("DELETE FROM runs")
    written, warnings = build([deck_dir], out, now=2000, cache_dir=cache)
    assert len([w for w in warnings if "build cache unreadable" in w.message]) == 1
    assert written[0].path.read_bytes() == (reference / written[0].path.name).read_bytes()


def test_a_build_leaves_the_cycle_collector_as_it_found_it(deck_dir: Path, tmp_path: Path) -> None:
    import gc

    write_deck(deck_dir, {"a.md": "## A {#a}\none\n"})
    gc.unfreeze()  # what an earlier test left frozen (serve freezes the heap it keeps)
    thresholds = gc.get_threshold()
    build([deck_dir], tmp_path / "out", now=1000, cache_dir=tmp_path / "cache")
    assert gc.get_freeze_count() == 0  # what it froze for its own speed is collectable again
    assert gc.get_threshold() == thresholds  # and the collector runs as often as before
    write_deck(
        deck_dir, {"a.md": "## A {#a}\none\n## B {#a}\ntwo\n"}
    )  # an error: nothing written, the collector restored too
    with pytest.raises(DeckErrors):
        build([deck_dir], tmp_path / "out", now=1500, cache_dir=tmp_path / "cache")
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    write_deck(deck_dir, {"a.md": "## A {#a}\none\n"})
    gc.freeze()
    try:
        kept = gc.get_freeze_count()
        build([deck_dir], tmp_path / "out", now=2000, cache_dir=tmp_path / "cache")
        assert gc.get_freeze_count() >= kept  # a caller's frozen objects stay frozen
    finally:
        gc.unfreeze()


def test_keys_made_with_shared_first_parts_are_the_keys_made_whole(deck_dir: Path) -> None:
    """`key_with` (a file's cards: the deck's settings encoded once) gives `key`'s keys, for every
    kind of value a key is made of; the compile stage finds its cached cards by them."""
    from fractions import Fraction

    from ankismith.cards.reader import read_cards, read_deck
    from ankismith.errors import Collector
    from ankismith.model.canon import digest, digest_with
    from ankismith.pipeline import cache as buildcache

    write_deck(deck_dir, {"a.md": "## A {#a}\none $x$\n\n## B {#b}\n**two**\n\n## C\n{{c1::x}}\n"})
    deck = read_deck(deck_dir, Collector())
    assert deck is not None
    file, data = deck.files[0]
    cards, _ = read_cards(file, data, Collector())
    made = buildcache.key_with("cards", deck.config)
    for card in cards:
        for names, family in [((), None), (("a.png", "b c.png"), "f" * 64)]:
            assert made(card, names, family) == buildcache.key("cards", deck.config, card, names, family)
    values: list[object] = [1.5, {"b": [1, 2.0], "a": None}, Fraction(1, 3), "é", (), [()], b"x", Path("a/b")]
    for at in range(len(values) + 1):
        first, rest = values[:at], values[at:] or [0]
        assert digest_with(*first)(*rest) == digest(*first, *rest)


def _encode_as_before(value: Any) -> Any:
    """canon.encode as it was before its shortcuts (plain values, field names read once)."""
    import dataclasses
    from enum import Enum
    from pathlib import PurePath

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [_encode_as_before(getattr(value, f.name)) for f in dataclasses.fields(value)]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple):
        return [_encode_as_before(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode_as_before(v) for k, v in value.items()}
    if isinstance(value, PurePath):
        return value.as_posix()
    return value


def test_encode_gives_what_it_gave_before_its_shortcuts(deck_dir: Path, tmp_path: Path) -> None:
    """Cached entries are encoded as before: every note kind of the bundled deck and of the numeric
    bench cards, their files' entries, and values of each kind (a StrEnum stays its plain value)."""
    import json

    from ankismith.model.canon import encode
    from ankismith.model.cards import Kind
    from ankismith.pipeline.cache import FileNotes

    write_deck(
        deck_dir,
        {
            "a.md": "## A {#a}\none $x$\n\n## B {#b}\n**two**\n\n## C\n{{c1::x}} {{c2::y}}\n\n"
            "## D {#d}\n- [x] right\n- [ ] wrong\n",
            "b.md": "## E {#e}\n\n```numeric\nproblem: conv_output_size\ngiven: {W: 7, F: 3, P: 1, S: 1}\n```\n\n"
            "Output size of {{W}}?\n",
        },
    )
    built = compile_decks([deck_dir], cache_dir=tmp_path / "cache").decks[0]
    values: list[Any] = [
        built,
        FileNotes((), built.notes, built.media, (), (("a", "b"),)),
        [Kind.BASIC, (Kind.CLOZE, None), {"k": Path("a/b"), "f": 1.5, "t": True}, "é", -3],
    ]
    for value in values:
        ours = encode(value)
        assert ours == _encode_as_before(value)
        assert json.dumps(ours, ensure_ascii=False) == json.dumps(_encode_as_before(value), ensure_ascii=False)
    assert type(encode(Kind.BASIC)) is str and type(encode([Kind.BASIC])[0]) is str
