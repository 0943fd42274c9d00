"""Long paragraphs in linear time: a long inline text is rendered in pieces, cut where nothing spans the cut.

Python-Markdown's inline pass rebuilds the whole text for every construct it replaces, and its link
pattern re-reads the whole text for every link, so one paragraph of n characters holding m
constructs costs O(n·m): a 1 MB line of prose took minutes. Here the text of a long block is taken
out of that pass and cut into pieces of a few hundred characters; each piece goes through
Python-Markdown's own inline processor and the pieces' nodes are joined, which gives the HTML of
the whole when no construct spans a cut. A cut is made only in plain text, at a space followed by
a letter or digit, when every code span, math, link, HTML tag and escape before it is closed and
every emphasis delimiter before it has been paired as Python-Markdown's delimiter processor pairs
them. Anything the scanner does not model (a bracket that is no link, an unpaired backtick, a
delimiter run it cannot pair...) ends the cutting: the rest of the text is one piece, rendered as
before. The scanner knows the inline patterns by name and class, in order; any other set of
patterns (another extension, another Python-Markdown) turns the cutting off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

import markdown
from markdown import Extension, Markdown
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString


@dataclass(frozen=True)
class Chunking:
    """Which inline texts are rendered in pieces (longer than `threshold`) and how long a piece is at least."""

    threshold: int = 8192
    size: int = 256


# The Python-Markdown whose inline pass the scanner models (3.11's delimiter processor pairs emphasis), and
# its inline patterns with ours, in their order (highest priority first). Anything else: no cutting.
MODELLED_MARKDOWN = (3, 11)
KNOWN_PATTERNS: tuple[tuple[str, str], ...] = (
    ("backtick", "markdown.inlinepatterns.BacktickInlineProcessor"),
    ("ankismith-math-display", "ankismith.render.mathext._MathPattern"),
    ("ankismith-math-square", "ankismith.render.mathext._MathPattern"),
    ("ankismith-math-inline", "ankismith.render.mathext._MathPattern"),
    ("ankismith-math-round", "ankismith.render.mathext._MathPattern"),
    ("escape", "markdown.inlinepatterns.EscapeInlineProcessor"),
    ("reference", "markdown.inlinepatterns.ReferenceInlineProcessor"),
    ("link", "markdown.inlinepatterns.LinkInlineProcessor"),
    ("image_link", "markdown.inlinepatterns.ImageInlineProcessor"),
    ("image_reference", "markdown.inlinepatterns.ImageReferenceInlineProcessor"),
    ("short_reference", "markdown.inlinepatterns.ShortReferenceInlineProcessor"),
    ("short_image_ref", "markdown.inlinepatterns.ShortImageReferenceInlineProcessor"),
    ("autolink", "markdown.inlinepatterns.AutolinkInlineProcessor"),
    ("automail", "markdown.inlinepatterns.AutomailInlineProcessor"),
    ("linebreak", "markdown.inlinepatterns.SubstituteTagInlineProcessor"),
    ("html", "markdown.inlinepatterns.HtmlInlineProcessor"),
    ("entity", "markdown.inlinepatterns.HtmlInlineProcessor"),
    ("em_strong", "markdown.inlinepatterns.DelimiterProcessor"),
)

# Text no inline pattern can start in or reach across: no backslash, backtick, dollar, delimiter,
# bracket, `![`, `<` before a non-space, nor Markdown's own placeholder marks (STX, ETX).
_PLAIN = re.compile(r"(?:[^\\`$*_\[\]<!\x02\x03]|!(?!\[)|<(?=\s))+")
_CUT = re.compile(r"(?<= )[A-Za-z0-9]")
_CODE = re.compile(r"(`+)[^`]+\1(?!`)")
# `[text](url)` and `![alt](src)`: plain text (underscores only inside a word), a URL with no space,
# parenthesis, quote, backslash, backtick, dollar or bracket
_LINK = re.compile(
    r"!?\[(?:[^\\`$*_\[\]<!\n\x02\x03]|(?<=[A-Za-z0-9])_+(?=[A-Za-z0-9]))+\]"
    r"\([^\s()<>\\`$\[\]\"'\x02\x03]+\)"
)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*\s*/?>|<[A-Za-z][A-Za-z0-9+.-]*://[^\s<>\\`$\[\]\"'\x02\x03]*>")
_RUN = re.compile(r"\*+|_+")
_LINE_BREAK = "  \n"  # Python-Markdown's <br>, replaced before emphasis: it changes a delimiter's neighbour


@dataclass(frozen=True)
class _Math:
    regex: re.Pattern[str]
    forbidden: tuple[str, ...]  # in the TeX: what a pattern that runs earlier would take, or move the end of


class _Scanner:
    """Finds the cuts of one text; built from the Markdown instance whose patterns it mirrors."""

    def __init__(self, md: Markdown) -> None:
        patterns = md.inlinePatterns
        names = ("display", "square", "inline", "round")
        display, square, dollar, round_ = (patterns[f"ankismith-math-{name}"].compiled_re for name in names)
        # display runs first, then square, dollar, round; a formula must not hold what an earlier one takes
        self.display = _Math(display, ("`", "$"))
        self.square = _Math(square, ("`", "$"))
        self.dollar = _Math(dollar, ("`", "$", "\\[", "\\]"))
        self.round = _Math(round_, ("`", "$", "\\[", "\\]"))
        self.escapable = set(md.ESCAPED_CHARS) - set("`()[]")
        self.boundaries = {char: d.boundary for char, d in patterns["em_strong"].delimiters.items()}

    def cuts(self, text: str, size: int) -> list[int]:
        """Where `text` can be cut into pieces of at least `size` characters that render as the whole does."""
        cuts: list[int] = []
        last = 0
        emphasis: list[tuple[str, int]] = []  # delimiter runs still open: (character, length), innermost last
        # A `$` that opens no math looks ahead for a closing `$` up to the next `$` or placeholder: no cut before.
        dollar = False
        position = 0
        while position < len(text):
            plain = _PLAIN.match(text, position)
            if plain is not None:
                if not emphasis and not dollar:
                    while (cut := _CUT.search(text, max(position + 1, last + size), plain.end())) is not None:
                        last = cut.start()
                        cuts.append(last)
                position = plain.end()
                continue
            char = text[position]
            if char == "$":
                stop, dollar = self._dollar(text, position)  # a `$` waiting before this one looked no further
                if stop is None:
                    return cuts
                position = stop
                continue
            if char == "`" or text.startswith("\\[", position):
                dollar = False  # placeholders by the time Markdown looks for `$..$`: a waiting `$` stops there
            if char in "*_":
                position = self._run(text, position, emphasis)
            else:
                position = self._token(text, position)
            if position < 0:
                return cuts
        return cuts

    def _dollar(self, text: str, position: int) -> tuple[int | None, bool]:
        """(end of the math or of a lone `$`, whether it is a lone `$`, waiting for the next one); None: unknown."""
        if text.startswith("$$", position):
            return self._math(self.display, text, position), False
        if position and text[position - 1] == "$":
            return None, False  # after a formula's closing `$` Markdown sees a placeholder, not a `$`
        end = self._math(self.dollar, text, position)
        if end is not None:
            return end, False
        if self.dollar.regex.match(text, position) is not None:
            return None, False  # math only in the raw text: it holds what Markdown replaces before
        return position + 1, True

    @staticmethod
    def _math(kind: _Math, text: str, position: int) -> int | None:
        match = kind.regex.match(text, position)
        if match is None or any(mark in match["math"] for mark in kind.forbidden):
            return None
        return match.end()

    def _token(self, text: str, position: int) -> int:
        """The end of the code span, math, escape, link or tag at `position`; -1 when it is none of them."""
        char = text[position]
        if char == "`":
            match = _CODE.match(text, position)
            return match.end() if match else -1
        if char == "\\":
            following = text[position + 1 : position + 2]
            if following in ("(", "["):
                end = self._math(self.round if following == "(" else self.square, text, position)
                return -1 if end is None else end
            after = position + 2
            if following in self.escapable and (after == len(text) or _PLAIN.match(text, after)):
                return after
            return -1
        if char in "[!":
            match = _LINK.match(text, position)
            return match.end() if match else -1
        if char == "<":
            match = _TAG.match(text, position)
            return match.end() if match else -1
        return -1  # a stray `]`, STX or ETX

    def _run(self, text: str, position: int, emphasis: list[tuple[str, int]]) -> int:
        """Pair one delimiter run as Python-Markdown's delimiter processor does; -1 when that is not certain."""
        end = _RUN.match(text, position).end()  # type: ignore[union-attr]  # text[position] is * or _
        char, length = text[position], end - position
        if (
            (position and text[position - 1] in "*_")
            or text[end : end + 1] in ("*", "_")
            or text.startswith(_LINE_BREAK, end)
            or text.endswith(_LINE_BREAK, 0, position)
        ):
            return -1  # neighbours that Markdown changes before it pairs delimiters
        match = self.boundaries[char].match(text, position)
        if match is None:
            return end  # neither opens nor closes
        if match.end() != end or length > 2:
            return -1
        kind = match.lastgroup
        same = any(open_char == char for open_char, _ in emphasis)
        if kind == "start" or (kind == "ambiguous" and not same):
            emphasis.append((char, length))
        elif same:  # an end, or an ambiguous run, meeting an open run of its character: it must close the innermost
            if emphasis[-1] != (char, length):
                return -1
            emphasis.pop()
        return end  # an end with nothing of its character open is passed over


