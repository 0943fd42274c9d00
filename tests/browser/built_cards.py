"""The cards of the browser tests: built by ankismith from Markdown, imported into a real Anki
collection, and taken exactly as Anki renders them (`card.question()`, `card.answer()`).

Each card is a numeric card whose answer the tests recompute on their own from the numbers a
student reads on the front (checks.py): a formula over decimals, a rounded ratio, a matrix sum, a
fixed-size conv card (a pool of one) and a card without the answer box.
"""

from __future__ import annotations

import tempfile
import textwrap
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

from ankismith.render.pool import read_pool

ASSETS = resources.files("ankismith.package") / "assets"

CARDS = r"""
## Product sum {#product-sum}

```numeric
answer: a * b + c
given: {a: 3.5, b: 4, c: -2}
params: {a: -9..9 step 0.5, b: 2..12, c: -20..20}
```

With a = {{a}}, b = {{b}} and c = {{c}}, compute $a \times b + c$.

## Ratio {#ratio}

```numeric
answer: a / b
given: {a: 1, b: 7}
params: {a: 1..50, b: 3..97}
```

For a = {{a}} and b = {{b}}, compute $a / b$ (4 significant digits).

???

Round to 4 significant digits.

## Matrix sum {#matrix-sum}

```numeric
answer: A + B
given: {A: [[1, 2], [3, 4]], B: [[0.5, 0.5], [0.5, 0.5]]}
params:
  A: {shape: [2, 2], values: -5..5 step 0.5}
  B: {shape: [2, 2], values: -9..9}
```

Compute $A + B$ for

$$A = {{A}},\quad B = {{B}}$$

## Output size {#conv-fixed}

```numeric
problem: conv_output_size
given: {W: 7, F: 3, P: 2, S: 2}
```

A {{W}}×{{W}} input, a {{F}}×{{F}} filter, padding {{P}}, stride {{S}}: output size?

## Untyped {#untyped}

```numeric
answer: a * b + c
given: {a: 2, b: 3, c: 4}
params: {a: 1..9, b: 1..9, c: 1..9}
type_answer: false
```

With a = {{a}}, b = {{b}} and c = {{c}}, compute $a \times b + c$.
"""


def card_js() -> str:
    return (ASSETS / "card.js").read_text(encoding="utf-8")


def numeric_css() -> str:
    return (ASSETS / "numeric.css").read_text(encoding="utf-8")


@dataclass(frozen=True)
class RenderedCard:
    """One note's card as Anki renders it, with the pool it carries."""

    name: str
    question: str  # card.question(): <style>...</style> + the front
    answer: str  # card.answer()
    pool: dict


def pool_of(question_field: str) -> dict:
    """The pool a numeric note's Question field ends with."""
    pool = read_pool(question_field)
    assert pool is not None, "a numeric note carries its pool"
    return pool


def built_and_imported(deck: Path, folder: Path) -> dict[str, RenderedCard]:
    """The first card of each note of a deck folder: built by ankismith into `folder`, imported into a
    new collection there, and taken as Anki renders it; by card key."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    from ankismith.pipeline.run import build

    build([deck], folder / "out")
    (package,) = (folder / "out").glob("*.apkg")
    col = Collection(str(folder / "collection.anki2"))
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions()))
        cards = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            name = note["Source"].rsplit(" · ", 1)[1]
            card = note.cards()[0]
            cards[name] = RenderedCard(name, card.question(), card.answer(), pool_of(note["Question"]))
        return cards
    finally:
        col.close()


@cache
def rendered_cards() -> dict[str, RenderedCard]:
    """Every card: built by ankismith (deck seed 788, 20 variants), imported into a collection."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        deck = root / "deck"
        deck.mkdir()
        (deck / "deck.yaml").write_text('name: "Browser"\nid: browser\nseed: 788\n', encoding="utf-8")
        (deck / "cards.md").write_text(textwrap.dedent(CARDS).lstrip(), encoding="utf-8")
        cards = built_and_imported(deck, root)
        assert set(cards) == {"product-sum", "ratio", "matrix-sum", "conv-fixed", "untyped"}
        return cards
