"""Pooling, forward and backward."""

from __future__ import annotations

import itertools
from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver.family import Family, Param, Params
from ankismith.solver.kit import MAX_ENTRY_LINES, VDOTS, sub
from ankismith.solver.steps import RESULT, Chain, Formula, Shown
from ankismith.solver.values import as_array


def _pool_windows(p: Params) -> list[list[list[Any]]]:
    """The windows' entries, row by row of the output (floor mode: partial windows are dropped)."""
    k, s = p["kernel"], p["stride"] or p["kernel"]
    image = p["I"]
    rows, cols = image.shape
    return [
        [[image[i + u, j + v] for u in range(k) for v in range(k)] for j in range(0, cols - k + 1, s)]
        for i in range(0, rows - k + 1, s)
    ]


def _pool_check(p: Params) -> str | None:
    rows, cols = p["I"].shape
    if p["kernel"] > min(rows, cols):
        return f"the {p['kernel']}x{p['kernel']} window is larger than the {rows}x{cols} input"
    return None


def _pool_solve(p: Params) -> np.ndarray:
    windows = _pool_windows(p)
    if p["mode"] == "max":
        return as_array([[max(w) for w in row] for row in windows])
    return as_array([[Fraction(sum(w)) / len(w) for w in row] for row in windows])


def _pool_steps(p: Params, answer: np.ndarray) -> list[Chain]:
    windows = _pool_windows(p)
    chains = []
    for index, (i, j) in enumerate(itertools.product(range(answer.shape[0]), range(answer.shape[1]))):
        if index == MAX_ENTRY_LINES:
            chains.append(Chain("", (Formula(VDOTS),), rel=""))
            break
        window = windows[i][j]
        env = {f"a{k}": v for k, v in enumerate(window)}
        names = ", ".join(env)
        text = f"max({names})" if p["mode"] == "max" else f"({' + '.join(env)}) / {len(window)}"
        chains.append(Chain(f"O({i + 1}, {j + 1})", (sub(text, env, written=True), RESULT), entry=(i, j)))
    chains.append(Chain("O", (Shown(answer),)))
    return chains


POOL2D = Family(
    name="pool2d",
    summary="output of max or average pooling",
    params=(
        Param("I", "matrix", "input feature map"),
        Param("kernel", "int", "window size", default=2, low=1, high=8),
        Param("stride", "int", "stride (default: the window size)", default=None, low=1, high=8),
        Param("mode", "max|avg", "pooling", default="max", options=("max", "avg")),
    ),
    check=_pool_check,
    solve=_pool_solve,
    steps=_pool_steps,
    convention="No padding; windows that would run past the edge are dropped (PyTorch's floor mode).",
    formulas=(VDOTS,),
)


def _argmax_routes(p: Params) -> list[tuple[int, int, int, int]]:
    """(i, j, row, col): output (i, j) takes its gradient from input (row, col), the window's first maximum."""
    k, s = p["kernel"], p["stride"] or p["kernel"]
    image, grad = p["I"], p["G"]
    routes = []
    for i in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            cells = [(image[i * s + u, j * s + v], i * s + u, j * s + v) for u in range(k) for v in range(k)]
            best = max(value for value, _, _ in cells)
            _, row, col = next(c for c in cells if c[0] == best)  # ties: the first, row by row (PyTorch)
            routes.append((i, j, row, col))
    return routes


def _maxpool_backward(p: Params) -> np.ndarray:
    result = np.empty(p["I"].shape, dtype=object)
    result[:, :] = 0
    for i, j, row, col in _argmax_routes(p):
        result[row, col] += p["G"][i, j]
    return as_array(result.tolist())


def _maxpool_backward_check(p: Params) -> str | None:
    problem = _pool_check({**p, "mode": "max"})
    if problem:
        return problem
    expected = _pool_solve({**p, "mode": "max"}).shape
    if p["G"].shape != expected:
        return f"G must have the pooled output's shape {expected[0]}x{expected[1]}, found {p['G'].shape[0]}x{p['G'].shape[1]}"
    return None


MAXPOOL_FORMULA = (
    "\\sum_{(i,j):\\, (u,v) = \\arg\\max \\text{ of window } (i,j)} G_{ij} \\quad \\text{(0 at every non-maximum)}"
)


def _maxpool_backward_steps(p: Params, answer: np.ndarray) -> list[Chain]:
    windows = _pool_windows(p)
    chains = [Chain("\\frac{\\partial L}{\\partial I_{uv}}", (Formula(MAXPOOL_FORMULA),))]
    for index, (i, j, row, col) in enumerate(_argmax_routes(p)):
        if index == MAX_ENTRY_LINES:
            chains.append(Chain("", (Formula(VDOTS),), rel=""))
            break
        env = {f"a{k}": v for k, v in enumerate(windows[i][j])}
        note = f"\\text{{at }} I({row + 1}, {col + 1}) \\text{{, which gets }} G({i + 1}, {j + 1})"
        chains.append(
            Chain(
                f"\\text{{window }} ({i + 1}, {j + 1})",
                (sub(f"max({', '.join(env)})", env, written=True), RESULT),
                rel=":",
                note=note,
            )
        )
    chains.append(Chain("\\frac{\\partial L}{\\partial I}", (Shown(answer),)))
    return chains


MAXPOOL_BACKWARD = Family(
    name="maxpool_backward",
    summary="gradient w.r.t. the input of max pooling: each output gradient goes to its window's arg-max",
    params=(
        Param("I", "matrix", "input feature map"),
        Param("G", "matrix", "gradient w.r.t. the pooled output"),
        Param("kernel", "int", "window size", default=2, low=1, high=8),
        Param("stride", "int", "stride (default: the window size)", default=None, low=1, high=8),
    ),
    check=_maxpool_backward_check,
    solve=_maxpool_backward,
    steps=_maxpool_backward_steps,
    convention="Ties go to the first maximum in row-major order, as PyTorch; overlapping windows add up.",
    formulas=(MAXPOOL_FORMULA, VDOTS),
)
