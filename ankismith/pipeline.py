"""The one place that knows every stage: read -> solve -> render -> package.

Each stage takes immutable values and returns new ones; errors of every deck are collected and
raised once (DeckErrors), before anything is written. With a cache folder, a card file whose
bytes, deck settings and images are unchanged is not read again: its notes come from the cache;
Markdown, numpy and genanki are imported only when something needs them.
"""

from __future__ import annotations

import html
import os
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ankismith.buildcache import BuildCache, file_hash, file_key
from ankismith.builder import lock as lockfile
from ankismith.builder.ids import guid_for
from ankismith.builder.models import NOTE_TYPES
from ankismith.cards.media import MediaFile, resolve_media
from ankismith.cards.model import Card, DeckConfig, Kind
from ankismith.cards.placeholders import Value, fill
from ankismith.cards.reader import KeyRef, card_files, check_keys, read_bytes, read_card_file, read_config
from ankismith.cards.reader import shown_path as _shown_path
from ankismith.errors import Collector, DeckErrors, SourceError

if TYPE_CHECKING:
    from ankismith import solver
    from ankismith.builder.package import DeckSpec
    from ankismith.cards.render import Renderer

__all__ = ["BuiltDeck", "BuiltNote", "Compiled", "DeckErrors", "Written", "build", "compile_decks", "problem_families"]

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
    hash: str = ""  # of everything Anki shows or stores of the note (not its source line)

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
    media: tuple[MediaFile, ...]

    def deck_specs(self) -> list[DeckSpec]:
        """The Anki decks: the main one (with its description) and each sub-deck used."""
        from ankismith.builder.package import DeckSpec

        names = sorted({note.deck for note in self.notes} - {self.config.name})
        return [DeckSpec(self.config.name, self.config.description), *(DeckSpec(n) for n in names)]


@dataclass(frozen=True)
class Compiled:
    """Every deck of a run, and the warnings met on the way."""

    decks: tuple[BuiltDeck, ...]
    warnings: tuple[SourceError, ...]


@dataclass(frozen=True)
class Written:
    """One package written (or found up to date), with what changed since the last build."""

    config: DeckConfig
    path: Path
    notes: int
    media: int
    report: lockfile.ChangeReport
    skipped: bool = False


