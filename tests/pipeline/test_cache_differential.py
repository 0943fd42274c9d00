"""A cached build equals a `--no-cache` build, whatever changed: every field of every value the cache
keys on, changed in the sources one at a time (the property test), and seeded sequences of the edits
a user makes (the differential test). Two copies of a deck take the same edits; one is built through
the cache, the other without; their packages (notes, note types, decks, media), reports and exports
must be equal after every step."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import shutil
import sqlite3
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import write_deck

from ankismith.model.cards import Card, DeckConfig, FamilySource, SourceFile
from ankismith.pipeline.run import build, compile_decks

PNG_A = b"\x89PNG\r\n\x1a\n" + b"A" * 24
PNG_B = b"\x89PNG\r\n\x1a\n" + b"B" * 24  # the same size: replaced under the same name

DECK_YAML = """\
name: "Cache::Deck"
id: cache-deck
description: "A deck"
tags: [t1]
seed: 1
variants: 2
fresh: true
type_answer: true
"""

CARDS = """\
---
subdeck: Sub
tags: [ft]
---

## Basic question {#basic tags="b1"}

Above the line.

???

The answer, with ![fig](media/fig.png).

## Cloze {#cloze}

A {{c1::cloze}} card.

## Choice {#choice}

- [ ] wrong
- [x] right

???

Because.

## Numeric {#num}

```numeric
problem: conv_output_size
given: {W: 7, F: 3, P: 2, S: 2}
params: {W: 5..9}
tolerance: 0.01
unit: px
```

A {{W}} map, a {{F}} filter: size? {{answer}}

## Own family {#own}

```numeric
problem: area
given: {a: 2, b: 3}
params: {a: 1..9}
```

Area of {{a}} by {{b}}?

## Several parts {#parts}

```numeric
problem: rmsprop_step
given: {x: 1, grad: 0.5, s: 0, lr: 0.01}
ask: [s, x]
```

RMSprop from {{x}} with gradient {{grad}}: s and x?

## Attention {#attention}

```numeric
problem: attention_scores
given: {Q: [[1, 0], [0, 1]], K: [[1, 1], [0, 2]], scaled: true}
ask: weights
```

