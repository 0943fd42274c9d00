"""Convolution arithmetic: output sizes, padding, the convolution itself, a CNN's parameters, receptive fields, MACs."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from ankismith.solver.family import Family, Param, Params
from ankismith.solver.kit import CDOT, MAX_ENTRY_LINES, TIMES, VDOTS, conv_out, floor_if, n, sub, sym
from ankismith.solver.steps import BREAK, RESULT, Chain, Expr, Formula, Shape, Shown
from ankismith.solver.values import as_array


def _conv_check(p: Params) -> str | None:
    span = p["D"] * (p["F"] - 1) + 1
    if span > p["W"] + 2 * p["P"]:
        return f"the filter (span {span}) is larger than the padded input ({p['W'] + 2 * p['P']}): empty output"
    if p["P"] >= span:
        return "padding as large as the filter gives outputs that see only padding"
    return None


def _conv_steps(p: Params, answer: int) -> list[Chain]:
    w, f, pad, s, d = p["W"], p["F"], p["P"], p["S"], p["D"]
    if d == 1:
        quotient, inner = "(W - F + 2*P) / S", w - f + 2 * pad
    else:
        quotient, inner = "(W + 2*P - D*(F - 1) - 1) / S", w + 2 * pad - d * (f - 1) - 1
    divides = inner % s == 0
    formula = floor_if(quotient, divides) + " + 1"
    middle = floor_if("inner / S", divides) + " + 1"
    return [
        Chain(
            "W_{\\text{out}}",
            (sym(formula, p), BREAK, sub(formula, p), BREAK, sub(middle, {"inner": inner, "S": s}), BREAK, RESULT),
        )
    ]


CONV_OUTPUT_SIZE = Family(
    name="conv_output_size",
    summary="width of a convolution's output feature map (square input and filter)",
    params=(
        Param("W", "int", "input width (and height)", low=1, high=4096),
        Param("F", "int", "filter size", low=1, high=64),
        Param("P", "int", "padding on each side", default=0, low=0, high=64),
        Param("S", "int", "stride", default=1, low=1, high=64),
        Param("D", "int", "dilation", default=1, low=1, high=16),
    ),
    check=_conv_check,
    solve=lambda p: conv_out(p["W"], p["F"], p["P"], p["S"], p["D"]),
    steps=_conv_steps,
    answer_tex=lambda p, a: f"{n(a)} \\times {n(a)}",
    convention="PyTorch Conv2d: the division rounds down (floor) when the filter does not fit evenly.",
)


def _same_check(p: Params) -> str | None:
    twice = p["S"] * (p["W"] - 1) - p["W"] + p["F"]  # = (S-1)(W-1) + F-1 >= 0
    if twice % 2:
        return f"no whole-number padding keeps the size: 2P = {twice} is odd"
    if twice // 2 >= p["F"]:
        return f"padding {twice // 2} is not below the filter size {p['F']}: edge outputs would see only padding"
    return None


def _same_steps(p: Params, answer: int) -> list[Chain]:
    env = {**p, "W_out": p["W"]}
    formula = "(S*(W_out - 1) - W + F) / 2"
    twice = {"twice": p["S"] * (p["W"] - 1) - p["W"] + p["F"]}
    return [
        Chain(
            "P",
            (
                sym(formula, env, W_out="W_{\\text{out}}"),
                BREAK,
                sub(formula, env),
                BREAK,
                sub("twice / 2", twice),
                BREAK,
                RESULT,
            ),
            note="\\text{with } W_{\\text{out}} = W",
        )
    ]


SAME_PADDING = Family(
    name="same_padding",
    summary="padding that keeps a convolution's output the size of its input",
    params=(
        Param("W", "int", "input width (and height)", low=1, high=4096),
        Param("F", "int", "filter size", low=1, high=64),
        Param("S", "int", "stride", default=1, low=1, high=64),
    ),
    check=_same_check,
    solve=lambda p: (p["S"] * (p["W"] - 1) - p["W"] + p["F"]) // 2,
    steps=_same_steps,
)


def _padded(matrix: np.ndarray, pad: int) -> np.ndarray:
    """The matrix with `pad` rows and columns of zeros around it (Python ints: exact entries stay exact)."""
    rows, cols = matrix.shape
    out = np.empty((rows + 2 * pad, cols + 2 * pad), dtype=object)
    out[:, :] = 0
    out[pad : pad + rows, pad : pad + cols] = matrix
    return out


def _conv2d_shape(p: Params) -> tuple[int, int]:
    rows, cols = p["I"].shape
    k_rows, k_cols = p["K"].shape
    return (rows + 2 * p["P"] - k_rows) // p["S"] + 1, (cols + 2 * p["P"] - k_cols) // p["S"] + 1


def _conv2d_solve(p: Params) -> np.ndarray:
    image, kernel, s = _padded(p["I"], p["P"]), p["K"], p["S"]
    out_rows, out_cols = _conv2d_shape(p)
    k_rows, k_cols = kernel.shape
    return as_array(
        [
            [
                sum(image[i * s + u, j * s + v] * kernel[u, v] for u in range(k_rows) for v in range(k_cols))
                for j in range(out_cols)
            ]
            for i in range(out_rows)
        ]
    )


def _conv2d_check(p: Params) -> str | None:
    out_rows, out_cols = _conv2d_shape(p)
    if out_rows < 1 or out_cols < 1:
        return "the filter is larger than the (padded) input: empty output"
    return None


CONV2D_FORMULA = "\\sum_{u} \\sum_{v} I\\big(S(i-1) + u,\\, S(j-1) + v\\big) \\cdot K(u, v)"


def _size_expr(size: int, k: int, pad: int, s: int) -> Expr:
    """One side of the output: (n - k + 2P)/S + 1, with the floor where S does not divide."""
    env = {"n": size, "k": k, "P": pad, "S": s}
    if s == 1:
        return sub("n - k + 2*P + 1" if pad else "n - k + 1", env)
    return sub(floor_if("(n - k + 2*P) / S", (size - k + 2 * pad) % s == 0) + " + 1", env)


def _conv2d_steps(p: Params, answer: np.ndarray) -> list[Chain]:
    image, kernel, s, pad = _padded(p["I"], p["P"]), p["K"], p["S"], p["P"]
    k_rows, k_cols = kernel.shape
    rows, cols = p["I"].shape
    chains = [
        Chain("O(i, j)", (Formula(CONV2D_FORMULA),)),
        Chain(
            "\\text{size of } O",
            (Shape((_size_expr(rows, k_rows, pad, s), _size_expr(cols, k_cols, pad, s))), RESULT),
        ),
    ]
    for index, (i, j) in enumerate(itertools.product(range(answer.shape[0]), range(answer.shape[1]))):
        if index == MAX_ENTRY_LINES:
            chains.append(Chain("", (Formula(VDOTS),), rel=""))
            break
        env: dict[str, Any] = {}
        terms = []
        for u, v in itertools.product(range(k_rows), range(k_cols)):
            env[f"a{len(terms)}"], env[f"b{len(terms)}"] = image[i * s + u, j * s + v], kernel[u, v]
            terms.append(f"a{len(terms)} * b{len(terms)}")
        chains.append(Chain(f"O({i + 1}, {j + 1})", (sub(" + ".join(terms), env, CDOT, True), RESULT), entry=(i, j)))
    chains.append(Chain("O", (Shown(answer),)))
    return chains


CONV2D = Family(
    name="conv2d",
    summary="output matrix of a 2-D convolution (cross-correlation, as in deep learning)",
    params=(
        Param("I", "matrix", "input feature map"),
        Param("K", "matrix", "filter (kernel)"),
        Param("S", "int", "stride", default=1, low=1, high=8),
        Param("P", "int", "zero padding on each side", default=0, low=0, high=4),
    ),
    check=_conv2d_check,
    solve=_conv2d_solve,
    steps=_conv2d_steps,
    convention="Cross-correlation (the filter is not flipped), as PyTorch's Conv2d and the exam.",
    formulas=(CONV2D_FORMULA, VDOTS),
)


def _cnn_walk(p: Params) -> list[tuple[str, dict[str, Any], list[int], int, int, list[int]]]:
    """Per layer: name, layer, output shape, weights, biases, input shape."""
    channels, height, width = p["input"]
    features: int | None = None
    rows = []
    counts = {"conv": 0, "pool": 0, "fc": 0}
    for layer in p["layers"]:
        counts[layer["type"]] += 1
        name = f"{layer['type']}{counts[layer['type']]}"
        if layer["type"] == "fc":
            shape_in = [features] if features is not None else [channels, height, width]
            inputs = math.prod(shape_in)
            weights, biases = inputs * layer["out"], layer["out"]
            features = layer["out"]
            rows.append((name, layer, [layer["out"]], weights, biases, shape_in))
            continue
        if features is not None:
            raise ValueError(f"{name} comes after a fully connected layer; put conv and pool layers first")
        k, s, pad = layer["kernel"], layer["stride"], layer["padding"]
        shape_in = [channels, height, width]
        height, width = conv_out(height, k, pad, s), conv_out(width, k, pad, s)
        if height < 1 or width < 1:
            raise ValueError(f"{name} ({k}x{k}, stride {s}) leaves an empty feature map")
        if layer["type"] == "conv":
            weights, biases = layer["out"] * channels * k * k, layer["out"]
            rows.append((name, layer, [layer["out"], height, width], weights, biases, shape_in))
            channels = layer["out"]
        else:
            rows.append((name, layer, [channels, height, width], 0, 0, shape_in))
    return rows


def _cnn_check(p: Params) -> str | None:
    try:
        _cnn_walk(p)
    except ValueError as exc:
        return str(exc)
    if all(layer["type"] == "pool" for layer in p["layers"]):
        return "the network has no conv or fc layer: it has no parameters to count"
    return None


CNN_FORMULA = (
    "F \\times (D_{in} \\times K \\times K) + F, \\quad "
    "\\text{fc}: N_{in} \\times N_{out} + N_{out}, \\quad \\text{pool}: 0"
)


def _cnn_steps(p: Params, answer: int) -> list[Chain]:
    chains = [Chain("\\text{conv}", (Formula(CNN_FORMULA),), rel=":")]
    totals: dict[str, int] = {}
    for name, layer, shape, weights, biases, shape_in in _cnn_walk(p):
        label = f"\\text{{{name}}}"
        out_shape = "[" + " \\times ".join(n(v) for v in shape) + "]"
        if layer["type"] == "pool":
            chains.append(Chain(label, (Shown(0),), rel=":", note=out_shape))
            continue
        parts = {"w": weights, "b": biases}
        if layer["type"] == "conv":
            env = {"F": layer["out"], "D": shape_in[0], "K": layer["kernel"]}
            first = sub("F * (D * K * K) + F", env)
        elif len(shape_in) == 3 and shape_in[1] * shape_in[2] > 1:  # the flattened C×H×W features
            env = {"C": shape_in[0], "H": shape_in[1], "W": shape_in[2], "N": layer["out"]}
            first = sub("(C * H * W) * N + N", env)
        else:
            env = {"M": shape_in[0], "N": layer["out"]}
            first = sub("M * N + N", env)
        chains.append(Chain(label, (first, sub("w + b", parts), RESULT), rel=":", note=out_shape))
        totals[f"t{len(totals)}"] = weights + biases
    total = sub(" + ".join(totals), totals)
    chains.append(Chain("\\text{Total}", (total, RESULT) if len(totals) > 1 else (total,)))
    return chains


CNN_PARAMS = Family(
    name="cnn_params",
    summary="trainable parameters of a CNN (conv and fc weights and biases; pooling has none)",
    params=(
        Param("input", "shape", "input [channels, height, width]"),
        Param("layers", "layers", "layers in order: {type: conv|pool|fc, out, kernel, stride, padding}"),
    ),
    check=_cnn_check,
    solve=lambda p: sum(w + b for _, _, _, w, b, _ in _cnn_walk(p)),
    steps=_cnn_steps,
    convention="An fc layer after conv and pool layers takes the flattened C×H×W features as its input.",
    formulas=(CNN_FORMULA,),
)


# --- architecture arithmetic ---------------------------------------------------------------


def _receptive(p: Params) -> tuple[int, list[int]]:
    field, jump, jumps = 1, 1, []
    for kernel, stride in zip(p["kernels"], p["strides"], strict=True):
        jumps.append(jump)
        field += (kernel - 1) * jump
        jump *= stride
    return field, jumps


RECEPTIVE_FORMULA = "1 + \\sum_{l=1}^{L} (k_l - 1) \\prod_{i<l} s_i"


def _receptive_steps(p: Params, answer: int) -> list[Chain]:
    kernels, strides = p["kernels"], p["strides"]
    _, jumps = _receptive(p)
    env = {f"k{i}": k for i, k in enumerate(kernels)} | {f"s{i}": s for i, s in enumerate(strides)}
    terms = []
    for i in range(len(kernels)):
        jump = " * ".join(f"s{j}" for j in range(i))
        terms.append(f"(k{i} - 1)" if i == 0 else f"(k{i} - 1) * ({jump})" if i > 1 else f"(k{i} - 1) * s0")
    sums = {f"t{i}": (k - 1) * j for i, (k, j) in enumerate(zip(kernels, jumps, strict=True))}
    return [
        Chain(
            "r",
            (
                Formula(RECEPTIVE_FORMULA),
                BREAK,
                sub("1 + " + " + ".join(terms), env),
                BREAK,
                sub("1 + " + " + ".join(sums), sums),
                BREAK,
                RESULT,
            ),
        )
    ]


RECEPTIVE_FIELD = Family(
    name="receptive_field",
    summary="receptive field (in input pixels) of one output unit after a stack of conv/pool layers",
    params=(
        Param("kernels", "ints", "kernel size of each layer", low=1, high=64),
        Param("strides", "ints", "stride of each layer", low=1, high=16),
    ),
    check=lambda p: None if len(p["kernels"]) == len(p["strides"]) else "kernels and strides need one entry per layer",
    solve=lambda p: _receptive(p)[0],
    steps=_receptive_steps,
    formulas=(RECEPTIVE_FORMULA,),
)


def _macs_out(p: Params) -> int:
    return conv_out(p["H"], p["F"], p["P"], p["S"])


MACS_NAMES = {"hout": "H_{\\text{out}}", "C_out": "C_{\\text{out}}", "C_in": "C_{\\text{in}}"}


def _macs_steps(p: Params, answer: int) -> list[Chain]:
    divides = (p["H"] - p["F"] + 2 * p["P"]) % p["S"] == 0
    size = floor_if("(H - F + 2*P) / S", divides) + " + 1"
    env = {**p, "hout": _macs_out(p)}
    macs = "hout**2 * C_out * C_in * F**2"
    return [
        Chain("H_{\\text{out}}", (sym(size, p), sub(size, p), RESULT), name="hout"),
        Chain("\\text{MACs}", (sym(macs, env, TIMES, **MACS_NAMES), BREAK, sub(macs, env), BREAK, RESULT)),
    ]


CONV_MACS = Family(
    name="conv_macs",
    summary="multiply-accumulate operations of a conv layer (FLOPs are about twice this)",
    params=(
        Param("H", "int", "input height and width", low=1, high=4096),
        Param("C_in", "int", "input channels", low=1, high=4096),
        Param("C_out", "int", "output channels (filters)", low=1, high=4096),
        Param("F", "int", "filter size", low=1, high=15),
        Param("S", "int", "stride", default=1, low=1, high=8),
        Param("P", "int", "padding", default=0, low=0, high=8),
    ),
    check=lambda p: (
        None if _macs_out(p) >= 1 and p["F"] <= p["H"] + 2 * p["P"] else "the filter does not fit the input"
    ),
    solve=lambda p: _macs_out(p) ** 2 * p["C_out"] * p["C_in"] * p["F"] ** 2,
    steps=_macs_steps,
    convention="Bias additions are not counted; one MAC is one multiply and one add.",
)
