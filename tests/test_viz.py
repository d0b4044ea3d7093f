"""viz: each figure draws the numbers it is given (or the library computes), with titles and labels."""
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import ntm_course
from ntm_course.presentation import viz


def bar_heights(ax):
    return np.array([patch.get_height() for patch in ax.patches])


def bar_widths(ax):
    return np.array([patch.get_width() for patch in ax.patches])


@pytest.fixture
def memory():
    torch.manual_seed(0)
    return torch.randn(2, 6, 4)


@pytest.fixture
def w():
    return torch.tensor([[0.1, 0.6, 0.1, 0.1, 0.05, 0.05], [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]])


def test_new_axes_draws_into_given_axes_or_a_fresh_figure_of_the_size():
    fig, ax = viz.new_axes(None, (4.0, 2.5))
    assert isinstance(fig, Figure) and fig.axes == [ax] and tuple(fig.get_size_inches()) == (4.0, 2.5)
    given = Figure().subplots(1, 2)[1]
    assert viz.new_axes(given, (9, 9)) == (given.figure, given)                # the size is for a fresh one only
    assert tuple(given.figure.get_size_inches()) != (9, 9)


def test_plot_weighting_draws_one_bar_per_row_with_labels(w):
    fig = viz.plot_weighting(w, title="my title", example=1, highlight=2)
    ax, = fig.axes
    assert isinstance(fig, Figure)
    np.testing.assert_allclose(bar_heights(ax), w[1].numpy())
    assert ax.get_title() == "my title"
    assert ax.get_xlabel() and ax.get_ylabel()
    colors = [patch.get_facecolor() for patch in ax.patches]
    assert colors[2] != colors[0] and colors[0] == colors[1]          # the highlighted row stands out


def test_plot_weighting_accepts_unbatched_graph_tensors_and_float64():
    w = torch.tensor([0.25, 0.75], dtype=torch.float64, requires_grad=True)
    np.testing.assert_allclose(bar_heights(viz.plot_weighting(w).axes[0]), [0.25, 0.75])


def test_plot_weighting_draws_into_given_axes(w):
    fig = Figure()
    ax = fig.add_subplot()
    assert viz.plot_weighting(w, ax=ax) is fig
    assert len(ax.patches) == 6


def test_plot_weighting_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"got shape \(2, 3, 4\)"):
        viz.plot_weighting(torch.zeros(2, 3, 4))


def test_plot_weightings_one_panel_each_in_order(w):
    fig = viz.plot_weightings({"first": w, "second": w[1]}, title="overall")
    first, second = fig.axes
    assert (first.get_title(), second.get_title()) == ("first", "second")
    np.testing.assert_allclose(bar_heights(first), w[0].numpy())
    np.testing.assert_allclose(bar_heights(second), w[1].numpy())
    assert fig._suptitle.get_text() == "overall"
    with pytest.raises(ValueError, match="weightings"):
        viz.plot_weightings({})


def test_plot_address_stages_shows_every_stage_in_pipeline_order(memory):
    B, N, M = memory.shape
    w_prev = torch.softmax(torch.randn(B, N), dim=1)
    stages = ntm_course.address_stages(memory, memory[:, 1], torch.full((B, 1), 5.0), torch.full((B, 1), 0.6),
                                       torch.tensor([[0.2, 0.3, 0.5]] * B), torch.full((B, 1), 2.0), w_prev)
    fig = viz.plot_address_stages(stages, w_prev=w_prev, example=1)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [viz.STAGE_TITLES[k] for k in ("previous", "content", "gated", "shifted", "sharpened")]
    for ax, name in zip(fig.axes[1:], ("content", "gated", "shifted", "sharpened")):
        np.testing.assert_allclose(bar_heights(ax), stages[name][1].numpy(), rtol=1e-6)
    assert len(viz.plot_address_stages({"content": stages["content"]}).axes) == 1
    with pytest.raises(ValueError, match="stages"):
        viz.plot_address_stages({"unknown": w_prev})


