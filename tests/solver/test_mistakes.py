"""Every built-in family's named mistakes are real, distinct wrong methods (issue 18, item 4).

Each mistake's value is computed here again, by a hand-written wrong method of its own (plain
loops and math, never the family's code), on several instances; it must equal what the family
says, differ from the right answer somewhere, and differ from the family's other mistakes
somewhere. A family that gives a mistake no check here fails the test: write its wrong method below.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

from ankismith.solver import builtin

Params = dict[str, Any]


@dataclass(frozen=True)
class Checks:
    """How to test one family's mistakes: instances (given params) and, by a piece of each mistake's
    label, the wrong method that mistake is (None where it gives nothing to compute)."""

    instances: tuple[Params, ...]
    wrong: dict[str, Callable[[Params], Any]]
    at_least: int = 2  # the classic mistakes of the topic: two where two exist


# --- the wrong methods, by hand ----------------------------------------------------------------


def positions(size: int, span: int, stride: int) -> int:
    """How many places a window of `span` takes along `size` pixels, by counting them."""
    return sum(1 for start in range(0, size, stride) if start + span <= size)


def padded(image: list[list[Any]], pad: int) -> list[list[Any]]:
    width = len(image[0]) + 2 * pad
    rows = [[0] * width for _ in range(pad)]
    rows += [[0] * pad + list(row) + [0] * pad for row in image]
    return rows + [[0] * width for _ in range(pad)]


def true_convolution(p: Params) -> list[list[Any]]:
    """The filter flipped: O(i, j) = sum I(iS + u, jS + v) K(kr - 1 - u, kc - 1 - v)."""
    image, kernel, stride = padded(p["I"].tolist(), p["P"]), p["K"].tolist(), p["S"]
    kr, kc = len(kernel), len(kernel[0])
    rows, cols = positions(len(image), kr, stride), positions(len(image[0]), kc, stride)
    return [
        [
            sum(
                image[i * stride + u][j * stride + v] * kernel[kr - 1 - u][kc - 1 - v]
                for u in range(kr)
                for v in range(kc)
            )
            for j in range(cols)
        ]
        for i in range(rows)
    ]


def pooled(p: Params, mode: str) -> list[list[Any]]:
    image, k = p["I"].tolist(), p["kernel"]
    s = p["stride"] or k
    out = []
    for i in range(positions(len(image), k, s)):
        row = []
        for j in range(positions(len(image[0]), k, s)):
            window = [image[i * s + u][j * s + v] for u in range(k) for v in range(k)]
            if mode == "sum":
                row.append(sum(window))
            else:
                row.append(max(window) if mode == "max" else Fraction(sum(window), len(window)))
        out.append(row)
    return out


def spread(p: Params, share: Callable[[Any, int], Any]) -> list[list[Any]]:
    """Each output gradient G(i, j) handed to every cell of its window as share(G, k)."""
    image, grad, k = p["I"].tolist(), p["G"].tolist(), p["kernel"]
    s = p["stride"] or k
    out = [[0] * len(image[0]) for _ in image]
    for i, row in enumerate(grad):
        for j, g in enumerate(row):
            for u in range(k):
                for v in range(k):
                    out[i * s + u][j * s + v] += share(g, k)
    return out


def cnn_count(p: Params, depth: bool, biases: bool) -> int:
    """A CNN's parameters, layer by layer, with or without the filters' depth and the biases."""
    channels, height, width = p["input"]
    flat: int | None = None
    total = 0
    for layer in p["layers"]:
        if layer["type"] == "fc":
            inputs = flat if flat is not None else channels * height * width
            total += inputs * layer["out"] + (layer["out"] if biases else 0)
            flat = layer["out"]
            continue
        k = layer["kernel"]
        s, pad = layer["stride"] or k, layer["padding"] or 0
        height, width = positions(height + 2 * pad, k, s), positions(width + 2 * pad, k, s)
        if layer["type"] == "conv":
            total += layer["out"] * (channels if depth else 1) * k * k + (layer["out"] if biases else 0)
            channels = layer["out"]
    return total


def macs_out(p: Params) -> int:
    return positions(p["H"] + 2 * p["P"], p["F"], p["S"])


def adam_moments(p: Params) -> tuple[float, float, float, float]:
    g, b1, b2 = float(p["grad"]), float(p["beta1"]), float(p["beta2"])
    m = b1 * float(p["m"]) + (1 - b1) * g
    v = b2 * float(p["v"]) + (1 - b2) * g * g
    return m, v, m / (1 - b1 ** p["t"]), v / (1 - b2 ** p["t"])


def softmax_p(p: Params) -> float:
    z = [float(v) for v in p["z"]]
    return math.exp(z[p["y"]]) / sum(math.exp(v) for v in z)


def sigma(x: Any) -> float:
    return 1 / (1 + math.exp(-float(x)))


def span(p: Params) -> int:
    return p["D"] * (p["F"] - 1) + 1


def keeping(p: Params) -> int:
    """The least padding whose output is as wide as the input, found by trying each."""
    return next(pad for pad in range(4096) if positions(p["W"] + 2 * pad, span(p), p["S"]) == p["W"])


def avg_back(p: Params, share: Callable[[Any, int, int, int], Any] | None) -> list[list[Any]]:
    """Average pooling's backward pass by hand, each window giving share(g, u, v, k) to its cell (u, v);
    share None: the right share g / k², but each cell keeps the last window's, not the sum."""
    grad, k, s = p["dout"].tolist(), p["K"], p["S"]
    rows, cols = (len(grad) - 1) * s + k, (len(grad[0]) - 1) * s + k
    out: list[list[Any]] = [[0] * cols for _ in range(rows)]
    for i, row in enumerate(grad):
        for j, g in enumerate(row):
            for u in range(k):
                for v in range(k):
                    if share is None:
                        out[i * s + u][j * s + v] = Fraction(g) / (k * k)
                    else:
                        out[i * s + u][j * s + v] += share(g, u, v, k)
    return out


