"""The preview: card sides rendered as Anki renders them (held against the anki package)."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import bundled_summary, import_apkg, notes_by_key, write_deck

from ankismith.model.cards import Kind
from ankismith.pipeline.run import build, compile_decks
from ankismith.preview.anki import card_sides

CLOZES = """
## Activations {#act}
ReLU is {{c1::max(0, <b>x</b>)::a "hint"}}, sigmoid {{c2::squashes & saturates}} and {{c1::again}}.
Inside math: $x + {{c3::y}}$ and $$a {{c3::b::h}}$$ größe {{c2::× 2 'q' _-.~}}.
???
An extra.

## No extra {#plain}
The {{c1::answer}} here.
"""


def check_against_anki(deck: Path, tmp_path: Path, col: object) -> int:
    build([deck], tmp_path / "out")
    (apkg,) = (tmp_path / "out").glob("*.apkg")
    import_apkg(col, apkg)
    in_anki = notes_by_key(col)
    checked = 0
    for note in compile_decks([deck]).decks[0].notes:
        ours = card_sides(note.kind, dict(note.fields))
        theirs = sorted(in_anki[note.key].cards(), key=lambda c: c.ord)
        assert [side.ordinal for side in ours] == [card.ord for card in theirs], note.key
        for side, card in zip(ours, theirs, strict=True):
            output = card.render_output()
            assert side.question == output.question_text, note.key
            assert side.answer == output.answer_text, note.key
            checked += 1
    return checked


def test_every_bundled_card_renders_as_in_anki(bundled_copy: Path, tmp_path: Path, anki_collection: object) -> None:
    assert check_against_anki(bundled_copy, tmp_path, anki_collection) == bundled_summary(bundled_copy)[0]


def test_clozes_render_as_in_anki(deck_dir: Path, tmp_path: Path, anki_collection: object) -> None:
    write_deck(deck_dir, {"a.md": CLOZES})
    assert check_against_anki(deck_dir, tmp_path, anki_collection) == 4
    (note,) = [n for n in compile_decks([deck_dir]).decks[0].notes if n.key == "act"]
    sides = card_sides(Kind.CLOZE, dict(note.fields))
    assert '<span class="cloze" data-cloze="again" data-ordinal="1">[...]</span>' in sides[0].question
    assert r"\(x + [...]\)" in sides[2].question and r"\(x + y\)" in sides[2].answer


def test_preview_command_writes_the_site(bundled_copy: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ankismith.cli import app

    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["preview", str(bundled_copy), "-o", str(out), "--mathjax", str(tmp_path)])
    assert result.exit_code == 2 and "no tex-chtml-full.js" in result.output  # a --mathjax that is not there
    (tmp_path / "mj").mkdir()
    (tmp_path / "mj" / "tex-chtml-full.js").write_text("/* MathJax */")
    result = CliRunner().invoke(app, ["preview", str(bundled_copy), "-o", str(out), "--mathjax", str(tmp_path / "mj")])
    assert result.exit_code == 0, result.output
    index = (out / "index.html").read_text()
    count, line = bundled_summary(bundled_copy)
    assert 'href="decks/dl-midterm.html"' in index and line in index
    page = (out / "decks" / "dl-midterm.html").read_text()
    numeric = [n for n in compile_decks([bundled_copy]).decks[0].notes if str(n.kind) == "numeric"]
    assert page.count('"kind":"numeric"') == len(numeric)
    # MathJax is copied into the site and loaded from there: the folder can be moved
    frame = (out / "media" / "frame.html").read_text()
    assert 'src="../assets/mathjax/tex-chtml-full.js"' in frame and "file:" not in frame
    assert (out / "assets" / "mathjax" / "tex-chtml-full.js").read_text() == "/* MathJax */"
    cards = sorted((out / "cards").glob("*.js"))
    assert len(cards) == count
    stamp = {path: path.stat().st_mtime_ns for path in cards}
    # a second preview rewrites nothing that did not change
    from ankismith.preview.site import Site

    site = Site(out, None)
    assert len(site.write(compile_decks([bundled_copy]).decks).changed) == count  # a new Site knows nothing yet
    again = site.write(compile_decks([bundled_copy]).decks)
    assert again.changed == () and again.entries == ()
    assert all(path.stat().st_mtime_ns >= stamp[path] for path in cards)
    again = Site(out, (tmp_path / "mj" / "tex-chtml-full.js").as_uri())
    again.write(compile_decks([bundled_copy]).decks)
    shutil.rmtree(out)  # a site deleted while serve runs is written again, MathJax too
    again.write(compile_decks([bundled_copy]).decks)
    assert (out / "assets" / "mathjax" / "tex-chtml-full.js").is_file()


def test_preview_of_a_broken_deck_writes_nothing(deck_dir: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from ankismith.cli import app

    write_deck(deck_dir, {"a.md": "## Q {#k}\nA\n## R {#k}\nB\n"})
    result = CliRunner().invoke(app, ["preview", str(deck_dir), "-o", str(tmp_path / "site")])
    assert result.exit_code == 1 and "duplicate card key 'k'" in result.output
    assert not (tmp_path / "site").exists()
