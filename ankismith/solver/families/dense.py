"""Families that count a network's parameters: fully connected layers, an LSTM layer."""

from __future__ import annotations

import itertools

from ankismith.solver.family import Family, Param, Params
from ankismith.solver.kit import sub, sym
from ankismith.solver.steps import BREAK, RESULT, Chain, Formula

DENSE_FORMULA = "\\sum_{l} \\left(n_{l-1} \\times n_l + n_l\\right) \\quad \\text{(weights + biases)}"


def _dense_solve(p: Params) -> int:
    return sum(a * b + b for a, b in itertools.pairwise(p["layers"]))


def _dense_steps(p: Params, answer: int) -> list[Chain]:
    sizes = p["layers"]
    env = {f"n{i}": size for i, size in enumerate(sizes)}
    pairs = range(len(sizes) - 1)
    terms = " + ".join(f"n{i} * n{i + 1} + n{i + 1}" for i in pairs)
    env |= {f"w{i}": sizes[i] * sizes[i + 1] for i in pairs}
    parts = " + ".join(f"w{i} + n{i + 1}" for i in pairs)
    return [
        Chain(
            "\\text{Parameters}",
            (Formula(DENSE_FORMULA), BREAK, sub(terms, env), BREAK, sub(parts, env), BREAK, RESULT),
        )
    ]


DENSE_PARAMS = Family(
    name="dense_params",
    summary="trainable parameters of a fully connected network (weights and biases)",
    params=(Param("layers", "ints", "layer sizes, input first", low=1, high=100_000),),
    check=lambda p: None if len(p["layers"]) >= 2 else "layers needs at least an input and an output size",
    solve=_dense_solve,
    steps=_dense_steps,
    formulas=(DENSE_FORMULA,),
)


LSTM_NOTE = "\\text{(4 gates; } W_{ih}, W_{hh}, b_{ih}, b_{hh}\\text{)}"


def _lstm_steps(p: Params, answer: int) -> list[Chain]:
    h, d = p["hidden"], p["input"]
    env = {"h": h, "d": d}
    formula = "4 * (h * (d + h) + 2 * h)"
    parts = {"a": h * (d + h), "b": 2 * h}
    return [
        Chain(
            "\\text{Parameters}",
            (sym(formula, env), BREAK, sub(formula, env), BREAK, sub("4 * (a + b)", parts), BREAK, RESULT),
            note=LSTM_NOTE,
        )
    ]


LSTM_PARAMS = Family(
    name="lstm_params",
    summary="trainable parameters of one LSTM layer (4 gates, PyTorch's two bias vectors)",
    params=(
        Param("input", "int", "input features", low=1, high=100_000),
        Param("hidden", "int", "hidden size", low=1, high=100_000),
    ),
    solve=lambda p: 4 * (p["hidden"] * (p["input"] + p["hidden"]) + 2 * p["hidden"]),
    steps=_lstm_steps,
    convention="PyTorch nn.LSTM has two bias vectors per gate (b_ih and b_hh); Keras has one (4h fewer).",
)
