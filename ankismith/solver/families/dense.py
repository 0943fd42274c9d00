"""Families that count a network's parameters: fully connected layers, an LSTM layer."""

from __future__ import annotations

import itertools
from typing import Any

from ankismith.solver.kit import BREAK, RESULT, Chain, Formula, Int, Ints, refuse, sub, sym

DENSE_FORMULA = "\\sum_{l} \\left(n_{l-1} \\times n_l + n_l\\right) \\quad \\text{(weights + biases)}"


class dense_params:
    """trainable parameters of a fully connected network (weights and biases)"""

    FORMULAS = (DENSE_FORMULA,)
    PARAMS = {"layers": Ints("layer sizes, input first", low=1, high=100_000)}

    def solve(layers: list[int]) -> int:
        return sum(a * b + b for a, b in itertools.pairwise(layers))

    def valid(layers: list[int]) -> bool:
        return refuse(None if len(layers) >= 2 else "layers needs at least an input and an output size")

    def steps(layers: list[int]) -> list[Chain]:
        env = {f"n{i}": size for i, size in enumerate(layers)}
        pairs = range(len(layers) - 1)
        terms = " + ".join(f"n{i} * n{i + 1} + n{i + 1}" for i in pairs)
        env |= {f"w{i}": layers[i] * layers[i + 1] for i in pairs}
        parts = " + ".join(f"w{i} + n{i + 1}" for i in pairs)
        return [
            Chain(
                "\\text{Parameters}",
                (Formula(DENSE_FORMULA), BREAK, sub(terms, env), BREAK, sub(parts, env), BREAK, RESULT),
            )
        ]

    def mistakes(layers: list[int]) -> dict[str, Any]:
        pairs = list(itertools.pairwise(layers))
        return {
            "the biases are forgotten: $\\sum_l n_{l-1} \\times n_l$": sum(a * b for a, b in pairs),
            "a bias is counted per input, not per output: $\\sum_l (n_{l-1} + 1) \\times n_l$ is right, "
            "$\\sum_l n_{l-1} \\times (n_l + 1)$ is not": sum(a * (b + 1) for a, b in pairs),
        }


LSTM_NOTE = "\\text{(4 gates; } W_{ih}, W_{hh}, b_{ih}, b_{hh}\\text{)}"


class lstm_params:
    """trainable parameters of one LSTM layer (4 gates, PyTorch's two bias vectors)"""

    CONVENTION = "PyTorch nn.LSTM has two bias vectors per gate (b_ih and b_hh); Keras has one (4h fewer)."
    PARAMS = {
        "input": Int("input features", low=1, high=100_000),
        "hidden": Int("hidden size", low=1, high=100_000),
    }

    def solve(input: int, hidden: int) -> int:  # noqa: A002 (the param's name, as cards write it)
        return 4 * (hidden * (input + hidden) + 2 * hidden)

    def steps(input: int, hidden: int) -> list[Chain]:  # noqa: A002
        env = {"h": hidden, "d": input}
        formula = "4 * (h * (d + h) + 2 * h)"
        parts = {"a": hidden * (input + hidden), "b": 2 * hidden}
        terms = (sym(formula, env), BREAK, sub(formula, env), BREAK, sub("4 * (a + b)", parts), BREAK, RESULT)
        return [Chain("\\text{Parameters}", terms, note=LSTM_NOTE)]

    def mistakes(input: int, hidden: int) -> dict[str, Any]:  # noqa: A002
        return {
            "one bias vector per gate is counted (Keras), not PyTorch's two: $4(h(d + h) + h)$": 4
            * (hidden * (input + hidden) + hidden),
            "the recurrent weights $W_{hh}$ are forgotten: $4(hd + 2h)$": 4 * (hidden * input + 2 * hidden),
        }
