"""The one place that knows every stage: read -> solve -> render -> package.

Each stage takes immutable values and returns new ones; errors of every deck are collected and
raised once (DeckErrors), before anything is written. With a build cache, a card file whose
bytes, deck settings and images are unchanged is not read again: its notes come from the cache;
Markdown, numpy and genanki are imported only when something needs them.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ankismith import buildcache
from ankismith.builder import lock as lockfile
from ankismith.builder.models import model_hashes
from ankismith.cards.media import MediaFile, resolve_media
from ankismith.cards.model import DeckConfig, SourceFile
from ankismith.cards.reader import check_keys, read_cards, read_config, read_deck, shown_path
from ankismith.errors import Collector, DeckErrors, InternalError, SourceError
from ankismith.notes import BuiltNote, render_notes

if TYPE_CHECKING:
    from ankismith.buildcache import BuildCache
    from ankismith.builder.package import DeckSpec

__all__ = [
    "BuiltDeck",
    "BuiltNote",
    "Compiled",
    "DeckErrors",
    "InternalError",
    "Written",
    "build",
    "check_decks",
    "compile_decks",
    "preview",
    "problem_families",
]

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class BuiltDeck:
    """A deck compiled to notes and media, ready to package."""

    config: DeckConfig
    notes: tuple[BuiltNote, ...]
    media: tuple[MediaFile, ...]
    overrides: tuple[str, ...] = ()  # deck.yaml settings --seed/--variants changed, as "--seed 9 (deck.yaml: 1)"

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
    note_count: int
    media_count: int
    report: lockfile.ChangeReport
    skipped: bool = False
    overrides: tuple[str, ...] = ()  # as in BuiltDeck: what this one-off build changed from deck.yaml


def find_decks(paths: Sequence[Path]) -> list[Path]:
    """The deck folders to work on: those given, or every folder under ./decks with a deck.yaml."""
    if paths:
        return list(paths)
    root = Path("decks")
    return sorted(p for p in root.iterdir() if (p / "deck.yaml").is_file()) if root.is_dir() else []


# --- read, solve, render -------------------------------------------------------------------


def compile_decks(
    paths: Sequence[Path],
    seed: int | None = None,
    variants: int | None = None,
    cache_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> Compiled:
    """Read, solve and render every deck; raises DeckErrors with all problems of all decks.

    With `cache_dir`, compiled card files and cards are kept there and reused (buildcache);
    `on_progress` is called with (bytes of card files done, bytes in all).
    """
    errors = Collector()
    store = buildcache.open_cache(cache_dir, errors)
    try:
        return _compile(paths, seed, variants, store, errors, on_progress)
    finally:
        if store is not None:
            store.close()


def _compile(
    paths: Sequence[Path],
    seed: int | None,
    variants: int | None,
    store: BuildCache | None,
    errors: Collector,
    on_progress: ProgressCallback | None,
    stop: bool = True,
) -> Compiled:
    """Compile the decks; with `stop`, raise DeckErrors when there are errors, else leave them in `errors`."""
    decks = []
    for path in find_decks(paths):
        with _blame(path.as_posix(), 0, "deck"):
            if (deck := read_deck(path, errors)) is not None:
                decks.append(deck)
    progress = _Progress(sum(len(data) for deck in decks for _, data in deck.files), on_progress)
    built = []
    for deck in decks:
        config = _override(deck.config, seed, variants)
        with _blame(deck.config.root.as_posix(), 0, "deck"):
            compiled = _compile_deck(config, deck.files, store, errors, progress)
        built.append(replace(compiled, overrides=_overrides(deck.config, seed, variants)))
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
    if stop:
        errors.raise_if_any()
    return Compiled(tuple(built), tuple(errors.warnings))


def _override(config: DeckConfig, seed: int | None, variants: int | None) -> DeckConfig:
    return replace(
        config,
        seed=config.seed if seed is None else seed,
        variants=config.variants if variants is None else variants,
    )


def _overrides(config: DeckConfig, seed: int | None, variants: int | None) -> tuple[str, ...]:
    """The settings of deck.yaml that the command line changes, said as a person would."""
    found = []
    if seed is not None and seed != config.seed:
        found.append(f"--seed {seed} (deck.yaml: {config.seed})")
    if variants is not None and variants != config.variants:
        found.append(f"--variants {variants} (deck.yaml: {config.variants})")
    return tuple(found)


class _Progress:
    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total, self.done, self.callback = total, 0, callback

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.callback is not None:
            self.callback(self.done, self.total)


PARALLEL_MIN_BYTES = 256 * 1024  # below this, starting worker processes costs more than it saves


@dataclass(frozen=True)
class _FileTask:
    """A card file to compile, in this process or in a worker: what the worker needs to know."""

    config: DeckConfig
    file: SourceFile
    data: bytes
    cache: Path | None  # the build cache's database, read-only in the worker


@dataclass(frozen=True)
class _FileDone:
    """A task's result: the file's notes, its errors, and new `cards` entries for the cache."""

    notes: buildcache.FileNotes
    errors: tuple[SourceError, ...]
    new_cards: tuple[tuple[str, list[dict[str, Any]]], ...]


def _compile_deck(
    config: DeckConfig,
    files: Iterable[tuple[SourceFile, bytes]],
    store: BuildCache | None,
    errors: Collector,
    progress: _Progress,
) -> BuiltDeck:
    """Compile a deck's card files: from the cache where unchanged, afresh (across cores) otherwise."""
    files = list(files)
    results: dict[Path, buildcache.FileNotes] = {}
    tasks: list[tuple[str | None, _FileTask]] = []
    settings = buildcache.deck_settings(config)
    for file, data in files:
        key = buildcache.cache_key(settings, file.path.as_posix(), data) if store is not None else None
        cached = store.get_file(key) if store is not None and key is not None else None
        if cached is not None and all(m.unchanged() for m in cached.media):
            results[file.path] = cached
            progress.advance(len(data))
            continue
        tasks.append((key, _FileTask(config, file, data, store.path if store is not None else None)))
    for (key, task), done in zip(tasks, _run(task for _, task in tasks), strict=True):
        results[task.file.path] = done.notes
        errors.extend(done.errors)
        if store is not None and key is not None:
            for card_key, notes in done.new_cards:
                store.put("cards", card_key, notes)
            if not done.errors:
                store.put_file(key, done.notes)
        progress.advance(len(task.data))
    ordered = [results[file.path] for file, _ in files if file.path in results]
    for result in ordered:
        errors.warnings.extend(result.warnings)
    check_keys(config.root, [k for r in ordered for k in r.keys], errors)
    notes = tuple(n for r in ordered for n in r.notes)
    _check_variant_keys(config, notes, errors)
    media_files = {m.name: m for r in ordered for m in r.media}
    return BuiltDeck(config, notes, tuple(media_files[name] for name in sorted(media_files)))


