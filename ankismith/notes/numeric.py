"""Numeric cards: the solver's instances rendered into notes (question, answer, worked solution)."""

from __future__ import annotations

import html
from typing import Any

from ankismith import solver
from ankismith.cards.mathext import math_html
from ankismith.cards.model import Card, DeckConfig
from ankismith.cards.placeholders import Value, fill
from ankismith.errors import Collector
from ankismith.notes import BuiltNote, note


def numeric_notes(card: Card, config: DeckConfig, question: str, extra: str, errors: Collector) -> list[BuiltNote]:
    """One note per instance: the `given` one under the card's key, drawn ones under `key~N`.

    `question` and `extra` are the card's rendered front and the text below `???`, with their
    `{{placeholders}}` still in them.
    """
    assert card.numeric is not None
    block = card.numeric
    try:
        instances = solver.instantiate(block.spec, config.seed, card.key, config.variants)
    except solver.SpecErrors as exc:
        for issue in exc.issues:
            errors.error(card.file.shown, block.line_of(issue.key), f"numeric block: {issue.message}")
        return []
    known = set(instances[0].params) | {"answer", "solution"} if instances else set()
    bad = [p for p in card.placeholders if p.name not in known]
    for placeholder in bad:
        errors.error(
            card.file.shown,
            placeholder.line,
            f"unknown placeholder {{{{{placeholder.name}}}}}; expected one of: {', '.join(sorted(known))}",
        )
    if bad:
        return []
    notes = []
    for instance in instances:
        answer_html = _answer_html(instance)
        solution_html = _solution_html(instance)
        values = {name: _value(v) for name, v in instance.params.items() if v is not None}
        values["answer"] = Value(answer_html, instance.answer_tex)
        values["solution"] = Value(solution_html, "")
        key = card.key + instance.suffix
        fields = {
            "Question": fill(question, values),
            "Answer": answer_html,
            "Solution": solution_html,
            "Extra": fill(extra, values),
            "Source": html.escape(f"{card.file.inner} · {key}"),
        }
        numeric = {
            "problem": instance.problem,
            "params": solver.to_json(instance.params),
            "answer": solver.to_json(instance.answer),
        }
        notes.append(note(card, config, key, fields, numeric))
    return notes


def _value(value: Any) -> Value:
    tex = solver.to_tex(value)
    if solver.is_matrix(value):
        return Value(math_html(tex, display=False), tex)
    return Value(html.escape(solver.to_text(value)), tex)


def _answer_html(instance: solver.Instance) -> str:
    approx = "" if instance.exact else "\\approx "
    return math_html(approx + instance.answer_tex, display=solver.is_matrix(instance.answer))


def _solution_html(instance: solver.Instance) -> str:
    if not instance.steps:
        return ""
    tex = "\\begin{aligned}\n" + " \\\\\n".join(instance.steps) + "\n\\end{aligned}"
    hint = f'\n<p class="hint">{html.escape(instance.convention)}</p>' if instance.convention else ""
    return math_html(tex, display=True, block=True) + hint