def layer_sides(p: Params, pad: int) -> list[int]:
    return [positions(p["H"] + 2 * pad, p["F"], p["S"]), positions(p["W"] + 2 * pad, p["F"], p["S"])]


def scattered(p: Params) -> int:
    """A transposed convolution's full output before cropping: each input pixel's filter placed S apart,
    the last one ending at (W - 1) S + F; PyTorch then crops P per side and adds output_padding."""
    return (p["W"] - 1) * p["S"] + p["F"] + p["output_padding"]


def init_by_hand(p: Params, uniform: bool | None = None, fan: int | None = None, gain: float | None = None) -> float:
    """std = gain * sqrt(2 / (fan_in + fan_out)) (Xavier) or gain / sqrt(fan) (He); a uniform bound is sqrt(3) std."""
    he = p["scheme"].startswith("he")
    uniform = p["scheme"].endswith("uniform") if uniform is None else uniform
    if gain is None:
        gain = math.sqrt(2) if he else 1.0
    if fan is None:
        fan = p["fan_in"] if he else p["fan_in"] + p["fan_out"]
    std = gain / math.sqrt(fan) if he else gain * math.sqrt(2 / fan)
    return std * math.sqrt(3) if uniform else std


def transpose(matrix: list[list[Any]]) -> list[list[Any]]:
    return [list(column) for column in zip(*matrix, strict=True)]


def mlp_by_hand(
    p: Params, sign: int = 1, derivative: bool = True, transposed: bool = False, first: bool = False
) -> dict[str, Any]:
    """Forward and backward pass of the MLP in plain floats; `first`: only the first layer's gradients."""
    x = [float(v) for v in p["x"]]
    w1, w2 = p["W1"].tolist(), p["W2"].tolist()
    a = [
        sum(float(w) * xj for w, xj in zip(row, x, strict=True)) + float(b) for row, b in zip(w1, p["b1"], strict=True)
    ]
    fn = {"relu": lambda v: max(v, 0.0), "sigmoid": lambda v: 1 / (1 + math.exp(-v)), "tanh": math.tanh}[p["act"]]
    slope = {
        "relu": lambda v: 1.0 if v > 0 else 0.0,
        "sigmoid": lambda v: fn(v) * (1 - fn(v)),
        "tanh": lambda v: 1 - math.tanh(v) ** 2,
    }[p["act"]]
    h = [fn(v) for v in a]
    out = [
        sum(float(w) * hi for w, hi in zip(row, h, strict=True)) + float(b) for row, b in zip(w2, p["b2"], strict=True)
    ]
    e = [sign * (o - float(t)) for o, t in zip(out, p["y"], strict=True)]
    back = transpose(w2) if not transposed else w2  # row i of W2^T: the weights out of hidden unit i
    dh = [sum(float(w) * ek for w, ek in zip(back[i], e, strict=True)) for i in range(len(h))]
    d1 = [dh[i] * (slope(a[i]) if derivative else 1.0) for i in range(len(h))]
    found = {
        "loss": sum(v * v for v in e) / 2,
        "dW2": [[ek * hi for hi in h] for ek in e],
        "db2": e,
        "dW1": [[di * xj for xj in x] for di in d1],
        "db1": d1,
    }
    if first:  # a mistake on the way into the first layer: only its gradients change
        return {"dW1": found["dW1"], "db1": found["db1"]}
    return found if sign == 1 else {k: v for k, v in found.items() if k != "loss"}


def softmax_list(z: list[Any]) -> list[float]:
    weights = [math.exp(float(v)) for v in z]
    return [w / sum(weights) for w in weights]


def rms_s(p: Params, power: int) -> float:
    """RMSprop's running average after the step, of the gradient to `power` (2 is right)."""
    return float(p["rho"]) * float(p["s"]) + (1 - float(p["rho"])) * float(p["grad"]) ** power


