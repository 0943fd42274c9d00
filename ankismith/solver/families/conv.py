"""Convolution arithmetic: output sizes, padding, and the convolution itself (PyTorch's Conv2d)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ankismith.solver.kit import (
    BREAK,
    CDOT,
    RESULT,
    VDOTS,
    Chain,
    Expr,
    Formula,
    Int,
    Matrix,
    Shown,
    Size,
    as_array,
    conv_out,
    div,
    entry_lines,
    floor_if,
    n,
    refuse,
    sub,
    sym,
)


def _span(p: dict[str, Any]) -> int:
    """How many input pixels one filter covers: D(F - 1) + 1."""
    return p["D"] * (p["F"] - 1) + 1


class conv_output_size:
    """width of a convolution's output feature map (square input and filter)"""

    CONVENTION = "PyTorch Conv2d: the division rounds down (floor) when the filter does not fit evenly."
    PARAMS = {
        "W": Int("input width (and height)", low=1, high=4096),
        "F": Int("filter size", low=1, high=64),
        "P": Int("padding on each side", low=0, high=64, default=0),
        "S": Int("stride", low=1, high=64, default=1),
        "D": Int("dilation", low=1, high=16, default=1),
    }

    def solve(**p: Any) -> int:
        return conv_out(p["W"], p["F"], p["P"], p["S"], p["D"])

    def valid(**p: Any) -> bool:
        span = _span(p)
        if span > p["W"] + 2 * p["P"]:
            return refuse(
                f"the filter (span {span}) is larger than the padded input ({p['W'] + 2 * p['P']}): empty output"
            )
        return refuse("padding as large as the filter gives outputs that see only padding" if p["P"] >= span else None)

    def steps(**p: Any) -> list[Chain]:
        w, f, pad, s, d = p["W"], p["F"], p["P"], p["S"], p["D"]
        if d == 1:
            quotient, inner = "(W - F + 2*P) / S", w - f + 2 * pad
        else:
            quotient, inner = "(W + 2*P - D*(F - 1) - 1) / S", w + 2 * pad - d * (f - 1) - 1
        divides = inner % s == 0
        formula = floor_if(quotient, divides) + " + 1"
        middle = floor_if("inner / S", divides) + " + 1"
        terms = (sym(formula, p), BREAK, sub(formula, p), BREAK, sub(middle, {"inner": inner, "S": s}), BREAK, RESULT)
        return [Chain("W_{\\text{out}}", terms)]

    def answer_tex(**p: Any) -> str:
        side = n(conv_output_size.solve(**p))
        return f"{side} \\times {side}"

    def mistakes(**p: Any) -> dict[str, Any]:
        inner = p["W"] + 2 * p["P"] - _span(p)
        return {
            "the floor is forgotten: $\\frac{W - F + 2P}{S} + 1$ without rounding down": (
                div(inner, p["S"]) + 1 if inner % p["S"] else None  # no floor to forget where S divides
            ),
            "the $+1$ is forgotten: $\\lfloor (W - F + 2P)/S \\rfloor$": inner // p["S"],
            "the padding is counted once, not on both sides: $\\lfloor (W - F + P)/S \\rfloor + 1$": (
                (inner - p["P"]) // p["S"] + 1 if p["P"] else None
            ),
        }


class same_padding:
    """padding that keeps a convolution's output the size of its input"""

    CONVENTION = "PyTorch Conv2d with dilation D: the filter covers D(F - 1) + 1 input pixels."
    PARAMS = {
        "W": Int("input width (and height)", low=1, high=4096),
        "F": Int("filter size", low=1, high=64),
        "S": Int("stride", low=1, high=64, default=1),
        "D": Int("dilation", low=1, high=16, default=1),
    }

    def solve(**p: Any) -> int:
        return _same_twice(p) // 2

    def valid(**p: Any) -> bool:
        twice, span = _same_twice(p), _span(p)
        if twice % 2:
            return refuse(f"no whole-number padding keeps the size: 2P = {twice} is odd")
        if twice // 2 >= span:
            return refuse(
                f"padding {twice // 2} is not below the filter's span {span}: edge outputs would see only padding"
            )
        return True

    def steps(**p: Any) -> list[Chain]:
        env = {**p, "W_out": p["W"]}
        formula = "(S*(W_out - 1) - W + F) / 2" if p["D"] == 1 else "(S*(W_out - 1) - W + D*(F - 1) + 1) / 2"
        twice = {"twice": _same_twice(p)}
        terms = (sym(formula, env, W_out="W_{\\text{out}}"), BREAK, sub(formula, env), BREAK, sub("twice / 2", twice))
        return [Chain("P", (*terms, BREAK, RESULT), note="\\text{with } W_{\\text{out}} = W")]

    def mistakes(**p: Any) -> dict[str, Any]:
        return {
            "the stride is left out: $P = (F - 1)/2$, which keeps the size only at stride 1": (
                div(_span(p) - 1, 2) if p["S"] > 1 else None
            ),
            "the dilation is left out: the filter is taken to cover $F$ pixels, not $D(F - 1) + 1$": (
                div(p["S"] * (p["W"] - 1) - p["W"] + p["F"], 2) if p["D"] > 1 else None
            ),
            "the padding of both sides is given: $2P$, not $P$": _same_twice(p),
        }


