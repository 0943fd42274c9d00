"""The TeX between math delimiters reaches MathJax exactly as written,
backslash escapes included, in every kind of card."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from conftest import without_pool, write_deck

from ankismith.pipeline.run import compile_decks

TEX = [
    r"\{x_1, x_2\}",
    r"50\%",
    r"\#S",
    r"a \& b",
    r"x\_1",
    r"a\,b\;c\!d",
    r"\|x\|",
    r"a \\ b",
    r"\$5",
]
DELIMITERS = [("$", "$"), ("\\(", "\\)"), ("$$", "$$"), ("\\[", "\\]")]


def math_in(fields: dict[str, str]) -> list[str]:
    """Every formula MathJax will read in the fields (the field text is HTML: MathJax reads it unescaped)."""
    text = html.unescape(" ".join(without_pool(value) for value in fields.values()))
    return re.findall(r"\\\((.*?)\\\)|\\\[(.*?)\\\]", text, re.S)


@pytest.mark.parametrize("tex", TEX)
def test_tex_reaches_mathjax_as_written_in_every_card_kind(deck_dir: Path, tex: str) -> None:
    lines = []
    for open_, close in DELIMITERS:
        lines.append(f"Formula {open_}{tex}{close} here.")
    body = "\n\n".join(lines)
    write_deck(
        deck_dir,
        {
            "a.md": f"## Basic {{#basic}}\n\n{body}\n\n"
            f"## Cloze {{#cloze}}\n\nThe {{{{c1::answer}}}} is near.\n\n{body}\n\n"
            f"## Choice {{#choice}}\n\n- [x] yes ${tex}$\n- [ ] no\n\n???\n\n{body}\n\n"
            f"## Numeric {{#numeric}}\n\n```numeric\nanswer: a + 1\ngiven: {{a: 1}}\n```\n\n{body}\n"
        },
    )
    notes = {n.key: dict(n.fields) for n in compile_decks([deck_dir]).decks[0].notes}
    for key, field in (("basic", "Back"), ("cloze", "Text"), ("choice", "Explanation"), ("numeric", "Question")):
        found = [inline or display for inline, display in math_in({field: notes[key][field]})]
        assert found == [tex] * len(DELIMITERS), (key, found)  # each delimiter pair, the TeX untouched
    assert [a or b for a, b in math_in({"Choices": notes["choice"]["Choices"]})] == [tex]
