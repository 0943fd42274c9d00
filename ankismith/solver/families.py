"""The problem families of an introductory deep-learning course, PyTorch's conventions throughout.

Each answer is computed from the params exactly as the card shows them (whole numbers as Python
ints, decimals as exact fractions), and each worked solution is written from the same values:
formula, substitution, result, as the exam does.
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver import safe_eval
from ankismith.solver.family import Family, Param, Params
from ankismith.solver.values import as_array, is_exact, to_tex
from ankismith.solver.values import format_number as num


def t(value: Any) -> str:
    """TeX of a value, parenthesized when negative (for substitutions)."""
    shown = to_tex(value, result=True)
    return f"({shown})" if shown.startswith("-") else shown


def _result(value: Any) -> str:
    """`= value`, or `\\approx value` when the shown value is rounded."""
    return ("= " if is_exact(value) else "\\approx ") + to_tex(value, result=True)


# --- fully connected -----------------------------------------------------------------------


def _dense_solve(p: Params) -> int:
    return sum(a * b + b for a, b in itertools.pairwise(p["layers"]))


def _dense_steps(p: Params, answer: int) -> list[str]:
    sizes = p["layers"]
    pairs = list(itertools.pairwise(sizes))
    terms = " + ".join(f"{a} \\times {b} + {b}" for a, b in pairs)
    parts = " + ".join(f"{num(a * b, True)} + {b}" for a, b in pairs)
    return [
        "\\text{Parameters} &= \\sum_{l} \\left(n_{l-1} \\times n_l + n_l\\right) \\quad \\text{(weights + biases)}",
        f"&= {terms}",
        f"&= {parts}",
        f"&= {num(answer, True)}",
    ]


DENSE_PARAMS = Family(
    name="dense_params",
    summary="trainable parameters of a fully connected network (weights and biases)",
    params=(Param("layers", "ints", "layer sizes, input first", low=1, high=100_000),),
    check=lambda p: None if len(p["layers"]) >= 2 else "layers needs at least an input and an output size",
    solve=_dense_solve,
    steps=_dense_steps,
)


# --- convolution arithmetic ----------------------------------------------------------------


def _conv_out(w: int, f: int, p: int, s: int, d: int = 1) -> int:
    """PyTorch's Conv2d output size: floor((W + 2P - D(F-1) - 1) / S) + 1."""
    return (w + 2 * p - d * (f - 1) - 1) // s + 1


def _conv_check(p: Params) -> str | None:
    span = p["D"] * (p["F"] - 1) + 1
    if span > p["W"] + 2 * p["P"]:
        return f"the filter (span {span}) is larger than the padded input ({p['W'] + 2 * p['P']}): empty output"
    if p["P"] >= span:
        return "padding as large as the filter gives outputs that see only padding"
    return None


def _conv_steps(p: Params, answer: int) -> list[str]:
    w, f, pad, s, d = p["W"], p["F"], p["P"], p["S"], p["D"]
    exact = (w - d * (f - 1) - 1 + 2 * pad) % s == 0
    floor_l, floor_r = ("", "") if exact else ("\\left\\lfloor ", " \\right\\rfloor")
    if d == 1:
        formula = f"W_{{\\text{{out}}}} &= {floor_l}\\frac{{W - F + 2P}}{{S}}{floor_r} + 1"
        sub = f"&= {floor_l}\\frac{{{w} - {f} + 2 \\times {pad}}}{{{s}}}{floor_r} + 1"
        inner = w - f + 2 * pad
    else:
        formula = f"W_{{\\text{{out}}}} &= {floor_l}\\frac{{W + 2P - D(F - 1) - 1}}{{S}}{floor_r} + 1"
        sub = f"&= {floor_l}\\frac{{{w} + 2 \\times {pad} - {d} \\times ({f} - 1) - 1}}{{{s}}}{floor_r} + 1"
        inner = w + 2 * pad - d * (f - 1) - 1
    middle = f"&= {floor_l}\\frac{{{inner}}}{{{s}}}{floor_r} + 1"
    return [formula, sub, middle, f"&= {answer}"]


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
    solve=lambda p: _conv_out(p["W"], p["F"], p["P"], p["S"], p["D"]),
    steps=_conv_steps,
    answer_tex=lambda p, a: f"{a} \\times {a}",
    convention="PyTorch Conv2d: the division rounds down (floor) when the filter does not fit evenly.",
)


