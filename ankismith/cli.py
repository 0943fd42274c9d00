"""The `ankismith` command line: thin typer commands over the pipeline.

Heavy modules (numpy, genanki, Markdown) are imported inside the commands, so `--help` is fast.
Errors become `path:line: message` lines on stderr and exit status 1; bad usage is exit status 2.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

import typer

from ankismith.rules import CACHE_DIR, MAX_VARIANTS, counted

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from ankismith.pipeline.run import Compiled, DeckErrors, SourceError, Written

app = typer.Typer(
    name="ankismith",
    help="Build Anki decks (.apkg) from Markdown notes: math, code, images, cloze, multiple choice, numeric problems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class _Terminal:
    """stdout or stderr. A plain line (no markup, no style) is written as it is, as rich would write
    it (the control characters rich strips stripped, no emoji codes replaced); anything else goes
    through a rich Console, made on first use: a build that only reports need not import rich."""

    _STRIP = dict.fromkeys((7, 8, 11, 12, 13))  # what rich's Text strips: bell, backspace, VT, FF, CR

    def __init__(self, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False, soft_wrap=True)
        return self._console

    @property
    def is_terminal(self) -> bool:
        return self.console.is_terminal

    def print(self, text: str, *, markup: bool = True, style: str | None = None, highlight: bool = False) -> None:
        if markup or style is not None or highlight:
            self.console.print(text, markup=markup, style=style, highlight=highlight)
            return
        stream = sys.stderr if self._stderr else sys.stdout  # as they are now (tests replace them)
        stream.write(text.translate(self._STRIP) + "\n")
        stream.flush()


out = _Terminal()
err = _Terminal(stderr=True)

DeckDirs = Annotated[
    list[Path] | None,
    typer.Argument(
        help="Deck folders (each with a deck.yaml). Default: every folder under ./decks.", show_default=False
    ),
]
Seed = Annotated[int | None, typer.Option("--seed", min=0, help="Seed of the numeric variants (overrides deck.yaml).")]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Compile every card afresh and keep no cache.")]
MathJax = Annotated[
    str | None,
    typer.Option(
        "--mathjax", help="MathJax 3 to load: tex-chtml-full.js as a file, its folder or a URL (default: a local copy)."
    ),
]
CacheDir = Annotated[
    Path, typer.Option("--cache-dir", help="Build cache: compiled cards (safe to delete; keep it out of git).")
]
Variants = Annotated[
    int | None,
    typer.Option("--variants", min=0, max=MAX_VARIANTS, help="Drawn variants per numeric card (overrides deck.yaml)."),
]


P = ParamSpec("P")
R = TypeVar("R")


def _guarded(command: Callable[P, R]) -> Callable[P, R]:
    """The last guard: an exception nobody expected (a bug) ends the command with one line naming
    the input it met, and exit status 1, never a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise  # typer's own ways out (usage errors are raised before a command runs)
        except Exception as exc:
            from ankismith.errors import InternalError

            if not isinstance(exc, InternalError):
                decks = kwargs.get("decks") or [Path(".") if Path("deck.yaml").is_file() else Path("decks")]
                where = ", ".join(Path(str(d)).as_posix() for d in decks) if "decks" in kwargs else "ankismith"
                exc = InternalError(where, 0, f"{type(exc).__name__}: {exc}", "deck" if len(decks) == 1 else "decks")
            err.print(str(exc), markup=False)
            raise typer.Exit(1) from None

    return run


def _fail(exc: DeckErrors) -> typer.Exit:
    """Print the errors, with the warnings among them in file and line order, and say nothing was written."""
    problems = sorted(
        [(e.path, e.line, 1, str(e)) for e in exc.errors]
        + [(w.path, w.line, 0, f"{w} (warning)") for w in exc.warnings]
    )
    for _, _, is_error, text in problems:
        err.print(text, markup=False, style=None if is_error else "yellow")
    count = len(exc.errors)
    err.print(f"{counted(count, 'error')}; nothing was written.", markup=False, style="red")
    return typer.Exit(1)


def _cannot_write(exc: OSError, output: Path) -> typer.Exit:
    """An output folder that cannot be written (not writable, a file in the way, a full disk): one line."""
    err.print(f"{exc.filename or output}: cannot write: {exc.strerror or exc}", markup=False)
    return typer.Exit(1)


