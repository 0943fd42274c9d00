"""Losses: softmax cross-entropy."""

from __future__ import annotations

from typing import Any

import numpy as np

from ankismith.solver import safe_eval
from ankismith.solver.family import Family, Param, Params
from ankismith.solver.kit import sub
from ankismith.solver.steps import RESULT, Chain, Formula


def _softmax(z: list[Any]) -> np.ndarray:
    shifted = np.array([float(v) for v in z]) - float(max(z))
    return np.exp(shifted) / np.exp(shifted).sum()


CE_FORMULA = "-\\ln \\frac{e^{z_y}}{\\sum_k e^{z_k}} = -z_y + \\ln \\sum_k e^{z_k}"


def _ce_steps(p: Params, answer: float) -> list[Chain]:
    z, y = p["z"], p["y"]
    env = {f"z{k}": v for k, v in enumerate(z)}
    total = " + ".join(f"exp(z{k})" for k in range(len(z)))
    prob = safe_eval.evaluate(safe_eval.parse(f"exp(z{y}) / ({total})", set(env)), env)
    return [
        Chain("L", (Formula(CE_FORMULA),)),
        Chain(f"p_{{{y}}}", (sub(f"exp(z{y}) / ({total})", env, written=True), RESULT), name="p"),
        Chain("L", (sub("-log(p)", {"p": prob}), RESULT)),
    ]


SOFTMAX_CROSS_ENTROPY = Family(
    name="softmax_cross_entropy",
    summary="cross-entropy loss of a softmax over logits z for the true class y (natural log)",
    params=(
        Param("z", "vector", "logits", low=-50, high=50),
        Param("y", "int", "index of the true class, from 0", low=0),
    ),
    check=lambda p: (
        None if p["y"] < len(p["z"]) and len(p["z"]) >= 2 else "y must index one of the (at least 2) logits"
    ),
    solve=lambda p: float(-np.log(_softmax(p["z"])[p["y"]])),
    steps=_ce_steps,
    convention="Classes are numbered from 0, as PyTorch's CrossEntropyLoss targets; the log is natural.",
    formulas=(CE_FORMULA,),
)