def _run(tasks: Iterable[_FileTask]) -> Iterator[_FileDone]:
    """Compile the tasks in order: in worker processes when there is enough work for two cores."""
    tasks = list(tasks)
    workers = min(os.cpu_count() or 1, len(tasks))
    if workers < 2 or sum(len(task.data) for task in tasks) < PARALLEL_MIN_BYTES:
        yield from map(_compile_file, tasks)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_compile_file, tasks)


def _compile_file(task: _FileTask) -> _FileDone:
    """Read one card file and render its cards; cards unchanged since the last build come from the cache."""
    config, errors = task.config, Collector()
    with _blame(task.file.shown, 0, "file"):
        cards, keys = read_cards(task.file, task.data, errors)
    reader = buildcache.CacheReader(task.cache) if task.cache is not None else None
    settings = buildcache.deck_settings(config)
    notes: list[BuiltNote] = []
    media: list[MediaFile] = []
    new_cards: list[tuple[str, list[dict[str, Any]]]] = []
    try:
        for card in cards:
            with _blame(card.file.shown, card.line, "card"):
                found = resolve_media(card, config.root, errors)
                media.extend(found.files)
                key = None
                if reader is not None:
                    content = buildcache.card_content(card)
                    key = buildcache.cache_key(settings, "card", content, sorted(found.names.items()))
                    entry = reader.get("cards", key)
                    if entry is not None and all(m.unchanged() for m in found.files):
                        notes.extend(replace(BuiltNote.from_json(n), source=card.source) for n in entry)
                        continue
                before = len(errors.errors)
                made = render_notes(card, config, found.names, errors)
                notes.extend(made)
                if key is not None and len(errors.errors) == before:
                    new_cards.append((key, [note.to_json() for note in made]))
    finally:
        if reader is not None:
            reader.close()
    result = buildcache.FileNotes(tuple(keys), tuple(notes), tuple(media), tuple(errors.warnings))
    return _FileDone(result, tuple(errors.errors), tuple(new_cards))


