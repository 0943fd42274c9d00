"""Headless Chromium with MathJax 3.2.2 for the card-script tests; skipped (or, in CI, failed) without them."""

from __future__ import annotations

import functools
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from .origin import CHROMIUM_ARGS, DEFAULT_MATHJAX, MATHJAX_VERSION, Site, make_context
from .preview_fixtures import local_context, server  # noqa: F401 (the preview's fixtures)

SKIPPED = "browser tests skipped, missing:"  # every skip reason of ours starts so (the summary line counts them)


@dataclass(frozen=True)
class _Piece:
    """Something the browser tests need, and how to get it."""

    name: str
    install: str


def _chromium() -> str | None:
    found = os.environ.get("ANKISMITH_CHROMIUM") or shutil.which("chromium")
    return str(found) if found and Path(found).exists() else None


def _mathjax() -> tuple[Path | None, str]:
    """The es5/ folder of the mathjax 3.2.2 npm package (ANKISMITH_MATHJAX may name it, its package
    or npm's prefix), or None and what was found instead."""
    base = Path(os.environ.get("ANKISMITH_MATHJAX") or DEFAULT_MATHJAX).expanduser()
    # the es5/ folder itself, the package folder, or the folder npm installed into (--prefix)
    found = [
        d
        for d in (base, base / "es5", base / "node_modules" / "mathjax" / "es5")
        if (d / "tex-chtml-full.js").is_file()
    ]
    if not found:
        return None, ""
    manifest = found[0].parent / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("version") != MATHJAX_VERSION:
        return None, f"{manifest} is another version; "
    return found[0], ""


def _playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


@functools.cache
def _absent() -> tuple[_Piece, ...]:
    """Every piece this machine lacks, each with how to install it: all of them, in one message."""
    absent = []
    if _chromium() is None:
        absent.append(_Piece("Chromium", "apt-get install -y chromium, or set ANKISMITH_CHROMIUM to its path"))
    es5, found = _mathjax()
    if es5 is None:
        absent.append(
            _Piece(
                f"MathJax {MATHJAX_VERSION}",
                f"{found}npm install --prefix ~/.cache/ankismith/mathjax-{MATHJAX_VERSION} mathjax@{MATHJAX_VERSION}, "
                "or set ANKISMITH_MATHJAX to its folder",
            )
        )
    if not _playwright():
        absent.append(_Piece("Playwright for Python", "pip install -e '.[test]'"))
    return tuple(absent)


def _missing_pieces() -> str:
    return "; ".join(f"{piece.name} ({piece.install})" for piece in _absent())


def _require() -> None:
    """Skip with a reason naming every missing piece, or fail where CI demands the browser tests run."""
    if not _absent():
        return
    if os.environ.get("ANKISMITH_REQUIRE_BROWSER") == "1":
        pytest.fail(
            f"browser tests cannot run, missing: {_missing_pieces()} (ANKISMITH_REQUIRE_BROWSER=1: they must run)",
            pytrace=False,
        )
    pytest.skip(f"{SKIPPED} {_missing_pieces()}")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """One line under the results saying why browser tests were skipped and how to run them."""
    ours = [r for r in terminalreporter.stats.get("skipped", []) if SKIPPED in str(r.longrepr)]
    if ours:
        terminalreporter.write_line(f"{len(ours)} {SKIPPED} {_missing_pieces()}", yellow=True, bold=True)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    _require()
    return str(_chromium())


@pytest.fixture(scope="session")
def mathjax_dir() -> Path:
    """The es5/ folder of the mathjax 3.2.2 npm package."""
    _require()
    es5, _ = _mathjax()
    assert es5 is not None
    return es5


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    """One Chromium for the whole session; each test opens its own contexts."""
    _require()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def site(mathjax_dir: Path) -> Site:
    return Site(mathjax_dir)


@pytest.fixture
def new_context(browser: object, site: Site) -> Iterator[Callable[..., object]]:
    """Make contexts for one test; closed after it, which must not have asked for anything off the site."""
    contexts: list[object] = []
    refused_before = len(site.refused)

    def make(**options: object) -> object:
        contexts.append(make_context(browser, site, **options))
        return contexts[-1]

    yield make
    for context in contexts:
        context.close()  # type: ignore[attr-defined]
    assert site.refused[refused_before:] == [], "a card page asked for something outside the fake origin"
