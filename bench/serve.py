"""Benchmark `ankismith serve` on the 10k-card synthetic deck, against the bare-genanki baseline.

Usage: python bench/serve.py [--size 10000] [--edits 5] [--record]

Starts the server (one process, kept running), opens the deck page in headless Chromium, then
edits one card's answer --edits times. For each save it measures, from the moment the file is
written: when the changed card shows the new text in the page (target: within 0.5 s), and when the
.apkg on disk holds it (target: within the time the baseline takes to write the same notes). Also
times `check`, `list` and `export` on the unchanged deck against the baseline (target: 1.5x).
Needs Chromium (apt-get install chromium; ANKISMITH_CHROMIUM for another path) and Playwright.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth import write_deck  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


WATCH = """() => {
  const check = () => {
    const text = document.getElementById("qa").innerText;
    if (window.amMarker && !window.amSeen && text.includes(window.amMarker) && !/\\\\[(\\[]/.test(text)) {
      window.amSeen = Date.now();
    }
  };
  new MutationObserver(check).observe(document.body, { childList: true, subtree: true, characterData: true });
}"""


def wall(command: list[str], cwd: Path) -> float:
    """Wall time of one whole process (its output thrown away)."""
    start = time.perf_counter()
    env = {**os.environ, "TMPDIR": str(cwd)}  # genanki (the baseline) leaves its database in the temp folder
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, env=env)
    return time.perf_counter() - start


def paired(command: list[str], baseline: list[str], cwd: Path, runs: int) -> tuple[float, float]:
    """Median wall time of `command` and of `baseline`, run in turn (A B A B ...)."""
    ours, theirs = [], []
    for _ in range(runs):
        ours.append(wall(command, cwd))
        theirs.append(wall(baseline, cwd))
    return statistics.median(ours), statistics.median(theirs)


def apkg_holds(apkg: Path, marker: bytes) -> bool:
    """Whether the package's collection holds `marker` (the edited text)."""
    try:
        with zipfile.ZipFile(apkg) as archive:
            return marker in archive.read("collection.anki2")
    except (OSError, zipfile.BadZipFile, KeyError):
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--edits", type=int, default=5)
    parser.add_argument("--record", action="store_true", help="append the results to bench/README.md")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("ANKISMITH_CHROMIUM", "/usr/bin/chromium")
    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ankismith-serve-bench-") as tmp:
        work = Path(tmp)
        deck = write_deck(work / "deck", args.size)
        cache, out, site = work / "cache", work / "out", work / "site"
        ankismith = [sys.executable, "-m", "ankismith"]
        subprocess.run([*ankismith, "build", str(deck), "-o", str(out), "--cache-dir", str(cache)], check=True)
        baseline = [sys.executable, str(HERE / "baseline.py"), str(args.size), str(work / "baseline.apkg")]

        for command in (["check"], ["list"], ["export", "--format", "json"]):
            ours, base = paired([*ankismith, *command, str(deck), "--cache-dir", str(cache)], baseline, work, 5)
            rows.append(f"| `{command[0]}`, unchanged | {ours:.2f} s | {base:.2f} s | {ours / base:.2f}x | 1.5x |")
            print(rows[-1], flush=True)

        server = subprocess.Popen(
            [
                *ankismith,
                "serve",
                str(deck),
                "--port",
                "0",
                "-o",
                str(out),
                "--site",
                str(site),
                "--cache-dir",
                str(cache),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            url = ""
            while not url:
                line = server.stdout.readline() if server.stdout else ""
                if not line:
                    raise SystemExit("the server stopped before serving")
                if found := re.search(r"serving (http://\S+)", line):
                    url = found.group(1)
            threading.Thread(target=lambda: server.stdout and server.stdout.read(), daemon=True).start()
            shown, packaged = [], []
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url + "decks/bench.html")
                back = page.frame_locator('article.entry[data-key="card-1"] figure.side-a iframe').locator("#qa")
                back.get_by_text("checks that the", exact=False).wait_for(timeout=60_000)
                iframe = page.locator('article.entry[data-key="card-1"] figure.side-a iframe')
                frame = iframe.element_handle().content_frame()
                # the frame notes the moment the new text is on show, typeset (no raw TeX left): the
                # page's own clock, not Playwright's polling, which would add its own delay
                frame.evaluate(WATCH)
                source = deck / "part-0000.md"
                original = source.read_text(encoding="utf-8")
                for edit in range(args.edits):
                    marker = f"edit number {edit} at {time.time_ns()}"
                    text = original.replace("Card 1 checks", f"Card 1 ({marker}) checks")
                    apkg = out / "bench.apkg"
                    frame.evaluate("(marker) => { window.amMarker = marker; window.amSeen = 0; }", marker)
                    before = apkg.stat().st_mtime_ns
                    written = time.time()
                    start = time.perf_counter()
                    source.write_text(text, encoding="utf-8")
                    while apkg.stat().st_mtime_ns == before:  # a stat is cheap: it steals no time to measure
                        time.sleep(0.002)
                    packaged.append(time.perf_counter() - start)
                    assert apkg_holds(apkg, marker.encode()), "the package written is not the edited one"
                    frame.wait_for_function("() => window.amSeen > 0", timeout=30_000)
                    shown.append(frame.evaluate("() => window.amSeen") / 1000 - written)
                    time.sleep(0.5)  # let the server settle before the next save
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
        base = statistics.median(wall(baseline, work) for _ in range(5))
        rows.append(f"| edit shown in the page | {statistics.median(shown):.2f} s | - | - | 0.5 s |")
        rows.append(
            f"| edit in the .apkg on disk | {statistics.median(packaged):.2f} s | {base:.2f} s "
            f"| {statistics.median(packaged) / base:.2f}x | 1.0x |"
        )
        print("\n".join(rows[-2:]))
        print(
            f"(each of {args.edits} edits: shown {', '.join(f'{s:.2f}' for s in shown)} s; "
            f"packaged {', '.join(f'{s:.2f}' for s in packaged)} s)"
        )
    if args.record:
        machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        header = (
            f"\n### serve, {args.size:,} cards: {datetime.date.today().isoformat()} ({machine})\n\n"
            "| what | ankismith | baseline | ratio | target |\n|---|---:|---:|---:|---:|\n"
        )
        with open(HERE / "README.md", "a", encoding="utf-8") as readme:
            readme.write(header + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
