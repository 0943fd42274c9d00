"""The render cache never serves stale HTML: edits, extension settings and versions all change keys."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import write_deck

from ankismith.cards import cache as cache_module
from ankismith.cards import render
from ankismith.cards.cache import CachedRenderer, fingerprint
from ankismith.pipeline import compile_decks


@pytest.fixture(autouse=True)
def fresh_fingerprint() -> None:
    fingerprint.cache_clear()
    yield
    fingerprint.cache_clear()


def backs(deck: Path, cache_dir: Path) -> dict[str, str]:
    return {n.key: dict(n.fields)["Back"] for n in compile_decks([deck], cache_dir=cache_dir).decks[0].notes}


def test_second_build_is_served_from_the_cache(tmp_path: Path) -> None:
    cached = CachedRenderer(tmp_path / "c" / "render.sqlite")
    first = cached.block("**bold** $x$")
    cached.save()
    cached.close()
    again = CachedRenderer(tmp_path / "c" / "render.sqlite", renderer=None)
    assert again.block("**bold** $x$") == first and (again.hits, again.misses) == (1, 0)
    again.close()


def test_an_edited_card_is_rendered_afresh(deck_dir: Path, tmp_path: Path) -> None:
    write_deck(deck_dir, {"a.md": "## Q {#q}\nold **answer**\n## R {#r}\nsame\n"})
    assert backs(deck_dir, tmp_path / "cache")["q"] == "<p>old <strong>answer</strong></p>"
    (deck_dir / "a.md").write_text("## Q {#q}\nnew *answer*\n## R {#r}\nsame\n")
    assert backs(deck_dir, tmp_path / "cache") == {"q": "<p>new <em>answer</em></p>", "r": "<p>same</p>"}


def test_an_extension_setting_changes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "render.sqlite"
    cached = CachedRenderer(path)
    code = "```python\nx = 1\n```"
    before = cached.block(code)
    cached.save()
    cached.close()
    configs = {"pymdown-extensions": {}, "pymdownx.highlight": {"use_pygments": True, "css_class": "code"}}
    monkeypatch.setattr(render, "EXTENSION_CONFIGS", configs)
    fingerprint.cache_clear()
    after = CachedRenderer(path, renderer=render.Renderer())
    fresh = after.block(code)
    assert after.misses == 1 and fresh != before and 'class="code"' in fresh
    after.close()


def test_a_version_upgrade_changes_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "render.sqlite"
    cached = CachedRenderer(path)
    cached.block("text")
    cached.save()
    cached.close()
    real = cache_module.metadata.version
    monkeypatch.setattr(cache_module.metadata, "version", lambda name: "99.0" if name == "markdown" else real(name))
    fingerprint.cache_clear()
    upgraded = CachedRenderer(path)
    upgraded.block("text")
    assert (upgraded.hits, upgraded.misses) == (0, 1)
    upgraded.close()


def test_parallel_warm_gives_the_same_html(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "PARALLEL_MIN", 1)
    monkeypatch.setattr(cache_module.os, "cpu_count", lambda: 2)
    texts = [f"item {i}: $x_{i}$ and **{i}**" for i in range(30)]
    cached = CachedRenderer(tmp_path / "render.sqlite")
    cached.warm(("block", t, None) for t in texts)
    plain = render.Renderer()
    assert [cached.block(t) for t in texts] == [plain.block(t) for t in texts]
    assert cached.misses == 0
    cached.close()
