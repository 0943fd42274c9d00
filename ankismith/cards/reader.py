"""Read a deck folder: deck.yaml and its card files (`read_deck`), then each file's cards (`read_cards`).

Python-Markdown knows no source lines, so everything that needs a `path:line` (cards, the `???`
split, choices, numeric blocks, images, placeholders) is found here, line by line, before any
Markdown runs.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ankismith.cards.fences import Mark, fence_marks, info_word
from ankismith.cards.yamlsafe import YamlMapping, YamlProblem, load_mapping
from ankismith.errors import Collector, shown_path
from ankismith.model.canon import sha256_hex
from ankismith.model.cards import (
    Card,
    Choice,
    Deck,
    DeckConfig,
    FamilySource,
    ImageRef,
    KeyRef,
    Kind,
    NumericBlock,
    Placeholder,
    Review,
    SourceFile,
)
from ankismith.model.ids import DECK_ID, suggest_deck_id
from ankismith.rules import CLOZE, CLOZE_OPEN, MAX_VARIANTS, PLACEHOLDER, PLACEHOLDER_FORMATS, SOLVER_KEYS, is_int

MAX_FILE_BYTES = 8 * 1024 * 1024
DECK_KEYS = ("name", "id", "description", "tags", "seed", "variants", *Review.KEYS)
FRONT_MATTER_KEYS = ("subdeck", "tags")
# what a ```numeric block may hold: the solver's part (`NumericBlock.spec`), then the review settings
NUMERIC_KEYS = (*SOLVER_KEYS, *Review.KEYS, "unit")

_HEADING = re.compile(r"^##(?!#)(?:[ \t]+(?P<text>.*?))?[ \t]*#*[ \t]*$")
_ATTRS = re.compile(r"\{(?P<body>[^{}]*)\}\s*$")
_ATTR_KEY = re.compile(r"^#(?P<key>[^\s~\"{}]+)$")
_ATTR_TAGS = re.compile(r'^tags="(?P<tags>[^"]*)"$')
_TASK = re.compile(r"^[-*+] \[(?P<mark>[ xX])\][ \t]+(?P<text>.*)$")
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?(?P<src>[^)\s>]+)>?(?:\s+[\"'][^\"']*[\"'])?\s*\)")
_HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"'](?P<src>[^\"']+)[\"']", re.IGNORECASE)
_TAG = re.compile(r"^[^\s\"]+$")


@dataclass(frozen=True)
class _Line:
    number: int
    text: str
    in_fence: bool  # inside a fenced code block, or one of its fence lines


def read_deck(root: Path, errors: Collector) -> Deck | None:
    """Read the deck folder `root`: its settings and the bytes of its card files (cards come from
    `read_cards`, file by file, so that a build can skip files it has compiled before). Problems go
    to `errors`; None when deck.yaml is unusable."""
    settings = root / "deck.yaml"
    shown = shown_path(settings, root)
    if not settings.is_file():
        _not_a_deck(root, errors)
        return None
    settings_data = read_inside(settings, root, shown, errors)
    config = read_config(root, settings_data, errors) if settings_data is not None else None
    if config is None or settings_data is None:
        return None
    files = []
    for path in card_files(root):
        file = source_file(path, root)
        data = read_inside(path, root, file.shown, errors)
        if data is not None:
            files.append((file, data))
    return Deck(config, tuple(files), sha256_hex(settings_data), read_families(root, errors))


PROBLEMS_DIR = "problems"  # a deck's own problem families: problems/NAME.py is `problem: NAME`


def read_families(root: Path, errors: Collector) -> tuple[FamilySource, ...]:
    """The Python files of the deck's problems/ folder, read (not run: the solve stage runs them)."""
    folder = root / PROBLEMS_DIR
    if not folder.is_dir():
        return ()
    found = []
    for path in sorted(folder.glob("*.py")):
        shown = shown_path(path, root)
        if not path.stem.isidentifier() or not path.stem.isascii():
            errors.error(
                shown, 0, f"a family file's name must be a Python name (letters, digits, _), found {path.stem!r}"
            )
            continue
        data = read_inside(path, root, shown, errors)
        if data is not None:
            found.append(FamilySource(path.stem, path, shown, data))
    return tuple(found)


