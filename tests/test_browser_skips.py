"""What pytest says when the browser tests cannot run: one line naming every missing piece and how
to install it (the README promises it), a failure instead under ANKISMITH_REQUIRE_BROWSER=1, and
no such line when everything is there. Each case is a real pytest run of the browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

SOME_BROWSER_TESTS = "tests/browser/test_card_functions.py"
CHROMIUM = "Chromium (apt-get install -y chromium, or set ANKISMITH_CHROMIUM to its path)"
MATHJAX = (
    "MathJax 3.2.2 (npm install --prefix ~/.cache/ankismith/mathjax-3.2.2 mathjax@3.2.2, or set ANKISMITH_MATHJAX "
    "to its folder)"
)
PLAYWRIGHT = "Playwright for Python (pip install -e '.[test]')"


def run_browser_tests(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """pytest on some browser tests, with an environment made of `env` and nothing of ours inherited."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("ANKISMITH_") and k != "PYTHONPATH"}
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", SOME_BROWSER_TESTS, *args]
    return subprocess.run(command, cwd=REPO, env={**base, **env}, capture_output=True, text=True, timeout=600)


def no_chromium(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "bin").mkdir(exist_ok=True)
    return {"PATH": str(tmp_path / "bin")}  # `chromium` is looked up on PATH


def no_mathjax(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "mathjax").mkdir(exist_ok=True)
    return {"ANKISMITH_MATHJAX": str(tmp_path / "mathjax")}


def no_playwright(tmp_path: Path) -> dict[str, str]:
    shadow = tmp_path / "shadow" / "playwright"
    shadow.mkdir(parents=True, exist_ok=True)
    (shadow / "__init__.py").write_text("raise ImportError('Playwright is not installed here')\n")
    return {"PYTHONPATH": str(tmp_path / "shadow")}


def fake_chromium(tmp_path: Path) -> dict[str, str]:
    """A file where Chromium should be: found, never launched (the tests skip before that)."""
    (tmp_path / "chromium").write_text("")
    return {"ANKISMITH_CHROMIUM": str(tmp_path / "chromium")}


def skip_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "browser tests skipped" in line]


def test_one_line_names_every_missing_piece_and_how_to_install_it(tmp_path: Path) -> None:
    done = run_browser_tests(tmp_path, **no_chromium(tmp_path), **no_mathjax(tmp_path), **no_playwright(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    skipped = int(done.stdout.strip().splitlines()[-1].split(" skipped")[0])
    assert skipped > 10
    assert skip_lines(done.stdout) == [f"{skipped} browser tests skipped, missing: {CHROMIUM}; {MATHJAX}; {PLAYWRIGHT}"]


def test_the_line_names_only_what_is_missing_and_so_does_each_skip_reason(tmp_path: Path) -> None:
    done = run_browser_tests(tmp_path, "-rs", **fake_chromium(tmp_path), **no_mathjax(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = skip_lines(done.stdout)
    assert lines[-1].endswith(f" browser tests skipped, missing: {MATHJAX}")
    assert len([line for line in lines if not line.startswith("SKIPPED")]) == 1
    reasons = [line for line in lines if line.startswith("SKIPPED")]  # -rs: each reason says the same
    assert reasons and all(line.endswith(f": browser tests skipped, missing: {MATHJAX}") for line in reasons)


def test_require_browser_turns_the_skips_into_failures(tmp_path: Path) -> None:
    env = {**no_chromium(tmp_path), **no_mathjax(tmp_path), "ANKISMITH_REQUIRE_BROWSER": "1"}
    done = run_browser_tests(tmp_path, "-x", **env)
    assert done.returncode == 1
    assert skip_lines(done.stdout) == []
    assert (
        f"\nbrowser tests cannot run, missing: {CHROMIUM}; {MATHJAX} (ANKISMITH_REQUIRE_BROWSER=1: they must run)\n"
    ) in done.stdout
    assert done.stdout.strip().splitlines()[-1].startswith("1 error")  # at setup: the fixtures refuse


def test_with_everything_there_no_line(tmp_path: Path) -> None:
    mathjax = os.environ.get("ANKISMITH_MATHJAX", "")
    probe = run_browser_tests(tmp_path, "-k", "test_hash_is_the_documented_one", ANKISMITH_MATHJAX=mathjax)
    if skip_lines(probe.stdout):
        pytest.skip("this machine lacks a piece the browser tests need (see the line of the browser tests)")
    assert probe.returncode == 0, probe.stdout + probe.stderr
    assert probe.stdout.strip().splitlines()[-1].startswith("1 passed")
