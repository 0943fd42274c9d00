"""Every solver family against an independent computation: explicit loops, closed forms, the exam."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ankismith.solver import builtin
from ankismith.solver.family import InvalidParams


def floats(low: float, high: float) -> st.SearchStrategy[float]:
    """Numbers a card accepts: at most 100 decimals (a float's 17 digits from 10^-83 up), or 0."""
    return st.floats(low, high).filter(lambda v: v == 0 or abs(v) >= 1e-83)


def solve(name: str, **params: object) -> object:
    family = builtin()[name]
    values = family.complete(params)
    family.check(values)
    return family.call("solve", values)


# --- the exam's own answers ------------------------------------------------------------------


def test_exam_answers() -> None:
    assert solve("dense_params", layers=[99, 7, 2]) == 716
    assert solve("conv_output_size", W=7, F=3, P=2, S=2) == 5
    assert solve("same_padding", W=7, F=5, S=1) == 2
    conv = solve("conv2d", I=[[1, 2, -1], [0, 3, 5], [2, 1, 4], [3, 0, -2]], K=[[-0.5, 1], [1.5, 0]])
    assert np.array_equal(conv, [[1.5, 2.5], [6.0, 5.0], [4.5, 3.5]])
    lenet = [
        {"type": "conv", "out": 6, "kernel": 5},
        {"type": "pool", "kernel": 2},
        {"type": "conv", "out": 16, "kernel": 5},
        {"type": "pool", "kernel": 2},
        {"type": "conv", "out": 120, "kernel": 5},
        {"type": "fc", "out": 84},
        {"type": "fc", "out": 10},
    ]
    assert solve("cnn_params", input=[1, 32, 32], layers=lenet) == 61_706
    assert solve("gd_step", x=3, lr=0.1, grad=1) == pytest.approx(2.9)


# --- independent reference implementations ---------------------------------------------------


def ref_conv2d(image: list[list[float]], kernel: list[list[float]], stride: int, pad: int) -> list[list[float]]:
    rows, cols = len(image), len(image[0])
    padded = [[0.0] * (cols + 2 * pad) for _ in range(rows + 2 * pad)]
    for i in range(rows):
        for j in range(cols):
            padded[i + pad][j + pad] = image[i][j]
    kr, kc = len(kernel), len(kernel[0])
    out = []
    for i in range(0, len(padded) - kr + 1, stride):
        row = []
        for j in range(0, len(padded[0]) - kc + 1, stride):
            total = 0.0
            for u in range(kr):
                for v in range(kc):
                    total += padded[i + u][j + v] * kernel[u][v]
            row.append(total)
        out.append(row)
    return out


def ref_pool(image: list[list[float]], k: int, s: int, mode: str) -> list[list[float]]:
    out = []
    for i in range(0, len(image) - k + 1, s):
        row = []
        for j in range(0, len(image[0]) - k + 1, s):
            window = [image[i + u][j + v] for u in range(k) for v in range(k)]
            row.append(max(window) if mode == "max" else sum(window) / len(window))
        out.append(row)
    return out


matrices = st.integers(2, 6).flatmap(
    lambda r: st.integers(2, 6).flatmap(
        lambda c: st.lists(st.lists(st.integers(-9, 9), min_size=c, max_size=c), min_size=r, max_size=r)
    )
)


@settings(max_examples=60, deadline=None)
@given(
    image=matrices,
    k=st.integers(1, 3),
    kc=st.integers(1, 3),
    s=st.integers(1, 2),
    p=st.integers(0, 1),
    scale=st.sampled_from([1, 0.5]),
)
def test_conv2d_matches_loops(image: list[list[int]], k: int, kc: int, s: int, p: int, scale: float) -> None:
    kernel = [[(u - v) * scale for v in range(kc)] for u in range(k)]
    try:
        result = solve("conv2d", I=image, K=kernel, S=s, P=p)
    except InvalidParams:
        # an empty output, or padding that gives outputs which see only padding
        assert len(image) + 2 * p < k or len(image[0]) + 2 * p < kc or p >= min(k, kc)
        return
    assert np.allclose(result, ref_conv2d(image, kernel, s, p))


@settings(max_examples=60, deadline=None)
@given(image=matrices, k=st.integers(1, 3), s=st.integers(1, 3), mode=st.sampled_from(["max", "avg"]))
def test_pool2d_matches_loops(image: list[list[int]], k: int, s: int, mode: str) -> None:
    if k > min(len(image), len(image[0])):
        with pytest.raises(InvalidParams):
            solve("pool2d", I=image, kernel=k, stride=s, mode=mode)
        return
    assert np.allclose(solve("pool2d", I=image, kernel=k, stride=s, mode=mode), ref_pool(image, k, s, mode))


@settings(max_examples=100, deadline=None)
@given(layers=st.lists(st.integers(1, 500), min_size=2, max_size=6))
def test_dense_params_matches_loop(layers: list[int]) -> None:
    total = 0
    for fan_in, fan_out in itertools.pairwise(layers):
        total += fan_in * fan_out + fan_out
    assert solve("dense_params", layers=layers) == total


@settings(max_examples=200, deadline=None)
@given(w=st.integers(1, 64), f=st.integers(1, 9), p=st.integers(0, 4), s=st.integers(1, 4), d=st.integers(1, 3))
def test_conv_output_size_counts_window_positions(w: int, f: int, p: int, s: int, d: int) -> None:
    span = d * (f - 1) + 1
    positions = len(range(0, w + 2 * p - span + 1, s))  # where the dilated filter fits, stepping by s
    try:
        result = solve("conv_output_size", W=w, F=f, P=p, S=s, D=d)
    except InvalidParams:
        assert positions == 0 or p >= span
        return
    assert result == positions


@settings(max_examples=200, deadline=None)
@given(w=st.integers(1, 64), f=st.integers(1, 9), s=st.integers(1, 3))
def test_same_padding_keeps_the_size(w: int, f: int, s: int) -> None:
    try:
        p = solve("same_padding", W=w, F=f, S=s)
    except InvalidParams:
        assert all((w + 2 * q - f) // s + 1 != w or (w + 2 * q - f) % s for q in range(0, f))
        return
    assert (w + 2 * p - f) % s == 0 and (w + 2 * p - f) // s + 1 == w


def test_same_padding_rejects_odd_and_degenerate() -> None:
    with pytest.raises(InvalidParams, match="odd"):
        solve("same_padding", W=7, F=4, S=1)
    with pytest.raises(InvalidParams, match="not below the filter's span"):
        solve("same_padding", W=15, F=5, S=2)  # P = 9: edge outputs would see only padding


def test_cnn_params_by_hand() -> None:
    layers = [
        {"type": "conv", "out": 8, "kernel": 3, "padding": 1},
        {"type": "pool", "kernel": 2},
        {"type": "fc", "out": 10},
    ]
    # conv: 8*(3*3*3)+8 = 224; after pool 8x16x16 = 2048 features; fc: 2048*10+10 = 20490
    assert solve("cnn_params", input=[3, 32, 32], layers=layers) == 224 + 20_490
    with pytest.raises(InvalidParams, match="empty feature map"):
        solve("cnn_params", input=[1, 4, 4], layers=[{"type": "conv", "out": 2, "kernel": 5}])
    with pytest.raises(InvalidParams, match="type must be conv, pool or fc"):
        solve("cnn_params", input=[1, 4, 4], layers=[{"type": "dense", "out": 2}])


@settings(max_examples=100, deadline=None)
@given(x=floats(-10, 10), v=floats(-2, 2), g=floats(-5, 5), lr=floats(0, 1), beta=floats(0, 0.99))
def test_momentum_step(x: float, v: float, g: float, lr: float, beta: float) -> None:
    expected = x - lr * (beta * v + g)
    assert solve("momentum_step", x=x, v=v, grad=g, lr=lr, beta=beta) == pytest.approx(expected)


@settings(max_examples=100, deadline=None)
@given(x=floats(-10, 10), g=floats(-5, 5).filter(lambda g: abs(g) > 1e-3), lr=floats(1e-4, 1))
def test_adam_first_step_moves_by_lr(x: float, g: float, lr: float) -> None:
    # with m = v = 0 and bias correction, the first step is lr * g / (|g| + eps) ~ lr * sign(g)
    result = solve("adam_step", x=x, grad=g, lr=lr)
    assert result == pytest.approx(x - lr * g / (abs(g) + 1e-8))


def test_adam_matches_a_hand_loop() -> None:
    x, m, v, b1, b2, lr, eps = 1.0, 0.0, 0.0, 0.9, 0.999, 0.1, 1e-8
    grads = [0.5, -0.2, 0.3]
    for t, g in enumerate(grads, start=1):
        expected_params = {"x": x, "grad": g, "lr": lr, "m": m, "v": v, "t": t}
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x_next = x - lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
        assert solve("adam_step", **expected_params) == pytest.approx(x_next)
        x = x_next


@settings(max_examples=100, deadline=None)
@given(z=st.lists(floats(-20, 20), min_size=2, max_size=6), data=st.data())
def test_softmax_cross_entropy(z: list[float], data: st.DataObject) -> None:
    y = data.draw(st.integers(0, len(z) - 1))
    expected = -z[y] + math.log(sum(math.exp(v) for v in z))
    assert solve("softmax_cross_entropy", z=z, y=y) == pytest.approx(expected, rel=1e-9, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(x=floats(-20, 20))
def test_activation_grads_by_finite_differences(x: float) -> None:
    h = 1e-6
    sigmoid = lambda t: 1 / (1 + math.exp(-t))  # noqa: E731
    assert solve("activation_grad", x=x, fn="sigmoid") == pytest.approx(
        (sigmoid(x + h) - sigmoid(x - h)) / (2 * h), abs=1e-6
    )
    assert solve("activation_grad", x=x, fn="tanh") == pytest.approx(
        (math.tanh(x + h) - math.tanh(x - h)) / (2 * h), abs=1e-6
    )
    assert solve("activation_grad", x=x, fn="relu") == (1.0 if x > 0 else 0.0)


def test_receptive_field_by_expanding_an_output_unit() -> None:
    def by_hand(kernels: list[int], strides: list[int]) -> int:
        lo, hi = 0, 0  # input interval seen by one unit, propagated from the last layer down
        for k, s in reversed(list(zip(kernels, strides, strict=True))):
            lo, hi = lo * s, hi * s + k - 1
        return hi - lo + 1

    for kernels, strides in [([3, 3, 3], [1, 1, 1]), ([5, 2, 3], [2, 2, 1]), ([7, 3, 3, 3], [2, 2, 2, 2])]:
        assert solve("receptive_field", kernels=kernels, strides=strides) == by_hand(kernels, strides)
    assert solve("receptive_field", kernels=[3, 3, 3], strides=[1, 1, 1]) == 7


def test_conv_macs_by_loop() -> None:
    h, c_in, c_out, f, s, p = 8, 3, 4, 3, 2, 1
    out = (h + 2 * p - f) // s + 1
    macs = sum(1 for _ in range(out * out) for _ in range(c_out) for _ in range(c_in * f * f))
    assert solve("conv_macs", H=h, C_in=c_in, C_out=c_out, F=f, S=s, P=p) == macs


def test_lstm_params_as_pytorch() -> None:
    # torch.nn.LSTM(10, 20): weight_ih 80x10, weight_hh 80x20, bias_ih 80, bias_hh 80
    assert solve("lstm_params", input=10, hidden=20) == 80 * 10 + 80 * 20 + 80 + 80


def test_maxpool_backward_routes_to_the_argmax() -> None:
    image = [[1, 3, 2, 4], [5, 6, 1, 0], [7, 2, 9, 8], [3, 4, 1, 2]]
    grad = [[1, 2], [3, 4]]
    expected = np.zeros((4, 4))
    for i in range(2):
        for j in range(2):
            window = [(image[2 * i + u][2 * j + v], 2 * i + u, 2 * j + v) for u in range(2) for v in range(2)]
            _, r, c = max(window, key=lambda t: t[0])
            expected[r, c] += grad[i][j]
    assert np.array_equal(solve("maxpool_backward", I=image, G=grad), expected)
    with pytest.raises(InvalidParams, match="shape"):
        solve("maxpool_backward", I=image, G=[[1, 2, 3]])


def test_params_are_checked() -> None:
    with pytest.raises(InvalidParams, match="needs param F"):
        solve("conv_output_size", W=7)
    with pytest.raises(InvalidParams, match="unknown param 'Q'; the family's params are: W, F, P, S, D"):
        solve("conv_output_size", W=7, F=3, Q=1)
    with pytest.raises(InvalidParams, match="whole number"):
        solve("conv_output_size", W=7.5, F=3)
    with pytest.raises(InvalidParams, match="matrix"):
        solve("conv2d", I=[[1, 2], [3]], K=[[1]])


@pytest.mark.parametrize("name", sorted(builtin()))
def test_every_family_has_docs_and_defaults_that_validate(name: str) -> None:
    family = builtin()[name]
    assert family.summary and all(p.doc for p in family.params)
    for param in family.params:
        if param.required:
            continue
        if param.default is None:  # "none given": the family fills it in, and the doc must say how
            assert "default" in param.doc, f"{name}.{param.name}: a None default must be explained"
            continue
        # a default is a value the param itself accepts, unchanged, inside its own bounds and options
        assert param.coerce(param.default) == param.default, f"{name}.{param.name}"
