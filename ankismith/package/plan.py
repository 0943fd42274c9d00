"""The package stage: each deck checked against its lock, then its .apkg and its lock written.

Every deck is checked (a deck id that is not the one its lock was built with) before any is
written, so a run with a problem writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from ankismith.errors import Collector, InternalError, blame, shown_path
from ankismith.model.canon import digest as canon_digest
from ankismith.model.canon import sha256_hex
from ankismith.model.cards import DeckConfig
from ankismith.model.ids import guid_for
from ankismith.model.notes import BuiltDeck, BuiltNote
from ankismith.package import lock as lockfile
from ankismith.package.apkg import Bases, CannotReuse, DeckSpec, NoteSpec, Previous, write_apkg
from ankismith.package.models import model_hashes
from ankismith.rules import LOCK_NAME


class Outputs(Bases, Protocol):
    """What a build remembers of the packages it wrote (the build cache), so as not to write one
    again, or all of one again: their collections and the collections' bases."""

    def output_is(self, target: Path, digest: str) -> bool:
        """Whether `target` is, byte for byte, the package last written for `digest`."""

    def record_output(self, target: Path, digest: str) -> None:
        """Remember what was written to `target`."""

    def wrote_lock(self, digest: str) -> bool:
        """Whether a lock whose bytes have `digest` was written by this code (so it need not be checked)."""

    def record_lock(self, digest: str, target: Path, clean: bool) -> None:
        """Remember that this code wrote a lock whose bytes have `digest`, with the package now at
        `target` (`clean`: every id in it is its GUID's own)."""

    def package_of_lock(self, digest: str, target: Path) -> Callable[[], bytes | None]:
        """The collection of the package at `target` if it is, byte for byte, the one this code wrote
        with the lock whose bytes have `digest`; read meanwhile: call the result to wait for it."""

    def stage_collection(self, target: Path, collection: bytes) -> Path | None:
        """Write the collection of the package being written to `target` to a file of the cache's;
        None if it cannot."""

    def keep_collection(self, target: Path, staged: Path) -> None:
        """Keep the collection `stage_collection` wrote, that of the package just written to `target`
        (recorded by `record_output`), for `package_of_lock` of the next build."""


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


@dataclass
class Memo:
    """What packaging a deck again can reuse, for a caller that does it again and again (`serve`):
    each lock as last read or written (by the digest of its bytes), and the notes' rows."""

    locks: dict[Path, tuple[str, lockfile.Lock]] = field(default_factory=dict)
    specs: dict[str, dict[tuple[str, str, int], Any]] = field(default_factory=dict)  # deck id -> NoteSpec by note
    rows: dict[str, dict[Any, Any]] = field(default_factory=dict)  # deck id -> write_apkg's memo

    def remember_lock(self, path: Path, digest: str, lock: lockfile.Lock) -> None:
        """`lock` is what the file at `path` holds, whose bytes have `digest`."""
        self.locks[path] = (digest, lock)

    def known_lock(self, file: lockfile.LockFile) -> lockfile.Lock | None:
        """The lock `file` holds, if it was seen before."""
        known = self.locks.get(file.path)
        return known[1] if known is not None and known[0] == file.digest else None


def package(
    decks: Sequence[BuiltDeck],
    locks: Sequence[lockfile.LockFile],
    out_dir: Path,
    now: int,
    store: Outputs | None,
    errors: Collector,
    new_id: bool,
    memo: Memo | None = None,
    write: bool = True,
    previous: Sequence[Callable[[], bytes | None] | None] | None = None,
) -> list[tuple[Plan, Written]]:
    """Check every deck against its lock, then write each package and lock; raises DeckErrors
    with everything in `errors` (compile errors included) before anything is written. Returns, per
    deck, what was planned (the package's digest, for the build cache) and what was written.

    `write=False` (a dry run) writes nothing and returns what would be written. `previous`: what
    `previous_collections` started for these decks (else it is started here).
    """
    if previous is None:
        previous = previous_collections([deck.config.id for deck in decks], locks, out_dir, store, memo, write)
    read = [
        deck_lock(deck, file, errors, refuse_new_id=not new_id, memo=memo, store=store)
        for deck, file in zip(decks, locks, strict=True)
    ]
    errors.raise_if_any()
    plans = []
    for deck, file, lock in zip(decks, locks, read, strict=True):
        with blame(deck.config.root.as_posix(), 0, "deck"):
            plans.append(_plan_package(deck, file, lock, out_dir, now, store))
    if not write:
        return [(plan, _written(plan)) for plan in plans]
    done: list[tuple[Plan, Written]] = []
    for plan, collection in zip(plans, previous, strict=True):
        try:
            done.append((plan, _write_planned(plan, store, memo, collection)))
        except OSError:
            raise  # the output folder: the CLI says it cannot write there
        except Exception as exc:
            written = tuple(str(item.path) for _, item in done if not item.skipped)
            raise InternalError(
                plan.deck.config.root.as_posix(), 0, f"{type(exc).__name__}: {exc}", "deck", written
            ) from exc
    return done