def _same_twice(p: dict[str, Any]) -> int:
    """2P: the padding of both sides that keeps the size (S(W - 1) - W + D(F - 1) + 1)."""
    return p["S"] * (p["W"] - 1) - p["W"] + _span(p)


def padded(matrix: np.ndarray, pad: int) -> np.ndarray:
    """The matrix with `pad` rows and columns of zeros around it (exact entries stay exact)."""
    rows, cols = matrix.shape
    out = np.empty((rows + 2 * pad, cols + 2 * pad), dtype=object)
    out[:, :] = 0
    out[pad : pad + rows, pad : pad + cols] = matrix
    return out


def _correlate(image: np.ndarray, kernel: np.ndarray, stride: int) -> np.ndarray:
    """Cross-correlation of an (already padded) image: the filter slid over it, not flipped."""
    k_rows, k_cols = kernel.shape
    rows = (image.shape[0] - k_rows) // stride + 1
    cols = (image.shape[1] - k_cols) // stride + 1
    return as_array(
        [
            [
                sum(image[i * stride + u, j * stride + v] * kernel[u, v] for u in range(k_rows) for v in range(k_cols))
                for j in range(cols)
            ]
            for i in range(rows)
        ]
    )


CONV2D_FORMULA = "\\sum_{u} \\sum_{v} I\\big(S(i-1) + u,\\, S(j-1) + v\\big) \\cdot K(u, v)"


def _size_expr(size: int, k: int, pad: int, s: int) -> Expr:
    """One side of the output: (n - k + 2P)/S + 1, with the floor where S does not divide."""
    env = {"n": size, "k": k, "P": pad, "S": s}
    if s == 1:
        return sub("n - k + 2*P + 1" if pad else "n - k + 1", env)
    return sub(floor_if("(n - k + 2*P) / S", (size - k + 2 * pad) % s == 0) + " + 1", env)


class conv2d:
    """output matrix of a 2-D convolution (cross-correlation, as in deep learning)"""

    CONVENTION = "Cross-correlation (the filter is not flipped), as PyTorch's Conv2d and the exam."
    FORMULAS = (CONV2D_FORMULA, VDOTS)
    PARAMS = {
        "I": Matrix("input feature map"),
        "K": Matrix("filter (kernel)"),
        "S": Int("stride", low=1, high=8, default=1),
        "P": Int("zero padding on each side", low=0, high=4, default=0),
    }

    def solve(**p: Any) -> np.ndarray:
        return _correlate(padded(p["I"], p["P"]), p["K"], p["S"])

    def valid(**p: Any) -> bool:
        rows, cols = p["I"].shape
        k_rows, k_cols = p["K"].shape
        if conv_out(rows, k_rows, p["P"], p["S"]) < 1 or conv_out(cols, k_cols, p["P"], p["S"]) < 1:
            return refuse("the filter is larger than the (padded) input: empty output")
        return refuse(
            "padding as large as the filter gives outputs that see only padding"
            if p["P"] >= min(k_rows, k_cols)
            else None
        )

    def steps(**p: Any) -> list[Chain]:
        image, kernel, s, pad = padded(p["I"], p["P"]), p["K"], p["S"], p["P"]
        answer = _correlate(image, kernel, s)
        k_rows, k_cols = kernel.shape
        rows, cols = p["I"].shape
        chains = [Chain("O(i, j)", (Formula(CONV2D_FORMULA),))]
        if pad:
            chains.append(Chain("I_{\\text{padded}}", (Shown(image),), note=f"\\text{{{n(pad)} zero(s) around }} I"))
        size = Size((_size_expr(rows, k_rows, pad, s), _size_expr(cols, k_cols, pad, s)))
        chains.append(Chain("\\text{size of } O", (size, RESULT)))

        def line(i: int, j: int) -> Chain:
            env: dict[str, Any] = {}
            terms = []
            for u, v in itertools.product(range(k_rows), range(k_cols)):
                env[f"a{len(terms)}"], env[f"b{len(terms)}"] = image[i * s + u, j * s + v], kernel[u, v]
                terms.append(f"a{len(terms)} * b{len(terms)}")
            return Chain(f"O({i + 1}, {j + 1})", (sub(" + ".join(terms), env, CDOT, True), RESULT), entry=(i, j))

        return [*chains, *entry_lines(*answer.shape, line), Chain("O", (Shown(answer),))]

    def mistakes(**p: Any) -> dict[str, Any]:
        flipped = p["K"][::-1, ::-1]
        return {
            "the filter is flipped (a true convolution), but deep learning's convolution slides it as it is": _correlate(
                padded(p["I"], p["P"]), as_array(flipped.tolist()), p["S"]
            ),
        }