def knows(md: Markdown) -> bool:
    """Whether `md`'s inline patterns are exactly the ones the scanner models."""
    patterns = md.inlinePatterns
    if tuple(markdown.__version_info__[:2]) != MODELLED_MARKDOWN or len(patterns) != len(KNOWN_PATTERNS):
        return False
    for index, (name, kind) in enumerate(KNOWN_PATTERNS):
        pattern = patterns[index]
        if name not in patterns or patterns.get_index_for_name(name) != index:
            return False
        if f"{type(pattern).__module__}.{type(pattern).__qualname__}" != kind:
            return False
    try:
        delimiters = patterns["em_strong"].delimiters
        shapes = {(d.tag_count, d.double, d.max_size) for d in delimiters.values()}
    except AttributeError:
        return False
    inline = md.treeprocessors["inline"] if "inline" in md.treeprocessors else None
    return (
        set(delimiters) == {"*", "_"}
        and shapes == {(2, False, 2)}
        and type(inline).__module__ == "markdown.treeprocessors"
        and type(inline).__qualname__ == "InlineProcessor"
    )


def cut_points(md: Markdown, text: str, size: int) -> list[int]:
    """Where a block's inline `text` can be cut so that its pieces render as the whole does ([] if nowhere)."""
    return _Scanner(md).cuts(text, size) if knows(md) else []


