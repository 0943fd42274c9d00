"""Numeric cards: the solver's instances rendered into notes, fresh or fixed.

Fresh (the default): one note under the card's key whose fields show the first instance (the
`given` one) and whose Question field ends with the pool of every instance, rendered, for the card
script to choose from at review time (`package/assets/card.js`). Fixed: one note per instance
(`key`, `key~1`, ...), each with a pool of one so that typed answers are graded alike.

An instance has one answer, or several parts (`ask:`), each with the values of the classic mistakes
for it; a mistake that the card's grading would take as right is left out of that instance.
"""

from __future__ import annotations

import html
import string
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from ankismith import solver
from ankismith.errors import Collector
from ankismith.model.canon import sha256_hex
from ankismith.model.cards import Card, DeckConfig, Review
from ankismith.model.notes import BuiltNote
from ankismith.render import grading
from ankismith.render.fields import note
from ankismith.render.mathext import math_html
from ankismith.render.placeholders import FORMATS, Value, fill
from ankismith.render.pool import pool_element
from ankismith.solver.values import grading_text

DEFAULT_TOLERANCE = 0.001  # relative; whole-number answers are exact unless a card gives its own


@dataclass(frozen=True)
class _Shown:
    """One instance as the card shows it: its HTML per field, and what grading needs of each part."""

    instance: solver.Instance
    question: str
    answer: str
    solution: str
    extra: str
    parts: tuple[dict[str, Any], ...]

    def pool_entry(self) -> dict[str, Any]:
        """The instance in the card's pool (docs/card-script.md: the card script reads it)."""
        return {
            "question": self.question,
            "answer": self.answer,
            "solution": self.solution,
            "extra": self.extra,
            "parts": list(self.parts),
        }

    def data(self) -> dict[str, Any]:
        """Problem, params, answer and mistakes as plain JSON (for `export`)."""
        return {
            "problem": self.instance.problem,
            "params": solver.to_json(self.instance.params),
            "answer": solver.to_json(self.instance.answer),
            "mistakes": _export_mistakes(self.instance),
        }


def numeric_notes(
    card: Card,
    config: DeckConfig,
    question: str,
    extra: str,
    families: Mapping[str, solver.Family],
    errors: Collector,
) -> list[BuiltNote]:
    """The notes of a numeric card, fresh or fixed as deck.yaml and the block say.

    `question` and `extra` are the card's rendered front and the text below `???`, with their
    `{{placeholders}}` still in them; `families` are those the deck may name.
    """
    assert card.numeric is not None
    block = card.numeric
    review = replace(config.review, **block.review)
    try:
        instances = solver.instantiate(block.spec, config.seed, card.key, config.variants, families)
    except solver.SpecErrors as exc:
        for fault in exc.faults:
            errors.error(fault.path, fault.line, fault.message)
        for issue in exc.issues:
            errors.error(card.file.shown, block.line_of(issue.key), f"numeric block: {issue.message}")
        return []
    if not _placeholders_fit(card, instances, errors):
        return []
    shown = [_show(instance, question, extra, review, block.unit) for instance in instances]
    if review.fresh:
        data = [s.data() for s in shown]
        pool = [{"params": d["params"], "answer": d["answer"], "mistakes": d["mistakes"]} for d in data]
        first = {key: value for key, value in data[0].items() if key != "mistakes"}
        return [_note(card, config, card.key, shown, review, {**first, "pool": pool})]
    return [_note(card, config, card.key + s.instance.suffix, [s], review, s.data()) for s in shown]


def _placeholders_fit(card: Card, instances: list[solver.Instance], errors: Collector) -> bool:
    """Every `{{name}}` names a param (or answer, solution), and a format is used only on a list."""
    known = set(instances[0].params) | {"answer", "solution"} if instances else set()
    fits = bool(instances)
    for placeholder in card.placeholders:
        if placeholder.name not in known:
            errors.error(
                card.file.shown,
                placeholder.line,
                f"unknown placeholder {{{{{placeholder.name}}}}}; expected one of: {', '.join(sorted(known))}",
            )
            fits = False
        elif placeholder.format is not None and not isinstance(instances[0].params.get(placeholder.name), list | tuple):
            errors.error(
                card.file.shown,
                placeholder.line,
                f"{{{{{placeholder.name}|{placeholder.format}}}}}: a format is for list params, and "
                f"{placeholder.name} is not one; write {{{{{placeholder.name}}}}}",
            )
            fits = False
    return fits


def _show(instance: solver.Instance, question: str, extra: str, review: Review, unit: str) -> _Shown:
    tolerance, exact_ints = _grading(review)
    parts = tuple(
        _part(part, index, len(instance.parts), unit, tolerance, exact_ints)
        for index, part in enumerate(instance.parts)
    )
    answer = _answer_html(instance, parts, unit)
    solution = _solution_html(instance)
    values = {name: _value(v) for name, v in instance.params.items() if v is not None}
    single = len(instance.parts) == 1
    values["answer"] = Value(answer, _answer_tex(instance.parts[0], unit) if single else "")
    values["solution"] = Value(_solution_html(instance, block=False), "", block=solution)
    return _Shown(instance, fill(question, values), answer, solution, fill(extra, values), parts)


