"""The solve stage: numeric blocks into instances (params drawn, answers computed, worked steps checked)."""

from ankismith.solver.instantiate import Instance, SpecErrors, SpecIssue, instantiate
from ankismith.solver.registry import FAMILIES
from ankismith.solver.values import is_matrix, to_json, to_tex, to_text

__all__ = [
    "FAMILIES",
    "Instance",
    "SpecErrors",
    "SpecIssue",
    "instantiate",
    "is_matrix",
    "to_json",
    "to_tex",
    "to_text",
]
