"""Figures of the NTM's mechanism: weightings as bar charts, memory as heatmaps, the addressing stages.

Every function is pure: it takes tensors (on any device, with or without a batch axis), draws a new
``matplotlib.figure.Figure`` and returns it; nothing is shown or kept in pyplot's global state. In a
notebook, a returned figure displays itself (``%matplotlib inline``); :func:`ntm_course.presentation.captions.show`
displays it with its caption and alt text. Tensors with a batch axis are drawn for one example, ``example=0``
unless told otherwise.

Colours are for everyone: the colour maps are perceptually uniform and readable with the common colour-vision
deficiencies (:data:`SEQUENTIAL` viridis for values in a range, :data:`DIVERGING` red-blue for signed values, never
red against green), line and bar colours come from the Okabe-Ito palette (:data:`PALETTE`), and nothing is told
by colour alone: a highlighted bar is also hatched and labelled, lines also differ in marker and dash.
"""
from ..extras import needs


with needs("lessons", __name__):
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

from ..addressing import shift, shift_offsets
from ..memory import read, write


PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe & Ito's colours (blue, orange, bluish green, reddish purple, sky blue, vermillion, yellow, black): distinct
with the common colour-vision deficiencies. Lines and bars take them in this order."""
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
"""Each line's marker, in :data:`PALETTE`'s order: lines differ by shape as well as colour."""
DASHES = ("-", "--", "-.", ":")
SEQUENTIAL = "viridis"
"""The colour map for values in a range (weights, memory): perceptually uniform, colour-blind safe."""
DIVERGING = "RdBu_r"
"""The colour map for signed values centred on 0 (memory contents, add vectors): blue below, red above, no green."""
WRITE_COLOUR, READ_COLOUR = PALETTE[1], PALETTE[0]
"""The write heads' colour (orange, drawn hatched) and the read heads' (blue, drawn solid)."""
WRITE_HATCH = "//"
HIGHLIGHT_COLOUR, HIGHLIGHT_HATCH = PALETTE[5], "xx"


def line_style(i):
    """The colour, marker and dash of the ``i``-th line of a plot: ``{"color", "marker", "linestyle"}``."""
    return {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)],
            "linestyle": DASHES[i % len(DASHES)]}


STAGE_TITLES = {
    "previous": "previous $w_{t-1}$",
    "content": "content $w^c_t$ (eq. 5)",
    "gated": "gated $w^g_t$ (eq. 7)",
    "shifted": r"shifted $\tilde w_t$ (eq. 8)",
    "sharpened": "sharpened $w_t$ (eq. 9)",
}
PANEL_WIDTH = 3.2  # inches per panel: readable at the notebook's width


def _as_array(x, example, ndim):
    """A tensor with ``ndim`` dimensions, or ``ndim + 1`` with a leading batch axis, as a numpy array."""
    x = x.detach()
    if x.dim() == ndim + 1:
        x = x[example]
    if x.dim() != ndim:
        raise ValueError(f"expected a tensor with {ndim} dimensions (or {ndim + 1} with a batch axis), "
                         f"got shape {tuple(x.shape)}")
    return x.to("cpu").double().numpy()


def new_axes(ax, size):
    """The figure and axes to draw on: ``(ax.figure, ax)`` when ``ax`` is given, else a fresh ``Figure`` of
    ``size`` (width, height in inches, constrained layout) and its only axes.

    Every plot function that accepts ``ax=`` starts with it, here and in :mod:`ntm_course.presentation.viz_models`.
    """
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def plot_weighting(w, ax=None, title="Weighting", example=0, ylim=(0, 1.05), color=PALETTE[0], highlight=None,
                   ylabel="weight $w(i)$"):
    """Bar chart of a weighting over the memory rows.

    Args:
        w: ``(N,)`` or ``(B, N)``.
        ax: draw into these axes instead of a new figure.
        ylim: the y range; ``None`` lets matplotlib choose (e.g. for similarities in [-1, 1]).
        highlight: a row index to set apart (e.g. the row the key was taken from): a contrasting colour, hatched,
            with a label above it, so it stands out without colour too.
        ylabel: the y axis label (e.g. "similarity" for the values of eq. 6).
    Returns:
        the Figure.
    """
    values = _as_array(w, example, 1)
    fig, ax = new_axes(ax, (5, 2.8))
    colors = [color] * len(values)
    if highlight is not None:
        colors[highlight] = HIGHLIGHT_COLOUR
    bars = ax.bar(range(len(values)), values, color=colors)
    if highlight is not None:
        bars[highlight].set_hatch(HIGHLIGHT_HATCH)
        bars[highlight].set_edgecolor("black")
        ax.annotate(f"row {highlight}", (highlight, values[highlight]), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize="small")
    ax.set_title(title)
    ax.set_xlabel("memory row $i$")
    ax.set_ylabel(ylabel)
    if len(values) <= 12:
        ax.set_xticks(range(len(values)))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if ylim is not None:
        ax.set_ylim(*ylim)
    return fig


def plot_weightings(weightings, title=None, example=0, ylim=(0, 1.05), ylabel="weight $w(i)$"):
    """Several weightings side by side, one panel each, sharing the y axis.

    Args:
        weightings: a dict ``{panel title: (N,) or (B, N) tensor}``, drawn left to right.
        title: a title over all panels.
    Returns:
        the Figure.
    """
    if not weightings:
        raise ValueError("weightings must hold at least one weighting, got an empty dict")
    fig = Figure(figsize=(PANEL_WIDTH * len(weightings), 2.8), layout="constrained")
    axes = fig.subplots(1, len(weightings), sharey=True, squeeze=False)[0]
    for ax, (name, w) in zip(axes, weightings.items()):
        plot_weighting(w, ax=ax, title=name, example=example, ylim=ylim)
        ax.set_ylabel("")
    axes[0].set_ylabel(ylabel)
    if title:
        fig.suptitle(title)
    return fig


def plot_address_stages(stages, w_prev=None, example=0, title="The addressing pipeline, stage by stage"):
    """Every intermediate weighting of the addressing pipeline, left to right.

    Args:
        stages: the dict returned by :func:`ntm_course.addressing.address_stages` (``content``, ``gated``,
            ``shifted``, ``sharpened``; any subset, drawn in that order).
        w_prev: ``(N,)`` or ``(B, N)``, the previous weighting, drawn first when given.
    Returns:
        the Figure.
    """
    panels = {STAGE_TITLES["previous"]: w_prev} if w_prev is not None else {}
    panels.update({STAGE_TITLES[name]: stages[name] for name in STAGE_TITLES if name in stages})
    if not panels:
        raise ValueError(f"stages must hold some of {list(STAGE_TITLES)[1:]}, got keys {list(stages)}")
    return plot_weightings(panels, title=title, example=example)


def plot_memory(memory, ax=None, title="Memory", example=0, vmin=None, vmax=None, cmap=SEQUENTIAL,
                row_labels=None):
    """Heatmap of a memory matrix: one row per memory location, one column per element of its vector.

    Args:
        memory: ``(N, M)`` or ``(B, N, M)``.
        vmin, vmax: the colour range (fix it to compare two memories by eye).
        row_labels: names for the rows, when they are not memory locations (e.g. stacked vectors).
    Returns:
        the Figure.
    """
    values = _as_array(memory, example, 2)
    N, M = values.shape
    fig, ax = new_axes(ax, (min(10.0, max(3.0, 0.35 * M + 1.5)), min(8.0, max(2.5, 0.3 * N + 1.0))))
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_title(title)
    ax.set_xlabel("element $j$ of the row ($M$ wide)")
    if row_labels is not None:
        ax.set_yticks(range(N), row_labels)
    else:
        ax.set_ylabel("memory row $i$")
        if N <= 16:
            ax.set_yticks(range(N))
    if M <= 16:
        ax.set_xticks(range(M))
    fig.colorbar(image, ax=ax, label="value")
    return fig


def _weighting_beside(ax, values, title):
    """A weighting drawn sideways so its bars line up with a heatmap's rows."""
    ax.barh(range(len(values)), values, color=PALETTE[1])
    ax.set_ylim(len(values) - 0.5, -0.5)
    ax.set_xlim(0, 1.05)
    ax.set_title(title)
    ax.set_xlabel("weight $w(i)$")
    ax.set_ylabel("memory row $i$")