@contextmanager
def _blame(path: str, line: int, subject: str) -> Iterator[None]:
    """Turn an unexpected exception (a bug) into an InternalError naming the input it was met on."""
    try:
        yield
    except (DeckErrors, InternalError):
        raise
    except Exception as exc:
        raise InternalError.wrap(exc, path, line, subject) from exc


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


# --- package -------------------------------------------------------------------------------


def build(
    paths: Sequence[Path],
    out_dir: Path,
    seed: int | None = None,
    variants: int | None = None,
    now: int | None = None,
    cache_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
    new_id: bool = False,
) -> tuple[list[Written], tuple[SourceError, ...]]:
    """Compile every deck, then write each package and its lock; nothing is written on error.

    A deck whose id is not the one its lock was built with is an error (every note would be new
    to Anki) unless `new_id` confirms it. With `cache_dir`, a package whose content is what was
    last written to it, and which is still on disk unchanged, is not written again; when no input
    of any deck changed since the last build (sources, settings, lock, images, ankismith itself),
    nothing is compiled.
    """
    errors = Collector()
    store = buildcache.open_cache(cache_dir, errors)
    try:
        inputs = {}
        if store is not None:
            inputs = {path: buildcache.deck_inputs(path, seed, variants, out_dir) for path in find_decks(paths)}
            digests = {path: buildcache.inputs_digest(path, parts) for path, parts in inputs.items()}
            if (done := _up_to_date(digests, store)) is not None:
                return done
        compiled = _compile(paths, seed, variants, store, errors, on_progress, stop=False)
        done = _package(compiled, out_dir, now if now is not None else _now(), store, errors, new_id)
        if store is not None:
            for plan, item in done:
                deck = plan.deck
                # what the next build needs to see that nothing changed (with the lock as now written)
                run = {
                    "target": str(item.path),
                    "digest": plan.digest,
                    "keys": [n.key for n in deck.notes],
                    "media": [asdict(m) for m in deck.media],
                    "warnings": [asdict(w) for w in compiled.warnings if w.path.startswith(_deck_prefix(deck.config))],
                }
                # sources as hashed before compiling: a file edited meanwhile makes the next build compile
                store.put("runs", buildcache.inputs_digest(deck.config.root, inputs[deck.config.root]), run)
            store.save()
        return [item for _, item in done], tuple(errors.warnings)
    finally:
        if store is not None:
            store.close()


def _package(
    compiled: Compiled, out_dir: Path, now: int, store: BuildCache | None, errors: Collector, new_id: bool
) -> list[tuple[_Plan, Written]]:
    """Check every deck against its lock, then write each package and lock; raises DeckErrors
    with everything in `errors` (compile errors included) before anything is written."""
    locks = [_deck_lock(deck, errors, refuse_new_id=not new_id) for deck in compiled.decks]
    errors.raise_if_any()
    plans = []
    for deck, lock in zip(compiled.decks, locks, strict=True):
        with _blame(deck.config.root.as_posix(), 0, "deck"):
            plans.append(_plan_package(deck, lock, out_dir, now, store))
    done: list[tuple[_Plan, Written]] = []
    for plan in plans:
        try:
            done.append((plan, _write_planned(plan, store)))
        except OSError:
            raise  # the output folder: the CLI says it cannot write there
        except Exception as exc:
            written = tuple(str(item.path) for _, item in done if not item.skipped)
            raise InternalError(
                plan.deck.config.root.as_posix(), 0, f"{type(exc).__name__}: {exc}", "deck", written
            ) from exc
    return done


