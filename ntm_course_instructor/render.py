"""``ntm-course-instructor render``: the course website, built with Jupyter Book from the executed lessons.

    ntm-course-instructor render                          # every lesson of the syllabus -> build/html/
    ntm-course-instructor render notebooks/05_shift.ipynb -o /tmp/site

Each notebook runs in a fresh kernel from its own folder. On its page, a widget's output is the pictures it
showed (from the widgets' saved state), links that leave the lessons' folder (``../exercises/...``) point to
the repository, and the Colab badge and install cell are left out. A notebook that fails is reported (which
cell, which error) and its page shows the cells up to and including the failing one; the others render as
usual. Jupyter Book then builds the site from ``site/`` (``_config.yml``, ``intro.md``), a table of contents
of the rendered notebooks in the syllabus's order (:mod:`ntm_course.syllabus`; so no lesson is left out) and
the executed notebooks (``execute_notebooks:
off``): navigation, search, MathJax (copied into the site: the pages need no network) and launch buttons for
Binder and Colab. Open ``build/html/index.html``.

The guides of ``docs/`` (``--docs``) are pages of the site too, after the lessons: ``docs/*.md`` in the order of
:data:`DOCS_ORDER`, the others by name after them, each ``docs/models/*.md`` under ``results``. In the sidebar a
lesson is titled ``N · its syllabus title``, a guide by its first heading. Links are written for GitHub, relative
to the file that holds them; on the site, a link to a page of the site (a lesson, a guide) or to a file of
``docs/`` points to it there, a link to any other file of the repository to that file on GitHub.
The exit code is 0 when every notebook ran, 1 when one failed or the site did not build, 2 for bad arguments.
Needs the ``site`` extra (``pip install 'ntm-course-instructor[site]'``).
"""
import importlib.resources
import posixpath
import re
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

from ntm_course import syllabus
from ntm_course.extras import needs


with needs("site", __name__):
    import nbformat
    import yaml
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# What MathJax's tex-chtml.js loads: itself, then on demand TeX extensions, fonts, accessibility and menu parts.
MATHJAX_PARTS = ("tex-chtml.js", "input/tex", "output/chtml", "a11y", "ui")
# The guides' order in the sidebar (names in docs/, without .md); pages it does not name follow, by name.
DOCS_ORDER = ("installing", "library", "cheatsheet", "glossary", "common-bugs", "results", "reading", "instructor",
              "developer")
IMAGES = (".png", ".svg", ".jpg", ".jpeg", ".gif")
SITE_FILES = ("_config.yml", "_toc.yml", "intro.md")     # the site's own: a guide of these names is left out
FENCE = re.compile(r"^```.*?^```[ \t]*$", re.S | re.M)
LINK = re.compile(r"(\]\(\s*<?)([^)\s>]+)")           # a Markdown link's or image's target: [text](target


def add_arguments(parser):
    parser.add_argument("paths", nargs="*",
                        help="notebooks or folders of notebooks to render (default: the syllabus's lessons, "
                             "from notebooks/)")
    parser.add_argument("-o", "--output", default="build/html", help="folder for the website (default: build/html)")
    parser.add_argument("--site", default="site", help="folder of the Jupyter Book configuration (default: site)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds each cell may run (default: 120)")
    parser.add_argument("--docs", default="docs",
                        help="folder of the guides to add after the lessons, '' for none (default: docs, "
                             "when it exists)")


def find_notebooks(paths):
    """The ``.ipynb`` files named by ``paths``: files in the order given, a folder's notebooks (non-recursively)
    in the syllabus's order (those it does not list after them, by name). No ``paths``: the syllabus's lessons
    in ``notebooks/``."""
    if not paths:
        paths = [Path("notebooks") / stage.notebook for stage in syllabus.STAGES]
    order = {stage.notebook: i for i, stage in enumerate(syllabus.STAGES)}
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.glob("*.ipynb"), key=lambda p: (order.get(p.name, len(order)), p.name)))
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise ValueError(f"paths must name .ipynb files or folders, got {str(path)!r} "
                             "(not found or not a notebook)")
    if not found:
        raise ValueError(f"paths name no notebook: {', '.join(map(str, paths))}")
    names = [path.name for path in found]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"paths name two notebooks called {', '.join(twice)}: a site has one page per name")
    return found


