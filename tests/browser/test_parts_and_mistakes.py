"""Pool format 2 on the clients: a box and a verdict per part, named mistakes, units and multipliers,
an explicit tolerance on whole answers; notes of format 1 still graded, a future format left as the
static card, and what was typed never typeset (issue 17). The pools are hand-written (pool_cards.py),
so the answers expected here are the values written there."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from .built_cards import RenderedCard
from .checks import expected_index
from .harness import AnkiDroid, Desktop, Side
from .origin import TIMEZONE
from .pool_cards import FLOOR, HALF, PLUS_ONE, STRIDE, pool_cards

ZONE = ZoneInfo(TIMEZONE)
WHEN = datetime(2026, 5, 4, 10, 0, tzinfo=ZONE)
HREF = r"\(\href{javascript:alert(1)}{x}\)"
CLIENTS = {"desktop": Desktop, "ankidroid": AnkiDroid}


@pytest.fixture(scope="module")
def cards() -> dict[str, RenderedCard]:
    return pool_cards()


def parts_of(card: RenderedCard, front: Side) -> list[dict]:
    """The parts of the instance the front shows, after checking it is the day's."""
    assert front.index == expected_index(card.pool, WHEN)
    return card.pool["instances"][front.index]["parts"]


def review(client: Desktop | AnkiDroid, card: RenderedCard, typed: str | list[str]) -> tuple[list[dict], Side]:
    """Front, typing, Enter, back; the back must be whole (no raw or broken math)."""
    parts = parts_of(card, client.at(WHEN).front(card))
    back = client.at(WHEN + timedelta(seconds=30)).type_and_flip(card, typed)
    assert back.merrors == 0 and not back.raw_math, back.visible
    assert back.index == expected_index(card.pool, WHEN)
    return parts, back


def matrix_text(rows: list[list[int]]) -> str:
    return "; ".join(" ".join(str(x) for x in row) for row in rows)


def test_every_part_has_its_labelled_box_and_its_own_verdict(new_context, site, cards):
    card = cards["multi"]
    desktop = Desktop(new_context(), site)
    front = desktop.at(WHEN).front(card)
    parts = parts_of(card, front)
    assert front.boxes == ["loss", "dW2", "energy"]
    for part in parts:  # a <label> names each box: "(a) loss"
        box = desktop.page.get_by_role("textbox", name=f"{part['label']} {part['name']}", exact=True)
        assert box.get_attribute("data-part") == part["name"]
    hints = desktop.page.eval_on_selector_all("[data-am=box] input", "(els) => els.map((e) => e.enterKeyHint)")
    assert hints == ["next", "next", "done"]
    shown = desktop.page.eval_on_selector_all("[data-am=box] input", "(els) => els.map((e) => e.placeholder)")
    assert shown == ["your answer", "rows separated by ;  e.g. 1 2; 3 4", "your answer"]  # dW2 is a matrix
    assert desktop.page.evaluate("document.activeElement.dataset.part") == "loss"  # desktop focuses the first box

    desktop.page.locator("[data-part=loss]").press("Enter")  # Enter in a box that is not the last moves on
    assert desktop.page.evaluate("document.activeElement.dataset.part") == "dW2"
    assert desktop.page.evaluate("bridgeMessages.splice(0)") == [], "Enter before the last box must not flip"

    loss, dw2, energy = parts
    _, back = review(desktop, card, [loss["mistakes"][0]["shown"], matrix_text(dw2["value"]), "1 J"])
    assert [(v["part"], v["verdict"], v["mistake"]) for v in back.verdicts] == [
        ("loss", "wrong", HALF),
        ("dW2", "correct", None),
        ("energy", "wrong", None),
    ]
    assert back.verdicts[0]["text"].startswith("(a) loss") and back.verdicts[2]["text"].startswith("(c) energy")
    assert back.verdicts[0]["mistake_math"] == 1, "the mistake's formula is typeset"

    _, back = review(desktop, card, [loss["shown"], "1 2; 3 4", ""])
    assert [(v["part"], v["verdict"], v["typed"]) for v in back.verdicts] == [
        ("loss", "correct", loss["shown"]),
        ("dW2", "wrong", "1 2; 3 4"),
        ("energy", "blank", None),
    ]
    _, back = review(desktop, card, ["", "", f"{energy['value'] / 1000}k J"])  # k before the unit: thousands
    assert [v["verdict"] for v in back.verdicts] == ["blank", "blank", "correct"]
    assert desktop.problems == []


@pytest.mark.parametrize("client", CLIENTS)
def test_a_wrong_answer_that_a_classic_mistake_gives_is_named(new_context, site, cards, client):
    """Desktop keeps one page; AnkiDroid loads a new page for the back, which must name the mistake too."""
    card = cards["floor"]
    reviewer = CLIENTS[client](new_context(), site)
    parts, back = review(reviewer, card, "")
    size = parts[0]["value"]
    floor_value = parts[0]["mistakes"][0]["value"]

    _, back = review(reviewer, card, f"{floor_value}")
    (verdict,) = back.verdicts
    assert (verdict["verdict"], verdict["mistake"], verdict["part"]) == ("wrong", FLOOR, None)
    assert f"This is what you get if {FLOOR}" in verdict["text"]
    assert verdict["mistake_math"] == 1

    _, back = review(reviewer, card, f" {size - 1} ")  # two mistakes give this number: both are named
    (verdict,) = back.verdicts
    assert verdict["mistake"] == PLUS_ONE
    assert f"if {PLUS_ONE}" in verdict["text"] and f", or if {STRIDE}" in verdict["text"]
    assert verdict["mistake_math"] == 2

    for typed, kind in ((str(size), "correct"), (str(size + 7), "wrong")):
        _, back = review(reviewer, card, typed)
        assert back.verdict == kind and back.verdicts[0]["mistake"] is None and "what you get" not in back.visible
    assert reviewer.problems == []


