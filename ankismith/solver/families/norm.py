"""Normalization and dropout: batch norm's forward pass, inverted dropout's scaling."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver.kit import (
    RESULT,
    Chain,
    Number,
    Shown,
    Vector,
    div,
    entry_lines,
    refuse,
    sqrt,
    sub,
    sym,
)

BN_NAMES = {"gamma": "\\gamma", "beta": "\\beta", "eps": "\\epsilon", "mu": "\\mu_B", "var": "\\sigma_B^2"}


def batchnorm(x: list[Any], gamma: Any, beta: Any, eps: Any, ddof: int = 0, root: str = "inside") -> dict[str, Any]:
    """Batch norm of one feature over a batch: its mean, variance (over n - ddof) and outputs.

    `root`: where epsilon goes, "inside" the square root (right), "outside" or "none" (mistakes)."""
    n = len(x)
    mean = Fraction(sum(x)) / n if all(isinstance(v, int | Fraction) for v in x) else sum(x) / n
    var = div(sum((v - mean) ** 2 for v in x), n - ddof)
    scale = {"inside": sqrt(var + eps), "outside": sqrt(var) + eps, "none": sqrt(var)}[root]
    return {"mean": mean, "var": var, "y": [gamma * div(v - mean, scale) + beta for v in x]}


def _differs(a: list[Any], b: list[Any], share: float = 0.01) -> bool:
    """Whether two outputs differ by more than `share` somewhere: a mistake a student could tell."""
    return any(
        abs(float(u) - float(v)) > share * max(abs(float(u)), abs(float(v)), 1e-12) for u, v in zip(a, b, strict=True)
    )


class batchnorm_forward:
    """batch norm's forward pass in training mode over a batch of one feature: mean, variance, outputs"""

    CONVENTION = (
        "PyTorch BatchNorm in training mode: the batch's biased variance (divided by n, not n - 1) normalizes, "
        "and epsilon is added inside the square root."
    )
    PARTS = ("mean", "var", "y")
    PARAMS = {
        "x": Vector(
            "the batch: one feature's value in each example",
            low=-1000,
            high=1000,
            draw={"one_of": [["0..6"] * 3, ["0..6"] * 4, ["-3..3"] * 4]},
        ),
        "gamma": Number("scale gamma", default=1, draw=[1, 2, 0.5]),
        "beta": Number("shift beta", default=0, draw=[0, 1, -1]),
        "eps": Number("epsilon", low=0, default=Fraction(1, 10**5)),
    }

    def solve(x: list[Any], gamma: Any, beta: Any, eps: Any) -> dict[str, Any]:
        return batchnorm(x, gamma, beta, eps)

    def valid(x: list[Any], gamma: Any, beta: Any, eps: Any) -> bool:
        if len(x) < 2:
            return refuse("a batch needs at least 2 values")
        return refuse("eps = 0 with a batch of equal values divides by zero" if eps == 0 and len(set(x)) == 1 else None)

    def degenerate(x: list[Any], gamma: Any, beta: Any, eps: Any) -> str | None:
        return "the batch's values are all equal: every output is beta" if len(set(x)) == 1 else None

    def steps(x: list[Any], gamma: Any, beta: Any, eps: Any) -> list[Chain]:
        found = batchnorm(x, gamma, beta, eps)
        env = {f"x{k + 1}": v for k, v in enumerate(x)} | {"gamma": gamma, "beta": beta, "eps": eps}
        env |= {"mu": found["mean"], "var": found["var"], "n": len(x)}
        names = [f"x{k + 1}" for k in range(len(x))]
        mean = f"({' + '.join(names)}) / {len(x)}"
        var = f"({' + '.join(f'({name} - mu)**2' for name in names)}) / {len(x)}"

        def line(_i: int, j: int) -> Chain:
            output = f"gamma * (x{j + 1} - mu) / sqrt(var + eps) + beta"
            label = f"y_{{{j + 1}}}"
            return Chain(
                label, (sym(output.replace(f"x{j + 1}", "x"), env | {"x": x[j]}, **BN_NAMES), sub(output, env), RESULT)
            )

        return [
            Chain("\\mu_B", (sub(mean, env), RESULT), part="mean"),
            Chain("\\sigma_B^2", (sub(var, env), RESULT), part="var"),
            *entry_lines(1, len(x), line),
            Chain("y", (Shown(np.array(found["y"], dtype=object)),), part="y"),
        ]

    def mistakes(x: list[Any], gamma: Any, beta: Any, eps: Any) -> dict[str, Any]:
        # where epsilon goes matters only for a large one: with PyTorch's 1e-5 no grading tells them apart
        right = batchnorm(x, gamma, beta, eps)
        unbiased = batchnorm(x, gamma, beta, eps, ddof=1)
        outside = batchnorm(x, gamma, beta, eps, root="outside") if right["var"] > 0 else None
        forgotten = batchnorm(x, gamma, beta, eps, root="none") if right["var"] > 0 else None
        return {
            "the unbiased variance is used (divided by $n - 1$), not the biased one that normalizes": unbiased,
            "$\\epsilon$ is added outside the square root: $\\sqrt{\\sigma^2} + \\epsilon$": (
                {"y": outside["y"]} if outside and _differs(outside["y"], right["y"]) else None
            ),
            "$\\epsilon$ is forgotten: $\\hat x = (x - \\mu) / \\sigma$": (
                {"y": forgotten["y"]} if forgotten and _differs(forgotten["y"], right["y"]) else None
            ),
            "$\\gamma$ and $\\beta$ are swapped: $\\beta \\hat x + \\gamma$": {
                "y": batchnorm(x, beta, gamma, eps)["y"]
            },
        }


class dropout_scale:
    """a kept activation under inverted dropout (PyTorch's): a / (1 - p), p the drop probability"""

    CONVENTION = (
        "PyTorch's inverted dropout: in training, each kept activation is scaled by 1/(1 - p), p the probability "
        "of dropping it, so that nothing changes at test time."
    )
    PARAMS = {
        "a": Number("the activation (kept)", draw="0.5..4 step 0.5"),
        "p": Number("drop probability", low=0, high=1, draw=[0.1, 0.2, 0.25, 0.5, 0.75, 0.8]),
    }

    def solve(a: Any, p: Any) -> Any:
        return div(a, 1 - p)

    def valid(a: Any, p: Any) -> bool:
        return refuse("p = 1 drops every activation: none is kept" if p == 1 else None)

    def degenerate(a: Any, p: Any) -> str | None:
        return "p = 0: nothing is dropped and nothing scaled" if p == 0 else None

    def steps(a: Any, p: Any) -> list[Chain]:
        env = {"a": a, "p": p}
        return [Chain("a'", (sym("a / (1 - p)", env), sub("a / (1 - p)", env), RESULT))]

    def mistakes(a: Any, p: Any) -> dict[str, Any]:
        return {
            "the kept activation is not scaled: $a$ (PyTorch scales in training, not at test time)": a,
            "it is multiplied by the keep probability: $a (1 - p)$ (the old, non-inverted dropout's test-time rule)": a
            * (1 - p),
            "it is divided by the drop probability: $a / p$": div(a, p) if p != 0 else None,
        }