def _warn(warnings: tuple[SourceError, ...]) -> None:
    for warning in warnings:
        err.print(f"{warning} (warning)", markup=False, style="yellow")


def _all_notes(count: int) -> str:
    """What Anki adds when every GUID of a deck changed."""
    return f"all {count} notes as new notes" if count != 1 else "its 1 note as a new note"


def _source_search(key: str) -> str:
    """An Anki browser search for the note of card `key`: its Source field ends in '· key'."""
    escaped = key.replace("\\", "\\\\").replace('"', '\\"').replace("*", "\\*").replace("_", "\\_")
    return f'"Source:* · {escaped}"'


class _ProgressBar:
    """A rich progress bar on stderr that appears only once a build has run for about a second.

    It redraws from `update` itself, with no refresh thread: the build forks worker processes,
    and forking while another thread holds a lock can hang the child.
    """

    DELAY = 1.0

    def __init__(self) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> _ProgressBar:
        return self

    def update(self, done: int, total: int) -> None:
        """Show `done` of `total` (once the delay has passed, and only on a terminal)."""
        if self._bar is None:
            if self._clock() - self._start < self.DELAY or not err.is_terminal:
                return
            from rich.progress import Progress

            self._bar = Progress(console=err.console, transient=True, auto_refresh=False)
            self._bar.start()
            self._task = self._bar.add_task("compiling cards", total=total)
        self._bar.update(self._task, completed=done, refresh=True)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _no_decks(paths: list[Path] | None) -> typer.Exit | None:
    if paths:
        return None
    from ankismith.pipeline.run import find_decks

    if not find_decks([]):
        err.print(
            "no decks: pass deck folders, or run in a deck folder (one with a deck.yaml), or where "
            "./decks/<name>/deck.yaml exists",
            markup=False,
        )
        return typer.Exit(1)
    return None


@app.command()
@_guarded
def build(
    decks: DeckDirs = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the .apkg files.")] = Path("dist"),
    seed: Seed = None,
    variants: Variants = None,
    cache: CacheDir = Path(CACHE_DIR),
    no_cache: NoCache = False,
    new_id: Annotated[
        bool,
        typer.Option(
            "--new-id",
            help="Accept a deck id that differs from the one in ankismith.lock: every note becomes a new note in "
            "Anki (the old notes and their review history stay as they are).",
        ),
    ] = False,
) -> None:
    """Build DIR/<deck id>.apkg for each deck."""
    if (stop := _no_decks(decks)) is not None:
        raise stop
    from ankismith.pipeline.run import DeckErrors
    from ankismith.pipeline.run import build as run_build

    with _ProgressBar() as progress:
        try:
            written, warnings = run_build(
                decks or [],
                output,
                seed,
                variants,
                cache_dir=None if no_cache else cache,
                on_progress=progress.update,
                new_id=new_id,
            )
        except DeckErrors as exc:
            raise _fail(exc) from None
        except OSError as exc:  # the output folder: not writable, a file in the way, a full disk
            raise _cannot_write(exc, output) from None
    _warn(warnings)
    for item in written:
        _report(item)