def find_docs(folder):
    """The guides in ``folder``, as paths relative to it: ``*.md`` in :data:`DOCS_ORDER`, the others by name, then
    ``models/*.md`` by name (each a model card). ``[]`` when ``folder`` is ``None`` or missing."""
    if folder is None or not Path(folder).is_dir():
        return []
    folder = Path(folder)
    rank = {name: i for i, name in enumerate(DOCS_ORDER)}
    top = sorted((p.relative_to(folder) for p in folder.glob("*.md") if p.name not in SITE_FILES),
                 key=lambda p: (rank.get(p.stem, len(rank)), p.name))
    return top + sorted(p.relative_to(folder) for p in folder.glob("models/*.md"))


def first_heading(text):
    """The text of a Markdown page's first heading (its title), without inline code marks; ``None`` if none."""
    found = re.search(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", FENCE.sub("", text), re.M)
    return found.group(1).replace("`", "") if found else None


def on_site(target, source, pages, repository):
    """Where a link of the repository's file ``source`` to ``target`` points on the site.

    ``source`` and the keys of ``pages`` are paths in the repository (``docs/results.md``), ``pages`` maps what
    the site holds to its path in the book (``models/copy.md``). A link to the web or within the page is kept;
    one to a file of the site becomes relative to ``source``'s place in the book; any other goes to the
    repository: ``repository`` + its path in it."""
    path, hash_, anchor = target.partition("#")
    if not path or re.match(r"[a-z][a-z0-9+.-]*:", path, re.I) or path.startswith("/"):
        return target
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(source), path))
    if resolved in pages:
        where = posixpath.dirname(pages[source]) if source in pages else ""
        return posixpath.relpath(pages[resolved], where or ".") + hash_ + anchor
    return repository + resolved.removeprefix("./") + hash_ + anchor


def relink(text, source, pages, repository):
    """``text`` (Markdown) with each link's target outside code blocks as :func:`on_site` says."""
    def outside_code(part):
        return LINK.sub(lambda m: m.group(1) + on_site(m.group(2), source, pages, repository), part)
    pieces, at = [], 0
    for block in FENCE.finditer(text):
        pieces += [outside_code(text[at:block.start()]), block.group(0)]
        at = block.end()
    return "".join(pieces + [outside_code(text[at:])])


def repository_base(config):
    """The repository's URL for a file's path, from ``_config.yml``: ``https://github.com/o/r/blob/main/``."""
    repository = config["repository"]
    return f"{repository['url']}/blob/{repository['branch']}/"


def copy_docs(folder, guides, book, pages, config):
    """Copy the guides in ``folder`` (and the files beside them: figures) into ``book``, links made for the site.
    Returns the guides' paths in the book, in order, and their sidebar titles (their first heading)."""
    folder = Path(folder)
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(folder)
        if file.is_file() and rel.as_posix() not in SITE_FILES and "__pycache__" not in rel.parts:
            target = book / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if file.suffix == ".md":
                text = relink(file.read_text(encoding="utf-8"), f"docs/{rel.as_posix()}", pages,
                              repository_base(config))
                target.write_text(text, encoding="utf-8")
            else:
                shutil.copyfile(file, target)
    return [(book / guide, first_heading((folder / guide).read_text(encoding="utf-8"))) for guide in guides]


def execute(nb, folder, timeout):
    """Run ``nb`` in place in a fresh kernel started in ``folder``. Returns ``None``, or why it failed."""
    failed_at = []
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(folder)}},
                            on_cell_error=lambda cell, cell_index, execute_reply: failed_at.append(cell_index))
    try:
        client.execute()
    except CellExecutionError as error:  # the cell's error output may be missing (sent to a widget): use the reply
        return f"cell {failed_at[-1]} raised {error.ename}: {error.evalue}"
    except Exception as error:  # a dead kernel, a timeout: report it and go on with the next notebook
        return f"{type(error).__name__}: {error}"
    return None


