"""Learning-rate schedules: PyTorch's StepLR, CosineAnnealingLR (closed form) and LinearLR warm-up."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ankismith.solver.kit import RESULT, Chain, Int, Number, Option, cos, div, power, refuse, sub, sym

NAMES = {
    "lr0": "\\eta_0",
    "epoch": "e",
    "step_size": "s",
    "T_max": "T_{max}",
    "eta_min": "\\eta_{min}",
    "warmup": "W",
    "start_factor": "f_0",
    "k": "k",
    "c": "c",
    "f": "f_e",
}
STEP = "lr0 * gamma**k"
COSINE = "eta_min + (lr0 - eta_min) * (1 + c) / 2"
WARMUP = "start_factor + (1 - start_factor) * min(epoch, warmup) / warmup"


def learning_rate(p: dict[str, Any], epoch: int | None = None, period: int = 1) -> Any:
    """The rate after `epoch` epochs (default: the param's); `period` 2 halves the cosine's period."""
    e = p["epoch"] if epoch is None else epoch
    if p["schedule"] == "step":
        return p["lr0"] * power(p["gamma"], e // p["step_size"])
    if p["schedule"] == "cosine":
        c = cos(period * math.pi * e / p["T_max"])
        return p["eta_min"] + div((p["lr0"] - p["eta_min"]) * (1 + c), 2)
    factor = p["start_factor"] + (1 - p["start_factor"]) * Fraction(min(e, p["warmup"]), p["warmup"])
    return p["lr0"] * factor


class lr_schedule:
    """the learning rate after some epochs of a step, cosine or linear warm-up schedule (PyTorch's)"""

    CONVENTION = (
        "Epochs count the scheduler's steps from 0, as PyTorch: StepLR multiplies by gamma every step_size epochs, "
        "CosineAnnealingLR is its closed form (past T_max the cosine rises again), LinearLR warms up from "
        "start_factor·lr0 to lr0 over `warmup` epochs."
    )
    PARAMS = {
        "schedule": Option(
            "step", "cosine", "linear_warmup", doc="schedule", default="step", draw=["step", "cosine", "linear_warmup"]
        ),
        "lr0": Number("initial learning rate", low=0, draw=[0.1, 0.2, 1]),
        "epoch": Int("epochs done (scheduler steps)", low=0, high=100_000, draw="1..12"),
        "step_size": Int("step: epochs between decays", low=1, high=100_000, default=10, draw=[2, 3, 5]),
        "gamma": Number("step: decay factor", low=0, high=1, default=Fraction(1, 10), draw=[0.1, 0.5]),
        "T_max": Int("cosine: epochs of the half period", low=1, high=100_000, default=10, draw=[10, 12]),
        "eta_min": Number("cosine: the lowest rate", low=0, default=0, draw=[0, 0.01]),
        "warmup": Int(
            "linear warm-up: its epochs (PyTorch's total_iters)", low=1, high=100_000, default=5, draw=[4, 5, 10]
        ),
        "start_factor": Number(
            "linear warm-up: the first epoch's share of lr0 (default 0.25: PyTorch's 1/3 has no exact decimal)",
            low=0,
            high=1,
            default=Fraction(1, 4),
            draw=[0.1, 0.25, 0.5],
        ),
    }

    def solve(**p: Any) -> Any:
        return learning_rate(p)

    def valid(**p: Any) -> bool:
        if p["schedule"] == "linear_warmup" and p["start_factor"] == 0:
            return refuse("start_factor must be above 0 (PyTorch's LinearLR refuses 0)")
        if p["schedule"] == "cosine" and p["eta_min"] > p["lr0"]:
            return refuse("eta_min above lr0: the cosine would anneal upward")
        return True

    def degenerate(**p: Any) -> str | None:
        if p["schedule"] == "step" and p["epoch"] < p["step_size"]:
            return "no decay yet: the rate is still lr0"
        if p["schedule"] == "linear_warmup" and p["epoch"] >= p["warmup"]:
            return "the warm-up is over: the rate is lr0"
        return "the rate has not moved from lr0" if p["epoch"] == 0 else None

    def steps(**p: Any) -> list[Chain]:
        env = dict(p)
        if p["schedule"] == "step":
            env["k"] = p["epoch"] // p["step_size"]
            return [
                Chain(
                    "k",
                    (sym("floor(epoch / step_size)", env, **NAMES), sub("floor(epoch / step_size)", env), RESULT),
                    name="k",
                ),
                Chain("\\eta_e", (sym(STEP, env, **NAMES), sub(STEP, env), RESULT)),
            ]
        if p["schedule"] == "cosine":
            angle = "cos(pi * epoch / T_max)"
            env["c"] = cos(math.pi * p["epoch"] / p["T_max"])
            return [
                Chain("c", (sym(angle, env, **NAMES), sub(angle, env), RESULT), name="c"),
                Chain("\\eta_e", (sym(COSINE, env, **NAMES), sub(COSINE, env), RESULT)),
            ]
        env["f"] = learning_rate(p | {"lr0": 1})
        return [
            Chain("f_e", (sym(WARMUP, env, **NAMES), sub(WARMUP, env), RESULT), name="f"),
            Chain("\\eta_e", (sym("lr0 * f", env, **NAMES), sub("lr0 * f", env), RESULT)),
        ]

    def mistakes(**p: Any) -> dict[str, Any]:
        e = p["epoch"]
        right = learning_rate(p)

        def unless_right(value: Any) -> Any:  # a wrong method that lands on the right rate tells nothing
            return None if value == right else value

        if p["schedule"] == "step":
            return {
                "$\\gamma$ is applied every epoch, not once every step_size epochs: $\\eta_0 \\gamma^e$": unless_right(
                    p["lr0"] * power(p["gamma"], e)
                ),
                "the epochs are counted from 1: $\\eta_0 \\gamma^{\\lfloor (e + 1)/s \\rfloor}$": unless_right(
                    learning_rate(p, e + 1)
                ),
            }
        if p["schedule"] == "cosine":
            half = p["eta_min"] + (p["lr0"] - p["eta_min"]) * (1 + cos(math.pi * e / p["T_max"]))
            return {
                "the cosine's period is taken as $T_{max}$, not $2T_{max}$: $\\cos(2\\pi e / T_{max})$": learning_rate(
                    p, period=2
                ),
                "the $\\frac{1}{2}$ is forgotten: $\\eta_{min} + (\\eta_0 - \\eta_{min})(1 + \\cos(\\pi e / T_{max}))$": half,
                "the cosine runs one epoch ahead: $\\cos(\\pi (e + 1) / T_{max})$": learning_rate(p, e + 1),
            }
        return {
            "the warm-up runs one epoch ahead: $\\min(e + 1, W)$": unless_right(learning_rate(p, e + 1)),
            "the warm-up starts from 0, not from $f_0 \\eta_0$: $\\eta_0 \\min(e, W) / W$": unless_right(
                p["lr0"] * Fraction(min(e, p["warmup"]), p["warmup"])
            ),
        }
