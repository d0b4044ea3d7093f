"""`ntm-course-instructor render`: the course website. Notebooks are executed, a broken one is reported and the rest
render,
and Jupyter Book builds a site with navigation, search, local MathJax, widget pictures and launch buttons."""
import base64
import contextlib
import io
import sys
import types
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ntm_course_instructor import render as render_module
from ntm_course_instructor.cli import main
from ntm_course_instructor.render import WIDGET_STATE, WIDGET_VIEW, find_notebooks, freeze_widgets

SITE = Path(__file__).resolve().parents[1] / "site"
# A 1 x 1 PNG: what the widget in 00_good shows.
PNG = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
WIDGET_CELL = ("import base64, ipywidgets\n"
               f"ipywidgets.VBox([ipywidgets.IntSlider(), ipywidgets.Image(value=base64.b64decode('{PNG}'))])")
# The cell's error goes to an Output widget, not to the cell's outputs: only the kernel's reply says it failed.
QUIET_FAILURE = "import ipywidgets\nout = ipywidgets.Output()\ndisplay(out)\nout.__enter__()\n1 / 0"


def save(path, *cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


def render(*args):
    """Run ``ntm-course-instructor render ARGS``; returns (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["render", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    lessons = tmp_path_factory.mktemp("course") / "lessons"
    lessons.mkdir()
    hosted = new_code_cell("print('the Colab install cell')", metadata={"ntm_course": {"hosted": "install"}})
    save(lessons / "00_good.ipynb", hosted,
         new_markdown_cell("# Good lesson\nThe key strength $\\beta$. Next: [the broken one](01_broken.ipynb); "
                           "your exercise: [exercise 2](../exercises/02_content_addressing.ipynb)."),
         new_code_cell("print(6 * 7)"), new_code_cell(WIDGET_CELL))
    save(lessons / "01_broken.ipynb", new_markdown_cell("# Broken lesson"), new_code_cell("1 / 0"),
         new_code_cell("print('never runs')"))
    save(lessons / "02_after.ipynb", new_markdown_cell("# After lesson"), new_code_cell("print('still' + ' rendered')"))
    save(lessons / "03_quiet.ipynb", new_markdown_cell("# Quiet failure"), new_code_cell(QUIET_FAILURE))
    return lessons


@pytest.fixture(scope="module")
def built(course):
    """The site of the whole course: (exit code, stdout, stderr, site folder)."""
    site = course.parent / "html"
    return (*render(course, "-o", site, "--site", SITE), site)


def test_broken_notebooks_are_reported_and_the_rest_render(built):
    code, out, err, site = built
    assert code == 1
    assert "01_broken.ipynb: cell 1 raised ZeroDivisionError: division by zero" in err
    assert "03_quiet.ipynb: cell 1 raised ZeroDivisionError" in err  # issue 14: no error output in the cell
    assert "2 of 4 notebooks rendered" in out
    assert "42" in (site / "00_good.html").read_text()           # executed: the output is in the page
    assert "still rendered" in (site / "02_after.html").read_text()
    broken = (site / "01_broken.html").read_text()                # the page stops at the error
    assert "ZeroDivisionError" in broken and "never runs" in broken


def test_navigation_lists_the_lessons_in_order_and_search_indexes_them(built):
    site = built[3]
    assert "url=intro.html" in (site / "index.html").read_text()  # the site opens on its home page
    home = (site / "intro.html").read_text()
    links = [home.index(f'href="{name}.html"') for name in ("00_good", "01_broken", "02_after", "03_quiet")]
    assert links == sorted(links)
    assert 'href="02_after.html"' in (site / "01_broken.html").read_text()  # every page has the navigation
    assert (site / "search.html").is_file()
    index = (site / "searchindex.js").read_text()
    assert all(title in index for title in ("Good lesson", "Broken lesson", "After lesson"))


def test_pages_load_mathjax_from_the_site_and_link_binder_colab_and_the_repository(built):
    site = built[3]
    page = (site / "00_good.html").read_text()
    assert r"\(\beta\)" in page
    assert 'src="_static/mathjax/tex-chtml.js"' in page and (site / "_static/mathjax/tex-chtml.js").is_file()
    assert (site / "_static/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff").is_file()
    assert "https://colab.research.google.com/github/ntm-course/ntm-course/blob/main/notebooks/00_good.ipynb" in page
    assert "https://mybinder.org/v2/gh/ntm-course/ntm-course/main?urlpath=lab/tree/notebooks/00_good.ipynb" in page
    assert 'href="01_broken.html"' in page                         # a link to another lesson stays on the site
    assert "the Colab install cell" not in page                    # the launch buttons do its job
    assert 'href="https://github.com/ntm-course/ntm-course/blob/main/exercises/02_content_addressing.ipynb"' in page


def test_a_widget_becomes_the_picture_it_showed(built):
    site = built[3]
    nb = nbformat.read(site / "_sources" / "00_good.ipynb", as_version=4)
    assert "widgets" not in nb.metadata
    assert [list(o.data) for o in nb.cells[3].outputs] == [["image/png"]]
    assert nb.cells[3].outputs[0].data["image/png"] == PNG
    page = (site / "00_good.html").read_text()
    assert page.count('<img alt="_images/') == 1 and WIDGET_VIEW not in page


def test_named_notebooks_only_with_an_unreadable_one_and_a_timeout(course, tmp_path):
    (tmp_path / "00_bad.ipynb").write_text("{not json")
    save(tmp_path / "01_slow.ipynb", new_code_cell("import time\ntime.sleep(60)"))
    site = tmp_path / "site"
    code, out, err = render(tmp_path / "00_bad.ipynb", tmp_path / "01_slow.ipynb", course / "02_after.ipynb",
                            "--output", site, "--site", SITE, "--timeout", "3")
    assert code == 1
    assert "00_bad.ipynb: cannot read it" in err and "01_slow.ipynb: CellTimeoutError" in err
    assert "1 of 3 notebooks rendered" in out
    assert sorted(p.name for p in site.glob("0*.html")) == ["01_slow.html", "02_after.html"]
    assert "00_good.html" not in (site / "intro.html").read_text()


@pytest.mark.parametrize("args, message", [
    (["{tmp}/nope.ipynb"], "nope.ipynb' (not found or not a notebook)"),
    (["{tmp}"], "paths name no notebook"),
    (["{tmp}/a", "{tmp}/b"], "two notebooks called 00_x.ipynb"),
    (["{tmp}/a", "--site", "{tmp}"], "--site must name a folder with _config.yml"),
])
def test_bad_arguments_are_a_clear_error(tmp_path, args, message):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        save(tmp_path / folder / "00_x.ipynb", new_code_cell("1"))
    code, out, err = render(*[arg.format(tmp=tmp_path) for arg in args], "-o", tmp_path / "html")
    assert code == 2 and message in err and not (tmp_path / "html").exists()


def test_find_notebooks_sorts_folders_and_keeps_named_files_in_order(course):
    assert [p.name for p in find_notebooks([course])] == ["00_good.ipynb", "01_broken.ipynb", "02_after.ipynb",
                                                         "03_quiet.ipynb"]
    assert [p.name for p in find_notebooks([course / "02_after.ipynb", course / "00_good.ipynb"])] == \
        ["02_after.ipynb", "00_good.ipynb"]


def model(name, picture=None, **state):
    """A widget model as nbclient saves it; ``picture``: an image's bytes, kept base64 in its buffers."""
    buffers = [{"data": base64.b64encode(picture).decode(), "encoding": "base64", "path": ["value"]}] if picture else []
    return {"model_name": name, "state": state, "buffers": buffers}


def shows(model_id):
    return new_output("display_data", data={WIDGET_VIEW: {"model_id": model_id}, "text/plain": "VBox(...)"})


def test_freeze_widgets_keeps_each_widgets_pictures_in_order_and_other_outputs():
    state = {"box": model("VBoxModel", children=["IPY_MODEL_slider", "IPY_MODEL_row", "IPY_MODEL_jpeg"]),
             "row": model("HBoxModel", children=["IPY_MODEL_a", "IPY_MODEL_b"]),
             "a": model("ImageModel", b"a", format="png"), "b": model("ImageModel", b"b", format="png"),
             "jpeg": model("ImageModel", b"j", format="jpeg"), "slider": model("IntSliderModel", value=3),
             "lone": model("IntSliderModel", value=1)}
    text = new_output("stream", name="stdout", text="kept\n")
    nb = new_notebook(cells=[new_code_cell("w", outputs=[text, shows("box"), shows("lone")]), new_markdown_cell("m")])
    nb.metadata["widgets"] = {WIDGET_STATE: {"state": state, "version_major": 2, "version_minor": 0}}
    freeze_widgets(nb)
    assert "widgets" not in nb.metadata
    assert nb.cells[0].outputs[0] == text
    assert [o.data for o in nb.cells[0].outputs[1:]] == [{"image/png": "YQ=="}, {"image/png": "Yg=="}]  # a, b
    nbformat.validate(nb)


def render_args(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "_config.yml").write_text("title: test\n")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    return types.SimpleNamespace(paths=[str(broken)], site=str(site), output=str(tmp_path / "html"), timeout=5)


def test_render_without_jupyter_book_says_which_extra_to_install(tmp_path, monkeypatch, capsys):
    for name in ("jupyter_book", "jupyter_book.sphinx"):        # as if never installed, imported before or not
        monkeypatch.setitem(sys.modules, name, None)
    assert render_module.run(render_args(tmp_path)) == 2
    assert capsys.readouterr().err.startswith(
        "ntm-course-instructor render: needs the site extra (pip install 'ntm-course-instructor[site]'): ")


def test_render_reports_a_site_that_does_not_build(tmp_path, monkeypatch, capsys):
    calls = []

    def build_sphinx(book, output_dir, **options):
        calls.append(((Path(book) / "_toc.yml").read_text(), Path(output_dir), options))
        return "sphinx failed"
    monkeypatch.setitem(sys.modules, "jupyter_book.sphinx", types.SimpleNamespace(build_sphinx=build_sphinx))
    args = render_args(tmp_path)
    assert render_module.run(args) == 1
    [(toc, output_dir, options)] = calls
    assert toc == "format: jb-book\nroot: intro\n"          # the only notebook could not be read: no chapters
    assert output_dir == Path(args.output) and options["noconfig"] is True
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"FAILED   {args.paths[0]}: cannot read it: ")
    assert err[-1] == "ntm-course-instructor render: Jupyter Book could not build the site: sphinx failed"
    assert not Path(args.output).exists()                     # no MathJax copied into a site that was not built
