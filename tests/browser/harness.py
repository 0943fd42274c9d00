"""Anki clients as the card sees them, played in Chromium: desktop, AnkiDroid, the back alone, scripts off.

Each client shows a card's front and back the way the real one does (see clients/*.js for the
sources they follow) and returns what a student would see on each side as a `Side`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from .built_cards import RenderedCard
from .origin import Site

# What one side shows: read from the DOM after the client (and MathJax) finished.
READ_SIDE = """(root) => {
  root = root ? document.querySelector(root) : document.body;
  const slot = (name) => root.querySelector('[data-am="' + name + '"]');
  const text = (el) => (el ? el.innerText.trim() : null);
  const cells = (row) => [...row.querySelectorAll(":scope > mtd")].map((c) => c.textContent.trim());
  const rows = (table) => [...table.querySelectorAll(":scope > mtr")].map(cells);
  const tables = (el) => (el ? [...el.querySelectorAll("mjx-assistive-mml mtable")].map(rows) : []);
  const question = slot("question");
  const verdict = root.querySelector('[data-am="verdict"] .verdict');
  const typed = verdict && verdict.querySelector(".am-typed");
  const input = root.querySelector('[data-am="box"] input');
  const typedIn = (v) => v.querySelector(".am-typed");
  const verdicts = [...root.querySelectorAll('[data-am="verdict"] .verdict')].map((v) => ({
    verdict: v.getAttribute("data-verdict"),
    part: v.getAttribute("data-part"),
    mistake: v.getAttribute("data-mistake"),
    text: v.innerText,
    typed: typedIn(v) ? typedIn(v).textContent : null,
    typed_nodes: typedIn(v) ? [...typedIn(v).childNodes].map((n) => n.nodeName) : [],
    mistake_math: v.querySelectorAll(".am-mistake mjx-container").length,
    links: v.querySelectorAll("a, [href]").length,
  }));
  const boxes = [...root.querySelectorAll('[data-am="box"] input')].map((i) => i.getAttribute("data-part"));
  return {
    visible: root.innerText,
    shown: question ? question.getAttribute("data-am-shown") : null,
    question: text(question),
    question_tables: tables(question),
    answer: text(slot("answer")),
    answer_tables: tables(slot("answer")),
    solution: text(slot("solution")),
    extra: text(slot("extra")),
    verdict: verdict ? verdict.getAttribute("data-verdict") : null,
    verdict_count: root.querySelectorAll(".verdict").length,
    verdict_text: verdict ? verdict.innerText : null,
    verdict_html: verdict ? verdict.innerHTML : null,
    typed_shown: typed ? typed.textContent : null,
    box: !!input,
    merrors: root.querySelectorAll("mjx-merror").length,
    question_scale: (question && question.querySelector("mjx-container") || { style: {} }).style.fontSize || null,
    math_tex: [...root.querySelectorAll(".math")].map((m) => m.textContent),
    verdicts,
    boxes,
  };
}"""


@dataclass(frozen=True)
class Side:
    """One side of a card as shown: texts of the slots, matrices read from MathJax's MathML, the verdict."""

    visible: str
    shown: str | None
    question: str | None
    question_tables: list
    answer: str | None
    answer_tables: list
    solution: str | None
    extra: str | None
    verdict: str | None
    verdict_count: int
    verdict_text: str | None
    verdict_html: str | None
    typed_shown: str | None
    box: bool
    merrors: int
    question_scale: str | None  # MathJax's font-size for the question's math: it measures the card's font
    math_tex: list = field(default_factory=list)
    verdicts: list = field(default_factory=list)  # every verdict: part, verdict, mistake, text, typed, ...
    boxes: list = field(default_factory=list)  # every answer box's data-part

    @property
    def index(self) -> int:
        """The instance on show: the slot's mark, or the static first one."""
        return int(self.shown) if self.shown is not None else 0

    @property
    def raw_math(self) -> bool:
        return bool(re.search(r"\\[(\[]", self.visible))


def watch(page: object) -> list[str]:
    """Collect the page's script errors and console errors."""
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"pageerror: {error}"))  # type: ignore[attr-defined]
    page.on(  # type: ignore[attr-defined]
        "console", lambda message: problems.append(f"console: {message.text}") if message.type == "error" else None
    )
    return problems


def ankidroid_page(html: str, night: bool = False) -> str:
    """A card side as AnkiDroid's classic reviewer loads it (AnkiDroid/src/main/assets/card_template.html)."""
    needs_math = bool(re.search(r"\\\(.*?\\\)|\\\[.*?\\\]", html, re.S))
    mathjax = (
        '<script src="/_anki/js/mathjax.js"></script><script src="/_anki/js/vendor/mathjax/tex-chtml-full.js"></script>'
        if needs_math
        else ""
    )
    classes = (
        "card card1" + (" night_mode nightMode" if night else "") + (" mathjax-needs-to-render" if needs_math else "")
    )
    return (
        '<!doctype html>\n<html class="mobile android linux js"><head><title>AnkiDroid Flashcard</title>'
        f'<meta charset="utf-8">{mathjax}<script src="/ankidroid/card.js"></script></head>\n'
        f'<body class="{classes}"><div id="content" dir="auto"><div id="qa">{html}</div></div></body></html>'
    )


