"""Placeholders of numeric cards: list params written as prose, and the formats that choose how."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import without_pool, write_deck
from test_fresh_and_fixed import pool_of

from ankismith.errors import DeckErrors
from ankismith.pipeline.run import compile_decks

CARD = """
## Layers {{#layers}}
```numeric
problem: dense_params
given: {{layers: [99, 7, 2]}}
```
{text}
"""


def question(deck: Path, text: str) -> str:
    write_deck(deck, {"a.md": CARD.format(text=text)})
    (note,) = compile_decks([deck]).decks[0].notes
    return without_pool(dict(note.fields)["Question"])


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("It has {{layers}} neurons.", "It has 99, 7 and 2 neurons."),  # prose, not Python's [99, 7, 2]
        ("It has {{layers|and}} neurons.", "It has 99, 7 and 2 neurons."),
        ("One of {{ layers | or }}.", "One of 99, 7 or 2."),
        ("Sizes {{layers|list}}.", "Sizes 99, 7, 2."),
        ("A {{layers|x}} tensor.", "A 99×7×2 tensor."),
        ("A {{layers|×}} tensor.", "A 99×7×2 tensor."),
        ("As a list: {{layers|brackets}}.", "As a list: [99, 7, 2]."),
        ("In math: $n = {{layers}}$.", r"\(n = [99, 7, 2]\)"),
        ("In math: $n = {{layers|x}}$.", r"\(n = 99 \times 7 \times 2\)"),
        ("In math: $n = {{layers|and}}$.", r"\(n = 99, 7 \text{ and } 2\)"),
    ],
)
def test_list_params_read_as_prose_or_as_the_format_says(deck_dir: Path, text: str, shown: str) -> None:
    assert shown in question(deck_dir, text)


def test_two_items_and_one_item(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": CARD.format(text="{{layers}}").replace("[99, 7, 2]", "[4, 2]")})
    (note,) = compile_decks([deck_dir]).decks[0].notes
    assert "4 and 2" in without_pool(dict(note.fields)["Question"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{{layers|sideways}}", "a.md:6: unknown format 'sideways' in {{layers|sideways}}; expected one of: and, or"),
        ("{{answer|x}}", "a.md:6: {{answer|x}}: a format is for list params, and answer is not one"),
    ],
)
def test_bad_formats_are_errors_at_their_line(deck_dir: Path, text: str, message: str) -> None:
    write_deck(deck_dir, {"a.md": CARD.format(text=text)})
    with pytest.raises(DeckErrors) as caught:
        compile_decks([deck_dir])
    assert str(caught.value.errors[0]).startswith(f"{deck_dir.as_posix()}/{message}")


def test_the_bundled_deck_writes_lists_as_a_person_would(bundled_copy: Path) -> None:
    numeric = [n for n in compile_decks([bundled_copy]).decks[0].notes if n.kind == "numeric"]
    notes = {n.key: without_pool(dict(n.fields)["Question"]) for n in numeric}
    assert "has 99, 7 and 2 neurons per layer" in notes["dense-params"]
    assert "takes a 1×32×32 input" in notes["lenet-params"]
    assert "kernel sizes 3, 3, 3 and strides 1, 1, 1" in notes["receptive-field"]
    for note in numeric:  # every instance of every pool: no list in brackets outside math
        for entry in pool_of(dict(note.fields)["Question"])["instances"]:
            prose = re.sub(r'<(span|div) class="math">.*?</\1>', "", entry["question"], flags=re.S)
            assert not re.search(r"\[\s*-?\d", prose), (note.key, prose)
