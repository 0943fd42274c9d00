"""Losses: softmax cross-entropy."""

from __future__ import annotations

import math
from typing import Any

from ankismith.solver.kit import RESULT, Chain, Formula, Int, Vector, div, exp, log, refuse, sub


def softmax(z: list[Any]) -> list[Any]:
    """Softmax of logits, exactly where the kit can (shifted by the largest logit: no overflow)."""
    top = max(z)
    weights = [exp(v - top) for v in z]
    total = sum(weights)
    return [div(w, total) for w in weights]


CE_FORMULA = "-\\ln \\frac{e^{z_y}}{\\sum_k e^{z_k}} = -z_y + \\ln \\sum_k e^{z_k}"


class softmax_cross_entropy:
    """cross-entropy loss of a softmax over logits z for the true class y (natural log)"""

    CONVENTION = "Classes are numbered from 0, as PyTorch's CrossEntropyLoss targets; the log is natural."
    FORMULAS = (CE_FORMULA,)
    PARAMS = {
        "z": Vector("logits", low=-50, high=50),
        "y": Int("index of the true class, from 0", low=0),
    }

    def solve(z: list[Any], y: int) -> float:
        return float(-math.log(float(softmax(z)[y])))

    def valid(z: list[Any], y: int) -> bool:
        return refuse(None if y < len(z) and len(z) >= 2 else "y must index one of the (at least 2) logits")

    def steps(z: list[Any], y: int) -> list[Chain]:
        env = {f"z{k}": v for k, v in enumerate(z)}
        total = " + ".join(f"exp(z{k})" for k in range(len(z)))
        return [
            Chain("L", (Formula(CE_FORMULA),)),
            Chain(f"p_{{{y}}}", (sub(f"exp(z{y}) / ({total})", env, written=True), RESULT), name="p"),
            Chain("L", (sub("-log(p)", {"p": softmax(z)[y]}), RESULT)),
        ]

    def mistakes(z: list[Any], y: int) -> dict[str, Any]:
        p = float(softmax(z)[y])
        return {
            "the log is taken to base 10: $-\\log_{10} p_y$, not the natural $-\\ln p_y$": -math.log10(p),
            "the minus sign is forgotten: $\\ln p_y$, a negative loss": math.log(p),
            "the probability is given, not the loss: $p_y$": p,
        }


__all__ = ["log", "softmax", "softmax_cross_entropy"]
