"""Numeric cards: the solver's instances rendered into notes, fresh or fixed.

Fresh (the default): one note under the card's key whose fields show the first instance (the
`given` one) and whose Question field ends with the pool of every instance, rendered, for the card
script to choose from at review time (`builder/assets/card.js`). Fixed: one note per instance
(`key`, `key~1`, ...), each with a pool of one so that typed answers are graded alike.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, replace
from typing import Any

from ankismith import solver
from ankismith.errors import Collector
from ankismith.model.canon import sha256_hex
from ankismith.model.cards import Card, DeckConfig, Review
from ankismith.model.notes import BuiltNote
from ankismith.render.fields import note
from ankismith.render.mathext import math_html
from ankismith.render.placeholders import FORMATS, Value, fill
from ankismith.render.pool import pool_element


@dataclass(frozen=True)
class _Shown:
    """One instance as the card shows it: its HTML per field, and what grading needs."""

    instance: solver.Instance
    question: str
    answer: str
    solution: str
    extra: str

    def pool_entry(self) -> dict[str, Any]:
        """The instance in the card's pool (FORMAT.md: the card script reads it)."""
        answer = self.instance.answer
        return {
            "question": self.question,
            "answer": self.answer,
            "solution": self.solution,
            "extra": self.extra,
            "value": solver.to_json(answer),
            "shown": _shown_text(answer),
            "integer": _is_integral(answer),
            **({"square": True} if _is_square(self.instance) else {}),
        }

    def data(self) -> dict[str, Any]:
        """Problem, params and answer as plain JSON (for `export`)."""
        return {
            "problem": self.instance.problem,
            "params": solver.to_json(self.instance.params),
            "answer": solver.to_json(self.instance.answer),
        }


def numeric_notes(card: Card, config: DeckConfig, question: str, extra: str, errors: Collector) -> list[BuiltNote]:
    """The notes of a numeric card, fresh or fixed as deck.yaml and the block say.

    `question` and `extra` are the card's rendered front and the text below `???`, with their
    `{{placeholders}}` still in them.
    """
    assert card.numeric is not None
    block = card.numeric
    review = replace(config.review, **block.review)
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
    for placeholder in card.placeholders:
        if placeholder.format is not None and placeholder.name in known:
            value = instances[0].params.get(placeholder.name)
            if not isinstance(value, list | tuple):
                errors.error(
                    card.file.shown,
                    placeholder.line,
                    f"{{{{{placeholder.name}|{placeholder.format}}}}}: a format is for list params, and "
                    f"{placeholder.name} is not one; write {{{{{placeholder.name}}}}}",
                )
                bad.append(placeholder)
    if bad or not instances:
        return []
    shown = [_show(instance, question, extra) for instance in instances]
    if review.fresh:
        data = [s.data() for s in shown]
        pool = [{"params": d["params"], "answer": d["answer"]} for d in data]
        return [_note(card, config, card.key, shown, review, {**data[0], "pool": pool})]
    return [_note(card, config, card.key + s.instance.suffix, [s], review, s.data()) for s in shown]


def _show(instance: solver.Instance, question: str, extra: str) -> _Shown:
    answer = _answer_html(instance)
    solution = _solution_html(instance)
    values = {name: _value(v) for name, v in instance.params.items() if v is not None}
    values["answer"] = Value(answer, instance.answer_tex)
    values["solution"] = Value(_solution_html(instance, block=False), "", block=solution)
    return _Shown(instance, fill(question, values), answer, solution, fill(extra, values))


def _note(
    card: Card, config: DeckConfig, key: str, pool: list[_Shown], review: Review, data: dict[str, Any]
) -> BuiltNote:
    """A note showing pool[0] in its fields, with the pool at the end of its Question field."""
    first = pool[0]
    fields = {
        "Question": first.question + pool_script(_salt(config.id, key), pool, review),
        "Answer": first.answer,
        "Solution": first.solution,
        "Extra": first.extra,
        "Source": html.escape(f"{card.file.inner} · {key}"),
    }
    return note(card, config, key, fields, data)


def pool_script(salt: str, pool: list[_Shown], review: Review) -> str:
    """The pool of instances, for the card script to choose from (notes/pool.py)."""
    data = {
        "salt": salt,
        "type": review.type_answer,
        "tolerance": review.tolerance,
        "instances": [shown.pool_entry() for shown in pool],
    }
    return pool_element(data)


def _salt(deck_id: str, key: str) -> str:
    """A note's salt for the choice of its daily instance: stable across builds, different per note."""
    return sha256_hex(f"{deck_id}\x1f{key}")[:8]


def _value(value: Any) -> Value:
    """A param as the card writes it: a matrix as math, a list of numbers as prose (`99, 7 and 2`),
    a list of CNN layers as a chain (`conv 6@5×5 → pool 2×2`); a list's items for the formats."""
    tex = solver.to_tex(value)
    if solver.is_matrix(value):
        return Value(math_html(tex, display=False), tex)
    if isinstance(value, list | tuple) and value:
        items = tuple(_value(item) for item in value)
        layers = all(isinstance(item, dict) for item in value)
        prose = html.escape(solver.to_text(value)) if layers else FORMATS["and"]([i.html for i in items], False)
        return Value(prose, tex, items)
    return Value(html.escape(solver.to_text(value)), tex)


def _answer_html(instance: solver.Instance) -> str:
    approx = "" if instance.exact else "\\approx "
    return math_html(approx + instance.answer_tex, display=solver.is_matrix(instance.answer))


def _solution_html(instance: solver.Instance, block: bool = True) -> str:
    """The worked solution: as blocks (the Solution field), or as inline elements that may stand
    inside a paragraph (a `{{solution}}` amid text; MathJax still shows the formula on its own line)."""
    if not instance.steps:
        return ""
    tex = "\\begin{aligned}\n" + " \\\\\n".join(instance.steps) + "\n\\end{aligned}"
    tag = "p" if block else "span"
    hint = f'\n<{tag} class="hint">{html.escape(instance.convention)}</{tag}>' if instance.convention else ""
    return math_html(tex, display=True, block=block) + hint


def _shown_text(answer: Any) -> Any:
    """The answer as the card writes it, without thousands separators: what 'rounds to the answer as
    shown' compares with (a list of rows of such strings for a matrix)."""
    if solver.is_matrix(answer):
        return [[_shown_text(v) for v in row] for row in answer.tolist()]
    return solver.to_text(answer).replace(",", "")


def _is_integral(answer: Any) -> bool:
    """Whether every entry of the answer is an exact whole number (then only exact answers count)."""
    value = solver.to_json(answer)
    rows = value if isinstance(value, list) else [value]
    return all(isinstance(v, int) for row in rows for v in (row if isinstance(row, list) else [row]))


def _is_square(instance: solver.Instance) -> bool:
    """An answer written `N × N` (a feature map's size): `N` and `N×N` are both right."""
    side = solver.to_tex(instance.answer)
    return not solver.is_matrix(instance.answer) and instance.answer_tex == f"{side} \\times {side}"
