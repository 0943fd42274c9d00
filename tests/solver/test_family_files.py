"""A deck's own family files through the command line: each fault of a family file is an error at
that file's exact line and at the numeric block that names it, exit status 1, no traceback, nothing
written; `problems` lists the deck's families and `check` says which family files it ran."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_deck
from typer.testing import CliRunner

from ankismith.cli import app

runner = CliRunner()


def run(*args: str) -> object:
    return runner.invoke(app, list(args))


GOOD = '''
"""Twice a number."""

PARAMS = {"x": "1..9"}


def solve(x):
    return 2 * x
'''

CARDS = """
## Intro {#intro}
A plain card.

## Double {#double}

```numeric
problem: twice
given: {x: 2}
```

What is twice {{x}}?
"""
BLOCK_LINE = 7  # the numeric block's `problem: twice` line in CARDS

# name: (the family file twice.py, the line at fault in it, what the error says there)
FAULTS = {
    "import fails": (
        '"""Twice a number."""\n\nimport ankismith_no_such_module\n\n\ndef solve(x):\n    return 2 * x\n',
        3,
        "importing the family file raised ModuleNotFoundError: No module named 'ankismith_no_such_module'",
    ),
    "import raises": (
        '"""Twice a number."""\n\nLIMIT = 1\nSCALE = 2 / (LIMIT - 1)\n\n\ndef solve(x):\n    return 2 * x\n',
        4,
        "importing the family file raised ZeroDivisionError: division by zero",
    ),
    "syntax error": (
        '"""Twice a number."""\n\n\ndef solve(x):\n    return 2 * x +\n',
        5,
        "the family file does not compile: ",
    ),
    "solve raises": (
        '"""Twice a number."""\n\n\ndef solve(x):\n    if x > 1:\n        raise ValueError("x is too large")\n'
        "    return 2 * x\n",
        6,
        "solve() raised ValueError: x is too large (with x=2)",
    ),
    "verify disagrees": (
        '"""Twice a number."""\n\n\ndef solve(x):\n    return 2 * x\n\n\ndef verify(x):\n    return x + 3\n',
        8,
        "verify() disagrees with solve(): answer 4 vs 5 (with x=2)",
    ),
    "false worked step": (
        '"""Twice a number."""\n\n\ndef solve(x):\n    return 2 * x\n\n\ndef steps(x):\n'
        '    return [rf"2 \\cdot {x} = {2 * x + 1}"]\n',
        8,
        "steps() writes a false step: false: 2 \\cdot 2 = 5 (4 vs 5) (with x=2)",
    ),
    "exit at import": (
        '"""Twice a number."""\n\nimport sys\n\nsys.exit("no GPU here")\n\n\ndef solve(x):\n    return 2 * x\n',
        5,
        "importing the family file raised SystemExit: no GPU here",
    ),
    "solve exits": (
        '"""Twice a number."""\n\nimport sys\n\n\ndef solve(x):\n    sys.exit(3)\n',
        7,
        "solve() raised SystemExit: 3 (with x=2)",
    ),
    "PARAMS names a param solve does not take": (
        '"""Twice a number."""\n\nPARAMS = {"x": "1..9", "y": "1..3"}\n\n\ndef solve(x):\n    return 2 * x\n',
        3,
        "PARAMS names y, but solve() takes no such param",
    ),
}


def built(deck: Path, out: Path) -> dict[str, bytes]:
    """Every file a build leaves in the output folder and the deck's lock, by name, with its bytes."""
    found = {p.name: p.read_bytes() for p in out.iterdir()} if out.is_dir() else {}
    lock = deck / "ankismith.lock"
    if lock.is_file():
        found["ankismith.lock"] = lock.read_bytes()
    return found


@pytest.mark.parametrize("fault", FAULTS)
def test_a_faulty_family_file_is_an_error_at_its_line_and_at_the_block(
    fault: str, deck_dir: Path, tmp_path: Path
) -> None:
    write_deck(deck_dir, {"cards.md": CARDS, "problems/twice.py": GOOD})
    out = tmp_path / "out"
    first = run("build", str(deck_dir), "-o", str(out))
    assert first.exit_code == 0, first.output
    before = built(deck_dir, out)
    assert set(before) == {"test-deck.apkg", "ankismith.lock"}

    code, line, message = FAULTS[fault]
    (deck_dir / "problems" / "twice.py").write_text(code, encoding="utf-8")
    result = run("build", str(deck_dir), "-o", str(out))
    root = deck_dir.as_posix()
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    at_file = [text for text in lines if text.startswith(f"{root}/problems/twice.py:")]
    assert len(at_file) == 1 and at_file[0].startswith(f"{root}/problems/twice.py:{line}: {message}"), lines
    assert (
        f"{root}/cards.md:{BLOCK_LINE}: numeric block: the family 'twice' cannot be used: its file fails at "
        f"{root}/problems/twice.py:{line}"
    ) in lines
    assert lines[-1] == "2 errors; nothing was written."
    assert "Traceback" not in result.output
    assert built(deck_dir, out) == before  # the last good package and lock, byte for byte


