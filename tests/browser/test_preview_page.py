"""The preview in Chromium: the static site of the bundled deck (and one with an image), and
`serve` live: an edit shows, a broken card shows its error, a fix clears it."""

from __future__ import annotations

import shutil
import struct
import textwrap
import time
import zlib
from pathlib import Path

import pytest
from conftest import bundled_summary

from ankismith.pipeline.run import compile_decks
from ankismith.preview.serve import Server
from ankismith.preview.site import MATHJAX_FOLDER, MATHJAX_FONTS, write_preview

from .preview_fixtures import CARDS

REPO = Path(__file__).resolve().parents[2]
BUNDLED = REPO / "decks" / "dl-midterm"
PNG = bytes.fromhex(  # a 2x2 red PNG
    "89504e470d0a1a0a0000000d49484452000000020000000208020000"
    "00fdd49a730000001649444154789c63f8cfc0f01f0818191818fe03"
    "0031f007f99d0d6e230000000049454e44ae426082"
)
IMAGE_DECK = {
    "deck.yaml": 'name: "Figures"\nid: figures\n',
    "cards.md": """
        ## What is in the figure? {#figure}

        ![a red square](media/red.png)

        ???

        A red square, $2 \\times 2$ pixels.
        """,
}


@pytest.fixture(scope="module")
def decks(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("decks")
    bundled = shutil.copytree(BUNDLED, root / "dl-midterm")
    figures = root / "figures"
    (figures / "media").mkdir(parents=True)
    (figures / "media" / "red.png").write_bytes(PNG)
    for name, text in IMAGE_DECK.items():
        (figures / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return [bundled, figures]


@pytest.fixture(scope="module")
def preview_site(decks: list[Path], mathjax_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("preview")
    write_preview(decks, out, (mathjax_dir / "tex-chtml-full.js").as_uri())
    return out


def show_every_card(page: object, expected: int, timeout: float = 120) -> None:
    """Scroll through the deck page until every card's two frames are shown and typeset."""
    deadline = time.monotonic() + timeout
    while True:
        shown = page.locator("iframe[data-shown]").count()  # type: ignore[attr-defined]
        if shown == 2 * expected:
            return
        assert time.monotonic() < deadline, f"{shown} of {2 * expected} frames shown"
        page.mouse.wheel(0, 700)  # type: ignore[attr-defined]
        time.sleep(0.1)


def card_frames(page: object) -> list[object]:
    return [frame for frame in page.frames if "frame.html" in frame.url]  # type: ignore[attr-defined]


def not_blank(png: bytes) -> bool:
    """Whether a screenshot shows something: its pixel rows vary (a blank page filters to zeros)."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    position, data = 8, b""
    while position < len(png):
        (length,) = struct.unpack(">I", png[position : position + 4])
        kind = png[position + 4 : position + 8]
        if kind == b"IDAT":
            data += png[position + 8 : position + 8 + length]
        position += 12 + length
    pixels = zlib.decompress(data)
    return len(set(pixels)) > 40 and sum(1 for b in pixels if b) > len(pixels) // 100


def test_index_lists_the_decks_with_their_counts(preview_site: Path, local_context: object) -> None:
    page = local_context().new_page()  # type: ignore[operator]
    page.goto((preview_site / "index.html").as_uri())
    text = page.locator("ul.decks").inner_text()
    assert "24-788 Deep Learning::Midterm" in text and bundled_summary()[1] in text
    assert "Figures" in text and "1 card: 1 basic" in text


def test_every_bundled_card_is_shown_typeset_day_and_night(
    preview_site: Path, decks: list[Path], local_context: object
) -> None:
    notes = compile_decks([decks[0]]).decks[0].notes
    page = local_context().new_page()  # type: ignore[operator]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto((preview_site / "decks" / "dl-midterm.html").as_uri())
    assert page.locator("article.entry").count() == len(notes) == bundled_summary()[0]
    assert page.locator("#notices .mathjax").count() == 0  # MathJax was found
    show_every_card(page, len(notes))
    frames = card_frames(page)
    assert len(frames) == 2 * len(notes)
    keys_shown = set()
    for frame in frames:
        state = frame.evaluate(
            """() => ({
              text: document.getElementById("qa").innerText,
              errors: document.querySelectorAll("mjx-merror").length,
              math: document.querySelectorAll(".math").length,
              typeset: document.querySelectorAll(".math mjx-container").length,
              source: (document.querySelector(".source") || {}).textContent || "",
            })"""
        )
        assert state["text"].strip(), frame.url
        assert state["errors"] == 0, frame.url
        assert "\\(" not in state["text"] and "\\[" not in state["text"], frame.url
        assert state["typeset"] >= state["math"] - 1, frame.url  # the numeric card's hidden \(\) may stay
        keys_shown.add(state["source"].rsplit(" · ", 1)[-1])
    assert {n.key for n in notes} <= keys_shown
    assert errors == []
    day = page.screenshot()
    assert not_blank(day)
    background = "() => getComputedStyle(document.body).backgroundColor"
    first = card_frames(page)[0]
    assert first.evaluate(background) == "rgb(255, 255, 255)"
    page.locator("#night").check()  # every frame loads again, in night mode
    page.wait_for_function(  # as long as the first showing may take: 68 pages each start MathJax again
        f"() => document.querySelectorAll('iframe[data-shown]').length === {2 * len(notes)}", timeout=120_000
    )
    colours = {frame.evaluate(background) for frame in card_frames(page)}
    assert colours == {"rgb(30, 30, 30)"}
    assert not_blank(page.screenshot())


def test_images_load_and_the_search_box_filters(preview_site: Path, local_context: object) -> None:
    page = local_context().new_page()  # type: ignore[operator]
    page.goto((preview_site / "decks" / "figures.html").as_uri())
    show_every_card(page, 1)
    back = page.frame_locator("figure.side-a iframe")
    back.locator("img").wait_for()
    deadline = time.monotonic() + 15
    while back.locator("img").evaluate("(img) => img.complete && img.naturalWidth") != 2:  # loaded, 2 px wide
        assert time.monotonic() < deadline, "the image did not load"
        time.sleep(0.05)
    page.goto((preview_site / "decks" / "dl-midterm.html").as_uri())
    page.locator("#search").fill("LeNet")
    visible = page.locator("article.entry:not([hidden])")
    assert visible.count() >= 1
    assert all("lenet" in key for key in visible.evaluate_all("(els) => els.map((e) => e.dataset.key)"))
    assert f"of {bundled_summary()[0]} cards" in page.locator("#shown").inner_text()


def test_a_fresh_card_steps_through_its_pool_and_grades_what_is_typed(
    preview_site: Path, local_context: object
) -> None:
    page = local_context().new_page()  # type: ignore[operator]
    page.goto((preview_site / "decks" / "dl-midterm.html").as_uri())
    page.locator("#search").fill("gradient descent")
    entry = page.locator('article.entry[data-key="gd-step"]')
    assert entry.locator(".instance").inner_text() == "instance 1 of 21"
    front = entry.frame_locator("figure.side-q iframe")
    front.locator("input.am-input").wait_for()
    first = front.locator("#qa .question").inner_text()
    entry.locator("button.step").nth(1).click()
    assert entry.locator(".instance").inner_text() == "instance 2 of 21"
    question = front.locator("#qa .question")
    deadline = time.monotonic() + 15
    while question.inner_text() == first:  # the frame shows the next instance of the pool
        assert time.monotonic() < deadline, "stepping did not change the question"
        time.sleep(0.05)
    # the given instance: x = 3, lr = 0.1, grad = 1, answer 2.9
    entry.locator("button.step").nth(0).click()
    front.locator("input.am-input").fill("2.90")
    front.locator("input.am-input").press("Enter")
    verdict = front.locator(".verdict")
    verdict.wait_for()
    assert verdict.get_attribute("data-verdict") == "correct"


def test_the_captions_follow_the_side_shown_and_a_typed_answer_reaches_the_back_beside_it(
    preview_site: Path, local_context: object
) -> None:
    """A front flipped to its answer is captioned as a back; what is typed in a front is graded by
    the back frame beside it (in Anki the back gets what the front took)."""
    page = local_context().new_page()  # type: ignore[operator]
    page.goto((preview_site / "decks" / "dl-midterm.html").as_uri())
    page.locator("#search").fill("gradient descent")
    entry = page.locator('article.entry[data-key="gd-step"]')
    front_caption = entry.locator("figure.side-q .side-label")
    back_caption = entry.locator("figure.side-a .side-label")
    assert (front_caption.inner_text(), back_caption.inner_text()) == ("Front", "Back")
    front = entry.frame_locator("figure.side-q iframe")
    back = entry.frame_locator("figure.side-a iframe")
    front.locator("input.am-input").wait_for()
    entry.locator("figure.side-a iframe[data-shown]").wait_for()
    assert back.locator(".verdict").get_attribute("data-verdict") == "blank"  # nothing typed yet
    front.locator("input.am-input").fill("2.90")  # the given instance's answer is 2.9
    typed = back.locator('.verdict[data-verdict="correct"] .am-typed')
    typed.wait_for(timeout=10_000)
    assert typed.inner_text() == "2.90"
    front.locator("input.am-input").fill("3.1")
    back.locator('.verdict[data-verdict="wrong"]').wait_for(timeout=10_000)
    front.locator("input.am-input").press("Enter")  # the front frame turns to its back
    front.locator(".verdict").wait_for()
    page.wait_for_function(
        "() => document.querySelector('article.entry[data-key=\"gd-step\"] .side-label')"
        ".textContent === 'Back (flipped from the front)'"
    )
    assert entry.locator("figure.side-q button.flip").inner_text() == "Back to the front"
    assert back_caption.inner_text() == "Back"
    entry.locator("figure.side-q button.flip").click()  # a new front, its box empty
    front.locator("input.am-input").wait_for()
    assert front_caption.inner_text() == "Front"
    back.locator('.verdict[data-verdict="blank"]').wait_for(timeout=10_000)  # the back beside it follows
    # a card without a box: the button flips the frame, and the caption says so
    page.locator("#search").fill("")
    basic = page.locator('article.entry[data-kind="basic"]').first
    basic.scroll_into_view_if_needed()
    basic.locator("figure.side-q iframe[data-shown]").wait_for()
    basic.locator("figure.side-q button.flip").click()
    assert basic.locator("figure.side-q .side-label").inner_text() == "Back (flipped from the front)"
    basic.locator('figure.side-q iframe[data-shown="a"]').wait_for()


def test_a_moved_preview_typesets_with_its_own_copy_of_mathjax(
    decks: list[Path], mathjax_dir: Path, tmp_path: Path, local_context: object
) -> None:
    """The site carries what it loads of MathJax: moved elsewhere, with the MathJax it was made
    from gone, its pages still typeset, and load nothing from outside the folder."""
    installed = tmp_path / "mathjax" / "es5"
    shutil.copytree(mathjax_dir / MATHJAX_FONTS, installed / MATHJAX_FONTS)
    shutil.copy(mathjax_dir / "tex-chtml-full.js", installed)
    shutil.copy(mathjax_dir.parent / "LICENSE", installed.parent)
    write_preview([decks[1]], tmp_path / "built", (installed / "tex-chtml-full.js").as_uri())
    shutil.rmtree(tmp_path / "mathjax")
    moved = Path(shutil.move(tmp_path / "built", tmp_path / "elsewhere"))
    copy = moved / MATHJAX_FOLDER
    size = sum(file.stat().st_size for file in copy.rglob("*") if file.is_file())
    assert size < 2_000_000 and (copy / "LICENSE").is_file()  # the script, its fonts, its licence
    page = local_context().new_page()  # type: ignore[operator]
    requested, failed = [], []
    page.on("request", lambda request: requested.append(request.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto((moved / "decks" / "figures.html").as_uri())
    page.frame_locator("figure.side-a iframe").locator("mjx-container").wait_for()
    assert any(url.endswith("/tex-chtml-full.js") for url in requested)
    assert [url for url in requested if not url.startswith(moved.as_uri() + "/")] == []
    assert failed == []


# --- serve ---------------------------------------------------------------------------------


def test_serve_shows_edits_errors_and_their_fix(server: tuple[Server, Path], local_context: object) -> None:
    served, deck = server
    page = local_context().new_page()  # type: ignore[operator]
    page.goto(served.url + "decks/live.html")
    back = page.frame_locator('article.entry[data-key="second"] figure.side-a iframe')
    back.locator("mjx-container").wait_for()  # typeset, MathJax served by the server itself
    (deck / "cards.md").write_text(CARDS.replace("Two, with", "Two, edited, with"))
    back.get_by_text("Two, edited, with").wait_for(timeout=15_000)
    back.locator("mjx-container").wait_for()
    (deck / "cards.md").write_text(CARDS.replace("{#second}", "{#first}"))
    errors = page.locator("#notices .errors")
    errors.wait_for(timeout=15_000)
    assert "cards.md:4: duplicate card key 'first'" in errors.inner_text()
    (deck / "cards.md").write_text(CARDS.replace("One.", "One, fixed."))
    errors.wait_for(state="detached", timeout=15_000)
    page.frame_locator('article.entry[data-key="first"] figure.side-a iframe').get_by_text("One, fixed.").wait_for(
        timeout=15_000
    )


def test_each_numeric_card_says_how_it_grades(preview_site: Path, local_context: object) -> None:
    page = local_context().new_page()  # type: ignore[operator]
    page.goto((preview_site / "decks" / "dl-midterm.html").as_uri())
    line = page.locator('article.entry[data-key="gd-step"] p.grading')
    assert line.inner_text() == "Graded within 0.1% or to the digits shown; whole-number answers must be exact."
    assert page.locator('article.entry[data-kind="basic"] p.grading').count() == 0
