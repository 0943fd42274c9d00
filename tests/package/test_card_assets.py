"""The card script and stylesheet as files: safe to inline into an Anki template, plain enough for old WebViews.

What they do on a card is tested in Chromium (tests/browser/); these need no browser.
"""

from __future__ import annotations

import re
from importlib import resources

import pytest

ASSETS = resources.files("ankismith.package") / "assets"


@pytest.fixture(scope="module")
def script() -> str:
    return (ASSETS / "card.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def css() -> str:
    return (ASSETS / "numeric.css").read_text(encoding="utf-8")


def test_the_script_survives_inlining_into_a_template(script):
    assert "{{" not in script, "Anki's template engine would read '{{' as a field"
    assert "</script" not in script.lower(), "it would end the <script> element it is inlined into"
    assert "<!--" not in script, "HTML comment syntax inside a <script> changes how the browser parses it"


def test_the_script_is_es2017(script):
    """No syntax that Android WebViews of 2018 cannot parse: optional chaining, ??, class fields, catch without (e)."""
    code = re.sub(r"/\*.*?\*/|//[^\n]*", "", script, flags=re.S)
    assert not re.search(r"\?\.[\w$\[(]", code), "optional chaining (ES2020)"
    assert not re.search(r"\?\?", code), "nullish coalescing (ES2020)"
    assert not re.search(r"\bcatch\s*\{", code), "optional catch binding (ES2019)"
    assert not re.search(r"\b(?:import|export)\b", code), "modules"
    assert not re.search(r"^\s*#\w|\s#\w+\s*[=;(]", code, re.M), "private class fields"
    assert len(script.encode()) < 24_000, "the script is inlined into both templates of every numeric note"


def test_the_script_exposes_its_pure_parts(script):
    names = ("hash32", "dayNumber", "chooseIndex", "forcedIndex", "parseNumber", "parseAnswer", "grade", "render")
    for name in (*names, "matchingMistakes", "RAW_MATH"):
        assert f"api.{name} = " in script


def test_every_coloured_rule_has_a_night_mode_twin(css):
    """A colour set for day mode but not for night mode is unreadable on one of the two."""
    day = set()
    night = set()
    for selectors, body in re.findall(r"([^{}]+)\{([^}]*)\}", re.sub(r"/\*.*?\*/", "", css, flags=re.S)):
        if not re.search(r"(?<![-\w])(?:color|background-color)\s*:", body):
            continue
        for selector in (s.strip() for s in selectors.split(",")):
            if selector.startswith((".nightMode ", ".night_mode ")):
                night.add(selector.split(" ", 1)[1])
            else:
                day.add(selector)
    assert day and day <= night, f"no night-mode colours for {sorted(day - night)}"