def source_file(path: Path, root: Path) -> SourceFile:
    """How the card file `path` of the deck folder `root` is named in notes and in messages."""
    return SourceFile(path, path.relative_to(root).as_posix(), shown_path(path, root))


def card_files(root: Path) -> list[Path]:
    """The card files of the deck folder `root`, in path order: every *.md below it but README.md
    (any case) and files and folders whose names start with '.' (hidden) or '_' (notes, drafts)."""
    files = []
    for path in root.rglob("*.md"):
        parts = path.relative_to(root).parts
        if any(part.startswith((".", "_")) for part in parts) or parts[-1].lower() == "readme.md":
            continue
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(root).as_posix())


def read_config(root: Path, data: bytes, errors: Collector) -> DeckConfig | None:
    """Check deck.yaml (its bytes `data`); None when it has errors."""
    path = root / "deck.yaml"
    shown = shown_path(path, root)
    text = _read_text(path, shown, errors, data)
    if text is None:
        return None
    try:
        mapping = load_mapping(text)
    except YamlProblem as exc:
        errors.error(shown, exc.line, exc.message)
        return None
    data, lines = mapping.data, mapping.key_lines
    before = len(errors.errors)
    report_duplicates(mapping, shown, "", errors)
    warn_unknown_keys(data, lines, DECK_KEYS, "deck.yaml", shown, 1, errors)
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        found = "nothing" if name is None else repr(name)
        errors.error(shown, lines.get("name", 1), f"`name` must be the Anki deck name as text, found {found}")
    elif any(not part.strip() for part in name.split("::")):
        errors.error(shown, lines["name"], f"`name` {name!r} has an empty part between '::'")
    deck_id = data.get("id", root.resolve().name)
    if not isinstance(deck_id, str) or not DECK_ID.fullmatch(deck_id):
        _bad_deck_id(deck_id, "id" in data, lines.get("id", 1), shown, errors)
    description = data.get("description", "")
    if not isinstance(description, str):
        errors.error(shown, lines.get("description", 1), f"`description` must be text, found {description!r}")
    tags = parse_tags(data.get("tags", []), shown, lines.get("tags", 1), errors)
    seed = data.get("seed", 0)
    if not is_int(seed) or seed < 0:
        errors.error(shown, lines.get("seed", 1), f"`seed` must be a whole number >= 0, found {seed!r}")
    variants = data.get("variants", DeckConfig.variants)
    if not is_int(variants) or not 0 <= variants <= MAX_VARIANTS:
        errors.error(
            shown,
            lines.get("variants", 1),
            f"`variants` must be a whole number from 0 to {MAX_VARIANTS}, found {variants!r}",
        )
    review = read_review(data, lines, shown, errors)
    if len(errors.errors) > before:
        return None
    return DeckConfig(
        name="::".join(part.strip() for part in name.split("::")),
        id=deck_id,
        root=root,
        description=description,
        tags=tags,
        seed=seed,
        variants=variants,
        review=Review(**review),
        id_line=lines.get("id", 1) if "id" in data else 0,
    )


def _bad_deck_id(deck_id: Any, given: bool, line: int, shown: str, errors: Collector) -> None:
    """The error for an id that cannot make GUIDs, with a valid one to paste into deck.yaml."""
    proposal = suggest_deck_id(str(deck_id) if deck_id is not None else "")
    if load_mapping(f"id: {proposal}").data["id"] != proposal:  # `1`, `1e3`, `yes` would not be text
        proposal = f'"{proposal}"'
    rule = "ASCII letters, digits, '.', '_' or '-', starting with a letter or digit (it is part of every note's GUID)"
    if given:
        errors.error(shown, line, f"`id` must be {rule}, found {deck_id!r}; for example `id: {proposal}`")
    else:
        errors.error(
            shown,
            line,
            f"the deck id must be {rule}, found {deck_id!r}, the folder's name (deck.yaml has no `id:`); "
            f"add a line `id: {proposal}` to deck.yaml",
        )


