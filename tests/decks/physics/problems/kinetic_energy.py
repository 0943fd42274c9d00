"""Kinetic energy of a moving mass: E = m v² / 2."""

PARAMS = {"m": "1..20", "v": "1..12"}


def solve(m, v):
    return m * v**2 / 2


def steps(m, v):
    return [
        r"E_k = \frac{1}{2} m v^2",
        rf"= \frac{{1}}{{2}} \cdot {m} \cdot {v}^2 = {m * v**2 / 2:g}",
    ]


def mistakes(m, v):
    return {
        "the square of $v$ is forgotten: $\\frac{1}{2} m v$": m * v / 2,
        "the $\\frac{1}{2}$ is forgotten: $m v^2$": m * v**2,
    }


def verify(m, v):
    return sum(m * v * v for _ in range(1)) / 2
