"""The playground in a real browser: lesson 12 opened in JupyterLab (started as the quick start does, in headless
Chromium), every cell run, then the dashboard's Start clicked: its step count and learning curve move while the
notebook stays free (a cell runs meanwhile), Pause holds the count, Stop ends the run.

Reuses the JupyterLab and Chromium fixtures and helpers of ``tests/test_browser.py`` (which also runs this lesson's
cells and moves its sliders, as it does for every lesson with widgets). Screenshots land in
``test-artifacts/browser/``. Needs Debian's ``chromium``: skipped without it, failing in CI.
"""
import re
import time

import pytest
from test_browser import ARTIFACTS, PROBLEMS, browser, lab, lab_page, open_and_run  # noqa: F401 (fixtures)


pytestmark = [pytest.mark.browser, pytest.mark.slow]

LESSON = "12_capstone.ipynb"
RUNS_LESSON = LESSON   # every cell runs here: tests/conftest.py leaves the lesson out of nbval's run
STEP = re.compile(r"(running|paused|stopped|finished|ready) · step (\d+)")
# The status line and the learning curve's picture of the dashboard (the only output with a Start button).
STATUS = """() => { const area = Array.from(document.querySelectorAll('.jp-OutputArea')).find(a =>
    Array.from(a.querySelectorAll('button')).some(b => /Start|Continue/.test(b.textContent)));
  if (!area) return null;
  const status = Array.from(area.querySelectorAll('.widget-html')).map(h => h.textContent)
    .find(t => / · step \\d+/.test(t));
  const images = Array.from(area.querySelectorAll('img')).map(i => i.src.length + ':' + i.src.slice(-40));
  return {status: status || '', curve: images[0] || ''}; }"""
# Run a cell of one's own while the dashboard trains: the kernel answers between two chunks.
RUN_CODE = """async code => { const nb = window.jupyterapp.shell.currentWidget;
  const kernel = nb.sessionContext.session.kernel; let text = '';
  const future = kernel.requestExecute({code, silent: false});
  future.onIOPub = msg => { if (msg.header.msg_type === 'stream') text += msg.content.text; };
  await future.done; return text; }"""


def _state(page):
    shown = page.evaluate(STATUS)
    assert shown is not None, "no dashboard with a Start button in the lesson's outputs"
    match = STEP.search(shown["status"])
    assert match, f"the dashboard's status line shows no step count: {shown['status']!r}"
    return match.group(1), int(match.group(2)), shown["curve"]


def _button(page, label):
    return page.locator(".jp-OutputArea button", has_text=re.compile(rf"^\s*{label}\s*$")).first


def _wait_until(page, condition, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        state = _state(page)
        if condition(*state):
            return state
        page.wait_for_timeout(200)
    pytest.fail(f"timed out; the dashboard shows {_state(page)}")


def test_the_playground_trains_live_pauses_and_stops(lab_page):  # noqa: F811 (the imported fixture)
    page = lab_page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = open_and_run(page, LESSON)
    assert not problems, f"{LESSON}: " + "; ".join(problems)
    status, before, curve = _state(page)
    assert status == "stopped", status               # the lesson's own cell started and stopped it
    start = _button(page, "Continue")
    start.scroll_into_view_if_needed()          # off-screen cells are not rendered: bring the dashboard into view
    start.click()
    status, moved, _ = _wait_until(page, lambda s, step, c: s == "running" and step >= before + 20)
    # the notebook stays free: a cell of one's own runs while it trains
    assert page.evaluate(RUN_CODE, "print(board.session.status, 6 * 7)").split() == ["running", "42"]
    _, later, later_curve = _wait_until(page, lambda s, step, c: step > moved and c != curve)
    page.screenshot(path=ARTIFACTS / "12_capstone-playground-running.png")
    _button(page, "Pause").click()
    status, held, _ = _wait_until(page, lambda s, step, c: s == "paused")
    page.wait_for_timeout(1500)
    assert _state(page)[:2] == ("paused", held), "Pause did not hold the run"
    _button(page, "Resume").click()
    _wait_until(page, lambda s, step, c: s == "running" and step > held)
    _button(page, "Stop").click()
    status, stopped, _ = _wait_until(page, lambda s, step, c: s == "stopped")
    page.wait_for_timeout(1500)
    assert _state(page)[1] == stopped, "the run went on after Stop"
    assert page.evaluate(RUN_CODE, "print(board.session.running, board.session._thread.is_alive())").split() == \
        ["False", "False"]
    page.screenshot(path=ARTIFACTS / "12_capstone-playground-stopped.png")
    problems = page.evaluate(PROBLEMS)
    assert not problems, f"{LESSON} after training in the playground: " + "; ".join(problems)
