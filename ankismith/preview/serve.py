"""`ankismith serve`: the preview over HTTP, rebuilt on every save, and the open pages told.

A thin loop over the same build (mkdocs' livereload is the model): watch the deck folders, compile
through the build cache (kept open, so what was compiled stays in memory), write the preview's
changed card files, tell the pages which notes changed (server-sent events on /_events), then
write the .apkg and the lock. A deck with errors keeps its last good .apkg; the pages show the
errors at the top until a save fixes them.

It is a development server for one user on one machine (docs/serve.md): it answers only requests
that name it by a loopback name (a web page on another origin cannot reach it through DNS
rebinding), forbids other origins to frame its pages or load its files, and lets go of a
connection that sends nothing.
"""

from __future__ import annotations

import gc
import json
import mimetypes
import os
import queue
import stat
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ankismith.pipeline.run import Builder, DeckErrors, find_decks
from ankismith.preview.site import MATHJAX_FOLDER, Site
from ankismith.rules import LOCK_NAME, counted

EVENTS_ROUTE = "/_events"
IGNORED_NAMES = {LOCK_NAME}  # written by the build itself
MAX_CARDS_IN_EVENT = 20
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
READ_TIMEOUT = 10.0  # seconds a connection may take to send its request; then it is closed
KEEP_ALIVE = 15.0  # seconds between comments on a quiet event stream (a page that left is noticed)
REARM_POLL = 0.5  # seconds between looks at whether a deck folder was deleted, replaced or is back
POLL_DELAY_MS = 300  # between looks at the deck files, where the system's file events fail
SETTLE_SECONDS, SETTLE_LOOKS = 0.05, 20  # a change seen: looked at again until it holds still
# on every answer: no page of another origin may frame these pages (clickjacking, and messages
# from a parent it controls), open them with a handle to their frames, or load their files (a
# card file is a script that hands its card to whatever function the including page defines)
SECURITY_HEADERS = (
    ("Content-Security-Policy", "frame-ancestors 'self'"),
    ("X-Frame-Options", "SAMEORIGIN"),
    ("X-Content-Type-Options", "nosniff"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)
# nosniff makes the type matter: the system's MIME table is not always complete
CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
}


