"""Backpropagation by hand: through a small MLP, and the softmax cross-entropy gradient."""

from __future__ import annotations

from typing import Any

import numpy as np

from ankismith.solver.families import activations
from ankismith.solver.families.losses import softmax
from ankismith.solver.kit import (
    RESULT,
    Chain,
    Expr,
    Formula,
    Int,
    Matrix,
    Option,
    Shown,
    Vector,
    div,
    entry_lines,
    refuse,
    sigmoid,
    sub,
    tanh,
)

# --- a two-layer MLP: x -> W1 x + b1 -> act -> W2 h + b2 -> 1/2 ||y_hat - y||^2 ----------------------

ACTIVATIONS = ("relu", "sigmoid", "tanh")
MLP_PARTS = ("loss", "dW2", "db2", "dW1", "db1")
LOSS_FORMULA = "\\frac{1}{2} \\sum_k \\left(\\hat y_k - y_k\\right)^2"
BACKWARD_FORMULA = (  # two rows: one line of it is wider than a phone
    "\\begin{gathered}"
    "\\delta_2 = \\hat y - y = \\frac{\\partial L}{\\partial b_2}, \\quad "
    "\\frac{\\partial L}{\\partial W_2} = \\delta_2 h^\\top, \\\\ "
    "\\delta_1 = \\left(W_2^\\top \\delta_2\\right) \\odot f'(a) = \\frac{\\partial L}{\\partial b_1}, \\quad "
    "\\frac{\\partial L}{\\partial W_1} = \\delta_1 x^\\top"
    "\\end{gathered}"
)
STABLE_FROM = 4  # from |a| = 4 on, f'(a) is written in its stable form, not from h


def activate(act: str, a: Any) -> Any:
    """f(a) for the MLP's hidden layer."""
    if act == "sigmoid":
        return sigmoid(a)
    if act == "tanh":
        return tanh(a)
    return a if a > 0 else 0


def _array(rows: Any) -> np.ndarray:
    """An object array of the values as computed: exact ones stay exact, floats stay floats (as_array
    would turn a float into the long decimal it prints as, and claim it exact)."""
    return np.array(rows, dtype=object)


def _vec(values: Any) -> np.ndarray:
    return _array(list(values))


def mlp_forward_backward(p: dict[str, Any], derivative: bool = True, transposed: bool = False) -> dict[str, Any]:
    """Every quantity of one forward and backward pass. `derivative=False`: the activation's
    derivative is left out (a mistake); `transposed`: dh = W2 delta2, not W2^T delta2 (a mistake, for
    a square W2)."""
    x, w1, b1, w2, b2, y = p["x"], p["W1"], p["b1"], p["W2"], p["b2"], p["y"]
    hidden, outputs = w1.shape[0], w2.shape[0]
    a = [sum(w1[i, j] * x[j] for j in range(len(x))) + b1[i] for i in range(hidden)]
    h = [activate(p["act"], v) for v in a]
    y_hat = [sum(w2[k, i] * h[i] for i in range(hidden)) + b2[k] for k in range(outputs)]
    d2 = [y_hat[k] - y[k] for k in range(outputs)]
    if transposed:
        dh = [sum(w2[i, k] * d2[k] for k in range(outputs)) for i in range(hidden)]
    else:
        dh = [sum(w2[k, i] * d2[k] for k in range(outputs)) for i in range(hidden)]
    d1 = [dh[i] * activations.derivative(p["act"], a[i]) if derivative else dh[i] for i in range(hidden)]
    return {
        "a": a,
        "h": h,
        "y_hat": y_hat,
        "d2": d2,
        "dh": dh,
        "d1": d1,
        "loss": sum(d * d for d in d2) / 2,
        "dW2": _array([[d2[k] * h[i] for i in range(hidden)] for k in range(outputs)]),
        "db2": _vec(d2),
        "dW1": _array([[d1[i] * x[j] for j in range(len(x))] for i in range(hidden)]),
        "db1": _vec(d1),
    }