@dataclass(frozen=True)
class Plan:
    """What building one deck will write: its package (unless already on disk) and its lock."""

    deck: BuiltDeck
    target: Path
    digest: str
    lock_file: lockfile.LockFile
    lock: lockfile.Lock
    report: lockfile.ChangeReport
    skip: bool
    lock_text: str  # the lock as the file will hold it
    base: lockfile.Lock  # the lock as read before building


@dataclass(frozen=True)
class DeckLock:
    """A deck's lock as read before building: the lock, what the counts will be relative to, and
    the deck id it was built with when the deck now has another one (confirmed by --new-id)."""

    lock: lockfile.Lock
    baseline: str
    old_id: str | None


def deck_lock(
    deck: BuiltDeck,
    file: lockfile.LockFile,
    errors: Collector,
    refuse_new_id: bool,
    memo: Memo | None = None,
    store: Outputs | None = None,
) -> DeckLock:
    """Read the deck's lock; a deck id that is not the one it was built with is an error when
    `refuse_new_id`. A lock the build cache knows this code wrote is read without checks."""
    with blame(deck.config.root.as_posix(), 0, "deck"):
        warned = len(errors.warnings)
        lock = memo.known_lock(file) if memo is not None else None
        if lock is None and file.data is not None and store is not None and store.wrote_lock(file.digest):
            lock = lockfile.read_lock(file, guid_for, errors, trusted=True)
        if lock is None:
            known = (deck.config.id, {n.key: n.guid for n in deck.notes})  # the notes' GUIDs now
            lock = lockfile.read_lock(file, guid_for, errors, known)
        if len(errors.warnings) > warned:
            baseline = lockfile.BASELINE_UNREADABLE
        else:
            baseline = lockfile.BASELINE_LOCK if file.data is not None else lockfile.BASELINE_NONE
        return DeckLock(lock, baseline, _check_id(deck, lock, errors, refuse_new_id))


def _plan_package(
    deck: BuiltDeck, file: lockfile.LockFile, read: DeckLock, out_dir: Path, now: int, store: Outputs | None
) -> Plan:
    """Advance the deck's lock and decide what to write; writes nothing, so that every deck is
    checked before any is written."""
    lock = read.lock
    entries = (lockfile.NoteFacts(n.key, n.guid, n.hash, n.deck, n.tags) for n in deck.notes)
    new_lock, report = lockfile.advance(lock, deck.config.id, entries, model_hashes(), now)
    report = replace(report, baseline=read.baseline, old_id=read.old_id)
    target = _target(deck.config.id, out_dir)
    # what the package is written from: each note's content through its hash and mod in the lock,
    # the notes' order, the decks, the media (their names hold a hash of their bytes)
    digest = canon_digest(lockfile.lock_digest(new_lock), [n.key for n in deck.notes], deck_specs(deck), deck.media)
    skip = store is not None and store.output_is(target, digest)
    return Plan(deck, target, digest, file, new_lock, report, skip, lockfile.lock_text(new_lock), lock)


def previous_collections(
    deck_ids: Sequence[str],
    locks: Sequence[lockfile.LockFile],
    out_dir: Path,
    store: Outputs | None,
    memo: Memo | None = None,
    write: bool = True,
) -> list[Callable[[], bytes | None] | None]:
    """Start reading the collections of the packages the build cache wrote with these locks, for
    `package` to copy their unchanged rows: in other threads (files, hashes, CRCs, unzipping let go
    of the GIL), so that a build starts them as soon as it knows it will package, and compiles
    meanwhile. None where there is nothing to read (no cache, a dry run, no lock, or `serve`,
    which keeps its rows in `memo`)."""
    return [
        store.package_of_lock(file.digest, _target(deck_id, out_dir))
        if store is not None and memo is None and write and file.data is not None
        else None
        for deck_id, file in zip(deck_ids, locks, strict=True)
    ]


def _target(deck_id: str, out_dir: Path) -> Path:
    """Where the package of the deck `deck_id` is written."""
    return out_dir / f"{deck_id}.apkg"


def _write_planned(
    plan: Plan, store: Outputs | None, memo: Memo | None, previous_collection: Callable[[], bytes | None] | None
) -> Written:
    """Write the package (unless it is already on disk), then the lock; `previous_collection`, if
    given, waits for the collection of the package written before (None when it cannot be reused)."""
    clean = None
    if not plan.skip:
        previous = None
        if previous_collection is not None and (collection := previous_collection()) is not None:
            previous = (collection, plan.base)
        staged: list[Path | None] = []
        keep = _stage_into(store, plan.target, staged) if store is not None and memo is None else None
        clean = _write_package(plan.target, plan.deck, plan.lock, memo, previous, keep, store)
        if store is not None:
            store.record_output(plan.target, plan.digest)
            for path in staged:
                if path is not None:
                    store.keep_collection(plan.target, path)
    text = plan.lock_text
    lockfile.write_lock(plan.lock_file, text)  # unless the file holds it already
    digest = sha256_hex(text.encode())
    if store is not None and clean is not None:
        store.record_lock(digest, plan.target, clean)
    if memo is not None:
        memo.remember_lock(plan.lock_file.path, digest, plan.lock)
    return _written(plan)


