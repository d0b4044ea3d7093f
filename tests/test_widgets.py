"""widgets: the pure functions behind each widget (hand-computed cases, properties), and the wiring
(moving a control redraws the figure from those functions), all without a browser; with ipywidgets 8 and,
as hosted notebooks ship it, 7.7."""
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ntm_course
from ntm_course.presentation import widgets


ROOT = Path(__file__).resolve().parents[1]


def bar_heights(ax):
    return np.array([patch.get_height() for patch in ax.patches])


def one_hot(N, i, B=1, dtype=torch.float32):
    w = torch.zeros(B, N, dtype=dtype)
    w[:, i] = 1
    return w


# ---- pure functions ------------------------------------------------------------------------------------

def test_as_scalar_follows_the_batch_dtype_and_device():
    like = torch.zeros(3, 5, dtype=torch.float64)
    x = widgets.as_scalar(2.5, like)
    assert x.shape == (3, 1) and x.dtype == torch.float64 and x.device == like.device
    assert torch.all(x == 2.5)


def test_beta_weighting_hand_computed():
    memory = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])               # similarities to key (1, 0): 1 and 0
    w = widgets.beta_weighting(memory, torch.tensor([[1.0, 0.0]]), math.log(3))
    torch.testing.assert_close(w, torch.tensor([[0.75, 0.25]]))     # e^b / (e^b + 1) with e^b = 3


def test_gate_weighting_hand_computed():
    w = widgets.gate_weighting(one_hot(4, 0), one_hot(4, 3), 0.25)
    torch.testing.assert_close(w, torch.tensor([[0.25, 0.0, 0.0, 0.75]]))


def test_gamma_weighting_hand_computed():
    w = widgets.gamma_weighting(torch.tensor([[0.5, 0.25, 0.25]]), 2.0)
    torch.testing.assert_close(w, torch.tensor([[2 / 3, 1 / 6, 1 / 6]]))


def test_shift_from_weights_normalises_and_expands_to_the_batch():
    s = widgets.shift_from_weights([1, 1, 2], torch.zeros(2, 7, dtype=torch.float64))
    assert s.shape == (2, 3) and s.dtype == torch.float64
    torch.testing.assert_close(s, torch.tensor([[0.25, 0.25, 0.5]] * 2, dtype=torch.float64))


@pytest.mark.parametrize("weights, match", [([0, 0, 0], "not all 0"), ([1, -1, 1], "non-negative"),
                                            ([1, 1], "odd")])
def test_shift_from_weights_rejects_bad_weights(weights, match):
    with pytest.raises(ValueError, match=match):
        widgets.shift_from_weights(weights, torch.zeros(1, 4))


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=1, max_size=7).filter(lambda v: len(v) % 2 == 1 and sum(v) > 1e-3))
def test_shift_from_weights_is_a_distribution_with_the_sliders_ratios(weights):
    s = widgets.shift_from_weights(weights, torch.zeros(1, 3, dtype=torch.float64))[0]
    assert math.isclose(s.sum().item(), 1.0, rel_tol=1e-9)
    np.testing.assert_allclose(s.numpy() * sum(weights), weights, atol=1e-9)


def test_focus_weighting_hand_computed_and_wraps_around():
    torch.testing.assert_close(widgets.focus_weighting(5, 2, 0.0, torch.zeros(1, 1)), one_hot(5, 2))
    torch.testing.assert_close(widgets.focus_weighting(5, 0, 0.5, torch.zeros(1, 1)),
                               torch.tensor([[0.5, 0.25, 0.0, 0.0, 0.25]]))


@settings(max_examples=50, deadline=None)
@given(st.integers(3, 12).flatmap(lambda N: st.tuples(st.just(N), st.integers(0, N - 1))), st.floats(0, 1))
def test_focus_weighting_is_a_distribution_peaked_at_the_row(n_row, spread):
    """N >= 3, so the two neighbours are different rows: the row keeps 1 - spread, each neighbour spread / 2."""
    N, row = n_row
    w = widgets.focus_weighting(N, row, spread, torch.zeros(2, 1, dtype=torch.float64))
    assert w.shape == (2, N) and torch.all(w >= 0)
    torch.testing.assert_close(w.sum(dim=1), torch.ones(2, dtype=torch.float64))
    assert w[0, row] == w[0].max() or spread > 2 / 3                 # beyond 2/3 the neighbours outweigh it