def _report(item: Written) -> None:
    """What a build wrote, and what changed: counted against ankismith.lock, never against a collection."""
    from ankismith.package.lock import BASELINE_LOCK, BASELINE_NONE
    from ankismith.rules import LOCK_NAME

    report = item.report
    state = " (up to date)" if item.skipped else ""
    if report.baseline == BASELINE_LOCK and report.old_id is None:
        out.print(
            f"{item.path}{state}: {counted(item.note_count, 'note')} ({len(report.added)} added, "
            f"{len(report.updated)} updated, {len(report.unchanged)} unchanged since the last build, as recorded in "
            f"{LOCK_NAME}), {counted(item.media_count, 'media file')}",
            markup=False,
        )
    else:
        out.print(
            f"{item.path}{state}: {counted(item.note_count, 'note')}, {counted(item.media_count, 'media file')}",
            markup=False,
        )
    if report.old_id is not None:
        was = f"was {report.old_id!r} in {LOCK_NAME}" if report.old_id else f"{LOCK_NAME}'s notes had another id"
        out.print(
            f"  new deck id {item.config.id!r} ({was}; confirmed with --new-id): Anki will add "
            f"{_all_notes(item.note_count)}; the notes made under the old id stay in your collection with "
            "their review history (delete them there if you no longer want them)",
            markup=False,
        )
    elif report.baseline == BASELINE_NONE:
        out.print(
            f"  no {LOCK_NAME} before this build (a first build, or a copy of the deck without it), so no changes "
            "to count: Anki adds the notes it does not have and updates the ones it has (found by GUID, review "
            f"history kept). {LOCK_NAME} is written now: commit it with the deck",
            markup=False,
        )
    elif report.baseline != BASELINE_LOCK:
        out.print(
            f"  {LOCK_NAME} was unreadable, so no changes to count: every note gets a new modification time and "
            f"Anki updates the ones it has (edits made to them inside Anki are replaced). {LOCK_NAME} is written "
            "afresh now",
            markup=False,
        )
    if report.models_changed and report.baseline == BASELINE_LOCK:
        out.print(f"  note types changed: {', '.join(report.models_changed)}", markup=False)
    # Anki's importer replaces the tags of every note it updates: say so whenever it will update some
    updated = len(report.updated)
    which = f"the {updated} updated note{'s' if updated != 1 else ''}" if updated else "every note it updates"
    if (updated or report.baseline != BASELINE_LOCK) and report.old_id is None and item.note_count:
        out.print(
            f"  importing replaces the tags of {which} with the sources' (Anki's importer does: your own tags on "
            "them, marked and leech too, are lost); `ankismith push` updates them and keeps your tags",
            markup=False,
        )
    if report.removed and report.old_id is None:
        keys = ", ".join(key for key, _ in report.removed)
        searches = " or ".join(_source_search(key) for key, _ in report.removed)
        out.print(
            f"  gone from the sources but kept by Anki: {keys}\n  find them in Anki's browser with: {searches}",
            markup=False,
        )
    if item.overrides and (report.added or report.updated or report.removed):
        out.print(
            f"  one-off build with {', '.join(item.overrides)}: {LOCK_NAME} now records the notes as this package "
            "holds them (so that Anki's updates stay right); a build without it moves them back, and Anki updates "
            "them again",
            markup=False,
        )


@app.command()
@_guarded
def push(
    decks: DeckDirs = None,
    collection: Annotated[
        Path | None,
        typer.Option("--collection", help="The Anki collection file to push into (a profile's collection.anki2)."),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option("--profile", help="The Anki profile to push into (default: the only one in Anki's data folder)."),
    ] = None,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune",
            help="Delete the notes gone from the sources (only those ankismith.lock's history knows), with their "
            "review history; without it they are tagged ankismith::removed and kept.",
        ),
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would change; write nothing.")] = False,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the .apkg files.")] = Path("dist"),
    cache: CacheDir = Path(CACHE_DIR),
    no_cache: NoCache = False,
) -> None:
    """Build, then apply the decks to an Anki collection (Anki closed), keeping your tags, flags and reviews."""
    if collection is not None and profile is not None:
        err.print("give --collection or --profile, not both", markup=False)
        raise typer.Exit(2)
    if (stop := _no_decks(decks)) is not None:
        raise stop
    from ankismith.pipeline.run import DeckErrors
    from ankismith.push import PushError, anki_missing, closing, describe, find_collection, open_collection
    from ankismith.push import prepare_push as prepare

    if (missing := anki_missing()) is not None:
        err.print(missing, markup=False)
        raise typer.Exit(1)
    try:
        # opened before anything is built: a collection Anki has open stops the push with nothing written
        with open_collection(find_collection(collection, profile)) as route:
            with _ProgressBar() as progress:
                try:
                    prepared = prepare(
                        decks or [], route, output, prune, dry_run, None, None if no_cache else cache, progress.update
                    )
                except DeckErrors as exc:
                    raise _fail(exc) from None
                except OSError as exc:
                    raise _cannot_write(exc, output) from None
            _warn(prepared.warnings)
            for line in describe(prepared):
                out.print(line, markup=False)
            if prepared.plan.problems:
                for problem in prepared.plan.problems:
                    err.print(problem, markup=False)
                err.print(f"{route.where}: nothing was changed", markup=False)
                raise typer.Exit(1)
            if not dry_run and prepared.plan.changes:
                route.apply(prepared.plan)
            out.print(closing(prepared), markup=False)
    except PushError as exc:
        err.print(str(exc), markup=False)
        raise typer.Exit(1) from None


