"""Addressing: cosine similarity (eq. 6), content weighting (5), interpolation (7), shift (8), sharpening (9)."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.autograd import gradcheck

from ntm_course.addressing import (address, address_stages, content_addressing, cosine_similarity, interpolate,
                                   pipeline, sharpen, shift, shift_offsets)

F64 = torch.float64
sizes = st.tuples(st.integers(1, 3), st.integers(1, 8))                       # (B, N)


def floats_tensor(shape, lo=-10.0, hi=10.0):
    return arrays(np.float64, shape, elements=st.floats(lo, hi)).map(torch.from_numpy)


@st.composite
def distributions(draw, B, N):
    """``(B, N)`` rows that are non-negative and sum to 1; zeros and tiny entries included."""
    a = draw(arrays(np.float64, (B, N), elements=st.floats(0, 1)))
    a[a.sum(1) == 0] = 1.0
    return torch.from_numpy(a / a.sum(1, keepdims=True))


def assert_distribution(w):
    assert torch.isfinite(w).all()
    assert (w >= 0).all()
    torch.testing.assert_close(w.sum(1), torch.ones(w.shape[0], dtype=w.dtype))


def t(rows, dtype=F64):
    return torch.tensor(rows, dtype=dtype)


# ---------------------------------------------------------------- hand-computed cases

def test_cosine_similarity_hand_computed():
    memory = t([[[1, 0], [1, 1], [0, 2], [-3, 0]]])
    # [1,0].[1,0] = 1; [1,0].[1,1] / sqrt2 = 1/sqrt2; orthogonal = 0; opposite = -1 (length ignored)
    expected = t([[1, 1 / math.sqrt(2), 0, -1]])
    torch.testing.assert_close(cosine_similarity(memory, t([[1, 0]])), expected)
    torch.testing.assert_close(cosine_similarity(memory, t([[5, 0]])), expected)


def test_content_addressing_hand_computed():
    memory = t([[[1, 0], [0, 1], [-1, 0]]])
    # similarities (1, 0, -1); with beta = ln 2: exp = (2, 1, 1/2), total 7/2 -> (4/7, 2/7, 1/7)
    w = content_addressing(memory, t([[1, 0]]), t([[math.log(2)]]))
    torch.testing.assert_close(w, t([[4 / 7, 2 / 7, 1 / 7]]))


def test_content_addressing_small_beta_blurs_large_beta_focuses():
    memory = t([[[1, 0], [0, 1]]])
    # similarities (1, 0); beta = ln 3 -> (3, 1) / 4; beta -> 0 -> uniform
    torch.testing.assert_close(content_addressing(memory, t([[1, 0]]), t([[math.log(3)]])), t([[0.75, 0.25]]))
    torch.testing.assert_close(content_addressing(memory, t([[1, 0]]), t([[1e-12]])), t([[0.5, 0.5]]))


def test_interpolate_hand_computed():
    # 0.25 (1, 0, 0) + 0.75 (0, 0.5, 0.5) = (0.25, 0.375, 0.375)
    w = interpolate(t([[1, 0, 0]]), t([[0, 0.5, 0.5]]), t([[0.25]]))
    torch.testing.assert_close(w, t([[0.25, 0.375, 0.375]]))


def test_shift_hand_computed_direction():
    w = t([[0.1, 0.2, 0.3, 0.4]])
    s = t([[0.0, 0.25, 0.75]])     # offsets (-1, 0, +1): 0.25 stays, 0.75 moves to the next row
    # out(i) = 0.25 w(i) + 0.75 w(i - 1): (0.025 + 0.3, 0.05 + 0.075, 0.075 + 0.15, 0.1 + 0.225)
    torch.testing.assert_close(shift(w, s), t([[0.325, 0.125, 0.225, 0.325]]))


def test_shift_one_hot_moves_focus_forward_and_back():
    w = t([[0, 1, 0, 0, 0]])
    torch.testing.assert_close(shift(w, t([[0, 0, 1]])), t([[0, 0, 1, 0, 0]]))     # +1: row 1 -> row 2
    torch.testing.assert_close(shift(w, t([[1, 0, 0]])), t([[1, 0, 0, 0, 0]]))     # -1: row 1 -> row 0
    torch.testing.assert_close(shift(t([[0, 0, 0, 0, 1]]), t([[0, 0, 1]])), t([[1, 0, 0, 0, 0]]))  # wraps


def test_sharpen_hand_computed():
    # (0.5, 0.25, 0.25)^2 = (1/4, 1/16, 1/16), total 3/8 -> (2/3, 1/6, 1/6)
    torch.testing.assert_close(sharpen(t([[0.5, 0.25, 0.25]]), t([[2.0]])), t([[2 / 3, 1 / 6, 1 / 6]]))


def test_address_pipeline_hand_computed():
    memory = t([[[1, 0], [0, 1], [-1, 0]]])
    w = address(memory, key=t([[1, 0]]), beta=t([[math.log(2)]]), g=t([[0.5]]), s=t([[0, 0, 1]]),
                gamma=t([[2.0]]), w_prev=t([[0, 0, 1]]))
    # content (4/7, 2/7, 1/7); gated with (0, 0, 1) at g = 1/2: (2/7, 1/7, 4/7); shifted +1: (4/7, 2/7, 1/7);
    # squared (16, 4, 1) / 49, normalised: (16, 4, 1) / 21
    torch.testing.assert_close(w, t([[16 / 21, 4 / 21, 1 / 21]]))


def test_address_stages_match_the_pipeline():
    memory, key = torch.randn(2, 5, 3, dtype=F64), torch.randn(2, 3, dtype=F64)
    beta, g, gamma = t([[2.0], [0.5]]), t([[0.3], [0.9]]), t([[1.5], [3.0]])
    s, w_prev = torch.softmax(torch.randn(2, 3, dtype=F64), 1), torch.softmax(torch.randn(2, 5, dtype=F64), 1)
    stages = address_stages(memory, key, beta, g, s, gamma, w_prev)
    torch.testing.assert_close(stages["content"], content_addressing(memory, key, beta))
    torch.testing.assert_close(stages["gated"], interpolate(stages["content"], w_prev, g))
    torch.testing.assert_close(stages["shifted"], shift(stages["gated"], s))
    torch.testing.assert_close(stages["sharpened"], address(memory, key, beta, g, s, gamma, w_prev))


def test_pipeline_runs_the_stages_it_is_given_in_order():
    calls = []

    def logged(fn):
        def stage(*args):
            calls.append(fn.__name__)
            return fn(*args)
        return stage
    stages = SimpleNamespace(**{fn.__name__: logged(fn) for fn in (content_addressing, interpolate, shift, sharpen)})
    memory, key = torch.randn(2, 5, 3, dtype=F64), torch.randn(2, 3, dtype=F64)
    args = (t([[2.0], [0.5]]), t([[0.3], [0.9]]), torch.softmax(torch.randn(2, 3, dtype=F64), 1), t([[1.5], [3.0]]),
            torch.softmax(torch.randn(2, 5, dtype=F64), 1))
    result = pipeline(stages, memory, key, *args)
    assert calls == ["content_addressing", "interpolate", "shift", "sharpen"]
    assert list(result) == ["content", "gated", "shifted", "sharpened"]
    for name, w in address_stages(memory, key, *args).items():
        torch.testing.assert_close(result[name], w)


def test_shift_offsets():
    assert shift_offsets(1) == [0]
    assert shift_offsets(3) == [-1, 0, 1]
    assert shift_offsets(5) == [-2, -1, 0, 1, 2]
    for K in (0, 2, -1):
        with pytest.raises(ValueError, match=f"K must be odd and positive, got K={K}"):
            shift_offsets(K)


# ---------------------------------------------------------------- properties

@given(sizes, st.integers(1, 4), st.data())
def test_cosine_similarity_in_range_and_ignores_length(size, M, data):
    (B, N) = size
    memory, key = data.draw(floats_tensor((B, N, M))), data.draw(floats_tensor((B, M)))
    sim = cosine_similarity(memory, key)
    assert sim.shape == (B, N)
    assert (sim.abs() <= 1 + 1e-12).all()
    scale = data.draw(st.floats(0.5, 4))
    clear = memory.norm(dim=2) * key.norm(dim=1, keepdim=True) * scale > 1e-6   # away from the eps floor
    torch.testing.assert_close(cosine_similarity(memory, key * scale)[clear], sim[clear])


@given(sizes, st.integers(1, 4), st.data())
def test_content_addressing_is_a_distribution(size, M, data):
    (B, N) = size
    beta = data.draw(floats_tensor((B, 1), 0.0, 1e3))
    assert_distribution(content_addressing(data.draw(floats_tensor((B, N, M))), data.draw(floats_tensor((B, M))),
                                           beta))


@given(sizes, st.data())
def test_interpolate_is_a_distribution_and_g_selects(size, data):
    (B, N) = size
    w_c, w_prev = data.draw(distributions(B, N)), data.draw(distributions(B, N))
    assert_distribution(interpolate(w_c, w_prev, data.draw(floats_tensor((B, 1), 0.0, 1.0))))
    torch.testing.assert_close(interpolate(w_c, w_prev, torch.ones(B, 1, dtype=F64)), w_c, rtol=0, atol=0)
    torch.testing.assert_close(interpolate(w_c, w_prev, torch.zeros(B, 1, dtype=F64)), w_prev, rtol=0, atol=0)


@given(sizes, st.integers(0, 4).map(lambda k: 2 * k + 1), st.data())
def test_shift_is_a_distribution(size, K, data):
    (B, N) = size
    assert_distribution(shift(data.draw(distributions(B, N)), data.draw(distributions(B, K))))


@given(sizes, st.sampled_from([1, 3, 5, 7, 9, 11, 17]), st.data())
def test_one_hot_shift_is_roll_in_the_documented_direction(size, K, data):
    """s one-hot on offset o gives torch.roll(w, o): focus moves from row i to i + o, also for K > N."""
    (B, N) = size
    w = data.draw(distributions(B, N))
    k = data.draw(st.integers(0, K - 1))
    s = torch.zeros(B, K, dtype=F64)
    s[:, k] = 1.0
    torch.testing.assert_close(shift(w, s), torch.roll(w, k - K // 2, dims=1))


@given(sizes, st.data())
def test_sharpen_is_a_distribution_and_gamma_one_is_identity(size, data):
    (B, N) = size
    w = data.draw(distributions(B, N))
    assert_distribution(sharpen(w, data.draw(floats_tensor((B, 1), 1.0, 100.0))))
    torch.testing.assert_close(sharpen(w, torch.ones(B, 1, dtype=F64)), w)


@given(sizes, st.data())
def test_sharpen_keeps_the_order_of_weights(size, data):
    (B, N) = size
    w = data.draw(distributions(B, N))
    out = sharpen(w, data.draw(floats_tensor((B, 1), 1.0, 10.0)))
    bigger = w.unsqueeze(2) > w.unsqueeze(1)
    assert (out.unsqueeze(2) >= out.unsqueeze(1))[bigger].all()


@given(sizes, st.integers(1, 4), st.sampled_from([1, 3, 5]), st.data())
def test_address_is_a_distribution(size, M, K, data):
    (B, N) = size
    w = address(data.draw(floats_tensor((B, N, M))), data.draw(floats_tensor((B, M))),
                beta=data.draw(floats_tensor((B, 1), 0.0, 100.0)), g=data.draw(floats_tensor((B, 1), 0.0, 1.0)),
                s=data.draw(distributions(B, K)), gamma=data.draw(floats_tensor((B, 1), 1.0, 50.0)),
                w_prev=data.draw(distributions(B, N)))
    assert w.shape == (B, N)
    assert_distribution(w)


def _address_args(B=3, N=5, M=3, K=3, dtype=F64, requires_grad=False):
    args = dict(memory=torch.randn(B, N, M), key=torch.randn(B, M), beta=torch.rand(B, 1) * 3 + 0.1,
                g=torch.rand(B, 1), s=torch.softmax(torch.randn(B, K), 1), gamma=torch.rand(B, 1) * 3 + 1,
                w_prev=torch.softmax(torch.randn(B, N), 1))
    return {k: v.to(dtype).requires_grad_(requires_grad) for k, v in args.items()}


@given(st.integers(0, 2), st.sampled_from(["memory", "key", "beta", "g", "s", "gamma", "w_prev"]))
def test_batch_elements_never_influence_each_other(b, name):
    args = _address_args()
    before = address(**args)
    perturbed = {**args, name: args[name].clone()}
    perturbed[name][b] = perturbed[name][b] * 0.5 + 0.1
    after = address(**perturbed)
    others = [i for i in range(3) if i != b]
    torch.testing.assert_close(after[others], before[others], rtol=0, atol=0)
    assert not torch.allclose(after[b], before[b])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_follows_inputs(dtype):
    args = _address_args(dtype=dtype)
    stages = address_stages(**args)
    assert {v.dtype for v in stages.values()} == {dtype}
    assert cosine_similarity(args["memory"], args["key"]).dtype == dtype


# ---------------------------------------------------------------- numerical edge cases

def test_cosine_similarity_of_zero_key_or_zero_row_is_zero_with_finite_gradient():
    memory = t([[[0, 0], [1, 2]]]).requires_grad_()
    for key in (t([[0, 0]]), t([[1, 0]])):
        key.requires_grad_()
        sim = cosine_similarity(memory, key)
        assert torch.isfinite(sim).all()
        assert sim[0, 0] == 0
        sim.sum().backward()
        assert torch.isfinite(memory.grad).all() and torch.isfinite(key.grad).all()


def test_content_addressing_of_a_zero_key_is_uniform():
    w = content_addressing(torch.randn(2, 4, 3), torch.zeros(2, 3), torch.full((2, 1), 5.0))
    torch.testing.assert_close(w, torch.full((2, 4), 0.25))


@pytest.mark.parametrize("beta", [1e6, 1e30])
def test_content_addressing_with_huge_beta_stays_finite(beta):
    memory = t([[[1, 0], [0.9, 0.1], [-1, 0]]], torch.float32)
    w = content_addressing(memory, t([[1, 0]], torch.float32), t([[beta]], torch.float32))
    torch.testing.assert_close(w, t([[1, 0, 0]], torch.float32))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sharpen_with_zero_weights_gives_no_nan(dtype):
    w = t([[0, 0.5, 0.5, 0]], dtype).requires_grad_()
    gamma = t([[3.0]], dtype).requires_grad_()
    out = sharpen(w, gamma)
    torch.testing.assert_close(out, t([[0, 0.5, 0.5, 0]], dtype))
    (out * t([[1, 2, 3, 4]], dtype)).sum().backward()
    assert torch.isfinite(w.grad).all() and torch.isfinite(gamma.grad).all()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sharpen_with_large_gamma_on_tiny_weights_gives_no_nan(dtype):
    w = t([[1e-30, 1e-31, 1e-32, 0]], dtype).requires_grad_()
    gamma = t([[50.0]], dtype).requires_grad_()
    out = sharpen(w, gamma)
    # ratios 1 : 0.1 : 0.01 raised to 50 -> (1, 1e-50, 1e-100, 0): the maximum takes everything
    torch.testing.assert_close(out, t([[1, 0, 0, 0]], dtype))
    (out * t([[1, 2, 3, 4]], dtype)).sum().backward()
    assert torch.isfinite(w.grad).all() and torch.isfinite(gamma.grad).all()


# ---------------------------------------------------------------- gradients

def test_gradcheck_every_stage():
    a = _address_args(B=2, N=4, M=3, requires_grad=True)
    assert gradcheck(cosine_similarity, (a["memory"], a["key"]))
    assert gradcheck(content_addressing, (a["memory"], a["key"], a["beta"]))
    assert gradcheck(interpolate, (a["w_prev"].detach().flip(1).requires_grad_(), a["w_prev"], a["g"]))
    assert gradcheck(shift, (a["w_prev"], a["s"]))
    assert gradcheck(sharpen, (a["w_prev"], a["gamma"]))
    assert gradcheck(address, tuple(a.values()))


def test_gradcheck_shift_wider_than_memory():
    assert gradcheck(shift, (torch.softmax(torch.randn(2, 3, dtype=F64), 1).requires_grad_(),
                             torch.softmax(torch.randn(2, 7, dtype=F64), 1).requires_grad_()))


# ---------------------------------------------------------------- bad input

MEM, KEY, SCALAR, W4 = torch.zeros(2, 4, 3), torch.zeros(2, 3), torch.ones(2, 1), torch.full((2, 4), 0.25)
S3 = torch.full((2, 3), 1 / 3)
F64_SCALAR = torch.ones(2, 1, dtype=F64)

BAD = [
    # cosine_similarity(memory, key)
    (cosine_similarity, dict(memory=MEM, key=KEY), "memory", torch.zeros(4, 3),
     r"memory must have shape \(B, N, M\), got 2 dimensions \(4, 3\)"),
    (cosine_similarity, dict(memory=MEM, key=KEY), "key", torch.zeros(2, 5),
     r"key must have shape \(B, M\) = \(2, 3\), got \(2, 5\)"),
    (cosine_similarity, dict(memory=MEM, key=KEY), "key", torch.zeros(3, 3),
     r"key must have shape \(B, M\) = \(2, 3\), got \(3, 3\)"),
    (cosine_similarity, dict(memory=MEM, key=KEY), "key", torch.zeros(2, 3, dtype=torch.long),
     r"key must be a floating-point tensor .* got torch.int64 \(2, 3\)"),
    (cosine_similarity, dict(memory=MEM, key=KEY), "key", [0.0, 0.0, 0.0], r"key must be a torch.Tensor"),
    (cosine_similarity, dict(memory=MEM, key=KEY), "key", KEY.double(),
     r"memory: torch.float32 \(2, 4, 3\) on cpu, key: torch.float64 \(2, 3\)"),
    (cosine_similarity, dict(memory=MEM, key=KEY), "key", torch.zeros(2, 3, device="meta"),
     r"memory: torch.float32 \(2, 4, 3\) on cpu, key: torch.float32 \(2, 3\) on meta"),
    (content_addressing, dict(memory=MEM, key=KEY, beta=SCALAR), "beta", torch.ones(2, 1, device="meta"),
     r"beta: torch.float32 \(2, 1\) on meta"),
    (interpolate, dict(w_content=W4, w_prev=W4, g=SCALAR), "g", torch.ones(2, 1, device="meta"),
     r"g: torch.float32 \(2, 1\) on meta"),
    (shift, dict(w=W4, s=S3), "s", torch.ones(2, 3, device="meta"), r"s: torch.float32 \(2, 3\) on meta"),
    (sharpen, dict(w=W4, gamma=SCALAR), "gamma", torch.ones(2, 1, device="meta"),
     r"gamma: torch.float32 \(2, 1\) on meta"),
    # content_addressing(memory, key, beta)
    (content_addressing, dict(memory=MEM, key=KEY, beta=SCALAR), "key", torch.zeros(2, 4),
     r"key must have shape \(B, M\) = \(2, 3\), got \(2, 4\)"),
    (content_addressing, dict(memory=MEM, key=KEY, beta=SCALAR), "beta", torch.ones(2),
     r"beta must have shape \(B, 1\), got 1 dimensions \(2\)"),
    (content_addressing, dict(memory=MEM, key=KEY, beta=SCALAR), "beta", torch.ones(3, 1),
     r"beta must have shape \(B, 1\) = \(2, 1\), got \(3, 1\)"),
    (content_addressing, dict(memory=MEM, key=KEY, beta=SCALAR), "beta", 2.0, r"beta must be a torch.Tensor"),
    (content_addressing, dict(memory=MEM, key=KEY, beta=SCALAR), "beta", F64_SCALAR,
     r"beta: torch.float64 \(2, 1\)"),
    # interpolate(w_content, w_prev, g)
    (interpolate, dict(w_content=W4, w_prev=W4, g=SCALAR), "w_content", torch.zeros(4),
     r"w_content must have shape \(B, N\), got 1 dimensions \(4\)"),
    (interpolate, dict(w_content=W4, w_prev=W4, g=SCALAR), "w_prev", torch.zeros(2, 5),
     r"w_prev must have shape \(B, N\) = \(2, 4\), got \(2, 5\)"),
    (interpolate, dict(w_content=W4, w_prev=W4, g=SCALAR), "w_prev", torch.zeros(1, 4),
     r"w_prev must have shape \(B, N\) = \(2, 4\), got \(1, 4\)"),
    (interpolate, dict(w_content=W4, w_prev=W4, g=SCALAR), "g", torch.ones(2, 4),
     r"g must have shape \(B, 1\) = \(2, 1\), got \(2, 4\)"),
    (interpolate, dict(w_content=W4, w_prev=W4, g=SCALAR), "g", torch.ones(2, 1, dtype=torch.int64),
     r"g must be a floating-point tensor .* got torch.int64 \(2, 1\)"),
    (interpolate, dict(w_content=W4, w_prev=W4, g=SCALAR), "w_prev", W4.double(),
     r"w_content: torch.float32 \(2, 4\) on cpu, w_prev: torch.float64 \(2, 4\)"),
    # shift(w, s)
    (shift, dict(w=W4, s=S3), "s", torch.full((2, 4), 0.25),
     r"s must have an odd number of shift weights K, got s of shape \(2, 4\)"),
    (shift, dict(w=W4, s=S3), "s", torch.full((3, 3), 1 / 3), r"s must have shape \(B, K\) = \(2, \?\), got \(3, 3\)"),
    (shift, dict(w=W4, s=S3), "s", torch.full((2, 1, 3), 1 / 3), r"s must have shape \(B, K\), got 3 dimensions"),
    (shift, dict(w=W4, s=S3), "w", torch.zeros(2, 4, 1), r"s must have shape \(B, H, K\), got 2 dimensions \(2, 3\)"),
    (shift, dict(w=W4, s=S3), "w", torch.zeros(2, 4, dtype=torch.int32), r"w must be a floating-point"),
    (shift, dict(w=W4, s=S3), "s", S3.double(), r"w: torch.float32 \(2, 4\) on cpu, s: torch.float64 \(2, 3\)"),
    # sharpen(w, gamma)
    (sharpen, dict(w=W4, gamma=SCALAR), "gamma", torch.ones(1, 1),
     r"gamma must have shape \(B, 1\) = \(2, 1\), got \(1, 1\)"),
    (sharpen, dict(w=W4, gamma=SCALAR), "w", "w", r"w must be a torch.Tensor of shape \(B, N\), got str"),
    (sharpen, dict(w=W4, gamma=SCALAR), "gamma", F64_SCALAR, r"gamma: torch.float64 \(2, 1\)"),
]


@pytest.mark.parametrize("fn, good, name, bad, message", BAD,
                         ids=[f"{fn.__name__}-{name}-{i}" for i, (fn, _, name, _, _) in enumerate(BAD)])
def test_bad_input(fn, good, name, bad, message):
    with pytest.raises(ValueError, match=message):
        fn(**{**good, name: bad})


@pytest.mark.parametrize("name, bad, message", [
    ("memory", torch.zeros(2, 4, 3, dtype=torch.long), r"memory must be a floating-point"),
    ("key", torch.zeros(2, 4), r"key must have shape \(B, M\) = \(2, 3\), got \(2, 4\)"),
    ("beta", torch.ones(2, 2), r"beta must have shape \(B, 1\) = \(2, 1\), got \(2, 2\)"),
    ("g", torch.ones(1, 1), r"g must have shape \(B, 1\) = \(2, 1\), got \(1, 1\)"),
    ("s", torch.full((2, 2), 0.5), r"s must have an odd number of shift weights K, got s of shape \(2, 2\)"),
    ("gamma", torch.ones(3, 1), r"gamma must have shape \(B, 1\) = \(2, 1\), got \(3, 1\)"),
    ("w_prev", torch.full((2, 5), 0.2), r"w_prev must have shape \(B, N\) = \(2, 4\), got \(2, 5\)"),
])
def test_address_bad_input_names_the_argument(name, bad, message):
    good = dict(memory=MEM, key=KEY, beta=SCALAR, g=SCALAR, s=S3, gamma=SCALAR, w_prev=W4)
    for fn in (address, address_stages):
        with pytest.raises(ValueError, match=message):
            fn(**{**good, name: bad})


# ---------------------------------------------------------------- the heads axis

def _heads_args(B, H, N, M, K, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"memory": torch.randn(B, N, M, generator=g, dtype=F64),
            "key": torch.randn(B, H, M, generator=g, dtype=F64),
            "beta": torch.rand(B, H, 1, generator=g, dtype=F64) * 5,
            "g": torch.rand(B, H, 1, generator=g, dtype=F64),
            "s": torch.softmax(torch.randn(B, H, K, generator=g, dtype=F64), dim=2),
            "gamma": 1 + 3 * torch.rand(B, H, 1, generator=g, dtype=F64),
            "w_prev": torch.softmax(2 * torch.randn(B, H, N, generator=g, dtype=F64), dim=2)}


@given(st.integers(1, 3), st.integers(1, 4), st.integers(1, 7), st.integers(1, 4), st.sampled_from([1, 3, 5, 9]),
       st.integers(0, 100))
def test_every_stage_on_a_heads_axis_equals_each_head_alone(B, H, N, M, K, seed):
    a = _heads_args(B, H, N, M, K, seed)
    stages = address_stages(**a)
    for h in range(H):
        one = {name: (x if name == "memory" else x[:, h]) for name, x in a.items()}
        alone = address_stages(**one)
        for name in stages:
            torch.testing.assert_close(stages[name][:, h], alone[name], msg=name)
        torch.testing.assert_close(cosine_similarity(a["memory"], a["key"])[:, h],
                                   cosine_similarity(a["memory"], one["key"]))


def test_gradcheck_every_stage_on_a_heads_axis():
    a = {k: v.requires_grad_() for k, v in _heads_args(2, 3, 5, 3, 3).items()}
    assert gradcheck(content_addressing, (a["memory"], a["key"], a["beta"]))
    assert gradcheck(interpolate, (a["w_prev"].detach().flip(2).requires_grad_(), a["w_prev"], a["g"]))
    assert gradcheck(shift, (a["w_prev"], a["s"]))
    assert gradcheck(sharpen, (a["w_prev"], a["gamma"]))
    assert gradcheck(address, tuple(a.values()))


@pytest.mark.parametrize("fn, args, message", [
    (interpolate, lambda a: (a["w_prev"], a["w_prev"], a["g"][:, :1]),
     r"g must have shape \(B, H, 1\) = \(2, 3, 1\), got \(2, 1, 1\)"),
    (shift, lambda a: (a["w_prev"], a["s"][:, 0]), r"s must have shape \(B, H, K\), got 2 dimensions \(2, 3\)"),
    (content_addressing, lambda a: (a["memory"], a["key"], a["beta"][:1]),
     r"beta must have shape \(B, H, 1\) = \(2, 3, 1\), got \(1, 3, 1\)"),
    (cosine_similarity, lambda a: (a["memory"], a["key"][..., :2]),
     r"key must have shape \(B, H, M\) = \(2, 3, 3\), got \(2, 3, 2\)"),
])
def test_heads_axis_bad_input_names_the_argument(fn, args, message):
    with pytest.raises(ValueError, match=message):
        fn(*args(_heads_args(2, 3, 5, 3, 3)))


def test_one_head_shift_builds_its_gather_index_once_per_size():
    from ntm_course.addressing import _shift_index
    w, s = torch.full((2, 6), 1 / 6), torch.full((2, 3), 1 / 3)
    shift(w, s)
    before = _shift_index.cache_info()
    shift(w, s)
    shift(w.unsqueeze(1), s.unsqueeze(1))
    after = _shift_index.cache_info()
    assert after.hits == before.hits + 2 and after.misses == before.misses


def test_several_heads_on_a_cpu_shift_by_rolls_without_an_index():
    """With several heads on a CPU no index tensor is built or gathered through: the shift is K rolls of the
    weighting, each weighted by its column of s, forward and backward."""
    from torch.utils._python_dispatch import TorchDispatchMode

    class Ops(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.names = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.names.add(func.overloadpacket.__name__)
            return func(*args, **(kwargs or {}))

    w = torch.softmax(torch.randn(2, 3, 6), dim=-1).requires_grad_()
    s = torch.softmax(torch.randn(2, 3, 5), dim=-1)
    with Ops() as forward:
        out = shift(w, s)
    with Ops() as backward:
        out.backward(torch.ones_like(out))
    assert forward.names == {"roll", "mul", "addcmul", "unsqueeze", "unbind"}
    assert not (forward.names | backward.names) & {"arange", "index", "index_put", "gather", "lift_fresh"}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_sharpen_of_an_all_zero_weighting_stays_zero_without_nan(dtype):
    w = torch.zeros(2, 4, dtype=dtype, requires_grad=True)
    gamma = torch.full((2, 1), 2.0, dtype=dtype, requires_grad=True)
    out = sharpen(w, gamma)
    assert torch.equal(out, torch.zeros(2, 4, dtype=dtype))
    out.sum().backward()
    assert torch.isfinite(w.grad).all() and torch.isfinite(gamma.grad).all()
