"""The one place that knows every stage: read -> solve -> render -> package.

    compile_decks   each deck read (cards/reader), its cards solved and rendered into notes
                    (pipeline/compiler, through the build cache), all problems raised at once
    build           read, then compile_decks, then each deck checked against its lock and packaged
                    (package/plan); nothing at all when no input changed since the last build
    build_for_push  build, keeping each deck's notes and new lock for `ankismith push` (push/);
                    a dry run writes nothing
    check_decks     compile_decks and the lock checks, writing nothing but the cache
    Builder         compile and package again and again, the cache kept open (for preview/serve)

The preview (preview/) and push (push/) stand on top: they build through here and use what was built.

Each stage takes immutable values and returns new ones; errors of every deck are collected and
raised once (DeckErrors), before anything is written. Every source file is read once per build.
Markdown, numpy and genanki are imported only when something needs them.
"""

from __future__ import annotations

import gc
import os
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any

from ankismith.cards.reader import read_cards, read_deck
from ankismith.errors import Collector, DeckErrors, InternalError, SourceError, blame
from ankismith.model.canon import sha256_hex
from ankismith.model.cards import FAMILY_ENTRY_POINTS, Deck, DeckConfig
from ankismith.model.inputs import Inputs
from ankismith.model.notes import BuiltDeck, BuiltNote
from ankismith.package import lock as lockfile
from ankismith.package.plan import Memo, Plan, Written, deck_lock, package, previous_collections
from ankismith.pipeline import cache as buildcache
from ankismith.pipeline.cache import BuildCache, Run
from ankismith.pipeline.compiler import Progress, ProgressCallback, compile_deck
from ankismith.rules import LOCK_NAME

__all__ = [
    "BuiltDeck",
    "BuiltNote",
    "Compiled",
    "DeckErrors",
    "InternalError",
    "Pushable",
    "Written",
    "build",
    "build_for_push",
    "check_decks",
    "compile_decks",
    "problem_families",
]


@dataclass(frozen=True)
class Compiled:
    """Every deck of a run, and the warnings met on the way."""

    decks: tuple[BuiltDeck, ...]
    warnings: tuple[SourceError, ...]


def find_decks(paths: Sequence[Path]) -> list[Path]:
    """The deck folders to work on: those given; else the folder the command runs in, when it is a
    deck (has a deck.yaml); else every folder under ./decks with a deck.yaml."""
    if paths:
        return list(paths)
    if Path("deck.yaml").is_file():
        return [Path(".")]
    root = Path("decks")
    return sorted(p for p in root.iterdir() if (p / "deck.yaml").is_file()) if root.is_dir() else []


# --- read, solve, render -------------------------------------------------------------------


def _read(paths: Sequence[Path], errors: Collector) -> list[Deck]:
    """Read every deck folder: settings and card files, each file once."""
    decks = []
    for path in find_decks(paths):
        with blame(path.as_posix(), 0, "deck"):
            if (deck := read_deck(path, errors)) is not None:
                decks.append(deck)
    return decks


def compile_decks(
    paths: Sequence[Path],
    seed: int | None = None,
    variants: int | None = None,
    cache_dir: Path | None = None,
) -> Compiled:
    """Read, solve and render every deck; raises DeckErrors with all problems of all decks.

    With `cache_dir`, compiled card files and cards are kept there and reused (pipeline/cache.py).
    """
    errors = Collector()
    store = buildcache.open_cache(cache_dir, errors)
    try:
        return _compile(_read(paths, errors), seed, variants, store, Inputs(), errors, None)
    finally:
        if store is not None:
            store.close()


def _compile(
    decks: Sequence[Deck],
    seed: int | None,
    variants: int | None,
    store: BuildCache | None,
    inputs: Inputs,
    errors: Collector,
    on_progress: ProgressCallback | None,
    stop: bool = True,
) -> Compiled:
    """Compile the decks; with `stop`, raise DeckErrors when there are errors, else leave them in `errors`."""
    progress = Progress(sum(len(data) for deck in decks for _, data in deck.files), on_progress)
    built = []
    for deck in decks:
        config = _override(deck.config, seed, variants)
        with blame(deck.config.root.as_posix(), 0, "deck"):
            loaded = _load_families(deck, errors)
            compiled = compile_deck(config, deck.files, deck.families, store, inputs, errors, progress)
        built.append(replace(compiled, overrides=_overrides(deck.config, seed, variants), families=loaded))
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


def _load_families(deck: Deck, errors: Collector) -> tuple[str, ...]:
    """Run the deck's own family files and the installed packages' once, so that one that fails is
    an error even when no card names it; the deck's files that loaded, as messages name them
    (`check` says which ran). A deck with neither never loads the solver."""
    if not deck.families and not metadata.entry_points(group=FAMILY_ENTRY_POINTS):
        return ()
    from ankismith.solver import families_for

    _, faults = families_for(deck.families)
    for fault in faults:
        errors.error(fault.path, fault.line, fault.message)
    failed = {fault.path for fault in faults}
    return tuple(s.shown for s in deck.families if s.shown not in failed)


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
    done, warnings = _build(paths, out_dir, seed, variants, now, cache_dir, on_progress, new_id)
    return [item for _, item in done], warnings