def widget_pictures(state, model_id):
    """The PNG pictures (base64) that widget ``model_id`` and its children show, in order, from the saved state."""
    model = state.get(model_id, {})
    if model.get("model_name") == "ImageModel" and model["state"].get("format") == "png":
        return [buffer["data"] for buffer in model.get("buffers", []) if buffer["path"] == ["value"]]
    children = model.get("state", {}).get("children", [])
    return [png for child in children for png in widget_pictures(state, child.removeprefix("IPY_MODEL_"))]


STILL = ("A still of an interactive widget: on this page it does not move. Open the lesson live (the rocket "
         "button at the top) to drag its sliders.")
"""The label above a widget's pictures on the site, so no reader tries to drag a picture."""


def as_pictures(output, state):
    """``output``, or when it shows a widget, one output per picture in that widget, after a label saying they
    are a still (none when the widget showed no picture)."""
    view = output.get("data", {}).get(WIDGET_VIEW)
    if view is None:
        return [output]
    pictures = [nbformat.v4.new_output("display_data", data={"image/png": png})
                for png in widget_pictures(state, view["model_id"])]
    label = nbformat.v4.new_output("display_data", data={"text/html": f'<p class="widget-still">{STILL}</p>',
                                                         "text/plain": STILL})
    return [label, *pictures] if pictures else []


def freeze_widgets(nb):
    """Replace each widget output by its pictures, and drop the widgets' state: a page has no kernel to move them."""
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = [new for output in cell.outputs for new in as_pictures(output, state)]


def link_to_repository(nb, config, pages=None):
    """Point markdown links that leave the lessons' folder (``../exercises/x.ipynb``) to the repository, those to
    a page of the site (``pages``, as :func:`on_site` takes them: ``../docs/glossary.md``) to that page."""
    pages = pages or {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = LINK.sub(lambda m: m.group(1) + (
                on_site(m.group(2), "notebooks/lesson.ipynb", pages, repository_base(config))
                if m.group(2).startswith("../") else m.group(2)), cell.source)


def hide_hosted_cells(nb):
    """Leave the Colab badge and install cell (``ntm_course_instructor.hosted``) off the page: the site has launch
    buttons."""
    for cell in nb.cells:
        if cell.metadata.get("ntm_course", {}).get("hosted"):
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "remove-cell"]  # Jupyter Book's tag


def render_notebook(path, book, timeout, config, pages=None):
    """Execute one notebook, write it into the book's folder. Returns ``(written or None, None or why it failed)``.
    ``pages``: the site's pages for its links (:func:`link_to_repository`)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:
        return None, f"cannot read it: {type(error).__name__}: {error}"
    problem = execute(nb, path.parent, timeout)
    freeze_widgets(nb)
    link_to_repository(nb, config, pages)
    hide_hosted_cells(nb)
    target = book / path.name
    nbformat.write(nb, target)
    return target, problem


def lesson_title(page):
    """A lesson's sidebar title, ``N · its syllabus title``; ``None`` (its first heading) outside the syllabus."""
    stage = next((stage for stage in syllabus.STAGES if stage.lesson == page.stem), None)
    return f"{int(stage.lesson[:2])} · {stage.title}" if stage else None


def toc_entry(book, page, title):
    entry = {"file": page.relative_to(book).with_suffix("").as_posix()}
    return {**entry, "title": title} if title else entry


def write_toc(book, pages, guides=()):
    """``_toc.yml``: the home page, then the lessons (``pages``) in the order given, then the guides
    (``[(path, title)]`` from :func:`copy_docs`), each model card (``models/``) a section of ``results``."""
    toc = {"format": "jb-book", "root": "intro"}
    lessons = [toc_entry(book, page, lesson_title(page)) for page in pages]
    chapters = []
    for path, title in guides:
        entry = toc_entry(book, path, title)
        results = next((chapter for chapter in chapters if chapter["file"] == "results"), None)
        if results and entry["file"].startswith("models/"):
            results.setdefault("sections", []).append(entry)
        else:
            chapters.append(entry)
    if lessons and chapters:
        toc["parts"] = [{"caption": "Lessons", "chapters": lessons}, {"caption": "Guides", "chapters": chapters}]
    elif lessons or chapters:  # with no page (every notebook unreadable) the site still has its home page
        toc["chapters"] = lessons or chapters
    (book / "_toc.yml").write_text(yaml.safe_dump(toc, sort_keys=False, allow_unicode=True), encoding="utf-8")


