"""The fake origin http://anki.test/ that serves the card pages, the client mimics and MathJax.

Pages are served through Playwright routes: no server, no network. Every request elsewhere is
refused and recorded, so a test can assert that none happened.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "clients"
ORIGIN = "http://anki.test"
MATHJAX_VERSION = "3.2.2"
DEFAULT_MATHJAX = Path.home() / ".cache" / "ankismith" / f"mathjax-{MATHJAX_VERSION}" / "node_modules" / "mathjax"
TIMEZONE = "America/New_York"  # not UTC, and with a daylight-saving switch inside the simulated days
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Site:
    """The pages and files of http://anki.test/, served from memory and from the MathJax folder."""

    def __init__(self, mathjax: Path) -> None:
        self.mathjax = mathjax.resolve()
        self.pages: dict[str, tuple[str, str]] = {}
        self.files: dict[Path, bytes] = {}
        self.refused: list[str] = []
        self.add("/_anki/js/mathjax.js", (CLIENTS / "anki_mathjax_config.js").read_text(), "text/javascript")
        self.add("/_anki/js/reviewer.js", (CLIENTS / "anki_desktop.js").read_text(), "text/javascript")
        self.add("/ankidroid/card.js", (CLIENTS / "ankidroid_card.js").read_text(), "text/javascript")

    def add(self, path: str, body: str, content_type: str = "text/html") -> str:
        self.pages[path] = (body, content_type)
        return ORIGIN + path

    def handle(self, route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" != ORIGIN:
            self.refused.append(url)
            route.abort()  # type: ignore[attr-defined]
            return
        if parts.path in self.pages:
            body, content_type = self.pages[parts.path]
            route.fulfill(status=200, body=body, content_type=f"{content_type}; charset=utf-8")  # type: ignore[attr-defined]
            return
        prefix = "/_anki/js/vendor/mathjax/"
        if parts.path.startswith(prefix):
            file = (self.mathjax / parts.path[len(prefix) :]).resolve()
            if file.is_relative_to(self.mathjax) and file.is_file():
                if file not in self.files:
                    self.files[file] = file.read_bytes()
                kind = "text/javascript" if file.suffix == ".js" else "font/woff" if file.suffix == ".woff" else None
                route.fulfill(status=200, body=self.files[file], content_type=kind)  # type: ignore[attr-defined]
                return
        self.refused.append(url)
        route.fulfill(status=404, body="not found")  # type: ignore[attr-defined]


def make_context(browser: object, site: Site, **options: object) -> object:
    """A browser context (a fresh profile: its own storage) served by the site, in New York time."""
    options.setdefault("timezone_id", TIMEZONE)
    options.setdefault("locale", "en-US")
    options.setdefault("viewport", {"width": 800, "height": 900})
    context = browser.new_context(**options)  # type: ignore[attr-defined]
    context.route("**/*", site.handle)
    return context
