"""Benchmark ankismith against a bare-genanki baseline, in one run, whole processes timed.

Usage: python bench/run.py [--sizes 1000,10000,100000] [--repeat 3] [--record]

For each size: cold build (no cache, no lock), rebuild after editing one card, rebuild with
nothing changed, peak RSS of the cold build; and the baseline writing the same number of notes.
Each figure is the best of --repeat runs (the machines are shared and noisy), and the one-edit
ratio also as the median, over the rounds, of each round's time over its own baseline's. --record
appends the table, with the machine and date, to bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth import edit_one_card, write_deck  # noqa: E402


def timed(command: list[str], cwd: Path) -> tuple[float, int]:
    """Wall time (s) and peak RSS (KiB) of one whole process."""
    start = time.perf_counter()
    # TMPDIR: genanki (the baseline) leaves its database file in the temp folder; here it goes with `cwd`
    env = {**os.environ, "TMPDIR": str(cwd)}
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{process.stderr.read().decode() if process.stderr else ''}")
    return elapsed, usage.ru_maxrss


def best(runs: list[tuple[float, int]]) -> tuple[float, int]:
    return min(r[0] for r in runs), max(r[1] for r in runs)


def measure(size: int, repeat: int, work: Path) -> dict[str, tuple[float, int]]:
    deck = write_deck(work / f"deck-{size}", size)
    cache, out = work / f"cache-{size}", work / f"out-{size}"
    build = [sys.executable, "-m", "ankismith", "build", str(deck), "-o", str(out), "--cache-dir", str(cache)]
    results: dict[str, list[tuple[float, int]]] = {"baseline": [], "cold": [], "one edit": [], "no change": []}
    # a warm-up, not counted: the first run of each program compiles its bytecode
    timed([sys.executable, str(HERE / "baseline.py"), str(size), str(work / "baseline.apkg")], work)
    for _ in range(repeat):
        results["baseline"].append(
            timed([sys.executable, str(HERE / "baseline.py"), str(size), str(work / "baseline.apkg")], work)
        )
        shutil.rmtree(cache, ignore_errors=True)
        (deck / "ankismith.lock").unlink(missing_ok=True)
        results["cold"].append(timed(build, work))
        results["no change"].append(timed(build, work))
        edit_one_card(deck)
        results["one edit"].append(timed(build, work))
        shutil.rmtree(deck)
        write_deck(deck, size)  # undo the edit for the next round (lock and cache stay)
    paired = sorted(edit[0] / base[0] for edit, base in zip(results["one edit"], results["baseline"], strict=True))
    PAIRED[size] = paired
    return {name: best(runs) for name, runs in results.items()}


PAIRED: dict[int, list[float]] = {}  # per size: each round's one-edit time over its own baseline time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--record", action="store_true", help="append the results to bench/README.md")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rows = []
    with tempfile.TemporaryDirectory(prefix="ankismith-bench-") as tmp:
        work = Path(tmp)
        # as on a user's machine, Python keeps the modules' compiled bytecode (pip writes it as it
        # installs), for ankismith and the baseline alike: kept in the bench's folder, not the tree
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
        per_size = {}
        for size in sizes:
            per_size[size] = measure(size, 1 if size >= 100_000 else args.repeat, work)
            base = per_size[size]["baseline"][0]
            for name in ("baseline", "cold", "one edit", "no change"):
                seconds, rss = per_size[size][name]
                rows.append(f"| {size:,} | {name} | {seconds:.2f} s | {seconds / base:.2f}x | {rss / 1024:.0f} MiB |")
                print(rows[-1], flush=True)
        for size, ratios in PAIRED.items():
            rows.append(
                f"\n{size:,} cards, one edit over the baseline of the same round: "
                f"median {statistics.median(ratios):.2f}x "
                f"({ratios[0]:.2f}x to {ratios[-1]:.2f}x, {len(ratios)} rounds)"
            )
            print(rows[-1], flush=True)
        if len(sizes) > 1 and 10_000 in per_size and 100_000 in per_size:
            scale = per_size[100_000]["cold"][0] / per_size[10_000]["cold"][0]
            rows.append(f"\n100k/10k cold build time: {scale:.1f}x (linear is 10x)")
            print(rows[-1])
        help_time = min(timed([sys.executable, "-m", "ankismith", "--help"], work)[0] for _ in range(5))
        rows.append(f"\n`ankismith --help`: {help_time:.2f} s")
        print(rows[-1])
        small = write_deck(work / "small", 10)
        check = min(timed([sys.executable, "-m", "ankismith", "check", str(small)], work)[0] for _ in range(5))
        rows.append(f"`ankismith check` on a 10-card deck: {check:.2f} s")
        print(rows[-1])
    if args.record:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        header = (
            f"\n### {datetime.date.today().isoformat()} ({machine})\n\n"
            "| cards | run | time | vs baseline | peak RSS |\n|---:|---|---:|---:|---:|\n"
        )
        with open(HERE / "README.md", "a", encoding="utf-8") as readme:
            readme.write(header + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
