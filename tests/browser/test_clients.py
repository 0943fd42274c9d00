"""The numeric card on each Anki client over 60 days: same instance front and back, right answer, verdicts.

Anki desktop keeps one page for a whole session and so does AnkiDroid's WebView: the `desktop` and
`droid` clients live for this module, as they would. Every client shows a card every day of the 60
(each AnkiDroid side is a new page that starts MathJax afresh: about 0.3 s a side here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .built_cards import RenderedCard, card_js, rendered_cards
from .checks import KINDS, assert_answer_fits_front, expected_answer, expected_index, typed_for
from .harness import AnkiDroid, Desktop, Side, scripts_off_side
from .origin import TIMEZONE, make_context

ZONE = ZoneInfo(TIMEZONE)
START = datetime(2026, 2, 20, 9, 30, tzinfo=ZONE)  # New York switches to summer time on 2026-03-08
DAYS = 60
TYPED_CARDS = ("product-sum", "matrix-sum", "ratio")
MARKUP = '<img src="x" onerror="window.pwned = 1"><b>1</b>'


@pytest.fixture(scope="module")
def cards() -> dict[str, RenderedCard]:
    return rendered_cards()


def long_lived(client: Desktop | AnkiDroid) -> Iterator[Desktop | AnkiDroid]:
    yield client
    problems, client.problems[:] = client.problems[:], []
    assert problems == [], "the page reported errors"


def module_client(browser, site, kind: type[Desktop] | type[AnkiDroid]) -> Iterator[Desktop | AnkiDroid]:
    refused_before = len(site.refused)
    context = make_context(browser, site)
    yield kind(context, site)
    context.close()
    assert site.refused[refused_before:] == [], "a card page asked for something outside the fake origin"


@pytest.fixture(scope="module")
def desktop_page(browser, site) -> Iterator[Desktop]:
    yield from module_client(browser, site, Desktop)


@pytest.fixture(scope="module")
def droid_device(browser, site) -> Iterator[AnkiDroid]:
    yield from module_client(browser, site, AnkiDroid)


@pytest.fixture
def desktop(desktop_page: Desktop) -> Iterator[Desktop]:
    yield from long_lived(desktop_page)


@pytest.fixture
def droid(droid_device: AnkiDroid) -> Iterator[AnkiDroid]:
    yield from long_lived(droid_device)


def day(i: int, hour: int = 9, minute: int = 30, second: int = 0) -> datetime:
    return (START + timedelta(days=i)).replace(hour=hour, minute=minute, second=second)


def check_front(card: RenderedCard, front: Side, when: datetime) -> None:
    assert front.index == expected_index(card.pool, when), f"{card.name} on {when:%Y-%m-%d}: not the day's instance"
    assert front.box == card.pool["type"]
    assert front.verdict is None
    assert front.merrors == 0 and not front.raw_math, front.visible


def check_back(card: RenderedCard, front: Side, back: Side, typed: str, verdict: str) -> None:
    assert back.index == front.index, f"{card.name}: front showed instance {front.index}, back {back.index}"
    assert back.question == front.question
    assert back.question_scale == front.question_scale, "the question's math was measured in another font"
    assert_answer_fits_front(card.name, front, back)
    assert back.solution, f"{card.name}: no worked solution on the back"
    assert back.merrors == 0 and not back.raw_math, back.visible
    assert back.verdict_count == 1 and back.verdict == verdict, (typed, back.verdict_text)
    assert back.typed_shown == (typed if verdict != "blank" else None)
    assert set(re.findall(r"<(\w+)", back.verdict_html or "")) <= {"span"}, "typed text became HTML"


def review(client: Desktop | AnkiDroid, card: RenderedCard, when: datetime, kind: str, later: int = 40) -> Side:
    """Front at `when`, the answer of `kind` typed, Enter, back `later` seconds on; both sides checked."""
    front = client.at(when).front(card)
    check_front(card, front, when)
    typed, verdict = typed_for(card.name, expected_answer(card.name, front), kind)
    if kind == "markup":
        typed, verdict = MARKUP, "wrong"
    back = client.at(when + timedelta(seconds=later)).type_and_flip(card, typed)
    check_back(card, front, back, typed, verdict)
    assert client.page.evaluate("window.pwned") is None
    return front


def test_desktop_one_page_for_sixty_days(desktop, cards):
    """Anki desktop: front, typing, Enter, back swapped into #qa; a typed card every day.

    Every tenth day the card comes back twenty minutes later (a relearning step) and is flipped
    without typing: the earlier review's answer must not show up.
    """
    seen: dict[str, set[int]] = {name: set() for name in TYPED_CARDS}
    for i in range(DAYS):
        card = cards[TYPED_CARDS[i % len(TYPED_CARDS)]]
        seen[card.name].add(review(desktop, card, day(i), (KINDS + ("markup",))[i % (len(KINDS) + 1)]).index)
        if i % 10 == 0:
            review(desktop, card, day(i, 9, 50), "blank")
    for name, indices in seen.items():  # each card came up on 20 of the days
        assert len(indices) > len(cards[name].pool["instances"]) / 2, f"{name}: only instances {sorted(indices)}"


def test_ankidroid_new_page_per_side_across_sixty_days(droid, cards):
    """AnkiDroid: every side a new page (globals gone); the typed answer comes through sessionStorage."""
    seen: dict[str, set[int]] = {name: set() for name in TYPED_CARDS}
    for i in range(DAYS):
        card = cards[TYPED_CARDS[i % len(TYPED_CARDS)]]
        seen[card.name].add(review(droid, card, day(i, hour=21), (KINDS + ("markup",))[i % (len(KINDS) + 1)], 50).index)
        if i % 16 == 0:
            review(droid, card, day(i, 21, 20), "blank")  # shown again, flipped untyped: nothing carried
    for name, indices in seen.items():  # each card came up on 20 of the days
        assert len(indices) > len(cards[name].pool["instances"]) / 2, f"{name}: only instances {sorted(indices)}"


def test_back_alone_for_sixty_days(new_context, site, cards):
    """A back shown with no front (AnkiWeb, previews): the day's instance, complete, 'blank'; most of the pool."""
    alone = Desktop(new_context(), site)
    seen: set[int] = set()
    for i in range(DAYS):
        for name in ("product-sum", TYPED_CARDS[1 + i % 2]) if i % 3 == 0 else ("product-sum",):
            card = cards[name]
            back = alone.at(day(i, hour=7)).back(card)
            assert back.index == expected_index(card.pool, day(i, hour=7))
            assert_answer_fits_front(name, back, back)  # the back repeats the question and its numbers
            assert back.verdict == "blank" and back.typed_shown is None
            assert back.merrors == 0 and not back.raw_math
            if name == "product-sum":
                seen.add(back.index)
    pool = cards["product-sum"].pool["instances"]
    assert len(seen) >= 0.8 * len(pool), f"60 days showed only instances {sorted(seen)} of {len(pool)}"
    assert alone.problems == []


