"""The time-scrubber: step through one episode of a trained NTM, as Distill's "Attention and Augmented Recurrent
Neural Networks" lets a reader step through attention. A slider (and a play button) picks the time step t; the
figure shows the memory after step t with the write and read heads' weightings beside it, and the episode's
inputs, targets and outputs with step t marked; the caption tells the step's story in words (what is written
where, where the read head is and what it finds there, whether it moved on or jumped).

What the widget shows is computed by pure functions tested without a browser: :func:`record_episode` runs the
model once and keeps every step, :func:`focus_rows` and :func:`moves` say where each head is and how it moved,
:func:`step_story` puts a step into words, :func:`plot_step` draws it; :func:`time_scrubber` only wires a slider
and a play button to them. For a copy model the story is the paper's: write each input and move on one row; at the
delimiter, go back to where the writing started; read and move on one row.

Like :mod:`ntm_course.presentation.widgets`, it works with ipywidgets 7.7 and 8 and needs the ``lessons`` extra.
"""
from typing import NamedTuple

import numpy as np
import torch

from ..experiments.tasks import get_task
from ..extras import needs


with needs("lessons", __name__):
    import ipywidgets as widgets
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    from .captions import set_caption
    from .viz import DIVERGING, READ_COLOUR, WRITE_COLOUR, WRITE_HATCH
    from .viz_models import used_rows
    from .widgets import LiveFigure, slider
    from .widgets_models import task_options


class EpisodeRecord(NamedTuple):
    """Every step of one episode of an NTM with one read and one write head (the first of each when it has more),
    as numpy arrays on the CPU.

    inputs ``(T, in)``, targets and outputs ``(T, out)`` (outputs as probabilities), mask ``(T,)`` (1 where the
    output is scored), memory ``(T, N, M)`` after each step, write_weights and read_weights ``(T, N)``; task: the
    task's name.
    """
    inputs: np.ndarray
    targets: np.ndarray
    outputs: np.ndarray
    mask: np.ndarray
    memory: np.ndarray
    write_weights: np.ndarray
    read_weights: np.ndarray
    task: str


def record_episode(model, task="copy", size=10, seed=0):
    """Run ``model`` (an NTM with write heads) on one fresh episode of ``task`` at ``size`` (as the model explorer's
    size slider: e.g. the copy task's length) made from ``seed``, and keep every step: an :class:`EpisodeRecord`."""
    if not hasattr(model, "trace"):
        raise ValueError(f"the time-scrubber needs an NTM (a model with a trace method), got {type(model).__name__}")
    batch = get_task(task).make(1, **task_options(task, size), generator=torch.Generator().manual_seed(seed))
    device = next(model.parameters()).device
    with torch.no_grad():
        logits, trace = model.trace(batch.inputs.to(device))
    if "write_weights" not in trace:
        raise ValueError("the time-scrubber needs a model with a write head; this one has none")
    logits = logits.cpu()
    return EpisodeRecord(batch.inputs[:, 0].numpy(), batch.targets[:, 0].numpy(),
                         torch.sigmoid(logits[:, 0]).numpy(), batch.mask[:, 0].numpy(),
                         trace["memory"][:, 0].cpu().double().numpy(),
                         trace["write_weights"][:, 0, 0].cpu().double().numpy(),
                         trace["read_weights"][:, 0, 0].cpu().double().numpy(), task)


def focus_rows(w):
    """Where a head looks at each step: ``(rows, weights)``, the row of its largest weight and that weight, for a
    weighting over time ``(T, N)``."""
    w = np.asarray(w)
    if w.ndim != 2:
        raise ValueError(f"w must be a weighting over time (T, N), got shape {w.shape}")
    rows = w.argmax(axis=1)
    return rows, w[np.arange(len(w)), rows]


