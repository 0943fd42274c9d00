"""Convolution arithmetic: output sizes, padding, and the convolution itself (PyTorch's Conv2d)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ankismith.solver.kit import (
    BREAK,
    CDOT,
    RESULT,
    TIMES,
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


CONV_LAYER_PARAMS_FORMULA = "C_{out} \\times \\left(C_{in} \\times F^2 + 1\\right) \\quad \\text{(weights + biases)}"


def _layer_sides(p: dict[str, Any], pad: int | None = None) -> tuple[int, int]:
    pad = p["P"] if pad is None else pad
    return conv_out(p["H"], p["F"], pad, p["S"]), conv_out(p["W"], p["F"], pad, p["S"])


class conv_layer:
    """output shape (H' × W' × C_out) and trainable parameters of a 2-D convolution layer"""

    CONVENTION = (
        "PyTorch Conv2d: each of the C_out filters spans all C_in input channels and has one bias; "
        "the output size rounds down (floor). The shape is given as H', W', C_out."
    )
    FORMULAS = (CONV_LAYER_PARAMS_FORMULA,)
    PARTS = ("out_shape", "params")
    PARAMS = {
        "H": Int("input height", low=1, high=4096, draw=[7, 8, 14, 16, 28, 32]),
        "W": Int("input width", low=1, high=4096, draw=[7, 8, 14, 16, 28, 32]),
        "C_in": Int("input channels", low=1, high=4096, draw=[1, 3, 8, 16]),
        "C_out": Int("filters (output channels)", low=1, high=4096, draw=[4, 6, 10, 16, 32]),
        "F": Int("filter size", low=1, high=64, draw=[1, 3, 5]),
        "P": Int("padding on each side", low=0, high=64, default=0, draw="0..2"),
        "S": Int("stride", low=1, high=64, default=1, draw=[1, 2]),
    }

    def solve(**p: Any) -> dict[str, Any]:
        height, width = _layer_sides(p)
        return {"out_shape": [height, width, p["C_out"]], "params": p["C_out"] * (p["C_in"] * p["F"] ** 2 + 1)}

    def valid(**p: Any) -> bool:
        if p["F"] > min(p["H"], p["W"]) + 2 * p["P"]:
            return refuse(f"the {p['F']}x{p['F']} filter is larger than the padded input: empty output")
        return refuse(
            "padding as large as the filter gives outputs that see only padding" if p["P"] >= p["F"] else None
        )

    def steps(**p: Any) -> list[Chain]:
        pad, s, f = p["P"], p["S"], p["F"]
        env = {"C_out": p["C_out"], "C_in": p["C_in"], "F": f}
        formula = "C_out * (C_in * F**2 + 1)"
        weights = {"C_out": p["C_out"], "w": p["C_in"] * f * f}
        names = {"C_out": "C_{out}", "C_in": "C_{in}"}
        if p["H"] == p["W"]:  # a square input: one side's line says both (and fits a phone)
            sides = [Chain("H' = W'", (_size_expr(p["H"], f, pad, s), RESULT))]
        else:
            sides = [
                Chain("H'", (_size_expr(p["H"], f, pad, s), RESULT)),
                Chain("W'", (_size_expr(p["W"], f, pad, s), RESULT)),
            ]
        return [
            *sides,
            Chain(
                "H' \\times W' \\times C_{out}",  # one output channel per filter
                (Shown(conv_layer.solve(**p)["out_shape"]),),
                part="out_shape",
            ),
            Chain(
                "\\text{Parameters}",
                (
                    sym(formula, env, TIMES, **names),
                    BREAK,
                    sub(formula, env, TIMES),
                    BREAK,
                    sub("C_out * (w + 1)", weights, TIMES),
                    RESULT,
                ),
                part="params",
            ),
        ]

    def mistakes(**p: Any) -> dict[str, Any]:
        height, width = _layer_sides(p)
        plain = _layer_sides(p, pad=0) if p["F"] <= min(p["H"], p["W"]) else None
        return {
            "the biases are forgotten: $C_{out} \\times C_{in} \\times F^2$": {
                "params": p["C_out"] * p["C_in"] * p["F"] ** 2
            },
            "a filter's depth $C_{in}$ is forgotten: $C_{out} \\times (F^2 + 1)$": (
                {"params": p["C_out"] * (p["F"] ** 2 + 1)} if p["C_in"] > 1 else None
            ),
            "the output keeps the input's depth $C_{in}$; it has one channel per filter, $C_{out}$": (
                {"out_shape": [height, width, p["C_in"]]} if p["C_in"] != p["C_out"] else None
            ),
            "the padding is forgotten: $\\lfloor (n - F)/S \\rfloor + 1$": (
                {"out_shape": [*plain, p["C_out"]]} if p["P"] and plain else None
            ),
        }


CONV_T_NAMES = {"op": "\\text{op}"}


class conv_transpose_size:
    """width of a transposed convolution's output (PyTorch's ConvTranspose2d, square input and filter)"""

    CONVENTION = (
        "PyTorch ConvTranspose2d with dilation 1: (W − 1)S − 2P + (F − 1) + output_padding + 1; "
        "output_padding (op) must be below the stride, as PyTorch requires."
    )
    PARAMS = {
        "W": Int("input width (and height)", low=1, high=4096, draw="2..16"),
        "F": Int("filter size", low=1, high=64, draw=[2, 3, 4, 5]),
        "P": Int("padding on each side", low=0, high=64, default=0, draw=[0, 0, 1, 2]),
        "S": Int("stride", low=1, high=64, default=1, draw=[1, 2, 2, 3]),
        "output_padding": Int("extra rows/columns on one side (op)", low=0, high=63, default=0, draw=[0, 0, 1]),
    }

    def solve(**p: Any) -> int:
        return (p["W"] - 1) * p["S"] - 2 * p["P"] + (p["F"] - 1) + p["output_padding"] + 1

    def valid(**p: Any) -> bool:
        if p["output_padding"] >= p["S"]:
            return refuse(f"output_padding {p['output_padding']} must be below the stride {p['S']} (PyTorch's rule)")
        width = conv_transpose_size.solve(**p)
        return refuse(f"the padding crops everything: the output would be {width} wide" if width < 1 else None)

    def steps(**p: Any) -> list[Chain]:
        env = {**p, "op": p["output_padding"]}
        formula = "(W - 1)*S - 2*P + (F - 1) + op + 1"
        parts = {"a": (p["W"] - 1) * p["S"], "b": 2 * p["P"], "c": p["F"] - 1, "op": p["output_padding"]}
        terms = (
            sym(formula, env, **CONV_T_NAMES),
            BREAK,
            sub(formula, env),
            BREAK,
            sub("a - b + c + op + 1", parts),
            RESULT,
        )
        return [Chain("W_{\\text{out}}", terms)]

    def answer_tex(**p: Any) -> str:
        side = n(conv_transpose_size.solve(**p))
        return f"{side} \\times {side}"

    def mistakes(**p: Any) -> dict[str, Any]:
        w, f, pad, s, op = p["W"], p["F"], p["P"], p["S"], p["output_padding"]
        forward = (w - f + 2 * pad) // s + 1 if w + 2 * pad >= f else None
        return {
            "the convolution's forward formula is used: $\\lfloor (W - F + 2P)/S \\rfloor + 1$": forward,
            "the padding is added, as in a convolution: $(W - 1)S + 2P + F + \\text{op}$": (
                (w - 1) * s + 2 * pad + f + op if pad else None
            ),
            "the output padding is forgotten: $(W - 1)S - 2P + F$": (w - 1) * s - 2 * pad + f if op else None,
            "the input size is multiplied by the stride: $WS - 2P + F + \\text{op}$, not $(W - 1)S$": w * s
            - 2 * pad
            + f
            + op,
        }