def test_scripts_off_show_the_given_instance_complete(new_context, site, cards):
    """Anki's browser, search, exporters: no scripts; the static fields are the first instance, whole."""
    context = new_context(java_script_enabled=False)
    page = context.new_page()
    for name, card in cards.items():
        front = scripts_off_side(page, site, card, "front")
        back = scripts_off_side(page, site, card, "back")
        first = card.pool["instances"][0]
        assert front.shown is None and back.shown is None  # nothing rewrote the slots
        assert not front.box and back.verdict is None
        assert front.question == back.question and front.question
        assert "am-pool" not in front.visible and '"instances"' not in front.visible
        assert back.answer and (back.solution or not first["solution"])
        if name in TYPED_CARDS:
            assert_answer_fits_front(name, front, back)


def test_crossing_midnight_keeps_the_fronts_instance(desktop, droid, new_context, site, cards):
    """Front at 23:59:40, back at 00:00:20: the back follows the front, not the new day."""
    card = cards["product-sum"]
    night = next(i for i in range(70, 99) if expected_index(card.pool, day(i)) != expected_index(card.pool, day(i + 1)))
    before, after = day(night, 23, 59, 40), day(night + 1, 0, 0, 20)
    for client in (desktop, droid):
        front = review(client, card, before, "exact", later=40)
        assert front.index == expected_index(card.pool, before)
    alone = AnkiDroid(new_context(), site).at(after).back(card)
    assert alone.index == expected_index(card.pool, after) != expected_index(card.pool, before)


def test_storage_that_throws(desktop, new_context, site, cards):
    """Storage may be missing or throw (AnkiDroid has lost it): same instance, no error; on AnkiDroid 'blank'."""
    card = cards["matrix-sum"]
    broken = (
        "Object.defineProperty(window, 'sessionStorage',"
        " {get() { throw new DOMException('no', 'SecurityError'); }, configurable: true})"
    )
    context = new_context()
    context.add_init_script(broken + ";")
    droid = AnkiDroid(context, site)
    front = droid.at(day(100)).front(card)
    typed, _ = typed_for(card.name, expected_answer(card.name, front), "exact")
    check_back(card, front, droid.at(day(100, second=30)).type_and_flip(card, typed), typed, "blank")
    assert droid.problems == []
    desktop.page.evaluate(broken)  # one page: the window carries the answer
    try:
        review(desktop, card, day(100), "exact")
    finally:
        desktop.page.evaluate("delete window.sessionStorage")


def test_untyped_and_single_instance_cards(desktop, cards):
    """type: false has no box and no verdict but fresh numbers; a one-instance note is graded; N × N sizes."""
    untyped = cards["untyped"]
    for i in (200, 201, 202):
        front = desktop.at(day(i)).front(untyped)
        assert not front.box and front.index == expected_index(untyped.pool, day(i))
        back = desktop.back(untyped)
        assert back.index == front.index and back.verdict is None and back.verdict_count == 0
    fixed = cards["conv-fixed"]
    for typed, verdict in (
        ("5x5", "correct"),
        ("5 \u00d7 5", "correct"),
        (" 5 ", "correct"),
        ("5x6", "wrong"),
        ("6", "wrong"),
    ):
        front = desktop.at(day(203)).front(fixed)
        assert front.index == 0 and front.box
        back = desktop.at(day(203, second=20)).type_and_flip(fixed, typed)
        assert back.verdict == verdict, typed
        assert re.sub(r"\s", "", back.answer or "") == "5×5" and not back.raw_math