def _compile(
    decks: list[Path] | None,
    cache: Path | None,
    seed: int | None = None,
    variants: int | None = None,
    check: bool = False,
    stress: int = 0,
) -> Compiled:
    """Compile the decks for check, list and export (through the build cache, as build does);
    errors end the command with status 1.

    `check` also checks each deck against its lock (a changed deck id), as `build` will.
    """
    if (stop := _no_decks(decks)) is not None:
        raise stop
    from ankismith.pipeline.run import DeckErrors, check_decks, compile_decks

    try:
        if check:
            compiled = check_decks(decks or [], cache_dir=cache, stress=stress)
        else:
            compiled = compile_decks(decks or [], seed, variants, cache_dir=cache)
    except DeckErrors as exc:
        raise _fail(exc) from None
    _warn(compiled.warnings)
    return compiled


@app.command()
@_guarded
def check(
    decks: DeckDirs = None,
    cache: CacheDir = Path(CACHE_DIR),
    no_cache: NoCache = False,
    stress: Annotated[
        int,
        typer.Option(
            "--stress",
            min=0,
            max=100_000,
            help="Draws of every numeric card for the stress check (0: none); weak cards are warned about.",
        ),
    ] = 200,
) -> None:
    """Validate decks without writing anything but the build cache; every problem as path:line: message."""
    compiled = _compile(decks, None if no_cache else cache, check=True, stress=stress)
    for deck in compiled.decks:
        out.print(f"{deck.config.root.as_posix()}: ok, {counted(len(deck.notes), 'note')}", markup=False)
        if deck.families:
            out.print(f"  ran the deck's own family files: {', '.join(deck.families)}", markup=False)


@app.command(name="list")
@_guarded
def list_decks(decks: DeckDirs = None, cache: CacheDir = Path(CACHE_DIR), no_cache: NoCache = False) -> None:
    """Each deck: name, id, notes by kind."""
    from collections import Counter

    from ankismith.model.cards import Kind

    compiled = _compile(decks, None if no_cache else cache)
    for deck in compiled.decks:
        kinds = Counter(note.kind for note in deck.notes)
        by_kind = ", ".join(f"{kinds[k]} {k}" for k in Kind if kinds[k])
        out.print(
            f"{deck.config.name}  (id: {deck.config.id})  {counted(len(deck.notes), 'note')}: {by_kind or 'none'}",
            markup=False,
        )


@app.command()
@_guarded
def export(
    decks: DeckDirs = None,
    format: Annotated[str, typer.Option("--format", help="Output format: json.")] = "json",  # noqa: A002
    seed: Seed = None,
    variants: Variants = None,
    cache: CacheDir = Path(CACHE_DIR),
    no_cache: NoCache = False,
) -> None:
    """Print the built notes as JSON on stdout."""
    if format != "json":
        err.print(f"unsupported format {format!r}; expected: json", markup=False)
        raise typer.Exit(2)
    compiled = _compile(decks, None if no_cache else cache, seed, variants)
    data = {
        "decks": [
            {"id": d.config.id, "name": d.config.name, "notes": [n.export() for n in d.notes]} for d in compiled.decks
        ]
    }
    # one call of json's C encoder (indent= would take its slow pure-Python one); pipe to jq to read
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")


def _mathjax(given: str | None) -> str | None:
    """The MathJax URL pages load (None: none found); a --mathjax that is not there is bad usage."""
    from ankismith.preview.site import find_mathjax

    found = find_mathjax(given)
    if given and found is None:
        err.print(f"--mathjax {given}: no tex-chtml-full.js there; expected it, its folder or a URL", markup=False)
        raise typer.Exit(2)
    return found