@dataclass(frozen=True)
class _FileResult:
    """What one card file contributes to its deck."""

    keys: tuple[KeyRef, ...]
    notes: tuple[BuiltNote, ...]
    media: tuple[MediaFile, ...]
    warnings: tuple[SourceError, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "keys": [asdict(k) for k in self.keys],
            "notes": [asdict(n) for n in self.notes],
            "media": [asdict(m) for m in self.media],
            "warnings": [asdict(w) for w in self.warnings],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> _FileResult:
        notes = tuple(_note_from_json(n) for n in data["notes"])
        return cls(
            tuple(KeyRef(**k) for k in data["keys"]),
            notes,
            tuple(MediaFile(**m) for m in data["media"]),
            tuple(SourceError(**w) for w in data["warnings"]),
        )


def _note_from_json(data: dict[str, Any]) -> BuiltNote:
    return BuiltNote(**{**data, "tags": tuple(data["tags"]), "fields": tuple(tuple(f) for f in data["fields"])})


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

    With `cache_dir`, compiled card files and cards are kept there and reused (buildcache);
    `on_progress` is called with (bytes of card files done, bytes in all).
    """
    errors = Collector()
    store, problem = _open_cache(cache_dir)
    if problem is not None:
        errors.warnings.append(problem)
    try:
        configs = []
        for path in find_decks(paths):
            config = read_config(path, errors)
            if config is not None:
                configs.append(_override(config, seed, variants))
        sources = [(config, _read_sources(config, errors)) for config in configs]
        progress = _Progress(sum(len(data) for _, files in sources for _, data in files), on_progress)
        built = [_compile_deck(config, files, store, errors, progress) for config, files in sources]
        ids = Counter(deck.config.id for deck in built)
        for deck in built:
            if ids[deck.config.id] > 1:
                errors.error(
                    f"{deck.config.root.as_posix()}/deck.yaml",
                    1,
                    f"deck id {deck.config.id!r} is used by another deck in this run; ids must differ",
                )
        if store is not None and not errors.errors:
            store.save()
    finally:
        if store is not None:
            store.close()
    errors.raise_if_any()
    return Compiled(tuple(built), tuple(errors.warnings))


def _open_cache(cache_dir: Path | None) -> tuple[BuildCache | None, SourceError | None]:
    """The build cache, or None and a warning when it cannot be used: a build never fails for
    want of its cache."""
    if cache_dir is None:
        return None, None
    try:
        return BuildCache(cache_dir), None
    except (OSError, sqlite3.Error) as exc:
        return None, SourceError(cache_dir.as_posix(), 1, f"cache not used ({exc}); building without it")


def _override(config: DeckConfig, seed: int | None, variants: int | None) -> DeckConfig:
    return replace(
        config,
        seed=config.seed if seed is None else seed,
        variants=config.variants if variants is None else variants,
    )


def _read_sources(config: DeckConfig, errors: Collector) -> list[tuple[Path, bytes]]:
    files = []
    for file in card_files(config.root):
        data = read_bytes(file, _shown_path(file, config.root), errors)
        if data is not None:
            files.append((file, data))
    return files


def _settings(config: DeckConfig) -> list[Any]:
    """The deck settings that reach a note (part of every cache key)."""
    return [config.name, config.id, config.tags, config.seed, config.variants, config.root.as_posix()]


class _Progress:
    def __init__(self, total: int, callback: Callable[[int, int], None] | None) -> None:
        self.total, self.done, self.callback = total, 0, callback

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.callback is not None:
            self.callback(self.done, self.total)


PARALLEL_MIN_BYTES = 256 * 1024  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class _FileJob:
    """One card file to compile, in this process or in a worker."""

    config: DeckConfig
    file: Path
    data: bytes
    cache: Path | None  # the build cache's database, read-only here


@dataclass(frozen=True)
class _FileOutcome:
    result: _FileResult
    errors: tuple[SourceError, ...]
    cards: tuple[tuple[str, list[dict[str, Any]]], ...]  # new card entries for the cache


def _compile_deck(
    config: DeckConfig,
    files: list[tuple[Path, bytes]],
    store: BuildCache | None,
    errors: Collector,
    progress: _Progress,
) -> BuiltDeck:
    """Compile a deck's card files: from the cache where unchanged, afresh (across cores) otherwise."""
    results: dict[Path, _FileResult] = {}
    jobs: list[tuple[str | None, _FileJob]] = []
    for file, data in files:
        key = file_key(_settings(config), file.as_posix(), data) if store is not None else None
        entry = store.get("files", key) if store is not None and key is not None else None
        if entry is not None:
            result = _FileResult.from_json(entry)
            if all(m.unchanged() for m in result.media):
                results[file] = result
                progress.advance(len(data))
                continue
        jobs.append((key, _FileJob(config, file, data, store.path if store is not None else None)))
    for (key, job), outcome in zip(jobs, _run(job for _, job in jobs), strict=True):
        results[job.file] = outcome.result
        errors.extend(outcome.errors)
        if store is not None and key is not None:
            for card_key, notes in outcome.cards:
                store.put("cards", card_key, notes)
            if not outcome.errors:
                store.put("files", key, outcome.result.to_json())
        progress.advance(len(job.data))
    ordered = [results[file] for file, _ in files if file in results]
    for result in ordered:
        errors.warnings.extend(result.warnings)
    check_keys(config.root, [k for r in ordered for k in r.keys], errors)
    notes = tuple(n for r in ordered for n in r.notes)
    _check_variant_keys(config, notes, errors)
    media_files = {m.name: m for r in ordered for m in r.media}
    return BuiltDeck(config, notes, tuple(media_files[name] for name in sorted(media_files)))


def _run(jobs: Iterable[_FileJob]) -> Iterator[_FileOutcome]:
    """Compile the jobs in order: in worker processes when there is enough work for two cores."""
    jobs = list(jobs)
    workers = min(os.cpu_count() or 1, len(jobs))
    if workers < 2 or sum(len(job.data) for job in jobs) < PARALLEL_MIN_BYTES:
        yield from map(_compile_file, jobs)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_compile_file, jobs)


def _compile_file(job: _FileJob) -> _FileOutcome:
    """Read one card file and compile its cards; cards unchanged since the last build come from the cache."""
    from ankismith.buildcache import CacheReader

    config, errors = job.config, Collector()
    cards, keys = read_card_file(job.file, config.root, errors, job.data)
    reader = CacheReader(job.cache) if job.cache is not None else None
    notes: list[BuiltNote] = []
    media: list[MediaFile] = []
    entries: list[tuple[str, list[dict[str, Any]]]] = []
    try:
        for card in cards:
            found = resolve_media(card, config.root, errors)
            media.extend(found.files)
            key = None
            if reader is not None:
                # the card's content without line numbers: lines move when lines above change,
                # and reach a note only through `source`, which is set afresh
                key = file_key(_settings(config), "card", _card_content(card), sorted(found.names.items()))
                entry = reader.get("cards", key)
                if entry is not None and all(m.unchanged() for m in found.files):
                    notes.extend(replace(_note_from_json(n), source=card.source) for n in entry)
                    continue
            before = len(errors.errors)
            made = _card_notes(card, config, _renderer(), found.names, errors)
            notes.extend(made)
            if key is not None and len(errors.errors) == before:
                entries.append((key, [asdict(note) for note in made]))
    finally:
        if reader is not None:
            reader.close()
    result = _FileResult(tuple(keys), tuple(notes), tuple(media), tuple(errors.warnings))
    return _FileOutcome(result, tuple(errors.errors), tuple(entries))


