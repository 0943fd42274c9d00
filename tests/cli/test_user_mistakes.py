"""Mistakes a new user makes: each one a `path:line: message`, a warning or a refusal, never
a traceback or a silent surprise."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_deck
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from ankismith.cli import app

runner = CliRunner()


def run(*args: str) -> object:
    result = runner.invoke(app, list(args))
    # an exception that escapes the command is a traceback for a real user, whatever the exit code says
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result


# --- a bug in ankismith: one line, exit 1, nothing written ---------------------------------------


def _boom(*args: object, **kwargs: object) -> None:
    raise ValueError("high is out of bounds for int64")


@pytest.mark.parametrize("command", ["build", "check", "export"])
def test_an_unexpected_exception_in_a_card_is_one_line_naming_the_card(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    write_deck(deck_dir, {"a.md": "## Fine {#fine}\nA\n\n## Crashes {#crash}\nB\n"})
    out = tmp_path / "out"
    assert run("build", str(deck_dir), "-o", str(out)).exit_code == 0
    before = (out / "test-deck.apkg").read_bytes()
    lock = (deck_dir / "ankismith.lock").read_text()
    # edited, so that no build cache has it
    (deck_dir / "a.md").write_text("## Fine {#fine}\nA, edited\n\n## Crashes {#crash}\nB, edited\n")
    import ankismith.pipeline.compiler

    real = ankismith.pipeline.compiler.render_notes
    monkeypatch.setattr(
        ankismith.pipeline.compiler,
        "render_notes",
        lambda card, *a, **k: _boom() if card.key == "crash" else real(card, *a, **k),
    )
    args = [command, str(deck_dir), *(["-o", str(out), "--no-cache"] if command == "build" else [])]
    result = run(*args)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{deck_dir.as_posix()}/a.md:4: internal error (ValueError: high is out of bounds for int64); "
        "nothing was written. This is a bug in ankismith: please report it, with this card."
    ]
    assert (out / "test-deck.apkg").read_bytes() == before
    assert (deck_dir / "ankismith.lock").read_text() == lock


def test_an_unexpected_exception_while_packaging_names_the_deck(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n"})
    import ankismith.package.plan

    monkeypatch.setattr(ankismith.package.plan, "_write_package", _boom)
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"{deck_dir.as_posix()}: internal error (ValueError: high is out of bounds for int64); "
        "nothing was written. This is a bug in ankismith: please report it, with this deck."
    ]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not (deck_dir / "ankismith.lock").exists()


def test_an_unexpected_exception_anywhere_else_names_the_inputs(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n"})
    import ankismith.pipeline.run

    monkeypatch.setattr(ankismith.pipeline.run, "find_decks", _boom)
    result = run("check", str(deck_dir))
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"{deck_dir.as_posix()}: internal error (ValueError: high is out of bounds for int64); "
        "nothing was written. This is a bug in ankismith: please report it, with this deck."
    ]


def test_a_real_process_prints_no_traceback(deck_dir: Path) -> None:
    """The guard holds outside CliRunner too: a crash injected into a real `python -m ankismith`."""
    import subprocess
    import sys

    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n"})
    code = (
        "import sys, ankismith.pipeline.compiler as p\n"
        "def boom(*a, **k): raise RecursionError('deep')\n"
        "p.render_notes = boom\n"
        "from ankismith.cli import app\n"
        "sys.argv = ['ankismith', 'check', sys.argv[1]]\n"
        "app()\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(deck_dir)], capture_output=True, text=True)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        f"{deck_dir.as_posix()}/a.md:1: internal error (RecursionError: deep); "
        "nothing was written. This is a bug in ankismith: please report it, with this card."
    )


# --- unknown keys: one warning everywhere, with a suggestion when one is close ------------------


def test_a_typo_in_deck_yaml_is_shown_beside_the_error_it_causes(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n"}, "nmae: Physics\nvariant: 3\nauthor: me\n")
    result = run("check", str(deck_dir))
    assert result.exit_code == 1
    root = deck_dir.as_posix()
    assert result.output.splitlines() == [
        f"{root}/deck.yaml:1: unknown key 'nmae' in deck.yaml, ignored; did you mean 'name'? (known: name, id, "
        "description, tags, seed, variants, fresh, type_answer, tolerance) (warning)",
        f"{root}/deck.yaml:1: `name` must be the Anki deck name as text, found nothing",
        f"{root}/deck.yaml:2: unknown key 'variant' in deck.yaml, ignored; did you mean 'variants'? (known: name, id, "
        "description, tags, seed, variants, fresh, type_answer, tolerance) (warning)",
        f"{root}/deck.yaml:3: unknown key 'author' in deck.yaml, ignored (known: name, id, "
        "description, tags, seed, variants, fresh, type_answer, tolerance) (warning)",
        "1 error; nothing was written.",
    ]


def test_unknown_keys_in_front_matter_and_numeric_blocks_warn_alike(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": """
            ---
            subdek: Sub
            ---
            ## Step {#step}
            ```numeric
            answer: x * 2
            given: {x: 3}
            parms: {x: 1..5}
            tolerence: 0.1
            ```
            x = {{x}}
            """
        },
    )
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    root = deck_dir.as_posix()
    assert (
        f"{root}/a.md:2: unknown key 'subdek' in the front matter, ignored; did you mean 'subdeck'? "
        "(known: subdeck, tags) (warning)"
    ) in result.output
    known = (
        "(known: problem, answer, given, params, where, variants, ask, fresh, type_answer, tolerance, unit) (warning)"
    )
    block = f"{root}/a.md:{{}}: unknown key {{!r}} in the numeric block, ignored; did you mean {{!r}}? {known}"
    assert block.format(8, "parms", "params") in result.output
    assert block.format(9, "tolerence", "tolerance") in result.output


# --- YAML errors at the line that has the problem ------------------------------------------------


@pytest.mark.parametrize(
    ("deck_yaml", "expected"),
    [
        (
            'name: "Physics\nid: phys\nseed: 1\n',
            "deck.yaml:1: invalid YAML: the quoted value that starts here is never closed (expected a closing '\"')",
        ),
        (
            "name: Physics\ntags: [a, b\nseed: 1\n",
            "deck.yaml:2: invalid YAML: the list that starts here with '[' is never closed (expected ',' or ']')",
        ),
        (
            "name: Physics\ndescription: {a: 1\n",
            "deck.yaml:2: invalid YAML: the mapping that starts here with '{' is never closed (expected ',' or '}')",
        ),
        (
            "name: Physics\nid: x\n  seed: 1\n",
            "deck.yaml:3: invalid YAML: mapping values are not allowed in this context",
        ),
    ],
)
def test_yaml_errors_point_at_the_line_that_opened_the_problem(deck_dir: Path, deck_yaml: str, expected: str) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n"}, deck_yaml)
    result = run("check", str(deck_dir))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"{deck_dir.as_posix()}/{expected}"


def test_an_unclosed_quote_in_a_numeric_block_or_front_matter(deck_dir: Path) -> None:
    front = "---\nsubdeck: 'Sub\ntags: [x]\n---\n"
    write_deck(deck_dir, {"a.md": front + "## N {#n}\n```numeric\nanswer: 'x * 2\ngiven: {x: 1}\n```\n{{x}}\n"})
    result = run("check", str(deck_dir))
    root = deck_dir.as_posix()
    assert result.output.splitlines()[:2] == [
        f"{root}/a.md:2: front matter: invalid YAML: the quoted value that starts here is never closed "
        '(expected a closing "\'")',
        f"{root}/a.md:7: numeric block: invalid YAML: the quoted value that starts here is never closed "
        '(expected a closing "\'")',
    ]


# --- keys given twice and clozes with nothing to hide: errors, all in one run ---------------------


def test_duplicate_keys_and_empty_clozes_are_reported_together_and_nothing_is_written(
    deck_dir: Path, tmp_path: Path
) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": """
            ---
            tags: [a]
            tags: [b]
            ---
            ## Capital {#capital}
            The capital of France is {{c1::}} and of Italy {{c2::::a city}}.

            ## Fine cloze {#fine}
            The capital of Spain is {{c1::Madrid::a city}}.

            ## Step {#step}
            ```numeric
            answer: x * 2
            given: {x: 3}
            answer: x * 3
            ```
            x = {{x}}
            """
        },
    )
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    root = deck_dir.as_posix()
    once = "give each key once (the second would silently replace the first)"
    assert result.output.splitlines() == [
        f"{root}/a.md:3: front matter: duplicate key `tags` (first at line 2): {once}",
        f"{root}/a.md:6: empty cloze '{{{{c1::}}}}': there is nothing to hide, so Anki's back would show nothing "
        "there; expected {{c1::text}} or {{c1::text::hint}}",
        f"{root}/a.md:6: empty cloze '{{{{c2::::a city}}}}': there is nothing to hide, so Anki's back would show "
        "nothing there; expected {{c2::text}} or {{c2::text::hint}}",
        f"{root}/a.md:15: numeric block: duplicate key `answer` (first at line 13): {once}",
        "4 errors; nothing was written.",
    ]
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists() and not (deck_dir / "ankismith.lock").exists()


# --- a card with nothing to show on its back -----------------------------------------------------


def test_a_basic_card_without_an_answer_warns(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": "## What is inertia?\n\n## What is mass? {#mass}\nHow much?\n???\n\n   \n"
            "## Cloze {#c}\n{{c1::x}}\n## Choice {#m}\n- [x] a\n- [ ] b\n## Fine {#f}\n???\nYes.\n"
        },
    )
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0
    root = deck_dir.as_posix()
    assert result.output.splitlines()[:2] == [
        f"{root}/a.md:1: the card has no answer: nothing under its heading (without `???` the text under the "
        "heading is the answer) (warning)",
        f"{root}/a.md:5: the card has no answer: nothing below `???` (warning)",
    ]
    assert "warning" not in "".join(result.output.splitlines()[2:])


# --- a deck folder with nothing to build ---------------------------------------------------------


@pytest.mark.parametrize("files", [{}, {"a.md": "# Only a title\n\nSome notes.\n"}])
def test_a_deck_without_cards_is_an_error(deck_dir: Path, tmp_path: Path, files: dict[str, str]) -> None:
    write_deck(deck_dir, files)
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert f"{deck_dir.as_posix()}/deck.yaml:1: the deck has no cards: no `## ` heading in any card file" in (
        result.output
    )
    assert not (tmp_path / "out").exists()


# --- deck folders that are not there -------------------------------------------------------------


def test_a_deck_folder_that_does_not_exist_or_is_not_a_deck(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_deck(Path("real"), {"a.md": "## Q {#q}\nA\n"})
    Path("empty").mkdir()
    result = run("build", "nonexistent", "empty", "real/deck.yaml", "real/a.md")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "empty: no deck.yaml in this folder; a deck folder needs one, with at least `name:`",
        "nonexistent: no such folder; expected a deck folder (with a deck.yaml)",
        "real/a.md: this is a file; expected a deck folder (with a deck.yaml)",
        "real/deck.yaml: this is a file; pass the deck folder that holds it: real",
        "4 errors; nothing was written.",
    ]
    assert not Path("dist").exists()


# --- which files are card files ------------------------------------------------------------------


def test_readme_and_underscore_files_are_not_card_files_and_a_file_without_cards_warns(
    deck_dir: Path, tmp_path: Path
) -> None:
    write_deck(
        deck_dir,
        {
            "README.md": "# My deck\n\n## How to build\n\nRun ankismith build.\n",
            "sub/readme.md": "## Not a card either\nx\n",
            "_drafts.md": "## A draft\nnot yet\n",
            "_wip/more.md": "## Another draft\nnot yet\n",
            ".hidden/x.md": "## Hidden\nx\n",
            "cards.md": "## Q {#q}\nA\n",
            "notes.md": "# Just notes\n\nNo card here.\n",
        },
    )
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"{deck_dir.as_posix()}/notes.md:1: no cards in this file: a card starts at a `## ` heading "
        "(to keep notes that are not cards in the deck folder, start the file's name with '_') (warning)"
    )
    from ankismith.pipeline.run import compile_decks

    (deck,) = compile_decks([deck_dir]).decks
    assert [n.key for n in deck.notes] == ["q"]


# --- images are what their names say -------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 16
GIF = b"GIF89a" + b"\x00" * 16
WEBP = b"RIFF\x10\x00\x00\x00WEBPVP8 " + b"\x00" * 8
SVG = b'\xef\xbb\xbf<?xml version="1.0"?>\n<!-- a drawing -->\n<svg xmlns="http://www.w3.org/2000/svg"></svg>\n'


def test_images_of_every_supported_kind_are_accepted(deck_dir: Path) -> None:
    from ankismith.pipeline.run import compile_decks

    images = {"a.png": PNG, "b.jpg": JPEG, "c.JPEG": JPEG, "d.gif": GIF, "e.webp": WEBP, "f.svg": SVG}
    refs = "\n".join(f"![{name}]({name})" for name in images)
    write_deck(deck_dir, {**images, "a.md": f"## Q {{#q}}\n{refs}\n"})
    (deck,) = compile_decks([deck_dir]).decks
    assert len(deck.media) == 6


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("fig.png", b"just some text\n", "is not a PNG image: it holds text"),
        ("fig.png", JPEG, "is not a PNG image: it is a JPEG image; rename it to .jpg"),
        ("fig.jpg", b"", "is not a JPEG image: the file is empty"),
        ("fig.gif", b"\x00\x01\x02binary", "is not a GIF image: its first bytes are not those of any image kind"),
        ("fig.webp", PNG, "is not a WebP image: it is a PNG image; rename it to .png"),
        ("fig.svg", b"<html><body>no</body></html>", "is not an SVG image: it holds text"),
        ("notes.txt", b"text", "is not an image: it holds text (expected PNG, JPEG, GIF, WebP, SVG, BMP or AVIF)"),
    ],
)
def test_an_image_that_is_not_what_its_name_says_is_an_error_at_its_line(
    deck_dir: Path, name: str, content: bytes, problem: str
) -> None:
    write_deck(deck_dir, {name: content, "a.md": f'## Q {{#q}}\n\ntext\n<img src="{name}">\n'})
    result = run("check", str(deck_dir))
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == f"{deck_dir.as_posix()}/a.md:4: image {name!r} {problem}"


def test_an_image_with_another_extension_is_accepted_when_it_is_an_image(deck_dir: Path) -> None:
    bmp = b"BM" + b"\x00" * 12 + (40).to_bytes(4, "little") + b"\x00" * 36
    write_deck(deck_dir, {"fig.bmp": bmp, "figure": PNG, "a.md": "## Q {#q}\n![f](fig.bmp)\n![g](figure)\n"})
    assert run("check", str(deck_dir)).exit_code == 0


# --- automatic keys cut at a word boundary ---------------------------------------------------------


def _full_slug(text: str) -> str:
    """The slug before any cut, as ankismith has always made it (so that uncut keys never change)."""
    import re
    import unicodedata

    from ankismith.rules import CLOZE

    text = CLOZE.sub(lambda m: m["text"], unicodedata.normalize("NFKC", text)).lower()
    text = re.sub(r"[`*_$\\{}()\[\]<>]", " ", text)
    return re.sub(r"[^\w]+", "-", text).strip("-_")


def test_a_long_heading_key_is_cut_at_a_word_boundary() -> None:
    from ankismith.cards.reader import slugify

    heading = (
        "Why does the gradient of the loss with respect to the weights of the first layers shrink so fast "
        "when the network uses sigmoid activations"
    )
    key = slugify(heading)
    assert key == "why-does-the-gradient-of-the-loss-with-respect-to-the-weights-of-the-first"
    assert len(key) <= 80
    assert slugify("x" * 100) == "x" * 80  # one word longer than the limit: cut inside it


words = st.lists(st.text(alphabet="abcdéß0123456789_", min_size=1, max_size=14), min_size=1, max_size=16)


@given(words, st.sampled_from([" ", " - ", "*", " $", ", "]))
def test_keys_that_fit_never_change_and_cut_ones_end_at_a_word(parts: list[str], separator: str) -> None:
    from ankismith.cards.reader import slugify

    heading = separator.join(parts)
    full, key = _full_slug(heading), slugify(heading)
    if len(full) <= 80:
        assert key == full  # every key made before the change is made again
    else:
        assert len(key) <= 80 and full.startswith(key)
        assert full[len(key)] == "-" or "-" not in full[:81]  # at a word boundary, unless one word is longer


# --- the deck id and what the change report counts against ---------------------------------------


def test_a_changed_deck_id_is_refused_before_anything_is_written(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n## R {#r}\nB\n"}, "name: Physics\nid: physics\n")
    out = tmp_path / "out"
    assert run("build", str(deck_dir), "-o", str(out)).exit_code == 0
    package, lock = (out / "physics.apkg").read_bytes(), (deck_dir / "ankismith.lock").read_text()
    assert '"deck_id": "physics"' in lock
    (deck_dir / "deck.yaml").write_text("name: Physics\nid: phsyics\n")
    for command in (["build", str(deck_dir), "-o", str(out)], ["check", str(deck_dir)]):
        result = run(*command)
        assert result.exit_code == 1
        assert result.output.splitlines()[0] == (
            f"{deck_dir.as_posix()}/deck.yaml:2: deck id changed from 'physics' (as recorded in ankismith.lock) "
            "to 'phsyics': every note would get a new GUID, so Anki would add all 2 notes as new notes beside the "
            "old ones, and their review history would stay with the old notes. To keep updating the old notes, put "
            "`id: physics` back in deck.yaml; to start a new deck on purpose, build with --new-id"
        )
    assert sorted(p.name for p in out.iterdir()) == ["physics.apkg"]
    assert (out / "physics.apkg").read_bytes() == package
    assert (deck_dir / "ankismith.lock").read_text() == lock


def test_new_id_confirms_a_new_deck_and_says_what_anki_will_do(
    deck_dir: Path, tmp_path: Path, anki_collection: object
) -> None:
    from conftest import import_apkg

    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n## R {#r}\nB\n"}, "name: Physics\nid: physics\n")
    out = tmp_path / "out"
    assert run("build", str(deck_dir), "-o", str(out)).exit_code == 0
    import_apkg(anki_collection, out / "physics.apkg")
    (deck_dir / "deck.yaml").write_text("name: Physics\nid: physics-2\n")
    result = run("build", str(deck_dir), "-o", str(out), "--new-id")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (
        "  new deck id 'physics-2' (was 'physics' in ankismith.lock; confirmed with --new-id): Anki will add all 2 "
        "notes as new notes; the notes made under the old id stay in your collection with their review history "
        "(delete them there if you no longer want them)"
    )
    assert "gone from the sources" not in result.output
    log = import_apkg(anki_collection, out / "physics-2.apkg").log
    assert (len(log.new), len(log.updated)) == (2, 0)  # what the report said
    assert anki_collection.note_count() == 4
    assert '"deck_id": "physics-2"' in (deck_dir / "ankismith.lock").read_text()
    result = run("build", str(deck_dir), "-o", str(out))  # from now on, the new id is the recorded one
    assert result.exit_code == 0 and "2 unchanged since the last build" in result.output


def test_a_lock_from_before_the_deck_id_was_recorded(deck_dir: Path, tmp_path: Path) -> None:
    """Old locks stay readable: their GUIDs tell whether the id changed, and the folder name is tried as the old id."""
    import re

    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n"}, "name: Physics\n")  # no id: the folder's name, 'deck'
    out = tmp_path / "out"
    assert run("build", str(deck_dir), "-o", str(out)).exit_code == 0
    lock_path = deck_dir / "ankismith.lock"
    lock_path.write_text(re.sub(r' "deck_id": .*\n', "", lock_path.read_text()))
    result = run("build", str(deck_dir), "-o", str(out))  # same id: fine, and the lock now records it
    assert result.exit_code == 0 and "1 unchanged since the last build" in result.output
    assert '"deck_id": "deck"' in lock_path.read_text()
    lock_path.write_text(re.sub(r' "deck_id": .*\n', "", lock_path.read_text()))
    (deck_dir / "deck.yaml").write_text("name: Physics\nid: physics\n")
    result = run("build", str(deck_dir), "-o", str(out))
    assert result.exit_code == 1
    assert "deck.yaml:2: deck id changed from 'deck' (as recorded in ankismith.lock) to 'physics'" in result.output
    (deck_dir / "deck.yaml").write_text("name: Physics\n")
    renamed = deck_dir.rename(tmp_path / "renamed")
    result = run("build", str(renamed), "-o", str(out))
    assert result.exit_code == 1
    assert (
        f"{renamed.as_posix()}/deck.yaml:1: deck id changed (the GUIDs in ankismith.lock were made from another id) "
        "to 'renamed' (deck.yaml has no `id:`, so the deck takes its folder's name): every note would get a new GUID"
    ) in result.output


def test_without_a_lock_the_report_says_so_and_what_anki_will_do(
    deck_dir: Path, tmp_path: Path, anki_collection: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import import_apkg

    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n## R {#r}\nB\n"})
    out = tmp_path / "out"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run("build", str(deck_dir), "-o", str(out)).exit_code == 0
    import_apkg(anki_collection, out / "test-deck.apkg")
    (deck_dir / "ankismith.lock").unlink()  # deleted, or never committed: a fresh clone of someone's deck
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")  # a later build
    result = run("build", str(deck_dir), "-o", str(out), "--no-cache")
    assert result.exit_code == 0
    assert "added" not in result.output
    assert result.output.splitlines()[1] == (
        "  no ankismith.lock before this build (a first build, or a copy of the deck without it), so no changes to "
        "count: Anki adds the notes it does not have and updates the ones it has (found by GUID, review history "
        "kept). ankismith.lock is written now: commit it with the deck"
    )
    log = import_apkg(anki_collection, out / "test-deck.apkg").log
    assert (len(log.new), len(log.updated)) == (0, 2)  # what the report said: the two it has are updated


def test_counts_say_they_are_relative_to_the_lock(bundled_copy: Path, tmp_path: Path) -> None:
    """A fresh clone with its committed lock: the counts are against the lock, and say so."""
    result = run("build", str(bundled_copy), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0
    assert "unchanged since the last build, as recorded in ankismith.lock)" in result.output.splitlines()[0]


# --- a one-off --seed moves the lock, and says so ------------------------------------------------


def test_a_one_off_seed_says_the_lock_moved_and_building_without_it_moves_the_notes_back(
    deck_dir: Path, tmp_path: Path, anki_collection: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import import_apkg, notes_by_key

    numeric = "## Step {#step}\n```numeric\nanswer: x * 2\ngiven: {x: 3}\nparams: {x: 1..1000}\n```\nx = {{x}}\n"
    write_deck(deck_dir, {"a.md": "## Q {#q}\nA\n" + numeric}, "name: Physics\nid: physics\nseed: 1\nvariants: 3\n")
    out = tmp_path / "out"

    def build(epoch: int, *args: str) -> str:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
        result = run("build", str(deck_dir), "-o", str(out), *args)
        assert result.exit_code == 0, result.output
        import_apkg(anki_collection, out / "physics.apkg")
        return result.output

    build(1_700_000_000)
    usual = notes_by_key(anki_collection)["step"]["Question"]
    output = build(1_700_000_100, "--seed", "99")
    assert output.splitlines()[1:] == [
        "  importing replaces the tags of the 1 updated note with the sources' (Anki's importer does: your own tags "
        "on them, marked and leech too, are lost); `ankismith push` updates them and keeps your tags",
        "  one-off build with --seed 99 (deck.yaml: 1): ankismith.lock now records the notes as this package holds "
        "them (so that Anki's updates stay right); a build without it moves them back, and Anki updates them again",
    ]
    assert notes_by_key(anki_collection)["step"]["Question"] != usual  # Anki took the one-off numbers
    output = build(1_700_000_200)
    assert "0 added, 1 updated, 1 unchanged since the last build" in output and "one-off" not in output
    assert notes_by_key(anki_collection)["step"]["Question"] == usual  # and the usual ones came back
    assert "one-off" not in build(1_700_000_300, "--seed", "1")  # the seed deck.yaml gives is no override
