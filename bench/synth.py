"""Synthetic decks in ankismith's format, as issue 5 describes them.

Each card: a question with inline math; a ~200-character answer with bold text and math; a
3-item list; every 10th card a fenced code block; every 20th card a numeric card.
"""

from __future__ import annotations

from pathlib import Path

CARDS_PER_FILE = 500


def card_texts(index: int) -> tuple[str, str]:
    """(question, answer) Markdown of ordinary card `index`; the baseline uses the same sizes."""
    question = f"What is the gradient of $f_{{{index}}}(x) = x^{{{index % 7 + 2}}}$ at point {index}?"
    answer = (
        f"The **derivative** is $f'(x) = {index % 7 + 2} x^{{{index % 7 + 1}}}$, so at the point the slope is "
        f"steep. Card {index} checks that the **power rule** is applied: multiply by the exponent "
        f"and reduce it by one.\n\n- first step\n- second step\n- third step\n"
    )
    if index % 10 == 0:
        answer += f"\n```python\ndef grad(x):\n    return {index % 7 + 2} * x ** {index % 7 + 1}\n```\n"
    return question, answer


def card(index: int) -> str:
    """One card in the deck format."""
    if index % 20 == 19:
        return (
            f"## Output size {index} {{#num-{index}}}\n\n```numeric\nproblem: conv_output_size\n"
            f"given: {{W: {7 + index % 20}, F: 3, P: 1, S: 1}}\n```\n\n"
            "A {{W}}×{{W}} map, a {{F}}×{{F}} filter, padding {{P}}, stride {{S}}: output size?\n"
        )
    question, answer = card_texts(index)
    return f"## {question} {{#card-{index}}}\n\n???\n\n{answer}"


def write_deck(root: Path, count: int) -> Path:
    """A deck folder with `count` cards in files of CARDS_PER_FILE."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "deck.yaml").write_text('name: "Bench"\nid: bench\nvariants: 0\n')
    for start in range(0, count, CARDS_PER_FILE):
        cards = [card(i) for i in range(start, min(count, start + CARDS_PER_FILE))]
        (root / f"part-{start // CARDS_PER_FILE:04d}.md").write_text("\n".join(cards), encoding="utf-8")
    return root


def edit_one_card(root: Path) -> None:
    """Change the answer of card 1 (in the first file)."""
    path = root / "part-0000.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("Card 1 checks", "Card 1 (edited) checks"), encoding="utf-8")
