"""Pooling, forward and backward (PyTorch's MaxPool2d and AvgPool2d, no padding, floor mode)."""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver.kit import (
    RESULT,
    VDOTS,
    Chain,
    Formula,
    Int,
    Matrix,
    Option,
    Shown,
    as_array,
    entry_lines,
    refuse,
    sub,
)


def windows(image: np.ndarray, kernel: int, stride: int | None) -> list[list[list[Any]]]:
    """The windows' entries, row by row of the output (floor mode: partial windows are dropped)."""
    k, s = kernel, stride or kernel
    rows, cols = image.shape
    return [
        [[image[i + u, j + v] for u in range(k) for v in range(k)] for j in range(0, cols - k + 1, s)]
        for i in range(0, rows - k + 1, s)
    ]


def _fits(image: np.ndarray, kernel: int) -> str | None:
    rows, cols = image.shape
    return f"the {kernel}x{kernel} window is larger than the {rows}x{cols} input" if kernel > min(rows, cols) else None


def _pool(image: np.ndarray, kernel: int, stride: int | None, mode: str) -> np.ndarray:
    found = windows(image, kernel, stride)
    if mode == "max":
        return as_array([[max(w) for w in row] for row in found])
    if mode == "sum":  # not a mode of the family: its mistake of the average's division forgotten
        return as_array([[sum(w) for w in row] for row in found])
    return as_array([[Fraction(sum(w)) / len(w) for w in row] for row in found])


class pool2d:
    """output of max or average pooling"""

    CONVENTION = "No padding; windows that would run past the edge are dropped (PyTorch's floor mode)."
    FORMULAS = (VDOTS,)
    PARAMS = {
        "I": Matrix("input feature map"),
        "kernel": Int("window size", low=1, high=8, default=2),
        "stride": Int("stride (default: the window size)", low=1, high=8, default=None),
        "mode": Option("max", "avg", doc="pooling", default="max"),
    }

    def solve(I: np.ndarray, kernel: int, stride: int | None, mode: str) -> np.ndarray:
        return _pool(I, kernel, stride, mode)

    def valid(I: np.ndarray, kernel: int) -> bool:
        return refuse(_fits(I, kernel))

    def steps(I: np.ndarray, kernel: int, stride: int | None, mode: str) -> list[Chain]:
        found = windows(I, kernel, stride)
        answer = _pool(I, kernel, stride, mode)

        def line(i: int, j: int) -> Chain:
            window = found[i][j]
            env = {f"a{k}": v for k, v in enumerate(window)}
            text = f"max({', '.join(env)})" if mode == "max" else f"({' + '.join(env)}) / {len(window)}"
            return Chain(f"O({i + 1}, {j + 1})", (sub(text, env, written=True), RESULT), entry=(i, j))

        return [*entry_lines(*answer.shape, line), Chain("O", (Shown(answer),))]

    def mistakes(I: np.ndarray, kernel: int, stride: int | None, mode: str) -> dict[str, Any]:
        other = "avg" if mode == "max" else "max"
        label = (
            "the average of each window is taken: average pooling"
            if mode == "max"
            else "the maximum of each window is taken: max pooling"
        )
        found = {label: _pool(I, kernel, stride, other)}
        if mode == "avg":
            found["each window is summed, not averaged: the division by $k^2$ is forgotten"] = _pool(
                I, kernel, stride, "sum"
            )
        return found


def argmax_routes(
    image: np.ndarray, grad: np.ndarray, kernel: int, stride: int | None
) -> list[tuple[int, int, int, int]]:
    """(i, j, row, col): output (i, j) takes its gradient from input (row, col), the window's first maximum."""
    k, s = kernel, stride or kernel
    routes = []
    for i in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            cells = [(image[i * s + u, j * s + v], i * s + u, j * s + v) for u in range(k) for v in range(k)]
            best = max(value for value, _, _ in cells)
            _, row, col = next(c for c in cells if c[0] == best)  # ties: the first, row by row (PyTorch)
            routes.append((i, j, row, col))
    return routes


