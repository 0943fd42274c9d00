"""A push from start to end: build the decks as `build` does, read what the collection holds of
them, plan, and apply the plan through a route. The CLI shows the plan between the two steps
(what --prune deletes is said before it is deleted)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ankismith.errors import SourceError
from ankismith.pipeline.compiler import ProgressCallback
from ankismith.pipeline.run import Pushable, build_for_push
from ankismith.push.plan import PushPlan, plan_push, wanted
from ankismith.push.route import Route


@dataclass(frozen=True)
class Prepared:
    """A push planned: the decks as built, the build's warnings, and what applying changes."""

    built: tuple[Pushable, ...]
    warnings: tuple[SourceError, ...]
    plan: PushPlan
    where: str  # the route's name for the collection
    dry_run: bool = False


def prepare_push(
    paths: Sequence[Path],
    route: Route,
    out_dir: Path,
    prune: bool = False,
    dry_run: bool = False,
    now: int | None = None,
    cache_dir: Path | None = None,
    on_progress: ProgressCallback | None = None,
) -> Prepared:
    """Build the decks (the same .apkg and lock as `build`; a dry run writes nothing), read what
    the collection holds of them and plan the push; raises DeckErrors as `build` does."""
    built, warnings = build_for_push(paths, out_dir, now, cache_dir, on_progress, write=not dry_run)
    snapshot = route.snapshot(*wanted(built))
    return Prepared(tuple(built), warnings, plan_push(built, snapshot, prune), route.where, dry_run)


def push_decks(
    paths: Sequence[Path],
    route: Route,
    out_dir: Path,
    prune: bool = False,
    dry_run: bool = False,
    now: int | None = None,
    cache_dir: Path | None = None,
) -> Prepared:
    """Prepare and apply a push in one call (a dry run applies nothing); PushError when the plan
    has problems or the route refuses it, with nothing changed."""
    from ankismith.push.route import PushError

    prepared = prepare_push(paths, route, out_dir, prune, dry_run, now, cache_dir)
    if prepared.plan.problems:
        raise PushError(prepared.plan.problems[0])
    if not dry_run and prepared.plan.changes:
        route.apply(prepared.plan)
    return prepared