def rms_step(p: Params, s: float) -> Params:
    """Both parts of an RMSprop step from a running average `s` (x only where s has a root)."""
    x = float(p["x"]) - float(p["lr"]) * float(p["grad"]) / (math.sqrt(s) + float(p["eps"])) if s >= 0 else None
    return {"s": s} | ({"x": x} if x is not None else {})


def bn_by_hand(p: Params, n_less: int = 0, root: str = "inside") -> Params:
    """Batch norm of the list x: mean, variance over n - n_less, outputs with eps where `root` says."""
    x = [float(v) for v in p["x"]]
    mean = sum(x) / len(x)
    var = sum((v - mean) ** 2 for v in x) / (len(x) - n_less)
    eps = float(p["eps"])
    scale = math.sqrt(var + eps) if root == "inside" else math.sqrt(var) + (eps if root == "outside" else 0)
    return {"mean": mean, "var": var, "y": [float(p["gamma"]) * (v - mean) / scale + float(p["beta"]) for v in x]}


def attention_by_hand(q: Any, k: Any, divisor: float) -> Params:
    """Scores q_i · k_j / divisor and the softmax of each row, in floats."""
    q, k = (
        [[float(v) for v in row] for row in np.asarray(q).tolist()],
        [[float(v) for v in row] for row in np.asarray(k).tolist()],
    )
    scores = [[sum(a * b for a, b in zip(qi, kj, strict=True)) / divisor for kj in k] for qi in q]
    weights = [[math.exp(v) / sum(math.exp(u) for u in row) for v in row] for row in scores]
    return {"scores": scores, "weights": weights}


def column_softmax(scores: list[list[float]]) -> list[list[float]]:
    """The softmax of each column (over the queries): a wrong axis."""
    totals = [sum(math.exp(row[j]) for row in scores) for j in range(len(scores[0]))]
    return [[math.exp(v) / totals[j] for j, v in enumerate(row)] for row in scores]


def root(p: Params) -> float:
    return math.sqrt(len(p["Q"][0])) if p["scaled"] == "true" else 1.0


def cosine_by_hand(p: Params, angle: float) -> float:
    """Cosine annealing's rate at this angle: halfway between eta_min and lr0, moved by the cosine."""
    low, high = float(p["eta_min"]), float(p["lr0"])
    return low + (high - low) * (1 + math.cos(angle)) / 2


def warmup_by_hand(p: Params, epoch: int, start: Any) -> Any:
    """Linear warm-up from start·lr0 to lr0 over `warmup` epochs, counted from `epoch`."""
    done = Fraction(min(epoch, p["warmup"]), p["warmup"])
    return p["lr0"] * (start + (1 - start) * done)