class mlp_backprop:
    """loss and gradients of a one-hidden-layer MLP with the squared error ½‖ŷ − y‖²"""

    CONVENTION = (
        "h = f(W1 x + b1), ŷ = W2 h + b2 (W of shape out × in, as PyTorch's nn.Linear); "
        "L = ½ Σ (ŷ − y)², summed over the outputs, not averaged; ReLU'(0) = 0, as PyTorch's autograd."
    )
    FORMULAS = (LOSS_FORMULA, BACKWARD_FORMULA)
    PARTS = MLP_PARTS
    PARAMS = {
        "x": Vector("input x", low=-10, high=10, draw=["-2..2", "-2..2"]),
        "W1": Matrix(
            "first layer's weights (hidden × inputs)",
            low=-10,
            high=10,
            draw={"shape": [2, 2], "values": "-1.5..1.5 step 0.5"},
        ),
        "b1": Vector("first layer's bias", low=-10, high=10, draw=["-1..1 step 0.5", "-1..1 step 0.5"]),
        "W2": Matrix(
            "second layer's weights (outputs × hidden)",
            low=-10,
            high=10,
            draw={
                "one_of": [
                    {"shape": [1, 2], "values": "-1.5..1.5 step 0.5"},
                    {"shape": [2, 2], "values": "-1.5..1.5 step 0.5"},
                ]
            },
        ),
        "b2": Vector(
            "second layer's bias",
            low=-10,
            high=10,
            draw={"one_of": [["-1..1 step 0.5"], ["-1..1 step 0.5", "-1..1 step 0.5"]]},
        ),
        "y": Vector("target y", low=-10, high=10, draw={"one_of": [["-2..2"], ["-2..2", "-2..2"]]}),
        "act": Option(*ACTIVATIONS, doc="hidden activation", default="relu", draw=["relu", "relu", "sigmoid", "tanh"]),
    }

    def solve(**p: Any) -> dict[str, Any]:
        found = mlp_forward_backward(p)
        return {part: found[part] for part in MLP_PARTS}

    def valid(**p: Any) -> bool:
        w1, w2 = p["W1"].shape, p["W2"].shape
        hidden = (w1[0], f"W1 has {w1[0]} rows (hidden units)")
        outputs = (w2[0], f"W2 has {w2[0]} rows (outputs)")
        sizes = (
            ("W1", w1[1], "columns", (len(p["x"]), f"x has {len(p['x'])} entries")),
            ("b1", len(p["b1"]), "entries", hidden),
            ("W2", w2[1], "columns", hidden),
            ("b2", len(p["b2"]), "entries", outputs),
            ("y", len(p["y"]), "entries", outputs),
        )
        for name, size, what, (expected, why) in sizes:
            if size != expected:
                return refuse(f"{name} has {size} {what}, but {why}")
        return True

    def degenerate(**p: Any) -> str | None:
        found = mlp_forward_backward(p)
        if all(d == 0 for d in found["d2"]):
            return "the prediction equals the target: every gradient is 0"
        if all(d == 0 for d in found["d1"]):
            return "no gradient reaches the first layer (dead ReLUs or zero weights)"
        return None

    def steps(**p: Any) -> list[Chain]:
        return _mlp_steps(p)

    def mistakes(**p: Any) -> dict[str, Any]:
        right = mlp_forward_backward(p)
        found: dict[str, Any] = {
            "the $\\frac{1}{2}$ of the loss is left out: $\\sum_k (\\hat y_k - y_k)^2$": {"loss": 2 * right["loss"]},
            "the error's sign is flipped ($\\delta_2 = y - \\hat y$): every gradient has the wrong sign": {
                part: -right[part] for part in ("dW2", "db2", "dW1", "db1")
            },
        }
        if p["act"] != "relu" or any(v <= 0 for v in right["a"]):
            plain = mlp_forward_backward(p, derivative=False)
            found["the activation's derivative $f'(a)$ is forgotten: $\\delta_1 = W_2^\\top \\delta_2$"] = {
                "dW1": plain["dW1"],
                "db1": plain["db1"],
            }
        if right["dW2"].shape[0] == right["dW2"].shape[1]:
            found["the outer product is the wrong way round: $h\\, \\delta_2^\\top$, not $\\delta_2 h^\\top$"] = {
                "dW2": _array(right["dW2"].T.tolist())
            }
            wrong = mlp_forward_backward(p, transposed=True)
            found["$W_2$ is not transposed on the way back: $\\delta_1 = (W_2 \\delta_2) \\odot f'(a)$"] = {
                "dW1": wrong["dW1"],
                "db1": wrong["db1"],
            }
        return {label: _unless_right(parts, right) for label, parts in found.items()}


