"""`ankismith serve` without a browser: the HTTP side, the events a save sends, errors and recovery."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import write_deck

from ankismith.preview.serve import Server, allowed_hosts

CARDS = "## First {#first}\nOne.\n\n## Second {#second}\nTwo.\n"


class Events:
    """The server-sent events of one connection, read in a thread."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.connection.request("GET", "/_events")
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"
        self.received: list[dict[str, Any]] = []
        self.comments = 0  # keep-alive lines
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        data = ""
        try:
            for raw in self.response:
                line = raw.decode().rstrip("\n")
                if line.startswith(":"):
                    self.comments += 1
                elif line.startswith("data: "):
                    data = line[6:]
                elif not line and data:
                    self.received.append(json.loads(data))
                    data = ""
        except (OSError, ValueError):
            return

    def next(self, count: int, timeout: float = 20) -> dict[str, Any]:
        """The `count`-th event (1-based), waiting for it."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            assert time.monotonic() < deadline, f"no event {count}; got {self.received}"
            time.sleep(0.02)
        return self.received[count - 1]

    def wait(self, test: Callable[[dict[str, Any]], bool], after: int = 0, timeout: float = 20) -> dict[str, Any]:
        """The first event after the `after`-th one for which `test` holds, waiting for it."""
        deadline = time.monotonic() + timeout
        while True:
            for event in self.received[after:]:
                if test(event):
                    return event
            assert time.monotonic() < deadline, f"no such event; got {self.received[after:]}"
            time.sleep(0.05)


def start(
    deck_dir: Path | None, tmp_path: Path, package: str = "test-deck.apkg", **options: Any
) -> tuple[Server, threading.Thread]:
    """A server on a free port (of `deck_dir`, or of ./decks), after its first build has written
    `package` (its terminal lines in `server.lines`)."""
    lines: list[tuple[str, bool]] = []
    server = Server(
        [deck_dir] if deck_dir is not None else [],
        tmp_path / "dist",
        tmp_path / "site",
        None,
        tmp_path / "cache",
        port=0,
        say=lambda line, error: lines.append((line, error)),
        **options,
    )
    server.lines = lines  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not (tmp_path / "dist" / package).exists() or not server._serving.is_alive():
        assert time.monotonic() < deadline and thread.is_alive()
        time.sleep(0.02)
    return server, thread


def stop(server: Server, thread: threading.Thread) -> None:
    server.stop()
    thread.join(timeout=20)
    assert not thread.is_alive()


@pytest.fixture
def server(deck_dir: Path, tmp_path: Path) -> Iterator[Server]:
    write_deck(deck_dir, {"cards.md": CARDS})
    server, thread = start(deck_dir, tmp_path)
    yield server
    stop(server, thread)


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


# --- hostile and odd requests (issue 17) ------------------------------------------------------


def ask(port: int, path: str = "/", host: str | None = "127.0.0.1") -> tuple[int, dict[str, str], bytes]:
    """A GET with the Host header given (None: none at all); `host` without a port gets the server's."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    if host is not None:
        connection.putheader("Host", host if ":" in host.replace("[::1]", "") else f"{host}:{port}")
    connection.endheaders()
    response = connection.getresponse()
    headers = {name.lower(): value for name, value in response.getheaders()}
    body = b"" if path == "/_events" and response.status == 200 else response.read()
    connection.close()
    return response.status, headers, body


