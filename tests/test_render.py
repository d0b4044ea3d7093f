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
import yaml
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from ntm_course_instructor import render as render_module
from ntm_course_instructor.cli import main
from ntm_course_instructor.render import (STILL, WIDGET_STATE, WIDGET_VIEW, find_docs, find_notebooks, freeze_widgets,
                                          on_site, relink, write_toc)

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
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
                           "your exercise: [exercise 2](../exercises/02_content_addressing.ipynb); "
                           "stuck? [troubleshooting](../docs/installing.md#troubleshooting)."),
         new_code_cell("print(6 * 7)"), new_code_cell(WIDGET_CELL))
    save(lessons / "01_broken.ipynb", new_markdown_cell("# Broken lesson"), new_code_cell("1 / 0"),
         new_code_cell("print('never runs')"))
    save(lessons / "02_after.ipynb", new_markdown_cell("# After lesson"), new_code_cell("print('still' + ' rendered')"))
    save(lessons / "03_quiet.ipynb", new_markdown_cell("# Quiet failure"), new_code_cell(QUIET_FAILURE))
    write_guides(lessons.parent / "docs")
    return lessons


def write_guides(docs):
    """A docs/ folder as the repository's: guides linking each other, the lessons, a picture and the repository."""
    for name, text in GUIDES.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text)
    (docs / "figures").mkdir()
    (docs / "figures" / "dot.png").write_bytes(base64.b64decode(PNG))
    (docs / "figures" / "dot.py").write_text("print('draws dot.png')\n")


GUIDES = {
    "zebra.md": "# The `zebra` page\n\nA guide the order does not name.\n",
    "results.md": "# Results\n\n## Scores\n\nEach model has a card: [copy](models/copy.md).\n",
    "models/copy.md": "# The copy model\n\nBack to [the scores](../results.md#scores); trained in "
                      "[the after lesson](../../notebooks/02_after.ipynb).\n",
    "library.md": "# The library\n\nIts [installation](installing.md).\n",
    "installing.md": "# Installing the course\n\nStart with [the good lesson](../notebooks/00_good.ipynb#good-lesson), "
                     "then [the scores](results.md#scores). ![A dot](figures/dot.png) is drawn by "
                     "[its script](figures/dot.py); see also [contributing](../CONTRIBUTING.md) and "
                     "[the web](https://example.org/page.md).\n\n"
                     "```python\nlink = '[kept](../CONTRIBUTING.md)'\n```\n\n"
                     "## Troubleshooting\n\nAsk.\n",
}


@pytest.fixture(scope="module")
def built(course):
    """The site of the whole course and its guides: (exit code, stdout, stderr, site folder)."""
    site = course.parent / "html"
    return (*render(course, "-o", site, "--site", SITE, "--docs", course.parent / "docs"), site)


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


def test_the_guides_follow_the_lessons_in_a_fixed_order(built):
    code, out, err, site = built
    assert "with 5 guides" in out
    home = (site / "intro.html").read_text()
    order = ["00_good", "01_broken", "02_after", "03_quiet", "installing", "library", "results", "models/copy",
             "zebra"]                                                # each model card under results
    links = [home.index(f'href="{name}.html"') for name in order]
    assert links == sorted(links)
    assert home.index('caption-text">Lessons<') < home.index('caption-text">Guides<')
    assert ">The zebra page<" in home                               # the sidebar's title: the first heading
    assert not [line for line in err.splitlines() if "WARNING" in line and ".md" in line]


def test_links_of_the_guides_and_lessons_work_on_the_site(built):
    site = built[3]
    github = "https://github.com/ntm-course/ntm-course/blob/main/"
    installing = (site / "installing.html").read_text()
    assert 'href="00_good.html#good-lesson"' in installing and 'href="results.html#scores"' in installing
    assert '<img alt="A dot" src="_images/dot.png"' in installing and (site / "_images" / "dot.png").is_file()
    assert f'href="{github}docs/figures/dot.py"' in installing      # not a page of the site: on GitHub
    assert f'href="{github}CONTRIBUTING.md"' in installing and 'href="https://example.org/page.md"' in installing
    assert "[kept](../CONTRIBUTING.md)" in (site / "_sources" / "installing.md").read_text()   # code is code
    card = (site / "models" / "copy.html").read_text()
    assert 'href="../results.html#scores"' in card and 'href="../02_after.html"' in card
    assert 'href="installing.html#troubleshooting"' in (site / "00_good.html").read_text()


def test_without_guides_the_site_is_the_lessons(course, tmp_path):
    code, out, err = render(course / "02_after.ipynb", "-o", tmp_path / "html", "--site", SITE, "--docs", "")
    assert code == 0 and ", with" not in out and not (tmp_path / "html" / "installing.html").exists()


