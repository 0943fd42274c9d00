"""Derivatives of activation functions."""

from __future__ import annotations

from typing import Any

from ankismith.solver import safe_eval
from ankismith.solver.family import Family, Param, Params
from ankismith.solver.kit import n, sub
from ankismith.solver.steps import RESULT, Chain, Formula


def _activation_grad(p: Params) -> Any:
    x = p["x"]
    if p["fn"] == "sigmoid":
        s = safe_eval.sigmoid(x)
        return s * (1 - s)
    if p["fn"] == "tanh":
        return 1 - safe_eval.tanh(x) ** 2
    return 1 if x > 0 else 0


SIGMOID_FORMULA = "\\sigma(x)\\,\\big(1 - \\sigma(x)\\big)"
TANH_FORMULA = "1 - \\tanh^2(x)"
RELU_FORMULA = (
    "\\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases} \\quad \\text{(0 at } x = 0\\text{, as PyTorch)}"
)


def _activation_steps(p: Params, answer: Any) -> list[Chain]:
    x, fn = p["x"], p["fn"]
    if fn == "sigmoid":
        s = safe_eval.sigmoid(x)
        return [
            Chain("\\sigma'(x)", (Formula(SIGMOID_FORMULA),)),
            Chain(sub("sigmoid(x)", p), (sub("1 / (1 + exp(mx))", {"mx": -x}), RESULT), name="s"),
            Chain(f"\\sigma'({n(x)})", (sub("s * (1 - s)", {"s": s}), RESULT)),
        ]
    if fn == "tanh":
        return [
            Chain("\\tanh'(x)", (Formula(TANH_FORMULA),)),
            Chain(sub("tanh(x)", p), (RESULT,), name="th"),
            Chain(f"\\tanh'({n(x)})", (sub("1 - th**2", {"th": safe_eval.tanh(x)}), RESULT)),
        ]
    return [
        Chain("\\mathrm{ReLU}'(x)", (Formula(RELU_FORMULA),)),
        Chain(f"\\mathrm{{ReLU}}'({n(x)})", (sub("1 if x > 0 else 0", p), RESULT)),
    ]


ACTIVATION_GRAD = Family(
    name="activation_grad",
    summary="derivative of sigmoid, tanh or ReLU at x",
    params=(
        Param("x", "number", "input", low=-30, high=30),
        Param("fn", "sigmoid|tanh|relu", "activation", default="sigmoid", options=("sigmoid", "tanh", "relu")),
    ),
    solve=_activation_grad,
    steps=_activation_steps,
    convention="ReLU'(0) = 0, as PyTorch's autograd.",
    formulas=(SIGMOID_FORMULA, TANH_FORMULA, RELU_FORMULA),
)
