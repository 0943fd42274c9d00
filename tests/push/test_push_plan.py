"""The push plan, a pure function of the built decks and a snapshot of a collection: each rule
that keeps what is the student's, on snapshots written by hand."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from conftest import write_deck

from ankismith.package.models import NOTE_TYPES, stylesheet
from ankismith.pipeline.run import Pushable, build_for_push
from ankismith.push import REMOVED_TAG, merge_tags, plan_push
from ankismith.push.route import CardState, DeckState, NoteState, NoteTypeState, Snapshot

CARDS = """---
subdeck: Basics
---
## First {#first tags="a b"}
One.
## Second {#second}
Two.
"""


def built(deck: Path, now: int) -> Pushable:
    (item,) = build_for_push([deck], deck.parent / "out", now=now)[0]
    return item


@pytest.fixture
def deck(deck_dir: Path) -> Path:
    return write_deck(deck_dir, {"cards.md": CARDS})


def note_types(mod: int = 0) -> dict[int, NoteTypeState]:
    return {
        t.model_id: NoteTypeState(t.model_id, t.name, t.cloze, t.fields, (t.templates(),), stylesheet(), mod)
        for t in NOTE_TYPES.values()
    }


DECKS = (DeckState(1, "Default"), DeckState(10, "Test Deck"), DeckState(11, "Test Deck::Basics"))


def in_collection(item: Pushable, mod: int, **changes: object) -> Snapshot:
    """A collection that holds the built notes as an import gives them, last changed at `mod`."""
    notes = {}
    for index, note in enumerate(item.deck.notes):
        deck = next(d.id for d in DECKS if d.name == note.deck)
        cards = (CardState(100 + index, 0, deck),)
        notes[note.guid] = NoteState(
            index + 1, note.guid, NOTE_TYPES[note.kind].model_id, mod, note.fields, note.tags, cards
        )
    return replace(Snapshot(notes, DECKS, note_types(mod), frozenset()), **changes)


def test_tags_merge_keeps_every_tag_the_sources_did_not_give() -> None:
    assert merge_tags(["a", "b", "marked", "mine"], ["a", "c"], ["b"]) == ("a", "marked", "mine", "c")
    assert merge_tags(["A", "Leech"], ["a"], []) == ("A", "Leech")  # Anki ignores case
    assert merge_tags(["b"], ["b"], ["b"]) == ("b",)  # given again: kept
    assert merge_tags(["mine"], [], ["MINE"]) == ()  # a tag the sources once gave counts as theirs


def test_a_fresh_collection_gets_everything(deck: Path) -> None:
    item = built(deck, 1_000)
    plan = plan_push([item], Snapshot(decks=(DeckState(1, "Default"),)), prune=False)
    assert [a.key for a in plan.decks[0].added] == ["first", "second"]
    assert [c.kind for c in plan.note_types] == ["basic"] and plan.note_types[0].add  # those of its notes
    assert all(c.mod == 1_000 for c in plan.note_types)  # the lock's time, as an import gives it
    assert plan.new_decks == ("Test Deck", "Test Deck::Basics")
    assert plan.changes and not plan.problems


def test_an_up_to_date_collection_changes_nothing(deck: Path) -> None:
    item = built(deck, 1_000)
    plan = plan_push([item], in_collection(item, 1_000), prune=False)
    assert not plan.changes and plan.decks[0].unchanged == 2


def test_a_note_changed_in_anki_after_its_sources_keeps_the_edit(deck: Path) -> None:
    item = built(deck, 1_000)
    snapshot = in_collection(item, 1_000)
    first = snapshot.notes[item.deck.notes[0].guid]
    edited = replace(first, mod=1_500, fields=((first.fields[0][0], "<p>mine</p>"), *first.fields[1:]))
    snapshot = replace(snapshot, notes={**snapshot.notes, first.guid: edited})
    assert not plan_push([item], snapshot, prune=False).changes


def test_changed_sources_update_fields_and_merge_tags(deck: Path) -> None:
    item = built(deck, 1_000)
    snapshot = in_collection(item, 1_000)
    first = snapshot.notes[item.deck.notes[0].guid]
    snapshot = replace(
        snapshot, notes={**snapshot.notes, first.guid: replace(first, mod=1_500, tags=("a", "b", "marked"))}
    )
    (deck / "cards.md").write_text(CARDS.replace('tags="a b"', 'tags="a c"').replace("One.", "One, edited."))
    item = built(deck, 2_000)
    (update,) = plan_push([item], snapshot, prune=False).decks[0].updated
    assert update.key == "first" and "One, edited." in dict(update.fields)["Back"]
    assert update.tags == ("a", "marked", "c") and update.added_tags == ("c",) and update.removed_tags == ("b",)


def test_sources_changed_in_the_second_of_the_last_push_still_arrive(deck: Path) -> None:
    """Anki's times are whole seconds: a push that added a note at second 2_000, then an edit and
    a push in that same second; the plan compares the content, and an equal one changes nothing."""
    item = built(deck, 1_000)
    snapshot = in_collection(item, 2_000)
    (deck / "cards.md").write_text(CARDS.replace("One.", "One, edited."))
    (update,) = plan_push([built(deck, 2_000)], snapshot, prune=False).decks[0].updated
    assert update.key == "first" and update.fields
    assert not plan_push([built(deck, 2_000)], in_collection(built(deck, 2_000), 2_000), prune=False).changes


def test_only_a_tag_change_updates_tags_and_leaves_fields(deck: Path) -> None:
    item = built(deck, 1_000)
    snapshot = in_collection(item, 1_000)
    (deck / "cards.md").write_text(CARDS.replace('tags="a b"', 'tags="a"'))
    (update,) = plan_push([built(deck, 2_000)], snapshot, prune=False).decks[0].updated
    assert update.fields == () and update.tags == ("a",) and update.removed_tags == ("b",)


def test_cards_move_only_out_of_a_deck_the_sources_gave(deck: Path) -> None:
    item = built(deck, 1_000)
    decks = (*DECKS, DeckState(12, "My Own"), DeckState(13, "Test Deck::Fundamentals"), DeckState(14, "Filtered", True))
    snapshot = in_collection(item, 1_000, decks=decks)
    first, second = (snapshot.notes[n.guid] for n in item.deck.notes)
    # the student moved the second note's card to their own deck
    second = replace(second, cards=(CardState(101, 0, 12),))
    snapshot = replace(snapshot, notes={first.guid: first, second.guid: second})
    (deck / "cards.md").write_text(CARDS.replace("Basics", "Fundamentals"))
    plan = plan_push([built(deck, 2_000)], snapshot, prune=False)
    (move,) = plan.decks[0].moved
    assert (move.key, move.card_ids, move.source, move.target) == (
        "first",
        (100,),
        "Test Deck::Basics",
        "Test Deck::Fundamentals",
    )
    assert not plan.decks[0].updated  # the deck is not a field: nothing else to change
    # a card borrowed by a filtered deck is left there, and the plan says so
    first = replace(first, cards=(CardState(100, 0, 11, filtered=True),))
    plan = plan_push([built(deck, 2_000)], replace(snapshot, notes={first.guid: first, second.guid: second}), False)
    assert not plan.decks[0].moved and "filtered deck" in plan.decks[0].left_alone[0].reason


def test_gone_notes_are_tagged_or_with_prune_deleted(deck: Path) -> None:
    item = built(deck, 1_000)
    snapshot = in_collection(item, 1_000)
    (deck / "cards.md").write_text(CARDS.replace("## Second {#second}\nTwo.\n", ""))
    item = built(deck, 2_000)
    plan = plan_push([item], snapshot, prune=False)
    assert [(g.key, g.text) for g in plan.decks[0].marked] == [("second", "Second")] and not plan.decks[0].pruned
    second = next(n for n in snapshot.notes.values() if n.id == 2)
    tagged = replace(snapshot, notes={**snapshot.notes, second.guid: replace(second, tags=(REMOVED_TAG,))})
    assert not plan_push([item], tagged, prune=False).changes  # tagged once
    pruned = plan_push([item], tagged, prune=True).decks[0]
    assert [g.key for g in pruned.pruned] == ["second"] and not pruned.marked
    # back in the sources: the tag comes off, nothing else changes
    (deck / "cards.md").write_text(CARDS)
    (update,) = plan_push([built(deck, 3_000)], tagged, prune=True).decks[0].updated
    assert update.removed_tags == (REMOVED_TAG,) and update.fields == ()


def test_prune_never_touches_a_note_the_lock_history_does_not_know(deck: Path) -> None:
    item = built(deck, 1_000)
    other = NoteState(99, "not-ours", NOTE_TYPES["basic"].model_id, 5, (("Front", "x"),), (REMOVED_TAG,), ())
    snapshot = in_collection(item, 1_000)
    snapshot = replace(snapshot, notes={**snapshot.notes, "not-ours": other})
    assert not plan_push([item], snapshot, prune=True).changes


def test_note_types_update_when_ankismith_changed_them_later(deck: Path) -> None:
    item = built(deck, 1_000)
    basic = NOTE_TYPES["basic"].model_id
    snapshot = in_collection(item, 1_000)
    old = replace(snapshot.note_types[basic], css=".card {}", mod=900)
    plan = plan_push([item], replace(snapshot, note_types={**snapshot.note_types, basic: old}), prune=False)
    assert [(c.kind, c.add) for c in plan.note_types] == [("basic", False)]
    # changed in Anki after ankismith's last change: the student's CSS stays
    mine = replace(old, mod=1_500)
    assert not plan_push([item], replace(snapshot, note_types={**snapshot.note_types, basic: mine}), False).changes


def test_a_note_type_whose_fields_were_renamed_is_a_problem(deck: Path) -> None:
    item = built(deck, 1_000)
    basic = NOTE_TYPES["basic"].model_id
    snapshot = in_collection(item, 1_000)
    renamed = replace(snapshot.note_types[basic], fields=("Front", "Answer", "Source", "Mnemonic"))
    plan = plan_push([item], replace(snapshot, note_types={**snapshot.note_types, basic: renamed}), prune=False)
    (problem,) = plan.problems
    assert "has no field 'Back'" in problem and "Tools > Manage Note Types" in problem
    extra = replace(snapshot.note_types[basic], fields=("Front", "Back", "Source", "Mnemonic"))
    assert not plan_push([item], replace(snapshot, note_types={**snapshot.note_types, basic: extra}), False).problems


def test_a_note_of_another_note_type_is_left_alone(deck: Path) -> None:
    item = built(deck, 1_000)
    snapshot = in_collection(item, 1_000)
    first = snapshot.notes[item.deck.notes[0].guid]
    snapshot = replace(snapshot, notes={**snapshot.notes, first.guid: replace(first, model_id=42)})
    (left,) = plan_push([item], snapshot, prune=False).decks[0].left_alone
    assert left.key == "first" and "another note type (id 42)" in left.reason
