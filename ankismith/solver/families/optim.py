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