@dataclass(frozen=True)
class _Plan:
    """What building one deck will write: its package (unless already on disk) and its lock."""

    deck: BuiltDeck
    target: Path
    digest: str
    lock_path: Path
    lock: lockfile.Lock
    write_lock: bool
    report: lockfile.ChangeReport
    skip: bool


@dataclass(frozen=True)
class _DeckLock:
    """A deck's lock as read before building: the lock, what the counts will be relative to, and
    the deck id it was built with when the deck now has another one (confirmed by --new-id)."""

    lock: lockfile.Lock
    baseline: str
    old_id: str | None


def _deck_lock(deck: BuiltDeck, errors: Collector, refuse_new_id: bool) -> _DeckLock:
    """Read the deck's lock; a deck id that is not the one it was built with is an error when
    `refuse_new_id`."""
    with _blame(deck.config.root.as_posix(), 0, "deck"):
        path = deck.config.root / lockfile.LOCK_NAME
        warned = len(errors.warnings)
        lock = lockfile.read_lock(path, errors)
        if len(errors.warnings) > warned:
            baseline = lockfile.BASELINE_UNREADABLE
        else:
            baseline = lockfile.BASELINE_LOCK if path.exists() else lockfile.BASELINE_NONE
        return _DeckLock(lock, baseline, _check_id(deck, lock, errors, refuse_new_id))


def _plan_package(deck: BuiltDeck, read: _DeckLock, out_dir: Path, now: int, store: BuildCache | None) -> _Plan:
    """Advance the deck's lock and decide what to write; writes nothing, so that every deck is
    checked before any is written."""
    lock_path = deck.config.root / lockfile.LOCK_NAME
    lock = read.lock
    entries = ((n.key, n.guid, n.hash) for n in deck.notes)
    new_lock, report = lockfile.advance(lock, deck.config.id, entries, model_hashes(), now)
    report = replace(report, baseline=read.baseline, old_id=read.old_id)
    target = out_dir / f"{deck.config.id}.apkg"
    digest = lockfile.content_hash(
        lockfile.lock_digest(new_lock),
        [n.key for n in deck.notes],
        [asdict(spec) for spec in deck.deck_specs()],
        [(m.name, m.size, m.mtime_ns) for m in deck.media],
    )
    skip = store is not None and store.output_is(target, digest)
    write_lock = new_lock != lock or read.baseline != lockfile.BASELINE_LOCK
    return _Plan(deck, target, digest, lock_path, new_lock, write_lock, report, skip)


def _write_planned(plan: _Plan, store: BuildCache | None) -> Written:
    """Write the package (unless it is already on disk), then the lock."""
    if not plan.skip:
        _write_package(plan.target, plan.deck, plan.lock)
        if store is not None:
            store.record_output(plan.target, plan.digest)
    if plan.write_lock:
        lockfile.write_lock(plan.lock_path, plan.lock)
    deck = plan.deck
    return Written(deck.config, plan.target, len(deck.notes), len(deck.media), plan.report, plan.skip, deck.overrides)