@dataclass
class _Held:
    element: ElementTree.Element
    text: str
    cuts: list[int]
    ancestors: list[str]  # tags from the root to the element's parent


class _SetAside(Treeprocessor):
    """Take long inline texts out of Python-Markdown's inline pass (they are rendered in pieces after it)."""

    def __init__(self, md: Markdown, chunking: Chunking, held: list[_Held]) -> None:
        super().__init__(md)
        self.chunking = chunking
        self.held = held
        self.scanner: _Scanner | None = None
        self.known: bool | None = None

    def run(self, root: ElementTree.Element) -> None:
        """Called by Python-Markdown before its inline pass."""
        self.held.clear()
        if self.known is None:
            self.known = knows(self.md)
            self.scanner = _Scanner(self.md) if self.known else None
        if self.scanner is None:
            return
        parents: dict[ElementTree.Element, ElementTree.Element] | None = None
        for element in root.iter():
            text = element.text
            if element is root or len(element) or not text or isinstance(text, AtomicString):
                continue  # an element with children would have them inline-processed twice by Markdown
            if len(text) <= self.chunking.threshold:
                continue
            cuts = self.scanner.cuts(text, self.chunking.size)
            if not cuts:
                continue
            if parents is None:
                parents = {child: parent for parent in root.iter() for child in parent}
            ancestors, node = [], element
            while node in parents:
                node = parents[node]
                ancestors.append(node.tag.lower())
            element.text = None
            self.held.append(_Held(element, text, cuts, ancestors[::-1]))


class _RenderHeld(Treeprocessor):
    """Render the texts set aside piece by piece with Markdown's inline processor, and join the pieces."""

    def __init__(self, md: Markdown, held: list[_Held]) -> None:
        super().__init__(md)
        self.held = held

    def run(self, root: ElementTree.Element) -> None:
        """Called by Python-Markdown after its inline pass."""
        inline: Any = self.md.treeprocessors["inline"]
        for held in self.held:
            texts: list[list[str]] = [[]]  # the element's text, then each new child's tail
            children: list[ElementTree.Element] = []
            *above, parent_tag = held.ancestors
            for start, end in zip((0, *held.cuts), (*held.cuts, len(held.text)), strict=True):
                parent = ElementTree.Element(parent_tag)
                piece = ElementTree.SubElement(parent, held.element.tag)
                piece.text = held.text[start:end]
                inline.run(parent, above)  # as Markdown runs it on the element: same ancestors
                if piece.text:
                    texts[-1].append(piece.text)
                for child in piece:
                    children.append(child)
                    texts.append([child.tail] if child.tail else [])
            held.element.text = "".join(texts[0]) or None
            for child, tail in zip(children, texts[1:], strict=True):
                child.tail = "".join(tail) or None
            held.element.extend(children)
        self.held.clear()


class LongTextExtension(Extension):
    """Render long inline texts in pieces around Python-Markdown's inline pass (priority 20)."""

    def __init__(self, chunking: Chunking, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chunking = chunking

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's API)
        """Called by Python-Markdown when the extension is loaded."""
        held: list[_Held] = []
        md.treeprocessors.register(_SetAside(md, self.chunking, held), "ankismith-long-set-aside", 21)
        md.treeprocessors.register(_RenderHeld(md, held), "ankismith-long-render", 19)
