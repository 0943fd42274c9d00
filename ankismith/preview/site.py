"""The preview site: every card of every deck, front and back, as Anki shows it, in a browser.

    index.html                  the decks, their cards counted by kind
    decks/<deck id>.html        one page per deck: its cards by sub-deck, with night mode, phone
                                width, search, and a stepper through a fresh numeric card's pool
    frame.html                  shows one card side the way Anki desktop's reviewer does: the
                                side's HTML into #qa, its scripts run, then MathJax
    cards/<note>.js             each note's card sides, rendered from the note type's own templates
    assets/                     the stylesheet packaged in the .apkg, and the preview's own files
    media/                      the decks' images, under their packaged names

Card files are written only when their content changed, so a rebuild of one card rewrites one
file. The pages load without a network: MathJax comes from a local copy when one is found.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from ankismith.builder.atomic import atomic_write
from ankismith.builder.models import stylesheet
from ankismith.cards.model import Kind
from ankismith.notes import BuiltNote
from ankismith.preview.anki import card_sides

ASSETS = ("preview.css", "preview.js", "frame.js")
_TAG = re.compile(r"<[^>]+>")
_POOL = re.compile(r'<script type="application/json" class="am-pool">(?P<json>.*?)</script>', re.S)
_MATH = re.compile(r"\\\(|\\\[")


class DeckLike(Protocol):
    """What the preview needs of a compiled deck (pipeline.BuiltDeck has it)."""

    config: Any
    notes: Sequence[BuiltNote]
    media: Sequence[Any]


@dataclass(frozen=True)
class Written:
    """What a write changed: the notes whose card files changed, and each deck page's version (a
    page whose version moved lists other cards, and reloads)."""

    changed: tuple[str, ...]
    versions: dict[str, str]
    entries: tuple[dict[str, Any], ...]  # listing data that moved (a source line, a question's text)


@dataclass
class Site:
    """A preview folder and what was last written into it (to rewrite only what changed)."""

    root: Path
    mathjax: str | None = None  # URL of tex-chtml-full.js as the pages load it, or None: math as TeX
    written: dict[str, str] = field(default_factory=dict)  # file (relative) -> hash of its content
    entries: dict[str, dict[str, Any]] = field(default_factory=dict)  # note id -> its listing, as written

    def write(self, decks: Sequence[DeckLike]) -> Written:
        """Write the site for `decks`: what changed, for the pages that are open."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._put("assets/card.css", stylesheet())
        for name in ASSETS:
            self._put(f"assets/{name}", _asset(name))
        self._put("frame.html", _frame_page(self.mathjax))
        for deck in decks:
            for media in deck.media:
                target = self.root / "media" / media.name
                if not target.exists() or target.stat().st_size != media.size:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(media.path, target)
        changed, keep = [], set()
        summaries, versions, entries_now = [], {}, {}
        for deck in decks:
            entries = []
            for note in deck.notes:
                note_id = note_file_id(note)
                keep.add(f"cards/{note_id}.js")
                sides = card_sides(note.kind, dict(note.fields))
                data = {"id": note_id, "sides": [{"ord": s.ordinal, "q": s.question, "a": s.answer} for s in sides]}
                if self._put(f"cards/{note_id}.js", f"ankismithCard({_json(data)});\n"):
                    changed.append(note_id)
                entries.append(_entry(note, note_id, sides, Path(deck.config.root)))
                entries_now[note_id] = entries[-1]
            counts = Counter(str(e["kind"]) for e in entries for _ in e["ords"])
            summaries.append((deck, entries, counts))
            # the page's version: which cards it lists, in which order (text and lines move without it)
            listed = [[e["id"], e["ords"], e["deck"], e["key"], e["kind"], e["pool"]] for e in entries]
            version = hashlib.sha256(json.dumps(listed).encode()).hexdigest()[:16]
            versions[deck.config.id] = version
            page = _deck_page(deck, entries, counts, self.mathjax, version)
            self._put(f"decks/{_file_name(deck.config.id)}.html", page)
        self._put("index.html", _index_page(summaries))
        self._remove_stale(keep)
        moved = tuple(e for note_id, e in entries_now.items() if self.entries.get(note_id, e) != e)
        self.entries = entries_now
        return Written(tuple(changed), versions, moved)

    def _put(self, relative: str, text: str) -> bool:
        """Write one file unless it already holds `text`; whether it was written."""
        digest = hashlib.sha256(text.encode()).hexdigest()
        target = self.root / relative
        if self.written.get(relative) == digest and target.exists():
            return False
        atomic_write(target, lambda out: out.write(text.encode()))
        self.written[relative] = digest
        return True

    def _remove_stale(self, keep: set[str]) -> None:
        folder = self.root / "cards"
        for path in folder.glob("*.js") if folder.is_dir() else []:
            relative = f"cards/{path.name}"
            if relative not in keep:
                path.unlink(missing_ok=True)
                self.written.pop(relative, None)


def note_file_id(note: BuiltNote) -> str:
    """A file name for a note: a hash of its GUID (GUIDs hold characters file names cannot)."""
    return hashlib.sha256(note.guid.encode()).hexdigest()[:16]


