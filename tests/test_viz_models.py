"""Figures of episodes and trained models: they draw the data they are given, where they say they do."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from matplotlib.figure import Figure

from ntm_course.experiments.config import build_model, make_config
from ntm_course.presentation import viz_models


def image_data(ax):
    return np.asarray(ax.images[0].get_array())


def test_used_rows_finds_the_visited_rows_with_a_margin():
    w = np.zeros((4, 10))
    w[0, 3], w[1, 4], w[2, 5] = 1.0, 0.5, 0.2
    other = np.full((4, 10), 0.05)                             # an idle head's faint spread: ignored
    assert viz_models.used_rows(w, other) == (2, 7)            # rows 3-5, one row either side
    assert viz_models.used_rows(w, margin=0) == (3, 6)
    w[3, 9] = 1.0
    assert viz_models.used_rows(w) == (2, 10)                  # clipped at N
    assert viz_models.used_rows(np.zeros((2, 5))) == (0, 5)    # nothing visited: every row


def test_used_rows_wraps_round_the_circular_memory():
    w = np.zeros((3, 128))
    w[0, 127], w[1, 0], w[2, 2] = 1.0, 1.0, 1.0                # a head that started by shifting -1 from row 0
    assert viz_models.used_rows(w) == (-2, 4)                  # rows 126, 127, 0 .. 3
    assert viz_models.used_rows(w, margin=0) == (-1, 3)
    w[1, 64] = 1.0                                             # rows 0, 2, 64, 127: wrapping is shorter
    assert viz_models.used_rows(w, margin=0) == (-1, 65)      # 66 rows instead of 128


@given(N=st.integers(1, 40), data=st.data(), margin=st.integers(0, 3))
def test_used_rows_covers_every_visited_row_once(N, data, margin):
    hot = data.draw(st.sets(st.integers(0, N - 1), min_size=1))
    w = np.zeros((1, N))
    w[0, sorted(hot)] = 1.0
    first, stop = viz_models.used_rows(w, margin=margin)
    window = [r % N for r in range(first, stop)]
    assert hot <= set(window) and len(window) == len(set(window)) and -N < first < stop <= N


def test_used_rows_never_draws_a_row_twice():
    w = np.zeros((2, 6))
    w[0, 0], w[1, 3] = 1.0, 1.0
    first, stop = viz_models.used_rows(w, margin=2)
    assert stop - first <= 6


def test_used_rows_needs_a_weighting():
    with pytest.raises(ValueError, match="at least one"):
        viz_models.used_rows()


def test_plot_sequence_draws_channels_down_and_time_across_for_the_chosen_example():
    x = torch.rand(6, 2, 3)
    fig = viz_models.plot_sequence(x, title="inputs", example=1)
    ax = fig.axes[0]
    np.testing.assert_allclose(image_data(ax), x[:, 1].T.double().numpy())
    assert ax.get_title() == "inputs" and ax.get_xlabel() == "time step $t$" and ax.get_ylabel() == "channel"


def test_plot_weightings_over_time_picks_the_head_and_crops_the_rows():
    w = torch.softmax(torch.randn(5, 2, 3, 12), dim=-1)       # (T, B, H, N)
    fig = viz_models.plot_weightings_over_time(w, example=1, head=2, rows=(4, 9))
    np.testing.assert_allclose(image_data(fig.axes[0]), w[:, 1, 2, 4:9].T.double().numpy(), rtol=1e-6)
    assert fig.axes[0].get_ylabel() == "memory row $i$"
    assert fig.axes[0].get_ylim() == (8.5, 3.5)               # row labels are the real row numbers


def test_plot_weightings_over_time_draws_a_wrapped_window_in_order():
    w = torch.softmax(torch.randn(4, 10), dim=-1)
    fig = viz_models.plot_weightings_over_time(w, rows=(-2, 3))
    np.testing.assert_allclose(image_data(fig.axes[0]), w[:, [8, 9, 0, 1, 2]].T.double().numpy(), rtol=1e-6)
    assert "N-1" in fig.axes[0].get_ylabel()


@pytest.mark.parametrize("shape", [(5,), (5, 2, 3, 4, 6)])
def test_series_of_the_wrong_rank_is_a_readable_error(shape):
    with pytest.raises(ValueError, match=r"expected \(T, C\)"):
        viz_models.plot_sequence(torch.zeros(shape))


def test_plot_episode_draws_every_given_panel_and_only_the_used_rows():
    T, N = 7, 20
    inputs, targets, outputs = torch.rand(T, 1, 4), torch.rand(T, 1, 3), torch.rand(T, 1, 3)
    w = torch.zeros(T, 1, 1, N)
    w[torch.arange(T), 0, 0, torch.arange(T) + 5] = 1.0        # rows 5 .. 11
    fig = viz_models.plot_episode(inputs, targets, outputs, read_weights=w, write_weights=w, title="ep")
    axes = [ax for ax in fig.axes if ax.get_title()]          # colour bars have no title
    assert [ax.get_title() for ax in axes] == ["inputs", "targets", "outputs", "write head weighting $w_t$",
                                               "read head weighting $w_t$"]
    assert image_data(axes[3]).shape == (9, T)                 # rows 4 .. 12
    assert all(ax.get_xlim() == (-0.5, T - 0.5) for ax in axes)
    assert fig.get_suptitle() == "ep"


def test_plot_episode_leaves_out_what_is_not_given():
    fig = viz_models.plot_episode(torch.rand(4, 2), outputs=torch.rand(4, 2), rows=None)
    assert [ax.get_title() for ax in fig.axes if ax.get_title()] == ["inputs", "outputs"]


def test_plot_learning_curves_draws_one_line_per_model():
    fig = viz_models.plot_learning_curves({"NTM": ([1, 2, 3], [9.0, 3.0, 0.1]), "LSTM": ([1, 2], [9.0, 8.0])})
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["NTM", "LSTM"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [9.0, 3.0, 0.1])
    assert ax.get_yscale() == "log" and ax.get_xlabel() == "sequences seen"


def test_plot_generalisation_shades_the_training_range():
    fig = viz_models.plot_generalisation([10, 20, 50], {"NTM": [0, 0, 1], "LSTM": [0, 2, 30]}, train_max=20)
    ax = fig.axes[0]
    assert len(ax.patches) == 1                                # the shaded span
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [0, 2, 30])
    assert ax.get_ylabel() == "bit errors per sequence"


@pytest.mark.parametrize("call, match", [
    (lambda: viz_models.plot_learning_curves({}), "at least one"),
    (lambda: viz_models.plot_learning_curves({"a": ([1, 2], [1.0])}), "2 x values but 1 y values"),
    (lambda: viz_models.plot_generalisation([1, 2], {}), "at least one"),
    (lambda: viz_models.plot_generalisation([1, 2], {"a": [1]}), r"has 1 values for 2 lengths"),
])
def test_mismatched_data_raises_a_readable_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def fake_trace(T=6, N=10, M=4, K=3, kind="write"):
    """A trace with one head's parameters, as NTM.trace records them: (T, B=1, H=1, ...)."""
    g = torch.Generator().manual_seed(0)
    trace = {f"{kind}_weights": torch.softmax(torch.randn(T, 1, 1, N, generator=g), dim=-1),
             f"{kind}_g": torch.rand(T, 1, 1, 1, generator=g), f"{kind}_beta": 5 * torch.rand(T, 1, 1, 1, generator=g),
             f"{kind}_gamma": 1 + torch.rand(T, 1, 1, 1, generator=g),
             f"{kind}_s": torch.softmax(torch.randn(T, 1, 1, K, generator=g), dim=-1)}
    if kind == "write":
        trace.update(erase=torch.rand(T, 1, 1, M, generator=g), add=2 * torch.rand(T, 1, 1, M, generator=g) - 1)
    return trace