def test_plot_memory_shows_the_values(memory):
    fig = viz.plot_memory(memory, title="M", example=1)
    image = fig.axes[0].images[0]
    np.testing.assert_allclose(image.get_array(), memory[1].numpy(), rtol=1e-6)
    assert fig.axes[0].get_title() == "M" and fig.axes[0].get_ylabel() == "memory row $i$"
    labelled = viz.plot_memory(memory[0, :2], row_labels=["a", "b"]).axes[0]
    assert [t.get_text() for t in labelled.get_yticklabels()] == ["a", "b"]


def test_plot_read_draws_the_library_read_vector(memory, w):
    fig = viz.plot_read(memory, w, example=0)
    ax_w, ax_m, ax_r = fig.axes[:3]                              # weighting, memory, read (then a colorbar)
    np.testing.assert_allclose(bar_widths(ax_w), w[0].numpy())
    np.testing.assert_allclose(bar_heights(ax_r), ntm_course.read(memory, w)[0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(ax_m.images[0].get_array(), memory[0].numpy(), rtol=1e-6)


def test_plot_write_shows_memory_before_and_after_the_library_write(memory, w):
    erase, add = torch.full((2, 4), 0.5), torch.ones(2, 4)
    fig = viz.plot_write(memory, w, erase, add, example=1)
    before, after = [ax for ax in fig.axes if ax.images and ax.get_title()]
    np.testing.assert_allclose(before.images[0].get_array(), memory[1].numpy(), rtol=1e-6)
    expected = ntm_course.write(memory, w, erase, add)[1].numpy()
    np.testing.assert_allclose(after.images[0].get_array(), expected, rtol=1e-6)
    assert before.images[0].get_clim() == after.images[0].get_clim()   # one colour scale for both


def test_plot_shift_direction_labels_offsets_and_draws_the_shift():
    w = torch.tensor([[0.0, 1.0, 0.0, 0.0, 0.0]])
    s = torch.tensor([[0.0, 0.0, 1.0]])
    before, ax_s, after = viz.plot_shift_direction(w, s).axes
    assert [t.get_text() for t in ax_s.get_xticklabels()] == ["-1", "0", "+1"]
    np.testing.assert_allclose([p.get_x() + p.get_width() / 2 for p in ax_s.patches], [-1, 0, 1])
    np.testing.assert_allclose(bar_heights(after), [0, 0, 1, 0, 0])      # offset +1: row 1 -> row 2
    np.testing.assert_allclose(bar_heights(before), w[0].numpy())


def test_plot_weighting_of_many_rows_keeps_integer_row_ticks():
    ax = viz.plot_weighting(torch.full((1, 40), 1 / 40)).axes[0]
    assert len(ax.patches) == 40
    ticks = [t for t in ax.get_xticks() if 0 <= t < 40]
    assert 2 <= len(ticks) < 40 and all(float(t).is_integer() for t in ticks)


def test_colours_are_colour_blind_safe_and_a_highlight_does_not_rely_on_colour():
    from ntm_course.presentation import viz_models
    fig = viz.plot_weighting(torch.tensor([[0.2, 0.3, 0.5]]), highlight=2)
    ax = fig.axes[0]
    assert [patch.get_hatch() for patch in ax.patches] == [None, None, viz.HIGHLIGHT_HATCH]
    assert [text.get_text() for text in ax.texts] == ["row 2"]
    assert viz.plot_memory(torch.zeros(1, 3, 4)).axes[0].get_images()[0].get_cmap().name == "viridis"
    memory_panel = viz.plot_read(torch.randn(1, 3, 4), torch.tensor([[0.0, 1.0, 0.0]])).axes[1]
    assert memory_panel.get_images()[0].get_cmap().name == viz.DIVERGING
    curves = viz_models.plot_learning_curves({"a": ([1, 2], [2.0, 1.0]), "b": ([1, 2], [3.0, 2.0])}).axes[0]
    (a, b) = curves.get_lines()
    assert a.get_marker() != b.get_marker() and a.get_linestyle() != b.get_linestyle()
    assert a.get_color() == viz.PALETTE[0] and b.get_color() == viz.PALETTE[1]