def _same_check(p: Params) -> str | None:
    twice = p["S"] * (p["W"] - 1) - p["W"] + p["F"]  # = (S-1)(W-1) + F-1 >= 0
    if twice % 2:
        return f"no whole-number padding keeps the size: 2P = {twice} is odd"
    if twice // 2 >= p["F"]:
        return f"padding {twice // 2} is not below the filter size {p['F']}: edge outputs would see only padding"
    return None


def _same_steps(p: Params, answer: int) -> list[str]:
    w, f, s = p["W"], p["F"], p["S"]
    return [
        "P &= \\frac{S(W_{\\text{out}} - 1) - W + F}{2} \\quad \\text{with } W_{\\text{out}} = W",
        f"&= \\frac{{{s}({w} - 1) - {w} + {f}}}{{2}}",
        f"&= \\frac{{{s * (w - 1) - w + f}}}{{2}}",
        f"&= {answer}",
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


def _conv2d_steps(p: Params, answer: np.ndarray) -> list[str]:
    image, kernel, s = _padded(p["I"], p["P"]), p["K"], p["S"]
    k_rows, k_cols = kernel.shape
    rows, cols = p["I"].shape
    out_rows, out_cols = answer.shape
    lines = [
        f"O(i, j) &= \\sum_{{u=1}}^{{{k_rows}}} \\sum_{{v=1}}^{{{k_cols}}} I(S(i-1) + u,\\, S(j-1) + v) \\cdot K(u, v)",
        f"\\text{{size}} &= \\left(\\frac{{{rows} - {k_rows} + 2 \\times {p['P']}}}{{{s}}} + 1\\right) \\times "
        f"\\left(\\frac{{{cols} - {k_cols} + 2 \\times {p['P']}}}{{{s}}} + 1\\right) = {out_rows} \\times {out_cols}",
    ]
    shown = 0
    for i in range(out_rows):
        for j in range(out_cols):
            if shown == 12:
                lines.append("&\\;\\;\\vdots")
                return lines + [f"O &= {to_tex(answer, result=True)}"]
            terms = " + ".join(
                f"{t(image[i * s + u, j * s + v])} \\cdot {t(kernel[u, v])}"
                for u in range(k_rows)
                for v in range(k_cols)
            )
            lines.append(f"O({i + 1}, {j + 1}) &= {terms} {_result(answer[i, j])}")
            shown += 1
    return lines + [f"O &= {to_tex(answer, result=True)}"]


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
)


def _cnn_walk(p: Params) -> list[tuple[str, dict[str, Any], list[int], int, int]]:
    """Per layer: name, layer, output shape, weights, biases."""
    channels, height, width = p["input"]
    features: int | None = None
    rows = []
    counts = {"conv": 0, "pool": 0, "fc": 0}
    for layer in p["layers"]:
        counts[layer["type"]] += 1
        name = f"{layer['type']}{counts[layer['type']]}"
        if layer["type"] == "fc":
            inputs = features if features is not None else channels * height * width
            weights, biases = inputs * layer["out"], layer["out"]
            features = layer["out"]
            rows.append((name, layer, [layer["out"]], weights, biases))
            continue
        if features is not None:
            raise ValueError(f"{name} comes after a fully connected layer; put conv and pool layers first")
        k, s, pad = layer["kernel"], layer["stride"], layer["padding"]
        height, width = _conv_out(height, k, pad, s), _conv_out(width, k, pad, s)
        if height < 1 or width < 1:
            raise ValueError(f"{name} ({k}x{k}, stride {s}) leaves an empty feature map")
        if layer["type"] == "conv":
            weights, biases = layer["out"] * channels * k * k, layer["out"]
            rows.append((name, layer, [layer["out"], height, width], weights, biases))
            channels = layer["out"]
        else:
            rows.append((name, layer, [channels, height, width], 0, 0))
    return rows


