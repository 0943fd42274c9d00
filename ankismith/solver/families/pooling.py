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


AVGPOOL_FORMULA = "\\sum_{(i,j):\\, (u,v) \\in \\text{window } (i,j)} \\frac{\\text{dout}_{ij}}{K^2}"


def avg_input_shape(dout: np.ndarray, kernel: int, stride: int) -> tuple[int, int]:
    """The input the windows cover exactly: (H_out - 1) S + K per side (no row or column left over)."""
    return ((dout.shape[0] - 1) * stride + kernel, (dout.shape[1] - 1) * stride + kernel)


def avg_covering(dout: np.ndarray, kernel: int, stride: int) -> dict[tuple[int, int], list[tuple[int, int]]]:
    """For each input position, the windows (i, j) that cover it, row by row."""
    rows, cols = avg_input_shape(dout, kernel, stride)
    cover: dict[tuple[int, int], list[tuple[int, int]]] = {(r, c): [] for r in range(rows) for c in range(cols)}
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            for u, v in itertools.product(range(kernel), range(kernel)):
                cover[i * stride + u, j * stride + v].append((i, j))
    return cover


def _avg_spread(dout: np.ndarray, kernel: int, stride: int, share: Any, add: bool = True) -> np.ndarray:
    """dx when window (i, j) gives share(dout_ij, u, v) to its cell (u, v); overlaps add up (`add`),
    or each cell keeps the last window's share (a mistake)."""
    rows, cols = avg_input_shape(dout, kernel, stride)
    result = np.empty((rows, cols), dtype=object)
    result[:, :] = 0
    for i in range(dout.shape[0]):
        for j in range(dout.shape[1]):
            for u, v in itertools.product(range(kernel), range(kernel)):
                given = share(dout[i, j], u, v)
                result[i * stride + u, j * stride + v] = (
                    result[i * stride + u, j * stride + v] + given if add else given
                )
    return as_array(result.tolist())


class avgpool_backward:
    """gradient w.r.t. the input of average pooling: each dout/K² spread over its window, overlaps summed"""

    CONVENTION = (
        "PyTorch's AvgPool2d, no padding: the input is taken as the size the windows cover, (H_out − 1)S + K; "
        "a cell in several windows gets the sum of their shares."
    )
    FORMULAS = (AVGPOOL_FORMULA, VDOTS)
    PARAMS = {
        "dout": Matrix("gradient w.r.t. the pooled output", draw={"shape": [2, 2], "values": "-8..8"}),
        "K": Int("window size", low=1, high=6, default=2, draw=[2, 2, 3]),
        "S": Int("stride", low=1, high=6, default=2, draw=[1, 2]),
    }

    def solve(dout: np.ndarray, K: int, S: int) -> np.ndarray:
        return _avg_spread(dout, K, S, lambda g, u, v: Fraction(g) / (K * K))

    def valid(dout: np.ndarray, K: int, S: int) -> bool:
        rows, cols = avg_input_shape(dout, K, S)
        return refuse(f"the input would be {rows}x{cols}: at most 12 per side" if max(rows, cols) > 12 else None)

    def degenerate(dout: np.ndarray, K: int, S: int) -> str | None:
        return "dout is all zero: so is the gradient" if all(g == 0 for g in dout.flat) else None

    def steps(dout: np.ndarray, K: int, S: int) -> list[Chain]:
        cover = avg_covering(dout, K, S)
        answer = avgpool_backward.solve(dout, K, S)

        def line(r: int, c: int) -> Chain:
            windows = cover[r, c]
            label = f"\\frac{{\\partial L}}{{\\partial x}}({r + 1}, {c + 1})"
            if not windows:
                return Chain(label, (sub("0", {}),), entry=(r, c), note="\\text{(in no window)}")
            env = {f"g{k}": dout[i, j] for k, (i, j) in enumerate(windows)}
            top = " + ".join(env)
            env["k2"] = K * K
            text = f"({top}) / k2" if len(windows) > 1 else f"{top} / k2"
            return Chain(label, (sub(text, env, written=True), RESULT), entry=(r, c))

        return [
            Chain("\\frac{\\partial L}{\\partial x_{uv}}", (Formula(AVGPOOL_FORMULA),)),
            *entry_lines(*answer.shape, line),
            Chain("\\frac{\\partial L}{\\partial x}", (Shown(answer),)),
        ]

    def mistakes(dout: np.ndarray, K: int, S: int) -> dict[str, Any]:
        found: dict[str, Any] = {
            "each gradient is copied to its window without dividing by $K^2$": _avg_spread(
                dout, K, S, lambda g, u, v: g
            ),
            "each whole gradient goes to one input of its window (max pooling's routing), here its first": (
                _avg_spread(dout, K, S, lambda g, u, v: g if u == v == 0 else 0) if K > 1 else None
            ),
        }
        if S < K:  # windows overlap: forgetting to add them up is a mistake of its own
            found["overlapping windows are not added up: each input keeps one window's share"] = _avg_spread(
                dout, K, S, lambda g, u, v: Fraction(g) / (K * K), add=False
            )
        return found
