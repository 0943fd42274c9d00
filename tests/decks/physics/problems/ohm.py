"""Current through a resistor (Ohm's law)."""

PARAMS = {"U": [3, 6, 9, 12, 24], "R": "1..12"}


def solve(U, R):
    return U / R


def valid(U, R):
    return R != 0
