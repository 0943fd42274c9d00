"""The stress check of `ankismith check` (issue 18, item 5): many draws of every numeric card, and a
warning at the numeric block's line for a card that gives a student little to practise; warnings
leave the exit status 0, errors make it 1 and stop the check before any draw."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import write_deck
from typer.testing import CliRunner

from ankismith.cli import app

runner = CliRunner()

WEAK = """
## Few answers {#few}

```numeric
answer: a * 2
params: {a: 1..2}
```

Twice {{a}}?

## Mostly zero {#zero}

```numeric
answer: a * (c - 2)
params: {a: 2..50, c: [2, 5]}
```

{{a}} times {{c}} minus 2?

## Shown {#shown}

```numeric
answer: max(a, b)
params: {a: 2..50, b: 2..50}
```

The larger of {{a}} and {{b}}?

## Coinciding mistake {#pairs}

```numeric
problem: pairs
```

Pairs of {{a}} and {{b}}?

## Healthy {#healthy}

```numeric
answer: a * b
params: {a: 2..30, b: 2..30}
```

{{a}} times {{b}}?

## Healthy family {#healthy-family}

```numeric
problem: pairs
params: {b: [3, 4, 5]}
```

Pairs of {{a}} and {{b}}, again?

## Given only {#given}

```numeric
answer: a + 1
given: {a: 1}
```

{{a}} plus one?
"""

# a deck family whose one mistake gives the right answer whenever b is 1: half of its own draws
PAIRS = '''
"""Ordered pairs, counted twice."""

PARAMS = {"a": "2..40", "b": [1, 3]}


def solve(a, b):
    return 2 * a * b


def mistakes(a, b):
    return {"each pair is counted $(b + 1)$ times: $a b (b + 1)$": a * b * (b + 1)}
'''

SIX = """
## Six answers {#six}

```numeric
answer: 7 * a
params: {a: 1..6}
```

Seven times {{a}}?

## Two answers {#two}

```numeric
answer: 7 * a
params: {a: [1, 2]}
```

Seven times {{a}}, again?
"""


def check(deck: Path, *options: str) -> tuple[int, dict[int, list[str]]]:
    """Exit status, and the stress warnings by line of cards.md (the deck's only card file)."""
    result = runner.invoke(app, ["check", str(deck), *options])
    prefix = f"{deck.as_posix()}/cards.md:"
    warnings: dict[int, list[str]] = {}
    for line in result.output.splitlines():
        if "stress check" in line:
            assert line.startswith(prefix) and line.endswith(" (warning)"), line
            number, message = line[len(prefix) : -len(" (warning)")].split(": stress check: ", 1)
            warnings.setdefault(int(number), []).append(message)
    assert "Traceback" not in result.output
    return result.exit_code, warnings


def count(pattern: str, messages: list[str]) -> int:
    """The number the one message matching `pattern` gives (its first group)."""
    found = [m for message in messages if (m := re.fullmatch(pattern, message))]
    assert len(found) == 1, (pattern, messages)
    return int(found[0].group(1))


def test_weak_cards_warn_at_their_block_with_the_reason_and_healthy_ones_do_not(deck_dir: Path) -> None:
    write_deck(deck_dir, {"cards.md": WEAK, "problems/pairs.py": PAIRS})
    status, warnings = check(deck_dir, "--stress", "40")
    assert status == 0
    # each at its ```numeric line; the healthy cards (lines 38 and 47) and the given-only one (56) say nothing
    assert sorted(warnings) == [3, 12, 21, 30]
    assert warnings[3] == ["only 2 distinct answer(s) in 40 draws: a student soon knows them by heart; widen `params:`"]
    zero = count(r"(\d+) of 40 draws are degenerate \(the answer is 0\); narrow them out with `where:`", warnings[12])
    assert 10 < zero < 30 and len(warnings[12]) == 1
    assert warnings[21] == [
        "40 of 40 draws are degenerate (the answer is one of the numbers the question shows); narrow them out "
        "with `where:`"
    ]
    same = count(
        r"the mistake 'each pair is counted \$\(b \+ 1\)\$ times: \$a b \(b \+ 1\)\$' gives the right answer in "
        r"(\d+) of 40 draws: the card cannot tell it apart; draw other values",
        warnings[30],
    )
    assert 10 < same < 30 and len(warnings[30]) == 1


def test_the_stress_count_sets_the_draws(deck_dir: Path) -> None:
    write_deck(deck_dir, {"cards.md": SIX})
    status, default = check(deck_dir)
    assert status == 0
    assert default == {
        12: ["only 2 distinct answer(s) in 200 draws: a student soon knows them by heart; widen `params:`"]
    }  # six answers are enough
    status, few = check(deck_dir, "--stress", "3")
    assert status == 0 and sorted(few) == [3, 12]
    assert count(r"only (\d) distinct answer\(s\) in 3 draws: .*", few[3]) <= 3  # three draws cannot show six
    assert few[12] == ["only 2 distinct answer(s) in 3 draws: a student soon knows them by heart; widen `params:`"]
    assert check(deck_dir, "--stress", "0") == (0, {})


def test_an_error_stops_the_check_before_the_stress_check(deck_dir: Path) -> None:
    write_deck(deck_dir, {"cards.md": WEAK, "problems/pairs.py": PAIRS, "more.md": "## Q {#q}\n- [ ] a\n- [ ] b\n"})
    result = runner.invoke(app, ["check", str(deck_dir), "--stress", "20"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) == 2 and lines[0].startswith(f"{deck_dir.as_posix()}/more.md:2: no correct choice")
    assert lines[1] == "1 error; nothing was written."  # and no stress warning: the check stopped before


def test_the_bundled_deck_gives_no_stress_warning(bundled_copy: Path) -> None:
    result = runner.invoke(app, ["check", str(bundled_copy)])  # the default count, as a teacher runs it
    assert result.exit_code == 0, result.output
    weak = [line for line in result.output.splitlines() if "stress check" in line]
    assert weak == [], "\n".join(weak)


# a family whose `degenerate` (which only the stress check calls) raises for some values
RAISES = '''
"""Three times a number."""

PARAMS = {"x": "1..50"}


def solve(x):
    return 3 * x


def degenerate(x):
    return None if x < 25 else 1 / 0
'''


def test_a_deck_familys_degenerate_that_raises_is_an_error_at_its_line(deck_dir: Path) -> None:
    cards = "## Three {#three}\n\n```numeric\nproblem: three\n```\n\nThree times {{x}}?\n"
    write_deck(deck_dir, {"cards.md": cards, "problems/three.py": RAISES})
    assert runner.invoke(app, ["check", str(deck_dir), "--stress", "0"]).exit_code == 0  # builds never call it
    result = runner.invoke(app, ["check", str(deck_dir), "--stress", "20"])
    assert result.exit_code == 1
    root = deck_dir.as_posix()
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{root}/cards.md:4: numeric block: the family 'three' cannot be used: its file fails at "
        f"{root}/problems/three.py:11"
    )
    assert lines[1].startswith(f"{root}/problems/three.py:11: degenerate() raised ZeroDivisionError: division by zero")
    assert lines[2:] == ["2 errors; nothing was written."]
