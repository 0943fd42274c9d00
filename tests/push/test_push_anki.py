"""`push` against real collections (Anki's own backend): the student's tags, flags, suspended and
buried cards, reviews and edits survive; every change of the sources arrives; nothing is deleted
without --prune; a push is one transaction; push and import give the same notes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import REPO, collection_rows, import_apkg, notes_by_key, review_all, write_deck

from ankismith.model.ids import guid_for
from ankismith.push import REMOVED_TAG, open_collection, push_decks

CARDS = """\
## First {#first tags="alpha"}
First answer.

## Second {#second tags="beta"}
Second answer.

## Third {#third}
Third answer.

## Fourth {#fourth}
Fourth answer.
"""

SUB = """\
---
subdeck: Basics
tags: [sub]
---
## Cloze {#cl}
{{c1::x}} and {{c2::y}}

## Mover {#mover}
Moves with its file.
"""

SCHEDULING = slice(6, 18)  # of a card row: type, queue, due, ivl, factor, reps, lapses, left, odue, odid, flags, data


@pytest.fixture
def deck(deck_dir: Path) -> Path:
    return write_deck(deck_dir, {"cards.md": CARDS, "sub.md": SUB})


def push(deck: Path, collection: Path, now: int | None = None, **options: object) -> object:
    with open_collection(collection) as route:
        return push_decks([deck], route, deck.parent / "dist", now=now, **options)


class Opened:
    """The collection as Anki (the student) opens it between pushes."""

    def __init__(self, path: Path) -> None:
        from anki.collection import Collection

        self.col = Collection(str(path))

    def __enter__(self) -> object:
        return self.col

    def __exit__(self, *exc: object) -> None:
        self.col.close()


def card_of(col: object, note: object, ordinal: int = 0) -> object:
    return next(card for card in note.cards() if card.ord == ordinal)


def deck_of(col: object, card_id: int) -> str:
    return col.decks.name(col.get_card(card_id).did)


def test_the_whole_cycle_keeps_what_is_the_students(deck: Path, collection_path: Path) -> None:
    start = int(time.time())
    first_push = push(deck, collection_path, now=start - 100)
    assert [a.key for a in first_push.plan.decks[0].added] == ["first", "second", "third", "fourth", "cl", "mover"]

    # the student: reviews everything, tags, flags, suspends, buries, moves a card, edits a field
    with Opened(collection_path) as col:
        notes = notes_by_key(col)
        assert {key: n.guid for key, n in notes.items()} == {key: guid_for("test-deck", key) for key in notes}
        assert review_all(col) >= 7
        for key, tags in (("first", ["marked"]), ("second", ["mine", "leech"])):
            notes[key].tags += tags
            col.update_note(notes[key])
        third_card = card_of(col, notes["third"]).id
        col.set_user_flag_for_cards(1, [third_card])
        fourth_card = card_of(col, notes["fourth"]).id
        col.sched.suspend_cards([fourth_card])
        cloze_1, cloze_2 = card_of(col, notes["cl"], 0).id, card_of(col, notes["cl"], 1).id
        col.sched.bury_cards([cloze_1])
        col.set_deck([cloze_2], col.decks.id("My Own"))
        notes["third"]["Back"] = "<p>My own words.</p>"
        col.update_note(notes["third"])
        before = collection_rows(col)
        before_notes = {key: (n.id, n.mod, n.fields, sorted(n.tags)) for key, n in notes_by_key(col).items()}

    # the sources: an answer edited, a note retagged, one removed, one added, a file's subdeck changed
    cards = CARDS.replace("First answer.", "First answer, edited.").replace('tags="beta"', 'tags="gamma"')
    cards = cards.replace("## Fourth {#fourth}\nFourth answer.\n", "") + "\n## Fifth {#fifth}\nFifth answer.\n"
    (deck / "cards.md").write_text(cards)
    (deck / "sub.md").write_text(SUB.replace("Basics", "Fundamentals"))
    later = int(time.time()) + 100  # after everything the student did
    pushed = push(deck, collection_path, now=later)

    plan = pushed.plan.decks[0]
    assert [a.key for a in plan.added] == ["fifth"]
    assert [(u.key, bool(u.fields), u.added_tags, u.removed_tags) for u in plan.updated] == [
        ("first", True, (), ()),
        ("second", False, ("gamma",), ("beta",)),
    ]
    moves = sorted((m.key, m.source, m.target) for m in plan.moved)
    assert moves == [(key, "Test Deck::Basics", "Test Deck::Fundamentals") for key in ("cl", "mover")]
    assert next(m for m in plan.moved if m.key == "cl").card_ids == (cloze_1,)  # not the card the student moved
    assert [g.key for g in plan.marked] == ["fourth"] and not plan.pruned

    with Opened(collection_path) as col:
        after = collection_rows(col)
        notes = notes_by_key(col)
        # reviews: every row as it was
        assert after["revlog"] == before["revlog"] and len(before["revlog"]) >= 7
        # every card that was there is there, with its scheduling, flags, suspension and burial untouched
        cards_after = {row[0]: row for row in after["cards"]}
        for row in before["cards"]:
            assert cards_after[row[0]][SCHEDULING] == row[SCHEDULING]
        assert col.get_card(third_card).user_flag() == 1
        assert col.get_card(fourth_card).queue == -1  # still suspended
        assert col.get_card(cloze_1).queue in (-2, -3)  # still buried
        # the edited note has the sources' answer, and its tags merged: the student's kept, the retag applied
        assert "First answer, edited." in notes["first"]["Back"]
        assert sorted(notes["first"].tags) == ["alpha", "marked"]
        assert sorted(notes["second"].tags) == ["gamma", "leech", "mine"]
        assert notes["second"].fields == list(before_notes["second"][2])
        # notes whose sources did not change: fields (the student's edit too), tags and mod as they were
        for key in ("third", "cl", "mover"):
            assert (notes[key].id, notes[key].mod, notes[key].fields, sorted(notes[key].tags)) == before_notes[key]
        assert notes["third"]["Back"] == "<p>My own words.</p>"
        # removed from the sources: tagged, kept, history kept
        assert REMOVED_TAG in notes["fourth"].tags and notes["fourth"].id == before_notes["fourth"][0]
        # added
        assert notes["fifth"].guid == guid_for("test-deck", "fifth")
        assert deck_of(col, card_of(col, notes["fifth"]).id) == "Test Deck"
        # moved: out of the deck the sources gave before; the card the student moved stays in theirs
        assert deck_of(col, cloze_1) == "Test Deck::Fundamentals"
        assert deck_of(col, card_of(col, notes["mover"]).id) == "Test Deck::Fundamentals"
        assert deck_of(col, cloze_2) == "My Own"
        assert col.note_count() == 7

    # pushing again changes nothing at all
    again = push(deck, collection_path)
    assert not again.plan.changes
    with Opened(collection_path) as col:
        assert collection_rows(col) == after


def test_push_and_import_give_the_same_collection(deck: Path, tmp_path: Path, collection_path: Path) -> None:
    """A fresh collection: push, and the same .apkg imported, give the same notes, cards, decks,
    note types and media (a user may mix both routes)."""
    (deck / "media").mkdir()
    (deck / "media" / "dot.png").write_bytes(bytes.fromhex("89504e470d0a1a0a") + b"\0" * 20)
    (deck / "deck.yaml").write_text('name: "Test Deck"\nid: test-deck\ndescription: "Made by a test"\ntags: [t]\n')
    (deck / "more.md").write_text(
        "## Pick {#pick}\n- [ ] no\n- [x] yes\n\n## Image {#image}\n![a dot](media/dot.png)\n\n"
        "## Step {#step}\n```numeric\nanswer: x * 2\ngiven: {x: 3}\nparams: {x: 1..9}\nvariants: 2\n```\nx = {{x}}\n"
    )
    push(deck, collection_path, now=1_700_000_000)
    imported = tmp_path / "imported" / "collection.anki2"
    imported.parent.mkdir()
    with Opened(imported) as col:
        import_apkg(col, deck.parent / "dist" / "test-deck.apkg")
    with Opened(collection_path) as col:
        pushed = content(col)
    with Opened(imported) as col:
        assert content(col) == pushed
    assert len(pushed["media"]) == 1 and len(pushed["notes"]) == 9


def content(col: object) -> dict[str, object]:
    """What a collection holds, without the ids and times that differ between two collections."""
    from anki.utils import split_fields

    from ankismith.package.models import NOTE_TYPES

    types = []
    for t in NOTE_TYPES.values():
        nt = col.models.get(t.model_id)
        types.append(
            (
                nt["id"],
                nt["name"],
                nt["type"],
                nt["mod"],  # the lock's time, on both routes
                [f["name"] for f in nt["flds"]],
                [(x["name"], x["qfmt"], x["afmt"]) for x in nt["tmpls"]],
                nt["css"],
            )
        )
    decks = sorted((d["name"], d["desc"], d["dyn"]) for d in col.decks.all())
    rows = col.db.all("select id, guid, mid, tags, flds from notes")
    guids = {nid: guid for nid, guid, *_ in rows}
    notes = sorted((guid, mid, sorted(tags.split()), split_fields(flds)) for _, guid, mid, tags, flds in rows)
    cards = sorted(
        (guids[nid], ord_, col.decks.name(did), type_, queue)
        for nid, ord_, did, type_, queue in col.db.all("select nid, ord, did, type, queue from cards")
    )
    return {
        "types": types,
        "decks": decks,
        "notes": notes,
        "cards": cards,
        "media": sorted(os.listdir(col.media.dir())),
    }


def test_import_after_push_and_push_after_import_change_nothing(
    bundled_copy: Path, tmp_path: Path, collection_path: Path
) -> None:
    """Both routes, one after the other, on the bundled deck: no duplicates, nothing updated twice."""
    with open_collection(collection_path) as route:
        push_decks([bundled_copy], route, tmp_path / "dist")
    apkg = tmp_path / "dist" / "dl-midterm.apkg"
    with Opened(collection_path) as col:
        before = collection_rows(col)
        import_apkg(col, apkg)
        after = collection_rows(col)
    assert after["notes"] == before["notes"] and after["cards"] == before["cards"]
    assert after["notetypes"] == before["notetypes"] and [d[:2] for d in after["decks"]] == [
        d[:2] for d in before["decks"]
    ]

    imported = tmp_path / "imported" / "collection.anki2"
    imported.parent.mkdir()
    with Opened(imported) as col:
        import_apkg(col, apkg)
        before = collection_rows(col)
    with open_collection(imported) as route:
        prepared = push_decks([bundled_copy], route, tmp_path / "dist")
    assert not prepared.plan.changes, prepared.plan
    with Opened(imported) as col:
        assert collection_rows(col) == before


def test_a_dry_run_writes_nothing_and_says_exactly_what_the_push_does(deck: Path, collection_path: Path) -> None:
    push(deck, collection_path, now=int(time.time()) - 100)
    (deck / "cards.md").write_text(
        CARDS.replace("Second answer.", "Changed.").replace("## Fourth {#fourth}\nFourth answer.\n", "")
    )
    lock = (deck / "ankismith.lock").read_text()
    package = (deck.parent / "dist" / "test-deck.apkg").read_bytes()
    files = folder_bytes(collection_path.parent)
    later = int(time.time()) + 100
    dry = push(deck, collection_path, now=later, dry_run=True)
    assert folder_bytes(collection_path.parent) == files
    assert (deck / "ankismith.lock").read_text() == lock
    assert (deck.parent / "dist" / "test-deck.apkg").read_bytes() == package
    assert [u.key for u in dry.plan.decks[0].updated] == ["second"] and [g.key for g in dry.plan.decks[0].marked] == [
        "fourth"
    ]
    real = push(deck, collection_path, now=later)
    assert real.plan == dry.plan


def folder_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_prune_deletes_only_notes_gone_from_the_sources(deck: Path, collection_path: Path) -> None:
    push(deck, collection_path, now=int(time.time()) - 100)
    with Opened(collection_path) as col:
        review_all(col)
        # the student's own note in the same deck, and one of ankismith's note type the lock never built
        own = col.new_note(col.models.by_name("Basic"))
        own["Front"], own["Back"] = "mine", "mine"
        col.add_note(own, col.decks.id("Test Deck"))
        stranger = col.new_note(col.models.by_name("ankismith Basic"))
        stranger["Front"], stranger["Source"] = "stranger", "elsewhere.md · stranger"
        col.add_note(stranger, col.decks.id("Test Deck"))
        revlog = collection_rows(col)["revlog"]
    (deck / "cards.md").write_text(CARDS.replace("## Fourth {#fourth}\nFourth answer.\n", ""))
    push(deck, collection_path, now=int(time.time()) + 100)  # tags `fourth`
    (deck / "sub.md").write_text("")  # `cl` and `mover` go too, never tagged before the prune
    pruned = push(deck, collection_path, now=int(time.time()) + 200, prune=True)
    assert sorted(g.key for g in pruned.plan.decks[0].pruned) == ["cl", "fourth", "mover"]
    with Opened(collection_path) as col:
        notes = {n: col.get_note(n) for n in col.find_notes("")}
        fronts = sorted(n.fields[0] for n in notes.values())
        assert "mine" in fronts and "stranger" in fronts
        assert deck_keys(notes) == ["first", "second", "third"]
        assert collection_rows(col)["revlog"] == revlog  # Anki keeps the review log of deleted cards
    assert not push(deck, collection_path, prune=True).plan.changes


def deck_keys(notes: dict[object, object]) -> list[str]:
    """The keys of the notes built from this deck's files (the student's own notes have none)."""
    return sorted(
        n["Source"].rsplit(" · ", 1)[1]
        for n in notes.values()
        if "Source" in n and n["Source"].startswith(("cards.md", "sub.md"))
    )


def test_a_failure_half_way_leaves_the_collection_as_it_was(
    deck: Path, collection_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from anki.collection import Collection

    push(deck, collection_path, now=int(time.time()) - 100)
    with Opened(collection_path) as col:
        before = collection_rows(col)
    change_everything(deck)
    added: list[int] = []

    def fail(self: Collection, *args: object, **kwargs: object) -> None:
        added.append(self.note_count())  # the notes added before, inside the transaction
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(Collection, "set_deck", fail)  # after notes were added and updated
    with pytest.raises(RuntimeError, match="on fire"):
        push(deck, collection_path, now=int(time.time()) + 100)
    assert added == [len(before["notes"]) + 1]
    with Opened(collection_path) as col:
        assert collection_rows(col) == before


def change_everything(deck: Path) -> None:
    """Sources that make a push add, update, move and tag."""
    cards = CARDS.replace("First answer.", "Edited.").replace("## Fourth {#fourth}\nFourth answer.\n", "")
    (deck / "cards.md").write_text(cards + "\n## Fifth {#fifth}\nFifth answer.\n")
    (deck / "sub.md").write_text(SUB.replace("Basics", "Elsewhere"))


KILLER = """
import os, signal, sys
from pathlib import Path
from anki.collection import Collection
from ankismith.push import open_collection, push_decks

