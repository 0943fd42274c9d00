"""The one place that knows every stage: read -> solve -> render -> package.

Each stage takes immutable values and returns new ones; errors of every deck are collected and
raised once (DeckErrors), before anything is written.
"""

from __future__ import annotations

import html
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ankismith import solver
from ankismith.builder import lock as lockfile
from ankismith.builder.models import NOTE_TYPES
from ankismith.builder.package import DeckSpec, NoteSpec, guid_for, write_apkg
from ankismith.cards.cache import CachedRenderer
from ankismith.cards.mathext import math_html
from ankismith.cards.media import CardMedia, resolve_media
from ankismith.cards.model import Card, Deck, DeckConfig, Kind
from ankismith.cards.placeholders import Value, fill
from ankismith.cards.reader import read_deck
from ankismith.cards.render import Renderer, default_renderer
from ankismith.errors import Collector, SourceError

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class BuiltNote:
    """One note as it will be in Anki: identity, where it came from, HTML fields."""

    key: str
    kind: str
    guid: str
    deck: str
    tags: tuple[str, ...]
    source: str  # path:line inside the deck folder
    fields: tuple[tuple[str, str], ...]
    numeric: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """The note as `export --format json` prints it (FORMAT.md)."""
        data: dict[str, Any] = {
            "guid": self.guid,
            "key": self.key,
            "kind": self.kind,
            "deck": self.deck,
            "tags": list(self.tags),
            "source": self.source,
            "fields": dict(self.fields),
        }
        if self.numeric is not None:
            data["numeric"] = self.numeric
        return data


@dataclass(frozen=True)
class BuiltDeck:
    """A deck compiled to notes and media, ready to package."""

    config: DeckConfig
    notes: tuple[BuiltNote, ...]
    media: dict[str, bytes]

    def deck_specs(self) -> list[DeckSpec]:
        """The Anki decks: the main one (with its description) and each sub-deck used."""
        names = sorted({note.deck for note in self.notes} - {self.config.name})
        return [DeckSpec(self.config.name, self.config.description), *(DeckSpec(n) for n in names)]


@dataclass(frozen=True)
class Compiled:
    """Every deck of a run, and the warnings met on the way."""

    decks: tuple[BuiltDeck, ...]
    warnings: tuple[SourceError, ...]


@dataclass(frozen=True)
class Written:
    """One package written, with what changed since the last build."""

    deck: BuiltDeck
    path: Path
    report: lockfile.ChangeReport


def find_decks(paths: Sequence[Path]) -> list[Path]:
    """The deck folders to work on: those given, or every folder under ./decks with a deck.yaml."""
    if paths:
        return list(paths)
    root = Path("decks")
    return sorted(p for p in root.iterdir() if (p / "deck.yaml").is_file()) if root.is_dir() else []