@app.command()
@_guarded
def preview(
    decks: DeckDirs = None,
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the preview site.")] = Path("dist/preview"),
    mathjax: MathJax = None,
    cache: CacheDir = Path(CACHE_DIR),
    no_cache: NoCache = False,
) -> None:
    """Write a static HTML preview of every card, front and back, as Anki shows it."""
    if (stop := _no_decks(decks)) is not None:
        raise stop
    from ankismith.pipeline.run import DeckErrors
    from ankismith.preview.site import write_preview

    found = _mathjax(mathjax)
    try:
        compiled, index = write_preview(decks or [], output, found, None if no_cache else cache)
    except DeckErrors as exc:
        raise _fail(exc) from None
    except OSError as exc:
        raise _cannot_write(exc, output) from None
    _warn(compiled.warnings)
    cards = sum(len(deck.notes) for deck in compiled.decks)
    out.print(
        f"{index}: {counted(len(compiled.decks), 'deck')}, {counted(cards, 'note')}; open it in a browser", markup=False
    )
    if found is None:
        out.print(
            "MathJax not found: math shows as TeX source. For a local copy: "
            "npm install --prefix ~/.cache/ankismith/mathjax-3.2.2 mathjax@3.2.2 (or pass --mathjax)",
            markup=False,
        )


@app.command()
@_guarded
def serve(
    decks: DeckDirs = None,
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port (0: any free one).")] = 8000,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on, and the name pages may use besides the loopback ones "
            "(only this machine by default; see docs/serve.md).",
        ),
    ] = "127.0.0.1",
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the .apkg files.")] = Path("dist"),
    site: Annotated[Path, typer.Option("--site", help="Folder for the preview site.")] = Path("dist/preview"),
    mathjax: MathJax = None,
    cache: CacheDir = Path(CACHE_DIR),
    no_cache: NoCache = False,
) -> None:
    """Serve the preview, rebuild the changed cards and the .apkg on every save, reload the open pages."""
    if (stop := _no_decks(decks)) is not None:
        raise stop
    from ankismith.preview.serve import Server

    found = _mathjax(mathjax)

    def say(line: str, error: bool) -> None:
        (err if error else out).print(line, markup=False)

    try:
        server = Server(decks or [], output, site, found, None if no_cache else cache, host, port, say)
    except OSError as exc:
        err.print(f"cannot listen on {host}:{port}: {exc.strerror or exc}", markup=False)
        raise typer.Exit(1) from None
    server.run()


@app.command()
@_guarded
def problems(decks: DeckDirs = None) -> None:
    """The problem families: built in, of installed packages, and each deck's own (problems/*.py)."""
    from rich.markup import escape

    from ankismith.pipeline.run import find_decks, problem_families

    paths = decks or find_decks([])
    lists, errors = problem_families(paths)
    for listing in lists:
        out.print(f"[bold]{escape(listing.title)}[/bold]" + ("" if listing.families else ": none"))
        for family in listing.families:
            where = f" ({family.origin.path})" if family.origin.kind != "builtin" else ""
            summary = escape(f"{where}: {family.summary or '(no docstring)'}")
            out.print(f"  [bold]{escape(family.name)}[/bold]{summary}", highlight=False)
            for param in family.params:
                out.print(f"      {param.describe()}", markup=False)
            if family.parts:
                out.print(f"      parts: {', '.join(family.parts)} (choose with `ask:`)", markup=False)
            if family.convention:
                out.print(f"      convention: {family.convention}", markup=False)
    out.print("\nOr give `answer:` a formula over the params (+ - * / // % **, sqrt, exp, log, min, max, ...).")
    for error in errors:
        err.print(str(error), markup=False)
    if errors:
        raise typer.Exit(1)


def main() -> None:
    """The `ankismith` command (its console script, and `python -m ankismith`): the app, then an end
    that does not free the heap object by object. A build of a big deck leaves many small objects,
    and the interpreter's teardown frees each of them (about 30 ms for 10,000 notes, a tenth of what
    genanki alone takes to write them), where the system takes the memory back at once. Done
    first: every command has closed its files and the build cache by the time it returns, the
    output is flushed, and the exit handlers run as the interpreter would run them."""
    import atexit
    import os

    status = 0
    try:
        app()
    except SystemExit as exc:
        if isinstance(exc.code, int):
            status = exc.code
        elif exc.code is not None:
            print(exc.code, file=sys.stderr)  # as the interpreter says a SystemExit with a message
            status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass  # a reader that left (`ankismith export | head`)
    atexit._run_exitfuncs()  # logging's, and the finalizers of temporary folders
    os._exit(status)
