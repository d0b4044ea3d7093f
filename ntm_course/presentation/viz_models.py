"""Figures of whole episodes and trained models: an episode's input, target and output with the heads'
weightings over time (like the paper's copy figure), one head's parameters step by step, the memory at the end,
learning curves, and generalisation to longer sequences.

Like :mod:`ntm_course.presentation.viz`, every function draws a new ``matplotlib.figure.Figure`` (or into the
given axes) and returns it; nothing touches pyplot's global state. Sequences are time first, ``(T, B, channels)`` or
``(T, channels)``; head weightings ``(T, B, H, N)``, ``(T, B, N)`` or ``(T, N)`` (one example and one head are
drawn, ``example=0`` and ``head=0`` unless told otherwise).
"""
import numpy as np

from ..extras import needs


with needs("lessons", __name__):
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

from ..heads import WRITE_VECTORS
from .viz import DIVERGING, PALETTE, SEQUENTIAL, line_style, new_axes


MAX_WIDTH = 14.0  # inches: long episodes are squeezed to fit a notebook's width


def _series(x, example=0, head=0):
    """A time series as a ``(T, channels)`` numpy array, from ``(T, C)``, ``(T, B, C)`` or ``(T, B, H, C)``."""
    x = x.detach().to("cpu").double()
    if x.dim() == 4:                           # (T, B, H, C): pick the example, then the head
        x = x[:, example, head]
    elif x.dim() == 3:                         # (T, B, C)
        x = x[:, example]
    if x.dim() != 2:
        raise ValueError(f"expected (T, C), (T, B, C) or (T, B, H, C), got shape {tuple(x.shape)}")
    return x.numpy()