Weights of {{Q}} against {{K}}?
"""

FAMILY = '''"""Area of a rectangle."""


def solve(a, b):
    return a * b


def mistakes(a, b):
    return {"the perimeter is given: $2(a + b)$": 2 * (a + b)}
'''


def make_deck(root: Path) -> Path:
    write_deck(root, {"cards.md": CARDS, "problems/area.py": FAMILY}, DECK_YAML)
    (root / "media").mkdir(exist_ok=True)
    (root / "media" / "fig.png").write_bytes(PNG_A)
    (root / "media" / "other.png").write_bytes(PNG_B)
    return root


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- every field of every value the cache keys on: a change in the sources that changes it --------

Change = Callable[[Path], None]

FIELD_CHANGES: dict[tuple[type, str], Change] = {
    (DeckConfig, "name"): lambda r: edit(r, "deck.yaml", '"Cache::Deck"', '"Cache::Renamed"'),
    (DeckConfig, "id"): lambda r: edit(r, "deck.yaml", "id: cache-deck", "id: cache-deck-2"),
    (DeckConfig, "root"): lambda r: None,  # the folder itself: see test_a_moved_deck_folder
    (DeckConfig, "description"): lambda r: edit(r, "deck.yaml", '"A deck"', '"Another deck"'),
    (DeckConfig, "tags"): lambda r: edit(r, "deck.yaml", "tags: [t1]", "tags: [t1, t2]"),
    (DeckConfig, "seed"): lambda r: edit(r, "deck.yaml", "seed: 1", "seed: 2"),
    (DeckConfig, "variants"): lambda r: edit(r, "deck.yaml", "variants: 2", "variants: 3"),
    (DeckConfig, "review"): lambda r: edit(r, "deck.yaml", "fresh: true", "fresh: false"),
    (DeckConfig, "id_line"): lambda r: edit(r, "deck.yaml", "id: cache-deck", "# the id\nid: cache-deck"),
    ("Review", "fresh"): lambda r: edit(r, "deck.yaml", "fresh: true", "fresh: false"),
    ("Review", "type_answer"): lambda r: edit(r, "deck.yaml", "type_answer: true", "type_answer: false"),
    ("Review", "tolerance"): lambda r: edit(r, "cards.md", "tolerance: 0.01", "tolerance: 0.02"),
    (SourceFile, "path"): lambda r: (r / "cards.md").rename(r / "renamed.md"),
    (SourceFile, "inner"): lambda r: (r / "cards.md").rename(r / "zz.md"),
    (SourceFile, "shown"): lambda r: (r / "cards.md").rename(r / "shown.md"),
    (Card, "key"): lambda r: edit(r, "cards.md", "{#cloze}", "{#cloze2}"),
    (Card, "kind"): lambda r: edit(r, "cards.md", "A {{c1::cloze}} card.", "A plain card."),
    (Card, "heading"): lambda r: edit(r, "cards.md", "## Basic question", "## Basic question, edited"),
    (Card, "question"): lambda r: edit(r, "cards.md", "Above the line.", "Above the line, edited."),
    (Card, "answer"): lambda r: edit(r, "cards.md", "The answer, with", "The answer, edited, with"),
    (Card, "file"): lambda r: (r / "cards.md").rename(r / "b.md"),
    (Card, "line"): lambda r: edit(r, "cards.md", "## Basic question", "Some notes above.\n\n## Basic question"),
    (Card, "subdeck"): lambda r: edit(r, "cards.md", "subdeck: Sub", "subdeck: Other"),
    (Card, "tags"): lambda r: edit(r, "cards.md", 'tags="b1"', 'tags="b1 b2"'),
    (Card, "choices"): lambda r: edit(r, "cards.md", "- [x] right", "- [x] right\n- [ ] third"),
    (Card, "numeric"): lambda r: edit(r, "cards.md", "params: {W: 5..9}", "params: {W: 5..12}"),
    (Card, "placeholders"): lambda r: edit(r, "cards.md", "a {{F}} filter", "a {{P}} padding"),
    (Card, "images"): lambda r: edit(r, "cards.md", "media/fig.png", "media/other.png"),
    ("Choice", "text"): lambda r: edit(r, "cards.md", "- [ ] wrong", "- [ ] wrong, edited"),
    ("Choice", "correct"): lambda r: edit(r, "cards.md", "- [ ] wrong", "- [x] wrong"),
    ("Choice", "line"): lambda r: edit(r, "cards.md", "## Choice {#choice}\n", "## Choice {#choice}\nWhich one?\n"),
    ("ImageRef", "src"): lambda r: edit(r, "cards.md", "(media/fig.png)", "(./media/fig.png)"),
    ("ImageRef", "line"): lambda r: edit(r, "cards.md", "The answer, with", "The answer,\nwith"),
    ("NumericBlock", "spec"): lambda r: edit(
        r, "cards.md", "given: {W: 7, F: 3, P: 2, S: 2}", "given: {W: 9, F: 3, P: 2, S: 2}"
    ),
    ("NumericBlock", "line"): lambda r: edit(r, "cards.md", "## Numeric {#num}\n", "## Numeric {#num}\nIntro.\n"),
    ("NumericBlock", "key_lines"): lambda r: edit(
        r, "cards.md", "tolerance: 0.01\nunit: px", "unit: px\ntolerance: 0.01"
    ),
    ("NumericBlock", "review"): lambda r: edit(r, "cards.md", "tolerance: 0.01", "tolerance: 0.01\ntype_answer: false"),
    ("NumericBlock", "unit"): lambda r: edit(r, "cards.md", "unit: px", "unit: pixels"),
    ("Placeholder", "name"): lambda r: edit(r, "cards.md", "A {{W}} map", "A {{S}} map"),
    ("Placeholder", "line"): lambda r: edit(
        r, "cards.md", "A {{W}} map, a {{F}} filter", "A {{W}} map,\na {{F}} filter"
    ),
    ("Placeholder", "format"): lambda r: edit(
        r, "cards.md", "Area of {{a}} by {{b}}", "Area of {{a}} by {{b}} ({{b}})"
    ),
    (FamilySource, "name"): lambda r: _rename_family(r),
    (FamilySource, "path"): lambda r: _rename_family(r),
    (FamilySource, "shown"): lambda r: _rename_family(r),
    (FamilySource, "code"): lambda r: edit(r, "problems/area.py", "return a * b", "return a * b + 0"),
}


def _rename_family(root: Path) -> None:
    (root / "problems" / "area.py").rename(root / "problems" / "surface.py")
    edit(root, "cards.md", "problem: area", "problem: surface")


def _fields(kind: type) -> set[tuple[Any, str]]:
    """Every field of `kind` and of the dataclasses its fields hold, recursively, named as above."""
    import typing

    found: set[tuple[Any, str]] = set()
    todo, seen = [kind], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        hints = typing.get_type_hints(current)
        for field in dataclasses.fields(current):
            found.add(
                (current if current in (DeckConfig, SourceFile, Card, FamilySource) else current.__name__, field.name)
            )
            for inner in _dataclasses_in(hints[field.name]):
                todo.append(inner)
    return found


def _dataclasses_in(hint: Any) -> list[type]:
    import typing

    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return [hint]
    return [t for arg in typing.get_args(hint) for t in _dataclasses_in(arg)]


def test_the_changes_cover_every_field_of_every_cached_value() -> None:
    # the values a cache key is made from (pipeline/compiler.py, pipeline/run.py): a field added to any
    # of them must get a change here, or this fails
    wanted = set().union(*(_fields(kind) for kind in (DeckConfig, SourceFile, Card, FamilySource)))
    assert wanted == set(FIELD_CHANGES), (wanted - set(FIELD_CHANGES), set(FIELD_CHANGES) - wanted)


# --- the two builds and what they wrote ------------------------------------------------------------------


class Twins:
    """One deck twice: `cached` built through a cache, `plain` without one."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.cached = make_deck(tmp_path / "a" / "deck")
        self.plain = make_deck(tmp_path / "b" / "deck")
        self.now = 1_000_000

    def change(self, change: Change) -> None:
        for root in (self.cached, self.plain):
            change(root)

    def check(self, what: str) -> None:
        """Build both (the same time, as SOURCE_DATE_EPOCH would make it) and compare everything."""
        self.now += 10
        cached = build(
            [self.cached], self.tmp / "a" / "out", now=self.now, cache_dir=self.tmp / "a" / "cache", new_id=True
        )
        plain = build([self.plain], self.tmp / "b" / "out", now=self.now, new_id=True)
        assert _report(cached) == _report(plain), what
        assert _package(cached[0][0].path) == _package(plain[0][0].path), what
        exported = [n.export() for n in compile_decks([self.cached], cache_dir=self.tmp / "a" / "cache").decks[0].notes]
        assert _relative(exported) == _relative([n.export() for n in compile_decks([self.plain]).decks[0].notes]), what