DESKTOP_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>main webview</title><script src="/_anki/js/reviewer.js"></script></head>
<body><div id="_mark" hidden>&#x2605;</div><div id="_flag" hidden>&#x2691;</div>
<div id="qa" dir="auto"></div></body></html>
"""


class Client:
    """A page whose sides are read in the same call that shows them (fewer round trips)."""

    def __init__(self, context: object) -> None:
        self.page = context.new_page()  # type: ignore[attr-defined]
        self.page.add_init_script(f"window.readSide = {READ_SIDE};")
        self.problems = watch(self.page)

    def at(self, when: datetime) -> Client:
        self.page.clock.set_fixed_time(when)
        return self

    def side(self, values: dict) -> Side:
        return Side(**values)

    def read(self) -> Side:
        return self.side(self.page.evaluate("readSide('#qa')"))

    def type_and_enter(self, typed: str | list[str]) -> None:
        """Type into each box in turn (a string: the only one) and press Enter in the last."""
        texts = [typed] if isinstance(typed, str) else typed
        boxes = self.page.locator("[data-am=box] input")
        assert boxes.count() == len(texts), f"{boxes.count()} boxes for {len(texts)} answers"
        for i, text in enumerate(texts):
            if text:
                boxes.nth(i).fill(text)
        boxes.nth(len(texts) - 1).press("Enter")


class Desktop(Client):
    """Anki desktop (and AnkiMobile, AnkiDroid's new study screen): one page, each side swapped into #qa."""

    def __init__(self, context: object, site: Site, night: bool = False) -> None:
        super().__init__(context)
        self.bodyclass = "card card1 isLin" + (" nightMode night_mode" if night else "")
        self.page.goto(site.add("/desktop", DESKTOP_PAGE))

    def front(self, card: RenderedCard) -> Side:
        return self.side(
            self.page.evaluate(
                "async ([q, a, c]) => { await _showQuestion(q, a, c); return readSide('#qa'); }",
                [card.question, card.answer, self.bodyclass],
            )
        )

    def type_and_flip(self, card: RenderedCard, typed: str | list[str]) -> Side:
        """Type into the boxes, press Enter (the client's own hook must ask to flip), then show the back."""
        self.type_and_enter(typed)
        asked, back = self.page.evaluate(
            "async (a) => { const asked = bridgeMessages.splice(0); await _showAnswer(a);"
            " return [asked, readSide('#qa')]; }",
            card.answer,
        )
        assert asked == ["ans"], f"Enter in the box should ask Anki to flip, got {asked}"
        return self.side(back)

    def back(self, card: RenderedCard) -> Side:
        return self.side(
            self.page.evaluate("async (a) => { await _showAnswer(a); return readSide('#qa'); }", card.answer)
        )


class AnkiDroid(Client):
    """AnkiDroid's classic reviewer: each side a new page of the same origin (window globals are gone)."""

    def __init__(self, context: object, site: Site, night: bool = False) -> None:
        super().__init__(context)
        self.site = site
        self.night = night
        self.theme = "night" if night else "day"

    def load(self, path: str, html: str) -> Side:
        self.page.goto(self.site.add(path, ankidroid_page(html, self.night)))
        return self.side(self.page.evaluate("async () => { await onPageFinished(); return readSide('#qa'); }"))

    def front(self, card: RenderedCard) -> Side:
        return self.load(f"/ankidroid/{self.theme}/{card.name}/front", card.question)

    def back(self, card: RenderedCard) -> Side:
        return self.load(f"/ankidroid/{self.theme}/{card.name}/back", card.answer)

    def type_and_enter(self, typed: str | list[str]) -> None:
        super().type_and_enter(typed)
        signals = self.page.evaluate("signals.splice(0)")
        assert signals == ["show_answer"], f"Enter in the box should call AnkiDroid's showAnswer(), got {signals}"

    def type_and_flip(self, card: RenderedCard, typed: str | list[str]) -> Side:
        self.type_and_enter(typed)
        return self.back(card)


def scripts_off_side(page: object, site: Site, card: RenderedCard, side: str) -> Side:
    """A side in a page whose context has JavaScript disabled: only what the static fields hold.

    page.evaluate still works there: Playwright runs it, not the page.
    """
    html = card.question if side == "front" else card.answer
    page.goto(site.add(f"/static/{card.name}/{side}", ankidroid_page(html)))  # type: ignore[attr-defined]
    return Side(**page.evaluate(READ_SIDE, "#qa"))  # type: ignore[attr-defined]
