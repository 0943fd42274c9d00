"""Optimizer steps: gradient descent, momentum, Adam (PyTorch's forms)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from ankismith.solver import safe_eval
from ankismith.solver.family import Family, Param, Params
from ankismith.solver.kit import sub, sym
from ankismith.solver.steps import BREAK, RESULT, Chain

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