def copy_mathjax(output_dir):
    """MathJax 3 into the site's ``_static/mathjax`` (``mathjax_path`` in ``_config.yml`` points there).

    Copied after the build: Jupyter Book would add every script in the book's own ``_static`` to every page.
    """
    es5 = importlib.resources.files("mathjax") / "static" / "mathjax" / "es5"
    for part in MATHJAX_PARTS:
        source, target = Path(es5 / part), output_dir / "_static" / "mathjax" / part
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            shutil.copyfile(source, target)


def run(args):
    try:
        from jupyter_book.sphinx import build_sphinx
        importlib.resources.files("mathjax")
    except ImportError as error:
        print(f"ntm-course-instructor render: needs the site extra (pip install 'ntm-course-instructor[site]'): "
              f"{error}", file=sys.stderr)
        return 2
    site, output_dir, docs = Path(args.site), Path(args.output), getattr(args, "docs", None) or None
    try:
        notebooks = find_notebooks(args.paths)
        if not (site / "_config.yml").is_file():
            raise ValueError(f"--site must name a folder with _config.yml, got {str(site)!r}")
        if docs is not None and docs != "docs" and not Path(docs).is_dir():
            raise ValueError(f"--docs must name a folder of Markdown pages, got {docs!r}")
    except ValueError as error:
        print(f"ntm-course-instructor render: {error}", file=sys.stderr)
        return 2
    config = yaml.safe_load((site / "_config.yml").read_text(encoding="utf-8"))
    guides = find_docs(docs)
    on_the_site = {f"notebooks/{path.name}": path.name for path in notebooks}
    on_the_site.update({f"docs/{rel.as_posix()}": rel.as_posix() for rel in guides})
    if guides:  # the pictures the guides show, copied with them
        on_the_site.update({f"docs/{rel.as_posix()}": rel.as_posix() for rel in
                            (p.relative_to(docs) for p in Path(docs).rglob("*") if p.suffix in IMAGES)})
    failed, pages = [], []
    with tempfile.TemporaryDirectory(prefix="ntm-course-book-") as tmp:
        book = Path(tmp) / "book"
        shutil.copytree(site, book)
        guides = copy_docs(docs, guides, book, on_the_site, config) if guides else []
        for path in notebooks:
            start = time.perf_counter()
            page, problem = render_notebook(path, book, args.timeout, config, on_the_site)
            pages += [page] if page else []
            if problem:
                failed.append(str(path))
                print(f"FAILED   {path}: {problem}" + ("; its page stops there" if page else ""), file=sys.stderr)
            else:
                print(f"executed {path} ({time.perf_counter() - start:.1f} s)")
        write_toc(book, pages, guides)
        with warnings.catch_warnings():  # the extensions' deprecation warnings (Sphinx's own go to its log)
            warnings.simplefilter("ignore")
            built = build_sphinx(book, output_dir, noconfig=True, path_config=book / "_config.yml", quiet=True,
                                 doctreedir=Path(tmp) / "doctrees",  # the arguments of `jupyter-book build`
                                 confoverrides={"external_toc_path": str(book / "_toc.yml"),
                                                "latex_individualpages": False})
    if built != 0:
        print(f"ntm-course-instructor render: Jupyter Book could not build the site: {built}", file=sys.stderr)
        return 1
    copy_mathjax(output_dir)
    print(f"{len(notebooks) - len(failed)} of {len(notebooks)} notebooks rendered to {output_dir}"
          + (f", with {len(guides)} guides" if guides else "")
          + (f"; failed: {', '.join(failed)}" if failed else "") + f"; open {output_dir / 'index.html'}")
    return 1 if failed else 0
