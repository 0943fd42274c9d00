"""The solve stage: numeric blocks into instances (params drawn, answers computed, worked steps checked)."""

from ankismith.solver.contract import Family, FamilyError
from ankismith.solver.instantiate import Instance, Mistake, Part, SpecErrors, SpecIssue, instantiate
from ankismith.solver.registry import builtin, families_for
from ankismith.solver.values import is_matrix, to_json, to_tex, to_text

__all__ = [
    "Family",
    "FamilyError",
    "Instance",
    "Mistake",
    "Part",
    "SpecErrors",
    "SpecIssue",
    "builtin",
    "families_for",
    "instantiate",
    "is_matrix",
    "to_json",
    "to_tex",
    "to_text",
]
