"""The stress check of `ankismith check`: many draws of every numeric card, and a warning at the
numeric block's line for a card that gives a student little to practise.

A card warns when its draws have fewer than MIN_DISTINCT distinct answers, when more than a
quarter of them are degenerate (the answer is 0, the family says so — a tie in a max —, or the
answer is one of the numbers the question shows), or when one of its mistakes gives the right
answer in more than a quarter of the draws (the card could not tell that mistake apart). Draws are
solved without their worked steps (those of the deck's own instances are checked by every build).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ankismith.errors import Collector
from ankismith.model.cards import Card, Deck
from ankismith.render import grading

DEFAULT_DRAWS = 200
MIN_DISTINCT = 5
SHARE = 0.25  # more than this share of draws: a warning


@dataclass
class _Tally:
    """What the draws of one card showed."""

    draws: int = 0
    answers: set[str] = field(default_factory=set)
    degenerate: Counter[str] = field(default_factory=Counter)
    coinciding: Counter[str] = field(default_factory=Counter)
    applied: Counter[str] = field(default_factory=Counter)


def stress_deck(deck: Deck, cards: list[Card], count: int, errors: Collector) -> None:
    """Warn, at each numeric block's line, about the cards of `deck` whose draws are weak."""
    from ankismith import solver

    families, _ = solver.families_for(deck.families)
    for card in cards:
        if card.numeric is None:
            continue
        try:
            tally = _draw(card, deck, families, count)
        except solver.FamilyError as exc:  # a deck's family's `degenerate`, which only this check calls
            at = f"{exc.path}:{exc.line}" if exc.line else exc.path
            name = card.numeric.spec.get("problem")
            errors.error(exc.path, exc.line, exc.message)
            errors.error(
                card.file.shown,
                card.numeric.line_of("problem"),
                f"numeric block: the family {name!r} cannot be used: its file fails at {at}",
            )
            continue
        if tally is None or tally.draws == 0:
            continue
        where = (card.file.shown, card.numeric.line)
        for message in _verdicts(tally, count):
            errors.warn(*where, f"stress check: {message}")


def _draw(card: Card, deck: Deck, families: Mapping[str, Any], count: int) -> _Tally | None:
    """Solve `count` draws of the card (None when it draws nothing: a `given` instance only)."""
    from ankismith import solver
    from ankismith.solver.instantiate import draw_instance, read_block

    assert card.numeric is not None
    spec = card.numeric.spec
    try:
        problem, draws = read_block(spec, families)
    except (solver.SpecErrors, solver.FamilyError):
        return None  # the build reports it
    if not draws:
        return None
    tolerance = card.numeric.review.get("tolerance", deck.config.review.tolerance)
    exact_ints = tolerance is None
    tolerance = 0.001 if tolerance is None else tolerance
    tally = _Tally()
    given = spec.get("given") if isinstance(spec.get("given"), dict) else {}
    for index in range(1, count + 1):
        try:
            instance = draw_instance(
                problem, draws, given, deck.config.seed, f"{card.key}#stress", index, [], light=True
            )
        except (solver.SpecErrors, solver.FamilyError):
            return None  # no valid draw, or a family at fault: the build says so
        tally.draws += 1
        _count(tally, problem, instance, tolerance, exact_ints)
    return tally


def _count(tally: _Tally, problem: Any, instance: Any, tolerance: float, exact_ints: bool) -> None:
    from ankismith.solver.values import to_json, to_text

    tally.answers.add(repr(to_json(instance.answer)))
    reasons = []
    if all(_is_zero(part.answer) for part in instance.parts):
        reasons.append("the answer is 0")
    family = problem.family
    if family is not None and family.degenerate is not None and (why := family.call("degenerate", instance.params)):
        reasons.append(str(why))
    shown = {  # the numbers the question shows (0 and 1 are too common to tell anything)
        to_text(v)
        for v in instance.params.values()
        if not isinstance(v, list | dict | str) and not hasattr(v, "shape") and v not in (0, 1)
    }
    if len(instance.parts) == 1 and not hasattr(instance.answer, "shape") and to_text(instance.answer) in shown:
        reasons.append("the answer is one of the numbers the question shows")
    for reason in reasons[:1]:
        tally.degenerate[reason] += 1
    if family is None or family.mistakes is None:
        return
    raw = family.call("mistakes", instance.params)
    for label, value in (raw or {}).items():
        if value is None:
            continue
        label = " ".join(str(label).split())
        tally.applied[label] += 1
        kept = {m.label for part in instance.parts for m in part.mistakes}
        if label not in kept or _graded_right(instance, label, tolerance, exact_ints):
            tally.coinciding[label] += 1


def _graded_right(instance: Any, label: str, tolerance: float, exact_ints: bool) -> bool:
    """Whether the card's grading would take the mistake's value as the right answer."""
    from ankismith.render.numeric import graded_part
    from ankismith.solver.values import to_json

    return any(
        grading.value_is_right(to_json(mistake.value), graded_part(part), tolerance, exact_ints)
        for part in instance.parts
        for mistake in part.mistakes
        if mistake.label == label
    )


def _is_zero(value: Any) -> bool:
    entries = list(value.flat) if hasattr(value, "flat") else [value]
    return all(v == 0 for v in entries)


def _verdicts(tally: _Tally, count: int) -> list[str]:
    found = []
    if len(tally.answers) < MIN_DISTINCT:
        found.append(
            f"only {len(tally.answers)} distinct answer(s) in {tally.draws} draws: a student soon knows them by "
            "heart; widen `params:`"
        )
    for reason, times in tally.degenerate.most_common():
        if times > SHARE * tally.draws:
            found.append(f"{times} of {tally.draws} draws are degenerate ({reason}); narrow them out with `where:`")
            break
    for label, times in tally.coinciding.most_common():
        if times > SHARE * max(tally.applied[label], 1):
            found.append(
                f"the mistake {label!r} gives the right answer in {times} of {tally.applied[label]} draws: the card "
                "cannot tell it apart; draw other values"
            )
    return found
