"""Derivatives of activation functions, computed stably for any |x| (no 1 - tanh² cancellation)."""

from __future__ import annotations

import math
from typing import Any

from ankismith.solver.kit import RESULT, Chain, Formula, Number, Option, div, exp, n, sigmoid, sub, tanh

SIGMOID_FORMULA = "\\sigma(x)\\,\\big(1 - \\sigma(x)\\big) = \\frac{e^{-|x|}}{\\left(1 + e^{-|x|}\\right)^2}"
TANH_FORMULA = "1 - \\tanh^2(x) = \\operatorname{sech}^2 x = \\frac{4 e^{-2|x|}}{\\left(1 + e^{-2|x|}\\right)^2}"
RELU_FORMULA = (
    "\\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases} \\quad \\text{(0 at } x = 0\\text{, as PyTorch)}"
)
# the stable forms: no difference of nearly equal numbers, however large |x| is
STABLE = {"sigmoid": "exp(-a) / (1 + exp(-a))**2", "tanh": "4 * exp(-2*a) / (1 + exp(-2*a))**2"}


def derivative(fn: str, x: Any) -> Any:
    """The derivative of `fn` at x, in its stable form (exact at 0: 1/4, 1)."""
    a = abs(x)
    if fn == "sigmoid":
        e = exp(-a)
        return div(e, (1 + e) ** 2)
    if fn == "tanh":
        e = exp(-2 * a)
        return div(4 * e, (1 + e) ** 2)
    return 1 if x > 0 else 0


class activation_grad:
    """derivative of sigmoid, tanh or ReLU at x"""

    CONVENTION = "ReLU'(0) = 0, as PyTorch's autograd."
    FORMULAS = (SIGMOID_FORMULA, TANH_FORMULA, RELU_FORMULA)
    PARAMS = {
        "x": Number("input", low=-30, high=30),
        "fn": Option("sigmoid", "tanh", "relu", doc="activation", default="sigmoid"),
    }

    def solve(x: Any, fn: str) -> Any:
        return derivative(fn, x)

    def verify(x: Any, fn: str) -> Any:
        """Another stable form: 1 / (4 cosh²(x/2)) and 1 / cosh²(x)."""
        if fn == "relu":
            return 1 if x > 0 else 0
        half = float(x) / 2 if fn == "sigmoid" else float(x)
        return (1 / (4 * math.cosh(half) ** 2)) if fn == "sigmoid" else 1 / math.cosh(half) ** 2

    def steps(x: Any, fn: str) -> list[Chain]:
        if fn == "relu":
            return [
                Chain("\\mathrm{ReLU}'(x)", (Formula(RELU_FORMULA),)),
                Chain(f"\\mathrm{{ReLU}}'({n(x)})", (sub("1 if x > 0 else 0", {"x": x}), RESULT)),
            ]
        label = "\\sigma'" if fn == "sigmoid" else "\\tanh'"
        formula = SIGMOID_FORMULA if fn == "sigmoid" else TANH_FORMULA
        return [
            Chain(f"{label}(x)", (Formula(formula),)),
            Chain(f"{label}({n(x)})", (sub(STABLE[fn], {"a": abs(x)}), RESULT)),
        ]

    def mistakes(x: Any, fn: str) -> dict[str, Any]:
        if fn == "sigmoid":
            s = sigmoid(x)
            return {
                "the function is given, not its derivative: $\\sigma(x)$": s,
                "tanh's rule is used: $1 - \\sigma^2(x)$": 1 - s * s,
            }
        if fn == "tanh":
            t = tanh(x)
            return {
                "the square is forgotten: $1 - \\tanh(x)$": 1 - t,
                "the function is given, not its derivative: $\\tanh(x)$": t,
            }
        return {
            "the function is given, not its derivative: $\\max(0, x)$": x if x > 0 and x != 1 else None,
            "$\\mathrm{ReLU}'(0)$ is taken as 1; PyTorch takes 0": 1 if x == 0 else None,
        }