CHECKS: dict[str, Checks] = {
    "dense_params": Checks(
        ({"layers": [2, 3]}, {"layers": [4, 3, 2]}, {"layers": [784, 128, 10]}, {"layers": [3, 3]}),
        {
            "the biases are forgotten": lambda p: sum(
                p["layers"][i] * p["layers"][i + 1] for i in range(len(p["layers"]) - 1)
            ),
            "a bias is counted per input": lambda p: sum(
                (p["layers"][i]) * (p["layers"][i + 1] + 1) for i in range(len(p["layers"]) - 1)
            ),
        },
    ),
    "lstm_params": Checks(
        ({"input": 10, "hidden": 20}, {"input": 1, "hidden": 1}, {"input": 300, "hidden": 128}),
        {
            # four gates, each: W_ih (h x d), W_hh (h x h), and the biases as said
            "one bias vector per gate": lambda p: sum(
                p["hidden"] * p["input"] + p["hidden"] ** 2 + p["hidden"] for _gate in range(4)
            ),
            "the recurrent weights $W_{hh}$ are forgotten": lambda p: sum(
                p["hidden"] * p["input"] + 2 * p["hidden"] for _gate in range(4)
            ),
        },
    ),
    "conv_output_size": Checks(
        (
            {"W": 32, "F": 5, "P": 2, "S": 1},
            {"W": 7, "F": 3, "S": 2},
            {"W": 8, "F": 3, "P": 1, "S": 2},
            {"W": 10, "F": 3, "S": 3, "D": 2},
            {"W": 227, "F": 11, "S": 4},
            {"W": 9, "F": 4, "P": 1, "S": 3},
        ),
        {
            "the floor is forgotten": lambda p: Fraction(p["W"] + 2 * p["P"] - span(p), p["S"]) + 1,
            "the $+1$ is forgotten": lambda p: positions(p["W"] + 2 * p["P"], span(p), p["S"]) - 1,
            "the padding is counted once": lambda p: positions(p["W"] + p["P"], span(p), p["S"]),
        },
        at_least=3,
    ),
    "same_padding": Checks(
        (
            {"W": 32, "F": 3},
            {"W": 5, "F": 5},
            {"W": 3, "F": 5, "S": 2},
            {"W": 10, "F": 3, "D": 2},
            {"W": 3, "F": 3, "S": 2, "D": 2},
            {"W": 5, "F": 3, "S": 2, "D": 2},
        ),
        {
            # the padding P that keeps W: W + 2P - span = S (W - 1), so 2P = S (W - 1) - W + span
            "the stride is left out": lambda p: Fraction(span(p) - 1, 2),
            "the dilation is left out": lambda p: Fraction(p["S"] * (p["W"] - 1) - p["W"] + p["F"], 2),
            "the padding of both sides is given": lambda p: 2 * keeping(p),
        },
        at_least=3,
    ),
    "conv2d": Checks(
        (
            {"I": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "K": [[1, 0], [0, -1]]},
            {"I": [[1, 2, 0, 1], [0, 1, 3, 1], [2, 1, 0, 0], [1, 0, 1, 2]], "K": [[1, 2, 3], [0, 1, 0], [2, 0, 1]]},
            {"I": [[1, 2], [3, 4]], "K": [[0, 1], [2, 3]], "P": 1},
            {
                "I": [[3, 1, 2, 0, 1], [1, 0, 2, 2, 3], [0, 1, 1, 0, 2], [2, 2, 0, 1, 1], [1, 0, 3, 1, 0]],
                "K": [[1, -1, 0], [2, 0, 1], [0, 1, 1]],
                "S": 2,
            },
        ),
        {"the filter is flipped": true_convolution},
        at_least=1,  # the one classic wrong method that keeps the output's shape
    ),
    "cnn_params": Checks(
        (
            {
                "input": [1, 32, 32],
                "layers": [
                    {"type": "conv", "out": 6, "kernel": 5},
                    {"type": "pool", "kernel": 2},
                    {"type": "conv", "out": 16, "kernel": 5},
                    {"type": "pool", "kernel": 2},
                    {"type": "fc", "out": 120},
                    {"type": "fc", "out": 10},
                ],
            },
            {
                "input": [3, 8, 8],
                "layers": [{"type": "conv", "out": 4, "kernel": 3, "padding": 1}, {"type": "fc", "out": 2}],
            },
            {"input": [3, 4, 4], "layers": [{"type": "fc", "out": 5}]},
        ),
        {
            "the biases are forgotten": lambda p: cnn_count(p, depth=True, biases=False),
            "a conv filter's depth is forgotten": lambda p: cnn_count(p, depth=False, biases=True),
        },
    ),
    "receptive_field": Checks(
        (
            {"kernels": [3, 3], "strides": [1, 1]},
            {"kernels": [3, 2, 3], "strides": [1, 2, 1]},
            {"kernels": [7, 3, 3], "strides": [2, 2, 1]},
        ),
        {
            "the strides are left out": lambda p: 1 + sum(k - 1 for k in p["kernels"]),
            "the kernel sizes are added up": lambda p: sum(p["kernels"]),
        },
    ),
    "conv_macs": Checks(
        (
            {"H": 32, "C_in": 3, "C_out": 16, "F": 3, "P": 1},
            {"H": 224, "C_in": 3, "C_out": 64, "F": 7, "S": 2, "P": 3},
            {"H": 8, "C_in": 1, "C_out": 4, "F": 3},
        ),
        {
            "the input channels are left out": lambda p: macs_out(p) ** 2 * p["C_out"] * p["F"] ** 2,
            "FLOPs are given, not MACs": lambda p: (
                2 * sum(p["C_in"] * p["F"] ** 2 for _position in range(macs_out(p) ** 2 * p["C_out"]))
            ),
        },
    ),
    # --- conv, pooling, backprop, init families (issue 19) go here, above the optimizers ---
    "avgpool_backward": Checks(
        (
            {"dout": [[1, 2], [3, 4]], "K": 2, "S": 2},
            {"dout": [[1, 2], [3, 4]], "K": 2, "S": 1},
            {"dout": [[4, -8], [0, 2]], "K": 3, "S": 2},
        ),
        {
            "without dividing by $K^2$": lambda p: avg_back(p, lambda g, u, v, k: g),
            "max pooling's routing": lambda p: avg_back(p, lambda g, u, v, k: g if (u, v) == (0, 0) else 0),
            "overlapping windows are not added up": lambda p: avg_back(p, None),
        },
    ),
    "conv_layer": Checks(
        (
            {"H": 32, "W": 32, "C_in": 3, "C_out": 16, "F": 5, "P": 2, "S": 1},
            {"H": 7, "W": 9, "C_in": 8, "C_out": 4, "F": 3, "P": 1, "S": 2},
            {"H": 28, "W": 28, "C_in": 1, "C_out": 6, "F": 5, "P": 0, "S": 1},
        ),
        {
            "the biases are forgotten": lambda p: {"params": sum(p["C_in"] * p["F"] ** 2 for _f in range(p["C_out"]))},
            "a filter's depth $C_{in}$ is forgotten": lambda p: {"params": p["C_out"] * (p["F"] * p["F"] + 1)},
            "the output keeps the input's depth": lambda p: {"out_shape": [*layer_sides(p, p["P"]), p["C_in"]]},
            "the padding is forgotten": lambda p: {"out_shape": [*layer_sides(p, 0), p["C_out"]]},
        },
    ),
    "conv_transpose_size": Checks(
        (
            {"W": 4, "F": 3, "P": 1, "S": 2, "output_padding": 1},
            {"W": 5, "F": 4, "P": 0, "S": 2},
            {"W": 7, "F": 2, "P": 2, "S": 3, "output_padding": 2},
            {"W": 3, "F": 3, "P": 1, "S": 1},
        ),
        {
            # the forward convolution's size, counted by sliding the filter
            "the convolution's forward formula is used": lambda p: positions(p["W"] + 2 * p["P"], p["F"], p["S"]),
            "the padding is added": lambda p: (p["W"] - 1) * p["S"] + 2 * p["P"] + p["F"] + p["output_padding"],
            "the output padding is forgotten": lambda p: scattered(p) - p["output_padding"] - 2 * p["P"],
            "the input size is multiplied by the stride": lambda p: (
                p["W"] * p["S"] - 2 * p["P"] + p["F"] + p["output_padding"]
            ),
        },
    ),
    "init_scale": Checks(
        (
            {"fan_in": 50, "fan_out": 100, "scheme": "xavier_uniform"},
            {"fan_in": 300, "fan_out": 100, "scheme": "xavier_normal"},
            {"fan_in": 150, "fan_out": 64, "scheme": "he_uniform"},
            {"fan_in": 50, "fan_out": 200, "scheme": "he_normal"},
            {"fan_in": 128, "fan_out": 128, "scheme": "he_normal"},
        ),
        {
            # the std of U(-a, a) is a / sqrt(3); PyTorch: xavier gain 1, kaiming gain sqrt(2), fan_in
            "the std is given, not the bound": lambda p: init_by_hand(p, uniform=False),
            "the uniform bound is given, not the std": lambda p: init_by_hand(p, uniform=True),
            "fan_out is used, not fan_in": lambda p: init_by_hand(p, fan=p["fan_out"]),
            "the ReLU gain $\\sqrt{2}$ is forgotten": lambda p: init_by_hand(p, gain=1.0),
            "He's ReLU gain $\\sqrt{2}$ is applied to Xavier": lambda p: init_by_hand(p, gain=math.sqrt(2)),
            "only fan_in is used, as He does": lambda p: init_by_hand(p, fan=2 * p["fan_in"]),
        },
    ),
    "mlp_backprop": Checks(
        (
            {
                "x": [1, 2],
                "W1": [[0.5, -1], [1, 0.5]],
                "b1": [0, 0.5],
                "W2": [[1, -0.5], [0.5, 1]],
                "b2": [0, 1],
                "y": [1, 0],
                "act": "relu",
            },
            {
                "x": [1, -1],
                "W1": [[1, 0.5], [-1, 1]],
                "b1": [0.5, 0],
                "W2": [[1, 2]],
                "b2": [0],
                "y": [1],
                "act": "relu",
            },
            {
                "x": [0.5, 1],
                "W1": [[1, -1], [0.5, 2]],
                "b1": [0, 0],
                "W2": [[1, -1], [2, 0.5]],
                "b2": [0.5, 0],
                "y": [0, 1],
                "act": "sigmoid",
            },
            {"x": [2], "W1": [[0.5], [-1]], "b1": [0, 1], "W2": [[1, 1]], "b2": [0], "y": [2], "act": "tanh"},
        ),
        {
            "the $\\frac{1}{2}$ of the loss is left out": lambda p: {"loss": mlp_by_hand(p)["loss"] * 2},
            "the error's sign is flipped": lambda p: mlp_by_hand(p, sign=-1),
            "the activation's derivative $f'(a)$ is forgotten": lambda p: mlp_by_hand(p, derivative=False, first=True),
            "the outer product is the wrong way round": lambda p: {"dW2": transpose(mlp_by_hand(p)["dW2"])},
            "$W_2$ is not transposed on the way back": lambda p: mlp_by_hand(p, transposed=True, first=True),
        },
        at_least=3,
    ),
    "softmax_ce_grad": Checks(
        ({"z": [2, 1, 0.1], "y": 0}, {"z": [1, 1, 1], "y": 2}, {"z": [0.5, -1, 3, 0], "y": 1}),
        {
            "the one-hot target is not subtracted": lambda p: softmax_list(p["z"]),
            "the sign is flipped": lambda p: [
                (1 if k == p["y"] else 0) - q for k, q in enumerate(softmax_list(p["z"]))
            ],
            "the gradient w.r.t. the probabilities is given": lambda p: [
                -1 / q if k == p["y"] else 0 for k, q in enumerate(softmax_list(p["z"]))
            ],
        },
        at_least=3,
    ),
    "gd_step": Checks(
        ({"x": 3, "lr": 0.1, "grad": 2}, {"x": -1.5, "lr": 0.01, "grad": -4}, {"x": 0, "lr": 1, "grad": 0.5}),
        {
            "the step goes up the gradient": lambda p: p["x"] + p["lr"] * p["grad"],
            "the learning rate is left out": lambda p: p["x"] - p["grad"],
        },
    ),
    "momentum_step": Checks(
        (
            {"x": 1, "v": 0.5, "grad": 2, "lr": 0.1},
            {"x": -2, "v": 0, "grad": 1, "lr": 0.5, "beta": 0.8},
            {"x": 0.3, "v": -1, "grad": 0.25, "lr": 0.2},
        ),
        {
            "the learning rate scales the gradient inside the velocity": lambda p: (
                p["x"] - (p["beta"] * p["v"] + p["lr"] * p["grad"])
            ),
            "the momentum is forgotten": lambda p: p["x"] - p["lr"] * p["grad"],
        },
    ),
    "adam_step": Checks(
        (
            {"x": 1, "grad": 0.5},
            {"x": 2, "grad": -3, "lr": 0.1, "m": 0.2, "v": 0.04, "t": 3},
            {"x": -1, "grad": 0.1, "lr": 0.01, "m": 0.05, "v": 0.5, "t": 10, "beta1": 0.8, "beta2": 0.99},
        ),
        {
            "the bias correction is forgotten": lambda p: (
                float(p["x"]) - float(p["lr"]) * adam_moments(p)[0] / (math.sqrt(adam_moments(p)[1]) + float(p["eps"]))
            ),
            "the square root of $\\hat v_t$ is forgotten": lambda p: (
                float(p["x"]) - float(p["lr"]) * adam_moments(p)[2] / (adam_moments(p)[3] + float(p["eps"]))
            ),
        },
    ),
    "pool2d": Checks(
        (
            {"I": [[1, 3, 2, 4], [5, 6, 1, 2], [7, 2, 9, 0], [1, 1, 3, 4]]},
            {"I": [[1, 3, 2, 4], [5, 6, 1, 2], [7, 2, 9, 0], [1, 1, 3, 4]], "mode": "avg"},
            {"I": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": 2, "stride": 1},
            {"I": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "kernel": 2, "stride": 1, "mode": "avg"},
        ),
        {
            "the average of each window is taken": lambda p: pooled(p, "avg"),
            "the maximum of each window is taken": lambda p: pooled(p, "max"),
            "the division by $k^2$ is forgotten": lambda p: pooled(p, "sum"),
        },
        at_least=1,  # one per instance: the other pooling (the two labels are one mistake, by mode)
    ),
    "maxpool_backward": Checks(
        (
            {"I": [[1, 3, 2, 4], [5, 6, 1, 2], [7, 2, 9, 0], [1, 1, 3, 4]], "G": [[1, 2], [3, 4]]},
            {"I": [[1, 2, 3], [4, 5, 6], [7, 8, 9]], "G": [[1, -1], [2, 0.5]], "stride": 1},
        ),
        {
            "spread evenly over its window": lambda p: spread(p, lambda g, k: Fraction(g) / (k * k)),
            "copied to every input of its window": lambda p: spread(p, lambda g, k: g),
        },
    ),
    "softmax_cross_entropy": Checks(
        ({"z": [1, 2, 3], "y": 0}, {"z": [2, 1, 0.1], "y": 0}, {"z": [0.5, -1, 3, 0], "y": 2}),
        {
            "the log is taken to base 10": lambda p: -math.log10(softmax_p(p)),
            "the minus sign is forgotten": lambda p: math.log(softmax_p(p)),
            "the probability is given, not the loss": softmax_p,
        },
        at_least=3,
    ),
    "activation_grad": Checks(
        (
            {"x": 0, "fn": "sigmoid"},
            {"x": 1.5, "fn": "sigmoid"},
            {"x": -2, "fn": "sigmoid"},
            {"x": 0.5, "fn": "tanh"},
            {"x": -3, "fn": "tanh"},
            {"x": 2, "fn": "relu"},
            {"x": 0, "fn": "relu"},
            {"x": -1, "fn": "relu"},
        ),
        {
            "not its derivative: $\\sigma(x)$": lambda p: sigma(p["x"]),
            "tanh's rule is used": lambda p: 1 - sigma(p["x"]) ** 2,
            "the square is forgotten": lambda p: 1 - math.tanh(float(p["x"])),
            "not its derivative: $\\tanh(x)$": lambda p: math.tanh(float(p["x"])),
            "not its derivative: $\\max(0, x)$": lambda p: max(0, p["x"]),
            "is taken as 1": lambda p: 1 if p["x"] >= 0 else 0,
        },
    ),
    # --- optimizer, schedule, normalization, attention families (issue 19) go here, at the end ---
    "sgd_weight_decay": Checks(
        (
            {"x": 1, "grad": 2, "lr": 0.1, "wd": 0.5},
            {"x": -2, "grad": 0.5, "lr": 0.5, "wd": 0.1},
            {"x": 1.5, "grad": -1, "lr": 0.2, "wd": 0.2},
        ),
        {
            "the weight decay is forgotten": lambda p: p["x"] - p["lr"] * p["grad"],
            "subtracted without the learning rate": lambda p: p["x"] - p["lr"] * p["grad"] - p["wd"] * p["x"],
            "sign is flipped": lambda p: p["x"] - p["lr"] * p["grad"] + p["lr"] * p["wd"] * p["x"],
        },
        at_least=3,
    ),
    "rmsprop_step": Checks(
        (
            {"x": 1, "grad": 2},
            {"x": -0.5, "grad": -0.5, "s": 0.04, "lr": 0.1, "rho": 0.9},
            {"x": 2, "grad": 1, "s": 1, "lr": 0.1, "rho": 0.9, "eps": 0},
        ),
        {
            "the square root is forgotten": lambda p: {
                "x": float(p["x"]) - float(p["lr"]) * float(p["grad"]) / (rms_s(p, 2) + float(p["eps"]))
            },
            "the gradient is averaged, not its square": lambda p: rms_step(p, rms_s(p, 1)),
            "are swapped": lambda p: rms_step(
                p, (1 - float(p["rho"])) * float(p["s"]) + float(p["rho"]) * float(p["grad"]) ** 2
            ),
        },
        at_least=3,
    ),
    "lr_schedule": Checks(
        (
            {"schedule": "step", "lr0": 0.1, "epoch": 5, "step_size": 2, "gamma": 0.5},
            {"schedule": "step", "lr0": 1, "epoch": 7, "step_size": 3, "gamma": 0.1},
            {"schedule": "cosine", "lr0": 0.1, "epoch": 3, "T_max": 10},
            {"schedule": "cosine", "lr0": 0.2, "epoch": 4, "T_max": 12, "eta_min": 0.01},
            {"schedule": "linear_warmup", "lr0": 0.1, "epoch": 2, "warmup": 5, "start_factor": 0.1},
            {"schedule": "linear_warmup", "lr0": 1, "epoch": 3, "warmup": 4},
        ),
        {
            "applied every epoch": lambda p: p["lr0"] * p["gamma"] ** p["epoch"],
            "the epochs are counted from 1": lambda p: p["lr0"] * p["gamma"] ** ((p["epoch"] + 1) // p["step_size"]),
            "period is taken as": lambda p: cosine_by_hand(p, 2 * math.pi * p["epoch"] / p["T_max"]),
            "is forgotten: $\\eta_{min}": lambda p: (
                2 * cosine_by_hand(p, math.pi * p["epoch"] / p["T_max"]) - float(p["eta_min"])
            ),
            "the cosine runs one epoch ahead": lambda p: cosine_by_hand(p, math.pi * (p["epoch"] + 1) / p["T_max"]),
            "the warm-up runs one epoch ahead": lambda p: warmup_by_hand(p, p["epoch"] + 1, p["start_factor"]),
            "the warm-up starts from 0": lambda p: warmup_by_hand(p, p["epoch"], 0),
        },
    ),
    "batchnorm_forward": Checks(
        (
            # (with PyTorch's eps = 1e-5 the two eps mistakes are within any grading tolerance: not offered)
            {"x": [1, 2, 3, 6], "gamma": 2, "beta": 1, "eps": 0.5},
            {"x": [4, 0, 1, 3], "eps": 1},
            {"x": [0.5, -1, 2], "gamma": 0.5, "beta": -1, "eps": 0.1},
        ),
        {
            "the unbiased variance is used": lambda p: bn_by_hand(p, n_less=1),
            "added outside the square root": lambda p: {"y": bn_by_hand(p, root="outside")["y"]},
            "$\\epsilon$ is forgotten": lambda p: {"y": bn_by_hand(p, root="none")["y"]},
            "are swapped": lambda p: {"y": bn_by_hand(p | {"gamma": p["beta"], "beta": p["gamma"]})["y"]},
        },
    ),
    "dropout_scale": Checks(
        ({"a": 2, "p": 0.2}, {"a": 1.5, "p": 0.75}, {"a": -3, "p": 0.1}),
        {
            "is not scaled": lambda p: p["a"],
            "multiplied by the keep probability": lambda p: p["a"] - p["a"] * p["p"],
            "divided by the drop probability": lambda p: Fraction(p["a"]) / p["p"],
        },
        at_least=3,
    ),
    "attention_scores": Checks(
        (
            {"Q": [[1, 0], [0, 1]], "K": [[1, 1], [2, 0]]},
            {"Q": [[1, 0, 1, 2], [0, 1, -1, 1]], "K": [[1, 1, 0, 0], [2, 0, 1, 1], [0, 0, 1, -1]]},
            {"Q": [[1, 2], [0, 1], [2, 2]], "K": [[1, -1], [0, 2]], "scaled": "false"},
        ),
        {
            "not divided by $\\sqrt{d_k}$": lambda p: attention_by_hand(p["Q"], p["K"], 1),
            "divided by $d_k$, not by": lambda p: attention_by_hand(p["Q"], p["K"], len(p["Q"][0])),
            "though this attention is not scaled": lambda p: attention_by_hand(
                p["Q"], p["K"], math.sqrt(len(p["Q"][0]))
            ),
            "down each column": lambda p: {
                "weights": column_softmax(attention_by_hand(p["Q"], p["K"], root(p))["scores"])
            },
            "is not transposed": lambda p: attention_by_hand(
                p["Q"], [list(c) for c in zip(*p["K"].tolist(), strict=True)], root(p)
            ),
        },
    ),
}


# --- comparing what the family says with the hand-made value ------------------------------------


def entries(value: Any) -> list[Any]:
    array = np.array(value, dtype=object)
    return [array.shape, *array.flat]


def same(a: Any, b: Any) -> bool:
    """Equal numbers (exact ones exactly, floats to rounding), vectors or matrices of them; for a
    family of several parts, a mistake's parts ({part: value}) equal to those parts of `b`."""
    if isinstance(a, dict) or isinstance(b, dict):
        if not (isinstance(a, dict) and isinstance(b, dict)) or not set(a) <= set(b):
            return False
        return all(same(value, b[part]) for part, value in a.items())
    left, right = entries(a), entries(b)
    if left[0] != right[0]:
        return False
    for x, y in zip(left[1:], right[1:], strict=True):
        if isinstance(x, float) or isinstance(y, float):
            if not math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12):
                return False
        elif x != y:
            return False
    return True


@dataclass(frozen=True)
class Seen:
    """One instance as the family solved it: its params, right answer, and mistakes by check key."""

    params: Params
    answer: Any
    mistakes: dict[str, Any]  # None: the family says the mistake gives nothing here


def solved(name: str) -> list[Seen]:
    """Each instance of the family's checks, with the family's own mistakes matched to the keys."""
    family, checks = builtin()[name], CHECKS[name]
    found = []
    for given in checks.instances:
        values = family.complete(given)
        family.check(values)  # an instance the family refuses would test nothing
        said = family.call("mistakes", values)
        mistakes = {}
        for label, value in said.items():
            keys = [key for key in checks.wrong if key in label]
            assert len(keys) == 1, f"{name}: mistake {label!r} has {len(keys)} checks here; write its wrong method"
            mistakes[keys[0]] = value
        found.append(Seen(values, family.call("solve", values), mistakes))
    return found


WITH_MISTAKES = sorted(name for name, family in builtin().items() if family.mistakes is not None)


def test_every_family_with_mistakes_has_its_checks_here() -> None:
    assert sorted(CHECKS) == WITH_MISTAKES


@pytest.mark.parametrize("name", WITH_MISTAKES)
def test_each_mistake_is_the_wrong_method_it_names(name: str) -> None:
    checks = CHECKS[name]
    seen = solved(name)
    for key, wrong in checks.wrong.items():
        given = [s for s in seen if s.mistakes.get(key) is not None]
        assert given, f"{name}: no instance here gives the mistake {key!r}; add one"
        for s in seen:
            if key not in s.mistakes:
                continue
            expected = wrong(s.params)
            if s.mistakes[key] is None:  # nothing to tell apart here: the wrong method gives the right answer
                assert same(expected, s.answer), (name, key, s.params, expected)
            else:
                assert same(s.mistakes[key], expected), (name, key, s.params, s.mistakes[key], expected)


@pytest.mark.parametrize("name", WITH_MISTAKES)
def test_each_mistake_is_wrong_and_unlike_the_others(name: str) -> None:
    seen = solved(name)
    keys = list(CHECKS[name].wrong)
    for key in keys:
        assert any(s.mistakes.get(key) is not None and not same(s.mistakes[key], s.answer) for s in seen), (
            f"{name}: {key!r} always gives the right answer"
        )
    for index, one in enumerate(keys):
        for other in keys[index + 1 :]:
            both = [s for s in seen if s.mistakes.get(one) is not None and s.mistakes.get(other) is not None]
            if both:
                assert any(not same(s.mistakes[one], s.mistakes[other]) for s in both), (name, one, other)


@pytest.mark.parametrize("name", WITH_MISTAKES)
def test_the_classic_mistakes_are_there(name: str) -> None:
    """Every instance names as many wrong methods as the topic has classic ones (a mistake that gives
    nothing for these values, None, is still named)."""
    for s in solved(name):
        assert len(s.mistakes) >= CHECKS[name].at_least, (name, s.params, list(s.mistakes))