@pytest.mark.parametrize("row, spread, match", [(5, 0.0, "row must be in 0..4"), (-1, 0.0, "row"),
                                                (0, 1.5, "spread")])
def test_focus_weighting_rejects_bad_sliders(row, spread, match):
    with pytest.raises(ValueError, match=match):
        widgets.focus_weighting(5, row, spread, torch.zeros(1, 1))


def test_write_inputs_full_erase_replaces_the_focused_row():
    memory = torch.arange(12.0).reshape(1, 4, 3)
    add = torch.tensor([[7.0, 8.0, 9.0]])
    w, erase, add_vector = widgets.write_inputs(memory, add, row=2, spread=0.0, erase=1.0, add_scale=0.5)
    assert (w.shape, erase.shape, add_vector.shape) == ((1, 4), (1, 3), (1, 3))
    after = ntm_course.write(memory, w, erase, add_vector)
    torch.testing.assert_close(after[0, 2], torch.tensor([3.5, 4.0, 4.5]))
    torch.testing.assert_close(after[0, [0, 1, 3]], memory[0, [0, 1, 3]])


def test_write_inputs_rejects_bad_input():
    memory = torch.zeros(1, 4, 3)
    with pytest.raises(ValueError, match="erase"):
        widgets.write_inputs(memory, torch.zeros(1, 3), 0, 0.0, 1.5, 1.0)
    with pytest.raises(ValueError, match=r"add must have shape \(B, M\) = \(1, 3\), got \(1, 2\)"):
        widgets.write_inputs(memory, torch.zeros(1, 2), 0, 0.0, 1.0, 1.0)


def test_pipeline_stages_equals_the_library_pipeline():
    torch.manual_seed(0)
    memory, w_prev = torch.randn(1, 6, 4), torch.softmax(torch.randn(1, 6), dim=1)
    stages = widgets.pipeline_stages(memory, memory[:, 3], w_prev, 8.0, 0.7, [1, 2, 1], 2.0)
    expected = ntm_course.address_stages(memory, memory[:, 3], torch.tensor([[8.0]]), torch.tensor([[0.7]]),
                                         torch.tensor([[0.25, 0.5, 0.25]]), torch.tensor([[2.0]]), w_prev)
    assert stages.keys() == expected.keys()
    for name in stages:
        torch.testing.assert_close(stages[name], expected[name])


# ---- wiring: moving a control redraws from the pure functions ------------------------------------------

@pytest.fixture
def memory():
    torch.manual_seed(1)
    return torch.randn(1, 6, 4)


def test_read_widget_reads_the_focused_rows(memory):
    live = widgets.read_widget(memory)
    live.controls["row"].value = 4
    read_axes = live.figure.axes[2]
    np.testing.assert_allclose(bar_heights(read_axes), memory[0, 4].numpy(), rtol=1e-6)
    live.controls["spread"].value = 1.0                                 # half on row 3, half on row 5
    np.testing.assert_allclose(bar_heights(live.figure.axes[2]), ((memory[0, 3] + memory[0, 5]) / 2).numpy(),
                               rtol=1e-5)


def test_beta_widget_redraws_when_beta_moves(memory):
    live = widgets.beta_widget(memory, memory[:, 2], beta=1.0)
    first_png = live.image.value
    live.controls["beta"].value = 50.0
    expected = widgets.beta_weighting(memory, memory[:, 2], live.controls["beta"].value)
    np.testing.assert_allclose(bar_heights(live.figure.axes[0]), expected[0].numpy(), rtol=1e-6)
    assert bytes(live.image.value) != bytes(first_png) and bytes(live.image.value).startswith(b"\x89PNG")


def test_gate_and_gamma_widgets_show_their_results():
    w_content, w_prev = one_hot(5, 1), one_hot(5, 4)
    gate = widgets.gate_widget(w_content, w_prev, g=0.5)
    gate.controls["g"].value = 0.2
    np.testing.assert_allclose(bar_heights(gate.figure.axes[2]), [0, 0.2, 0, 0, 0.8], rtol=1e-6)
    gamma = widgets.gamma_widget(torch.tensor([[0.5, 0.25, 0.25]]))
    gamma.controls["gamma"].value = 2.0
    np.testing.assert_allclose(bar_heights(gamma.figure.axes[1]), [2 / 3, 1 / 6, 1 / 6], rtol=1e-6)


