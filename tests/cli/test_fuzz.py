"""Fuzz the whole command line: build, check and export on generated decks.

Whatever a deck holds (random YAML values, huge and tiny numbers, odd Unicode, nested structures,
broken YAML), the command exits 0 or 1 (2 for bad usage), prints no traceback, prints every
problem as `path:line: message` with a real path and line, and leaves an existing .apkg and the
lock untouched when it exits 1.

An input that meets a bug in ankismith must still give one line ("internal error ... please
report") thanks to the CLI's last guard; set ANKISMITH_FUZZ_STRICT=1 to make such a line fail the
test instead (to hunt for the bugs themselves).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ankismith.cli import app

STRICT = bool(os.environ.get("ANKISMITH_FUZZ_STRICT"))

# --- values ------------------------------------------------------------------------------------

odd_text = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(
        [
            "",
            " ",
            "é",
            "e\u0301",  # e + combining accent
            "\u200b",  # zero-width space
            "\u202eevil",  # right-to-left override
            "שלום",
            "日本語",
            "🧠🔥",
            "\ufeffbom",
            "a\x00b",
            "tab\there",
            "line\nbreak",
            "$x$",
            "{{c1::x}}",
            "{{W}}",
            "`code`",
            "<b>html</b>",
            "::",
            "~",
        ]
    ),
)
numbers = st.one_of(
    st.integers(-(10**25), 10**25),
    st.sampled_from([0, 1, -1, 2**31, 2**63, -(2**63), 2**64, 10**30, 10**400]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([5e-324, 1e-300, 1e308, -0.0, 0.1, 1.5]),
)
ranges = st.one_of(
    st.builds(lambda a, b: f"{a}..{b}", st.integers(-(10**25), 10**25), st.integers(-(10**25), 10**25)),
    st.sampled_from(
        [
            "1..99999999999999999999999",
            "-99999999999999999999999..1",
            "0.1..0.9 step 0.1",
            "1e-300..1e300",
            "0..1 step 1e-300",
            "5..32",
            "9..1",
            "a..b",
            "1..",
        ]
    ),
)
scalars = st.one_of(numbers, odd_text, st.booleans(), st.none(), ranges)
yaml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(["shape", "values", "one_of"]), odd_text), inner, max_size=3),
    ),
    max_leaves=10,
)
param_names = st.sampled_from(["W", "F", "P", "S", "x", "lr", "grad", "m", "v", "I", "K", "layers", "a"])
families = st.sampled_from(
    ["conv_output_size", "same_padding", "dense_params", "conv2d", "cnn_params", "gd_step", "pool2d", "nope"]
)
formulas = st.one_of(
    st.sampled_from(["x * 2", "x ** x", "W @ W", "sum(I)", "x / 0", "m * v", "9**9**9", "sqrt(-1)", "log(0)"]),
    odd_text,
)


def _optional(**fields: st.SearchStrategy) -> st.SearchStrategy[dict]:
    """A mapping holding any subset of `fields` (in this order)."""
    return st.fixed_dictionaries({}, optional=fields)


numeric_specs = st.one_of(
    _optional(
        problem=families,
        given=st.dictionaries(param_names, yaml_values, max_size=4),
        params=st.dictionaries(param_names, st.one_of(ranges, yaml_values), max_size=3),
        variants=st.one_of(st.integers(0, 3), numbers),
        fresh=st.one_of(st.booleans(), scalars),
        tolerance=st.one_of(st.just(0.01), numbers),
        where=st.sampled_from(["x > 1", "W > F", "import os"]),
    ),
    _optional(
        answer=formulas,
        given=st.dictionaries(param_names, yaml_values, max_size=3),
        params=st.dictionaries(param_names, st.one_of(ranges, yaml_values), max_size=3),
        variants=st.integers(0, 3),
        type_answer=scalars,
        parms=yaml_values,  # a typo: a warning
    ),
)
breakage = st.sampled_from(["none", "none", "none", "quote", "bracket", "cut", "tab"])


def _yaml(data: object, broken: str) -> str:
    """`data` as YAML text, sometimes broken the way people break it."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100)
    if broken == "quote":
        return text.replace(": ", ': "', 1)
    if broken == "bracket":
        return text.replace(": ", ": [", 1)
    if broken == "cut":
        return text[: len(text) // 2]
    if broken == "tab":
        return "\t" + text
    return text


# --- decks -------------------------------------------------------------------------------------

deck_yamls = st.tuples(
    _optional(
        name=st.one_of(st.just("Fuzz::Deck"), odd_text, yaml_values),
        id=st.one_of(st.just("fuzz-deck"), odd_text, yaml_values),
        seed=st.one_of(st.integers(0, 10), numbers, yaml_values),
        variants=st.one_of(st.integers(0, 3), numbers),
        tags=st.one_of(st.lists(odd_text, max_size=3), yaml_values),
        description=st.one_of(odd_text, yaml_values),
        fresh=scalars,
        nmae=odd_text,
    ),
    breakage,
)


@st.composite
def cards(draw: st.DrawFn) -> str:
    """One card: a heading (with or without a key) and a body of odd pieces."""
    heading = draw(st.one_of(odd_text, st.sampled_from(["What is inertia?", "Output size", "x" * 120])))
    key = draw(st.one_of(st.just(""), st.sampled_from([" {#k}", " {#k2}", ' {#k tags="a b"}', " {#bad key}"])))
    pieces = draw(
        st.lists(
            st.one_of(
                odd_text,
                st.sampled_from(["???", "- [x] a", "- [ ] b", "{{c1::x}}", "{{x}} and {{answer}}", "$$", "```"]),
                st.sampled_from(["![f](fig.png)", '<img src="text.png">', "![g](../out.png)", "![h](missing.gif)"]),
                st.builds(lambda spec, broken: f"```numeric\n{_yaml(spec, broken)}```", numeric_specs, breakage),
            ),
            max_size=5,
        )
    )
    return "\n".join([f"## {heading}{key}", *pieces])


wild_files = st.lists(
    st.tuples(
        st.one_of(st.none(), st.tuples(_optional(subdeck=scalars, tags=yaml_values, subdek=odd_text), breakage)),
        st.lists(cards(), max_size=3),
    ),
    min_size=0,
    max_size=2,
)

# tame decks mostly build: odd values where a user may put them (text, numbers, ranges), so that
# packaging and export meet them too
tame_deck_yamls = st.tuples(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["Fuzz", "Fuzz::Deck", "Ünïcödé::日本語"]), "id": st.just("fuzz-deck")},
        optional={"seed": st.integers(0, 10**30), "variants": st.integers(0, 3), "fresh": st.booleans()},
    ),
    st.just("none"),
)
tame_numeric = st.one_of(
    st.fixed_dictionaries(
        {
            "answer": st.sampled_from(["x * 2", "x / 3", "x ** 2", "sqrt(abs(x))", "x * lr"]),
            "given": st.fixed_dictionaries({"x": numbers, "lr": numbers}),
        },
        optional={"params": st.fixed_dictionaries({"x": st.one_of(ranges, numbers)}), "variants": st.integers(0, 2)},
    ),
    st.fixed_dictionaries(
        {
            "answer": st.just("sum(M) * 2"),
            "given": st.fixed_dictionaries(
                {"M": st.lists(st.lists(numbers, min_size=1, max_size=2), min_size=1, max_size=2), "x": numbers}
            ),
        }
    ),
    st.fixed_dictionaries(
        {"problem": st.just("conv_output_size"), "given": st.just({"W": 7, "F": 3, "P": 2, "S": 2})},
        optional={"params": st.fixed_dictionaries({"W": st.one_of(ranges, numbers)}), "variants": st.integers(0, 2)},
    ),
)