def _cnn_check(p: Params) -> str | None:
    try:
        _cnn_walk(p)
    except ValueError as exc:
        return str(exc)
    return None


def _cnn_steps(p: Params, answer: int) -> list[str]:
    lines = [
        "\\text{conv} &: F \\times (D_{in} \\times K \\times K) + F, \\quad "
        "\\text{fc}: N_{in} \\times N_{out} + N_{out}, \\quad \\text{pool}: 0"
    ]
    channels = p["input"][0]
    for name, layer, shape, weights, biases in _cnn_walk(p):
        out_shape = " \\times ".join(str(v) for v in shape)
        if layer["type"] == "conv":
            k = layer["kernel"]
            lines.append(
                f"\\text{{{name}}} &: {layer['out']} \\times ({channels} \\times {k} \\times {k}) + {layer['out']} "
                f"= {num(weights, True)} + {biases} = {num(weights + biases, True)} \\quad [{out_shape}]"
            )
            channels = layer["out"]
        elif layer["type"] == "pool":
            lines.append(f"\\text{{{name}}} &: 0 \\quad [{out_shape}]")
        else:
            n_in = weights // layer["out"]
            lines.append(
                f"\\text{{{name}}} &: {num(n_in, True)} \\times {layer['out']} + {layer['out']} "
                f"= {num(weights, True)} + {biases} = {num(weights + biases, True)}"
            )
    lines.append(f"\\text{{Total}} &= {num(answer, True)}")
    return lines


CNN_PARAMS = Family(
    name="cnn_params",
    summary="trainable parameters of a CNN (conv and fc weights and biases; pooling has none)",
    params=(
        Param("input", "shape", "input [channels, height, width]"),
        Param("layers", "layers", "layers in order: {type: conv|pool|fc, out, kernel, stride, padding}"),
    ),
    check=_cnn_check,
    solve=lambda p: sum(w + b for _, _, _, w, b in _cnn_walk(p)),
    steps=_cnn_steps,
    convention="An fc layer after conv and pool layers takes the flattened C×H×W features as its input.",
)


# --- optimization --------------------------------------------------------------------------

GD_STEP = Family(
    name="gd_step",
    summary="one step of gradient descent: x - lr * grad",
    params=(
        Param("x", "number", "current value x_t"),
        Param("lr", "number", "learning rate eta", low=0),
        Param("grad", "number", "gradient f'(x_t)"),
    ),
    solve=lambda p: p["x"] - p["lr"] * p["grad"],
    steps=lambda p, a: [
        "x_{t+1} &= x_t - \\eta f'(x_t)",
        f"&= {t(p['x'])} - {t(p['lr'])} \\times {t(p['grad'])}",
        f"&{_result(a)}",
    ],
)


def _momentum(p: Params) -> tuple[float, float]:
    velocity = p["beta"] * p["v"] + p["grad"]
    return velocity, p["x"] - p["lr"] * velocity


MOMENTUM_STEP = Family(
    name="momentum_step",
    summary="one step of SGD with momentum (PyTorch's form): v = beta v + grad, x - lr v",
    params=(
        Param("x", "number", "current value"),
        Param("v", "number", "velocity before the step", default=0),
        Param("grad", "number", "gradient"),
        Param("lr", "number", "learning rate", low=0),
        Param("beta", "number", "momentum", default=Fraction(9, 10), low=0, high=1),
    ),
    solve=lambda p: _momentum(p)[1],
    steps=lambda p, a: [
        "v_{t+1} &= \\beta v_t + g_t = "
        f"{t(p['beta'])} \\times {t(p['v'])} + {t(p['grad'])} {_result(_momentum(p)[0])}",
        f"x_{{t+1}} &= x_t - \\eta v_{{t+1}} = {t(p['x'])} - {t(p['lr'])} \\times {t(_momentum(p)[0])}",
        f"&{_result(a)}",
    ],
    convention="PyTorch SGD momentum (no dampening): the learning rate scales the velocity, not the gradient.",
)


