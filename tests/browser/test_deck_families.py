"""A deck's own problem family (tests/decks/physics/problems/kinetic_energy.py): built by ankismith,
imported into a real collection, and reviewed on Anki desktop and on the AnkiDroid emulation: the
right answer (with or without its unit) is right, and a classic mistake is named on the back."""

from __future__ import annotations

import shutil
import tempfile
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .built_cards import RenderedCard, built_and_imported
from .checks import expected_index
from .harness import AnkiDroid, Desktop
from .origin import TIMEZONE

PHYSICS = Path(__file__).resolve().parent.parent / "decks" / "physics"
ZONE = ZoneInfo(TIMEZONE)
WHEN = datetime(2026, 5, 4, 10, 0, tzinfo=ZONE)
CLIENTS = {"desktop": Desktop, "ankidroid": AnkiDroid}
HALF = "the $\\frac{1}{2}$ is forgotten: $m v^2$"


@cache
def kinetic_card() -> RenderedCard:
    """The physics deck's kinetic-energy card, as Anki renders it after an import."""
    with tempfile.TemporaryDirectory() as folder:
        deck = shutil.copytree(PHYSICS, Path(folder) / "physics")
        return built_and_imported(deck, Path(folder))["kinetic"]


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_a_deck_familys_mistake_is_named_on_the_back(new_context, site, client):
    card = kinetic_card()
    reviewer = CLIENTS[client](new_context(), site)
    front = reviewer.at(WHEN).front(card)
    assert front.index == expected_index(card.pool, WHEN)
    (part,) = card.pool["instances"][front.index]["parts"]
    assert part["unit"] == "J" and {mistake["label"] for mistake in part["mistakes"]} >= {HALF}
    half = next(mistake for mistake in part["mistakes"] if mistake["label"] == HALF)
    assert half["value"] == 2 * part["value"]  # m v² is twice the answer: a real, distinct wrong method
    back = reviewer.at(WHEN + timedelta(seconds=30)).type_and_flip(card, half["shown"])
    (verdict,) = back.verdicts
    assert (verdict["verdict"], verdict["mistake"]) == ("wrong", HALF)
    assert "what you get if" in back.visible and verdict["mistake_math"] >= 1


@pytest.mark.parametrize("typed", ["{value}", "{value} J", "{value}J"])
def test_the_right_answer_with_or_without_its_unit(new_context, site, typed):
    card = kinetic_card()
    desktop = Desktop(new_context(), site)
    front = desktop.at(WHEN).front(card)
    (part,) = card.pool["instances"][front.index]["parts"]
    back = desktop.at(WHEN + timedelta(seconds=30)).type_and_flip(card, typed.format(value=part["shown"]))
    assert back.verdict == "correct", back.visible