@dataclass
class _Hub:
    """The open pages' event streams, and the last event (sent to a page as it connects)."""

    last: str = ""
    clients: list[queue.Queue[str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def publish(self, data: dict[str, Any]) -> None:
        """Send `data` to every open page; a page that connects later gets its state (not its changes)."""
        message = _event(data)
        with self.lock:
            self.last = _event({**data, "changed": [], "cards": {}, "entries": []})
            for client in self.clients:
                client.put(message)

    def subscribe(self) -> queue.Queue[str | None]:
        client: queue.Queue[str | None] = queue.Queue()
        with self.lock:
            if self.last:
                client.put(self.last)
            self.clients.append(client)
        return client

    def unsubscribe(self, client: queue.Queue[str | None]) -> None:
        with self.lock:
            if client in self.clients:
                self.clients.remove(client)

    def close(self) -> None:
        with self.lock:
            for client in self.clients:
                client.put(None)


class Server:
    """The preview server: one build loop, one HTTP server, one watcher."""

    def __init__(
        self,
        decks: Sequence[Path],
        out_dir: Path,
        site_dir: Path,
        mathjax: str | None,
        cache_dir: Path | None,
        host: str = "127.0.0.1",
        port: int = 8000,
        say: Callable[[str, bool], None] = lambda line, error: None,
        read_timeout: float = READ_TIMEOUT,
        keep_alive: float = KEEP_ALIVE,
    ) -> None:
        self.decks = list(decks)
        self.out_dir = out_dir
        self.say = say
        # a local MathJax is copied into the site (a page over http may not load file: URLs)
        self.site = Site(site_dir, mathjax)
        self.cache_dir = cache_dir
        self.builder: Builder | None = None  # opened by `run`, in the thread that builds
        self.hub = _Hub()
        self.stop_event = threading.Event()
        self.versions: dict[str, str] = {}  # each deck page's version, as last written
        self.read_timeout = read_timeout
        self.keep_alive = keep_alive
        self.host = host
        self.httpd = _HTTPServer((host, port), self._handler(), say)
        self.allowed_hosts = allowed_hosts(host, self.httpd.server_address[1])
        self._serving = threading.Thread(target=self.httpd.serve_forever, name="ankismith-http", daemon=True)

    @property
    def url(self) -> str:
        """The address of the index page."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/"

    def rebuild(self) -> bool:
        """Compile, update the preview, tell the pages, write the packages; whether it succeeded."""
        assert self.builder is not None, "rebuild runs inside run()"
        try:
            compiled = self.builder.compile(find_decks(self.decks))
        except DeckErrors as exc:
            self._failed([str(error) for error in exc.errors])
            return False
        written = self.site.write(compiled.decks)
        self.versions = written.versions
        warnings = [str(w) for w in compiled.warnings]
        self.hub.publish(
            {
                "errors": [],
                "warnings": warnings,
                "changed": list(written.changed),
                # a few changed cards travel with the event: the page shows them without asking
                "cards": written.cards if len(written.cards) <= MAX_CARDS_IN_EVENT else {},
                "entries": list(written.entries),
                "versions": written.versions,
            }
        )
        for line in warnings:
            self.say(f"{line} (warning)", False)
        try:
            packages, _ = self.builder.package(compiled, self.out_dir)
        except DeckErrors as exc:
            self._failed([str(error) for error in exc.errors], warnings)
            return False
        for item in packages:
            self.say(f"{item.path}: {counted(item.note_count, 'note')}", False)
        return True

    def run(self) -> None:
        """Build, serve and rebuild on every save until `stop()` or Ctrl-C."""
        self.builder = Builder(self.cache_dir)
        try:
            self._rebuild_guarded()
            self._serving.start()
            self.say(f"serving {self.url} (Ctrl-C stops)", False)
            if self.host.lower().strip("[]") not in ("127.0.0.1", "localhost", "::1"):
                self.say(
                    f"--host {self.host}: whoever can reach this address can read the decks. serve is a "
                    f"development server for one user; it answers requests addressed to "
                    f"{', '.join(LOOPBACK_NAMES)} or {self.host} only (docs/serve.md)",
                    True,
                )
            self._watch()
        except KeyboardInterrupt:
            pass
        finally:
            self.close()

    def _roots(self) -> list[Path]:
        """The folders watched: the decks given, the deck folder serve stands in, or ./decks (where
        decks are found, new ones too)."""
        if self.decks:
            return list(self.decks)
        return [Path(".")] if Path("deck.yaml").is_file() else [Path("decks")]

    def _watch(self) -> None:
        """Rebuild on every save until stopped. A watch dies with its folder, so a deck folder that
        is deleted, replaced (a checkout, a restore) or comes back is watched again, and rebuilt."""
        import watchfiles

        pending = False  # a rebuild owed since a folder changed identity
        polling = False  # the system's file events failed once: look at the folders instead
        while not self.stop_event.is_set():
            armed = _identities(self._roots())
            present = [str(path) for path, identity in armed.items() if identity is not None]
            if not present:  # nothing to watch: say what is missing, look again in a moment
                if pending:
                    self._rebuild_guarded()
                while _identities(self._roots()) == armed:
                    if self.stop_event.wait(REARM_POLL):
                        return
                pending = True
                continue
            if polling:
                pending = self._poll(armed, present, owed=pending)
                continue
            end = _WatchEnd(self, armed, owed=pending)
            try:
                # no timeout (rust_timeout=0): watchfiles empties what it heard when a wait times
                # out, and a save heard as it did so was lost; a wait here ends with changes, or
                # by `end` (its first ask makes the rebuild owed, once the watch is in place)
                for _changes in watchfiles.watch(
                    *present,
                    watch_filter=self._sources,
                    debounce=30,
                    step=10,
                    stop_event=end,
                    rust_timeout=0,
                ):
                    if _identities(self._roots()) != armed:
                        break  # watch again: the old watch follows a folder that is gone
                    self._rebuild_guarded()
                pending = True  # ended by a folder that changed identity (or by stop)
            except FileNotFoundError:
                pending = True  # a folder went away as the watch began
            except (OSError, RuntimeError) as exc:  # watchfiles' errors: the system's, or its own
                # out of inotify instances or watches (editors hold many), or a file system that
                # sends no events: serve still rebuilds on every save, a little later
                polling, pending = True, True
                self.say(
                    f"cannot watch the deck folders ({exc}); looking at them every "
                    f"{POLL_DELAY_MS / 1000:g} s instead (on Linux, raising fs.inotify.max_user_instances "
                    f"and fs.inotify.max_user_watches brings back the system's file events)",
                    True,
                )

    def _poll(self, armed: dict[Path, tuple[int, int] | None], present: list[str], owed: bool) -> bool:
        """Look at the deck folders every POLL_DELAY_MS and rebuild when a source file was added,
        removed or written (its size, or its time to the nanosecond: watchfiles' own polling
        compares whole seconds, and misses a second save within the same second); until stopped
        or a folder changes identity. Whether a rebuild is owed then."""
        seen = self._snapshot(present)  # before the rebuild owed: a save during it is seen after
        if owed:
            self._rebuild_guarded()
        while not self.stop_event.wait(POLL_DELAY_MS / 1000):
            if _identities(self._roots()) != armed:
                return True
            now = self._snapshot(present)
            if now == seen:
                continue
            # a save may take several writes (a file made, then filled): build once it holds still
            for _ in range(SETTLE_LOOKS):
                if self.stop_event.wait(SETTLE_SECONDS) or (settled := self._snapshot(present)) == now:
                    break
                now = settled
            seen = now
            self._rebuild_guarded()
        return False

    def _snapshot(self, roots: list[str]) -> frozenset[tuple[str, int, int, int]]:
        """Every source file under `roots`: its path, size, modification time and inode."""
        found = set()
        for root in roots:
            for folder, folders, files in os.walk(root):
                folders[:] = [name for name in folders if self._sources(None, os.path.join(folder, name))]
                for name in files:
                    path = os.path.join(folder, name)
                    if self._sources(None, path):
                        try:
                            status = os.stat(path)
                        except OSError:
                            continue  # gone as it was looked at: the next look says so
                        found.add((path, status.st_size, status.st_mtime_ns, status.st_ino))
        return frozenset(found)

    def _sources(self, change: Any, path: str) -> bool:
        """A change to a deck's sources: not what the server writes itself, which may lie inside a
        deck folder (serve run in one: its package, site and cache)."""
        written = (path_.resolve() for path_ in (self.out_dir, self.site.root, self.cache_dir) if path_ is not None)
        return _source_filter(change, path) and not any(Path(path).resolve().is_relative_to(w) for w in written)

    def _rebuild_guarded(self) -> None:
        """A rebuild that a bug cannot end: the server says so and goes on watching."""
        try:
            self.rebuild()
            # what the server keeps (every note, compiled and rendered) no longer needs the cycle
            # collector's attention: without this, its full passes over that heap cost a
            # noticeable part of each rebuild of a big deck (the notes are freed by their counts)
            gc.collect()
            gc.freeze()
        except Exception as exc:  # the loop must outlive a bad save
            self._failed([f"internal error: {type(exc).__name__}: {exc}; please report it"])

    def _failed(self, lines: list[str], warnings: Sequence[str] = ()) -> None:
        """Say the errors in the terminal and at the top of every page; the last good .apkg stays."""
        for line in lines:
            self.say(line, True)
        self.say(f"{counted(len(lines), 'error')}; the last good .apkg stays", True)
        self.hub.publish({"errors": lines, "warnings": list(warnings), "changed": [], "versions": self.versions})

    def stop(self) -> None:
        """Ask `run` to return."""
        self.stop_event.set()

    def close(self) -> None:
        """Stop serving and close the build cache."""
        self.stop_event.set()
        self.hub.close()
        if self._serving.is_alive():
            self.httpd.shutdown()
        self.httpd.server_close()
        if self.builder is not None:
            self.builder.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            # a connection that does not send its request in time is closed (idle ones would hold a
            # thread each, forever); the event stream only writes, so it is not cut by this
            timeout = server.read_timeout

            def do_GET(self) -> None:  # http.server's name
                if (self.headers.get("Host") or "").lower() not in server.allowed_hosts:
                    # DNS rebinding: a page of attacker.example resolved to 127.0.0.1 still says so
                    self.send_error(HTTPStatus.FORBIDDEN, "unknown Host: serve answers to its loopback names only")
                    return
                path = unquote(urlsplit(self.path).path)
                if "\x00" in path:
                    self.send_error(HTTPStatus.BAD_REQUEST, "a NUL in the path")
                    return
                if path == EVENTS_ROUTE:
                    self._events()
                    return
                relative = path.lstrip("/") or "index.html"
                long_lived = relative.startswith(MATHJAX_FOLDER + "/")  # a copy that does not change
                self._file(server.site.root, relative, "max-age=86400" if long_lived else "no-store")

            def end_headers(self) -> None:  # every answer, errors too, goes through here
                for name, value in SECURITY_HEADERS:
                    self.send_header(name, value)
                super().end_headers()

            def _file(self, root: Path, relative: str, caching: str) -> None:
                try:
                    target = (root / relative).resolve()
                    if target.is_dir():
                        target = target / "index.html"
                    found = target.is_relative_to(root.resolve()) and target.is_file()
                    data = target.read_bytes() if found else b""
                except (OSError, ValueError):  # a name too long, or one the system refuses
                    found = False
                if not found:
                    self.send_error(HTTPStatus.NOT_FOUND)
                    return
                self.send_response(HTTPStatus.OK)
                kind = CONTENT_TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
                kind = kind or "application/octet-stream"
                text = kind.startswith(("text/", "application/javascript", "application/json"))
                self.send_header("Content-Type", kind + ("; charset=utf-8" if text else ""))
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", caching)
                self.end_headers()
                self.wfile.write(data)

            def _events(self) -> None:
                self.send_response(HTTPStatus.OK)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                client = server.hub.subscribe()
                try:
                    while not server.stop_event.is_set():
                        try:
                            message = client.get(timeout=server.keep_alive)
                        except queue.Empty:
                            message = ": keep-alive\n\n"
                        if message is None:
                            break
                        self.wfile.write(message.encode())
                        self.wfile.flush()
                except (ConnectionError, TimeoutError):
                    pass  # the page left, or stopped reading
                finally:
                    server.hub.unsubscribe(client)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's API)
                return  # quiet: the build's own lines are what matters

        return Handler


class _HTTPServer(ThreadingHTTPServer):
    """http.server's threading server that says a failed answer in one line, not a traceback."""

    daemon_threads = True
    request_queue_size = 64  # a page opening opens many connections at once (its frames, MathJax)

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], say: Callable[[str, bool], None]
    ) -> None:
        self.say = say
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A page that left mid-answer is no error; anything else is a bug, said once."""
        error = sys.exc_info()[1]
        if isinstance(error, (ConnectionError, TimeoutError)):
            return
        self.say(f"internal error answering a request: {type(error).__name__}: {error}; please report it", True)


class _WatchEnd:
    """What ends one watch: the server stopping, or a watched folder deleted, replaced or back (a
    watch follows the folder it began on). watchfiles asks `is_set` at every step of its wait, in
    the thread that waits, from once the watch is in place: the first ask makes a rebuild owed, so
    that a save during it is heard (watchfiles keeps what it hears until its wait returns it)."""

    def __init__(self, server: Server, armed: dict[Path, tuple[int, int] | None], owed: bool) -> None:
        self.server = server
        self.armed = armed
        self.owed = owed
        self.moved = False
        self.next_look = time.monotonic() + REARM_POLL

    def is_set(self) -> bool:
        if self.owed:
            self.owed = False
            self.server._rebuild_guarded()
        if self.server.stop_event.is_set():
            return True
        if not self.moved and time.monotonic() >= self.next_look:
            self.next_look = time.monotonic() + REARM_POLL
            self.moved = _identities(self.server._roots()) != self.armed
        return self.moved


def allowed_hosts(host: str, port: int) -> frozenset[str]:
    """The Host headers serve answers: its loopback names and the --host given, with its port.
    A page that reached the server through a name of its own (DNS rebinding) says that name."""
    names = {*LOOPBACK_NAMES, f"[{host}]" if ":" in host and not host.startswith("[") else host}
    hosts = {f"{name.lower()}:{port}" for name in names}
    if port == 80:  # a browser leaves the default port out
        hosts |= {name.lower() for name in names}
    return frozenset(hosts)


def _identities(paths: Sequence[Path]) -> dict[Path, tuple[int, int] | None]:
    """Each folder's identity (device, inode), None when it is not there: a folder deleted and made
    again is another folder, and a watch on the old one hears nothing."""
    found: dict[Path, tuple[int, int] | None] = {}
    for path in paths:
        try:
            status = os.stat(path)
            found[path] = (status.st_dev, status.st_ino) if stat.S_ISDIR(status.st_mode) else None
        except OSError:
            found[path] = None
    return found


def _event(data: dict[str, Any]) -> str:
    return f"event: build\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _source_filter(change: Any, path: str) -> bool:
    """Changes that can change a deck: not the lock the build writes, nor hidden or temporary files."""
    name = Path(path).name
    return name not in IGNORED_NAMES and not name.startswith(".") and not name.endswith("~")