def _adam(p: Params) -> dict[str, float]:
    g, b1, b2, step = p["grad"], p["beta1"], p["beta2"], p["t"]
    m = b1 * p["m"] + (1 - b1) * g
    v = b2 * p["v"] + (1 - b2) * g * g
    m_hat, v_hat = m / (1 - b1**step), v / (1 - b2**step)
    return {
        "m": m,
        "v": v,
        "m_hat": m_hat,
        "v_hat": v_hat,
        "x": p["x"] - p["lr"] * m_hat / (math.sqrt(v_hat) + p["eps"]),
    }


def _adam_steps(p: Params, answer: float) -> list[str]:
    s = _adam(p)
    return [
        f"m_t &= \\beta_1 m_{{t-1}} + (1 - \\beta_1) g_t = {t(p['beta1'])} \\times {t(p['m'])} + "
        f"{num(1 - p['beta1'], True)} \\times {t(p['grad'])} {_result(s['m'])}",
        f"v_t &= \\beta_2 v_{{t-1}} + (1 - \\beta_2) g_t^2 = {t(p['beta2'])} \\times {t(p['v'])} + "
        f"{num(1 - p['beta2'], True)} \\times {t(p['grad'])}^2 {_result(s['v'])}",
        f"\\hat m_t &= \\frac{{m_t}}{{1 - \\beta_1^{{t}}}} = \\frac{{{to_tex(s['m'], result=True)}}}{{1 - {t(p['beta1'])}^{{{p['t']}}}}} "
        f"{_result(s['m_hat'])}",
        f"\\hat v_t &= \\frac{{v_t}}{{1 - \\beta_2^{{t}}}} = \\frac{{{to_tex(s['v'], result=True)}}}{{1 - {t(p['beta2'])}^{{{p['t']}}}}} "
        f"{_result(s['v_hat'])}",
        f"x_t &= x_{{t-1}} - \\eta \\frac{{\\hat m_t}}{{\\sqrt{{\\hat v_t}} + \\epsilon}} = {t(p['x'])} - {t(p['lr'])} "
        f"\\times \\frac{{{to_tex(s['m_hat'], result=True)}}}{{\\sqrt{{{to_tex(s['v_hat'], result=True)}}} + \\epsilon}} {_result(answer)}",
    ]


ADAM_STEP = Family(
    name="adam_step",
    summary="one Adam step with bias correction",
    params=(
        Param("x", "number", "current value"),
        Param("grad", "number", "gradient g_t"),
        Param("lr", "number", "learning rate", default=Fraction(1, 1000), low=0),
        Param("m", "number", "first moment before the step", default=0),
        Param("v", "number", "second moment before the step", default=0, low=0),
        Param("beta1", "number", "first-moment decay", default=Fraction(9, 10), low=0, high=0.9999),
        Param("beta2", "number", "second-moment decay", default=Fraction(999, 1000), low=0, high=0.99999),
        Param("eps", "number", "epsilon", default=Fraction(1, 10**8), low=0),
        Param("t", "int", "step number (from 1)", default=1, low=1, high=10_000),
    ),
    solve=lambda p: _adam(p)["x"],
    steps=_adam_steps,
    convention="PyTorch Adam: epsilon is added after the square root of the corrected second moment.",
)


# --- activations and losses ----------------------------------------------------------------


def _softmax(z: list[Any]) -> np.ndarray:
    shifted = np.array([float(v) for v in z]) - float(max(z))
    return np.exp(shifted) / np.exp(shifted).sum()


def _ce_steps(p: Params, answer: float) -> list[str]:
    z, y = p["z"], p["y"]
    probs = _softmax(z)
    exps = " + ".join(f"e^{{{to_tex(v)}}}" for v in z)
    return [
        "L &= -\\log \\frac{e^{z_y}}{\\sum_k e^{z_k}} = -z_y + \\log \\sum_k e^{z_k}",
        f"p_{{{y}}} &= \\frac{{e^{{{to_tex(z[y])}}}}}{{{exps}}} {_result(float(probs[y]))}",
        f"L &= -\\ln {to_tex(float(probs[y]))} {_result(answer)}",
    ]