def test_the_repositorys_guides_build_without_warnings(course, tmp_path):
    code, out, err = render(course / "02_after.ipynb", "-o", tmp_path / "html", "--site", SITE,
                            "--docs", ROOT / "docs")
    guides = find_docs(ROOT / "docs")
    assert code == 0 and f"with {len(guides)} guides" in out
    assert [str(g) for g in guides[:2]] == ["installing.md", "library.md"]
    assert all((tmp_path / "html" / guide.with_suffix(".html")).is_file() for guide in guides)
    assert not [line for line in err.splitlines() if "WARNING" in line], err


def test_find_docs_orders_the_guides_then_the_others_then_the_model_cards(course):
    assert [str(p) for p in find_docs(course.parent / "docs")] == [
        "installing.md", "library.md", "results.md", "zebra.md", "models/copy.md"]   # the cards: under results
    assert find_docs(None) == [] and find_docs(course / "nope") == []


@pytest.mark.parametrize("target, source, expected", [
    ("results.md#scores", "docs/installing.md", "results.md#scores"),
    ("../results.md", "docs/models/copy.md", "../results.md"),
    ("../notebooks/05_shift.ipynb#the-shift", "docs/library.md", "05_shift.ipynb#the-shift"),
    ("../../notebooks/05_shift.ipynb", "docs/models/copy.md", "../05_shift.ipynb"),
    ("../docs/library.md", "notebooks/05_shift.ipynb", "library.md"),
    ("../exercises/05_shift.ipynb", "notebooks/05_shift.ipynb", "REPO/exercises/05_shift.ipynb"),
    ("../CONTRIBUTING.md#add-a-lesson", "docs/library.md", "REPO/CONTRIBUTING.md#add-a-lesson"),
    ("models/lost.md", "docs/results.md", "REPO/docs/models/lost.md"),     # not on the site: on GitHub
    ("#scores", "docs/results.md", "#scores"),
    ("https://arxiv.org/abs/1410.5401", "docs/results.md", "https://arxiv.org/abs/1410.5401"),
])
def test_on_site_points_a_link_to_the_site_or_the_repository(target, source, expected):
    pages = {"docs/installing.md": "installing.md", "docs/results.md": "results.md", "docs/library.md": "library.md",
             "docs/models/copy.md": "models/copy.md", "notebooks/05_shift.ipynb": "05_shift.ipynb"}
    assert on_site(target, source, pages, "REPO/") == expected


def test_relink_leaves_code_blocks_alone():
    text = "[a](../x.md) and\n```python\n'[b](../y.md)'\n```\n![c](../z.png)"
    assert relink(text, "docs/p.md", {}, "R/") == "[a](R/x.md) and\n```python\n'[b](../y.md)'\n```\n![c](R/z.png)"


def test_write_toc_titles_the_syllabus_lessons_and_nests_the_model_cards(tmp_path):
    pages = [tmp_path / "05_shift.ipynb", tmp_path / "99_extra.ipynb"]
    guides = [(tmp_path / "results.md", "Results"), (tmp_path / "models" / "copy.md", "Copy"),
              (tmp_path / "zebra.md", None)]
    write_toc(tmp_path, pages, guides)
    toc = yaml.safe_load((tmp_path / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["parts"] == [
        {"caption": "Lessons", "chapters": [{"file": "05_shift", "title": "5 · Convolutional shift"},
                                            {"file": "99_extra"}]},
        {"caption": "Guides", "chapters": [{"file": "results", "title": "Results",
                                            "sections": [{"file": "models/copy", "title": "Copy"}]},
                                           {"file": "zebra"}]}]


def test_a_widget_becomes_the_picture_it_showed(built):
    site = built[3]
    nb = nbformat.read(site / "_sources" / "00_good.ipynb", as_version=4)
    assert "widgets" not in nb.metadata
    assert [list(o.data) for o in nb.cells[3].outputs] == [["text/html", "text/plain"], ["image/png"]]
    assert nb.cells[3].outputs[1].data["image/png"] == PNG
    page = (site / "00_good.html").read_text()
    assert page.count('<img alt="_images/') == 1 and WIDGET_VIEW not in page
    assert page.count('class="widget-still"') == 1 and STILL in page                 # labelled as a still


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
    still = {"text/html": f'<p class="widget-still">{STILL}</p>', "text/plain": STILL}
    assert [o.data for o in nb.cells[0].outputs[1:]] == [still, {"image/png": "YQ=="}, {"image/png": "Yg=="}]  # a, b
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


def test_the_site_has_one_search_box_and_code_that_wraps(built):
    """The article header's search button is the only search box: the sidebar's field is left out and the top
    bar's hidden by the course's stylesheet, which also wraps long code lines instead of clipping them and is on
    every page."""
    site = built[3]
    page = (site / "00_good.html").read_text()
    sidebar = page.split('id="pst-primary-sidebar"', 1)[1].split("</div>\n    </div>", 1)[0]
    assert "search" not in sidebar and page.count("search-button search-button__button") == 1
    assert '_static/course.css' in page
    css = (site / "_static" / "course.css").read_text()
    assert "white-space: pre-wrap" in css and ".navbar-persistent--container" in css