def _spread(p: dict[str, Any], share: Any) -> np.ndarray:
    """The input gradient when each output gradient goes to some cells of its window: share(G, cells)."""
    k, s = p["kernel"], p["stride"] or p["kernel"]
    result = np.empty(p["I"].shape, dtype=object)
    result[:, :] = 0
    for i in range(p["G"].shape[0]):
        for j in range(p["G"].shape[1]):
            for u, v in itertools.product(range(k), range(k)):
                result[i * s + u, j * s + v] += share(p["G"][i, j], k)
    return as_array(result.tolist())


MAXPOOL_FORMULA = (
    "\\sum_{(i,j):\\, (u,v) = \\arg\\max \\text{ of window } (i,j)} G_{ij} \\quad \\text{(0 at every non-maximum)}"
)


class maxpool_backward:
    """gradient w.r.t. the input of max pooling: each output gradient goes to its window's arg-max"""

    CONVENTION = "Ties go to the first maximum in row-major order, as PyTorch; overlapping windows add up."
    FORMULAS = (MAXPOOL_FORMULA, VDOTS)
    PARAMS = {
        "I": Matrix("input feature map"),
        "G": Matrix("gradient w.r.t. the pooled output"),
        "kernel": Int("window size", low=1, high=8, default=2),
        "stride": Int("stride (default: the window size)", low=1, high=8, default=None),
    }

    def solve(**p: Any) -> np.ndarray:
        result = np.empty(p["I"].shape, dtype=object)
        result[:, :] = 0
        for i, j, row, col in argmax_routes(p["I"], p["G"], p["kernel"], p["stride"]):
            result[row, col] += p["G"][i, j]
        return as_array(result.tolist())

    def valid(**p: Any) -> bool:
        if (problem := _fits(p["I"], p["kernel"])) is not None:
            return refuse(problem)
        expected = _pool(p["I"], p["kernel"], p["stride"], "max").shape
        if p["G"].shape != expected:
            return refuse(
                f"G must have the pooled output's shape {expected[0]}x{expected[1]}, "
                f"found {p['G'].shape[0]}x{p['G'].shape[1]}"
            )
        return True

    def degenerate(**p: Any) -> str | None:
        for row in windows(p["I"], p["kernel"], p["stride"]):
            for window in row:
                if window.count(max(window)) > 1:
                    return "a window has a tie for its maximum"
        return None

    def steps(**p: Any) -> list[Chain]:
        found = windows(p["I"], p["kernel"], p["stride"])
        routes = {(i, j): (row, col) for i, j, row, col in argmax_routes(p["I"], p["G"], p["kernel"], p["stride"])}

        def line(i: int, j: int) -> Chain:
            row, col = routes[i, j]
            env = {f"a{k}": v for k, v in enumerate(found[i][j])}
            note = f"\\text{{at }} I({row + 1}, {col + 1}) \\text{{, which gets }} G({i + 1}, {j + 1})"
            terms = (sub(f"max({', '.join(env)})", env, written=True), RESULT)
            return Chain(f"\\text{{window }} ({i + 1}, {j + 1})", terms, rel=":", note=note)

        return [
            Chain("\\frac{\\partial L}{\\partial I_{uv}}", (Formula(MAXPOOL_FORMULA),)),
            *entry_lines(*p["G"].shape, line),
            Chain("\\frac{\\partial L}{\\partial I}", (Shown(maxpool_backward.solve(**p)),)),
        ]

    def mistakes(**p: Any) -> dict[str, Any]:
        return {
            "each gradient is spread evenly over its window: average pooling's backward pass": _spread(
                p, lambda g, k: Fraction(g) / (k * k)
            ),
            "each gradient is copied to every input of its window, not only to the maximum": _spread(p, lambda g, k: g),
        }
