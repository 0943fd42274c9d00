"""Shared helpers: write small decks, build them, import them into a real Anki collection."""

from __future__ import annotations

import os
import shutil
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from ankismith.render.pool import without_pool  # noqa: F401 (the tests' helper too)

# CI runs the property and fuzz tests with fixed examples, so that its verdict does not depend on
# luck; locally they explore new examples every run (and remember failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "decks" / "dl-midterm"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", help="rewrite tests/render/golden/*.html from the renderer"
    )


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run every test in its own folder, so that default paths (dist/, .ankismith-cache/) stay there."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def write_deck(root: Path, files: dict[str, str | bytes], deck_yaml: str | None = None) -> Path:
    """A deck folder with a deck.yaml (a default one unless given) and the given files."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "deck.yaml").write_text(deck_yaml if deck_yaml is not None else 'name: "Test Deck"\nid: test-deck\n')
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture
def deck_dir(tmp_path: Path) -> Path:
    return tmp_path / "deck"


@pytest.fixture
def bundled_copy(tmp_path: Path) -> Path:
    """The bundled deck, copied so that builds do not touch the repository's lock file."""
    target = tmp_path / "dl-midterm"
    shutil.copytree(BUNDLED, target)
    return target


@pytest.fixture
def anki_collection(tmp_path: Path) -> Iterator[object]:
    from anki.collection import Collection

    col = Collection(str(tmp_path / "collection.anki2"))
    try:
        yield col
    finally:
        col.close()


def import_apkg(col: object, apkg: Path, **options: object) -> object:
    """Import with Anki's own importer; options as Anki's import dialog (defaults: 'if newer')."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(
        package_path=str(apkg),
        options=ImportAnkiPackageOptions(
            with_scheduling=bool(options.get("with_scheduling", False)),
            with_deck_configs=False,
            merge_notetypes=bool(options.get("merge_notetypes", False)),
            update_notes=options.get("update_notes", 0),  # 0: if newer
            update_notetypes=options.get("update_notetypes", 0),
        ),
    )
    return col.import_anki_package(request)  # type: ignore[attr-defined]


def notes_by_key(col: object) -> dict[str, object]:
    """Every note of the collection, keyed by the card key shown in its Source field."""
    result = {}
    for nid in col.find_notes(""):  # type: ignore[attr-defined]
        note = col.get_note(nid)  # type: ignore[attr-defined]
        key = note["Source"].rsplit(" · ", 1)[1]
        result[key] = note
    return result


def review_all(col: object) -> int:
    """Answer every due card 'good' with Anki's scheduler; returns how many were answered."""
    col.decks.select(col.decks.id_for_name("Test Deck"))  # type: ignore[attr-defined]
    answered = 0
    while (queued := col.sched.get_queued_cards(fetch_limit=1)).cards:  # type: ignore[attr-defined]
        card = col.get_card(queued.cards[0].card.id)  # type: ignore[attr-defined]
        card.start_timer()
        states = col._backend.get_scheduling_states(card.id)  # type: ignore[attr-defined]
        col.sched.answer_card(col.sched.build_answer(card=card, states=states, rating=3))  # type: ignore[attr-defined]
        answered += 1
    return answered


def bundled_summary(deck: Path = BUNDLED) -> tuple[int, str]:
    """The bundled deck's card count and the preview's count line ("34 cards: 8 basic, 16 numeric"),
    from the deck itself: practice cards come and go."""
    from collections import Counter

    from ankismith.pipeline.run import compile_decks

    notes = compile_decks([deck]).decks[0].notes
    kinds = Counter(str(note.kind) for note in notes)
    parts = ", ".join(f"{kinds[k]} {k}" for k in ("basic", "cloze", "choice", "numeric") if kinds[k])
    return len(notes), f"{len(notes)} cards: {parts}"


def collection_rows(col: object) -> dict[str, list[tuple[object, ...]]]:
    """Everything a push could change in a collection, row by row (read with SELECTs): notes,
    cards with their scheduling and flags, the review log, decks and note types."""
    queries = {
        "notes": "select id, guid, mid, mod, usn, tags, flds from notes order by id",
        "cards": "select id, nid, did, ord, mod, usn, type, queue, due, ivl, factor, reps, lapses, left, odue, odid,"
        " flags, data from cards order by id",
        "revlog": "select * from revlog order by id",
        "decks": "select id, name, mtime_secs from decks order by id",
        "notetypes": "select id, name, mtime_secs from notetypes order by id",
    }
    return {name: [tuple(row) for row in col.db.all(sql)] for name, sql in queries.items()}  # type: ignore[attr-defined]


@pytest.fixture
def collection_path(tmp_path: Path) -> Path:
    """An empty collection file, closed (push opens it itself)."""
    from anki.collection import Collection

    path = tmp_path / "profile" / "collection.anki2"
    path.parent.mkdir()
    Collection(str(path)).close()
    return path
