"""The course as a learner meets it: JupyterLab started by the README's quick start, and the course website,
driven in a real Chromium.

Starts ``python course.py lab`` on 127.0.0.1 (a free port, no token), follows the page that the quick start
opens, then opens the welcome lesson and every lesson with widgets, runs all cells, checks for error output and
unrendered widgets, moves sliders and dropdowns and checks that the figures and numbers respond. (Where Chromium is
installed, nbval does not run those lessons as well: ``conftest.py`` leaves them to this test.) Then builds the
website for two lessons (``ntm-course-instructor render``), serves it on 127.0.0.1 and checks its math, figures,
navigation
and search. Screenshots land in ``test-artifacts/browser/``. Needs Debian's ``chromium`` (``.ci/run`` installs
it; without it these tests fail in CI and are skipped elsewhere, saying why) and Python ``playwright`` (no browser
download: it drives ``/usr/bin/chromium``).
"""
import functools
import json
import os
import re
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import nbformat
import pytest
from labserver import chromium, running_lab

from ntm_course_instructor.cli import main


pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "browser"
WIDGET_MODULES = re.compile(r"ntm_course\.presentation\.widgets|from ntm_course\.presentation import [^\n]*\bwidgets"
                            r"|import ipywidgets")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update"]
KERNEL_DISPLAY_NAME = "Python 3 (ntm-course)"


