"""Optimizer steps: gradient descent, momentum, Adam (PyTorch's forms)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ankismith.solver.kit import BREAK, RESULT, Chain, Int, Number, div, power, refuse, sqrt, sub, sym

OPT_NAMES = {"x": "x_t", "lr": "\\eta", "grad": "f'(x_t)"}


class gd_step:
    """one step of gradient descent: x - lr * grad"""

    PARAMS = {
        "x": Number("current value x_t"),
        "lr": Number("learning rate eta", low=0),
        "grad": Number("gradient f'(x_t)"),
    }

    def solve(x: Any, lr: Any, grad: Any) -> Any:
        return x - lr * grad

    def steps(x: Any, lr: Any, grad: Any) -> list[Chain]:
        p = {"x": x, "lr": lr, "grad": grad}
        formula = "x - lr * grad"
        step = {"x": x, "d": lr * grad}
        return [Chain("x_{t+1}", (sym(formula, p, **OPT_NAMES), BREAK, sub(formula, p), sub("x - d", step), RESULT))]

    def mistakes(x: Any, lr: Any, grad: Any) -> dict[str, Any]:
        return {
            "the step goes up the gradient: $x_t + \\eta f'(x_t)$": x + lr * grad,
            "the learning rate is left out: $x_t - f'(x_t)$": x - grad,
        }


MOMENTUM_NAMES = {"beta": "\\beta", "v": "v_t", "grad": "g_t", "x": "x_t", "lr": "\\eta", "vn": "v_{t+1}"}


class momentum_step:
    """one step of SGD with momentum (PyTorch's form): v = beta v + grad, x - lr v"""

    CONVENTION = "PyTorch SGD momentum (no dampening): the learning rate scales the velocity, not the gradient."
    PARAMS = {
        "x": Number("current value"),
        "v": Number("velocity before the step", default=0),
        "grad": Number("gradient"),
        "lr": Number("learning rate", low=0),
        "beta": Number("momentum", low=0, high=1, default=Fraction(9, 10)),
    }

    def solve(x: Any, v: Any, grad: Any, lr: Any, beta: Any) -> Any:
        return x - lr * (beta * v + grad)

    def degenerate(x: Any, v: Any, grad: Any, lr: Any, beta: Any) -> str | None:
        return "x does not move: the velocity after the step is 0" if beta * v + grad == 0 else None

    def steps(x: Any, v: Any, grad: Any, lr: Any, beta: Any) -> list[Chain]:
        env = {"x": x, "v": v, "grad": grad, "lr": lr, "beta": beta, "vn": beta * v + grad}
        velocity, step = "beta * v + grad", "x - lr * vn"
        return [
            Chain("v_{t+1}", (sym(velocity, env, **MOMENTUM_NAMES), sub(velocity, env), RESULT), name="vn"),
            Chain("x_{t+1}", (sym(step, env, **MOMENTUM_NAMES), sub(step, env), RESULT)),
        ]

    def mistakes(x: Any, v: Any, grad: Any, lr: Any, beta: Any) -> dict[str, Any]:
        return {
            "the learning rate scales the gradient inside the velocity ($v = \\beta v + \\eta g$, $x - v$), "
            "the other textbook form, not PyTorch's": x - (beta * v + lr * grad),
            "the momentum is forgotten: $x_t - \\eta g_t$": x - lr * grad,
        }


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


def adam(p: dict[str, Any]) -> dict[str, Any]:
    """One Adam step's moments, corrected moments and new x (PyTorch's order of operations)."""
    g, b1, b2, step = p["grad"], p["beta1"], p["beta2"], p["t"]
    m = b1 * p["m"] + (1 - b1) * g
    v = b2 * p["v"] + (1 - b2) * g * g
    m_hat, v_hat = div(m, 1 - power(b1, step)), div(v, 1 - power(b2, step))
    return {"m": m, "v": v, "m_hat": m_hat, "v_hat": v_hat, "x": p["x"] - p["lr"] * div(m_hat, sqrt(v_hat) + p["eps"])}


FIRST_STEP = (
    "\\text{(a first step from zero moments: } \\hat m_t = g_t \\text{ and } \\hat v_t = g_t^2\\text{, so the step is } "
    "\\eta\\, g_t / |g_t| \\text{ up to } \\epsilon\\text{: of size } \\eta \\text{ whatever } |g_t| \\text{ is)}"
)


class adam_step:
    """one Adam step with bias correction"""

    CONVENTION = "PyTorch Adam: epsilon is added after the square root of the corrected second moment."
    PARAMS = {
        "x": Number("current value"),
        "grad": Number("gradient g_t"),
        "lr": Number("learning rate", low=0, default=Fraction(1, 1000)),
        "m": Number("first moment before the step", default=0),
        "v": Number("second moment before the step", low=0, default=0),
        "beta1": Number("first-moment decay", low=0, high=0.9999, default=Fraction(9, 10)),
        "beta2": Number("second-moment decay", low=0, high=0.99999, default=Fraction(999, 1000)),
        "eps": Number("epsilon", low=0, default=Fraction(1, 10**8)),
        "t": Int("step number (from 1)", low=1, high=10_000, default=1),
    }

    def solve(**p: Any) -> Any:
        return adam(p)["x"]

    def valid(**p: Any) -> bool:
        v_hat_zero = p["beta2"] * p["v"] + (1 - p["beta2"]) * p["grad"] * p["grad"] == 0
        return refuse("eps = 0 with v = 0 divides by zero" if p["eps"] == 0 and v_hat_zero else None)

    def steps(**p: Any) -> list[Chain]:
        s = adam(p)
        env = {**p, "mt": s["m"], "vt": s["v"], "mh": s["m_hat"], "vh": s["v_hat"]}
        formulas = [
            ("m_t", "beta1 * m + (1 - beta1) * grad", "mt"),
            ("v_t", "beta2 * v + (1 - beta2) * grad**2", "vt"),
            ("\\hat m_t", "mt / (1 - beta1**t)", "mh"),
            ("\\hat v_t", "vt / (1 - beta2**t)", "vh"),
            ("x_t", "x - lr * (mh / (sqrt(vh) + eps))", None),
        ]
        first = p["t"] == 1 and p["m"] == 0 and p["v"] == 0 and p["grad"] != 0
        return [
            Chain(
                lhs,
                (sym(text, env, **ADAM_NAMES), sub(text, env), RESULT),
                name=name,
                note=FIRST_STEP if first and not name else "",
            )
            for lhs, text, name in formulas
        ]

    def mistakes(**p: Any) -> dict[str, Any]:
        s = adam(p)
        return {
            "the bias correction is forgotten: $x - \\eta\\, m_t / (\\sqrt{v_t} + \\epsilon)$": p["x"]
            - p["lr"] * div(s["m"], sqrt(s["v"]) + p["eps"]),
            "the square root of $\\hat v_t$ is forgotten: $x - \\eta\\, \\hat m_t / (\\hat v_t + \\epsilon)$": (
                p["x"] - p["lr"] * div(s["m_hat"], s["v_hat"] + p["eps"]) if s["v_hat"] + p["eps"] > 0 else None
            ),
        }


WD_NAMES = {"x": "x_t", "grad": "g_t", "lr": "\\eta", "wd": "\\lambda", "gw": "g'_t"}


class sgd_weight_decay:
    """one SGD step with weight decay (PyTorch's form): g' = grad + wd x, then x - lr g'"""

    CONVENTION = (
        "PyTorch SGD weight_decay: the decay wd·x is added to the gradient (L2 regularization of wd/2·x²), "
        "then scaled by the learning rate with it."
    )
    PARAMS = {
        "x": Number("current value x_t", draw=[-2, -1.5, -1, -0.5, 0.5, 1, 1.5, 2]),
        "grad": Number("gradient of the loss g_t", draw="-2..2 step 0.5"),
        "lr": Number("learning rate eta", low=0, draw=[0.1, 0.2, 0.5]),
        "wd": Number("weight decay lambda", low=0, draw=[0.1, 0.2, 0.5]),
    }

    def solve(x: Any, grad: Any, lr: Any, wd: Any) -> Any:
        return x - lr * (grad + wd * x)

    def degenerate(x: Any, grad: Any, lr: Any, wd: Any) -> str | None:
        if wd * x == 0:
            return "the weight decay changes nothing (wd·x = 0)"
        return "x does not move: the decayed gradient is 0" if grad + wd * x == 0 else None

    def steps(x: Any, grad: Any, lr: Any, wd: Any) -> list[Chain]:
        env = {"x": x, "grad": grad, "lr": lr, "wd": wd, "gw": grad + wd * x}
        decayed, step = "grad + wd * x", "x - lr * gw"
        return [
            Chain("g'_t", (sym(decayed, env, **WD_NAMES), sub(decayed, env), RESULT), name="gw"),
            Chain("x_{t+1}", (sym(step, env, **WD_NAMES), sub(step, env), RESULT)),
        ]

    def mistakes(x: Any, grad: Any, lr: Any, wd: Any) -> dict[str, Any]:
        return {
            "the weight decay is forgotten: $x_t - \\eta g_t$": x - lr * grad,
            "the decay is subtracted without the learning rate: $x_t - \\eta g_t - \\lambda x_t$": x
            - lr * grad
            - wd * x,
            "the decay's sign is flipped: $x_t - \\eta (g_t - \\lambda x_t)$": x - lr * (grad - wd * x),
        }


RMSPROP_NAMES = {
    "rho": "\\rho",
    "s": "s_{t-1}",
    "st": "s_t",
    "grad": "g_t",
    "x": "x_{t-1}",
    "lr": "\\eta",
    "eps": "\\epsilon",
    "r": "\\sqrt{s_t}",
}


def rmsprop(x: Any, grad: Any, s: Any, lr: Any, rho: Any, eps: Any, square: bool = True) -> dict[str, Any]:
    """One RMSprop step: the running average of squared gradients, then the step it scales."""
    st = rho * s + (1 - rho) * (grad * grad if square else grad)
    return {"s": st, "x": x - lr * div(grad, sqrt(st) + eps) if st >= 0 else None}


class rmsprop_step:
    """one RMSprop step (PyTorch's form): s = rho s + (1 - rho) grad², x - lr grad / (sqrt(s) + eps)"""

    CONVENTION = (
        "PyTorch RMSprop (its alpha is rho here, default 0.99; no momentum, not centered): "
        "epsilon is added after the square root."
    )
    PARTS = ("s", "x")
    PARAMS = {
        "x": Number("current value x_{t-1}", draw="-2..2 step 0.5"),
        "grad": Number("gradient g_t", draw=[-2, -1, -0.5, 0.5, 1, 2]),
        "s": Number(
            "running average of squared gradients before the step", low=0, default=0, draw=[0, 0.01, 0.04, 0.25, 1]
        ),
        "lr": Number("learning rate", low=0, default=Fraction(1, 100), draw=[0.01, 0.1]),
        "rho": Number(
            "decay of the average (PyTorch's alpha)", low=0, high=1, default=Fraction(99, 100), draw=[0.9, 0.99]
        ),
        "eps": Number("epsilon", low=0, default=Fraction(1, 10**8)),
    }

    def solve(x: Any, grad: Any, s: Any, lr: Any, rho: Any, eps: Any) -> dict[str, Any]:
        return rmsprop(x, grad, s, lr, rho, eps)

    def valid(x: Any, grad: Any, s: Any, lr: Any, rho: Any, eps: Any) -> bool:
        empty = eps == 0 and rho * s + (1 - rho) * grad * grad == 0
        return refuse("eps = 0 with s = 0 after the step divides by zero" if empty else None)

    def degenerate(x: Any, grad: Any, s: Any, lr: Any, rho: Any, eps: Any) -> str | None:
        return "the gradient is 0: x does not move" if grad == 0 else None

    def steps(x: Any, grad: Any, s: Any, lr: Any, rho: Any, eps: Any) -> list[Chain]:
        env = {"x": x, "grad": grad, "s": s, "lr": lr, "rho": rho, "eps": eps}
        env["st"] = rmsprop(**env)["s"]
        env["r"] = sqrt(env["st"])
        average, step = "rho * s + (1 - rho) * grad**2", "x - lr * grad / (r + eps)"
        return [
            Chain("s_t", (sym(average, env, **RMSPROP_NAMES), sub(average, env), RESULT), part="s"),
            Chain("\\sqrt{s_t}", (sub("sqrt(st)", env), RESULT), name="r"),
            Chain("x_t", (sym(step, env, **RMSPROP_NAMES), BREAK, sub(step, env), RESULT), part="x"),
        ]

    def mistakes(x: Any, grad: Any, s: Any, lr: Any, rho: Any, eps: Any) -> dict[str, Any]:
        right = rmsprop(x, grad, s, lr, rho, eps)
        linear = rmsprop(x, grad, s, lr, rho, eps, square=False)
        swapped = rmsprop(x, grad, s, lr, 1 - rho, eps)
        found: dict[str, Any] = {
            "the square root is forgotten: $x - \\eta\\, g_t / (s_t + \\epsilon)$": (
                {"x": x - lr * div(grad, right["s"] + eps)} if right["s"] + eps > 0 else None
            ),
            "the gradient is averaged, not its square: $s_t = \\rho s_{t-1} + (1 - \\rho) g_t$": (
                {part: value for part, value in linear.items() if value is not None} if grad not in (0, 1) else None
            ),
            "$\\rho$ and $1 - \\rho$ are swapped: $s_t = (1 - \\rho) s_{t-1} + \\rho g_t^2$": (
                swapped if swapped["s"] + eps > 0 else None
            ),
        }
        return found
