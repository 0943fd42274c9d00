"""The problem families a numeric block may name, all loaded through one door (solver/contract.py):
the built-in ones (each topic module under solver/families/, in definition order), those installed
packages offer (entry-point group `ankismith.families`), and a deck's own (its problems/*.py).

A name belongs to one family: a deck's or a package's family that takes a name already taken is an
error at its file. Loading a deck's family runs its code; it is done once per process and file
content, whichever card asks first.
"""

from __future__ import annotations

import types
from collections.abc import Iterable
from functools import cache
from importlib import metadata

from ankismith.model.canon import sha256_hex
from ankismith.model.cards import FAMILY_ENTRY_POINTS, FamilySource
from ankismith.solver.contract import Family, FamilyError, Origin, load_family, load_module
from ankismith.solver.families import (
    activations,
    architecture,
    attention,
    backprop,
    conv,
    dense,
    init,
    losses,
    norm,
    optim,
    pooling,
    schedules,
)

TOPICS: tuple[types.ModuleType, ...] = (
    dense,
    conv,
    architecture,
    optim,
    schedules,
    init,
    norm,
    pooling,
    losses,
    backprop,
    attention,
    activations,
)
ENTRY_POINTS = FAMILY_ENTRY_POINTS


@cache
def builtin() -> dict[str, Family]:
    """The built-in families by name: each class of a topic module that has `solve`."""
    families = {}
    for module in TOPICS:
        origin = Origin("builtin", f"ankismith/solver/families/{module.__name__.rsplit('.', 1)[-1]}.py")
        for name, namespace in vars(module).items():
            if isinstance(namespace, type) and namespace.__module__ == module.__name__ and hasattr(namespace, "solve"):
                families[name] = load_family(namespace, name, origin)
    return families


@cache
def installed() -> tuple[dict[str, Family | FamilyError], tuple[FamilyError, ...]]:
    """The families installed packages offer, and what failed to load of them (an entry point that
    fails stands under its name as its FamilyError, as a deck's family file does: a card naming it
    says why, not that no family has that name)."""
    families: dict[str, Family | FamilyError] = {}
    faults: list[FamilyError] = []
    for point in sorted(metadata.entry_points(group=ENTRY_POINTS), key=lambda p: p.name):
        where = f"{point.value} (entry point {point.name!r} of {point.dist.name if point.dist else 'a package'})"
        if point.name in builtin() or point.name in families:
            faults.append(FamilyError(where, 0, f"the family name {point.name!r} is taken already"))
            continue
        try:
            namespace = point.load()
            file = getattr(namespace, "__file__", "") or getattr(
                __import__(namespace.__module__, fromlist=["_"]), "__file__", ""
            )
            families[point.name] = load_family(namespace, point.name, Origin("package", where, file or ""))
        except FamilyError as exc:
            faults.append(exc)
            families[point.name] = exc
        except (Exception, SystemExit) as exc:  # the package's own code
            faults.append(FamilyError(where, 0, f"loading it raised {type(exc).__name__}: {exc}"))
            families[point.name] = faults[-1]
    return families, tuple(faults)


_LOADED: dict[tuple[str, str], Family | FamilyError] = {}  # a deck's family, by file and content


def _deck_family(source: FamilySource, helpers: tuple[FamilySource, ...]) -> Family:
    memo = (str(source.path), sha256_hex(source.code + b"".join(h.code for h in helpers)))
    if memo not in _LOADED:
        try:
            _LOADED[memo] = load_module(
                source.name, source.code, source.shown, str(source.path), str(source.path.parent)
            )
        except FamilyError as exc:
            _LOADED[memo] = exc
    found = _LOADED[memo]
    if isinstance(found, FamilyError):
        raise found
    return found


def families_for(
    sources: Iterable[FamilySource] = (),
) -> tuple[dict[str, Family | FamilyError], tuple[FamilyError, ...]]:
    """Every family a deck may name (built-in, installed, its own), and the faults of those that fail
    (a deck's family that fails stands under its name as its FamilyError: a card naming it says why)."""
    families: dict[str, Family | FamilyError] = dict(builtin())
    package, faults = installed()
    families.update(package)
    found = list(faults)
    sources = tuple(sources)
    helpers = tuple(s for s in sources if s.helper)
    for source in sources:
        if source.helper:
            continue
        if source.name in families:
            found.append(
                FamilyError(source.shown, 0, f"the family name {source.name!r} is taken already; rename the file")
            )
            continue
        try:
            families[source.name] = _deck_family(source, helpers)
        except FamilyError as exc:
            families[source.name] = exc
            found.append(exc)
    return families, tuple(found)
