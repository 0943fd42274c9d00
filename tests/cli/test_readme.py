"""The README's format example builds, and gives the notes it promises."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import REPO

from ankismith.pipeline.run import compile_decks


def test_the_readme_example_builds(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    deck_yaml = re.search(r"```yaml\n(# decks/my-deck/deck.yaml\n.*?)```", readme, re.DOTALL).group(1)
    card_file = re.search(r"````markdown\n(.*?)````", readme, re.DOTALL).group(1)
    deck = tmp_path / "my-deck"
    deck.mkdir()
    (deck / "deck.yaml").write_text(deck_yaml)
    (deck / "cards.md").write_text(card_file)
    notes = {n.key: n for n in compile_decks([deck]).decks[0].notes}
    kinds = {key: note.kind for key, note in notes.items()}
    assert kinds == {
        "threshold": "basic",
        "maxpool-grad": "choice",
        "relu-is-max-0-x": "cloze",
        "conv-out": "numeric",  # fresh: one note, its pool the given instance and the drawn ones
    }
    assert notes["conv-out"].numeric["answer"] == 5
    assert len(notes["conv-out"].numeric["pool"]) == 4
    assert notes["threshold"].deck == "Deep Learning::Midterm::Basics"


def test_the_readme_lists_every_built_in_family_with_its_parts() -> None:
    from ankismith.solver import builtin

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("| topic | families |") :].split("\n\n", 1)[0]
    listed = dict(re.findall(r"`(\w+)`(?: \[([\w, ]+)\])?", table))
    assert set(listed) == set(builtin()), "the README's table of families and the built-in ones differ"
    for name, family in builtin().items():
        assert tuple(p for p in listed[name].split(", ") if p) == family.parts, name
