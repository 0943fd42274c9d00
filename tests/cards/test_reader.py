"""The reader: every syntax rule of FORMAT.md, and a path:line error for each broken input."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import write_deck

from ankismith.cards.reader import check_keys, read_cards, read_deck, slugify
from ankismith.errors import Collector
from ankismith.model.cards import Card, DeckConfig, Kind


@dataclass(frozen=True)
class Read:
    config: DeckConfig
    cards: list[Card]


def read(root: Path) -> tuple[Read | None, Collector]:
    """The reader's stages as the pipeline runs them: the deck, each file's cards, the key check."""
    errors = Collector()
    deck = read_deck(root, errors)
    if deck is None:
        return None, errors
    cards, keys = [], []
    for file, data in deck.files:
        file_cards, file_keys = read_cards(file, data, errors)
        cards.extend(file_cards)
        keys.extend(file_keys)
    check_keys(root, keys, errors)
    return Read(deck.config, cards), errors


def messages(errors: Collector) -> list[str]:
    return [str(e) for e in errors.errors]


def test_deck_yaml_defaults_and_values(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n"}, 'name: "A::B"\ndescription: hi\ntags: [x, y]\nseed: 5\nvariants: 2\n')
    deck, errors = read(deck_dir)
    assert not errors.errors
    config = deck.config
    assert (config.name, config.id, config.description, config.tags, config.seed, config.variants) == (
        "A::B",
        "deck",
        "hi",
        ("x", "y"),
        5,
        2,
    )


def test_cards_in_path_order_with_lines_keys_and_split(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {
            "b.md": "## Second file {#b-card}\nbody\n",
            "a/z.md": """
            # Title, not a card

            notes to self

            ## What is $x$? {#x-key tags="t1 t2"}

            more question

            ???

            the answer
            ## Heading without key
            whole body is the answer
            """,
        },
    )
    deck, errors = read(deck_dir)
    assert not errors.errors
    cards = deck.cards
    assert [c.key for c in cards] == ["x-key", "heading-without-key", "b-card"]
    first = cards[0]
    assert (first.file.inner, first.line, first.heading, first.tags) == ("a/z.md", 5, "What is $x$?", ("t1", "t2"))
    assert first.question == "\nmore question\n".strip("\n") or first.question.strip() == "more question"
    assert first.answer.strip() == "the answer"
    assert cards[1].question == "" and cards[1].answer == "whole body is the answer"
    assert cards[2].source == "b.md:1"


def test_front_matter_subdeck_and_tags(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": '---\nsubdeck: Short Answer\ntags: [act]\n---\n## Q {#q tags="more"}\nA\n'})
    deck, errors = read(deck_dir)
    assert not errors.errors
    card = deck.cards[0]
    assert card.subdeck == "Short Answer" and card.tags == ("act", "more") and card.line == 5


def test_only_level_two_headings_start_cards(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\n### a sub-heading\n###\n#### deeper\n##not a heading\nbody\n"})
    deck, errors = read(deck_dir)
    assert not errors.errors
    (card,) = deck.cards
    assert "### a sub-heading" in card.answer and "##not a heading" in card.answer


def test_heading_inside_code_fence_is_not_a_card(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\n```markdown\n## not a card\n???\n```\n???\nanswer\n"})
    deck, errors = read(deck_dir)
    assert not errors.errors
    assert len(deck.cards) == 1
    assert "## not a card" in deck.cards[0].question and deck.cards[0].answer == "answer"


def test_kinds_choice_cloze_numeric(deck_dir: Path) -> None:
    write_deck(
        deck_dir,
        {
            "a.md": """
        ## Pick {#pick}
        - [ ] no
        - [x] yes, with
          a second line
        - [X] also

        ???
        why
        ## Cloze {#cl}
        ReLU is {{c1::max(0, x)}}.
        ## Num {#num}
        ```numeric
        answer: a + 1
        given: {a: 1}
        ```
        What is {{a}} + 1?
        """
        },
    )
    deck, errors = read(deck_dir)
    assert not errors.errors
    pick, cloze, num = deck.cards
    assert pick.kind is Kind.CHOICE
    assert [(c.text, c.correct) for c in pick.choices] == [
        ("no", False),
        ("yes, with a second line", True),
        ("also", True),
    ]
    assert cloze.kind is Kind.CLOZE and "{{c1::" in cloze.question
    assert num.kind is Kind.NUMERIC and num.numeric.spec == {"answer": "a + 1", "given": {"a": 1}}
    assert num.numeric.line == 12 and num.numeric.line_of("given") == 14
    assert [p.name for p in num.placeholders] == ["a"] and "What is" in num.question


def test_slugify() -> None:
    assert slugify("Why do **modern** networks use $f(x)$?") == "why-do-modern-networks-use-f-x"
    assert slugify("Größe der Ausgabe") == "größe-der-ausgabe"
    assert slugify("ReLU is {{c1::max(0, x)::a function}}.") == "relu-is-max-0-x"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"a.md": "## Q {#k}\nA\n## R {#k}\nB\n"}, "a.md:3: duplicate card key 'k': also at {root}/a.md:1"),
        ({"a.md": "## Q {#k}\nA\n", "b.md": "## Q {#k}\nB\n"}, "b.md:1: duplicate card key 'k': also at {root}/a.md:1"),
        ({"a.md": "## Q\n???\nA\n???\nB\n"}, "a.md:4: second `???` in one card (the first is at line 2)"),
        ({"a.md": "## Q\n- [ ] a\n- [ ] b\n"}, "a.md:2: no correct choice"),
        ({"a.md": "## Q\n- [x] a\n"}, "a.md:2: a multiple-choice card needs at least 2 choices"),
        ({"a.md": "## Q {#bad key}\nA\n"}, "a.md:1: cannot read 'key' in the heading's {...}"),
        ({"a.md": "## Q {#a~1}\nA\n"}, "a.md:1: cannot read '#a~1'"),
        ({"a.md": "## \nA\n"}, "a.md:1: empty heading"),
        ({"a.md": "## $$ {}\nA\n"}, "a.md:1: the heading gives no key"),
        ({"a.md": "---\nsubdeck: [1]\n---\n## Q\nA\n"}, "a.md:2: `subdeck` must be a deck name as text"),
        ({"a.md": "---\ntags: 5\n---\n## Q\nA\n"}, "a.md:2: `tags` must be a list of tags"),
        ({"a.md": "---\nsubdeck: X\n## Q\nA\n"}, "a.md:1: front matter opened with '---' is never closed"),
        ({"a.md": "---\nsubdeck: [\n---\n## Q\nA\n"}, "a.md:"),
        ({"a.md": "## Q\n```numeric\nproblem: x\n"}, "a.md:2: ```numeric block is never closed"),
        ({"a.md": "## Q\n```numeric\n: : :\n```\n"}, "a.md:3: numeric block: invalid YAML"),
        ({"a.md": "## Q\n- [x] a\n- [ ] b\n{{c1::x}}\n"}, "a.md:1: one card mixes cloze and choices"),
        ({"a.md": "## Q\n???\n```numeric\nanswer: 1\n```\n"}, "a.md:3: the ```numeric block must come before `???`"),
    ],
)
def test_broken_card_files_report_path_and_line(deck_dir: Path, files: dict[str, str], expected: str) -> None:
    write_deck(deck_dir, files)
    _, errors = read(deck_dir)
    wanted = f"{deck_dir.as_posix()}/" + expected.replace("{root}", deck_dir.as_posix())
    assert any(m.startswith(wanted) for m in messages(errors)), messages(errors)


@pytest.mark.parametrize(
    ("deck_yaml", "expected"),
    [
        ("id: x\n", "deck.yaml:1: `name` must be the Anki deck name as text, found nothing"),
        ("name: [1]\n", "deck.yaml:1: `name` must be the Anki deck name as text, found [1]"),
        ("name: A\nid: 'has space'\n", "deck.yaml:2: `id` must be ASCII letters, digits"),
        ('name: A\nid: "abc\\n"\n', "deck.yaml:2: `id` must be ASCII letters, digits"),  # a line break: not an id
        ("name: A\nseed: -1\n", "deck.yaml:2: `seed` must be a whole number >= 0"),
        ("name: A\nvariants: many\n", "deck.yaml:2: `variants` must be a whole number from 0 to 100"),
        ("name: A\ntags: {a: 1}\n", "deck.yaml:2: `tags` must be a list"),
        ("name: A\ntags: ['a b']\n", "deck.yaml:2: tag 'a b' has a space"),
        ("name: 'A::'\n", "deck.yaml:1: `name` 'A::' has an empty part"),
        ("- a\n- b\n", "deck.yaml:1: expected a mapping"),
        ("name: 'unclosed\n", "deck.yaml:"),
    ],
)
def test_broken_deck_yaml(deck_dir: Path, deck_yaml: str, expected: str) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n"}, deck_yaml)
    deck, errors = read(deck_dir)
    assert deck is None
    assert any(m.startswith(f"{deck_dir.as_posix()}/{expected}") for m in messages(errors)), messages(errors)


def test_missing_deck_yaml(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    _, errors = read(tmp_path / "d")
    assert messages(errors) == [
        f"{(tmp_path / 'd').as_posix()}: no deck.yaml in this folder; a deck folder needs one, with at least `name:`"
    ]


def test_all_errors_of_a_deck_at_once(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\n- [ ] a\n- [ ] b\n", "b.md": "## R\n???\nx\n???\ny\n"})
    _, errors = read(deck_dir)
    assert len(errors.errors) == 2


def test_fence_marks() -> None:
    from ankismith.cards.fences import Mark, fence_marks

    lines = ["text", "````md", "```", "```python", "````", "~~~", "??? in code", "  ~~~~", "after", "```", "open"]
    O, I, C = Mark.OPEN, Mark.INSIDE, Mark.CLOSE  # noqa: E741, N806
    assert fence_marks(lines) == [None, O, I, I, C, O, I, C, None, O, I]


def test_split_marker_inside_an_indented_fence_is_code(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\n- item\n\n    ```\n    ???\n    ```\n???\nanswer\n"})
    deck, errors = read(deck_dir)
    assert not errors.errors
    assert "???" in deck.cards[0].question and deck.cards[0].answer == "answer"


# --- duplicate keys: PyYAML keeps the last value silently; the reader refuses both --------------

DUPLICATE = "give each key once (the second would silently replace the first)"


def test_a_duplicate_key_in_deck_yaml_is_an_error_naming_the_first(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nA\n"}, "name: First\nseed: 1\nname: Second\n")
    deck, errors = read(deck_dir)
    assert deck is None
    assert messages(errors) == [
        f"{deck_dir.as_posix()}/deck.yaml:3: duplicate key `name` (first at line 1): {DUPLICATE}"
    ]


def test_a_duplicate_key_in_front_matter_counts_lines_from_the_file(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "---\ntags: [a]\nsubdeck: S\ntags: [b]\n---\n## Q\nA\n"})
    _, errors = read(deck_dir)
    assert messages(errors) == [
        f"{deck_dir.as_posix()}/a.md:4: front matter: duplicate key `tags` (first at line 2): {DUPLICATE}"
    ]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("answer: x\ngiven: {x: 1}\nanswer: 2 * x\n", [(6, "answer", 4)]),
        # nested mappings: block style inside params:, flow style (one line) inside given:
        ("answer: W\nparams:\n  W: 1..5\n  W: 2..9\n", [(7, "W", 6)]),
        ("answer: W\ngiven: {W: 7, W: 8}\n", [(5, "W", 5)]),
        # one in a layer list, and two at once: every one is reported
        (
            "problem: conv_output_size\nparams:\n  layers: [{type: conv, type: pool}]\nvariants: 1\nvariants: 2\n",
            [(6, "type", 6), (8, "variants", 7)],
        ),
    ],
)
def test_a_duplicate_key_in_a_numeric_block_is_an_error_at_its_line(
    deck_dir: Path, block: str, expected: list[tuple[int, str, int]]
) -> None:
    write_deck(deck_dir, {"a.md": f"## Q {{#q}}\n\n```numeric\n{block}```\n\nHow much?\n"})
    deck, errors = read(deck_dir)
    assert deck is not None and deck.cards == []  # the card is not built
    assert messages(errors) == [
        f"{deck_dir.as_posix()}/a.md:{line}: numeric block: duplicate key `{key}` (first at line {first}): {DUPLICATE}"
        for line, key, first in expected
    ]


def test_keys_that_only_look_alike_are_not_duplicates() -> None:
    from ankismith.cards.yamlsafe import load_mapping

    # `1` is a number and '1' text: two keys; the same key in two sibling mappings is no repeat
    mapping = load_mapping("a:\n  1: x\n  '1': y\nb: [{k: 1}, {k: 2}]\nc: {k: 3}\n", first_line=10)
    assert mapping.duplicates == ()
    twice = load_mapping("a: 1\n'a': 2\n", first_line=10)
    assert [(p.line, p.message.split(":")[0]) for p in twice.duplicates] == [
        (11, "duplicate key `a` (first at line 10)")
    ]


# --- clozes: one with nothing to hide shows nothing on Anki's back --------------------------------


@pytest.mark.parametrize(
    ("text", "line", "cloze"),
    [
        ("## Q\nThe capital is {{c1::}}.\n", 2, "{{c1::}}"),
        ("## Q\nThe capital is {{c2::::a city}}.\n", 2, "{{c2::::a city}}"),
        ("## Q\nfirst {{c1::x}}\n\nThe capital is {{c1::  ::a city}}.\n", 4, "{{c1::  ::a city}}"),
        ("## The capital is {{c1:: }}\nsome text\n", 1, "{{c1:: }}"),
        ("## Q\nThe capital is {{c1::\n\n}}.\n", 2, "{{c1::\n\n}}"),  # spaces across lines are nothing too
    ],
)
def test_an_empty_cloze_is_an_error_at_its_line(deck_dir: Path, text: str, line: int, cloze: str) -> None:
    write_deck(deck_dir, {"a.md": text})
    deck, errors = read(deck_dir)
    number = cloze[3]
    assert messages(errors) == [
        f"{deck_dir.as_posix()}/a.md:{line}: empty cloze {cloze!r}: there is nothing to hide, so Anki's back would "
        f"show nothing there; expected {{{{c{number}::text}}}} or {{{{c{number}::text::hint}}}}"
    ]
    assert deck is not None and deck.cards == []


def test_a_cloze_with_a_hint_and_one_in_code_are_fine(deck_dir: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q\nThe capital is {{c1::Paris::a city}}.\n\n```\n{{c1::}}\n```\n"})
    deck, errors = read(deck_dir)
    assert not errors.errors and not errors.warnings
    assert [card.kind for card in deck.cards] == [Kind.CLOZE]
    assert "{{c1::Paris::a city}}" in deck.cards[0].answer + deck.cards[0].question


# --- the deck id: ASCII, and the message proposes one ----------------------------------------------

ID_RULE = "ASCII letters, digits, '.', '_' or '-', starting with a letter or digit (it is part of every note's GUID)"


@pytest.mark.parametrize(
    ("folder", "proposal"),
    [("物理", "deck-a454f178"), ("Physik Übung", "physik-ubung"), ("Ångström", "angstrom"), ("2024", '"2024"')],
)
def test_a_folder_name_that_cannot_be_the_deck_id_gets_a_proposal_that_works(
    tmp_path: Path, folder: str, proposal: str
) -> None:
    root = write_deck(tmp_path / folder, {"a.md": "## Q\nA\n"}, "name: Physics\n")
    if folder == "2024":  # a valid folder name: make the id invalid another way
        (root / "deck.yaml").write_text("name: Physics\nid: 2024\n")
    deck, errors = read(root)
    assert deck is None
    if folder == "2024":
        expected = f"deck.yaml:2: `id` must be {ID_RULE}, found 2024; for example `id: {proposal}`"
    else:
        expected = (
            f"deck.yaml:1: the deck id must be {ID_RULE}, found {folder!r}, the folder's name (deck.yaml has no "
            f"`id:`); add a line `id: {proposal}` to deck.yaml"
        )
    assert messages(errors) == [f"{root.as_posix()}/{expected}"]
    (root / "deck.yaml").write_text(f"name: Physics\nid: {proposal}\n")  # what the message says to write
    deck, errors = read(root)
    assert not errors.errors and deck.config.id == proposal.strip('"')


def test_deck_id_proposals_are_stable_and_valid() -> None:
    from ankismith.model.ids import DECK_ID, suggest_deck_id

    assert suggest_deck_id("物理") == suggest_deck_id("物理")  # never random: the same on every run
    assert suggest_deck_id("物理") != suggest_deck_id("化学")
    assert suggest_deck_id("物理 2").startswith("deck-")  # not '2': a letter without an ASCII form is not dropped
    assert suggest_deck_id("Straße").startswith("deck-")  # NFKD has no ASCII form for ß
    assert suggest_deck_id("Übung_1.x") == "ubung_1.x"
    assert suggest_deck_id("e\u0301te\u0301") == suggest_deck_id("\u00e9t\u00e9") == "ete"  # NFC or NFD alike
    for name in ("", "-", "..", "_a", "has space", "a/b", "ﬁle"):
        assert DECK_ID.fullmatch(suggest_deck_id(name)), name


@pytest.mark.parametrize(
    ("text", "read_as"),
    [("seed: 1:30", "90"), ("variants: 0x3", "3"), ("seed: 017", "15"), ("seed: 0b11", "3"), ("seed: 1:30.5", "90.5")],
)
def test_yaml_11_base_60_hex_octal_and_binary_numbers_are_refused(tmp_path: Path, text: str, read_as: str) -> None:
    root = write_deck(tmp_path / "deck", {"a.md": "## A {#a}\nB\n"}, f"name: D\n{text}\n")
    errors = Collector()
    assert read_deck(root, errors) is None
    (error,) = errors.errors
    assert error.line == 2 and "is not a plain number" in error.message and f"reads it as {read_as}:" in error.message


def test_quoted_and_decimal_numbers_are_read_as_written(tmp_path: Path) -> None:
    root = write_deck(tmp_path / "deck", {"a.md": "## A {#a}\nB\n"}, 'name: "1:30"\nseed: 0\nvariants: 10\n')
    errors = Collector()
    deck = read_deck(root, errors)
    assert errors.errors == [] and deck is not None
    assert (deck.config.name, deck.config.seed, deck.config.variants) == ("1:30", 0, 10)