def report_duplicates(mapping: YamlMapping, shown: str, where: str, errors: Collector) -> None:
    """Report each duplicate key of a YAML mapping (an error: which value was meant is unknowable)."""
    for problem in mapping.duplicates:
        errors.error(shown, problem.line, where + problem.message)


def warn_unknown_keys(
    data: dict[str, Any],
    key_lines: dict[str, int],
    known: tuple[str, ...],
    where: str,
    shown: str,
    line: int,
    errors: Collector,
) -> None:
    """Warn once per key of `data` that is not `known` (a typo, most often): at its line, with the
    closest known key when one is close. The caller ignores such keys."""
    lowered = {key.lower(): key for key in known}
    for key in sorted(set(data) - set(known), key=lambda k: (key_lines.get(k, line), k)):
        close = difflib.get_close_matches(str(key).lower(), list(lowered), n=1, cutoff=0.6)
        hint = f"; did you mean {lowered[close[0]]!r}?" if close else ""
        errors.warn(
            shown,
            key_lines.get(key, line),
            f"unknown key {key!r} in {where}, ignored{hint} (known: {', '.join(known)})",
        )


def _not_a_deck(root: Path, errors: Collector) -> None:
    """Say what `root` is when it is not a deck folder: missing, a file, or a folder without deck.yaml."""
    given = root.as_posix()
    if root.is_dir():
        errors.error(given, 0, "no deck.yaml in this folder; a deck folder needs one, with at least `name:`")
    elif root.exists() and root.name == "deck.yaml":
        errors.error(given, 0, f"this is a file; pass the deck folder that holds it: {root.parent.as_posix()}")
    elif root.exists():
        errors.error(given, 0, "this is a file; expected a deck folder (with a deck.yaml)")
    else:
        errors.error(given, 0, "no such folder; expected a deck folder (with a deck.yaml)")


def read_review(data: dict[str, Any], lines: dict[str, int], shown: str, errors: Collector) -> dict[str, Any]:
    """The review settings given in `data` (deck.yaml or a numeric block), checked: only those given."""
    found: dict[str, Any] = {}
    for key in ("fresh", "type_answer"):
        if key in data:
            if isinstance(data[key], bool):
                found[key] = data[key]
            else:
                errors.error(shown, lines.get(key, 1), f"`{key}` must be true or false, found {data[key]!r}")
    if "tolerance" in data:
        value = data["tolerance"]
        if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value < 1:
            found["tolerance"] = float(value)
        else:
            errors.error(
                shown,
                lines.get("tolerance", 1),
                f"`tolerance` must be a relative tolerance from 0 to below 1 (like 0.001), found {value!r}",
            )
    return found


def parse_tags(value: Any, path: str, line: int, errors: Collector) -> tuple[str, ...]:
    """Tags as a YAML list or a space-separated string; Anki tags cannot hold spaces."""
    if isinstance(value, str):
        value = value.split()
    if not isinstance(value, list) or not all(isinstance(t, str | int) and not isinstance(t, bool) for t in value):
        errors.error(path, line, f"`tags` must be a list of tags like [cnn, pooling], found {value!r}")
        return ()
    tags = [str(t) for t in value]
    for tag in tags:
        if not _TAG.match(tag):
            errors.error(path, line, f"tag {tag!r} has a space or quote; Anki tags are single words (use - or ::)")
    return tuple(dict.fromkeys(tags))