def used_rows(*weightings, threshold=0.1, margin=1):
    """The window ``(first, stop)`` of memory rows that any weighting puts more than ``threshold`` on.

    Weightings are ``(T, N)`` numpy arrays. A trained NTM with N = 128 rows uses only a few on a short
    episode; drawing just those (plus ``margin`` rows either side) makes its weightings readable. The
    threshold ignores the faint weight that an idle head spreads over every row. Memory is circular (a
    shift of -1 from row 0 lands on row N-1), so the window is the shortest circular one: ``first`` is
    negative when it wraps, row ``-1`` standing for row ``N - 1``.
    """
    if not weightings:
        raise ValueError("used_rows needs at least one weighting")
    N = weightings[0].shape[1]
    hot = np.flatnonzero(np.max([w.max(axis=0) for w in weightings], axis=0) > threshold)
    if hot.size == 0:
        return 0, N
    gaps = np.diff(np.append(hot, hot[0] + N))          # gap after each hot row, the last one wrapping round
    widest = gaps.size - 1 - int(np.argmax(gaps[::-1]))  # on a tie, prefer the window that does not wrap
    first = int(hot[(widest + 1) % hot.size])              # the window starts after the widest gap ...
    last = int(hot[widest])                                # ... and ends before it
    if first > last:
        first -= N
    if first >= 0:                                         # no wrap: clip the margin at the memory's edges
        return max(first - margin, 0), min(last + 1 + margin, N)
    spare = N - (last + 1 - first)                         # rows outside the window: room for the margins
    before = min(margin, (spare + 1) // 2)
    return first - before, last + 1 + min(margin, spare - before)


def plot_sequence(x, ax=None, title="Sequence", example=0, ylabel="channel", vmin=0.0, vmax=1.0, cmap="Greys",
                  head=0):
    """Heatmap of a sequence with time running left to right, one row per channel.

    Args:
        x: ``(T, C)``, ``(T, B, C)`` or ``(T, B, H, C)`` (a head's vectors: ``head`` picks one).
    """
    return _time_heatmap(ax, _series(x, example, head), 2.5, title, ylabel, cmap=cmap, vmin=vmin, vmax=vmax)


def plot_weightings_over_time(w, ax=None, title="Head weighting over time", example=0, head=0, rows=None,
                              cmap=SEQUENTIAL):
    """Heatmap of one head's weighting at every step: memory rows down, time left to right.

    Args:
        w: ``(T, N)``, ``(T, B, N)`` or ``(T, B, H, N)``.
        rows: ``(first, stop)``, the range of rows to draw (default: all); a negative ``first`` wraps round,
            as :func:`used_rows` returns it.
    """
    values = _series(w, example, head)
    first, stop = rows if rows is not None else (0, values.shape[1])
    return _time_heatmap(ax, values[:, np.arange(first, stop) % values.shape[1]], 3.0, title,
                         "memory row $i$" if first >= 0 else "memory row $i$ (-1 is row N-1)", "weight", cmap=cmap,
                         vmin=0.0, vmax=1.0, extent=(-0.5, values.shape[0] - 0.5, stop - 0.5, first - 0.5))


def _time_heatmap(ax, values, height, title, ylabel, colorbar_label="", **style):
    """``values (T, rows)`` as a heatmap, time left to right and rows down, with a colour bar; into ``ax``, or a
    new figure ``height`` inches tall. ``style``: ``imshow``'s arguments (``cmap``, ``vmin``, ``vmax``, ``extent``)."""
    fig, ax = new_axes(ax, (_width(len(values)), height))
    image = ax.imshow(values.T, aspect="auto", interpolation="nearest", **style)
    ax.set_title(title)
    ax.set_xlabel("time step $t$")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(image, ax=ax, pad=0.01, label=colorbar_label)
    return fig


def _width(T, stacked=False):
    """A figure's width in inches for T time steps, at most :data:`MAX_WIDTH` (``stacked``: several panels)."""
    least, per_step, rest = (7.0, 0.22, 3.0) if stacked else (4.0, 0.25, 1.5)
    return min(MAX_WIDTH, max(least, per_step * T + rest))


def plot_episode(inputs, targets=None, outputs=None, read_weights=None, write_weights=None, example=0,
                 title="One episode", rows="used"):
    """An episode, as in the paper's copy figure: inputs, targets and outputs over time above, the write and
    read heads' weightings over time below.

    Args:
        inputs ``(T, [B,] in)``, targets and outputs ``(T, [B,] out)`` (outputs as probabilities, e.g.
        ``torch.sigmoid(logits)``), read and write weightings ``(T, [B, [H,]] N)``; any of the last four may
        be ``None`` and is then left out.
        rows: ``"used"`` draws only the memory rows the heads visit, ``None`` all rows, or ``(first, stop)``.
    """
    panels = [(name, x) for name, x in (("inputs", inputs), ("targets", targets), ("outputs", outputs))
              if x is not None]
    heads = [(name, w) for name, w in (("write head", write_weights), ("read head", read_weights)) if w is not None]
    if rows == "used" and heads:
        rows = used_rows(*[_series(w, example) for _, w in heads])
    T = inputs.shape[0]
    fig = Figure(figsize=(_width(T, stacked=True), 1.9 * len(panels) + 2.6 * len(heads)), layout="constrained")
    axes = fig.subplots(len(panels) + len(heads), 1, squeeze=False,
                        gridspec_kw={"height_ratios": [1] * len(panels) + [1.5] * len(heads)})[:, 0]
    for ax, (name, x) in zip(axes, panels):
        plot_sequence(x, ax=ax, title=name, example=example)
    for ax, (name, w) in zip(axes[len(panels):], heads):
        plot_weightings_over_time(w, ax=ax, title=f"{name} weighting $w_t$", example=example, rows=rows)
    _time_axes(axes, T)
    fig.suptitle(title)
    return fig


def _finish_line_plot(fig, ax, title, xlabel, ylabel):
    """Title, axis labels, a light grid and the legend of a line plot; returns ``fig``."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return fig


def plot_learning_curves(curves, ax=None, title="Learning curves", xlabel="sequences seen",
                         ylabel="cost (bits per sequence)", log_y=True):
    """One line per model: a metric against training progress.

    Args:
        curves: ``{label: (x, y)}``, x and y sequences of numbers of the same length.
        log_y: a logarithmic y axis (costs fall over orders of magnitude).
    """
    if not curves:
        raise ValueError("curves must hold at least one {label: (x, y)} entry, got an empty dict")
    fig, ax = new_axes(ax, (6.5, 3.8))
    for i, (label, (x, y)) in enumerate(curves.items()):
        if len(x) != len(y):
            raise ValueError(f"curve {label!r} has {len(x)} x values but {len(y)} y values")
        ax.plot(x, y, label=label, lw=2, markevery=max(1, len(x) // 12), ms=5, **line_style(i))
    if log_y:
        ax.set_yscale("log")
    return _finish_line_plot(fig, ax, title, xlabel, ylabel)


def plot_generalisation(lengths, results, ax=None, train_max=None, title="Generalisation to longer sequences",
                        xlabel="sequence length", ylabel="bit errors per sequence"):
    """A metric against test length, one line per model, the training range shaded.

    Args:
        lengths: the test lengths, a sequence of numbers.
        results: ``{label: values}``, one value per length.
        train_max: the longest length seen in training (shades ``[0, train_max]``).
    """
    if not results:
        raise ValueError("results must hold at least one {label: values} entry, got an empty dict")
    fig, ax = new_axes(ax, (6.5, 3.8))
    if train_max is not None:
        ax.axvspan(0, train_max, color="0.9", label=f"training lengths (<= {train_max})")
    for i, (label, values) in enumerate(results.items()):
        if len(values) != len(lengths):
            raise ValueError(f"results[{label!r}] has {len(values)} values for {len(lengths)} lengths")
        ax.plot(lengths, values, label=label, lw=2, **line_style(i))
    return _finish_line_plot(fig, ax, title, xlabel, ylabel)


def _param_series(trace, name, example=0, head=0):
    """``trace[name]`` ``(T, B, H, C)`` as a ``(T, C)`` numpy array; a readable error when it is missing."""
    if name not in trace:
        raise ValueError(f"the trace has no {name!r}: record it with model.trace(x) (keys: {sorted(trace)})")
    return _series(trace[name], example, head)


def plot_head_params(trace, kind="read", example=0, head=0, rows="used", axes=None, title=None):
    """One head over an episode: its weighting and the parameters that produced it, step by step.

    Panels, time left to right: the weighting ``w_t`` (memory rows down); the gate ``g_t`` (eq. 7); the shift
    distribution ``s_t`` (eq. 8, offsets ``-K//2 .. K//2`` down); the key strength ``beta_t`` (eq. 5) and the
    sharpening ``gamma_t`` (eq. 9); for a write head also its erase and add vectors ``e_t``, ``a_t`` (eqs. 3-4).

    Args:
        trace: the dict from ``NTM.trace``: ``{kind}_weights (T, B, H, N)``, ``{kind}_g``, ``{kind}_beta``,
            ``{kind}_gamma (T, B, H, 1)``, ``{kind}_s (T, B, H, K)`` and, for ``kind="write"``, ``erase`` and
            ``add (T, B, W, M)``.
        kind: ``"read"`` or ``"write"``.
        rows: as in :func:`plot_episode`.
        axes: a sequence of matplotlib axes to draw into, one per panel (4, or 6 for a write head).
    """
    if kind not in ("read", "write"):
        raise ValueError(f"kind must be 'read' or 'write', got {kind!r}")
    vectors = WRITE_VECTORS if kind == "write" else ()
    keys = [f"{kind}_{name}" for name in ("weights", "g", "s", "beta", "gamma")] + list(vectors)
    w, g, s, beta, gamma, *_ = [_param_series(trace, key, example, head) for key in keys]   # each key checked
    T = w.shape[0]
    fig, axes = _head_param_axes(axes, kind, T, len(vectors))
    rows = used_rows(w) if rows == "used" else rows
    plot_weightings_over_time(trace[f"{kind}_weights"], ax=axes[0], title=f"{kind} head weighting $w_t$",
                              example=example, head=head, rows=rows)
    _plot_gate(axes[1], kind, g)
    _plot_shift(axes[2], kind, s)
    _plot_strengths(axes[3], kind, beta, gamma)
    for ax, name in zip(axes[4:], vectors):
        symbol, vmin, cmap = ("$e_t$", 0.0, "Greys") if name == "erase" else ("$a_t$", -1.0, DIVERGING)
        plot_sequence(trace[name], ax=ax, title=f"{name} vector {symbol}", example=example, head=head,
                      ylabel="column $j$", vmin=vmin, cmap=cmap)
    _time_axes(axes, T)
    if title is not None:
        fig.suptitle(title)
    return fig


def _head_param_axes(axes, kind, T, n_vectors):
    """The figure and the panels of :func:`plot_head_params`: the ``axes`` given (checked), or a new figure's."""
    n = 4 + n_vectors
    if axes is not None:
        if len(axes) != n:
            raise ValueError(f"a {kind} head needs {n} axes, got {len(axes)}")
        return axes[0].figure, axes
    fig = Figure(figsize=(_width(T, stacked=True), 2.6 + 1.5 * 3 + 2.0 * n_vectors), layout="constrained")
    ratios = [1.6, 1, 1, 1] + [1.2] * n_vectors
    return fig, fig.subplots(n, 1, squeeze=False, gridspec_kw={"height_ratios": ratios})[:, 0]


def _plot_gate(ax, kind, g):
    """The gate ``g_t`` (eq. 7) over time, from ``g (T, 1)``."""
    ax.plot(np.arange(len(g)), g[:, 0], "o-", ms=3, color=PALETTE[0], label="gate $g_t$")
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("$g_t$")
    ax.set_title(f"{kind} head: gate $g_t$ (1: content lookup, 0: keep the previous focus)")


def _plot_shift(ax, kind, s):
    """The shift distribution ``s_t`` (eq. 8) over time, from ``s (T, K)``: offsets ``-K//2 .. K//2`` down."""
    T, K = s.shape
    _time_heatmap(ax, s, None, f"{kind} head: shift distribution $s_t$ (+1 moves down one row)", "offset", "weight",
                  cmap="Greys", vmin=0.0, vmax=1.0, extent=(-0.5, T - 0.5, K // 2 + 0.5, -(K // 2) - 0.5))
    ax.set_yticks(range(-(K // 2), K // 2 + 1))


def _plot_strengths(ax, kind, beta, gamma):
    """The key strength ``beta_t`` (eq. 5) and the sharpening ``gamma_t`` (eq. 9) over time, each ``(T, 1)``."""
    steps = np.arange(len(beta))
    ax.plot(steps, beta[:, 0], "o-", ms=3, color=PALETTE[1], label=r"key strength $\beta_t$")
    ax.plot(steps, gamma[:, 0], "s--", ms=3, color=PALETTE[0], label=r"sharpening $\gamma_t$")
    ax.set_ylim(bottom=0)
    ax.set_title(rf"{kind} head: key strength $\beta_t$ and sharpening $\gamma_t$")
    ax.legend(loc="upper left", fontsize="small")


def _time_axes(axes, T):
    """Every panel on one time axis ``0 .. T-1``; a light grid on the line plots."""
    for ax in axes:
        ax.set_xlim(-0.5, T - 0.5)
        ax.set_xlabel("time step $t$")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if not ax.get_images():
            ax.grid(True, alpha=0.3)


def plot_memory_over_rows(memory, ax=None, rows=None, title="Memory after the episode", example=0):
    """The memory ``(B, N, M)`` or ``(N, M)`` (e.g. ``trace["memory"][-1]``) as a heatmap: rows down, columns across.

    rows: ``(first, stop)`` as :func:`used_rows` returns it (default: all rows).
    """
    values = memory.detach().to("cpu").double()
    if values.dim() == 3:
        values = values[example]
    if values.dim() != 2:
        raise ValueError(f"memory must be (B, N, M) or (N, M), got shape {tuple(memory.shape)}")
    values = values.numpy()
    first, stop = rows if rows is not None else (0, values.shape[0])
    fig, ax = new_axes(ax, (5.0, 4.0))
    limit = max(float(np.abs(values).max()), 1e-12)
    image = ax.imshow(values[np.arange(first, stop) % values.shape[0]], cmap=DIVERGING, vmin=-limit, vmax=limit,
                      aspect="auto", interpolation="nearest",
                      extent=(-0.5, values.shape[1] - 0.5, stop - 0.5, first - 0.5))
    ax.set_title(title)
    ax.set_xlabel("column $j$")
    ax.set_ylabel("memory row $i$")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.colorbar(image, ax=ax, pad=0.01)
    return fig
