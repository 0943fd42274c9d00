"""The preview site: every card of every deck, front and back, as Anki shows it, in a browser.

    index.html                  the decks, their cards counted by kind
    decks/<deck id>.html        one page per deck: its cards by sub-deck, with night mode, phone
                                width, search, and a stepper through a fresh numeric card's pool
    cards/<note>.js             each note's card sides, rendered from the note type's own templates
    assets/                     the stylesheet packaged in the .apkg, and the preview's own files
    assets/mathjax/             what the pages load of a local MathJax 3 (tex-chtml-full.js, its
                                fonts, its licence: about 1.7 MB), so that the folder can be moved
    media/                      the decks' images, under their packaged names, and frame.html: one
                                card side the way Anki desktop's reviewer shows it (the side's
                                HTML into #qa, its scripts run, then MathJax), from the media
                                folder as in Anki, so that the fields' image names resolve

Card files are written only when their content changed, so a rebuild of one card rewrites one
file. The pages load without a network: MathJax comes from the site's copy of a local MathJax
when one is found (or from the URL given with --mathjax).
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote, unquote, urlsplit

from ankismith.model.canon import sha256_hex
from ankismith.model.cards import Kind
from ankismith.model.notes import BuiltNote
from ankismith.package.models import stylesheet
from ankismith.preview.anki import card_sides
from ankismith.render.grading import describe
from ankismith.render.pool import read_pool, without_pool
from ankismith.rules import MATH_OPEN, read_asset, script_json, strip_tags

if TYPE_CHECKING:
    from ankismith.pipeline.run import Compiled

ASSETS = ("preview.css", "preview.js", "frame.js")
MATHJAX_FOLDER = "assets/mathjax"  # the site's copy of a local MathJax
MATHJAX_FONTS = "output/chtml/fonts/woff-v2"  # beside tex-chtml-full.js: the fonts its output loads


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
    cards: dict[str, dict[str, Any]]  # the changed notes' card data, as their card files hold it


@dataclass
class Site:
    """A preview folder and what was last written into it (to redo only what changed)."""

    root: Path
    # where tex-chtml-full.js is: a file: URL (copied into the site), another URL (the pages load
    # it from there), or None: math as TeX
    mathjax: str | None = None
    # what the last write wrote: each file's hash; each note's (what it was made from, listing);
    # each deck page's (listings, deck name, version)
    written: dict[str, str] = field(default_factory=dict)
    notes: dict[str, tuple[tuple[str, str], dict[str, Any]]] = field(default_factory=dict)
    pages: dict[str, tuple[list[dict[str, Any]], str, str]] = field(default_factory=dict)
    mathjax_copied: bool = False

    def write(self, decks: Sequence[DeckLike]) -> Written:
        """Write the site for `decks`: what changed, for the pages that are open."""
        first = not self.written
        self._put("assets/card.css", stylesheet())
        for name in ASSETS:
            self._put(f"assets/{name}", _asset(name))
        self._put("media/frame.html", _frame_page(self._mathjax_url()))
        for deck in decks:
            for media in deck.media:
                target = self.root / "media" / media.name
                if not target.exists() or target.stat().st_size != media.size:
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(media.path, target)
        changed, moved, cards = [], [], {}
        summaries, versions, notes_now = [], {}, {}
        for deck in decks:
            folder = Path(deck.config.root).resolve().as_uri()
            entries = []
            for note in deck.notes:
                note_id = note_file_id(note.guid)
                made_from = (note.hash, note.source)
                known = self.notes.get(note_id)
                if known is not None and known[0] == made_from:
                    entry = known[1]  # unchanged note: its card file and listing stand
                else:
                    sides = card_sides(note.kind, dict(note.fields))
                    data = {"id": note_id, "sides": [{"ord": s.ordinal, "q": s.question, "a": s.answer} for s in sides]}
                    if self._put(f"cards/{note_id}.js", f"ankismithCard({script_json(data)});\n"):
                        changed.append(note_id)
                        cards[note_id] = data
                    entry = _entry(note, note_id, sides, folder)
                    if known is not None and known[1] == entry:
                        entry = known[1]  # the card changed, its listing did not: the page stands
                    elif known is not None:
                        moved.append(entry)
                notes_now[note_id] = (made_from, entry)
                entries.append(entry)
            counts = Counter(str(e["kind"]) for e in entries for _ in e["ords"])
            summaries.append((deck, entries, counts))
            known_page = self.pages.get(deck.config.id)
            if (
                known_page is not None
                and known_page[1] == deck.config.name
                and len(known_page[0]) == len(entries)
                and all(old is new for old, new in zip(known_page[0], entries, strict=True))
            ):  # the very entries of the last write, in order: the page stands as it is
                versions[deck.config.id] = known_page[2]
                continue
            # the page's version: which cards it lists, in which order (text and lines move without it)
            listed = [[e["id"], e["ords"], e["deck"], e["key"], e["kind"], e["pool"]] for e in entries]
            version = sha256_hex(json.dumps(listed))[:16]
            versions[deck.config.id] = version
            page = _deck_page(deck, entries, counts, self.mathjax, version)
            self._put(f"decks/{_file_name(deck.config.id)}.html", page)
            self.pages[deck.config.id] = (entries, deck.config.name, version)
        self._put("index.html", _index_page(summaries))
        self._remove_stale(set(notes_now), everything=first)
        self.notes = notes_now
        return Written(tuple(changed), versions, tuple(moved), cards)

    def _mathjax_url(self) -> str | None:
        """The address the frame page loads MathJax from: a local MathJax is copied into the site
        (once per Site) and loaded from there, so the folder still works when moved or served."""
        if self.mathjax is None or not self.mathjax.startswith("file:"):
            return self.mathjax
        script = Path(unquote(urlsplit(self.mathjax).path))
        if not self.mathjax_copied or not (self.root / MATHJAX_FOLDER / script.name).is_file():
            copy_mathjax(script, self.root / MATHJAX_FOLDER)  # again if the site was deleted
            self.mathjax_copied = True
        return f"../{MATHJAX_FOLDER}/{quote(script.name)}"

    def _put(self, relative: str, text: str) -> bool:
        """Write one file unless it already holds `text`; whether it was written. A page being read
        sees the old file or the new one (a rename), never half of one; nothing is synced to disk:
        a preview can always be written again."""
        digest = sha256_hex(text)
        target = self.root / relative
        if self.written.get(relative) == digest and target.exists():
            return False
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
        self.written[relative] = digest
        return True

    def _remove_stale(self, note_ids: set[str], everything: bool) -> None:
        """Delete the card files of notes gone (on a first write: any card file not of this site)."""
        folder = self.root / "cards"
        names = [p.stem for p in folder.glob("*.js")] if everything and folder.is_dir() else list(self.notes)
        for name in names:
            if name not in note_ids:
                (folder / f"{name}.js").unlink(missing_ok=True)
                self.written.pop(f"cards/{name}.js", None)


def write_preview(
    paths: Sequence[Path], out_dir: Path, mathjax: str | None, cache_dir: Path | None = None
) -> tuple[Compiled, Path]:
    """Compile every deck (through the build cache) and write the preview site into `out_dir`
    (nothing on error: DeckErrors); returns what was compiled and the site's index page.
    `mathjax` is the URL the pages load MathJax from."""
    from ankismith.pipeline.run import compile_decks

    compiled = compile_decks(paths, cache_dir=cache_dir)
    Site(out_dir, mathjax).write(compiled.decks)
    return compiled, out_dir / "index.html"


@cache
def note_file_id(note_guid: str) -> str:
    """A file name for a note: a hash of its GUID (GUIDs hold characters file names cannot)."""
    return sha256_hex(note_guid)[:16]


def _entry(note: BuiltNote, note_id: str, sides: Iterable[Any], folder: str) -> dict[str, Any]:
    """What the deck page knows of a note before its card file loads: enough to list and search it."""
    first = dict(note.fields)
    question = next(iter(first.values()))
    pool = read_pool(question)
    size = len(pool["instances"]) if pool else 0
    path, _, line = note.source.rpartition(":")
    text = html.unescape(strip_tags(without_pool(question), " "))
    return {
        "id": note_id,
        "key": note.key,
        "kind": str(note.kind),
        "deck": note.deck,
        "source": note.source,
        "href": f"{folder}/{quote(path)}",
        "line": int(line) if line.isdigit() else 1,
        "text": " ".join(text.split())[:500],
        "ords": [side.ordinal for side in sides],
        "pool": size,
        "grading": describe(pool) if pool else "",
        "math": bool(MATH_OPEN.search(json.dumps(dict(note.fields)))),
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
<script type="application/json" id="deck-data">{script_json(data)}</script>
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
<link rel="stylesheet" href="../assets/card.css">
{loader}<script src="../assets/frame.js"></script>
</head><body class="card"><div id="qa"></div></body></html>
"""


def _asset(name: str) -> str:
    return read_asset("ankismith.preview", name)


def _file_name(deck_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "-", deck_id)


def copy_mathjax(script: Path, folder: Path) -> int:
    """Copy into `folder` what the pages load of the MathJax whose tex-chtml-full.js is `script`:
    the script, the CHTML fonts beside it and the licence (Apache 2.0 asks for it); files already
    there, of the same size and time, stay. Returns the bytes the copy holds."""
    files = [(script, script.name)]
    fonts = script.parent / MATHJAX_FONTS
    if fonts.is_dir():
        files += [(font, f"{MATHJAX_FONTS}/{font.name}") for font in sorted(fonts.iterdir()) if font.is_file()]
    licence = next((p for p in (script.parent / "LICENSE", script.parent.parent / "LICENSE") if p.is_file()), None)
    if licence is not None:
        files.append((licence, "LICENSE"))
    total = 0
    for source, name in files:
        status = source.stat()
        total += status.st_size
        target = folder / name
        if target.is_file():
            there = target.stat()
            if there.st_size == status.st_size and there.st_mtime_ns == status.st_mtime_ns:
                continue
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f".{target.name}.tmp")
        shutil.copy2(source, temporary)
        os.replace(temporary, target)
    return total


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