def _unless_right(parts: dict[str, Any], right: dict[str, Any]) -> dict[str, Any] | None:
    """A mistake's parts, or None where it gives the right answer in every part (nothing to tell apart)."""
    same = all(
        np.array_equal(np.asarray(v, dtype=object), np.asarray(right[k], dtype=object)) for k, v in parts.items()
    )
    return None if same else parts


def _mlp_steps(p: dict[str, Any]) -> list[Chain]:
    s = mlp_forward_backward(p)
    x, w1, b1, w2, b2, y, act = p["x"], p["W1"], p["b1"], p["W2"], p["b2"], p["y"], p["act"]
    hidden, outputs, inputs = w1.shape[0], w2.shape[0], len(x)
    chains: list[Chain] = []

    def given(text: str, env: dict[str, Any], names: list[str]) -> Expr:
        """`text` with values substituted; `names` are entries of the params, shown as written."""
        return Expr(text, env, written=frozenset(names))

    for i in range(hidden):  # forward: pre-activations
        env = {f"w{j}": w1[i, j] for j in range(inputs)} | {f"x{j}": x[j] for j in range(inputs)} | {"b": b1[i]}
        text = " + ".join(f"w{j} * x{j}" for j in range(inputs)) + " + b"
        chains.append(Chain(f"a_{{{i + 1}}}", (given(text, env, list(env)), RESULT), name=f"a{i}"))
    for i in range(hidden):  # forward: activations
        fn = "max(0, a)" if act == "relu" else f"{act}(a)"
        chains.append(Chain(f"h_{{{i + 1}}}", (sub(fn, {"a": s["a"][i]}), RESULT), name=f"h{i}"))
    for k in range(outputs):  # forward: outputs
        env = {f"v{i}": w2[k, i] for i in range(hidden)} | {f"h{i}": s["h"][i] for i in range(hidden)}
        env |= {"c": b2[k]}
        text = " + ".join(f"v{i} * h{i}" for i in range(hidden)) + " + c"
        written = [f"v{i}" for i in range(hidden)] + ["c"]
        chains.append(Chain(f"\\hat y_{{{k + 1}}}", (given(text, env, written), RESULT), name=f"p{k}"))
    env = {f"p{k}": s["y_hat"][k] for k in range(outputs)} | {f"t{k}": y[k] for k in range(outputs)}
    squares = " + ".join(f"(p{k} - t{k})**2" for k in range(outputs))
    loss = given(f"({squares}) / 2", env, [f"t{k}" for k in range(outputs)])
    chains += [Chain("L", (Formula(LOSS_FORMULA),)), Chain("L", (loss, RESULT), part="loss")]
    chains.append(Chain("\\text{backward}", (Formula(BACKWARD_FORMULA),), rel=":"))
    for k in range(outputs):  # backward: the output error
        env = {"p": s["y_hat"][k], "t": y[k]}
        chains.append(Chain(f"\\delta_{{2,{k + 1}}}", (given("p - t", env, ["t"]), RESULT), name=f"d{k}"))
    chains.append(Chain("\\frac{\\partial L}{\\partial b_2}", (Shown(s["db2"]),), part="db2"))

    def dw2(k: int, i: int) -> Chain:
        terms = (sub("d * h", {"d": s["d2"][k], "h": s["h"][i]}), RESULT)
        return Chain(f"\\frac{{\\partial L}}{{\\partial W_{{2}}}}({k + 1}, {i + 1})", terms, entry=(k, i), part="dW2")

    chains += entry_lines(outputs, hidden, dw2)
    chains.append(Chain("\\frac{\\partial L}{\\partial W_2}", (Shown(s["dW2"]),), part="dW2"))
    for i in range(hidden):  # backward: into the hidden layer
        env = {f"v{k}": w2[k, i] for k in range(outputs)} | {f"d{k}": s["d2"][k] for k in range(outputs)}
        text = " + ".join(f"v{k} * d{k}" for k in range(outputs))
        written = [f"v{k}" for k in range(outputs)]
        label = f"\\left(W_2^\\top \\delta_2\\right)_{{{i + 1}}}"
        chains.append(Chain(label, (given(text, env, written), RESULT), name=f"g{i}"))
    for i in range(hidden):
        chains.append(
            Chain(f"\\delta_{{1,{i + 1}}}", (_through(act, s["dh"][i], s["a"][i], s["h"][i]), RESULT), name=f"e{i}")
        )
    chains.append(Chain("\\frac{\\partial L}{\\partial b_1}", (Shown(s["db1"]),), part="db1"))

    def dw1(i: int, j: int) -> Chain:
        terms = (given("e * x", {"e": s["d1"][i], "x": x[j]}, ["x"]), RESULT)
        return Chain(f"\\frac{{\\partial L}}{{\\partial W_{{1}}}}({i + 1}, {j + 1})", terms, entry=(i, j), part="dW1")

    chains += entry_lines(hidden, inputs, dw1)
    chains.append(Chain("\\frac{\\partial L}{\\partial W_1}", (Shown(s["dW1"]),), part="dW1"))
    return chains


