"""Numeric cards with hand-written pools: format 2 (parts, units, named mistakes, explicit tolerance),
format 1 as notes already in collections carry it, and a format from the future.

Each note has the real "ankismith Numeric" note type (its templates carry the card script) and is
rendered by the `anki` package after a real import, as built_cards.py does for built decks: only the
pool is written here instead of by the build, so the card script's side of a pool format is tested
on its own. The answers the tests expect are the values written below.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

from ankismith.model.cards import Kind
from ankismith.package.models import NOTE_TYPES
from ankismith.render.mathext import math_html
from ankismith.render.pool import CLOSE, OPEN
from ankismith.rules import script_json

from .built_cards import RenderedCard

FLOOR = "the floor is forgotten"
PLUS_ONE = "the +1 is forgotten"
STRIDE = "the stride is ignored"
HALF = "the \u00bd is left out"


def math(tex: str) -> str:
    return math_html(tex, display=False)


def instance(question: str, answer: str, parts: list[dict], solution: str = "") -> dict:
    return {"question": question, "answer": answer, "solution": solution, "extra": "", "parts": parts}


def part(value: object, shown: object, integer: bool, **more: object) -> dict:
    return {"name": "", "label": "", "value": value, "shown": shown, "integer": integer, **more}


def mistake(label: str, tex: str, value: object, shown: str) -> dict:
    return {"label": label, "html": f"{label}: {math(tex)}", "value": value, "shown": shown}


def conv(w: int, f: int, p: int, s: int) -> dict:
    """A conv output size with its classic mistakes (the +1 and the stride give the same value on purpose)."""
    exact = (w - f + 2 * p) / s + 1
    size = (w - f + 2 * p) // s + 1
    mistakes = [
        mistake(FLOOR, r"(W - F + 2P)/S + 1", exact, f"{exact:g}"),
        mistake(PLUS_ONE, r"\lfloor (W - F + 2P)/S \rfloor", size - 1, str(size - 1)),
        mistake(STRIDE, r"W - F + 2P - 1", size - 1, str(size - 1)),
    ]
    question = f"<p>Input {w}, filter {f}, padding {p}, stride {s}: the output size {math('W_{out}')}?</p>"
    return instance(question, math(str(size)), [part(size, str(size), True, mistakes=mistakes)])


def backprop(a: int) -> dict:
    """Three parts: a rounded loss with a mistake, a whole matrix, a count in joules."""
    loss = a * a / 7
    half = mistake(HALF, r"\lVert e \rVert^2", 2 * loss, f"{2 * loss:.4f}")
    parts = [
        {**part(loss, f"{loss:.4f}", False, mistakes=[half]), "name": "loss", "label": "(a)"},
        {**part([[a, 1], [2, a]], [[str(a), "1"], ["2", str(a)]], True), "name": "dW2", "label": "(b)"},
        {**part(1000 * a + 706, str(1000 * a + 706), True, unit="J"), "name": "energy", "label": "(c)"},
    ]
    question = f"<p>With {math(f'a = {a}')}: (a) the loss, (b) {math('dW_2')}, (c) the energy.</p>"
    approx = math(r"\approx " + f"{loss:.4f}")
    matrix = math(r"\begin{bmatrix} " + f"{a} & 1 " + r"\\" + f" 2 & {a} " + r"\end{bmatrix}")
    answer = f"(a) {approx} (b) {matrix} (c) {1000 * a + 706} J"
    return instance(question, answer, parts, solution=f"<p>{math('a^2 / 7')}</p>")


def single(question: str, value: object, shown: str, integer: bool, **more: object) -> dict:
    return instance(f"<p>{question}</p>", math(shown), [part(value, shown, integer, **more)])


POOLS: dict[str, dict] = {
    "multi": {"v": 2, "salt": "a1b2c3d4", "type": True, "tolerance": 0.001, "exact_ints": True,
              "instances": [backprop(a) for a in (3, 5, 8)]},
    "floor": {"v": 2, "salt": "f1004a11", "type": True, "tolerance": 0.001, "exact_ints": True,
              "instances": [conv(8, 3, 0, 2), conv(10, 3, 1, 2), conv(12, 5, 1, 2)]},
    "energy": {"v": 2, "salt": "e0e0e0e0", "type": True, "tolerance": 0.01, "exact_ints": False,
               "instances": [single("The kinetic energy?", 90, "90", True, unit="J")]},
    "count": {"v": 2, "salt": "c0c0c0c0", "type": True, "tolerance": 0.001, "exact_ints": True,
              "instances": [single("How many parameters?", 61706, "61706", True)]},
    "size": {"v": 2, "salt": "51e51e00", "type": True, "tolerance": 0.001, "exact_ints": True,
             "instances": [single("How large is the file?", 1.5, "1.5", False, unit="MB")]},
    "legacy": {"v": 1, "salt": "01d01d00", "type": True, "tolerance": 0.001,
               "instances": [{"question": f"<p>Compute {math(f'{a} + 0.5')}.</p>", "answer": math(f"{a + 0.5}"),
                              "solution": "", "extra": "", "value": a + 0.5, "shown": f"{a + 0.5}", "integer": False}
                             for a in (1, 2, 3, 4)]},
    "future": {"v": 3, "salt": "99999999", "type": True, "tolerance": 0.001,
               "instances": [single("Given instance", 7, "7", True), single("Another", 8, "8", True)]},
}  # fmt: skip


def pool_field(pool: dict) -> str:
    """The pool element as the Question field ends with it (render/pool.py's element, any version)."""
    return OPEN + script_json(pool) + CLOSE


@cache
def pool_cards() -> dict[str, RenderedCard]:
    """Every pool above as a note of the numeric note type, imported into a collection and rendered by Anki."""
    import genanki
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    model = NOTE_TYPES[Kind.NUMERIC].model()
    deck = genanki.Deck(1_733_499_001, "Pools")
    for name, pool in POOLS.items():
        first = pool["instances"][0]
        fields = [first["question"] + pool_field(pool), first["answer"], first["solution"], first["extra"], name]
        deck.add_note(genanki.Note(model=model, fields=fields, guid=f"pool-{name}"))
    with tempfile.TemporaryDirectory() as folder:
        apkg = Path(folder) / "pools.apkg"
        tempfile.tempdir, before = folder, tempfile.tempdir  # genanki leaves its database in the temp folder
        try:
            genanki.Package(deck).write_to_file(str(apkg))
        finally:
            tempfile.tempdir = before
        col = Collection(str(Path(folder) / "collection.anki2"))
        try:
            col.import_anki_package(
                ImportAnkiPackageRequest(package_path=str(apkg), options=ImportAnkiPackageOptions())
            )
            cards = {}
            for nid in col.find_notes(""):
                note = col.get_note(nid)
                card, name = note.cards()[0], note["Source"]
                cards[name] = RenderedCard(name, card.question(), card.answer(), POOLS[name])
            assert set(cards) == set(POOLS)
            return cards
        finally:
            col.close()