@dataclass(frozen=True)
class Pushable:
    """A deck as built for `ankismith push`: its notes, its lock as written (or as a dry run would
    write it), and what the build wrote."""

    deck: BuiltDeck
    lock: lockfile.Lock
    written: Written


def build_for_push(
    paths: Sequence[Path],
    out_dir: Path,
    now: int | None = None,
    cache_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
    write: bool = True,
) -> tuple[list[Pushable], tuple[SourceError, ...]]:
    """Build as `build` does (the same packages and locks written), keeping what push applies:
    each deck's notes and new lock. `write=False` (a dry run) writes nothing but the build cache."""
    done, warnings = _build(paths, out_dir, None, None, now, cache_dir, on_progress, False, keep=True, write=write)
    return [Pushable(plan.deck, plan.lock, item) for plan, item in done if plan is not None], warnings


def _build(
    paths: Sequence[Path],
    out_dir: Path,
    seed: int | None,
    variants: int | None,
    now: int | None,
    cache_dir: Path | None,
    on_progress: ProgressCallback | None,
    new_id: bool,
    keep: bool = False,
    write: bool = True,
) -> tuple[list[tuple[Plan | None, Written]], tuple[SourceError, ...]]:
    """`build`, returning each deck's plan with what was written; `keep` compiles even when
    nothing changed (the plan holds the notes), `write=False` writes nothing."""
    errors = Collector()
    frozen = gc.get_freeze_count()
    gc.freeze()  # what start-up made (modules, the command line): the cycle collector need not walk it again
    # and it runs less often: reading 10k cached notes back makes few cycles but many containers,
    # and each 700 of them started a young collection (0.02 s of a one-card rebuild in all)
    thresholds = gc.get_threshold()
    gc.set_threshold(max(thresholds[0], YOUNG_THRESHOLD), *thresholds[1:])
    store = buildcache.open_cache(cache_dir, errors)
    try:
        decks = _read(paths, errors)
        locks = [lockfile.load_lock(deck.config.root / LOCK_NAME) for deck in decks]
        inputs = Inputs()
        read_warnings = len(errors.warnings)
        runs = [_run_key(deck, lock, seed, variants, out_dir) for deck, lock in zip(decks, locks, strict=True)]
        if store is not None and not errors.errors and not keep:
            last = _up_to_date(decks, runs, store, inputs)
            if last is not None:
                return [(None, item) for item in last[0]], tuple(errors.warnings) + last[1]
        # the collections of the packages written last, read while the decks compile
        previous = previous_collections([deck.config.id for deck in decks], locks, out_dir, store, None, write)
        compiled = _compile(decks, seed, variants, store, inputs, errors, on_progress, stop=False)
        gc.freeze()  # nor the notes: packaging makes many objects, and each full collection would walk them all
        now = now if now is not None else _now()
        done = package(compiled.decks, locks, out_dir, now, store, errors, new_id, write=write, previous=previous)
        if store is not None and write:
            for (plan, item), run, deck in zip(done, runs, compiled.decks, strict=True):
                warnings = tuple(
                    w for w in errors.warnings[read_warnings:] if w.path.startswith(_deck_prefix(deck.config))
                )
                images = tuple(sorted((m.path, inputs.digest(m.path) or "") for m in deck.media))
                # what the next build needs to see that nothing changed (with the lock as now written)
                record = Run(
                    str(item.path), plan.digest, tuple(n.key for n in deck.notes), len(deck.media), warnings, images
                )
                store.put("runs", _after(run, plan), buildcache.encode(record))
        if store is not None:
            store.save()
        return list(done), tuple(errors.warnings)
    finally:
        if store is not None:
            store.close()
        if not frozen:  # a caller that froze objects itself (as `serve` does) keeps them frozen
            gc.freeze()  # the young objects too: back with the old ones, not walked by a young collection now
            gc.unfreeze()
        gc.set_threshold(*thresholds)


YOUNG_THRESHOLD = 100_000  # containers allocated (less freed) between young collections, during a build


def _run_key(deck: Deck, lock: lockfile.LockFile, seed: int | None, variants: int | None, out_dir: Path) -> list[Any]:
    """Everything a deck's package is built from, but the images (checked apart): its settings as
    read and as written, every card file's name and bytes, the lock, the command line's settings."""
    files = [[file.inner, sha256_hex(data)] for file, data in deck.files]
    return [deck.config, deck.settings, files, deck.families, seed, variants, out_dir.resolve().as_posix(), lock.digest]


def _after(run: list[Any], plan: Plan) -> str:
    """The key under which the next build finds this run: its inputs with the lock as now written."""
    text = plan.lock_text
    return buildcache.key("runs", *run[:-1], sha256_hex(text))


def _deck_prefix(config: DeckConfig) -> str:
    return f"{config.root.as_posix().rstrip('/')}/"