def _check_id(deck: BuiltDeck, lock: lockfile.Lock, errors: Collector, refuse: bool) -> str | None:
    """The deck id the lock was built with when the deck's id is another one (an error unless
    `refuse` is off: the user confirmed a new deck); None when it is the same or unknown."""
    from ankismith.builder.ids import guid_for

    config = deck.config
    old = lockfile.id_change(lock, config.id, guid_for, [config.root.resolve().name])
    if old is None or not refuse:
        return old
    given = "" if config.id_line else " (deck.yaml has no `id:`, so the deck takes its folder's name)"
    was = f"from {old!r} (as recorded in {lockfile.LOCK_NAME}) " if old else f"(the GUIDs in {lockfile.LOCK_NAME} "
    was = was if old else was + "were made from another id) "
    back = f"put `id: {old}` back in deck.yaml" if old else "put the old `id:` back in deck.yaml"
    errors.error(
        shown_path(config.root / "deck.yaml", config.root),
        config.id_line or 1,
        f"deck id changed {was}to {config.id!r}{given}: every note would get a new GUID, so Anki would add "
        f"all {len(deck.notes)} notes as new notes beside the old ones, and their review history would stay with "
        f"the old notes. To keep updating the old notes, {back}; to start a new deck on purpose, build with --new-id",
    )
    return old


def check_decks(paths: Sequence[Path], cache_dir: Path | None = None) -> Compiled:
    """Compile every deck as `check` does (through the build cache in `cache_dir`, if any): all
    problems, including a deck id that is not the one its lock was built with; reads each lock,
    writes nothing else."""
    errors = Collector()
    store = buildcache.open_cache(cache_dir, errors)
    try:
        compiled = _compile(paths, None, None, store, errors, None, stop=False)
    finally:
        if store is not None:
            store.close()
    for deck in compiled.decks:
        _deck_lock(deck, errors, refuse_new_id=True)
    errors.raise_if_any()
    return Compiled(compiled.decks, tuple(errors.warnings))


def _deck_prefix(config: DeckConfig) -> str:
    return f"{config.root.as_posix().rstrip('/')}/"


def _up_to_date(digests: dict[Path, str], store: BuildCache) -> tuple[list[Written], tuple[SourceError, ...]] | None:
    """The result of the last build when no deck's inputs changed and its package is intact."""
    if not digests:
        return None
    written, warnings = [], []
    for root, digest in digests.items():
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


# --- again and again ------------------------------------------------------------------------


class Builder:
    """Compiles and packages again and again with one build cache kept open, so that what it read
    and compiled stays in memory between runs (`ankismith serve`); `close()` when done."""

    def __init__(self, cache_dir: Path | None) -> None:
        self._warnings = Collector()
        self.store = buildcache.open_cache(cache_dir, self._warnings)

    def compile(self, paths: Sequence[Path], seed: int | None = None, variants: int | None = None) -> Compiled:
        """As `compile_decks`; raises DeckErrors."""
        errors = Collector()
        errors.warnings.extend(self._warnings.warnings)
        try:
            return _compile(paths, seed, variants, self.store, errors, None)
        finally:
            if self.store is not None:
                self.store.forget_unused()

    def package(
        self, compiled: Compiled, out_dir: Path, now: int | None = None
    ) -> tuple[list[Written], tuple[SourceError, ...]]:
        """Write each deck's package and lock, as `build` does after compiling."""
        errors = Collector()
        now = now if now is not None else _now()
        written = [item for _, item in _package(compiled, out_dir, now, self.store, errors, new_id=False)]
        if self.store is not None:
            self.store.save()
        return written, tuple(errors.warnings)

    def close(self) -> None:
        """Close the build cache."""
        if self.store is not None:
            self.store.close()


# --- preview -------------------------------------------------------------------------------


def preview(
    paths: Sequence[Path], out_dir: Path, mathjax: str | None, cache_dir: Path | None = None
) -> tuple[Compiled, Path]:
    """Compile every deck and write the preview site into `out_dir` (nothing on error); returns
    what was compiled and the site's index page. `mathjax` is the URL the pages load MathJax from."""
    from ankismith.preview.site import Site

    compiled = compile_decks(paths, cache_dir=cache_dir)
    Site(out_dir, mathjax).write(compiled.decks)
    return compiled, out_dir / "index.html"


def problem_families() -> dict[str, Any]:
    """The solver's problem families, by name (for `ankismith problems`)."""
    from ankismith.solver import FAMILIES

    return FAMILIES


def _now() -> int:
    """Build time, or SOURCE_DATE_EPOCH when set (reproducible-builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(epoch) if epoch.isdigit() else int(time.time())
