"""The compile stage: a deck's card files read, solved and rendered into notes.

Through the build cache where a file or a card is unchanged, in worker processes where there is
enough work for more than one core. `compile_deck` is what the pipeline calls, once per deck.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ankismith.cards.media import resolve_media
from ankismith.cards.reader import check_keys, read_cards
from ankismith.errors import Collector, SourceError, blame
from ankismith.model.canon import encode, sha256_hex
from ankismith.model.cards import Card, DeckConfig, FamilySource, SourceFile, family_digest
from ankismith.model.inputs import Inputs
from ankismith.model.notes import BuiltDeck, BuiltNote, MediaFile
from ankismith.pipeline import cache as buildcache
from ankismith.pipeline.cache import CacheReader, FileNotes
from ankismith.render.notes import render_notes

if TYPE_CHECKING:
    from ankismith.pipeline.cache import BuildCache

ProgressCallback = Callable[[int, int], None]


class Progress:
    """Bytes of card files compiled so far, of all a run has, told to a callback (the progress bar)."""

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self.total, self.done, self.callback = total, 0, callback

    def advance(self, amount: int) -> None:
        """Count `amount` more bytes done."""
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
    families: tuple[FamilySource, ...]  # the deck's own problem families, as read


@dataclass(frozen=True)
class _FileDone:
    """A task's result: the file's notes, its errors, and new `cards` entries for the cache."""

    notes: FileNotes
    errors: tuple[SourceError, ...]
    new_cards: tuple[tuple[str, list[Any]], ...]


def compile_deck(
    config: DeckConfig,
    files: Iterable[tuple[SourceFile, bytes]],
    families: tuple[FamilySource, ...],
    store: BuildCache | None,
    inputs: Inputs,
    errors: Collector,
    progress: Progress,
) -> BuiltDeck:
    """Compile a deck's card files: from the cache where unchanged, afresh (across cores) otherwise.

    `families` are the deck's own family files (a card file's key covers them: a card may name any);
    `inputs` knows the digests of the files this run has read (a cached file's images are checked
    against it)."""
    files = list(files)
    results: dict[Path, FileNotes] = {}
    tasks: list[tuple[str | None, _FileTask]] = []
    for file, data in files:
        entry_key = buildcache.key("files", config, file, sha256_hex(data), families) if store is not None else None
        cached = store.get_file(entry_key) if store is not None and entry_key is not None else None
        if cached is not None and inputs.unchanged(cached.inputs):
            results[file.path] = cached
            progress.advance(len(data))
            continue
        database = store.path if store is not None and store.usable else None
        tasks.append((entry_key, _FileTask(config, file, data, database, families)))
    for (entry_key, task), done in zip(tasks, _run(task for _, task in tasks), strict=True):
        results[task.file.path] = done.notes
        errors.extend(done.errors)
        if store is not None and entry_key is not None:
            for card_key, notes in done.new_cards:
                store.put("cards", card_key, notes)
            if not done.errors:
                store.put_file(entry_key, done.notes)
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

    with ProcessPoolExecutor(max_workers=workers, initializer=_exit_with_parent, initargs=(os.getpid(),)) as pool:
        yield from pool.map(_compile_file, tasks)


def _exit_with_parent(parent: int) -> None:
    """A worker ends when the build that started it ends, even by `kill -9` (which no cleanup sees):
    on Linux the kernel kills it (PR_SET_PDEATHSIG); elsewhere a thread watches the parent's pid."""
    import signal
    import threading
    import time

    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="ankismith-parent-watch", daemon=True).start()


def _compile_file(task: _FileTask) -> _FileDone:
    """Read one card file and render its cards; a card met before (the whole card, its deck's settings
    and its images' packaged names the same) comes from the cache."""
    config, errors, inputs = task.config, Collector(), Inputs()
    families = _Families(task.families)
    with blame(task.file.shown, 0, "file"):
        cards, keys = read_cards(task.file, task.data, errors)
    reader = CacheReader(task.cache) if task.cache is not None else None
    notes: list[BuiltNote] = []
    media: list[MediaFile] = []
    new_cards: list[tuple[str, list[Any]]] = []
    card_key_of = buildcache.key_with("cards", config) if reader is not None else None
    try:
        keyed: list[tuple[Card, dict[str, str], str | None]] = []
        for card in cards:
            with blame(card.file.shown, card.line, "card"):
                found = resolve_media(card, config.root, inputs, errors)
                media.extend(found.files)
                # a key per card when there is a reader: key("cards", config, card, images, family)
                card_key = card_key_of(card, found.names, families.digest(card)) if card_key_of is not None else None
                keyed.append((card, found.names, card_key))
        asked = [card_key for _, _, card_key in keyed if card_key is not None]
        cached = reader.entries("cards", asked, tuple[BuiltNote, ...]) if reader is not None else {}
        for card, names, card_key in keyed:
            with blame(card.file.shown, card.line, "card"):
                entry = cached.get(card_key) if card_key is not None else None
                if entry is not None:
                    notes.extend(entry)
                    continue
                before = len(errors.errors)
                made = render_notes(card, config, names, families.mapping(card), errors)
                notes.extend(made)
                if card_key is not None and len(errors.errors) == before:
                    new_cards.append((card_key, encode(made)))
    finally:
        if reader is not None:
            reader.close()
    result = FileNotes(
        tuple(keys), tuple(notes), tuple(media), tuple(errors.warnings), tuple(sorted(inputs.read.items()))
    )
    return _FileDone(result, tuple(errors.errors), tuple(new_cards))


class _Families:
    """The problem families a file's cards may name: loaded (running the deck's family files) only
    when a numeric card needs them."""

    def __init__(self, sources: tuple[FamilySource, ...]) -> None:
        self.sources = sources
        self._mapping: Mapping[str, Any] | None = None

    def mapping(self, card: Card) -> Mapping[str, Any]:
        """The families by name (none for a card that is not numeric)."""
        if card.numeric is None:
            return {}
        if self._mapping is None:
            from ankismith.solver import families_for

            self._mapping = families_for(self.sources)[0]
        return self._mapping

    def digest(self, card: Card) -> str | None:
        """What a card depends on among the deck's family files: the one it names, and the helpers."""
        name = card.numeric.spec.get("problem") if card.numeric is not None else None
        return family_digest(name, self.sources) if isinstance(name, str) else None


def _check_variant_keys(config: DeckConfig, notes: Sequence[BuiltNote], errors: Collector) -> None:
    keys = Counter(note.key for note in notes)
    if len(keys) == len(notes):
        return  # no key twice
    for note in notes:
        if keys[note.key] > 1 and "~" in note.key:
            path, line = note.source.rsplit(":", 1)
            errors.error(
                f"{config.root.as_posix()}/{path}",
                int(line),
                f"variant key {note.key!r} clashes with another card's key; rename one",
            )