def widget_lessons():
    """Lessons whose code uses widgets (found from their source, so a new widget lesson is tested too)."""
    found = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        if any(c["cell_type"] == "code" and WIDGET_MODULES.search("".join(c["source"])) for c in cells):
            found.append(path.name)
    return found


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started as the quick start does; yields (base url, runtime dir)."""
    tmp = tmp_path_factory.mktemp("lab")
    # A user-wide "python3" kernel that lacks the course, as a learner's machine may have: the quick start
    # must still run the lessons in the course's own environment.
    foreign = tmp / "data" / "kernels" / "python3"
    foreign.mkdir(parents=True)
    (foreign / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-I", "-c", "raise SystemExit('wrong kernel')"],
        "display_name": "Python 3 (somebody else's)", "language": "python"}))
    # The test must leave the lessons as they are: no autosave while cells run.
    docmanager = tmp / "config" / "lab" / "user-settings" / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    before = {p: p.read_bytes() for p in (ROOT / "notebooks").glob("*.ipynb")}
    env = dict(os.environ, JUPYTER_DATA_DIR=str(tmp / "data"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))
    with running_lab(sys.executable, ROOT, env, tmp / "lab.log", timeout=180) as url:
        yield url, tmp / "runtime"
    changed = [p.name for p, data in before.items() if p.read_bytes() != data]
    assert not changed, f"the browser test modified lessons: {changed}"


@pytest.fixture(scope="module")
def browser():
    executable = chromium()
    if executable is None:
        reason = "Chromium is not installed: `apt-get install chromium` (.ci/run does this)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


SHUT_DOWN = "() => window.jupyterapp && window.jupyterapp.serviceManager.sessions.shutdownAll()"


def _new_page(browser):
    return browser.new_context(viewport={"width": 1366, "height": 768}).new_page()  # a laptop screen


def _close(page):
    try:  # stop the page's kernels so that kernels do not pile up on a small machine
        page.evaluate(SHUT_DOWN)
    finally:
        page.context.close()


@pytest.fixture
def page(browser):
    page = _new_page(browser)
    yield page
    _close(page)


@pytest.fixture(scope="module")
def lab_page(lab, browser):
    """One JupyterLab page for every lesson, as a learner keeps one open: loading JupyterLab costs Chromium about
    3 s of CPU more than opening a notebook in it (``open_and_run``)."""
    url, _ = lab
    page = _new_page(browser)
    page.goto(f"{url}/lab?reset")  # a fresh workspace
    page.wait_for_function("() => !!window.jupyterapp && !!document.querySelector('.jp-LabShell')", timeout=120_000)
    yield page
    _close(page)


NOTEBOOK_READY = """path => { const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const kernel = nb && nb.sessionContext && nb.sessionContext.session && nb.sessionContext.session.kernel;
  return !!kernel && nb.context.path === path && kernel.status === 'idle' && nb.content.widgets.length > 0; }"""
# Close what the page shows, unsaved (the lessons stay as they are), stop its kernels, open the notebook at ``path``.
OPEN_ALONE = """async path => { const app = window.jupyterapp;
  await app.serviceManager.sessions.shutdownAll();
  for (const w of Array.from(app.shell.widgets('main'))) { if (w.context) w.context.model.dirty = false; w.dispose(); }
  await app.commands.execute('docmanager:open', {path}); }"""
ALL_RAN = """() => { const nb = window.jupyterapp.shell.currentWidget;
  const code = nb.content.widgets.filter(c => c.model.type === 'code');
  const failed = code.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
  return nb.sessionContext.session.kernel.status === 'idle' && (failed || code.every(c => c.model.executionCount !== null)); }"""
WIDGETS_RENDERED = """() => !document.querySelector('.jp-Notebook').innerText.includes('Loading widget')"""
PROBLEMS = """() => { const nb = window.jupyterapp.shell.currentWidget; const found = [];
  nb.content.widgets.forEach((c, i) => { if (c.model.type !== 'code') return;
    c.model.outputs.toJSON().forEach(o => {
      if (o.output_type === 'error') found.push(`cell ${i + 1}: ${o.ename}: ${o.evalue}`);
      if (o.output_type === 'stream' && o.name === 'stderr') found.push(`cell ${i + 1} wrote to stderr: ${o.text}`);
    }); });
  return found; }"""


def open_and_run(page, notebook):
    """Open a lesson alone, wait for an idle kernel, run every cell; return the problems found (errors, stderr)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    path = f"notebooks/{notebook}"
    page.evaluate(OPEN_ALONE, path)
    page.wait_for_function(NOTEBOOK_READY, arg=path, timeout=120_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(ALL_RAN, timeout=180_000, polling=100)
    try:  # let widget views render (a view that never does is reported by the caller)
        page.wait_for_function(WIDGETS_RENDERED, timeout=10_000, polling=100)
    except PlaywrightTimeout:
        pass
    return page.evaluate(PROBLEMS)


def test_quick_start_lands_on_welcome_lesson_with_course_kernel(lab, page):
    url, runtime = lab
    # With --no-browser, JupyterLab writes the page it would have opened; follow it as the browser would.
    opener = next(runtime.glob("jpserver-file-to-run-*-open.html"), None)
    assert opener is not None, f"JupyterLab did not ask to open a file; runtime dir has {os.listdir(runtime)}"
    landing = re.search(r'href="([^"]+)"', opener.read_text()).group(1)
    assert landing.endswith("/lab/tree/notebooks/00_welcome.ipynb"), landing
    page.goto(landing)
    page.wait_for_function(NOTEBOOK_READY, arg="notebooks/00_welcome.ipynb", timeout=120_000)
    path, kernel = page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget;
        return [nb.context.path, nb.sessionContext.kernelDisplayName]; }""")
    assert path == "notebooks/00_welcome.ipynb"
    assert kernel == KERNEL_DISPLAY_NAME
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "00_landing.png")


# What a slider's cell shows, less the sliders themselves (their own readout always changes).
SHOWN = """a => { const c = a.cloneNode(true);
  c.querySelectorAll('.widget-slider, .widget-readout').forEach(e => e.remove()); return c.innerHTML; }"""


def _control_effect(page, control, move):
    """Move a control (``move(control)``); return True when the figures or text in its cell change."""
    area = control.locator("xpath=ancestor::div[contains(@class, 'jp-OutputArea')][1]")
    before = area.evaluate(SHOWN)
    control.scroll_into_view_if_needed()
    move(control)
    deadline = time.time() + 15
    while time.time() < deadline:
        page.wait_for_timeout(100)
        if area.evaluate(SHOWN) != before:
            return True
    return False


def _nudge(handle):
    """Three key presses towards the middle: right, or left for a slider already at its maximum."""
    at_max = handle.evaluate("h => Number(h.getAttribute('aria-valuenow')) >= Number(h.getAttribute('aria-valuemax'))")
    handle.focus()
    for _ in range(3):
        handle.press("ArrowLeft" if at_max else "ArrowRight")


def _pick_another(select):
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.options[s.selectedIndex].text")
    select.select_option(label=next(o for o in options if o != current))


@pytest.mark.parametrize("notebook", ["00_welcome.ipynb"] + [n for n in widget_lessons() if n != "00_welcome.ipynb"])
def test_lesson_runs_and_widgets_respond(lab_page, notebook):
    page = lab_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = Path(notebook).stem
    problems = open_and_run(page, notebook)
    page.screenshot(path=ARTIFACTS / f"{stem}.png")
    assert not problems, f"{notebook}: " + "; ".join(problems)
    body = page.locator(".jp-Notebook").inner_text()
    assert "Loading widget" not in body and "Error displaying widget" not in body, \
        f"{notebook}: a widget did not render"
    sliders = page.locator(".jp-OutputArea .noUi-handle")
    dropdowns = page.locator(".jp-OutputArea .widget-dropdown select")
    controls = [("slider", sliders.nth(i), _nudge) for i in range(min(sliders.count(), 3))]
    controls += [("dropdown", dropdowns.nth(i), _pick_another) for i in range(min(dropdowns.count(), 2))
                 if dropdowns.nth(i).locator("option").count() > 1]
    if notebook != "00_welcome.ipynb":
        assert controls, f"{notebook}: uses widgets but shows no slider or dropdown"
    for kind, control, move in controls:
        label = control.locator("xpath=ancestor::div[contains(@class, 'widget-inline-hbox')][1]").inner_text()
        assert _control_effect(page, control, move), \
            f"{notebook}: moving {kind} {label.strip()!r} changed no figure or number"
    if controls:
        page.screenshot(path=ARTIFACTS / f"{stem}-moved.png")
    problems = page.evaluate(PROBLEMS)
    assert not problems, f"{notebook} after moving sliders: " + "; ".join(problems)


# ---- the course website ----------------------------------------------------------------------------------------

SITE_LESSONS = ["00_welcome.ipynb", "02_content_addressing.ipynb"]  # equations, plots and widgets
# The page's prose as a reader sees it: no code, no outputs, no typeset math.
PROSE = """() => { const a = document.querySelector('article').cloneNode(true);
  a.querySelectorAll('.cell, pre, code, mjx-container').forEach(e => e.remove()); return a.innerText; }"""
FIGURES = "() => Array.from(document.querySelectorAll('article .cell_output img'))"


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory):
    """The website of two lessons and the guides of ``docs/`` (the cheat-sheet among them), built by
    ``ntm-course-instructor render`` and served on 127.0.0.1: (base url, folder).

    Built only when there is a browser to open it (``browser`` fails or skips first, without the build)."""
    out = tmp_path_factory.mktemp("site") / "html"
    lessons = [str(ROOT / "notebooks" / name) for name in SITE_LESSONS]
    built = main(["render", *lessons, "-o", str(out), "--site", str(ROOT / "site"), "--docs", str(ROOT / "docs")])
    assert built == 0, "the site did not build"
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=out))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", out
    finally:
        server.shutdown()
        server.server_close()


def title(notebook):
    """A lesson's first heading: the title of its page."""
    cells = nbformat.read(ROOT / "notebooks" / notebook, as_version=4).cells
    return next(line[2:].strip() for c in cells if c.cell_type == "markdown"
                for line in c.source.splitlines() if line.startswith("# "))


