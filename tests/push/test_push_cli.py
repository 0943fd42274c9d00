"""`ankismith push` on the command line: what it says, exit codes, which collection it finds,
and that it refuses (nothing changed, nothing written) where it must."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import collection_rows, write_deck
from typer.testing import CliRunner

from ankismith.cli import app
from ankismith.push import anki_base, find_collection
from ankismith.push.route import PushError

runner = CliRunner()

CARDS = '## One {#one tags="a"}\nFirst.\n\n## Two {#two}\nSecond.\n'


def run(*args: str) -> object:
    return runner.invoke(app, list(args))


@pytest.fixture
def deck(deck_dir: Path) -> Path:
    return write_deck(deck_dir, {"cards.md": CARDS})


def test_push_says_what_it_did_and_when_phones_get_it(deck: Path, collection_path: Path, tmp_path: Path) -> None:
    result = run("push", str(deck), "--collection", str(collection_path), "-o", str(tmp_path / "dist"))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == f"{tmp_path / 'dist' / 'test-deck.apkg'}: 2 notes, 0 media files"
    assert lines[1] == f"Pushing into {collection_path}:"
    assert "  note types added: ankismith Basic" in lines
    assert "  Test Deck (test-deck): 2 added, 0 unchanged" in lines
    assert "    added: one, two" in lines
    assert lines[-1].startswith("Done, in one transaction. The changes reach AnkiDroid and AnkiMobile at the next sync")
    assert (deck / "ankismith.lock").is_file() and (tmp_path / "dist" / "test-deck.apkg").is_file()

    (deck / "cards.md").write_text(CARDS.replace('tags="a"', 'tags="b"').replace("## Two {#two}\nSecond.\n", ""))
    result = run("push", str(deck), "--collection", str(collection_path), "-o", str(tmp_path / "dist"))
    assert result.exit_code == 0, result.output
    assert "  Test Deck (test-deck): 1 updated (tags merged on 1), 1 tagged ankismith::removed, 0 unchanged" in (
        result.output
    )
    assert "    updated: one (tags +b -a)" in result.output
    assert "gone from the sources (kept, with their review history; `ankismith push --prune` deletes them): two" in (
        result.output
    )

    result = run("push", str(deck), "--collection", str(collection_path), "-o", str(tmp_path / "dist"), "--prune")
    assert result.exit_code == 0, result.output
    assert 'deleting 1 note gone from the sources, with their review history (--prune): two ("Two")' in result.output

    result = run("push", str(deck), "--collection", str(collection_path), "-o", str(tmp_path / "dist"))
    assert "nothing to change (1 notes as the sources give them)" in result.output
    assert result.output.splitlines()[-1] == "Nothing to push: the collection already has every change of the sources."


def test_dry_run_says_so_and_writes_nothing(deck: Path, collection_path: Path, tmp_path: Path) -> None:
    data = collection_path.read_bytes()
    result = run("push", str(deck), "--collection", str(collection_path), "-o", str(tmp_path / "dist"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == f"Dry run: pushing would change {collection_path}:"
    assert "    added: one, two" in result.output
    assert result.output.splitlines()[-1] == (
        "Dry run: nothing was written (no .apkg, no ankismith.lock, no change to the collection)."
    )
    assert collection_path.read_bytes() == data
    assert not (deck / "ankismith.lock").exists() and not (tmp_path / "dist").exists()


def test_a_collection_anki_has_open_is_refused_in_one_line(deck: Path, collection_path: Path, tmp_path: Path) -> None:
    from anki.collection import Collection

    held = Collection(str(collection_path))  # Anki has it open
    try:
        before = collection_rows(held)
        result = run("push", str(deck), "--collection", str(collection_path), "-o", str(tmp_path / "dist"))
        assert result.exit_code == 1
        assert result.output.splitlines() == [
            f"{collection_path}: Anki has this collection open: close Anki (or switch it to another profile) and push "
            "again, or import the .apkg instead (`ankismith build`, then File > Import); nothing was changed"
        ]
        assert collection_rows(held) == before
    finally:
        held.close()
    assert not (deck / "ankismith.lock").exists() and not (tmp_path / "dist").exists()


def test_without_anki_installed_push_says_how_to_install_it(
    deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "anki", None)
    monkeypatch.setitem(sys.modules, "anki.collection", None)
    result = run("push", str(deck), "--collection", str(tmp_path / "c.anki2"))
    assert result.exit_code == 1
    assert result.output == (
        "push needs Anki's backend, the `anki` package, which is not installed: pip install 'ankismith[push]'\n"
    )
    assert not (deck / "ankismith.lock").exists()


def test_a_collection_that_is_not_there_is_not_created(deck: Path, tmp_path: Path) -> None:
    missing = tmp_path / "typo" / "collection.anki2"
    result = run("push", str(deck), "--collection", str(missing))
    assert result.exit_code == 1
    assert result.output.startswith(f"{missing}: no Anki collection there; --collection takes a profile's")
    assert not missing.parent.exists() and not (deck / "ankismith.lock").exists()


def test_collection_and_profile_together_is_bad_usage(deck: Path, tmp_path: Path) -> None:
    result = run("push", str(deck), "--collection", str(tmp_path / "c.anki2"), "--profile", "User 1")
    assert result.exit_code == 2
    assert result.output == "give --collection or --profile, not both\n"


def make_profile(base: Path, name: str) -> Path:
    from anki.collection import Collection

    (base / name).mkdir(parents=True)
    Collection(str(base / name / "collection.anki2")).close()
    return base / name / "collection.anki2"


def test_profiles_in_anki_base(deck: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "Anki2"
    monkeypatch.setenv("ANKI_BASE", str(base))
    result = run("push", str(deck), "--dry-run")
    assert result.exit_code == 1
    assert result.output.startswith(f"no Anki profile in {base} (Anki's data folder here): give --collection PATH")

    only = make_profile(base, "User 1")
    (base / "addons21").mkdir()  # not a profile: no collection in it
    result = run("push", str(deck), "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"Dry run: pushing would change {only}:" in result.output

    other = make_profile(base, "Second")
    result = run("push", str(deck), "--dry-run")
    assert result.exit_code == 1
    assert result.output == f"several Anki profiles in {base}: Second, User 1; choose one with --profile NAME\n"
    result = run("push", str(deck), "--dry-run", "--profile", "Second")
    assert result.exit_code == 0 and f"pushing would change {other}:" in result.output
    result = run("push", str(deck), "--dry-run", "--profile", "Third")
    assert result.exit_code == 1
    assert result.output == f"no Anki profile 'Third' in {base} (its profiles: Second, User 1)\n"


def test_anki_data_folder_per_system(tmp_path: Path) -> None:
    home = Path("/home/u")
    assert anki_base({}, "linux", home) == home / ".local" / "share" / "Anki2"
    assert anki_base({"XDG_DATA_HOME": "/data"}, "linux", home) == Path("/data/Anki2")
    assert anki_base({}, "darwin", home) == home / "Library" / "Application Support" / "Anki2"
    assert anki_base({"APPDATA": "C:/Users/u/AppData/Roaming"}, "win32", home) == Path(
        "C:/Users/u/AppData/Roaming/Anki2"
    )
    assert anki_base({"ANKI_BASE": "/elsewhere", "APPDATA": "x"}, "win32", home) == Path("/elsewhere")
    with pytest.raises(PushError, match="no Anki profile in"):
        find_collection(None, None, {}, "linux", tmp_path)
    profile = tmp_path / ".local" / "share" / "Anki2" / "Me"
    profile.mkdir(parents=True)
    (profile / "collection.anki2").write_bytes(b"")
    assert find_collection(None, None, {}, "linux", tmp_path) == profile / "collection.anki2"
    assert find_collection(profile, None, {}, "linux", tmp_path) == profile / "collection.anki2"  # a profile folder


def test_a_note_type_changed_in_anki_stops_the_push_with_nothing_changed(
    deck: Path, collection_path: Path, tmp_path: Path
) -> None:
    from anki.collection import Collection

    assert run("push", str(deck), "--collection", str(collection_path), "-o", str(tmp_path / "dist")).exit_code == 0
    col = Collection(str(collection_path))
    try:
        basic = col.models.by_name("ankismith Basic")
        col.models.rename_field(basic, basic["flds"][1], "Answer")
        col.models.update_dict(basic)
        before = collection_rows(col)
    finally:
        col.close()
    (deck / "cards.md").write_text(CARDS.replace("First.", "First, edited."))
    result = run("push", str(deck), "--collection", str(collection_path), "-o", str(tmp_path / "dist"))
    assert result.exit_code == 1
    assert (
        "note type 'ankismith Basic' (id 1733402001, ankismith's 'ankismith Basic') in the collection has no field"
        in (result.output)
    )
    assert result.output.splitlines()[-1] == f"{collection_path}: nothing was changed"
    col = Collection(str(collection_path))
    try:
        assert collection_rows(col) == before
    finally:
        col.close()