def raw(port: int, request: bytes) -> bytes:
    """What the server answers to these bytes, up to its closing the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def test_only_its_loopback_names_reach_the_server(server: Server) -> None:
    """DNS rebinding: a page of attacker.example, its name pointed at 127.0.0.1, still sends its
    own name as Host: refused, events too, so it can read nothing."""
    port = server.httpd.server_address[1]
    for host in ("127.0.0.1", "localhost", "[::1]", "LocalHost"):
        assert ask(port, "/", host)[0] == 200, host
    assert ask(port, "/_events", "localhost")[0] == 200
    foreign = ["attacker.example", "attacker.example:80", "127.0.0.1:1", "127.0.0.1:", "0.0.0.0", "127.0.0.2"]
    for host in foreign:
        status, _, body = ask(port, "/", host)
        assert status == 403 and b"decks/test-deck.html" not in body, host
        assert ask(port, "/_events", host)[0] == 403, host
        assert ask(port, "/decks/test-deck.html", host)[0] == 403, host
    assert ask(port, "/", None)[0] == 403  # no Host at all
    assert raw(port, b"GET / HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 403")


def test_a_host_chosen_with_host_is_allowed_too() -> None:
    assert allowed_hosts("127.0.0.1", 8000) == {"127.0.0.1:8000", "localhost:8000", "[::1]:8000"}
    assert "box.example:8000" in allowed_hosts("box.example", 8000)
    assert "[fe80::1]:8000" in allowed_hosts("fe80::1", 8000)
    assert "localhost" in allowed_hosts("127.0.0.1", 80) and "localhost" not in allowed_hosts("127.0.0.1", 8000)


def test_every_answer_forbids_framing_and_loading_by_other_origins(server: Server) -> None:
    port = server.httpd.server_address[1]
    answers = [
        ask(port, path, host)
        for path, host in [
            ("/", "127.0.0.1"),
            ("/media/frame.html", "127.0.0.1"),
            ("/assets/frame.js", "localhost"),
            ("/_events", "127.0.0.1"),
            ("/nothing-here.js", "127.0.0.1"),  # 404
            ("/", "attacker.example"),  # 403
        ]
    ]
    assert [status for status, _, _ in answers] == [200, 200, 200, 200, 404, 403]
    for _, headers, _ in answers:
        assert headers["content-security-policy"] == "frame-ancestors 'self'"
        assert headers["x-frame-options"] == "SAMEORIGIN"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cross-origin-resource-policy"] == "same-origin"  # card files are scripts
        assert headers["cross-origin-opener-policy"] == "same-origin"
    assert answers[2][1]["content-type"] == "text/javascript; charset=utf-8"  # nosniff needs the right type


def test_odd_requests_get_an_answer_not_a_traceback(server: Server, capfd: pytest.CaptureFixture[str]) -> None:
    port = server.httpd.server_address[1]
    host = f"Host: 127.0.0.1:{port}\r\n\r\n".encode()
    assert raw(port, b"GET /%00 HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 400")
    assert raw(port, b"GET /cards/%00.js HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 400")
    assert raw(port, b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 404")
    assert raw(port, b"GET /" + b"a/" * 3000 + b" HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 404")
    assert raw(port, b"GET /%2e%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 404")
    assert raw(port, b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 414")
    assert raw(port, b"BREW / HTTP/1.1\r\n" + host).startswith(b"HTTP/1.0 501")
    assert b"Error code: 400" in raw(port, b"\x00\xff garbage\r\n\r\n")  # no version: no status line
    with socket.create_connection(("127.0.0.1", port), timeout=10) as leaving:  # a page that leaves at once
        leaving.sendall(b"GET /assets/preview.js HTTP/1.1\r\n" + host)
    assert ask(port)[0] == 200  # and the server goes on
    time.sleep(0.3)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.err and "Exception" not in captured.err
    assert [line for line, error in server.lines if error] == []  # type: ignore[attr-defined]


def test_idle_connections_are_let_go_and_event_streams_stay(deck_dir: Path, tmp_path: Path) -> None:
    """Slowloris: connections that send nothing (or half a request) are closed after the read
    timeout; an open page's event stream is not, and still gets the next rebuild."""
    write_deck(deck_dir, {"cards.md": CARDS})
    server, thread = start(deck_dir, tmp_path, read_timeout=0.5, keep_alive=0.2)
    try:
        port = server.httpd.server_address[1]
        events = Events(port)
        events.next(1)
        idle = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(100)]
        idle[0].sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        time.sleep(2)  # four read timeouts
        for connection in idle:
            connection.settimeout(5)
            assert connection.recv(1) == b"", "an idle connection is still held"
            connection.close()
        (deck_dir / "cards.md").write_text(CARDS.replace("Two.", "Two, later."))
        assert len(events.next(2)["changed"]) == 1, (thread.is_alive(), server.lines)  # type: ignore[attr-defined]
        assert events.comments >= 3  # kept alive meanwhile
    finally:
        stop(server, thread)