def _stage_into(store: Outputs, target: Path, staged: list[Path | None]) -> Callable[[bytes], None]:
    """A `keep` for write_apkg: the collection written to a file of the cache's, its path put in `staged`."""
    return lambda data: staged.append(store.stage_collection(target, data))


def _written(plan: Plan) -> Written:
    deck = plan.deck
    return Written(deck.config, plan.target, len(deck.notes), len(deck.media), plan.report, plan.skip, deck.overrides)


def _check_id(deck: BuiltDeck, lock: lockfile.Lock, errors: Collector, refuse: bool) -> str | None:
    """The deck id the lock was built with when the deck's id is another one (an error unless
    `refuse` is off: the user confirmed a new deck); None when it is the same or unknown."""
    config = deck.config
    old = lockfile.id_change(lock, config.id, guid_for, [config.root.resolve().name])
    if old is None or not refuse:
        return old
    given = "" if config.id_line else " (deck.yaml has no `id:`, so the deck takes its folder's name)"
    was = f"from {old!r} (as recorded in {LOCK_NAME}) " if old else f"(the GUIDs in {LOCK_NAME} "
    was = was if old else was + "were made from another id) "
    back = f"put `id: {old}` back in deck.yaml" if old else "put the old `id:` back in deck.yaml"
    count = len(deck.notes)
    added = (
        f"all {count} notes as new notes beside the old ones, and their review history would stay with the old notes"
        if count != 1
        else "its 1 note as a new note beside the old one, and its review history would stay with the old note"
    )
    errors.error(
        shown_path(config.root / "deck.yaml", config.root),
        config.id_line or 1,
        f"deck id changed {was}to {config.id!r}{given}: every note would get a new GUID, so Anki would add "
        f"{added}. To keep updating the old notes, {back}; to start a new deck on purpose, build with --new-id",
    )
    return old


def _write_package(
    target: Path,
    deck: BuiltDeck,
    lock: lockfile.Lock,
    memo: Memo | None,
    previous: tuple[bytes, lockfile.Lock] | None = None,
    keep: Callable[[bytes], None] | None = None,
    bases: Bases | None = None,
) -> bool:
    """Write the deck's package; with `previous` (the collection of the package at `target`, and the
    lock it was written with), the rows of each note whose GUID, content hash and mod are those it
    had there are copied from it, not made again; `keep` is handed the collection written; `bases`
    keeps the collection's base. Whether every id is its GUID's own."""
    known = memo.specs.get(deck.config.id, {}) if memo is not None else {}
    media = {m.name: Path(m.path).read_bytes() for m in deck.media}
    models = {kind: entry.mod for kind, entry in lock.models.items()}
    if previous is not None:
        before, kept = previous[1].notes, set()
        for n in deck.notes:
            old = before.get(n.key)
            if old is not None and n.hash and old.hash == n.hash and old.guid == n.guid:
                if old.mod == lock.notes[n.key].mod:
                    kept.add(n.key)
        fresh = [_spec(n, lock, known) for n in deck.notes if n.key not in kept]
        dropped = tuple(sorted(old.guid for key, old in before.items() if key not in kept))
        try:
            return write_apkg(
                target,
                deck.config.id,
                deck_specs(deck),
                fresh,
                media,
                models,
                None,
                Previous(previous[0], dropped),
                keep,
                bases,
            )
        except CannotReuse:
            pass  # made afresh, below
    specs = {}
    for n in deck.notes:
        spec = _spec(n, lock, known)
        specs[(n.guid, n.hash, spec.mod)] = spec  # the hash covers kind, deck, fields and tags
    rows = None
    if memo is not None:
        memo.specs[deck.config.id] = specs
        rows = memo.rows.setdefault(deck.config.id, {})
    notes = list(specs.values())
    return write_apkg(target, deck.config.id, deck_specs(deck), notes, media, models, rows, None, keep, bases)


def _spec(n: BuiltNote, lock: lockfile.Lock, known: dict[tuple[str, str, int], Any]) -> NoteSpec:
    mod = lock.notes[n.key].mod
    return known.get((n.guid, n.hash, mod)) or NoteSpec(
        n.guid, n.kind, n.deck, tuple(v for _, v in n.fields), n.tags, mod
    )


def deck_specs(deck: BuiltDeck) -> list[DeckSpec]:
    """The Anki decks: the main one (with its description) and each sub-deck used."""
    names = sorted({note.deck for note in deck.notes} - {deck.config.name})
    return [DeckSpec(deck.config.name, deck.config.description), *(DeckSpec(n) for n in names)]