def read_cards(file: SourceFile, data: bytes, errors: Collector) -> tuple[list[Card], list[KeyRef]]:
    """The cards of one card file (its bytes as read by `read_deck`), and every card's key."""
    text = _read_text(file.path, file.shown, errors, data)
    if text is None:
        return [], []
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    subdeck, file_tags, start = _front_matter(lines, file.shown, errors)
    cards, keys = [], []
    found = False
    for heading, body in _split_cards(lines, start):
        found = True
        card, key = _parse_card(heading, body, file, subdeck, file_tags, errors)
        if key:
            keys.append(KeyRef(key, file.shown, heading.number))
        if card is not None:
            cards.append(card)
    if not found:
        errors.warn(
            file.shown,
            1,
            "no cards in this file: a card starts at a `## ` heading (to keep notes that are not cards in the "
            "deck folder, start the file's name with '_')",
        )
    return cards, keys


def read_inside(path: Path, root: Path, shown: str, errors: Collector) -> bytes | None:
    """A source file's bytes, if it lies inside the deck folder once links are followed (a deck built
    from someone else's pull request must not package, or quote, a file of the machine that builds it)."""
    try:
        inside = path.resolve().is_relative_to(root.resolve())
    except (OSError, RuntimeError) as exc:  # a loop of links
        errors.error(shown, 0, f"cannot read the file: {getattr(exc, 'strerror', None) or exc}")
        return None
    if not inside:
        errors.error(
            shown, 0, "is a link to a file outside the deck folder; sources must lie inside it (links included)"
        )
        return None
    return read_bytes(path, shown, errors)


