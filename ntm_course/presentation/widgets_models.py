"""The trained-model explorer: pick a model (and so a task) and a sequence size; see the input, the target,
the model's output and, for an NTM, its heads' weightings over time.

What the widget shows is computed by :func:`run_episode`, a pure function tested without a browser, and
drawn by :func:`ntm_course.presentation.viz_models.plot_episode`; :func:`model_explorer` only wires controls to them.
What the size slider means for each task (its label, range, default and generator arguments) is the task's
``explore`` field in :data:`ntm_course.experiments.tasks.TASKS`.
Like :mod:`ntm_course.presentation.widgets`, it works with ipywidgets 7.7 and 8 and needs the ``lessons`` extra.
"""
from typing import NamedTuple, Optional

import torch

from ..experiments.tasks import TASKS, bit_errors, bits_per_sequence, get_task
from ..extras import needs


with needs("lessons", __name__):
    import ipywidgets as widgets

    from . import viz_models
    from .widgets import LiveFigure, slider


class Episode(NamedTuple):
    """One episode of a model on a task; tensors on the CPU, batch of one.

    inputs ``(T, 1, in)``, targets and outputs ``(T, 1, out)`` (outputs are probabilities), mask ``(T, 1)``;
    read_weights ``(T, 1, R, N)`` and write_weights ``(T, 1, W, N)`` for an NTM, ``None`` for a model
    without memory (and write_weights ``None`` for an NTM without write heads); bits and errors: cost in bits
    and bit errors of this episode.
    """
    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor
    outputs: torch.Tensor
    read_weights: Optional[torch.Tensor]
    write_weights: Optional[torch.Tensor]
    bits: float
    errors: float


def task_options(task, size):
    """The task generator's arguments for an explorer size, checked against the range of the task's
    :class:`~ntm_course.experiments.tasks.ExplorerSize` (its ``Task.explore``)."""
    spec = get_task(task).explore
    if not spec.low <= size <= spec.high:
        raise ValueError(f"size ({spec.label}) for {task} must be in [{spec.low}, {spec.high}], got {size}")
    return spec.options(size)


def run_episode(model, task, size, seed=0):
    """Run ``model`` on one fresh episode of ``task`` at ``size`` (see :func:`task_options`): an :class:`Episode`.

    The episode is made on the CPU from ``seed`` (the same seed gives the same episode), run on the
    model's device, and returned on the CPU. A model with a ``trace`` method (the NTM) also returns its
    heads' weightings (its read heads' only, when it has no write heads).
    """
    batch = get_task(task).make(1, **task_options(task, size), generator=torch.Generator().manual_seed(seed))
    device = next(model.parameters()).device
    with torch.no_grad():
        if hasattr(model, "trace"):
            logits, trace = model.trace(batch.inputs.to(device))
            read_weights = trace["read_weights"].cpu()
            write_weights = trace["write_weights"].cpu() if "write_weights" in trace else None  # no write heads
        else:
            logits, read_weights, write_weights = model(batch.inputs.to(device)), None, None
    logits = logits.cpu()
    return Episode(batch.inputs, batch.targets, batch.mask, torch.sigmoid(logits), read_weights, write_weights,
                   bits_per_sequence(logits, batch.targets, batch.mask).item(),
                   bit_errors(logits, batch.targets, batch.mask).item())


def plot_run(episode, name, task, size):
    """Draw an :class:`Episode` with :func:`viz_models.plot_episode`, its score in the title (a head kind the
    model lacks, such as an NTM's write heads when it has none, gets no panel)."""
    return viz_models.plot_episode(
        episode.inputs, episode.targets, episode.outputs * episode.mask.unsqueeze(2),
        episode.read_weights, episode.write_weights,
        title=f"{name} on {task}, {get_task(task).explore.label} {size}: {episode.errors:.0f} bit errors, "
              f"{episode.bits:.1f} bits")


def model_explorer(models, seed=0):
    """A widget: choose a model, a size and a seed; see the episode it produces.

    Args:
        models: ``{name: (model, task)}``, e.g. ``{"NTM copy": (ntm, "copy"), "LSTM copy": (lstm, "copy")}``.
    Returns:
        a :class:`ntm_course.presentation.widgets.LiveFigure`; its ``figure`` is the latest drawing.
    """
    if not models:
        raise ValueError("models must hold at least one {name: (model, task)} entry, got an empty dict")
    for name, (_, task) in models.items():
        if task not in TASKS:
            raise ValueError(f"models[{name!r}] has task {task!r}; tasks are {sorted(TASKS)}")
    first_task = next(iter(models.values()))[1]
    size = get_task(first_task).explore
    choice = widgets.Dropdown(options=list(models), description="model", layout=widgets.Layout(width="420px"))
    size_slider = slider(widgets.IntSlider, size.label, size.default, min=size.low, max=size.high)
    size_slider.continuous_update = False
    seed_box = widgets.IntText(value=seed, description="seed")

    def follow_task(change):
        """A new model may mean a new task: set the size slider's meaning and range to it."""
        spec = get_task(models[change["new"]][1]).explore
        size_slider.description = spec.label
        # widen the range first, so the old value is never clamped (which would redraw at a wrong size)
        size_slider.min, size_slider.max = min(spec.low, size_slider.min), max(spec.high, size_slider.max)
        size_slider.value = spec.default
        size_slider.min, size_slider.max = spec.low, spec.high

    choice.observe(follow_task, names="value")

    def draw(model, size, seed):
        network, task = models[model]
        return plot_run(run_episode(network, task, size, seed), model, task, size)

    return LiveFigure({"model": choice, "size": size_slider, "seed": seed_box}, draw)
