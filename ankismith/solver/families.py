"""The problem families of an introductory deep-learning course, PyTorch's conventions throughout.

Each answer is computed from the params exactly as the card shows them (whole numbers as Python
ints, decimals as exact fractions), and each worked solution is data (`steps.Chain`): formula,
substitution, result, as the exam writes them, every term computed by the safe evaluator, so that
the text and the answer can never disagree (`steps.verify` checks every `=`).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from fractions import Fraction
from typing import Any

import numpy as np

from ankismith.solver import safe_eval
from ankismith.solver.family import Family, Param, Params
from ankismith.solver.steps import BREAK, EXAM, RESULT, Chain, Expr, Formula, Shape, Shown
from ankismith.solver.values import as_array, format_number

CDOT = replace(EXAM, times="\\cdot")  # the exam's convolution sums: 1 \cdot (-0.5) + 2 \cdot 1
TIMES = replace(EXAM, implicit=False)  # products of named quantities, written out: H^2 \times C
VDOTS = "\\;\\;\\vdots"
MAX_ENTRY_LINES = 12  # worked lines for entries of a matrix answer; the rest is the matrix itself


def sym(text: str, env: Params, style: Any = EXAM, **names: str) -> Expr:
    """The general formula: `text` written with its names (TeX of a name from `names`)."""
    return Expr(text, env, symbolic=True, style=replace(style, names=names))


def sub(text: str, env: Params, style: Any = EXAM, written: bool = False) -> Expr:
    """`text` with its names replaced by their values (`written`: shown as the question shows them)."""
    return Expr(text, env, style=style, written=frozenset(env) if written else frozenset())


def n(value: Any) -> str:
    """A number in TeX, for labels such as O(1, 2) or \\sigma'(0.5)."""
    return format_number(value, tex=True)


def _floor_if(text: str, divides: bool) -> str:
    """`text` (a quotient) under a floor where the division does not come out even."""
    return text if divides else f"floor({text})"


# --- fully connected -----------------------------------------------------------------------

DENSE_FORMULA = "\\sum_{l} \\left(n_{l-1} \\times n_l + n_l\\right) \\quad \\text{(weights + biases)}"


def _dense_solve(p: Params) -> int:
    return sum(a * b + b for a, b in itertools.pairwise(p["layers"]))


def _dense_steps(p: Params, answer: int) -> list[Chain]:
    sizes = p["layers"]
    env = {f"n{i}": size for i, size in enumerate(sizes)}
    pairs = range(len(sizes) - 1)
    terms = " + ".join(f"n{i} * n{i + 1} + n{i + 1}" for i in pairs)
    env |= {f"w{i}": sizes[i] * sizes[i + 1] for i in pairs}
    parts = " + ".join(f"w{i} + n{i + 1}" for i in pairs)
    return [
        Chain(
            "\\text{Parameters}",
            (Formula(DENSE_FORMULA), BREAK, sub(terms, env), BREAK, sub(parts, env), BREAK, RESULT),
        )
    ]


DENSE_PARAMS = Family(
    name="dense_params",
    summary="trainable parameters of a fully connected network (weights and biases)",
    params=(Param("layers", "ints", "layer sizes, input first", low=1, high=100_000),),
    check=lambda p: None if len(p["layers"]) >= 2 else "layers needs at least an input and an output size",
    solve=_dense_solve,
    steps=_dense_steps,
    formulas=(DENSE_FORMULA,),
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


def _conv_steps(p: Params, answer: int) -> list[Chain]:
    w, f, pad, s, d = p["W"], p["F"], p["P"], p["S"], p["D"]
    if d == 1:
        quotient, inner = "(W - F + 2*P) / S", w - f + 2 * pad
    else:
        quotient, inner = "(W + 2*P - D*(F - 1) - 1) / S", w + 2 * pad - d * (f - 1) - 1
    divides = inner % s == 0
    formula = _floor_if(quotient, divides) + " + 1"
    middle = _floor_if("inner / S", divides) + " + 1"
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
    solve=lambda p: _conv_out(p["W"], p["F"], p["P"], p["S"], p["D"]),
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
    return sub(_floor_if("(n - k + 2*P) / S", (size - k + 2 * pad) % s == 0) + " + 1", env)


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
        height, width = _conv_out(height, k, pad, s), _conv_out(width, k, pad, s)
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


# --- optimization --------------------------------------------------------------------------

OPT_NAMES = {"x": "x_t", "lr": "\\eta", "grad": "f'(x_t)"}


def _gd_steps(p: Params, answer: Any) -> list[Chain]:
    formula = "x - lr * grad"
    step = {"x": p["x"], "d": p["lr"] * p["grad"]}
    return [
        Chain(
            "x_{t+1}",
            (sym(formula, p, **OPT_NAMES), BREAK, sub(formula, p), sub("x - d", step), RESULT),
        )
    ]


GD_STEP = Family(
    name="gd_step",
    summary="one step of gradient descent: x - lr * grad",
    params=(
        Param("x", "number", "current value x_t"),
        Param("lr", "number", "learning rate eta", low=0),
        Param("grad", "number", "gradient f'(x_t)"),
    ),
    solve=lambda p: p["x"] - p["lr"] * p["grad"],
    steps=_gd_steps,
)


def _momentum(p: Params) -> tuple[Any, Any]:
    velocity = p["beta"] * p["v"] + p["grad"]
    return velocity, p["x"] - p["lr"] * velocity


def _momentum_steps(p: Params, answer: Any) -> list[Chain]:
    names = {"beta": "\\beta", "v": "v_t", "grad": "g_t", "x": "x_t", "lr": "\\eta", "vn": "v_{t+1}"}
    env = {**p, "vn": _momentum(p)[0]}
    velocity, step = "beta * v + grad", "x - lr * vn"
    return [
        Chain("v_{t+1}", (sym(velocity, env, **names), sub(velocity, env), RESULT), name="vn"),
        Chain("x_{t+1}", (sym(step, env, **names), sub(step, env), RESULT)),
    ]


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
    steps=_momentum_steps,
    convention="PyTorch SGD momentum (no dampening): the learning rate scales the velocity, not the gradient.",
)


