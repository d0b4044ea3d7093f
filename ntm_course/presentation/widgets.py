"""Live controls for the lessons: move a slider, watch a weighting or the memory change.

This module is wiring only. What each widget shows is computed by a small pure function here (tested
without a browser) over the library's equations, and drawn by :mod:`ntm_course.presentation.viz`:

==================  ==============================  ==========================================
widget              computes with                   draws with
==================  ==============================  ==========================================
read_widget         focus_weighting (eq. 2)         viz.plot_read
beta_widget         beta_weighting (eq. 5)          viz.plot_weighting
gate_widget         gate_weighting (eq. 7)          viz.plot_weightings
shift_widget        shift_from_weights (eq. 8)      viz.plot_shift_direction
gamma_widget        gamma_weighting (eq. 9)         viz.plot_weightings
write_widget        write_inputs (eqs. 3-4)         viz.plot_write
pipeline_widget     pipeline_stages (eqs. 5-9)      viz.plot_address_stages
==================  ==============================  ==========================================

Tensors keep the library's batch-first shapes (usually B = 1); sliders give plain floats, which the pure
functions turn into ``(B, 1)`` tensors on the inputs' device and dtype.

The widgets use only what ipywidgets 7.7 and 8 share (hosted notebooks such as Colab ship 7.7): sliders with a
``layout`` and a ``style`` dict, ``Image``, ``HTML``, ``Button``, boxes and ``observe``. Needs the ``lessons``
extra (``pip install 'ntm-course[lessons]'``).
"""
import html

import torch

from ..addressing import address_stages, content_addressing, interpolate, sharpen, shift, shift_offsets
from ..checks import check_memory, check_tensor
from ..extras import needs
from ..memory import write


with needs("lessons", __name__):
    import ipywidgets as widgets

    from . import viz
    from .captions import caption, figure_png

SLIDER_LAYOUT = widgets.Layout(width="420px")
SLIDER_STYLE = {"description_width": "110px"}


# ---- pure functions: what each widget shows ------------------------------------------------------------

def as_scalar(value, like):
    """A float as the per-example scalar ``(B, 1)`` that the library expects, on ``like``'s device and dtype."""
    return torch.full((like.shape[0], 1), float(value), dtype=like.dtype, device=like.device)


def beta_weighting(memory, key, beta):
    """The content weighting (eq. 5) for key strength ``beta`` (a float): ``(B, N)``."""
    return content_addressing(memory, key, as_scalar(beta, memory))


def gate_weighting(w_content, w_prev, g):
    """The gated weighting (eq. 7) for the gate ``g`` (a float in [0, 1]): ``(B, N)``."""
    return interpolate(w_content, w_prev, as_scalar(g, w_content))


def shift_from_weights(weights, like):
    """Slider values, one per offset ``-(K//2) .. +(K//2)``, normalised to a shift distribution ``(B, K)``.

    Raises ValueError when K is even, a weight is negative, or all weights are 0 (nothing to normalise).
    """
    values = [float(v) for v in weights]
    shift_offsets(len(values))                                   # K must be odd
    if min(values) < 0 or sum(values) <= 0:
        raise ValueError(f"shift weights must be non-negative and not all 0, got {values}")
    s = torch.tensor(values, dtype=like.dtype, device=like.device)
    return (s / s.sum()).expand(like.shape[0], -1)


def gamma_weighting(w, gamma):
    """The sharpened weighting (eq. 9) for the exponent ``gamma`` (a float >= 1): ``(B, N)``."""
    return sharpen(w, as_scalar(gamma, w))


def focus_weighting(N, row, spread, like):
    """A weighting focused on ``row`` that leaks ``spread`` of its weight to the two neighbouring rows.

    Built as a one-hot on ``row`` shifted by ``s = (spread/2, 1 - spread, spread/2)`` (eq. 8); ``(B, N)``
    on ``like``'s device and dtype.
    """
    if not 0 <= row < N:
        raise ValueError(f"row must be in 0..{N - 1} for N={N} rows, got {row}")
    if not 0 <= spread <= 1:
        raise ValueError(f"spread must be in [0, 1], got {spread}")
    one_hot = torch.zeros(like.shape[0], N, dtype=like.dtype, device=like.device)
    one_hot[:, row] = 1
    s = torch.tensor([spread / 2, 1 - spread, spread / 2], dtype=like.dtype, device=like.device)
    return shift(one_hot, s.expand(like.shape[0], -1))


