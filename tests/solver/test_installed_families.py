"""Families of installed packages (entry-point group `ankismith.families`), from a distribution made
in the test's folder: a card uses one as it uses a built-in, `problems` lists it, the build cache
sees an edit of the package, and an entry point that fails or takes a taken name is an error."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_deck
from typer.testing import CliRunner

from ankismith.cli import app
from ankismith.pipeline import compiler
from ankismith.pipeline.cache import code_fingerprint
from ankismith.solver.registry import installed

runner = CliRunner()
PACKAGE = "ankismith_test_fams"
DIST = "ankismith-test-fams"

MECH = '''
"""Work done by a constant force: W = F d."""

PARAMS = {"F": "1..20", "d": "1..10"}


def solve(F, d):
    return F * d
'''

CARDS = """
## Work {#work}

```numeric
problem: work
given: {F: 3, d: 4}
unit: J
```

A force of {{F}} N pushes a box {{d}} m. How much work does it do?
"""


def forget_package() -> None:
    """What a new process starts without: the lru caches of the entry points, and the package's modules."""
    installed.cache_clear()
    code_fingerprint.cache_clear()
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An importable folder holding the package `ankismith_test_fams` (module `mech`) and its
    dist-info; write_entry_points says which families it offers."""
    root = tmp_path / "site"
    (root / PACKAGE).mkdir(parents=True)
    (root / PACKAGE / "__init__.py").write_text("")
    (root / PACKAGE / "mech.py").write_text(MECH.lstrip())
    info = root / f"{PACKAGE}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {DIST}\nVersion: 1.0\n")
    write_entry_points(root, f"work = {PACKAGE}.mech")
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # an edit in the same second is still seen
    monkeypatch.syspath_prepend(str(root))
    forget_package()
    yield root
    forget_package()  # before monkeypatch takes the folder off sys.path: nothing cached from it stays


def write_entry_points(site: Path, *lines: str) -> None:
    (site / f"{PACKAGE}-1.0.dist-info" / "entry_points.txt").write_text(
        "[ankismith.families]\n" + "".join(f"{line}\n" for line in lines)
    )


def exported(deck: Path, cache: Path) -> dict[str, dict[str, object]]:
    result = runner.invoke(app, ["export", str(deck), "--cache-dir", str(cache)])
    assert result.exit_code == 0, result.output
    return {note["key"]: note for note in json.loads(result.stdout)["decks"][0]["notes"]}


def test_a_card_uses_an_installed_family_and_problems_lists_it(site: Path, deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    result = runner.invoke(app, ["build", str(deck_dir), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "test-deck.apkg").is_file()
    note = exported(deck_dir, tmp_path / "cache")["work"]
    assert note["numeric"]["problem"] == "work" and note["numeric"]["answer"] == 12
    assert all(i["answer"] == i["params"]["F"] * i["params"]["d"] for i in note["numeric"]["pool"])

    listing = runner.invoke(app, ["problems"])
    assert listing.exit_code == 0, listing.output
    assert (
        f"Families of installed packages\n  work ({PACKAGE}.mech (entry point 'work' of {DIST})): "
        "Work done by a constant force: W = F d.\n      F: any, drawn from 1..20\n      d: any, drawn from 1..10\n"
    ) in listing.output


def test_an_edited_package_is_not_served_from_the_cache(
    site: Path, deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_deck(deck_dir, {"cards.md": CARDS})
    cache = tmp_path / "cache"
    assert exported(deck_dir, cache)["work"]["numeric"]["answer"] == 12
    rendered: list[str] = []
    real = compiler.render_notes
    monkeypatch.setattr(compiler, "render_notes", lambda card, *a: rendered.append(card.key) or real(card, *a))
    forget_package()
    assert exported(deck_dir, cache)["work"]["numeric"]["answer"] == 12
    assert rendered == []  # unchanged: the card comes from the cache

    (site / PACKAGE / "mech.py").write_text(MECH.lstrip().replace("return F * d", "return F * d * 10"))
    forget_package()  # as a new process would start
    assert exported(deck_dir, cache)["work"]["numeric"]["answer"] == 120
    assert rendered == ["work"]


def test_an_entry_point_with_a_built_in_name_is_an_error(site: Path, deck_dir: Path, tmp_path: Path) -> None:
    write_entry_points(site, f"work = {PACKAGE}.mech", f"conv2d = {PACKAGE}.mech")
    forget_package()
    write_deck(deck_dir, {"cards.md": CARDS})
    message = f"{PACKAGE}.mech (entry point 'conv2d' of {DIST}): the family name 'conv2d' is taken already"
    listing = runner.invoke(app, ["problems"])
    assert listing.exit_code == 1 and message in listing.output.splitlines()
    result = runner.invoke(app, ["build", str(deck_dir), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.output.splitlines() == [message, "1 error; nothing was written."]
    assert not (tmp_path / "out").exists()


def test_an_entry_point_that_fails_to_import_is_an_error_naming_it(site: Path, deck_dir: Path, tmp_path: Path) -> None:
    write_entry_points(site, f"work = {PACKAGE}.mech", f"gas = {PACKAGE}.gas")
    (site / PACKAGE / "gas.py").write_text('"""Ideal gas."""\n\nimport ankismith_no_such_module\n')
    forget_package()
    where = f"{PACKAGE}.gas (entry point 'gas' of {DIST})"
    message = f"{where}: loading it raised ModuleNotFoundError: No module named 'ankismith_no_such_module'"
    listing = runner.invoke(app, ["problems"])
    assert listing.exit_code == 1 and message in listing.output.splitlines()
    assert "  work (" in listing.output  # the others are listed still

    write_deck(deck_dir, {"cards.md": CARDS + CARDS.replace("work", "gas", 2)})
    result = runner.invoke(app, ["build", str(deck_dir), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1
    root = deck_dir.as_posix()
    assert result.output.splitlines() == [
        f"{root}/cards.md:14: numeric block: the family 'gas' cannot be used: its file fails at {where}",
        message,
        "2 errors; nothing was written.",
    ]
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()
