"""The build cache and a deck's own family files: editing a family file compiles again the cards
that name it, and only those, with the new answers; editing a helper (problems/_*.py) compiles
again the cards of the deck's families, never the built-in or plain ones."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import write_deck

from ankismith.pipeline import compiler
from ankismith.pipeline.run import compile_decks

ONE = """
## Plain {#plain}
Just text.

## Uses a {#use-a}

```numeric
problem: a
given: {x: 2}
```

What is a of {{x}}?

## Built in {#conv}

```numeric
problem: conv_output_size
given: {W: 7, F: 3}
```

Output width for {{W}} and {{F}}?
"""

TWO = """
## Uses b {#use-b}

```numeric
problem: b
given: {x: 4}
```

What is b of {{x}}?

## Uses a too {#use-a-too}

```numeric
problem: a
given: {x: 5}
```

What is a of {{x}}, once more?

## Formula {#formula}

```numeric
answer: x + 1
given: {x: 3}
```

What is {{x}} + 1?
"""

A = '"""Scaled by the helper\'s factor."""\n\nimport _util\n\n\ndef solve(x):\n    return _util.FACTOR * x\n'
B = '"""Plus one."""\n\n\ndef solve(x):\n    return x + 1\n'
FAMILY_CARDS = {"use-a", "use-a-too", "use-b"}


def answers(deck: Path, cache: Path) -> dict[str, Any]:
    """The answer of each card's given instance, by card key (None for a card that is not numeric)."""
    notes = compile_decks([deck], cache_dir=cache, variants=0).decks[0].notes
    return {note.key: note.numeric["answer"] if note.numeric else None for note in notes}


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the cards the compile stage renders (not taken from the cache), in order."""
    calls: list[str] = []
    real = compiler.render_notes

    def recording(card: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(card.key)
        return real(card, *args, **kwargs)

    monkeypatch.setattr(compiler, "render_notes", recording)
    return calls


def deck_with_families(root: Path) -> Path:
    return write_deck(
        root,
        {"one.md": ONE, "two.md": TWO, "problems/a.py": A, "problems/b.py": B, "problems/_util.py": "FACTOR = 2\n"},
    )


def test_editing_a_family_file_compiles_only_the_cards_that_name_it(
    deck_dir: Path, tmp_path: Path, rendered: list[str]
) -> None:
    deck_with_families(deck_dir)
    cache = tmp_path / "cache"
    first = answers(deck_dir, cache)
    assert first == {"plain": None, "use-a": 4, "conv": 5, "use-b": 5, "use-a-too": 10, "formula": 4}
    assert sorted(rendered) == sorted(first)
    rendered.clear()
    assert answers(deck_dir, cache) == first and rendered == []

    (deck_dir / "problems" / "a.py").write_text(A.replace("_util.FACTOR * x", "_util.FACTOR * x + 100"))
    second = answers(deck_dir, cache)
    assert sorted(rendered) == ["use-a", "use-a-too"]
    assert second == {**first, "use-a": 104, "use-a-too": 110}


def test_editing_a_helper_compiles_the_deck_family_cards_only(
    deck_dir: Path, tmp_path: Path, rendered: list[str]
) -> None:
    deck_with_families(deck_dir)
    cache = tmp_path / "cache"
    first = answers(deck_dir, cache)
    rendered.clear()

    (deck_dir / "problems" / "_util.py").write_text("FACTOR = 7\n")
    second = answers(deck_dir, cache)
    assert set(rendered) == FAMILY_CARDS  # b does not import the helper, but it could: it is compiled too
    assert second == {**first, "use-a": 14, "use-a-too": 35}  # a's answers come from the helper as edited


def test_two_decks_with_helpers_of_one_name_each_use_their_own(tmp_path: Path) -> None:
    one = deck_with_families(tmp_path / "one")
    two = deck_with_families(tmp_path / "two")
    (two / "deck.yaml").write_text("name: Two\nid: two\n")
    (two / "problems" / "_util.py").write_text("FACTOR = 3\n")
    built = compile_decks([one, two], variants=0).decks
    assert [{n.key: n.numeric["answer"] for n in deck.notes if n.key == "use-a"} for deck in built] == [
        {"use-a": 4},
        {"use-a": 6},
    ]
