"""Captions and alt text for the course's figures, so a reader who cannot see a plot still learns what it shows.

Every figure the presentation code makes gets a text description: :func:`describe` writes one from the figure
itself (its title, each panel's title, kind and axes, the legend's entries and the colour bars' labels), and
:func:`set_caption` keeps a better one written by the code that knows what the figure means (the time-scrubber's
story of a step, for instance). :func:`caption` gives the caption if one was set, else the description.

:func:`show` displays a figure in a notebook as HTML: the picture with its caption as alt text (what a screen
reader reads) and below it as a visible caption; :func:`enable` does that for every figure a notebook displays
from then on (each lesson asks for it in its set-up cell). The widgets
(:class:`~ntm_course.presentation.widgets.LiveFigure`) print the caption of the figure they draw under it.
"""
import base64
import html
import io

from ..extras import ipython_shell


CAPTION = "ntm_caption"   # the Figure attribute that holds a caption set by set_caption


def set_caption(fig, text):
    """Give ``fig`` the caption ``text`` (a sentence or two in plain words); returns ``fig``."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"a caption must be a non-empty string, got {text!r}")
    setattr(fig, CAPTION, text.strip())
    return fig


def _plain(label):
    """A matplotlib label without its TeX markup: ``"weight $w(i)$"`` -> ``"weight w(i)"``, ``"$w^{c}_t$"`` ->
    ``"w^c_t"``, ``"$\\beta$"`` -> ``"beta"``."""
    for token in ("$", "\\", "{", "}", "mathrm"):
        label = label.replace(token, "")
    return " ".join(label.split())


def _is_colorbar(ax):
    return getattr(ax, "_colorbar", None) is not None


def _panel(ax):
    """One panel in words: its title, what kind of plot it is, and its axes."""
    if ax.get_images():
        kind = "heatmap"
    elif ax.patches:
        kind = f"bar chart of {len(ax.patches)} bars"
    elif ax.get_lines():
        kind = "line plot"
    else:
        kind = "empty panel"
    words = f"{_plain(ax.get_title())}: a {kind}" if ax.get_title() else f"a {kind}"
    x, y = _plain(ax.get_xlabel()), _plain(ax.get_ylabel())
    if x or y:
        words += f" of {y or 'values'} against {x or 'position'}"
    legend = ax.get_legend()
    if legend is not None:
        words += " (legend: " + ", ".join(_plain(t.get_text()) for t in legend.get_texts()) + ")"
    bars = [cax for cax in ax.figure.axes if _is_colorbar(cax) and cax._colorbar.mappable.axes is ax]
    for cax in bars:
        low, high = cax._colorbar.mappable.get_clim()
        label = _plain(cax.get_ylabel() or cax.get_xlabel()) or "value"
        words += f"; colour shows {label} from {low:.3g} to {high:.3g}"
    return words


def describe(fig):
    """A description of ``fig`` made from the figure itself: its title, then each panel in words."""
    panels = [ax for ax in fig.axes if not _is_colorbar(ax) and ax.get_visible()]
    title = _plain(fig.get_suptitle()) if hasattr(fig, "get_suptitle") else ""
    if not title and len(panels) == 1:
        title = _plain(panels[0].get_title())
    parts = [f"Figure: {title}." if title else "Figure."]
    if panels:
        parts.append(f"{len(panels)} panel{'s' if len(panels) > 1 else ''}: "
                     + "; ".join(_panel(ax) for ax in panels) + ".")
    return " ".join(parts)


def caption(fig):
    """The caption set by :func:`set_caption`, else :func:`describe`'s description."""
    return getattr(fig, CAPTION, None) or describe(fig)


def figure_png(fig, dpi=80):
    """``fig`` as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


class Captioned:
    """A figure for a notebook to display: the picture with its alt text and a visible caption (``_repr_html_``),
    or the caption alone where HTML is not shown."""

    def __init__(self, fig, text=None):
        self.figure = fig
        self.caption = text.strip() if text else caption(fig)

    def _repr_html_(self):
        data = base64.b64encode(figure_png(self.figure)).decode("ascii")
        text = html.escape(self.caption)
        return (f'<figure style="margin:0"><img src="data:image/png;base64,{data}" alt="{text}" '
                f'style="max-width:100%"><figcaption style="font-size:0.9em">{text}</figcaption></figure>')

    def __repr__(self):
        return self.caption


def show(fig, text=None):
    """Display ``fig`` with a caption (``text``, else :func:`caption`) as its alt text and under it: the last line of
    a notebook cell, e.g. ``show(viz.plot_memory(memory))``."""
    return Captioned(fig, text)


def enable(shell=None):
    """From now on, show every matplotlib figure this notebook displays with its caption, as the picture's alt text
    and under it (an HTML display beside the PNG); a lesson asks for it once, in its set-up cell. Returns whether
    it took effect (False outside IPython). ``shell``: the IPython shell (default: the running one)."""
    from matplotlib.figure import Figure
    shell = ipython_shell() if shell is None else shell
    if shell is None:
        return False
    shell.display_formatter.formatters["text/html"].for_type(Figure, lambda fig: Captioned(fig)._repr_html_())
    return True