def _renderer() -> Renderer:
    from ankismith.cards.render import default_renderer  # Markdown: only when something is rendered

    return default_renderer()


def _card_content(card: Card) -> list[Any]:
    """Everything of a card that reaches its notes, except line numbers."""
    numeric = card.numeric.spec if card.numeric is not None else None
    return [
        card.key,
        card.kind.value,
        card.heading,
        card.question,
        card.answer,
        card.path,
        card.subdeck,
        card.tags,
        [(c.text, c.correct) for c in card.choices],
        numeric,
        [p.name for p in card.placeholders],
        [i.src for i in card.images],
    ]


def _check_variant_keys(config: DeckConfig, notes: Sequence[BuiltNote], errors: Collector) -> None:
    keys = Counter(note.key for note in notes)
    for note in notes:
        if keys[note.key] > 1 and "~" in note.key:
            path, line = note.source.rsplit(":", 1)
            errors.error(
                f"{config.root.as_posix()}/{path}",
                int(line),
                f"variant key {note.key!r} clashes with another card's key; rename one",
            )


def _card_notes(
    card: Card, config: DeckConfig, renderer: Renderer, media: dict[str, str], errors: Collector
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
    field_items = tuple(fields.items())
    digest = lockfile.content_hash(kind, deck, field_items, tags)
    return BuiltNote(key, kind, guid_for(config.id, key), deck, tags, card.source, field_items, numeric, digest)


def _choice_fields(card: Card, renderer: Renderer, media: dict[str, str]) -> dict[str, str]:
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
    from ankismith import solver  # numpy: only when a numeric card is compiled

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
    from ankismith import solver
    from ankismith.cards.mathext import math_html

    tex = solver.to_tex(value)
    if solver.is_matrix(value):
        return Value(math_html(tex, display=False), tex)
    return Value(html.escape(solver.to_text(value)), tex)


def _answer_html(instance: solver.Instance) -> str:
    from ankismith import solver
    from ankismith.cards.mathext import math_html

    approx = "" if instance.exact else "\\approx "
    return math_html(approx + instance.answer_tex, display=solver.is_matrix(instance.answer))


def _solution_html(instance: solver.Instance) -> str:
    from ankismith.cards.mathext import math_html

    if not instance.steps:
        return ""
    tex = "\\begin{aligned}\n" + " \\\\\n".join(instance.steps) + "\n\\end{aligned}"
    note = f'\n<p class="hint">{html.escape(instance.convention)}</p>' if instance.convention else ""
    return math_html(tex, display=True, block=True) + note


# --- writing -------------------------------------------------------------------------------


def model_hashes() -> list[tuple[str, str]]:
    """(kind, hash) of each note type: its name, fields, templates and stylesheet."""
    return [(kind, lockfile.content_hash(*t.content_hash_parts())) for kind, t in sorted(NOTE_TYPES.items())]


def build(
    paths: Sequence[Path],
    out_dir: Path,
    seed: int | None = None,
    variants: int | None = None,
    now: int | None = None,
    cache_dir: Path | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Written], tuple[SourceError, ...]]:
    """Compile every deck, then write each package and its lock; nothing is written on error.

    With `cache_dir`, a package whose content is what was last written to it, and which is
    still on disk unchanged, is not written again; when no input of any deck changed since
    the last build (sources, settings, lock, images, ankismith itself), nothing is compiled.
    """
    store, problem = _open_cache(cache_dir)
    if store is None:
        cache_dir = None  # compile without it too (the warning is given once, below)
    try:
        sources = {path: _deck_sources(path, seed, variants, out_dir) for path in find_decks(paths)} if store else {}
        inputs = {path: _input_digest(path, hashes) for path, hashes in sources.items()}
        if store is not None and (done := _up_to_date(inputs, store)) is not None:
            return done
        compiled = compile_decks(paths, seed, variants, cache_dir, on_progress)
        now = now if now is not None else _now()
        written, warnings = [], [*([problem] if problem else []), *compiled.warnings]
        for deck in compiled.decks:
            item, digest = _package_deck(deck, out_dir, now, store, warnings)
            written.append(item)
            if store is not None:
                # what the next build needs to see that nothing changed (with the lock as now written)
                run = {
                    "target": str(item.path),
                    "digest": digest,
                    "keys": [n.key for n in deck.notes],
                    "media": [asdict(m) for m in deck.media],
                    "warnings": [asdict(w) for w in compiled.warnings if w.path.startswith(_deck_prefix(deck.config))],
                }
                # sources as hashed before compiling: a file edited meanwhile makes the next build compile
                store.put("runs", _input_digest(deck.config.root, sources[deck.config.root]), run)
        if store is not None:
            store.save()
        return written, tuple(warnings)
    finally:
        if store is not None:
            store.close()