def test_a_faulty_family_file_on_a_first_build_writes_nothing(deck_dir: Path, tmp_path: Path) -> None:
    code, line, message = FAULTS["solve raises"]
    write_deck(deck_dir, {"cards.md": CARDS, "problems/twice.py": code})
    out = tmp_path / "out"
    result = run("build", str(deck_dir), "-o", str(out))
    assert result.exit_code == 1
    assert f"{deck_dir.as_posix()}/problems/twice.py:{line}: {message}" in result.output.splitlines()
    assert not out.exists() and not (deck_dir / "ankismith.lock").exists()


def test_a_family_file_named_as_a_built_in_family_is_an_error(deck_dir: Path, tmp_path: Path) -> None:
    cards = (
        CARDS.replace("problem: twice", "problem: conv_output_size")
        .replace("given: {x: 2}", "given: {W: 5, F: 3}")
        .replace("twice {{x}}", "the output width for {{W}} and {{F}}")
    )
    write_deck(deck_dir, {"cards.md": cards, "problems/twice.py": GOOD})
    out = tmp_path / "out"
    first = run("build", str(deck_dir), "-o", str(out))
    assert first.exit_code == 0, first.output
    before = built(deck_dir, out)

    write_deck(deck_dir, {"problems/conv_output_size.py": GOOD})
    result = run("build", str(deck_dir), "-o", str(out))
    assert result.exit_code == 1
    root = deck_dir.as_posix()
    assert result.output.splitlines() == [
        f"{root}/problems/conv_output_size.py: the family name 'conv_output_size' is taken already; rename the file",
        "1 error; nothing was written.",
    ]
    assert built(deck_dir, out) == before


def test_a_family_file_no_card_names_is_still_run_and_checked(deck_dir: Path, tmp_path: Path) -> None:
    code, line, message = FAULTS["import fails"]
    write_deck(deck_dir, {"cards.md": CARDS, "problems/twice.py": GOOD, "problems/unused.py": code})
    result = run("build", str(deck_dir), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{deck_dir.as_posix()}/problems/unused.py:{line}: {message}",
        "1 error; nothing was written.",
    ]


BARE = "def solve(a, b=2):\n    return a + b\n"
HELPER = "FACTOR = 2\n"
WITH_HELPER = (
    '"""Twice a number, the factor from a helper.\n\nMore lines.\n"""\n\n'
    "import _util\n\n\ndef solve(x):\n    return _util.FACTOR * x\n"
)


def test_problems_lists_the_decks_own_families(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {"cards.md": CARDS, "problems/twice.py": WITH_HELPER, "problems/bare.py": BARE, "problems/_util.py": HELPER},
    )
    result = run("problems", str(deck_dir))
    assert result.exit_code == 0, result.output
    root = deck_dir.as_posix()
    text = result.output
    assert "Built-in families\n  dense_params: " in text
    own = text[text.index(f"Families of {root} (its problems/ folder)\n") :].splitlines()
    assert own[:6] == [
        f"Families of {root} (its problems/ folder)",
        f"  bare ({root}/problems/bare.py): (no docstring)",
        "      a: any",
        "      b: any, default 2",
        f"  twice ({root}/problems/twice.py): Twice a number, the factor from a helper.",
        "      x: any",
    ]
    assert "_util" not in text  # a helper, not a family


def test_problems_lists_the_good_families_and_fails_at_a_bad_one(deck_dir: Path) -> None:
    code, line, message = FAULTS["syntax error"]
    write_deck(deck_dir, {"cards.md": CARDS, "problems/twice.py": GOOD, "problems/broken.py": code})
    result = run("problems", str(deck_dir))
    assert result.exit_code == 1
    root = deck_dir.as_posix()
    assert f"  twice ({root}/problems/twice.py): Twice a number.\n      x: any, drawn from 1..9\n" in result.output
    assert f"{root}/problems/broken.py:{line}: {message}" in result.output
    assert "broken (" not in result.output and "Traceback" not in result.output


def test_check_says_which_family_files_it_ran(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"cards.md": CARDS, "problems/twice.py": GOOD, "problems/bare.py": BARE})
    other = write_deck(tmp_path / "plain", {"a.md": "## Q\nA\n"}, "name: Plain\nid: plain\n")
    result = run("check", str(deck_dir), str(other), "--stress", "0")
    assert result.exit_code == 0, result.output
    root = deck_dir.as_posix()
    assert result.output.splitlines() == [
        f"{root}: ok, 2 notes",
        f"  ran the deck's own family files: {root}/problems/bare.py, {root}/problems/twice.py",
        f"{other.as_posix()}: ok, 1 note",
    ]
