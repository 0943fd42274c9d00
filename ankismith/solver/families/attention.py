"""Attention: scaled dot-product scores and their row-wise softmax."""

from __future__ import annotations

from typing import Any

import numpy as np

from ankismith.solver.families.losses import softmax
from ankismith.solver.kit import (
    RESULT,
    VDOTS,
    Chain,
    Matrix,
    Option,
    Shown,
    as_array,
    div,
    entry_lines,
    refuse,
    sqrt,
    sub,
)


def _rows(rows: list[list[Any]]) -> np.ndarray:
    """A matrix of these values as they are (floats stay floats: a score over an irrational root)."""
    out = np.empty((len(rows), len(rows[0])), dtype=object)
    out[:, :] = rows
    return out


def scores(q: np.ndarray, k: np.ndarray, divisor: Any) -> np.ndarray:
    """Q Kᵀ, each entry divided by `divisor`: entry (i, j) is the dot product of row i of Q and row j of K."""
    return _rows(
        [[div(sum(a * b for a, b in zip(qi, kj, strict=True)), divisor) for kj in k.tolist()] for qi in q.tolist()]
    )


def row_softmax(s: np.ndarray) -> np.ndarray:
    """The softmax of each row, shifted by the row's largest entry (exact where the entries are equal)."""
    return _rows([softmax(row) for row in s.tolist()])


def _divisor(q: np.ndarray, scaled: str) -> Any:
    return sqrt(q.shape[1]) if scaled == "true" else 1


class attention_scores:
    """attention scores Q Kᵀ (divided by √d_k when scaled) and their softmax weights, row by row"""

    CONVENTION = (
        "Rows of Q are queries and rows of K keys (d_k columns each); each query's weights are the softmax "
        "of its row of scores, as torch.softmax(Q @ K.T / sqrt(d_k), dim=-1)."
    )
    FORMULAS = (VDOTS,)
    PARTS = ("scores", "weights")
    PARAMS = {
        "Q": Matrix("queries, one per row", low=-100, high=100, draw={"shape": [2, 4], "values": "-1..2"}),
        "K": Matrix("keys, one per row", low=-100, high=100, draw={"shape": [3, 4], "values": "-1..2"}),
        "scaled": Option("true", "false", doc="divide by sqrt(d_k)", default="true"),
    }

    def solve(Q: np.ndarray, K: np.ndarray, scaled: str) -> dict[str, Any]:
        s = scores(Q, K, _divisor(Q, scaled))
        return {"scores": s, "weights": row_softmax(s)}

    def valid(Q: np.ndarray, K: np.ndarray, scaled: str) -> bool:
        if Q.shape[1] != K.shape[1]:
            return refuse(f"queries and keys need the same width d_k: Q has {Q.shape[1]} columns, K {K.shape[1]}")
        return refuse("a single key gets all the weight: give K at least 2 rows" if K.shape[0] < 2 else None)

    def degenerate(Q: np.ndarray, K: np.ndarray, scaled: str) -> str | None:
        s = scores(Q, K, 1)
        return (
            "a query scores every key alike: its weights are uniform"
            if any(len(set(r)) == 1 for r in s.tolist())
            else None
        )

    def steps(Q: np.ndarray, K: np.ndarray, scaled: str) -> list[Chain]:
        d = Q.shape[1]
        found = attention_scores.solve(Q, K, scaled)
        s, w = found["scores"], found["weights"]

        def score_line(i: int, j: int) -> Chain:
            env = {f"q{t}": Q[i, t] for t in range(d)} | {f"k{t}": K[j, t] for t in range(d)}
            dot = " + ".join(f"q{t} * k{t}" for t in range(d))
            text = f"({dot}) / sqrt({d})" if scaled == "true" else dot
            return Chain(f"S({i + 1}, {j + 1})", (sub(text, env, written=True), RESULT), entry=(i, j), part="scores")

        def weight_line(i: int, j: int) -> Chain:
            env = {f"s{t}": s[i, t] for t in range(s.shape[1])}
            total = " + ".join(f"exp(s{t})" for t in range(s.shape[1]))
            return Chain(
                f"A({i + 1}, {j + 1})", (sub(f"exp(s{j}) / ({total})", env), RESULT), entry=(i, j), part="weights"
            )

        return [
            *entry_lines(*s.shape, score_line),
            Chain("S", (Shown(s),), part="scores"),
            *entry_lines(*w.shape, weight_line),
            Chain("A", (Shown(w),), part="weights"),
        ]

    def mistakes(Q: np.ndarray, K: np.ndarray, scaled: str) -> dict[str, Any]:
        d = Q.shape[1]

        def both(s: np.ndarray) -> dict[str, Any]:
            return {"scores": s, "weights": row_softmax(s)}

        found: dict[str, Any] = {}
        if scaled == "true":
            found["the scores are not divided by $\\sqrt{d_k}$: $QK^\\top$"] = both(scores(Q, K, 1))
            found["the scores are divided by $d_k$, not by $\\sqrt{d_k}$"] = both(scores(Q, K, d))
        else:
            found["the scores are divided by $\\sqrt{d_k}$, though this attention is not scaled"] = both(
                scores(Q, K, sqrt(d))
            )
        s = scores(Q, K, _divisor(Q, scaled))
        found["the softmax is taken down each column, not along each row (over the queries, not the keys)"] = {
            "weights": row_softmax(_rows(s.T.tolist())).T.copy()
        }
        if K.shape[0] == d:  # Q K has the shape of Q Kᵀ: K is square
            found["$K$ is not transposed: $QK$"] = both(scores(Q, as_array(K.T.tolist()), _divisor(Q, scaled)))
        return found