def _adam(p: Params) -> dict[str, Any]:
    g, b1, b2, step = p["grad"], p["beta1"], p["beta2"], p["t"]
    m = b1 * p["m"] + (1 - b1) * g
    v = b2 * p["v"] + (1 - b2) * g * g
    m_hat, v_hat = _div(m, 1 - _power(b1, step)), _div(v, 1 - _power(b2, step))
    return {
        "m": m,
        "v": v,
        "m_hat": m_hat,
        "v_hat": v_hat,
        "x": p["x"] - p["lr"] * _div(m_hat, _sqrt(v_hat) + p["eps"]),
    }


def _power(base: Any, exponent: int) -> Any:
    """base**exponent, exactly while the digits stay few (as the evaluator does)."""
    return safe_eval.evaluate(safe_eval.parse("b ** t", {"b", "t"}), {"b": base, "t": exponent})


def _div(a: Any, b: Any) -> Any:
    return safe_eval.evaluate(safe_eval.parse("a / b", {"a", "b"}), {"a": a, "b": b})


def _sqrt(x: Any) -> Any:
    return safe_eval.evaluate(safe_eval.parse("sqrt(x)", {"x"}), {"x": x})


ADAM_NAMES = {
    "beta1": "\\beta_1",
    "beta2": "\\beta_2",
    "m": "m_{t-1}",
    "v": "v_{t-1}",
    "grad": "g_t",
    "mt": "m_t",
    "vt": "v_t",
    "mh": "\\hat m_t",
    "vh": "\\hat v_t",
    "x": "x_{t-1}",
    "lr": "\\eta",
    "eps": "\\epsilon",
}


def _adam_steps(p: Params, answer: Any) -> list[Chain]:
    s = _adam(p)
    env = {**p, "mt": s["m"], "vt": s["v"], "mh": s["m_hat"], "vh": s["v_hat"]}
    formulas = [
        ("m_t", "beta1 * m + (1 - beta1) * grad", "mt"),
        ("v_t", "beta2 * v + (1 - beta2) * grad**2", "vt"),
        ("\\hat m_t", "mt / (1 - beta1**t)", "mh"),
        ("\\hat v_t", "vt / (1 - beta2**t)", "vh"),
        ("x_t", "x - lr * (mh / (sqrt(vh) + eps))", None),
    ]
    return [
        Chain(lhs, (sym(text, env, **ADAM_NAMES), sub(text, env), RESULT), name=name) for lhs, text, name in formulas
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
    check=lambda p: "eps = 0 with v = 0 divides by zero" if p["eps"] == 0 and _adam_v_hat_zero(p) else None,
    solve=lambda p: _adam(p)["x"],
    steps=_adam_steps,
    convention="PyTorch Adam: epsilon is added after the square root of the corrected second moment.",
)


def _adam_v_hat_zero(p: Params) -> bool:
    return p["beta2"] * p["v"] + (1 - p["beta2"]) * p["grad"] * p["grad"] == 0


# --- activations and losses ----------------------------------------------------------------


