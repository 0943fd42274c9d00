"""Architecture arithmetic: a CNN's parameters, the receptive field of a stack, a conv layer's MACs."""

from __future__ import annotations

import math
from typing import Any

from ankismith.solver.kit import (
    BREAK,
    CHW,
    RESULT,
    TIMES,
    Chain,
    Formula,
    Int,
    Ints,
    Layers,
    Shown,
    conv_out,
    floor_if,
    n,
    refuse,
    sub,
    sym,
)


def cnn_walk(p: dict[str, Any]) -> list[tuple[str, dict[str, Any], list[int], int, int, list[int]]]:
    """Per layer: its name as a course writes it (conv1, pool2, ..., fc6: numbered in order), the
    layer, its output shape, weights, biases, and its input shape."""
    channels, height, width = p["input"]
    features: int | None = None
    rows = []
    for index, layer in enumerate(p["layers"], start=1):
        name = f"{layer['type']}{index}"
        if layer["type"] == "fc":
            shape_in = [features] if features is not None else [channels, height, width]
            weights, biases = math.prod(shape_in) * layer["out"], layer["out"]
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


CNN_FORMULA = (
    "F \\times (D_{in} \\times K \\times K) + F, \\quad "
    "\\text{fc}: N_{in} \\times N_{out} + N_{out}, \\quad \\text{pool}: 0"
)


class cnn_params:
    """trainable parameters of a CNN (conv and fc weights and biases; pooling has none)"""

    CONVENTION = (
        "An fc layer after conv and pool layers takes the flattened C×H×W features as its input; "
        "pooling rounds down (floor) where the window does not fit evenly."
    )
    FORMULAS = (CNN_FORMULA,)
    PARAMS = {
        "input": CHW("input [channels, height, width]"),
        "layers": Layers("layers in order: {type: conv|pool|fc, out, kernel, stride, padding}"),
    }

    def solve(**p: Any) -> int:
        return sum(w + b for _, _, _, w, b, _ in cnn_walk(p))

    def valid(**p: Any) -> bool:
        try:
            cnn_walk(p)
        except ValueError as exc:
            return refuse(str(exc))
        none = all(layer["type"] == "pool" for layer in p["layers"])
        return refuse("the network has no conv or fc layer: it has no parameters to count" if none else None)

    def steps(**p: Any) -> list[Chain]:
        chains = [Chain("\\text{conv}", (Formula(CNN_FORMULA),), rel=":")]
        totals: dict[str, int] = {}
        for name, layer, shape, weights, biases, shape_in in cnn_walk(p):
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

    def mistakes(**p: Any) -> dict[str, Any]:
        walk = cnn_walk(p)
        no_depth = 0
        for _, layer, _, weights, biases, _ in walk:
            no_depth += layer["out"] * layer["kernel"] ** 2 + biases if layer["type"] == "conv" else weights + biases
        return {
            "the biases are forgotten: weights only": sum(w for _, _, _, w, _, _ in walk),
            "a conv filter's depth is forgotten: $F \\times K \\times K$ weights, not $F \\times D_{in} \\times K \\times K$": no_depth,
        }


RECEPTIVE_FORMULA = "1 + \\sum_{l=1}^{L} (k_l - 1) \\prod_{i<l} s_i"


def _receptive(p: dict[str, Any]) -> tuple[int, list[int]]:
    field, jump, jumps = 1, 1, []
    for kernel, stride in zip(p["kernels"], p["strides"], strict=True):
        jumps.append(jump)
        field += (kernel - 1) * jump
        jump *= stride
    return field, jumps


