"""The command line with typer's CliRunner: exit codes, output, path:line messages."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import write_deck
from typer.testing import CliRunner

from ankismith.cli import app

runner = CliRunner()


def run(*args: str) -> object:
    return runner.invoke(app, list(args))


def test_build_writes_the_package_and_reports(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n"})
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "test-deck.apkg").is_file()
    assert f"{tmp_path / 'out' / 'test-deck.apkg'}: 1 note, 0 media files\n  no ankismith.lock before" in result.output
    (deck_dir / "a.md").write_text("## Q {#q}\nA, edited\n\n## R {#r}\nB\n")
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert "2 notes (1 added, 1 updated, 0 unchanged since the last build, as recorded in ankismith.lock)" in (
        result.output
    )


def test_build_without_arguments_builds_every_deck_under_decks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_deck(tmp_path / "decks" / "one", {"a.md": "## Q\nA\n"}, "name: One\n")
    write_deck(tmp_path / "decks" / "two", {"a.md": "## Q\nA\n"}, "name: Two\n")
    (tmp_path / "decks" / "not-a-deck").mkdir()
    monkeypatch.chdir(tmp_path)
    result = run("build")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["one.apkg", "two.apkg"]


def test_errors_exit_1_with_path_line_and_write_nothing(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#k}\n- [ ] a\n- [ ] b\n", "b.md": "## R {#k}\n![x](missing.png)\n"})
    out = tmp_path / "out"
    result = run("build", str(deck_dir), "-o", str(out))
    assert result.exit_code == 1
    root = deck_dir.as_posix()
    assert f"{root}/a.md:2: no correct choice" in result.output
    assert f"{root}/b.md:1: duplicate card key 'k': also at {root}/a.md:1" in result.output
    assert f"{root}/b.md:2: image 'missing.png' not found" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not (deck_dir / "ankismith.lock").exists()


def test_failed_build_leaves_the_existing_package_untouched(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n"})
    out = tmp_path / "out"
    assert run("build", str(deck_dir), "-o", str(out)).exit_code == 0
    before = (out / "test-deck.apkg").read_bytes()
    stat = os.stat(out / "test-deck.apkg")
    (deck_dir / "a.md").write_text("## Q\n???\na\n???\nb\n")
    assert run("build", str(deck_dir), "-o", str(out)).exit_code == 1
    assert (out / "test-deck.apkg").read_bytes() == before
    assert os.stat(out / "test-deck.apkg").st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in out.iterdir()) == ["test-deck.apkg"]


def test_check_reports_without_writing(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n"})
    result = run("check", str(deck_dir))
    assert result.exit_code == 0 and result.output == f"{deck_dir.as_posix()}: ok, 1 note\n"
    assert not (deck_dir / "ankismith.lock").exists()
    (deck_dir / "deck.yaml").write_text("name: [1]\n")
    result = run("check", str(deck_dir))
    assert result.exit_code == 1
    assert f"{deck_dir.as_posix()}/deck.yaml:1: `name` must be the Anki deck name as text" in result.output


def test_list(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n## C\n{{c1::x}}\n## M\n- [x] a\n- [ ] b\n"})
    result = run("list", str(deck_dir))
    assert result.exit_code == 0
    assert "Test Deck  (id: test-deck)  3 notes: 1 basic, 1 cloze, 1 choice" in result.output


def test_export_json_shape(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": """
        ---
        subdeck: Sub
        tags: [t]
        ---
        ## What is $x$? {#q}
        It is 1.
        ## Output {#num}
        ```numeric
        problem: conv_output_size
        given: {W: 7, F: 3, P: 2, S: 2}
        params: {W: 5..9}
        variants: 2
        ```
        Size for {{W}}?
        """
        },
    )
    result = run("export", str(deck_dir), "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (deck,) = data["decks"]
    assert (deck["id"], deck["name"]) == ("test-deck", "Test Deck")
    first = deck["notes"][0]
    assert set(first) == {"guid", "key", "kind", "deck", "tags", "source", "fields"}
    assert (first["key"], first["kind"], first["deck"], first["tags"], first["source"]) == (
        "q",
        "basic",
        "Test Deck::Sub",
        ["t"],
        "a.md:5",
    )
    assert set(first["fields"]) == {"Front", "Back", "Source"}
    # fresh (the default): one note; its params and answer are the given instance's, then the pool
    assert [n["key"] for n in deck["notes"]] == ["q", "num"]
    numeric = deck["notes"][1]["numeric"]
    given = {"W": 7, "F": 3, "P": 2, "S": 2, "D": 1}
    assert {k: numeric[k] for k in ("problem", "params", "answer")} == {
        "problem": "conv_output_size",
        "params": given,
        "answer": 5,
    }
    assert len(numeric["pool"]) == 3 and numeric["pool"][0] == {
        "params": given,
        "answer": 5,
        "mistakes": [  # each with what a student who makes it types; the floor forgotten gives 5 here: left out
            {"label": "the $+1$ is forgotten: $\\lfloor (W - F + 2P)/S \\rfloor$", "value": 4},
            {
                "label": "the padding is counted once, not on both sides: $\\lfloor (W - F + P)/S \\rfloor + 1$",
                "value": 4,
            },
        ],
    }
    for entry in numeric["pool"][1:]:
        p = entry["params"]
        assert 5 <= p["W"] <= 9 and entry["answer"] == (p["W"] - 3 + 4) // 2 + 1
    # fixed: one note per instance, no pool
    (deck_dir / "deck.yaml").write_text("name: Test Deck\nid: test-deck\nfresh: false\n")
    fixed = json.loads(run("export", str(deck_dir), "--format", "json").output)["decks"][0]["notes"]
    assert [n["key"] for n in fixed] == ["q", "num", "num~1", "num~2"]
    assert {k: fixed[1]["numeric"][k] for k in ("problem", "params", "answer")} == {
        "problem": "conv_output_size",
        "params": given,
        "answer": 5,
    }


def test_export_seed_and_variants_flags(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## N {#n}\n```numeric\nanswer: a\nparams: {a: 1..1000}\n```\n{{a}}\n"})
    keys = lambda out: [n["key"] for n in json.loads(out)["decks"][0]["notes"]]  # noqa: E731
    pool = lambda out: json.loads(out)["decks"][0]["notes"][0]["numeric"]["pool"]  # noqa: E731
    one = run("export", str(deck_dir), "--seed", "1", "--variants", "3")
    two = run("export", str(deck_dir), "--seed", "2", "--variants", "3")
    assert keys(one.output) == keys(two.output) == ["n"]
    assert len(pool(one.output)) == len(pool(two.output)) == 3  # no given: the drawn ones only
    assert one.output != two.output


def test_unknown_format_is_usage_error(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n"})
    assert run("export", str(deck_dir), "--format", "csv").exit_code == 2
    assert run("build", "--variants", "-1").exit_code == 2
    assert run("frobnicate").exit_code == 2


def test_problems_lists_the_families() -> None:
    result = run("problems")
    assert result.exit_code == 0
    for name in ("dense_params", "conv_output_size", "same_padding", "conv2d", "cnn_params", "gd_step", "pool2d"):
        assert name in result.output
    assert "W: int" in result.output


def test_no_decks_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("build")
    assert result.exit_code == 1
    assert result.output == (
        "no decks: pass deck folders, or run in a deck folder (one with a deck.yaml), or where "
        "./decks/<name>/deck.yaml exists\n"
    )


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def test_every_command_run_inside_a_deck_folder_works_on_that_deck(
    deck_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(deck_dir, {"fig.png": PNG, "a.md": "## Q {#q}\n![f](fig.png)\n"})
    monkeypatch.chdir(deck_dir)
    result = run("build")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "dist/test-deck.apkg: 1 note, 1 media file"
    assert Path("dist/test-deck.apkg").is_file() and Path("ankismith.lock").is_file()
    result = run("check")
    assert (result.exit_code, result.output) == (0, ".: ok, 1 note\n")
    result = run("list")
    assert (result.exit_code, result.output) == (0, "Test Deck  (id: test-deck)  1 note: 1 basic\n")
    result = run("export")
    assert result.exit_code == 0, result.output
    assert [(d["id"], [n["source"] for n in d["notes"]]) for d in json.loads(result.output)["decks"]] == [
        ("test-deck", ["a.md:1"])
    ]
    result = run("preview")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "dist/preview/index.html: 1 deck, 1 note; open it in a browser"
    from ankismith.cli import _no_decks

    assert _no_decks(None) is None  # serve goes on to serve it (tests/preview/test_serve.py)
    # what the commands wrote inside the deck folder (dist/, the cache) is never read as the deck's sources
    result = run("build")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "dist/test-deck.apkg (up to date): 1 note (0 added, 0 updated, 1 unchanged since the last build, as "
        "recorded in ankismith.lock), 1 media file"
    )


def test_counts_are_singular_for_one_and_plural_otherwise(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.png": PNG, "b.png": PNG[:-1], "a.md": "## Q {#q}\n![a](a.png)\n## R {#r}\n![b](b.png)\n"})
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.output.splitlines()[0] == f"{tmp_path / 'out' / 'test-deck.apkg'}: 2 notes, 2 media files"
    assert run("check", str(deck_dir)).output == f"{deck_dir.as_posix()}: ok, 2 notes\n"
    second = write_deck(tmp_path / "second", {"a.md": "## Q {#q}\nA\n"}, "name: Second\nid: second\n")
    result = run("preview", str(deck_dir), str(second), "-o", str(tmp_path / "site"))
    assert (
        result.output.splitlines()[0] == f"{tmp_path / 'site' / 'index.html'}: 2 decks, 3 notes; open it in a browser"
    )


def test_a_changed_id_of_a_one_note_deck_says_note(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n"}, "name: Physics\nid: physics\n")
    assert run("build", str(deck_dir), "-o", str(tmp_path / "out")).exit_code == 0
    (deck_dir / "deck.yaml").write_text("name: Physics\nid: physics-2\n")
    result = run("check", str(deck_dir))
    assert "so Anki would add its 1 note as a new note beside the old one, and its review history" in result.output
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"), "--new-id")
    assert "Anki will add its 1 note as a new note;" in result.output


def test_help_does_not_import_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from ankismith.cli import app; "
        "heavy = [m for m in ('numpy', 'genanki', 'markdown', 'anki', 'yaml') if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_rebuild_after_an_edit_imports_neither_genanki_nor_rich(deck_dir: Path, tmp_path: Path) -> None:
    """What a one-card rebuild need not pay at start-up: the collection's base (genanki's schema and
    note types) comes from the build cache, and the report is plain lines (rich only styles)."""
    import subprocess
    import sys

    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n\n## R {#r}\nB\n"})
    command = ["build", str(deck_dir), "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache")]
    code = (
        "import sys; from ankismith.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as exit:\n    assert not exit.code, exit.code\n"
        "print([m for m in ('genanki', 'rich') if m in sys.modules])"
    )

    def imported() -> tuple[str, str]:
        done = subprocess.run([sys.executable, "-c", code, *command], capture_output=True, text=True, check=True)
        *report, modules = done.stdout.splitlines()
        return "\n".join(report), modules

    assert imported()[1] == "['genanki']"  # the first build makes the base
    (deck_dir / "a.md").write_text("## Q {#q}\nA, edited\n\n## R {#r}\nB\n")
    report, modules = imported()
    assert modules == "[]"
    assert "test-deck.apkg: 2 notes (0 added, 1 updated, 1 unchanged since the last build" in report


def test_the_command_ends_its_process_with_the_commands_status_and_all_its_output(
    deck_dir: Path, tmp_path: Path
) -> None:
    """`python -m ankismith` (as the console script) ends the process itself, without the
    interpreter's teardown: the status is the command's, the output all there, the files whole."""
    import subprocess
    import sys
    import zipfile

    write_deck(deck_dir, {"a.md": "".join(f"## Q{i} {{#q{i}}}\nA{i}\n\n" for i in range(300))})

    def ankismith(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ankismith", *args], capture_output=True, text=True)

    done = ankismith("build", str(deck_dir), "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "cache"))
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.startswith(f"{tmp_path / 'out' / 'test-deck.apkg'}: 300 notes, 0 media files\n")
    with zipfile.ZipFile(tmp_path / "out" / "test-deck.apkg") as archive:
        assert archive.testzip() is None
    exported = ankismith("export", str(deck_dir))
    assert exported.returncode == 0 and len(json.loads(exported.stdout)["decks"][0]["notes"]) == 300
    (deck_dir / "b.md").write_text("## Bad {#q1}\nA\n")
    failed = ankismith("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert failed.returncode == 1 and failed.stderr.rstrip().endswith("1 error; nothing was written.")
    assert ankismith("no-such-command").returncode == 2  # typer's usage error


def test_removed_cards_are_named_with_a_search_that_finds_them_in_anki(
    deck_dir: Path, tmp_path: Path, anki_collection: object
) -> None:
    from conftest import import_apkg, notes_by_key

    write_deck(deck_dir, {"a.md": "## Keep {#keep}\nA\n## Drop {#drop}\nB\n"})
    out = tmp_path / "out"
    assert run("build", str(deck_dir), "-o", str(out)).exit_code == 0
    import_apkg(anki_collection, out / "test-deck.apkg")
    (deck_dir / "a.md").write_text("## Keep {#keep}\nA\n")
    result = run("build", str(deck_dir), "-o", str(out))
    assert "gone from the sources but kept by Anki: drop" in result.output
    search = result.output.split("find them in Anki's browser with: ", 1)[1].strip()
    assert anki_collection.find_notes(search) == [notes_by_key(anki_collection)["drop"].id]


def test_source_search_escapes_wildcards(anki_collection: object) -> None:
    from ankismith.cli import _source_search

    model = anki_collection.models.by_name("Basic")
    anki_collection.models.add_field(model, anki_collection.models.new_field("Source"))
    anki_collection.models.update_dict(model)
    keys = ("a*b", "c_d", "e\\f", "plain", "axb", "cxd")
    for key in keys:
        note = anki_collection.new_note(anki_collection.models.by_name("Basic"))
        note["Front"], note["Source"] = key, f"dir/file.md · {key}"
        anki_collection.add_note(note, anki_collection.decks.id("Default"))
    for key in ("a*b", "c_d", "e\\f", "plain"):
        found = anki_collection.find_notes(_source_search(key))
        assert [anki_collection.get_note(n)["Front"] for n in found] == [key]


def test_unwritable_output_is_a_message_not_a_traceback(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n"})
    (tmp_path / "file").write_text("in the way")
    result = run("build", str(deck_dir), "-o", str(tmp_path / "file"))
    assert result.exit_code == 1
    assert "cannot write" in result.output and "Traceback" not in result.output
    assert not (deck_dir / "ankismith.lock").exists()


def test_unusable_cache_warns_and_builds(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n"})
    (tmp_path / "file").write_text("in the way")
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "file" / "c"))
    assert result.exit_code == 0, result.output
    assert "cache not used" in result.output and (tmp_path / "out" / "test-deck.apkg").is_file()


def test_the_build_report_says_importing_replaces_tags_and_push_keeps_them(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n\n## R {#r}\nB\n"})
    out = str(tmp_path / "out")
    says = "with the sources' (Anki's importer does: your own tags on them, marked and leech too, are lost); "
    says += "`ankismith push` updates them and keeps your tags"
    result = run("build", str(deck_dir), "-o", out)
    assert f"  importing replaces the tags of every note it updates {says}" in result.output  # no lock: all may update
    (deck_dir / "a.md").write_text("## Q {#q}\nA, edited\n\n## R {#r}\nB\n")
    result = run("build", str(deck_dir), "-o", out)
    assert f"  importing replaces the tags of the 1 updated note {says}" in result.output
    result = run("build", str(deck_dir), "-o", out)
    assert "importing replaces" not in result.output  # nothing updated: nothing to say


def test_the_bundled_lock_is_current(bundled_copy: Path, tmp_path: Path) -> None:
    """The committed lock matches what the bundled deck builds to: a new user's first `ankismith build`
    reports nothing added or updated (a change to a family or to the deck must come with its lock)."""
    lock = (bundled_copy / "ankismith.lock").read_text()
    result = run("build", str(bundled_copy), "-o", str(tmp_path / "out"), "--no-cache")
    assert result.exit_code == 0, result.output
    assert "(0 added, 0 updated, " in result.output, result.output
    assert (bundled_copy / "ankismith.lock").read_text() == lock