def card_text(server: Server, note_id: str) -> str:
    status, _, body = ask(server.httpd.server_address[1], f"/cards/{note_id}.js")
    assert status == 200
    return body.decode()


def test_a_deck_folder_deleted_and_made_again_is_watched_again(server: Server, deck_dir: Path, tmp_path: Path) -> None:
    events = Events(server.httpd.server_address[1])
    events.next(1)
    shutil.rmtree(deck_dir)
    assert events.next(2)["errors"]  # the deck is gone: the page says so
    write_deck(deck_dir, {"cards.md": CARDS.replace("Two.", "Two, restored.")})
    restored = events.wait(lambda event: not event["errors"] and event["changed"])
    (changed,) = restored["changed"]
    assert "Two, restored." in card_text(server, changed)
    count = len(events.received)
    (deck_dir / "cards.md").write_text(CARDS.replace("Two.", "Two, edited after."))  # the new folder is watched
    events.wait(lambda event: changed in event["changed"], after=count)
    assert "Two, edited after." in card_text(server, changed)
    # replaced in one go (a checkout, a restore): another folder under the same name
    os.rename(deck_dir, tmp_path / "old")
    shutil.copytree(tmp_path / "old", deck_dir)
    time.sleep(1.5)  # the watch is made again
    count = len(events.received)
    (deck_dir / "cards.md").write_text(CARDS.replace("Two.", "Two, in the copy."))
    events.wait(lambda event: "Two, in the copy." in card_text(server, changed), after=count)


def test_where_the_systems_file_events_fail_serve_looks_at_the_folders(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every inotify instance taken (editors hold many; the limit is per user): watchfiles cannot
    make its watcher. serve says so once and looks at the folders instead: a save still rebuilds."""
    import watchfiles
    from watchfiles._rust_notify import WatchfilesRustInternalError

    asked: list[tuple[Any, ...]] = []

    def watch(*paths: Any, **options: Any) -> Iterator[Any]:
        asked.append(paths)  # what inotify_init says when the user's instances are all taken:
        raise WatchfilesRustInternalError("Error creating recommended watcher: Too many open files (os error 24)")
        yield  # a generator, as watchfiles.watch is: the error comes as the watch begins

    monkeypatch.setattr(watchfiles, "watch", watch)
    write_deck(deck_dir, {"cards.md": CARDS})
    server, thread = start(deck_dir, tmp_path)
    try:
        events = Events(server.httpd.server_address[1])
        events.next(1)
        for count, text in enumerate(["Two, polled.", "Two, polled again."]):  # within the same second
            seen = len(events.received)
            (deck_dir / "cards.md").write_text(CARDS.replace("Two.", text))
            (changed,) = events.wait(lambda event: bool(event["changed"]), after=seen)["changed"]
            assert text in card_text(server, changed), count
        (deck_dir / "more.md").write_text("## Third {#third}\nThree.\n")  # a file added
        events.wait(lambda event: len(event["changed"]) == 1 and "third" in json.dumps(event), after=seen)
        assert len(asked) == 1  # asked once, then polling
        said = [line for line, error in server.lines if error]  # type: ignore[attr-defined]
        assert len(said) == 1 and "cannot watch the deck folders (Error creating" in said[0]
        assert "every 0.3 s" in said[0] and "fs.inotify.max_user_instances" in said[0]
    finally:
        stop(server, thread)


def test_with_no_deck_given_a_deck_added_under_decks_is_served(tmp_path: Path) -> None:
    """Without deck folders, serve works on every deck under ./decks: it watches that folder, so a
    deck made there while it runs is built and served too."""
    write_deck(tmp_path / "decks" / "one", {"cards.md": CARDS}, 'name: "One"\nid: one\n')
    server, thread = start(None, tmp_path, "one.apkg")  # the tests run in tmp_path
    try:
        events = Events(server.httpd.server_address[1])
        assert set(events.next(1)["versions"]) == {"one"}
        write_deck(tmp_path / "decks" / "two", {"cards.md": CARDS}, 'name: "Two"\nid: two\n')
        events.wait(lambda event: set(event["versions"]) == {"one", "two"} and not event["errors"])
        assert ask(server.httpd.server_address[1], "/decks/two.html")[0] == 200
    finally:
        stop(server, thread)