def test_a_second_run_of_the_script_changes_nothing(desktop, cards):
    """Anki desktop may run a template's scripts again: the box keeps what was typed, the verdict stays."""
    card = cards["product-sum"]
    rerun = """(code) => new Promise((resolve) => {
      const qa = document.getElementById('qa');
      const changes = [];
      const observer = new MutationObserver((records) => {
        for (const r of records) {
          if (![...r.addedNodes].some((n) => n.nodeName === 'SCRIPT')) changes.push(r.type + ':' + r.target.nodeName);
        }
      });
      observer.observe(qa, { subtree: true, childList: true, attributes: true, characterData: true });
      const script = document.createElement('script');
      script.textContent = code;
      qa.appendChild(script);
      setTimeout(() => { observer.disconnect(); resolve(changes); }, 50);
    })"""
    desktop.at(day(300)).front(card)
    desktop.page.fill("[data-am=box] input", "12.5")
    assert desktop.page.evaluate(rerun, card_js()) == []
    assert desktop.page.input_value("[data-am=box] input") == "12.5"
    assert desktop.page.evaluate("(salt) => ankismith.state[salt].typed", card.pool["salt"]) == ["12.5"]
    back = desktop.at(day(300, second=30)).type_and_flip(card, "12.5")
    desktop.page.evaluate("document.querySelector('.verdict').marked = true")
    assert desktop.page.evaluate(rerun, card_js()) == []
    assert desktop.page.evaluate("document.querySelector('.verdict').marked") is True
    assert back.typed_shown == "12.5"


def test_the_address_can_force_an_instance(desktop, cards):
    """The preview's #am-instance=N: clamped, ignored when malformed; a change re-renders and re-typesets."""
    card = cards["matrix-sum"]
    size = len(card.pool["instances"])
    try:
        for hash_, index in (("#am-instance=5", 5), ("#am-instance=999", size - 1), ("#am-instance=x", None)):
            desktop.page.evaluate("(h) => { history.replaceState(null, '', h); }", hash_)
            front = desktop.at(day(400)).front(card)
            assert front.index == (expected_index(card.pool, day(400)) if index is None else index), hash_
        desktop.page.evaluate("history.replaceState(null, '', '#am-instance=5')")
        front = desktop.front(card)
        typed, _ = typed_for(card.name, expected_answer(card.name, front), "exact")
        back = desktop.type_and_flip(card, typed)
        assert back.index == 5 and back.verdict == "correct"
        desktop.page.evaluate("location.hash = '#am-instance=7'")  # MathJax already typeset this back
        desktop.page.wait_for_function("document.querySelector('[data-am=question]').dataset.amShown === '7'")
        desktop.page.evaluate("MathJax.startup.promise")
        moved = desktop.read()
        assert moved.index == 7 and moved.merrors == 0 and not moved.raw_math, moved.visible
        assert moved.verdict == "blank"  # what was typed belonged to instance 5
        assert_answer_fits_front(card.name, moved, moved)
    finally:
        desktop.page.evaluate("history.replaceState(null, '', location.pathname)")


def test_enter_asks_each_client_to_flip_in_its_own_way(new_context, site, cards):
    """Desktop and classic AnkiDroid are checked by every review; here AnkiDroid's new study screen
    (Anki's reviewer page with its own hook, bridgeCommand a no-op) and a client with no hook at all."""
    card = cards["product-sum"]
    client = Desktop(new_context(), site)
    client.page.evaluate(
        "() => { window.calls = []; window.bridgeCommand = () => {}; window.ankiPlatform = 'ankidroid';"
        " window.ankidroid = { onTypeAnswerKeyDown: (e) => calls.push('hook:' + e.key) };"
        " window.showAnswer = () => calls.push('showAnswer'); }"
    )
    client.at(day(500)).front(card)
    assert client.page.evaluate("document.activeElement.tagName") != "INPUT"  # no focus (keyboard) on phones
    client.page.press("[data-am=box] input", "Enter")
    assert client.page.evaluate("calls") == ["hook:Enter"]

    client.page.evaluate("() => { delete window.ankidroid; delete window.showAnswer; delete window._typeAnsPress; }")
    client.front(card)
    url = client.page.url
    client.page.click("[data-am=box] input")
    client.page.press("[data-am=box] input", "Enter")
    assert client.page.evaluate("document.activeElement.tagName") != "INPUT"  # the keyboard goes away
    assert client.page.url == url and client.page.evaluate("calls") == ["hook:Enter"]
    assert client.problems == []


def test_desktop_focuses_the_box_as_it_does_its_own(desktop, cards):
    desktop.at(day(600)).front(cards["ratio"])
    assert desktop.page.evaluate("document.activeElement.matches('[data-am=box] input')")