@st.composite
def tame_cards(draw: st.DrawFn, index: int) -> str:
    """A card that should build: a unique key, odd text, sometimes a numeric block with odd numbers."""
    heading = draw(odd_text).replace("\n", " ").replace("{", "(")
    text = draw(odd_text)
    if draw(st.booleans()):
        spec = draw(tame_numeric)
        block = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100)
        return f"## Q {heading} {{#k{index}}}\n```numeric\n{block}```\n{text} {{{{x}}}} = {{{{answer}}}}\n"
    return f"## Q {heading} {{#k{index}}}\n{text}\n\n???\n\nA: {draw(odd_text)} ![f](fig.png)\n"


tame_files = st.integers(1, 4).flatmap(
    lambda n: st.tuples(*(tame_cards(i) for i in range(n))).map(lambda cards: [(None, list(cards))])
)
decks = st.one_of(st.tuples(deck_yamls, wild_files), st.tuples(tame_deck_yamls, tame_files))
commands = st.sampled_from(["build", "build", "check", "export"])
options = st.lists(
    st.sampled_from(
        [["--seed", "7"], ["--variants", "2"], ["--variants", "-1"], ["--seed", str(10**30)], ["--new-id"]]
    ),
    max_size=2,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


def _write(root: Path, deck: tuple[dict, str], files: list) -> dict[str, int]:
    """Write the deck; returns each file's number of lines (as the reader counts them)."""
    root.mkdir()
    (root / "deck.yaml").write_text(_yaml(deck[0], deck[1]), encoding="utf-8")
    (root / "fig.png").write_bytes(PNG)
    (root / "text.png").write_text("not an image")
    lines = {"deck.yaml": (root / "deck.yaml").read_text(encoding="utf-8").count("\n") + 1}
    for index, (front, body) in enumerate(files):
        text = (f"---\n{_yaml(front[0], front[1])}---\n" if front is not None else "") + "\n\n".join(body)
        name = f"{index}-cards.md"
        (root / name).write_text(text, encoding="utf-8")
        lines[name] = len(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return lines


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


LINE = re.compile(r"(?P<path>[^\n]+?):(?P<line>[1-9]\d*): (?P<message>\S.*)")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(generated=decks, command=commands, extra=options)
def test_fuzz_the_whole_cli(generated: tuple[tuple[dict, str], list], command: str, extra: list[list[str]]) -> None:
    deck, files = generated
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        root = base / "deck"
        lines = _write(root, deck, files)
        out = base / "out"
        out.mkdir()
        deck_id = deck[0].get("id")
        valid = isinstance(deck_id, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", deck_id)
        for name in {"deck", deck_id if valid else "deck"}:
            (out / f"{name}.apkg").write_bytes(b"the previous package")
        before_out, before_deck = _snapshot(out), _snapshot(root)
        args = [command, root.as_posix()]
        if command != "check":  # check takes no options: every one would be a usage error
            args += [a for option in extra for a in option if command == "build" or option != ["--new-id"]]
        if command == "build":
            args += ["-o", out.as_posix(), "--cache-dir", (base / "cache").as_posix()]
        result = CliRunner().invoke(app, args)

        assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code in (0, 1, 2), result.output
        assert "Traceback" not in result.output
        event(f"{command}: exit {result.exit_code}")
        if result.exit_code == 2:
            return
        internal = [line for line in result.stderr.splitlines() if ": internal error (" in line]
        for line in internal:
            event(f"internal error: {line.split('internal error (', 1)[1].split(')')[0][:60]}")
        assert not (STRICT and internal), internal
        for line in result.stderr.splitlines():
            if re.fullmatch(r"\d+ errors?; nothing was written\.", line):
                continue
            match = LINE.fullmatch(line)
            assert match, f"not path:line: message: {line!r}"
            inner = match["path"].removeprefix(root.as_posix() + "/")
            assert inner in lines, f"a path outside the deck: {line!r}"
            assert int(match["line"]) <= lines[inner] + 1, f"no such line: {line!r}"
            if result.exit_code == 0:
                assert line.endswith(" (warning)"), line
        if result.exit_code == 1:
            assert _snapshot(out) == before_out  # the previous package untouched, nothing new
            assert _snapshot(root) == before_deck  # no lock written
            assert result.stderr.strip(), "exit 1 without a word"
        elif command == "export":
            assert json.loads(result.stdout)["decks"]
