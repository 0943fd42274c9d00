"""Headless Chromium with MathJax 3.2.2 for the card-script tests; skipped (or, in CI, failed) without them."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from .origin import CHROMIUM_ARGS, DEFAULT_MATHJAX, MATHJAX_VERSION, Site, make_context
from .preview_fixtures import local_context, server  # noqa: F401 (the preview's fixtures)


def _missing(message: str) -> None:
    """Skip with a one-line reason, or fail where CI demands the browser tests run."""
    if os.environ.get("ANKISMITH_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message} (ANKISMITH_REQUIRE_BROWSER=1: browser tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    found = os.environ.get("ANKISMITH_CHROMIUM") or shutil.which("chromium")
    if not found or not Path(found).exists():
        _missing("Chromium not found: apt-get install chromium (or set ANKISMITH_CHROMIUM to its path)")
    return str(found)


@pytest.fixture(scope="session")
def mathjax_dir() -> Path:
    """The es5/ folder of the mathjax 3.2.2 npm package (ANKISMITH_MATHJAX may name it, its package or npm's prefix)."""
    hint = (
        f"MathJax {MATHJAX_VERSION} not found: npm install --prefix ~/.cache/ankismith/mathjax-{MATHJAX_VERSION} "
        f"mathjax@{MATHJAX_VERSION} (or set ANKISMITH_MATHJAX to its folder)"
    )
    base = Path(os.environ.get("ANKISMITH_MATHJAX") or DEFAULT_MATHJAX).expanduser()
    # the es5/ folder itself, the package folder, or the folder npm installed into (--prefix)
    found = [
        d
        for d in (base, base / "es5", base / "node_modules" / "mathjax" / "es5")
        if (d / "tex-chtml-full.js").is_file()
    ]
    if not found:
        _missing(hint)
    es5 = found[0]
    manifest = es5.parent / "package.json"
    if manifest.is_file() and json.loads(manifest.read_text()).get("version") != MATHJAX_VERSION:
        _missing(hint + f"; {manifest} is another version")
    return es5


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[object]:
    """One Chromium for the whole session; each test opens its own contexts."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright for Python not installed: pip install -e '.[test]'")
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