def plot_read(memory, w, example=0, title="Reading: $r = \\sum_i w(i)\\, M(i)$ (eq. 2)"):
    """The weighting beside the memory it reads, and the read vector it returns (computed by ``memory.read``).

    Args:
        memory: ``(B, N, M)``; w: ``(B, N)``.
    Returns:
        the Figure.
    """
    r = read(memory, w)
    values = _as_array(memory, example, 2)
    limit = max(abs(values).max(), 1e-12)
    fig = Figure(figsize=(10, 3.4), layout="constrained")
    ax_w, ax_m, ax_r = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1, 2, 2]})
    _weighting_beside(ax_w, _as_array(w, example, 1), "weighting $w$")
    plot_memory(memory, ax=ax_m, title="memory $M$", example=example, vmin=-limit, vmax=limit, cmap=DIVERGING)
    r_values = _as_array(r, example, 1)
    ax_r.bar(range(len(r_values)), r_values, color=PALETTE[2])
    ax_r.set_ylim(-limit * 1.05, limit * 1.05)
    ax_r.set_title("read vector $r$")
    ax_r.set_xlabel("element $j$")
    ax_r.set_ylabel("$r_j$")
    fig.suptitle(title)
    return fig


def plot_write(memory, w, erase, add, example=0, title="Writing: erase (eq. 3), then add (eq. 4)"):
    """Memory before a write, the write weighting, and memory after it (computed by ``memory.write``).

    Both heatmaps share one colour range, so a change shows as a change of colour.

    Args:
        memory: ``(B, N, M)``; w: ``(B, N)``; erase, add: ``(B, M)``.
    Returns:
        the Figure.
    """
    after = write(memory, w, erase, add)
    before_values = _as_array(memory, example, 2)
    after_values = _as_array(after, example, 2)
    vmin = min(before_values.min(), after_values.min())
    vmax = max(before_values.max(), after_values.max())
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax_before, ax_w, ax_after = fig.subplots(1, 3, gridspec_kw={"width_ratios": [2, 1, 2]})
    plot_memory(memory, ax=ax_before, title="before, $M_{t-1}$", example=example, vmin=vmin, vmax=vmax)
    _weighting_beside(ax_w, _as_array(w, example, 1), "write weighting $w_t$")
    plot_memory(after, ax=ax_after, title="after, $M_t$", example=example, vmin=vmin, vmax=vmax)
    fig.suptitle(title)
    return fig