original = Collection.update_notes

def update_then_die(self, *args, **kwargs):
    original(self, *args, **kwargs)
    print(self.note_count(), flush=True)  # what the half-done transaction holds
    os.kill(os.getpid(), signal.SIGKILL)

Collection.update_notes = update_then_die
with open_collection(Path(sys.argv[1])) as route:
    push_decks([Path(sys.argv[2])], route, Path(sys.argv[3]), now=int(sys.argv[4]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_push_killed_half_way_leaves_the_collection_as_it_was(deck: Path, collection_path: Path) -> None:
    push(deck, collection_path, now=int(time.time()) - 100)
    with Opened(collection_path) as col:
        before = collection_rows(col)
    change_everything(deck)
    script = textwrap.dedent(KILLER)
    args = [str(collection_path), str(deck), str(deck.parent / "dist"), str(int(time.time()) + 100)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert int(done.stdout.split()[0]) == len(before["notes"]) + 1  # killed with a note added and others updated
    with Opened(collection_path) as col:
        assert collection_rows(col) == before


def test_import_replaces_the_students_tags_and_push_keeps_them(
    deck: Path, tmp_path: Path, collection_path: Path
) -> None:
    """What the build report and the README say, checked against Anki itself."""
    imported = tmp_path / "imported" / "collection.anki2"
    imported.parent.mkdir()
    start = int(time.time())
    push(deck, collection_path, now=start - 100)
    with Opened(imported) as col:
        import_apkg(col, deck.parent / "dist" / "test-deck.apkg")
    for path in (imported, collection_path):
        with Opened(path) as col:
            first = notes_by_key(col)["first"]
            first.tags += ["marked", "mine"]
            col.update_note(first)
    (deck / "cards.md").write_text(CARDS.replace("First answer.", "First answer, edited."))
    push(deck, collection_path, now=start + 100)
    with Opened(imported) as col:
        import_apkg(col, deck.parent / "dist" / "test-deck.apkg")
        assert sorted(notes_by_key(col)["first"].tags) == ["alpha"]  # Anki's importer: the sources' tags only
    with Opened(collection_path) as col:
        assert sorted(notes_by_key(col)["first"].tags) == ["alpha", "marked", "mine"]


def test_several_decks_in_one_push(deck: Path, tmp_path: Path, collection_path: Path) -> None:
    other = write_deck(tmp_path / "other", {"a.md": "## Other {#other}\nAnswer.\n"}, 'name: "Other Deck"\nid: other\n')
    with open_collection(collection_path) as route:
        prepared = push_decks([deck, other], route, tmp_path / "dist")
    assert [len(d.added) for d in prepared.plan.decks] == [6, 1]
    assert sorted(c.kind for c in prepared.plan.note_types) == ["basic", "cloze"]  # once, for both decks
    with Opened(collection_path) as col:
        assert col.note_count() == 7
        assert deck_of(col, card_of(col, notes_by_key(col)["other"]).id) == "Other Deck"
    with open_collection(collection_path) as route:
        assert not push_decks([deck, other], route, tmp_path / "dist").plan.changes


def test_note_types_are_updated_in_place(deck: Path, collection_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ankismith's new stylesheet and templates arrive; a card type and a field the student added stay."""
    from ankismith.package import models

    push(deck, collection_path, now=int(time.time()) - 100)
    with Opened(collection_path) as col:
        basic = col.models.by_name("ankismith Basic")
        col.models.add_field(basic, col.models.new_field("Mnemonic"))
        reverse = col.models.new_template("Reverse")
        reverse["qfmt"], reverse["afmt"] = "{{Back}}", "{{Front}}"
        col.models.add_template(basic, reverse)
        col.models.update_dict(basic)
        notes = notes_by_key(col)
        cards = len(notes["first"].cards())
        notes["first"]["Mnemonic"] = "my trick"
        col.update_note(notes["first"])
    monkeypatch.setattr(models, "stylesheet", lambda: ".card { color: red; }")
    pushed = push(deck, collection_path, now=int(time.time()) + 100)
    assert [(c.kind, c.add) for c in pushed.plan.note_types] == [("basic", False), ("cloze", False)]  # one stylesheet
    with Opened(collection_path) as col:
        basic = col.models.by_name("ankismith Basic")
        assert basic["id"] == models.BASIC_MODEL_ID and basic["css"] == ".card { color: red; }"
        assert [t["name"] for t in basic["tmpls"]] == ["Card 1", "Reverse"]
        assert basic["tmpls"][0]["qfmt"] == models.NOTE_TYPES["basic"].templates()[0]
        assert [f["name"] for f in basic["flds"]] == ["Front", "Back", "Source", "Mnemonic"]
        first = notes_by_key(col)["first"]
        assert first["Mnemonic"] == "my trick" and len(first.cards()) == cards == 2
    assert not push(deck, collection_path, now=int(time.time()) + 100).plan.changes