@pytest.mark.parametrize("notebook", SITE_LESSONS)
def test_site_page_shows_typeset_math_and_every_figure(site, page, notebook):
    url, out = site
    stem = Path(notebook).stem
    page.goto(f"{url}/{stem}.html")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
    page.evaluate("() => MathJax.startup.promise")  # MathJax has typeset the page
    page.wait_for_function(f"() => ({FIGURES})().every(img => img.complete)", timeout=60_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"site-{stem}.png", full_page=True)
    assert page.locator("article mjx-container").count() > 0, f"{notebook}: MathJax typeset nothing"
    errors = page.locator("article mjx-merror").all_inner_texts()
    assert not errors, f"{notebook}: MathJax could not typeset {errors[:3]}"
    raw = re.findall(r"\$|\\[a-zA-Z]+", page.evaluate(PROSE))
    assert not raw, f"{notebook}: TeX left untypeset in the page: {raw[:5]}"
    executed = nbformat.read(out / "_sources" / notebook, as_version=4)
    pictures = sum("image/png" in o.get("data", {}) for c in executed.cells for o in c.get("outputs", []))
    sizes = page.evaluate(f"() => ({FIGURES})().map(img => [img.naturalWidth, img.naturalHeight])")
    assert pictures > 0 and len(sizes) == pictures, f"{notebook}: {len(sizes)} figures on the page, {pictures} made"
    assert all(w > 0 and h > 0 for w, h in sizes), f"{notebook}: a figure did not load: {sizes}"