def _softmax(z: list[Any]) -> np.ndarray:
    shifted = np.array([float(v) for v in z]) - float(max(z))
    return np.exp(shifted) / np.exp(shifted).sum()


CE_FORMULA = "-\\ln \\frac{e^{z_y}}{\\sum_k e^{z_k}} = -z_y + \\ln \\sum_k e^{z_k}"


def _ce_steps(p: Params, answer: float) -> list[Chain]:
    z, y = p["z"], p["y"]
    env = {f"z{k}": v for k, v in enumerate(z)}
    total = " + ".join(f"exp(z{k})" for k in range(len(z)))
    prob = safe_eval.evaluate(safe_eval.parse(f"exp(z{y}) / ({total})", set(env)), env)
    return [
        Chain("L", (Formula(CE_FORMULA),)),
        Chain(f"p_{{{y}}}", (sub(f"exp(z{y}) / ({total})", env, written=True), RESULT), name="p"),
        Chain("L", (sub("-log(p)", {"p": prob}), RESULT)),
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
    formulas=(CE_FORMULA,),
)


def _activation_grad(p: Params) -> Any:
    x = p["x"]
    if p["fn"] == "sigmoid":
        s = safe_eval.sigmoid(x)
        return s * (1 - s)
    if p["fn"] == "tanh":
        return 1 - safe_eval.tanh(x) ** 2
    return 1 if x > 0 else 0


SIGMOID_FORMULA = "\\sigma(x)\\,\\big(1 - \\sigma(x)\\big)"
TANH_FORMULA = "1 - \\tanh^2(x)"
RELU_FORMULA = (
    "\\begin{cases} 1 & x > 0 \\\\ 0 & x \\le 0 \\end{cases} \\quad \\text{(0 at } x = 0\\text{, as PyTorch)}"
)


def _activation_steps(p: Params, answer: Any) -> list[Chain]:
    x, fn = p["x"], p["fn"]
    if fn == "sigmoid":
        s = safe_eval.sigmoid(x)
        return [
            Chain("\\sigma'(x)", (Formula(SIGMOID_FORMULA),)),
            Chain(sub("sigmoid(x)", p), (sub("1 / (1 + exp(mx))", {"mx": -x}), RESULT), name="s"),
            Chain(f"\\sigma'({n(x)})", (sub("s * (1 - s)", {"s": s}), RESULT)),
        ]
    if fn == "tanh":
        return [
            Chain("\\tanh'(x)", (Formula(TANH_FORMULA),)),
            Chain(sub("tanh(x)", p), (RESULT,), name="th"),
            Chain(f"\\tanh'({n(x)})", (sub("1 - th**2", {"th": safe_eval.tanh(x)}), RESULT)),
        ]
    return [
        Chain("\\mathrm{ReLU}'(x)", (Formula(RELU_FORMULA),)),
        Chain(f"\\mathrm{{ReLU}}'({n(x)})", (sub("1 if x > 0 else 0", p), RESULT)),
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
    formulas=(SIGMOID_FORMULA, TANH_FORMULA, RELU_FORMULA),
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
    return _conv_out(p["H"], p["F"], p["P"], p["S"])


MACS_NAMES = {"hout": "H_{\\text{out}}", "C_out": "C_{\\text{out}}", "C_in": "C_{\\text{in}}"}


def _macs_steps(p: Params, answer: int) -> list[Chain]:
    divides = (p["H"] - p["F"] + 2 * p["P"]) % p["S"] == 0
    size = _floor_if("(H - F + 2*P) / S", divides) + " + 1"
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


LSTM_NOTE = "\\text{(4 gates; } W_{ih}, W_{hh}, b_{ih}, b_{hh}\\text{)}"


def _lstm_steps(p: Params, answer: int) -> list[Chain]:
    h, d = p["hidden"], p["input"]
    env = {"h": h, "d": d}
    formula = "4 * (h * (d + h) + 2 * h)"
    parts = {"a": h * (d + h), "b": 2 * h}
    return [
        Chain(
            "\\text{Parameters}",
            (sym(formula, env), BREAK, sub(formula, env), BREAK, sub("4 * (a + b)", parts), BREAK, RESULT),
            note=LSTM_NOTE,
        )
    ]


LSTM_PARAMS = Family(
    name="lstm_params",
    summary="trainable parameters of one LSTM layer (4 gates, PyTorch's two bias vectors)",
    params=(
        Param("input", "int", "input features", low=1, high=100_000),
        Param("hidden", "int", "hidden size", low=1, high=100_000),
    ),
    solve=lambda p: 4 * (p["hidden"] * (p["input"] + p["hidden"]) + 2 * p["hidden"]),
    steps=_lstm_steps,
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