def _package_deck(
    deck: BuiltDeck, out_dir: Path, now: int, store: BuildCache | None, warnings: list[SourceError]
) -> tuple[Written, str]:
    """Advance the deck's lock, write its package unless it is already on disk, write the lock."""
    lock_path = deck.config.root / lockfile.LOCK_NAME
    lock, problem = lockfile.read_lock(lock_path)
    if problem:
        warnings.append(SourceError(lock_path.as_posix(), 1, problem))
    entries = ((n.key, n.guid, n.hash) for n in deck.notes)
    new_lock, report = lockfile.advance(lock, entries, model_hashes(), now)
    target = out_dir / f"{deck.config.id}.apkg"
    digest = lockfile.content_hash(
        lockfile.lock_digest(new_lock),
        [n.key for n in deck.notes],
        [asdict(spec) for spec in deck.deck_specs()],
        [(m.name, m.size, m.mtime_ns) for m in deck.media],
    )
    skipped = store is not None and store.output_is(target, digest)
    if not skipped:
        _write_package(target, deck, new_lock)
        if store is not None:
            store.record_output(target, digest)
    if new_lock != lock or problem or not lock_path.exists():
        lockfile.write_lock(lock_path, new_lock)
    return Written(deck.config, target, len(deck.notes), len(deck.media), report, skipped), digest


def _deck_prefix(config: DeckConfig) -> str:
    return f"{config.root.as_posix().rstrip('/')}/"


def _deck_sources(root: Path, seed: int | None, variants: int | None, out_dir: Path) -> list[Any]:
    """Hashes of what a deck's package is made from but the lock (and images: checked apart)."""
    parts: list[Any] = [root.as_posix(), seed, variants, out_dir.resolve().as_posix()]
    for path in (root / "deck.yaml", *card_files(root)):
        parts.append([path.relative_to(root).as_posix(), file_hash(path)])
    return parts


def _input_digest(root: Path, sources: list[Any]) -> str:
    """The deck's inputs: its sources' hashes and its lock as it is on disk now."""
    return file_key(*sources, file_hash(root / lockfile.LOCK_NAME))


def _up_to_date(inputs: dict[Path, str], store: BuildCache) -> tuple[list[Written], tuple[SourceError, ...]] | None:
    """The result of the last build when no deck's inputs changed and its package is intact."""
    if not inputs:
        return None
    written, warnings = [], []
    for root, digest in inputs.items():
        run = store.get("runs", digest)
        if run is None or not all(MediaFile(**m).unchanged() for m in run["media"]):
            return None
        target = Path(run["target"])
        if not store.output_is(target, run["digest"]):
            return None
        config = read_config(root, Collector())
        if config is None:
            return None
        report = lockfile.ChangeReport(unchanged=tuple(run["keys"]))
        written.append(Written(config, target, len(run["keys"]), len(run["media"]), report, skipped=True))
        warnings.extend(SourceError(**w) for w in run["warnings"])
    return written, tuple(warnings)


def _write_package(target: Path, deck: BuiltDeck, lock: lockfile.Lock) -> None:
    from ankismith.builder.package import NoteSpec, write_apkg

    notes = [
        NoteSpec(n.guid, n.kind, n.deck, tuple(v for _, v in n.fields), n.tags, lock.notes[n.key].mod)
        for n in deck.notes
    ]
    media = {m.name: Path(m.path).read_bytes() for m in deck.media}
    models = {kind: entry.mod for kind, entry in lock.models.items()}
    write_apkg(target, deck.config.id, deck.deck_specs(), notes, media, models)


def problem_families() -> dict[str, Any]:
    """The solver's problem families, by name (for `ankismith problems`)."""
    from ankismith.solver import FAMILIES

    return FAMILIES


def _now() -> int:
    """Build time, or SOURCE_DATE_EPOCH when set (reproducible-builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(epoch) if epoch.isdigit() else int(time.time())