SOFTMAX_CROSS_ENTROPY = Family(
    name="softmax_cross_entropy",
    summary="cross-entropy loss of a softmax over logits z for the true class y (natural log)",
    params=(
        Param("z", "vector", "logits", low=-50, high=50),
        Param("y", "int", "index of the true class, from 0", low=0),
    ),
    check=lambda p: (
        None if p["y"] < len(p["z"]) and len(p["z"]) >= 2 else "y must index one of the (at least 2) logits"
    ),
    solve=lambda p: float(-np.log(_softmax(p["z"])[p["y"]])),
    steps=_ce_steps,
    convention="Classes are numbered from 0, as PyTorch's CrossEntropyLoss targets; the log is natural.",
)


def _activation_grad(p: Params) -> Any:
    x = p["x"]
    if p["fn"] == "sigmoid":
        s = safe_eval.sigmoid(x)
        return s * (1 - s)
    if p["fn"] == "tanh":
        return 1 - safe_eval.tanh(x) ** 2
    return 1 if x > 0 else 0


def _activation_steps(p: Params, answer: float) -> list[str]:
    x, fn = p["x"], p["fn"]
    if fn == "sigmoid":
        s = safe_eval.sigmoid(x)
        return [
            "\\sigma'(x) &= \\sigma(x)\\,(1 - \\sigma(x))",
            f"\\sigma({to_tex(x)}) &= \\frac{{1}}{{1 + e^{{{to_tex(-x)}}}}} {_result(s)}",
            f"\\sigma'({to_tex(x)}) &= {to_tex(s)} \\times (1 - {to_tex(s)}) {_result(answer)}",
        ]
    if fn == "tanh":
        th = safe_eval.tanh(x)
        return [
            "\\tanh'(x) &= 1 - \\tanh^2(x)",
            f"\\tanh({to_tex(x)}) &{_result(th)}",
            f"\\tanh'({to_tex(x)}) &= 1 - {t(th)}^2 {_result(answer)}",
        ]
    return [
        "\\mathrm{ReLU}'(x) &= \\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases} \\quad \\text{(0 at } x = 0\\text{, as PyTorch)}",
        f"\\mathrm{{ReLU}}'({to_tex(x)}) &= {to_tex(answer)}",
    ]


ACTIVATION_GRAD = Family(
    name="activation_grad",
    summary="derivative of sigmoid, tanh or ReLU at x",
    params=(
        Param("x", "number", "input", low=-30, high=30),
        Param("fn", "sigmoid|tanh|relu", "activation", default="sigmoid", options=("sigmoid", "tanh", "relu")),
    ),
    solve=_activation_grad,
    steps=_activation_steps,
    convention="ReLU'(0) = 0, as PyTorch's autograd.",
)


# --- architecture arithmetic ---------------------------------------------------------------


def _receptive(p: Params) -> tuple[int, list[int]]:
    field, jump, jumps = 1, 1, []
    for kernel, stride in zip(p["kernels"], p["strides"], strict=True):
        jumps.append(jump)
        field += (kernel - 1) * jump
        jump *= stride
    return field, jumps


def _receptive_steps(p: Params, answer: int) -> list[str]:
    _, jumps = _receptive(p)
    terms = " + ".join(f"({k} - 1) \\times {j}" for k, j in zip(p["kernels"], jumps, strict=True))
    return [
        "r &= 1 + \\sum_{l=1}^{L} (k_l - 1) \\prod_{i<l} s_i",
        f"&= 1 + {terms}",
        f"&= {answer}",
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
)


def _macs_out(p: Params) -> int:
    return _conv_out(p["H"], p["F"], p["P"], p["S"])


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
    steps=lambda p, a: [
        f"H_{{\\text{{out}}}} &= \\left\\lfloor \\frac{{{p['H']} - {p['F']} + 2 \\times {p['P']}}}{{{p['S']}}} \\right\\rfloor + 1 "
        f"= {_macs_out(p)}",
        "\\text{MACs} &= H_{\\text{out}}^2 \\times C_{\\text{out}} \\times C_{\\text{in}} \\times F^2",
        f"&= {_macs_out(p)}^2 \\times {p['C_out']} \\times {p['C_in']} \\times {p['F']}^2",
        f"&= {num(a, True)}",
    ],
    convention="Bias additions are not counted; one MAC is one multiply and one add.",
)


