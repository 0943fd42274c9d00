"""YAML for deck.yaml, front matter and numeric blocks: safe, alias-free, with key lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

# libyaml's C loader when PyYAML has it (several times faster), the pure-Python one otherwise
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# YAML 1.2 floats that PyYAML's YAML 1.1 rules read as text: 1e3, 1e-3, 1.5e3, .5E-2 (1.1 wants a
# dot and a signed exponent). Card authors write learning rates this way.
_FLOAT_12 = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")
MAX_INT_DIGITS = 4000  # Python refuses to read longer integers (sys.get_int_max_str_digits)


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader, with YAML 1.2 floats and a clear error for absurdly long integers."""


# YAML 1.1 reads 1:30 as 90 (base 60), 0x3 as 3, 0o17 and 017 as 15, 0b11 as 3: nobody writing a
# deck means that, and YAML 1.2 reads them as text. Refused, so that a seed or a count is what it looks like.
_NOT_PLAIN = re.compile(r"^[-+]?(?:0[xXoObB]|0[0-9]|[0-9_]*:)")


def _plain_number(loader: Any, node: yaml.ScalarNode, read: Any) -> Any:
    text = node.value.replace("_", "")
    odd = ":" in text if read == loader.construct_yaml_float else _NOT_PLAIN.match(text) and text.strip("+-0")
    if odd:
        value = read(node)
        raise yaml.constructor.ConstructorError(
            None,
            None,
            f"{node.value!r} is not a plain number (YAML 1.1 reads it as {value!r}: base 60, hex, octal or "
            f"binary); write the number as decimal digits, or quote it if it is text",
            node.start_mark,
        )
    return read(node)


def _construct_int(loader: Any, node: yaml.ScalarNode) -> Any:
    if len(node.value) > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"a number with {len(node.value):,} digits is too long to read", node.start_mark
        )
    return _plain_number(loader, node, loader.construct_yaml_int)


def _construct_float(loader: Any, node: yaml.ScalarNode) -> Any:
    return _plain_number(loader, node, loader.construct_yaml_float)


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789."))
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)


class YamlProblem(Exception):
    """YAML that cannot be read, with the line where it went wrong (counted as `first_line` says)."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _walk(node: yaml.Node, first_line: int) -> list[YamlProblem]:
    """Every duplicate key of every mapping under `node` (PyYAML keeps the last value silently), at
    the repeated key's line. Raises on a node reached twice: that is an alias (*name), the way
    'billion laughs' YAML bombs expand; walking stops at the first repeat, so a bomb costs no more
    than its text."""
    seen: set[int] = set()
    duplicates = []
    stack = [node]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            raise yaml.MarkedYAMLError(
                None,
                None,
                "this anchored value (&name) is used again through an alias (*name); "
                "aliases are not supported, write the value out",
                current.start_mark,
            )
        seen.add(id(current))
        if isinstance(current, yaml.SequenceNode):
            stack.extend(current.value)
        elif isinstance(current, yaml.MappingNode):
            first_lines: dict[tuple[str, str], int] = {}
            for key, value in current.value:
                stack.extend((key, value))
                if not isinstance(key, yaml.ScalarNode):
                    continue
                line = key.start_mark.line + first_line
                identity = (key.tag, key.value)  # `1` and `'1'` are two keys, `a` and `'a'` one
                if identity in first_lines:
                    duplicates.append(
                        YamlProblem(
                            f"duplicate key `{key.value}` (first at line {first_lines[identity]}): give each "
                            "key once (the second would silently replace the first)",
                            line,
                        )
                    )
                else:
                    first_lines[identity] = line
    return sorted(duplicates, key=lambda problem: problem.line)


@dataclass(frozen=True)
class YamlMapping:
    """A parsed top-level mapping, the 1-based line of each of its keys, and the duplicate keys found
    in it or in any mapping inside it (errors the reader reports without stopping: the mapping
    itself could be read)."""

    data: dict[str, Any]
    key_lines: dict[str, int]
    duplicates: tuple[YamlProblem, ...] = ()


def load_mapping(text: str, first_line: int = 1) -> YamlMapping:
    """Parse `text` as a YAML mapping (empty text is an empty mapping).

    `first_line` is the line number of the text's first line in its file: key lines and the line
    of a YamlProblem are counted from it.
    """
    try:
        loader = _Loader(text)  # the pure-Python reader rejects control characters here
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", first_line) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlMapping({}, {})
        duplicates = _walk(node, first_line)
        if not isinstance(node, yaml.MappingNode):
            raise YamlProblem(
                f"expected a mapping of `key: value` lines, found {_node_kind(node)}",
                node.start_mark.line + first_line,
            )
        key_lines = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key_lines[str(key_node.value)] = key_node.start_mark.line + first_line
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        problem, line = _describe(exc, text)
        raise YamlProblem(f"invalid YAML: {problem}", line + first_line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", first_line) from None
    except RecursionError:
        raise YamlProblem("invalid YAML: nested too deeply", first_line) from None
    finally:
        loader.dispose()
    if not all(isinstance(k, str) for k in data):
        raise YamlProblem("expected text keys", first_line)
    return YamlMapping(data, key_lines, tuple(duplicates))


_UNCLOSED = {"quoted scalar": "the quoted value", "flow sequence": "the list", "flow mapping": "the mapping"}


def _describe(exc: yaml.MarkedYAMLError, text: str) -> tuple[str, int]:
    """The problem in words, and its 0-based line.

    PyYAML reports a quote or bracket that is never closed where it gave up (often the end of
    the text, lines below); the line to fix is the one that opened it, its `context_mark`.
    """
    problem = exc.problem or exc.context or "invalid YAML"
    context, opened = exc.context or "", exc.context_mark
    unclosed = any(part in problem for part in ("end of stream", "did not find expected", "expected ',' or"))
    what = next((name for key, name in _UNCLOSED.items() if context.endswith(key)), None)
    if what is not None and unclosed and opened is not None:
        char = text[opened.index : opened.index + 1] or "?"
        if what == "the quoted value":
            return f"{what} that starts here is never closed (expected a closing {char!r})", opened.line
        closer = "]" if char == "[" else "}"
        return f"{what} that starts here with {char!r} is never closed (expected ',' or {closer!r})", opened.line
    mark = exc.problem_mark or opened
    return problem, mark.line if mark else 0


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the value {node.value!r}" if isinstance(node, yaml.ScalarNode) else "something else"
