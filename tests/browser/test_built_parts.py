"""A card of a built-in family of several parts (mlp_backprop asking loss, dW2 and db1), built by
ankismith, imported into a real collection and reviewed on Anki desktop and the AnkiDroid emulation:
one labelled box per part, each graded on its own, and a classic mistake named on its part only."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .built_cards import RenderedCard, built_and_imported
from .checks import expected_index
from .harness import AnkiDroid, Desktop
from .origin import TIMEZONE

ZONE = ZoneInfo(TIMEZONE)
WHEN = datetime(2026, 5, 4, 10, 0, tzinfo=ZONE)
CLIENTS = {"desktop": Desktop, "ankidroid": AnkiDroid}

CARD = """\
## Backprop through an MLP {#mlp}

```numeric
problem: mlp_backprop
given: {x: [1, 2], W1: [[0.5, -1], [1, 0.5]], b1: [0, 0.5], W2: [[1, -0.5]], b2: [0.5], y: [1], act: relu}
ask: [loss, dW2, db1]
```

With $x = {{x}}$, $W_1 = {{W1}}$, $b_1 = {{b1}}$, $W_2 = {{W2}}$, $b_2 = {{b2}}$, $y = {{y}}$: the loss,
$\\partial L / \\partial W_2$ and $\\partial L / \\partial b_1$?
"""


@cache
def mlp_card() -> RenderedCard:
    with tempfile.TemporaryDirectory() as folder:
        deck = Path(folder) / "deck"
        deck.mkdir()
        (deck / "deck.yaml").write_text('name: "Parts"\nid: parts\nseed: 19\n', encoding="utf-8")
        (deck / "cards.md").write_text(CARD, encoding="utf-8")
        return built_and_imported(deck, Path(folder))["mlp"]


def typed(value: Any) -> str:
    """A value as a student types it: a number, a vector's entries, a matrix's rows."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return "; ".join(" ".join(str(x) for x in row) for row in value)
    if isinstance(value, list):
        return " ".join(str(x) for x in value)
    return str(value)


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_each_part_of_a_built_mlp_card_is_graded_on_its_own(new_context, site, client):
    card = mlp_card()
    reviewer = CLIENTS[client](new_context(), site)
    front = reviewer.at(WHEN).front(card)
    assert front.index == expected_index(card.pool, WHEN)
    assert front.boxes == ["loss", "dW2", "db1"]
    loss, dw2, db1 = card.pool["instances"][front.index]["parts"]

    back = reviewer.at(WHEN + timedelta(seconds=30)).type_and_flip(card, [typed(p["value"]) for p in (loss, dw2, db1)])
    assert back.merrors == 0 and not back.raw_math, back.visible
    assert [(v["part"], v["verdict"]) for v in back.verdicts] == [
        ("loss", "correct"),
        ("dW2", "correct"),
        ("db1", "correct"),
    ]

    half = next(m for m in loss["mistakes"] if "frac{1}{2}" in m["label"])
    reviewer = CLIENTS[client](new_context(), site)
    reviewer.at(WHEN).front(card)
    back = reviewer.at(WHEN + timedelta(seconds=30)).type_and_flip(card, [half["shown"], typed(dw2["value"]), "0 0"])
    assert [(v["part"], v["verdict"], v["mistake"]) for v in back.verdicts] == [
        ("loss", "wrong", half["label"]),
        ("dW2", "correct", None),
        ("db1", "wrong", None) if db1["value"] != [0, 0] else ("db1", "correct", None),
    ]