def plot_shift_direction(w, s, example=0, title="Shifting: $s$ moves the focus (eq. 8)"):
    """The weighting before a shift, the shift distribution over its offsets, and the result of ``shift``.

    Args:
        w: ``(B, N)``; s: ``(B, K)``, K odd, ``s[:, k]`` the weight of offset ``k - K//2``.
    Returns:
        the Figure.
    """
    shifted = shift(w, s)
    s_values = _as_array(s, example, 1)
    offsets = shift_offsets(len(s_values))
    fig = Figure(figsize=(10, 2.9), layout="constrained")
    ax_before, ax_s, ax_after = fig.subplots(1, 3, gridspec_kw={"width_ratios": [2, 1, 2]})
    plot_weighting(w, ax=ax_before, title="before, $w^g_t$", example=example)
    ax_s.bar(offsets, s_values, color=PALETTE[3])
    ax_s.set_xticks(offsets, [f"{o:+d}" if o else "0" for o in offsets])
    ax_s.set_ylim(0, 1.05)
    ax_s.set_title("shift distribution $s_t$")
    ax_s.set_xlabel("offset (rows)")
    ax_s.set_ylabel("probability")
    plot_weighting(shifted, ax=ax_after, title=r"after, $\tilde w_t$", example=example)
    fig.suptitle(title)
    return fig