def moves(w):
    """How a head's focus moved into each step, circularly over the ``N`` rows: ``(T,)`` whole numbers in
    ``-(N//2) .. N//2``, 0 at step 0. +1 is one row on (the shift's +1), 0 staying, anything else a jump."""
    rows, _ = focus_rows(w)
    N = np.asarray(w).shape[1]
    steps = np.diff(rows, prepend=rows[:1])
    return (steps + N // 2) % N - N // 2


def last_written(record, row, t):
    """The last step at or before ``t`` whose write focus was ``row``; ``None`` if no step wrote there."""
    rows, _ = focus_rows(record.write_weights[:t + 1])
    found = np.flatnonzero(rows == row)
    return int(found[-1]) if found.size else None


def target_source(record, t):
    """The input step whose vector is step ``t``'s target (the first, comparing the target's channels with the
    input's first channels), or ``None``: for a copy task, the vector being copied at ``t``."""
    width = record.targets.shape[1]
    same = np.flatnonzero((record.mask == 0) & np.all(record.inputs[:, :width] == record.targets[t], axis=1))
    return int(same[0]) if same.size and record.targets[t].any() else None


def phase(record, t):
    """What the episode is doing at step ``t``: ``"input"`` (before the answer), ``"delimiter"`` (the last step
    before the answer, where the copy tasks mark the end of their input) or ``"answer"`` (a scored step)."""
    if not 0 <= t < len(record.mask):
        raise ValueError(f"t must be a step of the episode, 0..{len(record.mask) - 1}, got {t}")
    if record.mask[t] > 0:
        return "answer"
    later = np.flatnonzero(record.mask[t + 1:] > 0)
    return "delimiter" if later.size and later[0] == 0 else "input"


def _move_words(move, head):
    if move == 0:
        return f"the {head} head stayed"
    if move == 1:
        return f"the {head} head moved on one row"
    if move == -1:
        return f"the {head} head moved back one row"
    return f"the {head} head jumped {abs(int(move))} rows {'on' if move > 0 else 'back'}"


def step_story(record, t):
    """Step ``t`` of ``record`` in words: the phase, where each head looks (and how it got there), what the read
    head finds, and, on an answer step, how many output bits are wrong."""
    kind = phase(record, t)
    w_rows, w_weights = focus_rows(record.write_weights)
    r_rows, r_weights = focus_rows(record.read_weights)
    w_move, r_move = moves(record.write_weights)[t], moves(record.read_weights)[t]
    last = len(record.mask) - 1
    words = [f"Step {t} of 0-{last} ({kind})."]
    writing = f"The write head writes on row {w_rows[t]} (weight {w_weights[t]:.2f})"
    words.append(writing + (f"; {_move_words(w_move, 'write')}." if t else "."))
    source = last_written(record, r_rows[t], t)
    found = (f", which was written at step {source}" if source is not None else ", which no step has written")
    reading = f"The read head is on row {r_rows[t]} (weight {r_weights[t]:.2f}){found}"
    words.append(reading + (f"; {_move_words(r_move, 'read')}." if t else "."))
    if kind == "answer":
        source = target_source(record, t)
        if source is not None:
            sentence = f"The target is the input of step {source}"
            if t and last_written(record, r_rows[t - 1], t - 1) == source:
                sentence += (f", which the read head read at step {t - 1} (row {r_rows[t - 1]}): the controller "
                             "takes in the last step's read vector")
            words.append(sentence + ".")
        wrong = int(((record.outputs[t] > 0.5) != (record.targets[t] > 0.5)).sum())
        words.append(f"The output has {wrong} of {record.targets.shape[1]} bits wrong.")
    return " ".join(words)


def plot_step(record, t, rows="used"):
    """Step ``t`` of ``record``: the episode (inputs, targets, outputs) with step t marked above; below, the memory
    after step t with the write weighting (hatched) on its left and the read weighting (solid) on its right, each
    head's row marked with a labelled arrow. The caption is :func:`step_story`.

    rows: ``"used"`` draws only the rows the heads visit in the whole episode (the frame stays still while t
    moves), ``None`` all rows, or ``(first, stop)`` as :func:`~ntm_course.presentation.viz_models.used_rows` gives.
    """
    if not 0 <= t < len(record.mask):
        raise ValueError(f"t must be a step of the episode, 0..{len(record.mask) - 1}, got {t}")
    N = record.memory.shape[1]
    first, stop = (used_rows(record.write_weights, record.read_weights) if rows == "used"
                   else (0, N) if rows is None else rows)
    window = np.arange(first, stop) % N
    T = len(record.mask)
    fig = Figure(figsize=(11, 7.2), layout="constrained")
    grid = fig.add_gridspec(2, 3, height_ratios=[1, 2.4], width_ratios=[1, 3, 1])
    ax_seq = fig.add_subplot(grid[0, :])
    ax_w, ax_m, ax_r = (fig.add_subplot(grid[1, i]) for i in range(3))
    _plot_timeline(ax_seq, record, t)
    limit = max(float(np.abs(record.memory[:, window]).max()), 1e-12)
    image = ax_m.imshow(record.memory[t][window], cmap=DIVERGING, vmin=-limit, vmax=limit, aspect="auto",
                        interpolation="nearest", extent=(-0.5, record.memory.shape[2] - 0.5, stop - 0.5, first - 0.5))
    fig.colorbar(image, ax=ax_m, pad=0.01, label="value")
    ax_m.set_title(f"memory after step {t}")
    ax_m.set_xlabel("column $j$")
    ax_m.yaxis.set_major_locator(MaxNLocator(integer=True))
    positions = np.arange(first, stop)
    for ax, weights, colour, hatch, name in ((ax_w, record.write_weights, WRITE_COLOUR, WRITE_HATCH, "write"),
                                             (ax_r, record.read_weights, READ_COLOUR, None, "read")):
        ax.barh(positions, weights[t][window], color=colour if hatch is None else "white", edgecolor=colour,
                hatch=hatch, height=0.8)
        ax.set_xlim(0, 1.05)
        ax.set_ylim(stop - 0.5, first - 0.5)
        ax.set_xlabel("weight")
        ax.set_title(f"{name} weighting $w_t$" + (" (hatched)" if hatch else " (solid)"))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        row = int(positions[np.argmax(weights[t][window])])
        ax.annotate(f"{name} head", (weights[t][row % N], row), xytext=(0.55, row + 0.5 * (stop - first) / 8),
                    arrowprops={"arrowstyle": "->"}, fontsize="small", va="center")
    ax_w.invert_xaxis()
    ax_w.set_ylabel("memory row $i$" if first >= 0 else "memory row $i$ (-1 is row N-1)")
    ax_m.set_yticks([])
    ax_r.yaxis.tick_right()
    fig.suptitle(f"{record.task}: step {t} of 0-{T - 1} ({phase(record, t)})")
    return set_caption(fig, step_story(record, t))


def _plot_timeline(ax, record, t):
    """Inputs, then targets and outputs below them, as one greyscale heatmap over time with step ``t`` boxed."""
    inputs, targets, outputs = record.inputs.T, record.targets.T, (record.outputs * record.mask[:, None]).T
    gap = np.full((1, inputs.shape[1]), np.nan)
    stack = np.vstack([inputs, gap, targets, gap, outputs])
    ax.imshow(stack, cmap="Greys", vmin=0, vmax=1, aspect="auto", interpolation="nearest")
    ax.axvspan(t - 0.5, t + 0.5, fill=False, edgecolor="black", linewidth=2.5, linestyle="--")
    n_in, n_out = inputs.shape[0], targets.shape[0]
    ax.set_yticks([(n_in - 1) / 2, n_in + 1 + (n_out - 1) / 2, n_in + n_out + 2 + (n_out - 1) / 2],
                  ["inputs", "targets", "outputs"])
    ax.set_xlabel(f"time step $t$ (the dashed box: step {t})")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title("the episode (black = 1)")


def time_scrubber(record, t=0, interval=400):
    """A widget: a slider over the steps of ``record`` (an :class:`EpisodeRecord`) and a play button that moves it
    one step every ``interval`` milliseconds; the figure is :func:`plot_step`, its caption :func:`step_story`.

    Returns a :class:`~ntm_course.presentation.widgets.LiveFigure` with ``play``, the play button, linked to
    ``controls["t"]``.
    """
    last = len(record.mask) - 1
    step = slider(widgets.IntSlider, "time step t", t, min=0, max=last)
    play = widgets.Play(value=t, min=0, max=last, step=1, interval=interval, description="play")
    widgets.link((play, "value"), (step, "value"))
    live = LiveFigure({"t": step}, lambda t: plot_step(record, t), extra=[play])
    live.play = play
    return live
