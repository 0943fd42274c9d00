"""YAML for deck.yaml, front matter and numeric blocks: safe, alias-free, with key lines."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import AliasEvent


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases: they are how 'billion laughs' YAML bombs expand."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            raise yaml.MarkedYAMLError(
                None, None, "aliases (*name) are not supported; write the value out", event.start_mark
            )
        return super().compose_node(parent, index)


@dataclass(frozen=True)
class YamlMapping:
    """A parsed top-level mapping and the 1-based line of each of its keys."""

    data: dict[str, Any]
    key_lines: dict[str, int]


class YamlProblem(Exception):
    """YAML that cannot be read, with the 0-based line inside the text where it went wrong."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def load_mapping(text: str, first_line: int = 1) -> YamlMapping:
    """Parse `text` as a YAML mapping (empty text is an empty mapping); lines offset by `first_line`."""
    try:
        loader = _NoAliasLoader(text)  # its reader already rejects control characters
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", 0) from None
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlMapping({}, {})
        if not isinstance(node, yaml.MappingNode):
            raise YamlProblem(
                f"expected a mapping of `key: value` lines, found {_node_kind(node)}",
                node.start_mark.line,
            )
        key_lines = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                key_lines[str(key_node.value)] = key_node.start_mark.line + first_line
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise YamlProblem(f"invalid YAML: {problem}", line) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}", 0) from None
    except RecursionError:
        raise YamlProblem("invalid YAML: nested too deeply", 0) from None
    finally:
        loader.dispose()
    if not all(isinstance(k, str) for k in data):
        raise YamlProblem("expected text keys", 0)
    return YamlMapping(data, key_lines)


def _node_kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return f"the value {node.value!r}" if isinstance(node, yaml.ScalarNode) else "something else"