def compile_decks(
    paths: Sequence[Path],
    seed: int | None = None,
    variants: int | None = None,
    cache_dir: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> Compiled:
    """Read, solve and render every deck; raises DeckErrors with all problems of all decks.

    With `cache_dir`, rendered HTML is kept there and reused (see cards.cache); `on_progress`
    is called with (cards done, cards in all decks) while rendering.
    """
    errors = Collector()
    renderer: Renderer | CachedRenderer = default_renderer()
    if cache_dir is not None:
        renderer = CachedRenderer(cache_dir / "render.sqlite")
    decks = []
    for path in find_decks(paths):
        deck = read_deck(path, errors)
        if deck is not None:
            decks.append(deck)
    total = sum(len(deck.cards) for deck in decks)
    progress = _Progress(total, on_progress)
    built = []
    for deck in decks:
        config = deck.config
        if seed is not None or variants is not None:
            config = replace(
                config,
                seed=config.seed if seed is None else seed,
                variants=config.variants if variants is None else variants,
            )
        built.append(_compile_deck(Deck(config, deck.cards), renderer, errors, progress))
    ids = Counter(deck.config.id for deck in built)
    for deck in built:
        if ids[deck.config.id] > 1:
            errors.error(
                f"{deck.config.root.as_posix()}/deck.yaml",
                1,
                f"deck id {deck.config.id!r} is used by another deck in this run; ids must differ",
            )
    if isinstance(renderer, CachedRenderer):
        if not errors.errors:
            renderer.save()
        renderer.close()
    errors.raise_if_any()
    return Compiled(tuple(built), tuple(errors.warnings))


class _Progress:
    def __init__(self, total: int, callback: Callable[[int, int], None] | None) -> None:
        self.total, self.done, self.callback = total, 0, callback

    def step(self) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(self.done, self.total)


def _compile_deck(deck: Deck, renderer: Renderer | CachedRenderer, errors: Collector, progress: _Progress) -> BuiltDeck:
    notes: list[BuiltNote] = []
    media: dict[str, bytes] = {}
    card_media = [resolve_media(card, deck.config.root, errors) for card in deck.cards]
    if isinstance(renderer, CachedRenderer):
        renderer.warm(_fragments(deck.cards, card_media))
    for card, found in zip(deck.cards, card_media, strict=True):
        media.update(found.files)
        notes.extend(_card_notes(card, deck.config, renderer, found.names, errors))
        progress.step()
    keys = Counter(note.key for note in notes)
    for note in notes:
        if keys[note.key] > 1 and "~" in note.key:
            path, line = note.source.rsplit(":", 1)
            errors.error(
                f"{deck.config.root.as_posix()}/{path}",
                int(line),
                f"variant key {note.key!r} clashes with another card's key; rename one",
            )
    return BuiltDeck(deck.config, tuple(notes), media)


def _fragments(cards: Sequence[Card], media: Sequence[CardMedia]) -> Iterator[tuple[str, str, dict[str, str]]]:
    """Every Markdown fragment `_card_notes` renders, as (mode, text, media map)."""
    for card, found in zip(cards, media, strict=True):
        yield "inline", card.heading, found.names
        yield "block", card.question, found.names
        yield "block", card.answer, found.names
        for choice in card.choices:
            yield "inline", choice.text, found.names


def _card_notes(
    card: Card, config: DeckConfig, renderer: Renderer | CachedRenderer, media: dict[str, str], errors: Collector
) -> list[BuiltNote]:
    heading = renderer.inline(card.heading, media)
    question = renderer.block(card.question, media)
    answer = renderer.block(card.answer, media)
    source = html.escape(f"{card.path} · {card.key}")
    if card.kind is Kind.BASIC:
        fields = {"Front": _front(heading, question), "Back": answer, "Source": source}
    elif card.kind is Kind.CLOZE:
        fields = {"Text": _front(heading, question), "Back Extra": answer, "Source": source}
    elif card.kind is Kind.CHOICE:
        fields = {
            "Question": _front(heading, question),
            **_choice_fields(card, renderer, media),
            "Explanation": answer,
            "Source": source,
        }
    else:
        return _numeric_notes(card, config, heading, question, answer, errors)
    return [_note(card, config, card.key, card.kind.value, fields)]


def _front(heading: str, question: str) -> str:
    return f'{heading}\n<div class="prompt">{question}</div>' if question else heading


def _note(
    card: Card, config: DeckConfig, key: str, kind: str, fields: dict[str, str], numeric: dict[str, Any] | None = None
) -> BuiltNote:
    assert tuple(fields) == NOTE_TYPES[kind].fields, "fields must follow the note type's order"
    deck = f"{config.name}::{card.subdeck}" if card.subdeck else config.name
    tags = tuple(dict.fromkeys((*config.tags, *card.tags)))
    return BuiltNote(key, kind, guid_for(config.id, key), deck, tags, card.source, tuple(fields.items()), numeric)


def _choice_fields(card: Card, renderer: Renderer | CachedRenderer, media: dict[str, str]) -> dict[str, str]:
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


def _numeric_notes(
    card: Card, config: DeckConfig, heading: str, question: str, extra: str, errors: Collector
) -> list[BuiltNote]:
    assert card.numeric is not None
    block = card.numeric
    try:
        instances = solver.instantiate(block.spec, config.seed, card.key, config.variants)
    except solver.SpecErrors as exc:
        for issue in exc.issues:
            errors.error(card.shown_path, block.line_of(issue.key), f"numeric block: {issue.message}")
        return []
    known = set(instances[0].params) | {"answer", "solution"} if instances else set()
    bad = [p for p in card.placeholders if p.name not in known]
    for placeholder in bad:
        errors.error(
            card.shown_path,
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
            "Question": fill(_front(heading, question), values),
            "Answer": answer_html,
            "Solution": solution_html,
            "Extra": fill(extra, values),
            "Source": html.escape(f"{card.path} · {key}"),
        }
        numeric = {
            "problem": instance.problem,
            "params": solver.to_json(instance.params),
            "answer": solver.to_json(instance.answer),
        }
        notes.append(_note(card, config, key, "numeric", fields, numeric))
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
    note = f'\n<p class="hint">{html.escape(instance.convention)}</p>' if instance.convention else ""
    return math_html(tex, display=True, block=True) + note


# --- writing -------------------------------------------------------------------------------


def model_hashes() -> list[tuple[str, str]]:
    """(kind, hash) of each note type: its name, fields, templates and stylesheet."""
    hashes = []
    for kind, note_type in sorted(NOTE_TYPES.items()):
        model = note_type.model()
        hashes.append((kind, lockfile.content_hash(model.name, model.fields, model.templates, model.css)))
    return hashes


def note_hash(note: BuiltNote) -> str:
    """Hash of everything Anki shows or stores of a note (not its source line)."""
    return lockfile.content_hash(note.kind, note.deck, note.fields, note.tags)


def build(
    paths: Sequence[Path],
    out_dir: Path,
    seed: int | None = None,
    variants: int | None = None,
    now: int | None = None,
    cache_dir: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Written], tuple[SourceError, ...]]:
    """Compile every deck, then write each package and its lock; nothing is written on error."""
    compiled = compile_decks(paths, seed, variants, cache_dir, on_progress)
    now = now if now is not None else _now()
    written = []
    warnings = list(compiled.warnings)
    for deck in compiled.decks:
        lock_path = deck.config.root / lockfile.LOCK_NAME
        lock, problem = lockfile.read_lock(lock_path)
        if problem:
            warnings.append(SourceError(lock_path.as_posix(), 1, problem))
        new_lock, report = lockfile.advance(
            lock, ((n.key, n.guid, note_hash(n)) for n in deck.notes), model_hashes(), now
        )
        target = out_dir / f"{deck.config.id}.apkg"
        write_apkg(
            target,
            deck.config.id,
            deck.deck_specs(),
            _note_specs(deck.notes, new_lock),
            deck.media,
            {kind: entry.mod for kind, entry in new_lock.models.items()},
        )
        lockfile.write_lock(lock_path, new_lock)
        written.append(Written(deck, target, report))
    return written, tuple(warnings)


def _note_specs(notes: Iterable[BuiltNote], lock: lockfile.Lock) -> list[NoteSpec]:
    return [
        NoteSpec(n.guid, n.kind, n.deck, tuple(v for _, v in n.fields), n.tags, lock.notes[n.key].mod) for n in notes
    ]


def _now() -> int:
    """Build time, or SOURCE_DATE_EPOCH when set (reproducible-builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(epoch) if epoch.isdigit() else int(time.time())