def _through(act: str, g: Any, a: Any, h: Any) -> Expr:
    """delta_1 = g f'(a), with f'(a) written from h as by hand (stably where |a| is large)."""
    if act == "relu":
        return sub("g * (1 if a > 0 else 0)", {"g": g, "a": a})
    if abs(a) >= STABLE_FROM:
        return sub(f"g * {activations.STABLE[act]}", {"g": g, "a": abs(a)})  # no 1 - sigma cancellation
    return sub("g * h * (1 - h)" if act == "sigmoid" else "g * (1 - h**2)", {"g": g, "h": h})


# --- softmax cross-entropy: the gradient w.r.t. the logits ---------------------------------------

SOFTMAX_GRAD_FORMULA = "p_k - [k = y], \\quad p_k = \\frac{e^{z_k}}{\\sum_j e^{z_j}}"


class softmax_ce_grad:
    """gradient of the softmax cross-entropy loss w.r.t. the logits: softmax(z) − onehot(y)"""

    CONVENTION = "Classes are numbered from 0, as PyTorch's CrossEntropyLoss targets; one example, no averaging."
    FORMULAS = (SOFTMAX_GRAD_FORMULA,)
    PARAMS = {
        "z": Vector("logits", low=-50, high=50, draw=["-2..2", "-2..2", "-2..2"]),
        "y": Int("index of the true class, from 0", low=0, draw="0..2"),
    }

    def solve(z: list[Any], y: int) -> list[Any]:
        return [p - (1 if k == y else 0) for k, p in enumerate(softmax(z))]

    def valid(z: list[Any], y: int) -> bool:
        return refuse(None if y < len(z) and len(z) >= 2 else "y must index one of the (at least 2) logits")

    def steps(z: list[Any], y: int) -> list[Chain]:
        env = {f"z{k}": v for k, v in enumerate(z)}
        total = " + ".join(f"exp(z{k})" for k in range(len(z)))
        probabilities = softmax(z)
        chains = [Chain("\\frac{\\partial L}{\\partial z_k}", (Formula(SOFTMAX_GRAD_FORMULA),))]
        for k in range(len(z)):
            chains.append(Chain(f"p_{{{k}}}", (sub(f"exp(z{k}) / ({total})", env, written=True), RESULT), name=f"q{k}"))
        true = sub(f"q{y} - 1", {f"q{y}": probabilities[y]})
        chains.append(Chain(f"\\frac{{\\partial L}}{{\\partial z_{{{y}}}}}", (true, RESULT)))  # the others: p_k
        chains.append(Chain("\\frac{\\partial L}{\\partial z}", (Shown(_vec(softmax_ce_grad.solve(z, y))),)))
        return chains

    def mistakes(z: list[Any], y: int) -> dict[str, Any]:
        probabilities = softmax(z)
        return {
            "the one-hot target is not subtracted: $\\mathrm{softmax}(z)$ alone": probabilities,
            "the sign is flipped: $\\mathrm{onehot}(y) - \\mathrm{softmax}(z)$": [
                (1 if k == y else 0) - p for k, p in enumerate(probabilities)
            ],
            "the gradient w.r.t. the probabilities is given, not the logits: $-1/p_y$ at the true class, 0 elsewhere": [
                -div(1, p) if k == y else 0 for k, p in enumerate(probabilities)
            ],
        }