def _grading(review: Review) -> tuple[float, bool]:
    """The card's relative tolerance, and whether whole-number answers must be exact (only under the
    default tolerance: a card's own tolerance applies to every answer, so it grades alike every day)."""
    return (DEFAULT_TOLERANCE, True) if review.tolerance is None else (review.tolerance, False)


def _part(part: solver.Part, index: int, count: int, unit: str, tolerance: float, exact_ints: bool) -> dict[str, Any]:
    """A part as the card script grades it: value, as shown, whole or not, its named mistakes."""
    entry: dict[str, Any] = {"name": part.name, "label": f"({string.ascii_lowercase[index]})" if count > 1 else ""}
    entry |= graded_part(part)
    if unit:
        entry["unit"] = unit
    mistakes = []
    for mistake in part.mistakes:
        if grading.value_is_right(solver.to_json(mistake.value), entry, tolerance, exact_ints):
            continue  # the grading would take what a student who makes this mistake types as right
        value, shown = solver.to_json(mistake.value), _shown_text(mistake.value)
        mistakes.append({"label": mistake.label, "html": _label_html(mistake.label), "value": value, "shown": shown})
    entry["mistakes"] = mistakes
    return entry


def graded_part(part: solver.Part) -> dict[str, Any]:
    """What the grader reads of a part: its value, as the card shows it, whole or not, square or not."""
    entry = {
        "value": solver.to_json(part.answer),
        "shown": _shown_text(part.answer),
        "integer": _is_integral(part.answer),
    }
    return entry | ({"square": True} if _is_square(part) else {})


@lru_cache(maxsize=4096)
def _label_html(label: str) -> str:
    """A mistake's label (Markdown, math in `$..$`) as inline HTML (the same labels come back on every
    instance of every card of a family: rendered once)."""
    from ankismith.render.markdown import default_renderer

    return default_renderer().inline(label)


def _export_mistakes(instance: solver.Instance) -> list[dict[str, Any]]:
    """Each instance's mistakes for `export`: label and value (by part for a card of several parts)."""
    single = len(instance.parts) == 1 and not instance.parts[0].name
    found: dict[str, dict[str, Any]] = {}
    for part in instance.parts:
        for mistake in part.mistakes:
            found.setdefault(mistake.label, {})[part.name] = solver.to_json(mistake.value)
    return [{"label": label, "value": values[""] if single else values} for label, values in found.items()]


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
    """The pool of instances, for the card script to choose from (render/pool.py)."""
    tolerance, exact_ints = _grading(review)
    data = {
        "salt": salt,
        "type": review.type_answer,
        "tolerance": tolerance,
        "exact_ints": exact_ints,
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


def _answer_tex(part: solver.Part, unit: str) -> str:
    return part.answer_tex + (f"\\ \\text{{{_tex_text(unit)}}}" if unit else "")


def _tex_text(text: str) -> str:
    return "".join(f"\\{c}" if c in "#$%&_{}" else c for c in text)


def _answer_html(instance: solver.Instance, parts: tuple[dict[str, Any], ...], unit: str) -> str:
    rows = []
    for part, entry in zip(instance.parts, parts, strict=True):
        approx = "" if part.exact else "\\approx "
        tex = _answer_tex(part, unit)
        if not part.name:
            return math_html(approx + tex, display=solver.is_matrix(part.answer))
        label = f'<span class="am-part-label">{html.escape(entry["label"])} {html.escape(part.name)}</span>'
        relation = "\\approx" if approx else "="
        rows.append(f'<div class="am-part">{label} {math_html(f"{relation} {tex}", display=False)}</div>')
    return '<div class="am-parts">' + "".join(rows) + "</div>"


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
    shown' compares with (a list of rows of such strings for a matrix, a list for a vector)."""
    if hasattr(answer, "tolist"):
        return [_shown_text(v) for v in answer.tolist()]
    if isinstance(answer, list):
        return [_shown_text(v) for v in answer]
    return grading_text(answer)


def _is_integral(answer: Any) -> bool:
    """Whether every entry of the answer is an exact whole number (then only exact answers count)."""
    value = solver.to_json(answer)
    rows = value if isinstance(value, list) else [value]
    return all(isinstance(v, int) for row in rows for v in (row if isinstance(row, list) else [row]))


def _is_square(part: solver.Part) -> bool:
    """An answer written `N × N` (a feature map's size): `N` and `N×N` are both right."""
    side = solver.to_tex(part.answer)
    return not hasattr(part.answer, "shape") and part.answer_tex == f"{side} \\times {side}"
