"""`ankismith serve` without a browser: the HTTP side, the events a save sends, errors and recovery."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_deck

from ankismith.preview.serve import Server

CARDS = "## First {#first}\nOne.\n\n## Second {#second}\nTwo.\n"


class Events:
    """The server-sent events of one connection, read in a thread."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", "/_events")
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"
        self.received: list[dict[str, object]] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        data = ""
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith("data: "):
                    data = line[6:]
                elif not line and data:
                    self.received.append(json.loads(data))
                    data = ""
        except (OSError, ValueError):
            return

    def next(self, count: int, timeout: float = 20) -> dict[str, object]:
        """The `count`-th event (1-based), waiting for it."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"no event {count}; got {self.received}"
            time.sleep(0.02)
        return self.received[count - 1]


@pytest.fixture
def server(deck_dir: Path, tmp_path: Path) -> Iterator[Server]:
    write_deck(deck_dir, {"cards.md": CARDS})
    lines: list[tuple[str, bool]] = []
    server = Server(
        [deck_dir],
        tmp_path / "dist",
        tmp_path / "site",
        None,
        tmp_path / "cache",
        port=0,
        say=lambda line, error: lines.append((line, error)),
    )
    server.lines = lines  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (tmp_path / "dist" / "test-deck.apkg").exists():
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    yield server
    server.stop()
    thread.join(timeout=20)
    assert not thread.is_alive()


def get(server: Server, path: str) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.httpd.server_address[1], timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.getheader("Content-Type") or "", response.read()


def test_serves_the_preview_on_this_machine_only(server: Server) -> None:
    assert server.httpd.server_address[0] == "127.0.0.1"
    status, kind, body = get(server, "/")
    assert status == 200 and kind.startswith("text/html") and b"decks/test-deck.html" in body
    status, _, body = get(server, "/decks/test-deck.html")
    assert status == 200 and b'"key":"first"' in body
    assert get(server, "/../../etc/passwd")[0] == 404
    assert get(server, "/nothing-here.js")[0] == 404


def test_a_save_rebuilds_and_tells_the_page_which_card_changed(server: Server, deck_dir: Path, tmp_path: Path) -> None:
    events = Events(server.httpd.server_address[1])
    first = events.next(1)  # the state as the page connects: no changes to apply
    assert first["errors"] == [] and first["changed"] == []
    apkg = tmp_path / "dist" / "test-deck.apkg"
    before = apkg.read_bytes()
    (deck_dir / "cards.md").write_text(CARDS.replace("Two.", "Two, edited."))
    event = events.next(2)
    assert event["errors"] == [] and len(event["changed"]) == 1
    (changed,) = event["changed"]
    status, _, body = get(server, f"/cards/{changed}.js")
    assert status == 200 and b"Two, edited." in body
    deadline = time.monotonic() + 20
    while apkg.read_bytes() == before:  # the package follows the preview
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_a_broken_card_shows_its_error_and_the_last_good_package_stays(
    server: Server, deck_dir: Path, tmp_path: Path
) -> None:
    events = Events(server.httpd.server_address[1])
    events.next(1)
    apkg = tmp_path / "dist" / "test-deck.apkg"
    good = apkg.read_bytes()
    (deck_dir / "cards.md").write_text(CARDS.replace("{#second}", "{#first}"))
    event = events.next(2)
    assert event["errors"] == [
        f"{deck_dir.as_posix()}/cards.md:4: duplicate card key 'first': also at "
        f"{deck_dir.as_posix()}/cards.md:1; give one of them another {{#key}}"
    ]
    assert apkg.read_bytes() == good
    assert any(error and "duplicate card key" in line for line, error in server.lines)  # type: ignore[attr-defined]
    assert ("1 error; the last good .apkg stays", True) in server.lines  # type: ignore[attr-defined]
    late = Events(server.httpd.server_address[1])  # a page opened now sees the error too
    assert late.next(1)["errors"] == event["errors"]
    (deck_dir / "cards.md").write_text(CARDS)
    assert events.next(3)["errors"] == []


def test_stopping_leaves_no_half_written_file(server: Server, tmp_path: Path) -> None:
    server.stop()
    time.sleep(0.5)
    leftovers = [p for p in (tmp_path / "dist").iterdir() if p.name != "test-deck.apkg"]
    assert leftovers == []


def test_packaging_again_and_again_gives_the_bytes_of_a_fresh_build(deck_dir: Path, tmp_path: Path) -> None:
    """Builder keeps locks, NoteSpecs and row parts between packages (serve); what it writes must
    be, byte for byte, what a fresh build of the same sources and lock writes."""
    from ankismith.pipeline.run import Builder, build

    write_deck(deck_dir, {"cards.md": CARDS, "more.md": "## Third {#third}\nThree.\n"})
    builder = Builder(tmp_path / "cache")
    try:
        for step, text in enumerate(["Two.", "Two, edited.", "Two, edited again.", "Two."]):
            (deck_dir / "cards.md").write_text(CARDS.replace("Two.", text))
            builder.package(builder.compile([deck_dir]), tmp_path / "served", now=1_000_000 + step)
            build([deck_dir], tmp_path / "fresh", now=1_000_000 + step)
            served = (tmp_path / "served" / "test-deck.apkg").read_bytes()
            assert served == (tmp_path / "fresh" / "test-deck.apkg").read_bytes(), step
    finally:
        builder.close()


def test_serve_run_inside_a_deck_folder_serves_it_and_its_own_output_starts_no_rebuild(
    deck_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No deck folder given, standing in one: that deck; the package, site and cache are then written
    inside the watched folder, and must not count as saves (each would rebuild once more)."""
    write_deck(deck_dir, {"cards.md": CARDS})
    monkeypatch.chdir(deck_dir)
    lines: list[tuple[str, bool]] = []
    server = Server(
        [],
        Path("dist"),
        Path("dist/preview"),
        None,
        Path(".ankismith-cache"),
        port=0,
        say=lambda *line: lines.append(line),
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        events = Events(server.httpd.server_address[1])
        assert events.next(1)["errors"] == []
        assert ("dist/test-deck.apkg: 2 notes", False) in lines
        Path("cards.md").write_text(CARDS.replace("Two.", "Two, edited."))
        assert len(events.next(2)["changed"]) == 1
        deadline = time.monotonic() + 20
        while lines.count(("dist/test-deck.apkg: 2 notes", False)) < 2:  # the rebuild wrote the package
            assert time.monotonic() < deadline, lines
            time.sleep(0.02)
        time.sleep(1.5)  # what it wrote (package, lock, site, cache) would have been seen by now
        assert len(events.received) == 2, events.received
        assert lines.count(("dist/test-deck.apkg: 2 notes", False)) == 2
    finally:
        server.stop()
        thread.join(timeout=20)
    assert not thread.is_alive()