@pytest.mark.parametrize("kind, panels", [("read", 4), ("write", 6)])
def test_plot_head_params_draws_each_parameter_where_it_says(kind, panels):
    trace = fake_trace(kind=kind)
    fig = viz_models.plot_head_params(trace, kind=kind, rows=None, title="heads")
    axes = [ax for ax in fig.axes if ax.get_title()]
    assert len(axes) == panels and fig.get_suptitle() == "heads"
    np.testing.assert_allclose(image_data(axes[0]), trace[f"{kind}_weights"][:, 0, 0].T.double().numpy(), rtol=1e-6)
    np.testing.assert_allclose(axes[1].get_lines()[0].get_ydata(), trace[f"{kind}_g"][:, 0, 0, 0].double().numpy(),
                               rtol=1e-6)
    np.testing.assert_allclose(image_data(axes[2]), trace[f"{kind}_s"][:, 0, 0].T.double().numpy(), rtol=1e-6)
    assert axes[2].get_ylim() == (1.5, -1.5)                  # offsets -1, 0, +1 from the top down
    beta, gamma = axes[3].get_lines()
    np.testing.assert_allclose(beta.get_ydata(), trace[f"{kind}_beta"][:, 0, 0, 0].double().numpy(), rtol=1e-6)
    np.testing.assert_allclose(gamma.get_ydata(), trace[f"{kind}_gamma"][:, 0, 0, 0].double().numpy(), rtol=1e-6)
    if kind == "write":
        np.testing.assert_allclose(image_data(axes[5]), trace["add"][:, 0, 0].T.double().numpy(), rtol=1e-6)
    assert all(ax.get_xlim() == (-0.5, 5.5) for ax in axes)


def test_plot_head_params_names_what_is_missing():
    trace = fake_trace(kind="read")
    del trace["read_gamma"]
    with pytest.raises(ValueError, match="read_gamma"):
        viz_models.plot_head_params(trace, kind="read")
    with pytest.raises(ValueError, match="kind must be"):
        viz_models.plot_head_params(trace, kind="erase")


def test_plot_memory_over_rows_crops_the_used_rows():
    memory = torch.randn(2, 12, 5)
    fig = viz_models.plot_memory_over_rows(memory, rows=(3, 7), example=1)
    np.testing.assert_allclose(image_data(fig.axes[0]), memory[1, 3:7].double().numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="memory must be"):
        viz_models.plot_memory_over_rows(torch.zeros(3))


@pytest.fixture(scope="module")
def trace():
    model = build_model(make_config("copy", controller_size=8, N=8, M=4))
    _, recorded = model.trace(torch.rand(5, 1, 9, generator=torch.Generator().manual_seed(0)))
    return recorded


@pytest.mark.parametrize("kind, panels", [("read", 4), ("write", 6)])
def test_plot_head_params_draws_into_the_axes_it_is_given(trace, kind, panels):
    fig = Figure()
    axes = fig.subplots(panels, 1)
    assert viz_models.plot_head_params(trace, kind=kind, axes=axes) is fig
    assert all(ax.has_data() for ax in axes) and axes[0].get_title() == f"{kind} head weighting $w_t$"
    gate = trace[f"{kind}_g"][:, 0, 0, 0].detach().double().numpy()
    np.testing.assert_allclose(axes[1].get_lines()[0].get_ydata(), gate, rtol=1e-6)
    with pytest.raises(ValueError, match=rf"^a {kind} head needs {panels} axes, got {panels - 1}$"):
        viz_models.plot_head_params(trace, kind=kind, axes=axes[:-1])
