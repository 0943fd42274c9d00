"""Hostile and odd input: each gives a clear path:line error or a warning, never a traceback."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from conftest import write_deck
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ankismith.cards.reader import MAX_FILE_BYTES
from ankismith.cli import app
from ankismith.errors import DeckErrors
from ankismith.pipeline.run import compile_decks
from ankismith.render.markdown import Renderer

runner = CliRunner()


def problems(deck: Path) -> tuple[list[str], list[str]]:
    try:
        compiled = compile_decks([deck])
    except DeckErrors as exc:
        return [str(e) for e in exc.errors], []
    return [], [str(w) for w in compiled.warnings]


def test_non_utf8_file(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": b"## Q\nA\n## R\ncaf\xe9\n"})
    errors, _ = problems(deck_dir)
    assert errors == [f"{deck_dir.as_posix()}/a.md:4: not UTF-8 text (byte 0xe9); save the file as UTF-8"]


def test_bom_and_crlf(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "\ufeff---\r\nsubdeck: S\r\n---\r\n## Q {#q}\r\nline\r\n???\r\nA\r\n".encode()})
    (note,) = compile_decks([deck_dir]).decks[0].notes
    assert note.key == "q" and note.source == "a.md:4" and note.deck == "Test Deck::S"
    assert dict(note.fields)["Back"] == "<p>A</p>"


def test_empty_files_and_deck_without_cards(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "", "b.md": "# only a title\n"})
    errors, _ = problems(deck_dir)
    assert errors == [
        f"{deck_dir.as_posix()}/deck.yaml:1: the deck has no cards: no `## ` heading in any card file (every .md "
        "below the deck folder but README.md and names starting with '_' or '.')"
    ]


def test_huge_file(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\n" + "x" * (MAX_FILE_BYTES + 1)})
    errors, _ = problems(deck_dir)
    assert len(errors) == 1 and errors[0].startswith(f"{deck_dir.as_posix()}/a.md:1: file is ")


def test_yaml_bomb_is_refused(deck_dir: Path) -> None:
    bomb = (
        'name: x\na: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
    )
    write_deck(deck_dir, {"a.md": "## Q\nA\n"}, bomb)
    errors, _ = problems(deck_dir)
    assert errors == [
        f"{deck_dir.as_posix()}/deck.yaml:2: invalid YAML: this anchored value (&name) is used again through an alias "
        "(*name); aliases are not supported, write the value out"
    ]


def test_unknown_keys_warn_with_the_key(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "---\nsubdeck: S\ncolour: red\n---\n## Q\nA\n"}, "name: X\nauthor: me\n")
    errors, warnings = problems(deck_dir)
    assert not errors
    assert (
        f"{deck_dir.as_posix()}/a.md:3: unknown key 'colour' in the front matter, ignored (known: subdeck, tags)"
        in warnings
    )
    assert any(w.startswith(f"{deck_dir.as_posix()}/deck.yaml:2: unknown key 'author' in deck.yaml") for w in warnings)


def test_image_symlink_out_of_the_deck(deck_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"\x89PNG secret")
    write_deck(deck_dir, {"a.md": "## Q\n![x](link.png)\n"})
    os.symlink(secret, deck_dir / "link.png")
    errors, _ = problems(deck_dir)
    assert errors == [
        f"{deck_dir.as_posix()}/a.md:2: image 'link.png' lies outside the deck folder (symlinks included); "
        "move it inside"
    ]


@pytest.mark.parametrize("src", ["/etc/passwd", "../outside.png", "file:///etc/passwd"])
def test_absolute_and_escaping_image_paths(deck_dir: Path, src: str) -> None:
    write_deck(deck_dir, {"a.md": f"## Q\n\ntext\n![x]({src})\n"})
    errors, _ = problems(deck_dir)
    assert len(errors) == 1 and errors[0].startswith(f"{deck_dir.as_posix()}/a.md:4: image '{src}'")


def test_tabs_and_spaces_in_lists_render_alike(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Tabs {#t}\n- a\n\t- b\n## Spaces {#s}\n- a\n    - b\n"})
    notes = {n.key: dict(n.fields)["Back"] for n in compile_decks([deck_dir]).decks[0].notes}
    assert notes["t"] == notes["s"] and notes["t"].count("<ul>") == 2


def test_cli_shows_no_traceback_for_bad_input(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": b"\xff\xfe## bad"}, "name: [1]\n")
    result = CliRunner().invoke(app, ["check", str(deck_dir)])
    assert result.exit_code == 1 and "Traceback" not in result.output


lines = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "## Q",
                "## Q {#k}",
                "???",
                "```",
                "```numeric",
                "- [x] a",
                "- [ ] b",
                "---",
                "$$",
                "{{c1::x}}",
                "{{W}}",
                "![i](x.png)",
                "  - nested",
                "\t- tab",
                "problem: gd_step",
                "given: {x: 1}",
                "",
            ]
        ),
        st.text(max_size=40),
    ),
    max_size=25,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=lines)
def test_fuzz_reader_and_pipeline_never_crash(tmp_path: Path, body: list[str]) -> None:
    deck = tmp_path / "fuzz"
    text = "\n".join(body)
    write_deck(deck, {"a.md": text})
    line_count = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))  # a lone \r ends a line too
    try:
        compile_decks([deck])
    except DeckErrors as exc:
        assert exc.errors
        for error in exc.errors:  # path:line: message, the path inside the deck, the line a real one
            assert re.fullmatch(rf"{re.escape(deck.as_posix())}/(a\.md|deck\.yaml):[1-9]\d*: \S.*", str(error), re.S)
            assert error.line <= line_count + 1


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_fuzz_renderer_never_crashes(text: str) -> None:
    assert isinstance(Renderer().block(text), str)


yaml_values = st.recursive(
    st.one_of(
        st.integers(-(10**20), 10**20),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=8),
        st.booleans(),
        st.none(),
        st.sampled_from(["1..5", "0.1..0.9 step 0.1", "9..1", "a..b", "max", "conv"]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=12,
)
family_names = st.sampled_from(
    [
        "dense_params",
        "conv_output_size",
        "same_padding",
        "conv2d",
        "cnn_params",
        "gd_step",
        "pool2d",
        "adam_step",
        "softmax_cross_entropy",
        "receptive_field",
        "maxpool_backward",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    family=family_names,
    given_values=st.dictionaries(
        st.sampled_from(["W", "F", "P", "S", "I", "K", "layers", "input", "x", "z", "y"]), yaml_values, max_size=4
    ),
    params=st.dictionaries(st.sampled_from(["W", "F", "I", "layers", "x", "lr"]), yaml_values, max_size=3),
    formula=st.sampled_from([None, "x * 2", "x ** x", "W @ W", "sum(I)", "x / 0"]),
)
def test_fuzz_numeric_blocks_give_errors_not_crashes(
    tmp_path: Path, family: str, given_values: dict, params: dict, formula: str | None
) -> None:
    import json

    spec = {"answer": formula} if formula else {"problem": family}
    spec |= {"given": given_values, "params": params, "variants": 2}
    deck = tmp_path / "fuzz-numeric"
    block = (
        json.dumps(spec, allow_nan=True)
        .replace("NaN", ".nan")
        .replace("-Infinity", "-.inf")
        .replace("Infinity", ".inf")
    )
    write_deck(deck, {"a.md": f"## N {{#n}}\n```numeric\n{block}\n```\n{{{{answer}}}}\n"})
    try:
        compile_decks([deck])
    except DeckErrors as exc:
        assert all(str(e).startswith(f"{deck.as_posix()}/a.md:") for e in exc.errors)


# --- links out of the deck folder: never read, never quoted ----------------------------------------


def test_a_card_file_linked_from_outside_is_an_error_that_quotes_nothing(deck_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.md"
    secret.write_text("## TOKEN=hunter2 {#s}\nsecret\n")
    write_deck(deck_dir, {"a.md": "## A {#a}\nfine\n"})
    (deck_dir / "leak.md").symlink_to(secret)
    result = runner.invoke(app, ["build", str(deck_dir), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.splitlines()[0] == (
        f"{deck_dir.as_posix()}/leak.md: is a link to a file outside the deck folder; sources must lie inside it "
        "(links included)"
    )
    assert "hunter2" not in result.output and not (tmp_path / "out").exists()


def test_deck_yaml_linked_from_outside_is_an_error_that_quotes_nothing(deck_dir: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.env"
    secret.write_text("API_KEY=hunter2\n")
    write_deck(deck_dir, {"a.md": "## A {#a}\nfine\n"})
    (deck_dir / "deck.yaml").unlink()
    (deck_dir / "deck.yaml").symlink_to(secret)
    result = runner.invoke(app, ["check", str(deck_dir)])
    assert result.exit_code == 1
    assert "is a link to a file outside the deck folder" in result.output
    assert "hunter2" not in result.output and "API_KEY" not in result.output


def test_links_inside_the_deck_folder_are_followed(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"_drafts/a.md": "## A {#a}\nfine\n"})  # '_': not a card file itself
    (deck_dir / "b.md").symlink_to(deck_dir / "_drafts" / "a.md")
    result = runner.invoke(app, ["check", str(deck_dir)])
    assert result.exit_code == 0, result.output
