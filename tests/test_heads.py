"""Heads: raw controller output -> named, range-limited addressing parameters -> a weighting."""
import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from torch.autograd import gradcheck

from ntm_course import address, content_addressing, interpolate, sharpen
from ntm_course.heads import (
    HEAD_PARAMS,
    WIDTHS,
    WRITE_VECTORS,
    HeadParams,
    address_with_params,
    check_head_params,
    head_param_names,
    head_param_sizes,
    split_head_params,
)
from ntm_course.pieces import LIBRARY, Pieces


def test_param_sizes_and_order():
    assert head_param_sizes(4, 3) == {"key": 4, "beta": 1, "g": 1, "s": 3, "gamma": 1}          # M + K + 3
    assert head_param_sizes(4, 5, write=True) == {"key": 4, "beta": 1, "g": 1, "s": 5, "gamma": 1,
                                                  "erase": 4, "add": 4}                      # 3M + K + 3
    with pytest.raises(ValueError, match="K must be odd and positive, got K=4"):
        head_param_sizes(4, 4)


def test_one_layout_for_every_head():
    assert head_param_names() == HEAD_PARAMS and head_param_names(write=True) == HEAD_PARAMS + WRITE_VECTORS
    assert set(WIDTHS) == set(HEAD_PARAMS + WRITE_VECTORS)
    assert list(split_head_params(torch.zeros(1, 3 * 2 + 3 + 3), 2, 3, write=True)) == list(head_param_names(True))


def test_split_hand_computed():
    # M = 2, K = 3 write head: key (1, -2) | beta 0 | g 0 | s (0, ln 2, 0) | gamma 0 | erase (0, 100) | add (0, 1)
    raw = torch.tensor([[1.0, -2.0, 0.0, 0.0, 0.0, math.log(2), 0.0, 0.0, 0.0, 100.0, 0.0, 1.0]],
                       dtype=torch.float64)
    p = split_head_params(raw, M=2, K=3, write=True)
    expected = {
        "key": [[1.0, -2.0]],                          # identity
        "beta": [[math.log(2)]],                       # softplus(0) = ln(1 + e^0) = ln 2
        "g": [[0.5]],                                  # sigmoid(0)
        "s": [[0.25, 0.5, 0.25]],                      # softmax(0, ln 2, 0) = (1, 2, 1) / 4
        "gamma": [[1 + math.log(2)]],                  # 1 + softplus(0)
        "erase": [[0.5, 1 / (1 + math.exp(-20))]],     # sigmoid; 100 is clipped to 20 first
        "add": [[0.0, math.tanh(1)]],                  # tanh
    }
    assert list(p) == list(expected)
    for name, value in expected.items():
        torch.testing.assert_close(p[name], torch.tensor(value, dtype=torch.float64), msg=name)


def test_read_head_has_no_erase_or_add():
    p = split_head_params(torch.zeros(2, 3 + 5 + 3), M=3, K=5)
    assert sorted(p) == ["beta", "g", "gamma", "key", "s"]
    assert p["s"].shape == (2, 5) and p["key"].shape == (2, 3)


def test_clip_limits_raw_values_and_can_be_turned_off():
    raw = torch.full((1, 2 + 3 + 3), 50.0)
    clipped = split_head_params(raw, 2, 3)
    torch.testing.assert_close(clipped["key"], torch.full((1, 2), 20.0))
    torch.testing.assert_close(split_head_params(raw, 2, 3, clip=None)["key"], torch.full((1, 2), 50.0))
    torch.testing.assert_close(split_head_params(raw, 2, 3, clip=5.0)["beta"],
                               torch.nn.functional.softplus(torch.tensor([[5.0]])))


@given(st.integers(1, 4), st.sampled_from([1, 3, 5]), st.booleans(), st.data())
def test_parameters_land_in_their_ranges(M, K, write, data):
    P = sum(head_param_sizes(M, K, write).values())
    raw = torch.from_numpy(data.draw(arrays(np.float64, (2, P), elements=st.floats(-1e6, 1e6))))
    p = split_head_params(raw, M, K, write)
    assert (p["beta"] > 0).all()
    assert ((p["g"] >= 0) & (p["g"] <= 1)).all()
    assert (p["s"] >= 0).all()
    torch.testing.assert_close(p["s"].sum(1), torch.ones(2, dtype=torch.float64))
    assert (p["gamma"] >= 1).all()
    assert p["key"].abs().max() <= 20
    if write:
        assert ((p["erase"] >= 0) & (p["erase"] <= 1)).all()
        assert (p["add"].abs() <= 1).all()
    assert all(torch.isfinite(v).all() for v in p.values())


@pytest.mark.parametrize("write", [False, True])
def test_gradcheck_split_head_params(write):
    P = sum(head_param_sizes(2, 3, write).values())
    raw = torch.randn(2, P, dtype=torch.float64, requires_grad=True)
    assert gradcheck(lambda r: tuple(split_head_params(r, 2, 3, write).values()), (raw,))


