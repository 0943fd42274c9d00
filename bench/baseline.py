"""The baseline: bare genanki writing N two-field notes with the same field sizes as the bench deck.

Usage: python bench/baseline.py N OUT.apkg
"""

from __future__ import annotations

import sys

import genanki
from synth import card_texts


def main() -> None:
    count, target = int(sys.argv[1]), sys.argv[2]
    model = genanki.Model(
        1_607_392_319,
        "Baseline",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
    )
    deck = genanki.Deck(2_059_400_110, "Baseline")
    for index in range(count):
        front, back = card_texts(index)
        deck.add_note(genanki.Note(model=model, fields=[front, back], guid=genanki.guid_for("bench", index)))
    genanki.Package(deck).write_to_file(target)


if __name__ == "__main__":
    main()