def write_inputs(memory, add, row, spread, erase, add_scale):
    """The write weighting, erase vector and add vector that the write widget's sliders describe.

    Args:
        memory: ``(B, N, M)``; add: ``(B, M)``, the vector to write.
        row, spread: where the write focuses (see :func:`focus_weighting`).
        erase: a float in [0, 1], every element of the erase vector ``e_t``.
        add_scale: a float, the add vector ``a_t`` is ``add_scale * add``.
    Returns:
        ``(w, erase, add)`` with shapes ``(B, N)``, ``(B, M)``, ``(B, M)``, ready for ``memory.write``.
    """
    B, N, M = check_memory(memory)
    check_tensor("add", add, 2, "B, M", (B, M))
    if not 0 <= erase <= 1:
        raise ValueError(f"erase must be in [0, 1], got {erase}")
    w = focus_weighting(N, row, spread, memory)
    return w, torch.full_like(add, float(erase)), add * float(add_scale)


def pipeline_stages(memory, key, w_prev, beta, g, shift_weights, gamma):
    """Every stage of the addressing pipeline (eqs. 5-9) for slider values: the dict of ``address_stages``."""
    s = shift_from_weights(shift_weights, memory)
    return address_stages(memory, key, as_scalar(beta, memory), as_scalar(g, memory), s,
                          as_scalar(gamma, memory), w_prev)


# ---- wiring --------------------------------------------------------------------------------------------

def slider(kind, description, value, **kwargs):
    """A slider in the course's look: ``kind`` (e.g. ``ipywidgets.FloatSlider``) at ``value``, labelled
    ``description``, :data:`SLIDER_LAYOUT` wide, updating while dragged; ``kwargs`` (``min``, ``max``,
    ``step``, ...) go to ``kind``. Every widget here and in :mod:`ntm_course.presentation.widgets_models` builds its
    sliders with it."""
    return kind(value=value, description=description, continuous_update=True, layout=SLIDER_LAYOUT,
                style=SLIDER_STYLE, **kwargs)


def _shift_sliders(shift_weights):
    """One slider per offset ``-(K//2) .. +(K//2)``, named ``s(-1)``, ``s(0)``, ``s(+1)``, ..."""
    sliders = {}
    for offset, value in zip(shift_offsets(len(shift_weights)), shift_weights):
        label = f"{offset:+d}" if offset else "0"
        sliders[f"s({label})"] = slider(widgets.FloatSlider, f"s at offset {label}", value, min=0, max=1,
                                        step=0.05)
    return sliders


class LiveFigure(widgets.VBox):
    """Controls above a figure that is redrawn whenever a control's value changes.

    Args:
        controls: ``{name: widget}``; ``draw(**{name: value})`` returns a matplotlib Figure.
        extra: further widgets (e.g. buttons) shown between the controls and the figure.

    ``figure`` holds the latest Figure, drawn as a PNG with its caption under it
    (:func:`ntm_course.presentation.captions.caption`: a screen reader reads the text). A ``ValueError`` from
    ``draw`` (e.g. every shift weight at 0) keeps the last figure and shows the message instead.
    """

    def __init__(self, controls, draw, extra=()):
        self.controls = dict(controls)
        self.draw = draw
        self.figure = None
        self.message = widgets.HTML()
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.caption = widgets.HTML()
        for control in self.controls.values():
            control.observe(self.redraw, names="value")
        super().__init__([*self.controls.values(), *extra, self.message, self.image, self.caption])
        self.redraw()

    def values(self):
        return {name: control.value for name, control in self.controls.items()}

    def redraw(self, change=None):
        try:
            self.figure = self.draw(**self.values())
        except ValueError as error:
            self.message.value = f"<b style='color:#b00'>{html.escape(str(error))}</b>"
            return
        self.message.value = ""
        self.image.value = figure_png(self.figure)
        self.caption.value = f"<small>{html.escape(caption(self.figure))}</small>"


def read_widget(memory, row=0, spread=0.0):
    """Move a read weighting's focus and spread, and watch the read vector blend the rows (eq. 2)."""
    N = check_memory(memory)[1]

    def draw(row, spread):
        return viz.plot_read(memory, focus_weighting(N, row, spread, memory))
    return LiveFigure({"row": slider(widgets.IntSlider, "focus row", row, min=0, max=N - 1),
                       "spread": slider(widgets.FloatSlider, "spread", spread, min=0, max=1, step=0.05)}, draw)


def beta_widget(memory, key, beta=5.0, highlight=None):
    """Slide the key strength beta and watch the content weighting focus or blur (eq. 5).

    ``highlight``: a row to set apart (hatched and labelled), e.g. the row the key resembles.
    """
    def draw(beta):
        return viz.plot_weighting(beta_weighting(memory, key, beta), highlight=highlight,
                                  title=f"content weighting $w^c$ with $\\beta$ = {beta:.2f}")
    return LiveFigure({"beta": slider(widgets.FloatLogSlider, "key strength β", beta, base=10, min=-1,
                                      max=2.5, step=0.05)}, draw)


