"""One long paragraph (issue 21): whole `ankismith build` processes on a one-card deck whose answer is one
line of prose of 200 KB, 1 MB and 5 MB, beside bare genanki writing a note with the same text.

Usage: python bench/long_paragraph.py [--sizes 200000,1000000,5000000] [--repeat 3] [--record]

Each figure is the best of --repeat cold builds (no cache, no lock; 1 run at 5 MB and above), timed
from outside. The line mixes inline math, bold, emphasis, code, links and plain words, as prose does.
Prints the growth of the build time from 200 KB to 1 MB: linear is 5x. --record appends the table,
with the machine and date, to bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import timed  # noqa: E402

QUESTION = "What does the long answer say?"
WORDS = (
    "the gradient of a loss is computed by backpropagation through every layer so that each weight moves "
    "against its own partial derivative with a step size chosen by the optimizer while the batch statistics "
    "and the learning rate schedule decide how fast training converges"
).split()


def long_paragraph(size: int, seed: int = 21) -> str:
    """One line of about `size` characters: sentences with math, bold, emphasis, code and now and then a link."""
    rng = random.Random(seed)
    sentences: list[str] = []
    length = 0
    while length < size:
        i = len(sentences)
        words = rng.choices(WORDS, k=rng.randint(8, 16))
        constructs = [
            f"$x_{{{i}}}$",
            f"$\\frac{{\\partial L}}{{\\partial w_{{{i}}}}}$",
            f"**step {i}**",
            f"*layer {i}*",
            f"`grad[{i}]`",
        ]
        for construct in rng.sample(constructs, k=2):
            words.insert(rng.randrange(len(words) + 1), construct)
        if i % 5 == 0:
            words.append(f"[see note {i}](https://example.com/notes/{i})")
        sentence = " ".join(words) + "."
        sentence = sentence[0].upper() + sentence[1:]
        sentences.append(sentence)
        length += len(sentence) + 1
    return " ".join(sentences)


def write_deck(root: Path, size: int) -> Path:
    """A deck with one card whose answer is `long_paragraph(size)`."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "deck.yaml").write_text('name: "Long"\nid: long-paragraph\n', encoding="utf-8")
    card = f"## {QUESTION} {{#long}}\n\n???\n\n{long_paragraph(size)}\n"
    (root / "long.md").write_text(card, encoding="utf-8")
    return root


def baseline(size: int, target: str) -> None:
    """Bare genanki writing one two-field note with the same text (run as its own process)."""
    import genanki

    model = genanki.Model(
        1_607_392_319,
        "Baseline",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}],
    )
    deck = genanki.Deck(2_059_400_110, "Baseline")
    note = genanki.Note(model=model, fields=[QUESTION, long_paragraph(size)], guid=genanki.guid_for("long"))
    deck.add_note(note)
    genanki.Package(deck).write_to_file(target)


def measure(size: int, repeat: int, work: Path) -> dict[str, tuple[float, int]]:
    deck = write_deck(work / f"deck-{size}", size)
    out = work / f"out-{size}"
    build = [sys.executable, "-m", "ankismith", "build", str(deck), "-o", str(out), "--no-cache"]
    base = [sys.executable, str(Path(__file__).resolve()), "--baseline", str(size), str(work / "baseline.apkg")]
    runs: dict[str, list[tuple[float, int]]] = {"baseline": [], "build": []}
    for _ in range(repeat):
        runs["baseline"].append(timed(base, work))
        (deck / "ankismith.lock").unlink(missing_ok=True)
        runs["build"].append(timed(build, work))
    return {name: (min(r[0] for r in rs), max(r[1] for r in rs)) for name, rs in runs.items()}


def label(size: int) -> str:
    return f"{size / 1_000_000:g} MB" if size >= 1_000_000 else f"{size / 1000:g} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="200000,1000000,5000000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="append the results to bench/README.md")
    parser.add_argument("--baseline", nargs=2, metavar=("SIZE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:
        baseline(int(args.baseline[0]), args.baseline[1])
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    rows: list[str] = []
    builds: dict[int, float] = {}
    with tempfile.TemporaryDirectory(prefix="ankismith-long-") as tmp:
        for size in sizes:
            result = measure(size, 1 if size >= 5_000_000 else args.repeat, Path(tmp))
            builds[size] = result["build"][0]
            for name in ("baseline", "build"):
                seconds, rss = result[name]
                ratio = seconds / result["baseline"][0]
                rows.append(f"| {label(size)} | {name} | {seconds:.2f} s | {ratio:.2f}x | {rss / 1024:.0f} MiB |")
                print(rows[-1], flush=True)
    if 200_000 in builds and 1_000_000 in builds:
        rows.append(f"\n1 MB / 200 KB build time: {builds[1_000_000] / builds[200_000]:.2f}x (linear is 5x)")
        print(rows[-1])
    if args.record:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        header = (
            f"\n### One long paragraph: {datetime.date.today().isoformat()} ({machine})\n\n"
            "| paragraph | run | time | vs baseline | peak RSS |\n|---|---|---:|---:|---:|\n"
        )
        with open(HERE / "README.md", "a", encoding="utf-8") as readme:
            readme.write(header + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