def read_bytes(path: Path, shown: str, errors: Collector) -> bytes | None:
    """A source file's bytes, refusing files over the size limit."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            errors.error(
                shown, 1, f"file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (split it into several files)"
            )
            return None
        return path.read_bytes()
    except OSError as exc:
        errors.error(shown, 1, f"cannot read the file: {exc.strerror or exc}")
        return None


def _read_text(path: Path, shown: str, errors: Collector, data: bytes | None = None) -> str | None:
    if data is None:
        data = read_bytes(path, shown, errors)
    if data is None:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        errors.error(shown, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return None
    if "\x00" in text:
        errors.error(
            shown,
            text[: text.index("\x00")].count("\n") + 1,
            "NUL character: this looks like a binary file, expected UTF-8 text",
        )
        return None
    return text


def _front_matter(lines: list[str], shown: str, errors: Collector) -> tuple[str, tuple[str, ...], int]:
    """Subdeck, tags and the index of the first line after the front matter."""
    if not lines or lines[0].strip() != "---":
        return "", (), 0
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        errors.error(shown, 1, "front matter opened with '---' is never closed: expected a '---' line after it")
        return "", (), len(lines)
    try:
        mapping = load_mapping("\n".join(lines[1:end]), first_line=2)
    except YamlProblem as exc:
        errors.error(shown, exc.line, f"front matter: {exc.message}")
        return "", (), end + 1
    data, key_lines = mapping.data, mapping.key_lines
    report_duplicates(mapping, shown, "front matter: ", errors)
    warn_unknown_keys(data, key_lines, FRONT_MATTER_KEYS, "the front matter", shown, 1, errors)
    subdeck = data.get("subdeck", "")
    if not isinstance(subdeck, str) or (any(not p.strip() for p in subdeck.split("::")) and subdeck):
        errors.error(shown, key_lines.get("subdeck", 1), f"`subdeck` must be a deck name as text, found {subdeck!r}")
        subdeck = ""
    tags = parse_tags(data.get("tags", []), shown, key_lines.get("tags", 1), errors)
    return "::".join(p.strip() for p in subdeck.split("::")) if subdeck else "", tags, end + 1


def _mark_fences(lines: list[str], start: int) -> Iterator[_Line]:
    """Number the lines from `start` and tell which lie inside fenced code."""
    for index, mark in enumerate(fence_marks(lines[start:]), start=start):
        yield _Line(index + 1, lines[index], mark is not None)


def _split_cards(lines: list[str], start: int) -> Iterator[tuple[_Line, list[_Line]]]:
    """Each `## ` heading outside code with the lines up to the next one."""
    heading: _Line | None = None
    body: list[_Line] = []
    for line in _mark_fences(lines, start):
        if not line.in_fence and _HEADING.match(line.text):
            if heading is not None:
                yield heading, body
            heading, body = line, []
        elif heading is not None:
            body.append(line)
    if heading is not None:
        yield heading, body


def _parse_card(
    heading: _Line,
    body: list[_Line],
    file: SourceFile,
    subdeck: str,
    file_tags: tuple[str, ...],
    errors: Collector,
) -> tuple[Card | None, str]:
    """The card (None when it has errors) and its key."""
    shown = file.shown
    before = len(errors.errors)
    title = (_HEADING.match(heading.text)["text"] or "").strip()
    key, card_tags, title = _heading_attrs(title, heading.number, shown, errors)
    if not title:
        errors.error(shown, heading.number, "empty heading: a card's `## ` heading is its question")
    if key is None:
        key = slugify(title)
        if title and not key:
            errors.error(shown, heading.number, "the heading gives no key (no letters or digits); add one: {#some-key}")
    splits = [line for line in body if not line.in_fence and line.text.strip() == "???"]
    for extra in splits[1:]:
        errors.error(
            shown, extra.number, f"second `???` in one card (the first is at line {splits[0].number}); expected one"
        )
    numeric, numeric_lines = _numeric_block(body, shown, errors)
    if numeric is not None and splits and numeric_lines[0].number > splits[0].number:
        errors.error(shown, numeric.line, "the ```numeric block must come before `???` (it belongs to the question)")
    if splits:
        cut = body.index(splits[0])
        question_lines, answer_lines = body[:cut], body[cut + 1 :]
    else:  # without `???`: a basic card's body is its answer, any other card's its question
        question_lines, answer_lines = [], body
    choices, rest = _choices(question_lines if splits else body)
    everything = [heading, *body]
    has_cloze = any(not line.in_fence and CLOZE_OPEN.search(line.text) for line in everything)
    kind = _kind(has_cloze, choices, numeric, heading.number, shown, errors)
    if has_cloze:
        _empty_clozes(everything, shown, errors)
    if not splits and kind is not Kind.BASIC:
        question_lines, answer_lines = body, []
    if kind is Kind.CHOICE:
        question_lines = rest
    block_lines = {line.number for line in numeric_lines}
    question_lines = [line for line in question_lines if line.number not in block_lines]
    if choices and not any(c.correct for c in choices):
        errors.error(shown, choices[0].line, "no correct choice: mark the right one(s) with `- [x]`")
    if len(choices) == 1:
        errors.error(shown, choices[0].line, "a multiple-choice card needs at least 2 choices, found 1")
    placeholders = ()
    if numeric is not None:
        placeholders = tuple(
            Placeholder(m["name"], line.number, m["format"])
            for line in everything
            if not line.in_fence
            for m in PLACEHOLDER.finditer(line.text)
        )
        for placeholder in placeholders:
            if placeholder.format is not None and placeholder.format not in PLACEHOLDER_FORMATS:
                errors.error(
                    shown,
                    placeholder.line,
                    f"unknown format {placeholder.format!r} in {{{{{placeholder.name}|{placeholder.format}}}}}; "
                    f"expected one of: {', '.join(PLACEHOLDER_FORMATS)} (see docs/format-details.md)",
                )
            if placeholder.name == "solution" and splits and placeholder.line > splits[0].number:
                errors.warn(
                    shown,
                    placeholder.line,
                    "{{solution}} below `???` shows the worked solution twice: the back of a numeric card "
                    "already shows it after the answer, above the text below `???`; remove the placeholder",
                )
    if len(errors.errors) > before:
        return None, key
    if kind is Kind.BASIC and not _join(answer_lines).strip():  # Anki would show an empty back
        if splits:
            errors.warn(shown, splits[0].number, "the card has no answer: nothing below `???`")
        else:
            errors.warn(
                shown,
                heading.number,
                "the card has no answer: nothing under its heading (without `???` the text under the heading "
                "is the answer)",
            )
    card = Card(
        key=key,
        kind=kind,
        heading=title,
        question=_join(question_lines),
        answer=_join(answer_lines),
        file=file,
        line=heading.number,
        subdeck=subdeck,
        tags=tuple(dict.fromkeys((*file_tags, *card_tags))),
        choices=tuple(choices),
        numeric=numeric,
        placeholders=placeholders,
        images=_images(everything),
    )
    return card, key


def _heading_attrs(title: str, line: int, shown: str, errors: Collector) -> tuple[str | None, tuple[str, ...], str]:
    """Split a trailing `{#key tags="a b"}` off a heading: (key or None, tags, title)."""
    match = _ATTRS.search(title)
    if not match:
        return None, (), title
    key, tags = None, ()
    for token in re.findall(r'[^\s"]+(?:"[^"]*")?', match["body"]):
        if m := _ATTR_KEY.match(token):
            key = m["key"]
        elif m := _ATTR_TAGS.match(token):
            tags = parse_tags(m["tags"], shown, line, errors)
        else:
            errors.error(
                shown,
                line,
                f'cannot read {token!r} in the heading\'s {{...}}: expected {{#key}} and/or tags="a b" '
                "(keys cannot hold '~', spaces, quotes or braces)",
            )
    return key, tags, title[: match.start()].rstrip()


MAX_SLUG = 80


def slugify(text: str) -> str:
    """Key of a heading without {#key}: lowercase words joined by '-', the words that fit in 80 characters.

    A slug that fits is never cut (keys are note identities: those made before stay the same); a
    longer one ends at the last whole word that fits, or inside a single word longer than that.
    """
    text = CLOZE.sub(lambda m: m["text"], unicodedata.normalize("NFKC", text)).lower()
    text = re.sub(r"[`*_$\\{}()\[\]<>]", " ", text)
    slug = re.sub(r"[^\w]+", "-", text).strip("-_")
    if len(slug) <= MAX_SLUG:
        return slug
    boundary = slug.rfind("-", 0, MAX_SLUG + 1)
    return slug[:boundary].rstrip("-_") if boundary > 0 else slug[:MAX_SLUG]


def _numeric_block(body: list[_Line], shown: str, errors: Collector) -> tuple[NumericBlock | None, list[_Line]]:
    """The card's ```numeric block, parsed, and the lines it spans (fences included)."""
    blocks: list[list[_Line]] = []
    current: list[_Line] | None = None
    for line, mark in zip(body, fence_marks([line.text for line in body]), strict=True):
        if current is None:
            if mark is Mark.OPEN and info_word(line.text) == "numeric":
                current = [line]
        else:
            current.append(line)
            if mark is Mark.CLOSE:
                blocks.append(current)
                current = None
    if current is not None:
        errors.error(shown, current[0].number, "```numeric block is never closed: expected a closing ``` line")
        return None, current
    if not blocks:
        return None, []
    for extra in blocks[1:]:
        errors.error(
            shown, extra[0].number, f"second ```numeric block in one card (the first is at line {blocks[0][0].number})"
        )
    lines = blocks[0]
    try:
        mapping = load_mapping("\n".join(line.text for line in lines[1:-1]), first_line=lines[0].number + 1)
    except YamlProblem as exc:
        errors.error(shown, exc.line, f"numeric block: {exc.message}")
        return None, lines
    first = lines[0].number
    report_duplicates(mapping, shown, "numeric block: ", errors)
    warn_unknown_keys(mapping.data, mapping.key_lines, NUMERIC_KEYS, "the numeric block", shown, first, errors)
    spec = {key: value for key, value in mapping.data.items() if key in SOLVER_KEYS}
    review = read_review(mapping.data, mapping.key_lines, shown, errors)
    unit = mapping.data.get("unit", "")
    if not isinstance(unit, str) or len(unit) > 20 or any(c.isspace() or c.isdigit() for c in unit.strip()):
        errors.error(
            shown,
            mapping.key_lines.get("unit", first),
            f"`unit` must be a short unit without digits or spaces, like J or MB, found {unit!r}",
        )
        unit = ""
    return NumericBlock(spec, lines[0].number, mapping.key_lines, review, unit.strip()), lines


def _choices(lines: list[_Line]) -> tuple[list[Choice], list[_Line]]:
    """Task-list items (`- [ ]`, `- [x]`) at the top level: the choices, and the other lines."""
    choices: list[Choice] = []
    rest: list[_Line] = []
    open_choice: list[str] | None = None
    for line in lines:
        match = None if line.in_fence else _TASK.match(line.text)
        if match:
            open_choice = [match["text"].strip()]
            choices.append(Choice("", match["mark"] != " ", line.number))
            choices[-1] = _with_text(choices[-1], open_choice)
            continue
        if open_choice is not None and line.text.strip() and line.text[:1] in (" ", "\t"):
            open_choice.append(line.text.strip())
            choices[-1] = _with_text(choices[-1], open_choice)
            continue
        open_choice = None
        rest.append(line)
    return choices, rest


def _with_text(choice: Choice, parts: list[str]) -> Choice:
    return Choice(" ".join(parts), choice.correct, choice.line)


def _kind(
    has_cloze: bool, choices: list[Choice], numeric: NumericBlock | None, line: int, shown: str, errors: Collector
) -> Kind:
    found = [
        name for name, present in (("cloze", has_cloze), ("choices", bool(choices)), ("numeric", numeric)) if present
    ]
    if len(found) > 1:
        errors.error(shown, line, f"one card mixes {' and '.join(found)}; expected one kind per card")
    if numeric is not None:
        return Kind.NUMERIC
    if has_cloze:
        return Kind.CLOZE
    return Kind.CHOICE if choices else Kind.BASIC


def _empty_clozes(lines: list[_Line], shown: str, errors: Collector) -> None:
    """A cloze with nothing (or only spaces) to hide is an error at its line: Anki's back would show
    nothing where it stands. A cloze may span lines, so the card's text outside code is read whole."""
    outside = [line for line in lines if not line.in_fence]
    text = "\n".join(line.text for line in outside)
    for match in CLOZE.finditer(text):
        if match["text"].strip():
            continue
        number = match["number"]
        errors.error(
            shown,
            outside[text.count("\n", 0, match.start())].number,
            f"empty cloze {match[0]!r}: there is nothing to hide, so Anki's back would show nothing there; "
            f"expected {{{{c{number}::text}}}} or {{{{c{number}::text::hint}}}}",
        )


def _images(lines: list[_Line]) -> tuple[ImageRef, ...]:
    refs = []
    for line in lines:
        if line.in_fence or ("![" not in line.text and "<img" not in line.text.lower()):
            continue
        text = _CODE_SPAN.sub("", line.text)
        for pattern in (_MD_IMAGE, _HTML_IMAGE):
            refs.extend(ImageRef(m["src"], line.number) for m in pattern.finditer(text))
    return tuple(refs)


def check_keys(root: Path, keys: list[KeyRef], errors: Collector) -> None:
    """Checks across a deck's files: two cards with one key are an error naming both, and so is a
    deck without any card (its package would hold nothing) unless its files already have errors."""
    deck_yaml = shown_path(root / "deck.yaml", root)
    inside = deck_yaml.removesuffix("deck.yaml")
    if not keys and not any(e.path.startswith(inside) for e in errors.errors):
        errors.error(
            deck_yaml,
            1,
            "the deck has no cards: no `## ` heading in any card file (every .md below the deck folder but "
            "README.md and names starting with '_' or '.')",
        )
    seen: dict[str, KeyRef] = {}
    for ref in keys:
        if ref.key in seen:
            first = seen[ref.key]
            errors.error(
                ref.path,
                ref.line,
                f"duplicate card key {ref.key!r}: also at {first.path}:{first.line}; give one of them another {{#key}}",
            )
        else:
            seen[ref.key] = ref


def _join(lines: list[_Line]) -> str:
    return "\n".join(line.text for line in lines).strip("\n")