def _report(result: Any) -> Any:
    written, warnings = result
    item = written[0]
    report = dataclasses.replace(item.report, unchanged=tuple(sorted(item.report.unchanged)))
    return (
        item.note_count,
        item.media_count,
        dataclasses.astuple(report),
        sorted((w.path.split("/deck/")[-1], w.line, w.message) for w in warnings),
    )


def _relative(value: Any) -> Any:
    return json.loads(json.dumps(value).replace("/a/deck", "/X/deck").replace("/b/deck", "/X/deck"))


def _package(apkg: Path) -> Any:
    """Everything Anki reads from a package: notes, cards, note types, decks, media."""
    with zipfile.ZipFile(apkg) as archive:
        collection = archive.read("collection.anki2")
        media_names = json.loads(archive.read("media"))
        media = {name: archive.read(index) for index, name in media_names.items()}
    path = apkg.with_suffix(".check.sqlite")
    path.write_bytes(collection)
    try:
        with sqlite3.connect(path) as db:
            notes = sorted(db.execute("SELECT guid, mid, mod, tags, flds, sfld, csum FROM notes").fetchall())
            cards = sorted(db.execute("SELECT nid, did, ord, mod FROM cards").fetchall())
            models, decks = db.execute("SELECT models, decks FROM col").fetchone()
    finally:
        path.unlink()
    return notes, cards, json.loads(models), json.loads(decks), media


@pytest.fixture
def twins(tmp_path: Path) -> Twins:
    pair = Twins(tmp_path)
    pair.check("the first build")
    return pair


FIELDS = sorted((f for f in FIELD_CHANGES if f != (DeckConfig, "root")), key=lambda f: (str(f[0]), f[1]))


@pytest.mark.parametrize("field", FIELDS, ids=lambda f: f"{getattr(f[0], '__name__', f[0])}.{f[1]}")
def test_a_change_of_any_field_gives_the_build_a_build_without_cache_gives(
    twins: Twins, field: tuple[Any, str]
) -> None:
    twins.change(FIELD_CHANGES[field])
    twins.check(f"after changing {field}")
    twins.check(f"after changing {field}, built again")  # the second build comes from the cache whole


def test_a_moved_deck_folder(twins: Twins) -> None:
    for root in (twins.cached, twins.plain):
        shutil.move(root, root.with_name("moved"))
    twins.cached, twins.plain = twins.cached.with_name("moved"), twins.plain.with_name("moved")
    for root in (twins.cached, twins.plain):
        edit(root, "deck.yaml", "id: cache-deck", "id: cache-deck")  # the id stays: GUIDs stay
    twins.check("after moving the deck folder")