class receptive_field:
    """receptive field (in input pixels) of one output unit after a stack of conv/pool layers"""

    FORMULAS = (RECEPTIVE_FORMULA,)
    PARAMS = {
        "kernels": Ints("kernel size of each layer", low=1, high=64),
        "strides": Ints("stride of each layer", low=1, high=16),
    }

    def solve(**p: Any) -> int:
        return _receptive(p)[0]

    def valid(**p: Any) -> bool:
        same = len(p["kernels"]) == len(p["strides"])
        return refuse(None if same else "kernels and strides need one entry per layer")

    def steps(**p: Any) -> list[Chain]:
        kernels, strides = p["kernels"], p["strides"]
        _, jumps = _receptive(p)
        env = {f"k{i}": k for i, k in enumerate(kernels)} | {f"s{i}": s for i, s in enumerate(strides)}
        terms = []
        for i in range(len(kernels)):
            jump = " * ".join(f"s{j}" for j in range(i))
            terms.append(f"(k{i} - 1)" if i == 0 else f"(k{i} - 1) * ({jump})" if i > 1 else f"(k{i} - 1) * s0")
        sums = {f"t{i}": (k - 1) * j for i, (k, j) in enumerate(zip(kernels, jumps, strict=True))}
        first = sub("1 + " + " + ".join(terms), env)
        return [
            Chain(
                "r",
                (Formula(RECEPTIVE_FORMULA), BREAK, first, BREAK, sub("1 + " + " + ".join(sums), sums), BREAK, RESULT),
            )
        ]

    def mistakes(**p: Any) -> dict[str, Any]:
        return {
            "the strides are left out: $1 + \\sum_l (k_l - 1)$": 1 + sum(k - 1 for k in p["kernels"]),
            "the kernel sizes are added up: $\\sum_l k_l$": sum(p["kernels"]),
        }


MACS_NAMES = {"hout": "H_{\\text{out}}", "C_out": "C_{\\text{out}}", "C_in": "C_{\\text{in}}"}


def _macs_out(p: dict[str, Any]) -> int:
    return conv_out(p["H"], p["F"], p["P"], p["S"])


class conv_macs:
    """multiply-accumulate operations of a conv layer (FLOPs are about twice this)"""

    CONVENTION = "Bias additions are not counted; one MAC is one multiply and one add."
    PARAMS = {
        "H": Int("input height and width", low=1, high=4096),
        "C_in": Int("input channels", low=1, high=4096),
        "C_out": Int("output channels (filters)", low=1, high=4096),
        "F": Int("filter size", low=1, high=15),
        "S": Int("stride", low=1, high=8, default=1),
        "P": Int("padding", low=0, high=8, default=0),
    }

    def solve(**p: Any) -> int:
        return _macs_out(p) ** 2 * p["C_out"] * p["C_in"] * p["F"] ** 2

    def valid(**p: Any) -> bool:
        if p["F"] > p["H"] + 2 * p["P"] or _macs_out(p) < 1:
            return refuse("the filter does not fit the input")
        return refuse(
            "padding as large as the filter gives outputs that see only padding" if p["P"] >= p["F"] else None
        )

    def steps(**p: Any) -> list[Chain]:
        inner = p["H"] - p["F"] + 2 * p["P"]
        divides = inner % p["S"] == 0
        size = floor_if("(H - F + 2*P) / S", divides) + " + 1"
        middle = floor_if("inner / S", divides) + " + 1"
        env = {**p, "hout": _macs_out(p)}
        macs = "hout**2 * C_out * C_in * F**2"
        side = (sym(size, p), sub(size, p), sub(middle, {"inner": inner, "S": p["S"]}), RESULT)
        return [
            Chain(
                "H_{\\text{out}}",
                side if not divides or p["S"] > 1 else (sym(size, p), sub(size, p), RESULT),
                name="hout",
            ),
            Chain("\\text{MACs}", (sym(macs, env, TIMES, **MACS_NAMES), BREAK, sub(macs, env), BREAK, RESULT)),
        ]

    def mistakes(**p: Any) -> dict[str, Any]:
        macs = conv_macs.solve(**p)
        return {
            "the input channels are left out: $H_{\\text{out}}^2 \\times C_{\\text{out}} \\times F^2$": (
                macs // p["C_in"] if p["C_in"] > 1 else None
            ),
            "FLOPs are given, not MACs: a MAC is one multiply and one add, so FLOPs are about twice the MACs": 2 * macs,
        }
