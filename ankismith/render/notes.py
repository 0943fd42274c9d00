"""The render stage: a card, read and solved, becomes Anki notes with HTML fields.

`render_notes` is the one entry point: a basic, cloze or multiple-choice card makes one note; a
numeric card makes its notes through `render.numeric`. How a note type looks (its templates and
stylesheet) is the package stage's business; what goes into each field is decided here.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ankismith.errors import Collector
from ankismith.model.cards import Card, DeckConfig, Kind
from ankismith.model.notes import BuiltNote
from ankismith.render.fields import front, note

if TYPE_CHECKING:
    from ankismith.render.markdown import Renderer

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def render_notes(
    card: Card, config: DeckConfig, media: Mapping[str, str], families: Mapping[str, Any], errors: Collector
) -> list[BuiltNote]:
    """The notes of one card; `media` maps each image `src` as written to its packaged name, and
    `families` are the problem families a numeric card may name.

    Problems (a numeric block the solver refuses, an unknown placeholder) go to `errors`, and the
    card then gives no note.
    """
    from ankismith.render.markdown import default_renderer  # Markdown: only when something is rendered

    renderer = default_renderer()
    heading = renderer.inline(card.heading, media)
    question = renderer.block(card.question, media)
    answer = renderer.block(card.answer, media)
    source = html.escape(f"{card.file.inner} · {card.key}")
    if card.kind is Kind.NUMERIC:
        from ankismith.render.numeric import numeric_notes  # the solver, numpy: only for numeric cards

        return numeric_notes(card, config, front(heading, question), answer, families, errors)
    if card.kind is Kind.BASIC:
        fields = {"Front": front(heading, question), "Back": answer, "Source": source}
    elif card.kind is Kind.CLOZE:
        fields = {"Text": front(heading, question), "Back Extra": answer, "Source": source}
    else:
        fields = {
            "Question": front(heading, question),
            **_choice_fields(card, renderer, media),
            "Explanation": answer,
            "Source": source,
        }
    return [note(card, config, card.key, fields)]


def _choice_fields(card: Card, renderer: Renderer, media: Mapping[str, str]) -> dict[str, str]:
    texts = [renderer.inline(choice.text, media) for choice in card.choices]
    letters = LETTERS[: len(texts)]
    correct = [letter for letter, choice in zip(letters, card.choices, strict=True) if choice.correct]
    hint = '<p class="hint">Select all that apply.</p>\n' if len(correct) > 1 else ""
    plain = "".join(
        f'<li><span class="letter">{letter}.</span> {text}</li>' for letter, text in zip(letters, texts, strict=True)
    )
    mark = ' <span class="mark">✓</span>'
    marked = "".join(
        f'<li class="{"correct" if choice.correct else "wrong"}"><span class="letter">{letter}.</span> {text}'
        f"{mark if choice.correct else ''}</li>"
        for letter, text, choice in zip(letters, texts, card.choices, strict=True)
    )
    return {
        "Choices": f'{hint}<ul class="choices">{plain}</ul>',
        "Marked": f'<ul class="choices">{marked}</ul>',
        "Answer": ", ".join(correct),
    }