def test_shift_widget_moves_the_focus_and_reports_bad_sliders():
    live = widgets.shift_widget(one_hot(5, 1))
    assert list(live.controls) == ["s(-1)", "s(0)", "s(+1)"]
    np.testing.assert_allclose(bar_heights(live.figure.axes[2]), [0, 0, 1, 0, 0])     # +1 by default
    live.controls["s(+1)"].value = 0.0
    live.controls["s(-1)"].value = 1.0
    np.testing.assert_allclose(bar_heights(live.figure.axes[2]), [1, 0, 0, 0, 0])
    kept = live.figure
    live.controls["s(-1)"].value = 0.0                                  # every weight 0: nothing to show
    assert "not all 0" in live.message.value and live.figure is kept
    live.controls["s(0)"].value = 1.0
    assert live.message.value == "" and live.figure is not kept


def test_write_widget_previews_applies_and_resets(memory):
    add = torch.ones(1, 4)
    live = widgets.write_widget(memory, add)
    live.controls["row"].value = 3
    torch.testing.assert_close(live.memory, memory)                     # moving sliders only previews
    live.apply()
    expected = ntm_course.write(memory, *widgets.write_inputs(memory, add, 3, 0.0, 1.0, 1.0))
    torch.testing.assert_close(live.memory, expected)
    torch.testing.assert_close(live.memory[0, 3], add[0])
    live.apply()                                                        # writes accumulate
    torch.testing.assert_close(live.memory, ntm_course.write(expected, *widgets.write_inputs(
        expected, add, 3, 0.0, 1.0, 1.0)))
    live.reset()
    torch.testing.assert_close(live.memory, memory)


def test_pipeline_widget_shows_every_stage_for_the_sliders(memory):
    w_prev = one_hot(6, 0)
    live = widgets.pipeline_widget(memory, memory[:, 2], w_prev)
    assert list(live.controls) == ["beta", "g", "s(-1)", "s(0)", "s(+1)", "gamma"]
    live.controls["g"].value = 0.0                                      # keep the previous focus ...
    stages = widgets.pipeline_stages(memory, memory[:, 2], w_prev, **{k: live.controls[k].value
                                     for k in ("beta", "g", "gamma")}, shift_weights=[0, 0, 1])
    assert len(live.figure.axes) == 5
    np.testing.assert_allclose(bar_heights(live.figure.axes[4]), stages["sharpened"][0].numpy(), rtol=1e-6)
    np.testing.assert_allclose(bar_heights(live.figure.axes[4]), one_hot(6, 1)[0].numpy(), atol=1e-6)  # ... +1


# ---- ipywidgets 7.7, and none ----------------------------------------------------------------------------

@pytest.mark.slow
def test_every_widget_works_with_ipywidgets_7(tmp_path):
    """This file's and test_widgets_models.py's tests, run again with ipywidgets 7.7 (Colab's) instead of 8.

    ipywidgets 7.7 and the one module only it imports (ipython_genutils) go into a folder put first on the
    path; everything else is this environment's. The run checks that it imported that ipywidgets."""
    target = tmp_path / "ipywidgets7"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target",
                              str(target), "ipywidgets==7.7.*", "ipython_genutils"], capture_output=True, text=True,
                             timeout=600)
    assert install.returncode == 0, install.stdout + install.stderr
    run_tests = ("import sys, ipywidgets, pytest\n"
                 "assert ipywidgets.__version__.startswith('7.7.'), ipywidgets.__version__\n"
                 f"assert ipywidgets.__file__.startswith({str(target)!r}), ipywidgets.__file__\n"
                 "sys.exit(pytest.main(['tests/test_widgets.py', 'tests/test_widgets_models.py', '-q', '-n', '0',"
                 " '-p', 'no:cacheprovider', '-k', 'not ipywidgets_7 and not without_ipywidgets']))")
    done = subprocess.run([sys.executable, "-c", run_tests], cwd=ROOT, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(target)})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


@pytest.mark.parametrize("module", ["widgets", "widgets_models"])
def test_without_ipywidgets_the_import_names_the_lessons_extra(module):
    code = f"import sys; sys.modules['ipywidgets'] = None; import ntm_course.presentation.{module}"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.splitlines()[-1] == (
        f"ntm_course.extras.MissingExtra: ntm_course.presentation.{module} needs the course's 'lessons' extra "
        "(no module "
        "named 'ipywidgets'): pip install 'ntm-course[lessons]'")