def _up_to_date(
    decks: Sequence[Deck], runs: Sequence[list[Any]], store: BuildCache, inputs: Inputs
) -> tuple[list[Written], tuple[SourceError, ...]] | None:
    """What the last build wrote (and warned), when no deck's inputs changed and each package is
    intact on disk."""
    if not decks:
        return None
    written: list[Written] = []
    warnings: list[SourceError] = []
    for deck, run in zip(decks, runs, strict=True):
        found = store.entry("runs", buildcache.key("runs", *run), Run)
        if found is None or not inputs.unchanged(found.inputs):
            return None
        target = Path(found.target)
        if not store.output_is(target, found.digest):
            return None
        report = lockfile.ChangeReport(unchanged=found.keys)
        written.append(Written(deck.config, target, len(found.keys), found.media_count, report, skipped=True))
        warnings.extend(found.warnings)
    return written, tuple(warnings)


def check_decks(paths: Sequence[Path], cache_dir: Path | None = None, stress: int = 0) -> Compiled:
    """Compile every deck as `check` does (through the build cache in `cache_dir`, if any): all
    problems, including a deck id that is not the one its lock was built with; reads each lock,
    writes nothing else. With `stress`, every numeric card is also drawn that many times and
    warned about where its draws are weak (pipeline/stress.py)."""
    errors = Collector()
    store = buildcache.open_cache(cache_dir, errors)
    decks = _read(paths, errors)
    try:
        compiled = _compile(decks, None, None, store, Inputs(), errors, None, stop=False)
    finally:
        if store is not None:
            store.close()
    for deck in compiled.decks:
        deck_lock(deck, lockfile.load_lock(deck.config.root / LOCK_NAME), errors, refuse_new_id=True)
    errors.raise_if_any()
    if stress:
        from ankismith.pipeline.stress import stress_deck

        for deck in decks:
            cards = [card for file, data in deck.files for card in read_cards(file, data, Collector())[0]]
            with blame(deck.config.root.as_posix(), 0, "deck"):
                stress_deck(deck, cards, stress, errors)
        errors.raise_if_any()
    return Compiled(compiled.decks, tuple(errors.warnings))


# --- again and again ------------------------------------------------------------------------


class Builder:
    """Compiles and packages again and again with one build cache kept open, so that what it read
    and compiled stays in memory between runs (`ankismith serve`); `close()` when done."""

    def __init__(self, cache_dir: Path | None) -> None:
        self._warnings = Collector()
        self.store = buildcache.open_cache(cache_dir, self._warnings)
        self.memo = Memo()

    def compile(self, paths: Sequence[Path], seed: int | None = None, variants: int | None = None) -> Compiled:
        """As `compile_decks`; raises DeckErrors."""
        errors = Collector()
        errors.warnings.extend(self._warnings.warnings)
        try:
            return _compile(_read(paths, errors), seed, variants, self.store, Inputs(), errors, None)
        finally:
            if self.store is not None:
                self.store.forget_unused()

    def package(
        self, compiled: Compiled, out_dir: Path, now: int | None = None
    ) -> tuple[list[Written], tuple[SourceError, ...]]:
        """Write each deck's package and lock, as `build` does after compiling."""
        errors = Collector()
        now = now if now is not None else _now()
        locks = [lockfile.load_lock(deck.config.root / LOCK_NAME) for deck in compiled.decks]
        done = package(compiled.decks, locks, out_dir, now, self.store, errors, False, self.memo)
        if self.store is not None:
            self.store.save()
        return [item for _, item in done], tuple(errors.warnings)

    def close(self) -> None:
        """Close the build cache."""
        if self.store is not None:
            self.store.close()


@dataclass(frozen=True)
class FamilyList:
    """What `ankismith problems` lists: the families of one source (built in, installed, a deck's)."""

    title: str
    families: tuple[Any, ...]


def problem_families(paths: Sequence[Path]) -> tuple[list[FamilyList], tuple[SourceError, ...]]:
    """The built-in families, those of installed packages, and each deck's own (for `ankismith
    problems`); a deck's family file that fails is an error (the others are still listed)."""
    from ankismith.solver import builtin, families_for
    from ankismith.solver.registry import installed

    errors = Collector()
    lists = [FamilyList("Built-in families", tuple(builtin().values()))]
    package, faults = installed()
    loaded = tuple(f for f in package.values() if not isinstance(f, Exception))
    if loaded:
        lists.append(FamilyList("Families of installed packages", loaded))
    for fault in faults:
        errors.error(fault.path, fault.line, fault.message)
    for deck in _read(paths, errors) if paths else []:
        families, faults = families_for(deck.families)
        own = tuple(f for f in families.values() if not isinstance(f, Exception) and f.origin.kind == "deck")
        title = f"Families of {deck.config.root.as_posix()} (its problems/ folder)"
        lists.append(FamilyList(title, own))
        for fault in faults:
            if fault.path.startswith(_deck_prefix(deck.config)):
                errors.error(fault.path, fault.line, fault.message)
    return lists, tuple(errors.errors)


def _now() -> int:
    """Build time, or SOURCE_DATE_EPOCH when set (reproducible-builds convention)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "")
    return int(epoch) if epoch.isdigit() else int(time.time())