def test_site_navigation_links_the_lessons_and_search_finds_them(site, page):
    url, _ = site
    page.goto(f"{url}/00_welcome.html")
    assert page.locator("a.right-next").get_attribute("href") == "02_content_addressing.html"
    page.locator("nav.bd-docs-nav a[href='02_content_addressing.html']").click()
    page.wait_for_url(f"{url}/02_content_addressing.html")
    assert page.locator("article h1").first.inner_text().startswith(title("02_content_addressing.ipynb"))
    assert page.locator("nav.bd-docs-nav a[href='00_welcome.html']").count() == 1
    page.goto(f"{url}/search.html?q=cosine")
    page.wait_for_selector("#search-results a[href^='02_content_addressing.html']", timeout=30_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "site-search.png")


def test_site_cheatsheet_typesets_every_equation_and_prints_on_one_page(site, page):
    """The cheat-sheet (``docs/cheatsheet.md``) is a page of the site: its nine equations typeset, its tables and
    its links to the two diagrams work, and it prints on one A4 page (``docs/_static/cheatsheet-print.css``)."""
    url, out = site
    page.goto(f"{url}/cheatsheet.html")
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000)
    page.evaluate("() => MathJax.startup.promise")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "site-cheatsheet.png", full_page=True)
    assert page.locator("article h1").first.inner_text().startswith("NTM cheat-sheet")
    errors = page.locator("article mjx-merror").all_inner_texts()
    assert not errors, f"the cheat-sheet: MathJax could not typeset {errors[:3]}"
    raw = re.findall(r"\$|\\[a-zA-Z]+", page.evaluate(PROSE))
    assert not raw, f"the cheat-sheet: TeX left untypeset: {raw[:5]}"
    equations = page.locator("article table").first.locator("tbody tr")
    assert equations.count() == 9
    assert [equations.nth(i).locator("td").first.inner_text().split()[0] for i in range(9)] == \
        [str(n) for n in range(1, 10)]
    assert all(equations.nth(i).locator("mjx-container").count() > 0 for i in range(9)), "an equation is not typeset"
    for name in ("ntm_machine.svg", "addressing_pipeline.svg"):
        href = page.locator(f"article a[href$='{name}']").first.get_attribute("href")
        status = page.evaluate("async href => (await fetch(href)).status", href)
        assert status == 200, f"the cheat-sheet's link to {name} ({href}) gives HTTP {status}"
    pdf = page.pdf(path=ARTIFACTS / "site-cheatsheet.pdf", format="A4", print_background=True)
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
    assert pages == 1, f"the cheat-sheet prints on {pages} A4 pages"
