"""Issue 19's optimizer, schedule, normalization and attention families against references written
here by hand (textbook formulas in plain floats and loops, never the solver's code), over many drawn
instances; and, where torch is installed, against PyTorch itself (the conventions the families follow).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

from ankismith import solver

COUNT = 120  # drawn instances per family and setting


def drawn(name: str, params: dict[str, Any] | None = None, count: int = COUNT) -> list[solver.Instance]:
    """`count` instances of a family, drawn by its own default draws (and `params` over them)."""
    spec: dict[str, Any] = {"problem": name} | ({"params": params} if params else {})
    # in cards of 25 (a card's formulas have a time budget, and the machines are shared)
    instances = [
        instance
        for start in range(0, count, 25)
        for instance in solver.instantiate(spec, 19 + start, name, min(25, count - start))
    ]
    assert len(instances) == count
    return instances


def close(a: Any, b: Any) -> bool:
    """Equal to float rounding: numbers, vectors and matrices (a part's answer)."""
    left, right = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return left.shape == right.shape and bool(np.allclose(left, right, rtol=1e-9, atol=1e-12))


def floats(values: dict[str, Any]) -> dict[str, Any]:
    """The params as floats (lists and matrices as nested lists of floats)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, np.ndarray):
            out[key] = [[float(v) for v in row] for row in value.tolist()]
        elif isinstance(value, list):
            out[key] = [float(v) for v in value]
        elif isinstance(value, str):
            out[key] = value
        elif value is not None:
            out[key] = float(value)
    return out


# --- the references, by hand -------------------------------------------------------------------


def sgd_weight_decay(p: dict[str, Any]) -> float:
    """L2 regularization: the loss gains wd/2 · x², so its gradient gains wd · x."""
    gradient = p["grad"] + p["wd"] * p["x"]
    return p["x"] - p["lr"] * gradient


def rmsprop(p: dict[str, Any]) -> dict[str, float]:
    """Tieleman and Hinton's RMSprop, epsilon after the root (as PyTorch)."""
    average = p["rho"] * p["s"] + (1 - p["rho"]) * p["grad"] ** 2
    return {"s": average, "x": p["x"] - p["lr"] * p["grad"] / (math.sqrt(average) + p["eps"])}


def batchnorm(p: dict[str, Any]) -> dict[str, Any]:
    """Ioffe and Szegedy's batch norm in training: the mini-batch mean and (biased) variance."""
    x = p["x"]
    mean = sum(x) / len(x)
    var = sum((v - mean) ** 2 for v in x) / len(x)
    return {"mean": mean, "var": var, "y": [p["gamma"] * (v - mean) / math.sqrt(var + p["eps"]) + p["beta"] for v in x]}


def dropout(p: dict[str, Any]) -> float:
    """Inverted dropout keeps an activation with probability 1 - p and divides it by that."""
    keep = 1 - p["p"]
    return p["a"] / keep


def attention(p: dict[str, Any]) -> dict[str, Any]:
    """Vaswani et al.'s scores q_i · k_j / sqrt(d_k) (or not scaled), softmax over each query's keys."""
    q, k = p["Q"], p["K"]
    divisor = math.sqrt(len(q[0])) if p["scaled"] == "true" else 1
    scores = [
        [sum(q[i][t] * k[j][t] for t in range(len(q[0]))) / divisor for j in range(len(k))] for i in range(len(q))
    ]
    weights = []
    for row in scores:
        exps = [math.exp(v) for v in row]
        weights.append([e / sum(exps) for e in exps])
    return {"scores": scores, "weights": weights}


def schedule(p: dict[str, Any]) -> float:
    """The rate after `epoch` scheduler steps, by the textbook formulas (epochs from 0)."""
    e = p["epoch"]
    if p["schedule"] == "step":
        decays = 0
        for done in range(1, int(e) + 1):  # one decay at each multiple of step_size
            decays += done % p["step_size"] == 0
        return p["lr0"] * p["gamma"] ** decays
    if p["schedule"] == "cosine":
        return p["eta_min"] + (p["lr0"] - p["eta_min"]) * (1 + math.cos(math.pi * e / p["T_max"])) / 2
    return p["lr0"] * (p["start_factor"] + (1 - p["start_factor"]) * min(e, p["warmup"]) / p["warmup"])


# --- against the references --------------------------------------------------------------------


@pytest.mark.parametrize(
    "params", [None, {"x": "-10..10 step 0.01", "grad": "-5..5 step 0.01", "wd": "0..1 step 0.001"}]
)
def test_sgd_weight_decay_is_sgd_on_the_l2_regularized_loss(params: dict[str, Any] | None) -> None:
    for instance in drawn("sgd_weight_decay", params):
        assert close(instance.answer, sgd_weight_decay(floats(instance.params))), instance.params


@pytest.mark.parametrize(
    "params", [None, {"grad": "-5..5 step 0.01", "s": "0..3 step 0.001", "rho": "0.5..0.999 step 0.001"}]
)
def test_rmsprop_step_is_the_textbook_update(params: dict[str, Any] | None) -> None:
    for instance in drawn("rmsprop_step", params):
        expected = rmsprop(floats(instance.params))
        assert set(instance.answer) == {"s", "x"}
        for part in ("s", "x"):
            assert close(instance.answer[part], expected[part]), (part, instance.params)


@pytest.mark.parametrize(
    "params",
    [
        None,
        {
            "x": {"one_of": [["-9..9 step 0.1"] * 2, ["-9..9 step 0.1"] * 7]},
            "eps": "0..1 step 0.01",
            "gamma": "-2..2 step 0.1",
        },
    ],
)
def test_batchnorm_forward_is_the_paper_s_training_pass(params: dict[str, Any] | None) -> None:
    for instance in drawn("batchnorm_forward", params):
        expected = batchnorm(floats(instance.params))
        for part in ("mean", "var", "y"):
            assert close(instance.answer[part], expected[part]), (part, instance.params)


@pytest.mark.parametrize("params", [None, {"a": "-5..5 step 0.01", "p": "0..0.99 step 0.01"}])
def test_dropout_scale_keeps_the_expected_activation(params: dict[str, Any] | None) -> None:
    for instance in drawn("dropout_scale", params, COUNT if params else 40):  # the default draws have 48 pairs
        assert close(instance.answer, dropout(floats(instance.params))), instance.params


ATTENTION_WIDE = {
    "Q": {"shape": [3, 2], "values": "-3..3 step 0.5"},
    "K": {"shape": [4, 2], "values": "-3..3 step 0.5"},
    "scaled": [True, False],
}


@pytest.mark.parametrize("params", [None, ATTENTION_WIDE])
def test_attention_scores_are_scaled_dot_products_softmaxed_by_row(params: dict[str, Any] | None) -> None:
    for instance in drawn("attention_scores", params):
        expected = attention(floats(instance.params))
        for part in ("scores", "weights"):
            assert close(instance.answer[part], expected[part]), (part, instance.params)


SCHEDULES_WIDE = {
    "lr0": "0.01..2 step 0.01",
    "epoch": "0..40",
    "step_size": "1..9",
    "gamma": "0.05..0.95 step 0.05",
    "T_max": "1..30",
    "eta_min": "0..0.01 step 0.001",
    "warmup": "1..12",
    "start_factor": "0.05..1 step 0.05",
}


@pytest.mark.parametrize("name", ["step", "cosine", "linear_warmup"])
@pytest.mark.parametrize("params", [None, SCHEDULES_WIDE])
def test_lr_schedule_is_the_textbook_schedule(name: str, params: dict[str, Any] | None) -> None:
    for instance in drawn("lr_schedule", (params or {}) | {"schedule": name}, COUNT if params else 30):
        assert close(instance.answer, schedule(floats(instance.params))), instance.params


def test_a_mistake_of_one_part_is_offered_on_that_part_only() -> None:
    # a mistake gives the parts it affects: the forgotten root changes x, not s (the solver once
    # refused a mistake that did not name every part)
    (instance,) = solver.instantiate({"problem": "rmsprop_step", "given": {"x": 1, "grad": 2}}, 0, "k", 0)
    by_part = {part.name: {m.label for m in part.mistakes} for part in instance.parts}
    root = next(label for label in by_part["x"] if "square root" in label)
    assert root not in by_part["s"]


# --- against PyTorch ---------------------------------------------------------------------------


def test_sgd_weight_decay_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for instance in drawn("sgd_weight_decay", count=100):
        p = floats(instance.params)
        x = torch.tensor([p["x"]], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.SGD([x], lr=p["lr"], weight_decay=p["wd"])
        x.grad = torch.tensor([p["grad"]], dtype=torch.float64)
        optimizer.step()
        assert close(instance.answer, x.item()), instance.params


def test_rmsprop_step_matches_torch() -> None:
    torch = pytest.importorskip("torch")
    for instance in drawn("rmsprop_step", count=100):
        p = floats(instance.params)
        x = torch.tensor([p["x"]], dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.RMSprop([x], lr=p["lr"], alpha=p["rho"], eps=p["eps"])
        x.grad = torch.tensor([p["grad"]], dtype=torch.float64)
        optimizer.step()  # the first step makes the state; then set its average to s and step again
        with torch.no_grad():
            x.copy_(torch.tensor([p["x"]], dtype=torch.float64))
        optimizer.state[x]["square_avg"].fill_(p["s"])
        optimizer.step()
        assert close(instance.answer["x"], x.item()), instance.params
        assert close(instance.answer["s"], optimizer.state[x]["square_avg"].item()), instance.params


def test_batchnorm_forward_matches_torch_in_training_mode() -> None:
    torch = pytest.importorskip("torch")
    for instance in drawn("batchnorm_forward", count=100):
        p = floats(instance.params)
        layer = torch.nn.BatchNorm1d(1, eps=p["eps"], dtype=torch.float64)
        layer.train()
        with torch.no_grad():
            layer.weight.fill_(p["gamma"])
            layer.bias.fill_(p["beta"])
            y = layer(torch.tensor(p["x"], dtype=torch.float64).reshape(-1, 1)).reshape(-1)
        assert close(instance.answer["y"], y.tolist()), instance.params


def test_dropout_scale_matches_the_values_torch_keeps() -> None:
    torch = pytest.importorskip("torch")
    for seed, instance in enumerate(drawn("dropout_scale", {"a": "-5..5 step 0.01", "p": "0..0.99 step 0.01"}, 100)):
        p = floats(instance.params)
        torch.manual_seed(seed)
        out = torch.nn.functional.dropout(torch.full((2000,), p["a"], dtype=torch.float64), p=p["p"], training=True)
        kept = out[out != 0]
        assert 0 < len(kept) < 2000 or p["p"] == 0, instance.params
        assert all(close(instance.answer, v) for v in kept.tolist()), instance.params


@pytest.mark.parametrize("params", [None, ATTENTION_WIDE])
def test_attention_scores_match_torch(params: dict[str, Any] | None) -> None:
    torch = pytest.importorskip("torch")
    for instance in drawn("attention_scores", params, 100):
        p = floats(instance.params)
        q, k = torch.tensor(p["Q"], dtype=torch.float64), torch.tensor(p["K"], dtype=torch.float64)
        scores = q @ k.T / (math.sqrt(q.shape[1]) if p["scaled"] == "true" else 1)
        assert close(instance.answer["scores"], scores.tolist()), instance.params
        assert close(instance.answer["weights"], torch.softmax(scores, dim=-1).tolist()), instance.params


@pytest.mark.parametrize("name", ["step", "cosine", "linear_warmup"])
def test_lr_schedule_matches_torch_schedulers_stepped_epoch_times(name: str) -> None:
    torch = pytest.importorskip("torch")
    for instance in drawn("lr_schedule", SCHEDULES_WIDE | {"schedule": name}, 100):
        p = floats(instance.params)
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=p["lr0"])
        if name == "step":
            scheduler: Any = torch.optim.lr_scheduler.StepLR(optimizer, int(p["step_size"]), gamma=p["gamma"])
        elif name == "cosine":
            scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, int(p["T_max"]), eta_min=p["eta_min"])
        else:
            scheduler = torch.optim.lr_scheduler.LinearLR(
                optimizer, start_factor=p["start_factor"], total_iters=int(p["warmup"])
            )
        for _ in range(int(p["epoch"])):
            optimizer.step()
            scheduler.step()
        got = optimizer.param_groups[0]["lr"]
        assert math.isclose(float(instance.answer), got, rel_tol=1e-9, abs_tol=1e-12), (instance.params, got)
