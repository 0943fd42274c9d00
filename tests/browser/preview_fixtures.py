"""The preview's browser fixtures, shared by its test modules: contexts that reach only this
machine, and `serve` running on a small deck."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ankismith.preview.serve import Server


@pytest.fixture
def local_context(browser: object) -> Iterator[object]:
    """Contexts for the preview: its pages come from disk or from the server on this machine; a
    request anywhere else fails the test (the preview works without a network)."""
    contexts, elsewhere = [], []

    def route(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if url.startswith(("file://", "http://127.0.0.1:")):
            route.continue_()  # type: ignore[attr-defined]
        else:
            elsewhere.append(url)
            route.abort()  # type: ignore[attr-defined]

    def make(**options: object) -> object:
        options.setdefault("viewport", {"width": 1280, "height": 900})
        context = browser.new_context(**options)  # type: ignore[attr-defined]
        context.route("**/*", route)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()
    assert elsewhere == []


CARDS = "## First {#first}\nOne.\n\n## Second {#second}\nTwo, with $x^2$.\n"


@pytest.fixture
def server(tmp_path: Path, mathjax_dir: Path) -> Iterator[tuple[Server, Path]]:
    deck = tmp_path / "deck"
    deck.mkdir()
    (deck / "deck.yaml").write_text('name: "Live"\nid: live\n')
    (deck / "cards.md").write_text(CARDS)
    server = Server(
        [deck], tmp_path / "dist", tmp_path / "site", (mathjax_dir / "tex-chtml-full.js").as_uri(), None, port=0
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server._serving.is_alive():  # the first build, then the server is up
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    yield server, deck
    server.stop()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the server did not stop"
    assert sorted(p.name for p in (tmp_path / "dist").iterdir()) == ["live.apkg"]  # no half-written file