def gate_widget(w_content, w_prev, g=0.5):
    """Slide the interpolation gate g between the previous focus (0) and the content focus (1) (eq. 7)."""
    def draw(g):
        return viz.plot_weightings({"content $w^c_t$": w_content, "previous $w_{t-1}$": w_prev,
                                    f"gated $w^g_t$, g = {g:.2f}": gate_weighting(w_content, w_prev, g)},
                                   title="Interpolation: $w^g_t = g\\, w^c_t + (1-g)\\, w_{t-1}$")
    return LiveFigure({"g": slider(widgets.FloatSlider, "gate g", g, min=0, max=1, step=0.05)}, draw)


def shift_widget(w, shift_weights=(0.0, 0.0, 1.0)):
    """Set the weight of each offset (normalised to a distribution) and watch the focus move (eq. 8)."""
    def draw(**weights):
        return viz.plot_shift_direction(w, shift_from_weights(weights.values(), w))
    return LiveFigure(_shift_sliders(shift_weights), draw)


def gamma_widget(w, gamma=2.0):
    """Slide the sharpening exponent gamma and watch a blurred weighting sharpen (eq. 9)."""
    def draw(gamma):
        return viz.plot_weightings({r"before, $\tilde w_t$": w,
                                    f"sharpened, $\\gamma$ = {gamma:.1f}": gamma_weighting(w, gamma)},
                                   title="Sharpening: $w_t \\propto \\tilde w_t^{\\gamma}$")
    return LiveFigure({"gamma": slider(widgets.FloatSlider, "sharpening γ", gamma, min=1, max=20,
                                       step=0.1)}, draw)


class WriteWidget(LiveFigure):
    """Sliders describe a write; the figure previews it; "write" applies it, so writes accumulate.

    ``memory`` is the current memory (``(B, N, M)``); "reset" restores the one it started from.
    """

    def __init__(self, memory, add):
        self.initial = self.memory = memory
        self.add = add
        N = check_memory(memory)[1]
        controls = {
            "row": slider(widgets.IntSlider, "focus row", 0, min=0, max=N - 1),
            "spread": slider(widgets.FloatSlider, "spread", 0.0, min=0, max=1, step=0.05),
            "erase": slider(widgets.FloatSlider, "erase e", 1.0, min=0, max=1, step=0.05),
            "add_scale": slider(widgets.FloatSlider, "add scale", 1.0, min=-1, max=1, step=0.05),
        }
        write_button = widgets.Button(description="write", button_style="primary")
        reset_button = widgets.Button(description="reset memory")
        write_button.on_click(lambda _: self.apply())
        reset_button.on_click(lambda _: self.reset())
        super().__init__(controls, self._draw, extra=[widgets.HBox([write_button, reset_button])])

    def _draw(self, row, spread, erase, add_scale):
        return viz.plot_write(self.memory, *write_inputs(self.memory, self.add, row, spread, erase, add_scale))

    def apply(self):
        """Make the previewed write happen: the memory after it becomes the memory."""
        self.memory = write(self.memory, *write_inputs(self.memory, self.add, **self.values()))
        self.redraw()

    def reset(self):
        self.memory = self.initial
        self.redraw()


def write_widget(memory, add):
    """A memory heatmap that writes change: choose where and how strongly to erase and add (eqs. 3-4)."""
    return WriteWidget(memory, add)


def pipeline_widget(memory, key, w_prev, beta=10.0, g=1.0, shift_weights=(0.0, 0.0, 1.0), gamma=1.0):
    """Every control of the addressing pipeline, with every stage's weighting (eqs. 5-9, the paper's fig. 2)."""
    controls = {
        "beta": slider(widgets.FloatLogSlider, "key strength β", beta, base=10, min=-1, max=2.5, step=0.05),
        "g": slider(widgets.FloatSlider, "gate g", g, min=0, max=1, step=0.05),
        **_shift_sliders(shift_weights),
        "gamma": slider(widgets.FloatSlider, "sharpening γ", gamma, min=1, max=20, step=0.1),
    }
    names = list(controls)[2:-1]

    def draw(beta, g, gamma, **shift_values):
        weights = [shift_values[name] for name in names]
        return viz.plot_address_stages(pipeline_stages(memory, key, w_prev, beta, g, weights, gamma),
                                       w_prev=w_prev)
    return LiveFigure(controls, draw)
