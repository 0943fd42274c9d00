"""The answer box and the verdicts are readable in day and night mode and fit a 360 px phone.

Set ANKISMITH_SHOTS=/some/folder to also save screenshots of every case there, to look at them.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from .built_cards import rendered_cards
from .checks import expected_answer, typed_for
from .harness import AnkiDroid, Desktop
from .origin import TIMEZONE
from .pool_cards import pool_cards

WHEN = datetime(2026, 5, 4, 10, 0, tzinfo=ZoneInfo(TIMEZONE))
SHOTS = os.environ.get("ANKISMITH_SHOTS")

# The text colour of an element and the colour behind it (translucent layers composited), as RGB.
COLOURS = """(selector) => {
  const el = document.querySelector(selector);
  const rgba = (c) => {
    const p = c.match(/[\\d.]+/g).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const layers = [];
  for (let n = el; n; n = n.parentElement) {
    const c = rgba(getComputedStyle(n).backgroundColor);
    if (c[3] > 0) layers.push(c);
    if (c[3] === 1) break;
  }
  let bg = [255, 255, 255];
  for (const c of layers.reverse()) bg = bg.map((x, i) => c[i] * c[3] + x * (1 - c[3]));
  return { fg: rgba(getComputedStyle(el).color).slice(0, 3), bg };
}"""


def contrast(fg: list[float], bg: list[float]) -> float:
    """WCAG 2 contrast ratio."""

    def luminance(rgb: list[float]) -> float:
        c = [x / 255 for x in rgb]
        c = [x / 12.92 if x <= 0.04045 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def readable(page: object, selector: str, minimum: float = 4.5) -> None:
    colours = page.evaluate(COLOURS, selector)  # type: ignore[attr-defined]
    ratio = contrast(colours["fg"], colours["bg"])
    assert ratio >= minimum, f"{selector}: contrast {ratio:.2f} ({colours})"


def shoot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def fits(page: object, width: int) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
    assert overflow <= width, f"the page is {overflow} px wide on a {width} px screen"


THEMES = {
    "day": {"night": False, "viewport": {"width": 800, "height": 700}},
    "night": {"night": True, "viewport": {"width": 800, "height": 700}},
    # AnkiDroid's classic reviewer, and its new study screen (Anki's own one-page reviewer)
    "phone-day": {"night": False, "viewport": {"width": 360, "height": 740}, "client": AnkiDroid},
    "phone-night": {"night": True, "viewport": {"width": 360, "height": 740}},
}


@pytest.mark.parametrize("theme", THEMES)
def test_box_and_verdicts_are_readable(new_context, site, theme):
    options = THEMES[theme]
    context = new_context(viewport=options["viewport"])  # AnkiDroid's WebView lays out at the screen's width
    client = options.get("client", Desktop)(context, site, night=options["night"])
    width = options["viewport"]["width"]
    card = rendered_cards()["matrix-sum" if width < 400 else "product-sum"]
    for kind, verdict in (("exact", "correct"), ("wrong", "wrong"), ("blank", "blank")):
        front = client.at(WHEN).front(card)
        typed, _ = typed_for(card.name, expected_answer(card.name, front), kind)
        client.page.fill("[data-am=box] input", typed)
        if kind == "exact":
            readable(client.page, "[data-am=box] input")
            box = client.page.locator("[data-am=box] input").bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= width and box["width"] >= 200
            fits(client.page, width)
            shoot(client.page, f"{theme}-front")
        back = client.at(WHEN).type_and_flip(card, typed)
        assert back.verdict == verdict
        readable(client.page, ".verdict .am-verdict-label")
        if verdict != "blank":
            readable(client.page, ".verdict .am-typed")
        fits(client.page, width)
        shoot(client.page, f"{theme}-back-{verdict}")
    assert client.problems == []


@pytest.mark.parametrize("theme", THEMES)
def test_parts_and_a_named_mistake_are_readable(new_context, site, theme):
    """A card of three parts: each box labelled; on the back a verdict per part, one naming a mistake."""
    options = THEMES[theme]
    context = new_context(viewport=options["viewport"])
    client = options.get("client", Desktop)(context, site, night=options["night"])
    width = options["viewport"]["width"]
    card = pool_cards()["multi"]
    front = client.at(WHEN).front(card)
    loss, dw2, _ = card.pool["instances"][front.index]["parts"]
    readable(client.page, "[data-am=box] label.am-part")
    for box in client.page.locator("[data-am=box] input").all():
        bounds = box.bounding_box()
        assert bounds and bounds["x"] >= 0 and bounds["x"] + bounds["width"] <= width and bounds["width"] >= 200
    fits(client.page, width)
    shoot(client.page, f"{theme}-parts-front")
    matrix = "; ".join(" ".join(str(x) for x in row) for row in dw2["value"])
    back = client.at(WHEN).type_and_flip(card, [loss["mistakes"][0]["shown"], matrix, ""])
    assert [v["verdict"] for v in back.verdicts] == ["wrong", "correct", "blank"] and back.verdicts[0]["mistake"]
    for selector in (".verdict[data-part=loss] .am-part", ".verdict[data-part=loss] .am-mistake", ".verdict .am-typed"):
        readable(client.page, selector)
    readable(client.page, ".verdict[data-part=dW2] .am-verdict-label")
    fits(client.page, width)
    shoot(client.page, f"{theme}-parts-back")
    assert client.problems == []