LSTM_PARAMS = Family(
    name="lstm_params",
    summary="trainable parameters of one LSTM layer (4 gates, PyTorch's two bias vectors)",
    params=(
        Param("input", "int", "input features", low=1, high=100_000),
        Param("hidden", "int", "hidden size", low=1, high=100_000),
    ),
    solve=lambda p: 4 * (p["hidden"] * (p["input"] + p["hidden"]) + 2 * p["hidden"]),
    steps=lambda p, a: [
        "\\text{Parameters} &= 4\\,\\big(h\\,(d + h) + 2h\\big) \\quad \\text{(4 gates; } W_{ih}, W_{hh}, b_{ih}, b_{hh})",
        f"&= 4\\,\\big({p['hidden']} \\times ({p['input']} + {p['hidden']}) + 2 \\times {p['hidden']}\\big)",
        f"&= 4 \\times {num(p['hidden'] * (p['input'] + p['hidden']) + 2 * p['hidden'], True)}",
        f"&= {num(a, True)}",
    ],
    convention="PyTorch nn.LSTM has two bias vectors per gate (b_ih and b_hh); Keras has one (4h fewer).",
)


# --- pooling -------------------------------------------------------------------------------


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


def _pool_steps(p: Params, answer: np.ndarray) -> list[str]:
    windows = _pool_windows(p)
    op = "\\max" if p["mode"] == "max" else "\\operatorname{avg}"
    lines = []
    for i in range(answer.shape[0]):
        for j in range(answer.shape[1]):
            if len(lines) == 12:
                lines.append("&\\;\\;\\vdots")
                return lines + [f"O &= {to_tex(answer, result=True)}"]
            entries = ", ".join(to_tex(v) for v in windows[i][j])
            lines.append(f"O({i + 1}, {j + 1}) &= {op}({entries}) {_result(answer[i, j])}")
    return lines + [f"O &= {to_tex(answer, result=True)}"]


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
)


def _maxpool_backward(p: Params) -> np.ndarray:
    k, s = p["kernel"], p["stride"] or p["kernel"]
    image, grad = p["I"], p["G"]
    result = np.zeros(image.shape, dtype=object)
    for i in range(grad.shape[0]):
        for j in range(grad.shape[1]):
            window = image[i * s : i * s + k, j * s : j * s + k]
            u, v = np.unravel_index(np.argmax(window), window.shape)
            result[i * s + u, j * s + v] += grad[i, j]
    return as_array(result.tolist())


def _maxpool_backward_check(p: Params) -> str | None:
    problem = _pool_check({**p, "mode": "max"})
    if problem:
        return problem
    expected = _pool_solve({**p, "mode": "max"}).shape
    if p["G"].shape != expected:
        return f"G must have the pooled output's shape {expected[0]}x{expected[1]}, found {p['G'].shape[0]}x{p['G'].shape[1]}"
    return None


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
    steps=lambda p, a: [
        "\\frac{\\partial L}{\\partial I_{uv}} &= \\sum_{(i,j):\\, (u,v) = \\arg\\max \\text{ of window } (i,j)} G_{ij}"
        " \\quad \\text{(0 at every non-maximum)}",
        f"\\max\\text{{-pool}}(I) &= {to_tex(_pool_solve({**p, 'mode': 'max'}), result=True)}",
        f"\\frac{{\\partial L}}{{\\partial I}} &= {to_tex(a, result=True)}",
    ],
    convention="Ties go to the first maximum in row-major order, as PyTorch; overlapping windows add up.",
)


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        DENSE_PARAMS,
        CONV_OUTPUT_SIZE,
        SAME_PADDING,
        CONV2D,
        CNN_PARAMS,
        GD_STEP,
        POOL2D,
        MOMENTUM_STEP,
        ADAM_STEP,
        SOFTMAX_CROSS_ENTROPY,
        ACTIVATION_GRAD,
        RECEPTIVE_FIELD,
        CONV_MACS,
        LSTM_PARAMS,
        MAXPOOL_BACKWARD,
    )
}
