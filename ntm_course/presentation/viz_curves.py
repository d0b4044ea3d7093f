"""Figures of training results: learning curves, and generalisation to longer sequences.

Like :mod:`ntm_course.presentation.viz`, every function draws a new ``matplotlib.figure.Figure`` (or into the
given axes) and returns it; nothing touches pyplot's global state.
"""
from .viz import new_axes


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
    Returns:
        the Figure.
    """
    if not curves:
        raise ValueError("curves must hold at least one {label: (x, y)} entry, got an empty dict")
    fig, ax = new_axes(ax, (6.5, 3.8))
    for label, (x, y) in curves.items():
        if len(x) != len(y):
            raise ValueError(f"curve {label!r} has {len(x)} x values but {len(y)} y values")
        ax.plot(x, y, label=label, lw=2)
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
    Returns:
        the Figure.
    """
    if not results:
        raise ValueError("results must hold at least one {label: values} entry, got an empty dict")
    fig, ax = new_axes(ax, (6.5, 3.8))
    if train_max is not None:
        ax.axvspan(0, train_max, color="0.9", label=f"training lengths (<= {train_max})")
    for label, values in results.items():
        if len(values) != len(lengths):
            raise ValueError(f"results[{label!r}] has {len(values)} values for {len(lengths)} lengths")
        ax.plot(lengths, values, "o-", label=label, lw=2)
    return _finish_line_plot(fig, ax, title, xlabel, ylabel)
