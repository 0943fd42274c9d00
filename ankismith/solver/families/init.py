"""Weight initialization: the bounds and standard deviations of Xavier (Glorot) and He (Kaiming)."""

from __future__ import annotations

from typing import Any

from ankismith.solver.kit import BREAK, RESULT, Chain, Int, Option, div, sqrt, sub, sym

SCHEMES = ("xavier_uniform", "xavier_normal", "he_uniform", "he_normal")
INIT_NAMES = {"fan_in": "n_{in}", "fan_out": "n_{out}"}
FORMULAS = {  # PyTorch's nn.init, written as the bound (uniform) or the std (normal)
    "xavier_uniform": "sqrt(6 / (fan_in + fan_out))",  # gain 1 * sqrt(3) * sqrt(2 / (fan_in + fan_out))
    "xavier_normal": "sqrt(2 / (fan_in + fan_out))",
    "he_uniform": "sqrt(6 / fan_in)",  # gain sqrt(2) * sqrt(3 / fan_in)
    "he_normal": "sqrt(2 / fan_in)",
}


def init_value(scheme: str, fan_in: int, fan_out: int) -> Any:
    """The bound a (uniform: U(-a, a)) or the std (normal: N(0, std²)) of a scheme."""
    fans = fan_in + fan_out if scheme.startswith("xavier") else fan_in
    top = 6 if scheme.endswith("uniform") else 2
    return sqrt(div(top, fans))


class init_scale:
    """bound (uniform) or standard deviation (normal) of Xavier or He initialization"""

    CONVENTION = (
        "PyTorch nn.init: Xavier (Glorot) with gain 1 uses fan_in + fan_out; He is kaiming_ with a = 0 "
        "(ReLU gain √2) and mode fan_in. Uniform schemes give the bound a of U(−a, a) = √3 × the std."
    )
    PARAMS = {
        "fan_in": Int("fan in (inputs of a unit)", low=1, high=10**6, draw=[50, 64, 100, 128, 150, 200, 256, 300, 512]),
        "fan_out": Int("fan out (units of the layer)", low=1, high=10**6, draw=[10, 32, 50, 64, 100, 128, 256]),
        "scheme": Option(*SCHEMES, doc="initialization", default="he_normal", draw=list(SCHEMES)),
    }

    def solve(fan_in: int, fan_out: int, scheme: str) -> Any:
        return init_value(scheme, fan_in, fan_out)

    def steps(fan_in: int, fan_out: int, scheme: str) -> list[Chain]:
        env = {"fan_in": fan_in, "fan_out": fan_out}
        formula = FORMULAS[scheme]
        label = "a" if scheme.endswith("uniform") else "\\sigma"
        fans = fan_in + fan_out if scheme.startswith("xavier") else fan_in
        quotient = {"t": 6 if scheme.endswith("uniform") else 2, "n": fans}
        added = (sub("sqrt(t / n)", quotient),) if scheme.startswith("xavier") else ()  # the fans added up
        terms = (sym(formula, env, **INIT_NAMES), BREAK, sub(formula, env), *added, BREAK, RESULT)
        return [Chain(label, terms)]

    def mistakes(fan_in: int, fan_out: int, scheme: str) -> dict[str, Any]:
        uniform, he = scheme.endswith("uniform"), scheme.startswith("he")
        fans = fan_in if he else fan_in + fan_out
        found: dict[str, Any] = {}
        if uniform:
            found["the std is given, not the bound: the bound of $U(-a, a)$ is $\\sqrt{3}$ times the std"] = sqrt(
                div(2, fans)
            )
        else:
            found["the uniform bound is given, not the std: it is $\\sqrt{3}$ times too large"] = sqrt(div(6, fans))
        if he:
            found["fan_out is used, not fan_in (PyTorch's default mode is fan_in)"] = (
                sqrt(div(6 if uniform else 2, fan_out)) if fan_out != fan_in else None
            )
            found["the ReLU gain $\\sqrt{2}$ is forgotten: LeCun's scale, std $\\sqrt{1/n_{in}}$"] = sqrt(
                div(3 if uniform else 1, fan_in)
            )
        else:
            found["He's ReLU gain $\\sqrt{2}$ is applied to Xavier (PyTorch's Xavier has gain 1)"] = sqrt(
                div(12 if uniform else 4, fans)
            )
            found[
                "only fan_in is used, as He does: $\\mathrm{Var} = 1/n_{in}$ (LeCun's), not $2/(n_{in} + n_{out})$"
            ] = sqrt(div(3 if uniform else 1, fan_in))
        return found