@pytest.mark.parametrize(
    ("name", "typed", "verdict"),
    [
        ("energy", "90 J", "correct"),
        ("energy", "90J", "correct"),
        ("energy", "90", "correct"),
        ("energy", "89.5 J", "correct"),  # the card's explicit tolerance (1 %) covers its whole answer
        ("energy", "0.09 kJ", "correct"),
        ("energy", "90 j", "wrong"),
        ("energy", "90 N", "wrong"),
        ("energy", "88 J", "wrong"),
        ("count", "61.706k", "correct"),
        ("count", "61.706 k", "correct"),
        ("count", "61,706", "correct"),
        ("count", "61.7k", "wrong"),  # the default tolerance: a whole answer is exact
        ("count", "61706.5", "wrong"),
        ("size", "1.5 MB", "correct"),
        ("size", "1.5MB", "correct"),
        ("size", "1.5", "correct"),
        ("size", "1.5M", "wrong"),  # M without the unit is a million
        ("size", "1.5 mb", "wrong"),
    ],
)
def test_units_multipliers_and_an_explicit_tolerance(desktop_page, cards, name, typed, verdict):
    card = cards[name]
    _, back = review(desktop_page, card, typed)
    assert back.verdict == verdict and back.typed_shown == typed.strip()
    assert back.verdicts[0]["part"] is None, "a one-answer card keeps today's verdict element"


@pytest.fixture(scope="module")
def desktop_page(browser, site):
    from .origin import make_context

    context = make_context(browser, site)
    page = Desktop(context, site)
    yield page
    assert page.problems == []
    context.close()


def test_format_one_notes_are_graded_as_before(new_context, site, cards):
    """Notes in collections keep pool format 1 until updated; a record of the older script (typed as one
    string) still reaches the back."""
    card = cards["legacy"]
    desktop = Desktop(new_context(), site)
    front = desktop.at(WHEN).front(card)
    value = card.pool["instances"][front.index]["value"]
    assert front.boxes == [""] and desktop.page.get_by_role("textbox", name="Your answer").count() == 1
    back = desktop.at(WHEN).type_and_flip(card, f"{value}")
    assert back.verdict == "correct" and back.verdicts[0]["part"] is None and back.typed_shown == f"{value}"

    droid = AnkiDroid(new_context(), site)
    front = droid.at(WHEN).front(card)
    record = {"index": front.index, "n": len(card.pool["instances"]), "typed": f"{value + 1}"}
    droid.page.evaluate(
        "([salt, r]) => sessionStorage.setItem('ankismith:' + salt, JSON.stringify({...r, time: Date.now()}))",
        [card.pool["salt"], record],
    )
    back = droid.at(WHEN + timedelta(seconds=20)).back(card)
    assert back.index == front.index and back.verdict == "wrong" and back.typed_shown == f"{value + 1}"
    assert desktop.problems == [] and droid.problems == []


def test_a_pool_of_a_future_format_leaves_the_static_card(new_context, site, cards):
    card = cards["future"]
    desktop = Desktop(new_context(), site)
    front = desktop.at(WHEN).front(card)
    assert front.shown is None and not front.box and "Given instance" in (front.question or "")
    back = desktop.back(card)
    assert back.verdict_count == 0 and back.answer == "7"
    assert desktop.problems == []


@pytest.mark.parametrize("client", CLIENTS)
def test_typed_text_is_never_typeset(new_context, site, cards, client):
    """A typed \\(\\href{javascript:...}{x}\\) stays text beside a mistake whose formula is typeset: no
    MathJax output, no link, no dialog, in the verdict slot MathJax typesets."""
    reviewer = CLIENTS[client](new_context(), site)
    dialogs: list[str] = []
    reviewer.page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    card = cards["multi"]
    parts = parts_of(card, reviewer.at(WHEN).front(card))
    typed = [parts[0]["mistakes"][0]["shown"], HREF, HREF + " J"]
    back = reviewer.at(WHEN + timedelta(seconds=30)).type_and_flip(card, typed)
    assert back.verdicts[0]["mistake"] == HALF and back.verdicts[0]["mistake_math"] == 1  # MathJax ran here
    for verdict, text in zip(back.verdicts[1:], typed[1:], strict=True):
        assert verdict["verdict"] == "wrong" and verdict["typed"] == text
        assert verdict["typed_nodes"] == ["#text"], "the typed text became markup"
    assert all(v["links"] == 0 for v in back.verdicts)
    url = reviewer.page.url
    reviewer.page.locator(".am-typed").first.click()
    assert reviewer.page.url == url and dialogs == []
    if client == "desktop":  # a client that runs the script after MathJax typeset the card: the script typesets
        redrawn = reviewer.page.evaluate(
            """async () => { const slot = document.querySelector('[data-am=verdict]'); delete slot.amKey;
                ankismith.render(slot.parentNode); await MathJax.startup.promise; return readSide('#qa'); }"""
        )
        again = reviewer.side(redrawn)
        assert [v["typed_nodes"] for v in again.verdicts[1:]] == [["#text"], ["#text"]]
        assert again.verdicts[0]["mistake_math"] == 1 and again.merrors == 0
    assert reviewer.problems == []