# --- seeded sequences of the edits a user makes --------------------------------------------------------


def _same_second(change: Change) -> Change:
    """An edit of the same size saved within the same second: the mtime put back as it was."""

    def apply(root: Path) -> None:
        stamps = {p: p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()}
        change(root)
        for path, stamp in stamps.items():
            if path.exists():
                os.utime(path, ns=(stamp, stamp))

    return apply


def _user_edits(rng: random.Random) -> list[tuple[str, Change]]:
    """The edits, their values drawn now: both copies of the deck take the very same edit."""
    number = rng.randint(10, 99)
    tolerance = f"tolerance: 0.0{rng.randint(1, 9)}"
    typed = f"type_answer: {rng.choice(['true', 'false'])}"
    asked = rng.choice(["ask: [s, x]", "ask: [x, s]"])
    part = rng.choice(["ask: weights", "ask: scores"])
    scaled = f"scaled: {rng.choice(['true', 'false'])}"
    return [
        (
            "numeric param range",
            lambda r: (
                edit(r, "cards.md", "W: 5..9}", f"W: 5..{number}}}")
                if "W: 5..9}" in (r / "cards.md").read_text()
                else None
            ),
        ),
        ("block tolerance", lambda r: _replace_line(r, "cards.md", "tolerance:", tolerance)),
        ("deck.yaml variants", lambda r: _replace_line(r, "deck.yaml", "variants:", f"variants: {number % 4}")),
        ("deck.yaml seed", lambda r: _replace_line(r, "deck.yaml", "seed:", f"seed: {number}")),
        ("front matter tags", lambda r: _replace_line(r, "cards.md", "tags: [ft", f"tags: [ft, x{number}]")),
        ("answer text", lambda r: _sub(r, "cards.md", r"Because[^.]*\.", f"Because {number}.")),
        ("card tags", lambda r: _sub(r, "cards.md", r'tags="[^"]*"', f'tags="b{number} b1"')),
        ("a key", lambda r: _sub(r, "cards.md", r"\{#choice[^}]*\}", "{#choice-" + str(number) + "}")),
        (
            "image replaced, same size",
            _same_second(
                lambda r: (r / "media" / "fig.png").write_bytes(
                    PNG_B if (r / "media" / "fig.png").read_bytes() == PNG_A else PNG_A
                )
            ),
        ),
        (
            "same-size text edit, same second",
            _same_second(lambda r: _sub(r, "cards.md", r"Above the li(ne|me)", _swap)),
        ),
        (
            "file added",
            lambda r: (r / f"extra{number}.md").write_text(f"## Extra {number} {{#extra{number}}}\nText {number}.\n"),
        ),
        ("file removed", lambda r: [p.unlink() for p in sorted(r.glob("extra*.md"))[:1]]),
        (
            "file renamed",
            lambda r: [p.rename(p.with_name("renamed-" + p.name)) for p in sorted(r.glob("extra*.md"))[:1]],
        ),
        (
            "family edited",
            lambda r: edit(r, "problems/area.py", "return a * b", f"return a * b * {number} // {number}"),
        ),
        ("deck.yaml type_answer", lambda r: _replace_line(r, "deck.yaml", "type_answer:", typed)),
        ("asked parts", lambda r: _replace_line(r, "cards.md", "ask: [s", asked)),
        ("asked part", lambda r: _sub(r, "cards.md", r"ask: (weights|scores)", part)),
        ("yes/no option", lambda r: _sub(r, "cards.md", r"scaled: (true|false)", scaled)),
    ]


def _sub(root: Path, name: str, pattern: str, new: Any) -> None:
    path = root / name
    text = path.read_text(encoding="utf-8")
    assert re.search(pattern, text), (name, pattern)
    path.write_text(re.sub(pattern, new, text, count=1), encoding="utf-8")


def _swap(match: re.Match[str]) -> str:
    return "Above the lime" if match[1] == "ne" else "Above the line"


def _replace_line(root: Path, name: str, start: str, new: str) -> None:
    path = root / name
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(new if line.startswith(start) else line for line in lines), encoding="utf-8")


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_seeded_sequences_of_edits_build_alike_with_and_without_cache(twins: Twins, seed: int) -> None:
    rng = random.Random(seed)
    for step in range(10):
        name, change = rng.choice(_user_edits(rng))
        twins.change(change)
        twins.check(f"seed {seed}, step {step}: {name}")