@pytest.mark.parametrize("raw, message", [
    (torch.zeros(2, 9), r"raw must have shape \(B, P\) = \(2, 8\), got \(2, 9\)"),
    (torch.zeros(8), r"raw must have shape \(B, P\), got 1 dimensions \(8\)"),
    (torch.zeros(2, 8, dtype=torch.int64), r"raw must be a floating-point tensor .* torch.int64 \(2, 8\)"),
    (np.zeros((2, 8)), r"raw must be a torch.Tensor of shape \(B, P\), got ndarray"),
])
def test_split_bad_input(raw, message):
    with pytest.raises(ValueError, match=message):
        split_head_params(raw, M=2, K=3)


def test_split_even_k():
    with pytest.raises(ValueError, match="K must be odd and positive, got K=2"):
        split_head_params(torch.zeros(2, 9), M=2, K=2)


def test_split_heads_form_equals_each_head_split_alone():
    raw = 5 * torch.randn(3, 4, 3 * 2 + 3 + 3, dtype=torch.float64)             # 4 write heads, M=2, K=3
    params = split_head_params(raw, M=2, K=3, write=True)
    for h in range(4):
        alone = split_head_params(raw[:, h], M=2, K=3, write=True)
        for name, value in alone.items():
            assert params[name].shape == (3, 4, value.shape[1])
            assert torch.equal(params[name][:, h], value), name


@pytest.mark.parametrize("write, P", [(False, 3 + 5 + 3), (True, 3 * 3 + 5 + 3)])
def test_head_params_one_layer_for_all_heads_in_order(write, P):
    layer = HeadParams(controller_size=6, H=2, M=3, K=5, write=write)
    assert layer.fc.out_features == 2 * P
    h = torch.randn(4, 6)
    params = layer(h)
    raw = layer.fc(h)
    for head in range(2):
        alone = split_head_params(raw[:, head * P:(head + 1) * P], M=3, K=5, write=write)
        assert alone.keys() == params.keys()
        for name, value in alone.items():
            torch.testing.assert_close(params[name][:, head], value)
    assert ("erase" in params) == write


def test_head_params_float64_and_gradients_reach_its_layer():
    layer = HeadParams(controller_size=4, H=2, M=3, write=True).double()
    memory = torch.randn(2, 5, 3, dtype=torch.float64)
    params = layer(torch.randn(2, 4, dtype=torch.float64))
    w = LIBRARY.heads.address(memory, params["key"], params["beta"], params["g"], params["s"], params["gamma"],
                              torch.full((2, 2, 5), 0.2, dtype=torch.float64))
    assert w.dtype == torch.float64 and w.shape == (2, 2, 5)
    (w * torch.arange(5.0, dtype=torch.float64)).sum().add(params["add"].sum()).backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0
               for p in layer.parameters())


def test_heads_address_through_the_pieces_they_are_given():
    g = torch.Generator().manual_seed(0)
    memory, h = torch.randn(2, 5, 4, generator=g), torch.randn(2, 6, generator=g)
    w_prev = torch.softmax(torch.randn(2, 3, 5, generator=g), dim=2)             # 3 heads
    params = HeadParams(6, 3, 4, 3)(h)
    w = address_with_params(memory, params, w_prev)
    for head in range(3):                                                       # the library's pieces by default
        torch.testing.assert_close(w[:, head], address(memory, *(params[k][:, head] for k in HEAD_PARAMS),
                                                       w_prev[:, head]))
    seen = []
    def shift(w, s):
        seen.append(tuple(w.shape))
        return w                                                                # never moves
    pieces = Pieces(shift=shift)
    w_mine = pieces.heads.address(memory, *(params[k] for k in HEAD_PARAMS), w_prev)
    assert seen == [(6, 5)]                                                     # every head in one call: (B * H, N)
    assert not torch.allclose(w_mine, w)
    w_gated = sharpen(interpolate(content_addressing(memory, params["key"], params["beta"]), w_prev, params["g"]),
                      params["gamma"])
    torch.testing.assert_close(w_mine, w_gated)


def test_check_head_params_names_the_entry():
    good = {"key": torch.zeros(2, 3), "beta": torch.ones(2, 1), "g": torch.ones(2, 1), "s": torch.ones(2, 3) / 3,
            "gamma": torch.ones(2, 1)}
    check_head_params("read_params", good, 2, 3)
    with pytest.raises(ValueError, match=r"read_params\['key'\] must have shape \(B, M\) = \(2, 4\), got \(2, 3\)"):
        check_head_params("read_params", good, 2, 4)
    with pytest.raises(ValueError, match=r"write_params must be a dict of .* missing \['add', 'erase'\]"):
        check_head_params("write_params", good, 2, 3, write=True)
    with pytest.raises(ValueError, match=r"read_params\['s'\] must have an odd number of shift weights K"):
        check_head_params("read_params", {**good, "s": torch.ones(2, 2) / 2}, 2, 3)


def test_head_params_repr_shows_heads_params_and_clip():
    assert "heads=2, params={'key': 4, 'beta': 1, 'g': 1, 's': 3, 'gamma': 1}, clip=20.0" in repr(HeadParams(8, 2, 4))
