"""Captions and alt text: a description made from any figure, a caption set by the code that knows better, and the
HTML a notebook shows (the picture with its alt text and a visible caption)."""
import base64
import re

import pytest
import torch

from ntm_course.presentation import viz, viz_models
from ntm_course.presentation.captions import Captioned, caption, describe, set_caption, show


def test_describe_names_the_title_each_panel_and_its_colour_scale():
    fig = viz.plot_memory(torch.arange(12.0).view(1, 3, 4), title="Three rows")
    text = describe(fig)
    assert text.startswith("Figure: Three rows. 1 panel: Three rows: a heatmap of memory row i against element j")
    assert "colour shows value from 0 to 11" in text


def test_describe_counts_bars_and_reads_legends_without_tex():
    w = torch.tensor([[0.1, 0.2, 0.7]])
    text = describe(viz.plot_weighting(w, title="content $w^c$", highlight=2))
    assert "content w^c: a bar chart of 3 bars of weight w(i) against memory row i" in text
    curves = viz_models.plot_learning_curves({"NTM": ([1, 2], [3.0, 1.0]), "LSTM": ([1, 2], [4.0, 3.0])})
    assert "(legend: NTM, LSTM)" in describe(curves)


def test_every_panel_of_a_stacked_figure_is_described():
    fig = viz.plot_address_stages({"content": torch.tensor([[0.5, 0.5]]), "sharpened": torch.tensor([[1.0, 0.0]])})
    text = describe(fig)
    assert text.startswith("Figure: The addressing pipeline, stage by stage. 2 panels:")
    assert "content w^c_t (eq. 5)" in text and "sharpened w_t (eq. 9)" in text


def test_a_set_caption_wins_and_must_be_words():
    fig = viz.plot_weighting(torch.tensor([[1.0, 0.0]]))
    assert caption(fig) == describe(fig)
    assert set_caption(fig, "  A one-hot weighting on row 0. ") is fig
    assert caption(fig) == "A one-hot weighting on row 0."
    with pytest.raises(ValueError, match="non-empty string"):
        set_caption(fig, " ")


def test_show_gives_html_with_alt_text_and_a_visible_caption():
    fig = set_caption(viz.plot_weighting(torch.tensor([[1.0, 0.0]])), 'Row 0 holds "all" <the weight>.')
    shown = show(fig)
    assert isinstance(shown, Captioned) and repr(shown) == 'Row 0 holds "all" <the weight>.'
    page = shown._repr_html_()
    escaped = "Row 0 holds &quot;all&quot; &lt;the weight&gt;."
    assert f'alt="{escaped}"' in page and f"<figcaption" in page and page.count(escaped) == 2
    png = base64.b64decode(re.search(r"base64,([A-Za-z0-9+/=]+)", page).group(1))
    assert png.startswith(b"\x89PNG")
    assert show(fig, "Another caption.").caption == "Another caption."


def test_enable_captions_every_figure_the_notebook_displays():
    """After enable(), displaying any matplotlib figure gives an HTML output beside the PNG: the picture with its
    caption as alt text and under it. Outside IPython it does nothing and says so."""
    from IPython.core.interactiveshell import InteractiveShell
    from matplotlib.figure import Figure

    from ntm_course.presentation import captions
    shell = InteractiveShell.instance()
    fig = Figure()
    fig.add_subplot().set_title("Eight stored patterns")
    assert "text/html" not in shell.display_formatter.format(fig)[0]
    assert captions.enable(shell) is True
    data, _ = shell.display_formatter.format(fig)
    assert "image/png" in data or "text/plain" in data
    assert 'alt="Figure: Eight stored patterns.' in data["text/html"] and "<figcaption" in data["text/html"]
    shell.display_formatter.formatters["text/html"].pop(Figure)
    InteractiveShell.clear_instance()
    assert captions.enable() is False            # no running IPython
