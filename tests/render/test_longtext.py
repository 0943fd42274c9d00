"""Long inline texts rendered in pieces: the same HTML as the whole text, and pieces of bounded size."""

from __future__ import annotations

import random
from pathlib import Path

import markdown
import pytest
from conftest import BUNDLED
from hypothesis import given, settings
from hypothesis import strategies as st

from ankismith.render.longtext import Chunking, cut_points, knows
from ankismith.render.markdown import Renderer

GOLDEN = Path(__file__).parent / "golden"

# well-formed constructs, text that only looks like one, and lone marks that open nothing or anything
TOKENS = [
    "$x_i$", "$$y^2$$", r"\(z\)", r"\[w\]", r"$\frac{a}{b}$", "$a < b$", r"$\{1\}$", r"$a \\[2pt] b$",
    "`code`", "``a`b``", "` x `", "`$PATH`", "**bold**", "*em*", "__under__", "_it_", "***both***",
    "**a *b* c**", "*a **b** c*", "**x**y", "a**b**", "(**p**)", "**$m$**", "*`c`*", "_snake_case_",
    "[link](http://e.com/a_b)", "![img](p.png)", "[t](u)(v)", "[x]", "[x] [y]", "[a](<b c>)",
    "<b>", "</b>", "<br/>", "<http://a.b/c>", "<a@b.c>", '<span class="x">', "<!-- c -->",
    r"\*", r"\$", r"\\", r"\_", r"\[", r"\(", r"\a", "&amp;", "AT&T", "&#42;",
    "  \n", "\n", "\t",
]  # fmt: skip
WORDS = ["alpha", "x", "2", "é", "snake_case", "a*b", "5 * 3", "$5", "costs $5 each", "x < y", "a<b", "<3",
         "wow!", "(see)", "a_b_c", "2*3", "e.g.", "x$", "1$"]  # fmt: skip
MARKS = ["*", "**", "***", "_", "__", "`", "``", "$", "$$", "[", "]", "](", "(", ")", "<", ">", "\\", "!", "!["]
PREFIXES = ["", "", "", "- ", "> ", "## ", "1. ", "Term\n: "]


@pytest.fixture(scope="module")
def whole() -> Renderer:
    return Renderer(chunking=None)


@pytest.fixture(scope="module")
def pieces() -> Renderer:
    return Renderer(chunking=Chunking(threshold=0, size=1))  # cut wherever the scanner allows


inline_text = st.lists(
    st.tuples(
        st.one_of(st.sampled_from(TOKENS), st.sampled_from(WORDS), st.sampled_from(MARKS)),
        st.sampled_from([" ", " ", " ", "", "  ", ", ", ". "]),
    ),
    max_size=30,
).map(lambda parts: "".join(a + b for a, b in parts))


@settings(max_examples=1500, deadline=None)
@given(blocks=st.lists(st.tuples(st.sampled_from(PREFIXES), inline_text), min_size=1, max_size=3))
def test_pieces_render_as_the_whole_text(whole: Renderer, pieces: Renderer, blocks: list[tuple[str, str]]) -> None:
    source = "\n\n".join(prefix + text for prefix, text in blocks)
    assert pieces.block(source) == whole.block(source), source
    assert pieces.inline(source) == whole.inline(source), source


@pytest.mark.parametrize(
    "path", sorted(BUNDLED.glob("*.md")) + sorted(GOLDEN.glob("*.md")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_real_cards_render_the_same_in_pieces(whole: Renderer, pieces: Renderer, path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert cut_points(pieces._md, source, 1)  # the cutting is exercised, not skipped
    assert pieces.block(source) == whole.block(source)


def _paragraph(size: int, seed: int) -> str:
    """Prose as the issue describes it: math, emphasis, code, links and plain words on one line."""
    rng = random.Random(seed)
    parts: list[str] = []
    while sum(map(len, parts)) < size:
        i = len(parts)
        parts.append(
            rng.choice(
                [f"$x_{{{i}}}$", f"**bold {i}**", f"*em {i}*", f"`code {i}`", f"[link {i}](https://example.com/{i})"]
                + [" ".join(rng.choices(["the", "gradient", "of", "a", "loss", "is", "computed"], k=4))] * 3
            )
        )
    return " ".join(parts)


def test_a_long_line_is_cut_into_short_pieces_that_render_as_the_whole(whole: Renderer) -> None:
    text = _paragraph(12_000, seed=1)
    renderer = Renderer()
    cuts = cut_points(renderer._md, text, 256)
    lengths = [end - start for start, end in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert len(cuts) > 20 and max(lengths) < 1_500  # each piece costs Markdown a bounded amount of work
    assert renderer.block(text) == whole.block(text)
    assert renderer.inline(text) == whole.inline(text)


def test_a_lone_opener_stops_the_cutting_where_it_could_pair_far_away(whole: Renderer) -> None:
    text = " ".join(["plain words here"] * 50 + ["a*b"] + ["more words and *em* here"] * 50 + ["end*"])
    renderer = Renderer(chunking=Chunking(threshold=0, size=16))
    cuts = cut_points(renderer._md, text, 16)
    assert cuts and max(cuts) <= text.index("a*b")  # `a*b` may open emphasis that `end*` closes
    assert renderer.block(text) == whole.block(text)
    assert "<em>b more words" in whole.block(text)


def test_short_texts_and_unknown_patterns_are_left_to_markdown(whole: Renderer) -> None:
    renderer = Renderer()
    assert knows(renderer._md)
    other = markdown.Markdown(extensions=["tables"])
    assert not knows(other)
    assert cut_points(other, _paragraph(5_000, seed=2), 256) == []
