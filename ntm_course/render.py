"""``ntm-course render``: execute the lessons and render them to HTML, for reading without running them.

    ntm-course render                          # every notebook in notebooks/ -> build/html/
    ntm-course render notebooks/05_shift.ipynb -o /tmp/site

Each notebook runs in a fresh kernel from its own folder, with the widgets' state saved so that sliders'
pictures show in the page. A notebook that fails is reported (which cell, which error) and still rendered
up to and including the failing cell; the others render as usual. ``index.html`` links every page.
The exit code is 0 when every notebook ran, 1 otherwise.
"""
import html
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter


def add_arguments(parser):
    parser.add_argument("paths", nargs="*", default=["notebooks"],
                        help="notebooks or folders of notebooks to render (default: notebooks)")
    parser.add_argument("-o", "--output", default="build/html", help="folder for the HTML (default: build/html)")
    parser.add_argument("--timeout", type=int, default=120, help="seconds each cell may run (default: 120)")


def find_notebooks(paths):
    """The ``.ipynb`` files named by ``paths`` (files, or folders searched non-recursively), sorted by name."""
    found = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(path.glob("*.ipynb")))
        elif path.suffix == ".ipynb" and path.is_file():
            found.append(path)
        else:
            raise ValueError(f"paths must name .ipynb files or folders, got {str(path)!r} (not found or not a notebook)")
    return found


def failing_cell(nb):
    """``(index, error output)`` of the first code cell whose outputs hold an error, else ``None``."""
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return index, output
    return None


def execute(nb, folder, timeout):
    """Run ``nb`` in place in a fresh kernel started in ``folder``. Returns ``None``, or why it failed."""
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    except CellExecutionError:
        index, error = failing_cell(nb)
        return f"cell {index} raised {error['ename']}: {error['evalue']}"
    except Exception as error:  # a dead kernel, a timeout: report it and go on with the next notebook
        return f"{type(error).__name__}: {error}"
    return None


def render_notebook(path, output_dir, timeout, exporter):
    """Execute one notebook and write its HTML. Returns ``(html path or None, None or why it failed)``."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:
        return None, f"cannot read it: {type(error).__name__}: {error}"
    problem = execute(nb, path.parent, timeout)
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    target = output_dir / f"{path.stem}.html"
    target.write_text(body, encoding="utf-8")
    return target, problem


def write_index(output_dir, results):
    """``index.html``: one link per rendered page, with failures marked."""
    items = []
    for path, target, problem in results:
        name = html.escape(path.stem)
        link = f'<a href="{html.escape(target.name)}">{name}</a>' if target else name
        note = f' <b style="color:#b00">failed: {html.escape(problem)}</b>' if problem else ""
        items.append(f"<li>{link}{note}</li>")
    page = ("<!doctype html><meta charset='utf-8'><title>ntm-course</title>"
            "<h1>ntm-course: the lessons</h1><ol start='0'>\n" + "\n".join(items) + "\n</ol>\n")
    (output_dir / "index.html").write_text(page, encoding="utf-8")


def run(args):
    try:
        notebooks = find_notebooks(args.paths)
    except ValueError as error:
        print(f"ntm-course render: {error}", file=sys.stderr)
        return 2
    output_dir = Path(args.output)
    output_dir.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    results = []
    for path in notebooks:
        start = time.perf_counter()
        target, problem = render_notebook(path, output_dir, args.timeout, exporter)
        seconds = time.perf_counter() - start
        results.append((path, target, problem))
        if problem:
            where = f"; partial page {target}" if target else ""
            print(f"FAILED   {path}: {problem}{where}", file=sys.stderr)
        else:
            print(f"rendered {path} -> {target} ({seconds:.1f} s)")
    write_index(output_dir, results)
    failed = [str(path) for path, _, problem in results if problem]
    print(f"{len(results) - len(failed)} of {len(results)} notebooks rendered to {output_dir}"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0
