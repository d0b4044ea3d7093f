"""The trained-model explorer: the episode it computes, and the wiring of its controls."""
import pytest
import torch
from torch import nn

import ntm_course as nc
from ntm_course.experiments.tasks import TASKS, bit_errors
from ntm_course.presentation.widgets_models import model_explorer, plot_run, run_episode, task_options


class CopyOracle(nn.Module):
    """Answers the copy task perfectly: after the delimiter it replays the inputs, with confident logits."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.tensor(20.0))

    def forward(self, x):                                      # (T, B, 9) -> (T, B, 8)
        L = (x.shape[0] - 1) // 2
        answer = torch.zeros(x.shape[0], x.shape[1], 8)
        answer[L + 1:] = x[:L, :, :8]
        return self.scale * (2 * answer - 1)


def small_ntm(task):
    return nc.NTM(TASKS[task].input_size, TASKS[task].output_size, controller_size=8, N=16, M=4)


def test_task_options_for_each_task():
    assert task_options("copy", 7) == dict(min_length=7, max_length=7)
    assert task_options("associative_recall", 12) == dict(min_items=12, max_items=12)
    assert task_options("priority_sort", 20) == dict(n_inputs=20, n_outputs=16)       # the paper's setting
    assert task_options("priority_sort", 10) == dict(n_inputs=10, n_outputs=8)        # the shipped model's
    assert task_options("priority_sort", 1) == dict(n_inputs=1, n_outputs=1)
    assert task_options("ngrams", 50) == TASKS["ngrams"].explore.options(50) == dict(length=50)


@pytest.mark.parametrize("task, size, match", [("copy", 0, r"must be in \[1, 120\], got 0"),
                                               ("sorting", 3, "task must be one of")])
def test_task_options_rejects_bad_input(task, size, match):
    with pytest.raises(ValueError, match=match):
        task_options(task, size)


@pytest.mark.parametrize("task", sorted(TASKS))
def test_run_episode_shapes_and_weightings_for_every_task(task):
    model = small_ntm(task)
    episode = run_episode(model, task, TASKS[task].explore.low + 1, seed=3)
    T = episode.inputs.shape[0]
    assert episode.inputs.shape == (T, 1, TASKS[task].input_size)
    assert episode.outputs.shape == episode.targets.shape == (T, 1, TASKS[task].output_size)
    assert episode.read_weights.shape == episode.write_weights.shape == (T, 1, 1, 16)
    torch.testing.assert_close(episode.read_weights.sum(-1), torch.ones(T, 1, 1))
    assert ((episode.outputs > 0) & (episode.outputs < 1)).all()


def test_run_episode_is_reproducible_and_matches_the_model():
    model = small_ntm("copy")
    first, again, other = (run_episode(model, "copy", 5, seed=s) for s in (1, 1, 2))
    torch.testing.assert_close(first.inputs, again.inputs)
    assert not torch.equal(first.inputs, other.inputs)
    with torch.no_grad():
        logits = model(first.inputs)
    torch.testing.assert_close(first.outputs, torch.sigmoid(logits))
    assert first.errors == bit_errors(logits, first.targets, first.mask).item()


def test_run_episode_scores_only_the_answer():
    episode = run_episode(CopyOracle(), "copy", 9, seed=0)
    assert episode.errors == 0 and episode.bits < 1e-3
    assert episode.read_weights is None and episode.write_weights is None   # no trace method: no heads to show
    always_one = run_episode(nn.Sequential(CopyOracle(), nn.Hardtanh(1, 20)), "copy", 9, seed=0)  # always says 1
    assert always_one.errors == always_one.mask.sum() * 8 - always_one.targets.sum()  # every target 0 is missed


def test_lstm_baseline_runs_without_weightings():
    episode = run_episode(nc.LSTMBaseline(9, 8, hidden_size=8, num_layers=1), "copy", 4)
    assert episode.read_weights is None and episode.outputs.shape == (9, 1, 8)


def test_an_ntm_without_write_heads_runs_and_draws_its_read_heads_only():
    model = nc.NTM(9, 8, controller_size=8, N=16, M=4, num_read_heads=2, num_write_heads=0)
    episode = run_episode(model, "copy", 5, seed=1)
    assert episode.write_weights is None and episode.read_weights.shape == (11, 1, 2, 16)
    with torch.no_grad():
        torch.testing.assert_close(episode.outputs, torch.sigmoid(model(episode.inputs)))
    figure = plot_run(episode, "NTM, no write heads", "copy", 5)
    titles = [ax.get_title() for ax in figure.axes if ax.get_title()]
    assert titles[:3] == ["inputs", "targets", "outputs"]
    assert any(t.startswith("read head") for t in titles) and not any("write head" in t for t in titles)
    explorer = model_explorer({"no writes": (model, "copy")})
    assert explorer.message.value == "" and explorer.figure.get_suptitle().startswith("no writes on copy")


def test_explorer_draws_and_follows_the_chosen_models_task():
    explorer = model_explorer({"NTM copy": (small_ntm("copy"), "copy"),
                               "NTM recall": (small_ntm("associative_recall"), "associative_recall")})
    size = explorer.controls["size"]
    assert explorer.figure.get_suptitle().startswith("NTM copy on copy, sequence length 20")
    explorer.controls["model"].value = "NTM recall"
    assert (size.description, size.min, size.max, size.value) == ("number of items", 2, 20, 6)
    assert explorer.figure.get_suptitle().startswith("NTM recall on associative_recall, number of items 6")
    assert explorer.message.value == ""
    size.value = 3
    assert "number of items 3" in explorer.figure.get_suptitle()


@pytest.mark.parametrize("models, match", [({}, "at least one"),
                                           ({"x": (CopyOracle(), "sorting")}, "tasks are")])
def test_explorer_rejects_bad_models(models, match):
    with pytest.raises(ValueError, match=match):
        model_explorer(models)