def _entry(note: BuiltNote, note_id: str, sides: Iterable[Any], folder: Path) -> dict[str, Any]:
    """What the deck page knows of a note before its card file loads: enough to list and search it."""
    first = dict(note.fields)
    question = next(iter(first.values()))
    pool = _POOL.search(question)
    size = len(json.loads(pool["json"])["instances"]) if pool else 0
    path, _, line = note.source.rpartition(":")
    text = html.unescape(_TAG.sub(" ", _POOL.sub("", question)))
    return {
        "id": note_id,
        "key": note.key,
        "kind": str(note.kind),
        "deck": note.deck,
        "source": note.source,
        "href": (folder.resolve() / path).as_uri(),
        "line": int(line) if line.isdigit() else 1,
        "text": " ".join(text.split())[:500],
        "ords": [side.ordinal for side in sides],
        "pool": size,
        "math": bool(_MATH.search(json.dumps(dict(note.fields)))),
    }


def _deck_page(
    deck: DeckLike, entries: list[dict[str, Any]], counts: Counter[str], mathjax: str | None, version: str
) -> str:
    data = {
        "id": deck.config.id,
        "name": deck.config.name,
        "version": version,
        "cards": entries,
        "mathjax": mathjax is not None,
    }
    title = html.escape(deck.config.name)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · ankismith preview</title>
<link rel="stylesheet" href="../assets/preview.css">
</head><body>
<header class="bar">
  <a class="home" href="../index.html">All decks</a>
  <h1>{title}</h1>
  <p class="counts">{html.escape(_counts_text(counts))}</p>
  <div class="controls">
    <label><input type="checkbox" id="night"> Night mode</label>
    <label><input type="checkbox" id="phone"> Phone width</label>
    <input type="search" id="search" placeholder="Search questions" aria-label="Search questions">
    <span id="shown" aria-live="polite"></span>
  </div>
  <div id="notices"></div>
</header>
<main id="cards"></main>
<script type="application/json" id="deck-data">{_json(data)}</script>
<script src="../assets/preview.js"></script>
</body></html>
"""


def _index_page(summaries: list[tuple[DeckLike, list[dict[str, Any]], Counter[str]]]) -> str:
    rows = "\n".join(
        f'<li><a href="decks/{html.escape(_file_name(deck.config.id))}.html">{html.escape(deck.config.name)}</a>'
        f' <span class="id">{html.escape(deck.config.id)}</span>'
        f' <span class="counts">{html.escape(_counts_text(counts))}</span></li>'
        for deck, _, counts in summaries
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ankismith preview</title>
<link rel="stylesheet" href="assets/preview.css">
</head><body>
<header class="bar"><h1>ankismith preview</h1><div id="notices"></div></header>
<main><ul class="decks">
{rows}
</ul></main>
<script src="assets/preview.js"></script>
</body></html>
"""


def _counts_text(counts: Counter[str]) -> str:
    total = sum(counts.values())
    parts = [f"{counts[k]} {k}" for k in (str(kind) for kind in Kind) if counts[k]]
    return f"{total} card{'s' if total != 1 else ''}: {', '.join(parts) or 'none'}"


def _frame_page(mathjax: str | None) -> str:
    """One card side as Anki desktop's reviewer page holds it: #qa, the note type's CSS, MathJax."""
    loader = ""
    if mathjax is not None:
        loader = (
            f"<script>{_asset('mathjax-config.js')}</script>\n"
            f'<script src="{html.escape(mathjax)}" id="MathJax-script"></script>\n'
        )
    return f"""<!doctype html>
<html><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="assets/card.css">
{loader}<script src="assets/frame.js"></script>
</head><body class="card"><div id="qa"></div></body></html>
"""


def _asset(name: str) -> str:
    return resources.files("ankismith.preview").joinpath("assets").joinpath(name).read_text(encoding="utf-8")


def _json(data: Any) -> str:
    """JSON safe inside a <script> element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _file_name(deck_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", deck_id)


def find_mathjax(given: str | None) -> str | None:
    """Where the pages load MathJax 3 from: `given` (a file, a folder or a URL), else a local copy
    (ANKISMITH_MATHJAX, the npm cache folder the README names, ./node_modules); None when none is found."""
    if given:
        if re.match(r"^[a-z][a-z0-9+.-]*://", given):
            return given
        return _mathjax_file(Path(given).expanduser())
    candidates = [
        os.environ.get("ANKISMITH_MATHJAX", ""),
        str(Path.home() / ".cache" / "ankismith" / "mathjax-3.2.2" / "node_modules" / "mathjax"),
        "node_modules/mathjax",
    ]
    for candidate in filter(None, candidates):
        found = _mathjax_file(Path(candidate).expanduser())
        if found:
            return found
    return None


def _mathjax_file(path: Path) -> str | None:
    for option in (path, path / "tex-chtml-full.js", path / "es5" / "tex-chtml-full.js"):
        if option.is_file():
            return option.resolve().as_uri()
    return None
