"""Shared test set-up: a hypothesis profile sized for a small shared CPU, a fixed seed per test, and each notebook
executed once per run: every exercise and solution by nbgrader's Validator (``validated``, which their tests
share, on one warm kernel per test process that is emptied before each notebook), every lesson by the browser
test where it will run, else by nbval (whose cells are all marked slow)."""
import os
import tempfile
from typing import NamedTuple

import pytest
import torch
from hypothesis import settings
from labserver import chromium


# deadline=None: a loaded 2-core machine makes per-example timing meaningless.
settings.register_profile("ntm", deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ntm"))

# Pieces a learner saves in the lessons (ntm_course.teaching.lesson) go to a fresh folder per test run, never to the
# user's own ~/.ntm_course: every untouched lesson then runs on the course's pieces. Kernels inherit it.
os.environ["NTM_COURSE_MINE"] = tempfile.mkdtemp(prefix="ntm-course-mine-")

# The tests use tiny tensors: on a busy machine waking torch's intra-op threads costs far more than the
# work itself (a 2 x 4 softmax went from 0.004 ms to 16 ms on the shared 2-core box), so use one thread.
torch.set_num_threads(1)


class Validated(NamedTuple):
    """One run of nbgrader's Validator on a notebook: its results, the notebook it executed (None when it did not
    execute it), and what failed: the code cells that ended in an error (``"cell 3: NameError: ..."``)."""
    results: dict
    notebook: object
    errors: list


@pytest.fixture(scope="session")
def warm_kernel():
    """``warm_kernel(cwd, mine)``: one Python kernel per test process, its user namespace emptied (``%reset -f``) and
    its folder and ``$NTM_COURSE_MINE`` set before each notebook it runs. The course's ~40 exercise and solution notebooks then pay for starting a kernel and importing
    torch once, not each (about two seconds of CPU a notebook); what a notebook defines never reaches the next."""
    from jupyter_client import KernelManager

    km = None

    def ready(cwd=None, mine=None):
        """The kernel, emptied, working in ``cwd`` (default: this process's) with ``$NTM_COURSE_MINE`` = ``mine``
        (default: this run's)."""
        nonlocal km
        if km is None or not km.is_alive():           # first use, or a notebook killed it: a fresh kernel
            km = KernelManager(kernel_name="python3")
            km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"])
        client = km.client()                           # a client of its own: the notebook's is gone by now
        client.start_channels()
        setup = (f"%reset -f\nimport os\nos.chdir({str(cwd or os.getcwd())!r})\n"
                 f"os.environ['NTM_COURSE_MINE'] = {str(mine or os.environ['NTM_COURSE_MINE'])!r}\ndel os")
        try:
            client.wait_for_ready(timeout=120)
            reply = client.execute_interactive(setup, timeout=60, output_hook=lambda msg: None)
        finally:
            client.stop_channels()
        assert reply["content"]["status"] == "ok", reply["content"]
        return km
    yield ready
    if km is not None:
        km.shutdown_kernel(now=True)


@pytest.fixture(scope="session")
def validated(warm_kernel):
    """``validated(path, invert)``: nbgrader's Validator run on the notebook at ``path``, once per test process.

    Each exercise and solution notebook is executed once, and every check of that run reads it: that no cell
    fails (what nbval would check), nbgrader's verdict (``invert=True``: complain when a check passes), and what the
    graded cells printed. The Validator gets room for the training exercise on a busy machine (180 s per cell). It
    executes on :func:`warm_kernel` (emptied first) rather than a kernel of its own, with nbgrader's own steps."""
    from nbconvert.preprocessors import ExecutePreprocessor
    from nbgrader import utils
    from nbgrader.validator import Validator
    from traitlets.config import Config

    class Keeping(Validator):
        executed = None

        def _preprocess(self, nb):   # nbgrader's Validator._preprocess, with the warm kernel for its Execute step
            resources = {}
            with utils.setenv(NBGRADER_VALIDATING="1", NBGRADER_EXECUTION="validate"):
                for preprocessor in self.preprocessors:
                    pp = preprocessor(parent=self)
                    extra = {"km": warm_kernel()} if isinstance(pp, ExecutePreprocessor) else {}
                    nb, resources = pp.preprocess(nb, resources, **extra)
            self.executed = nb
            return nb

    runs = {}

    def run(path, invert):
        if (path, invert) not in runs:
            validator = Keeping(config=Config({"Execute": {"timeout": 180}}), invert=invert)
            results = validator.validate(str(path))
            nb = validator.executed
            errors = [f"cell {i}: {o.ename}: {o.evalue}" for i, c in enumerate(nb.cells) if c.cell_type == "code"
                      for o in c.outputs if o.output_type == "error"] if nb else [f"not executed: {results}"]
            runs[path, invert] = Validated(results, nb, errors)
        return runs[path, invert]
    return run


@pytest.fixture
def fake_gpus(monkeypatch):
    """``fake_gpus(count)``: pretend ``count`` CUDA devices are present; returns the list of the ``devices`` each
    ``torch.random.fork_rng`` call then gets (the fork itself runs on the CPU's generator alone)."""
    def pretend(count):
        forked, real = [], torch.random.fork_rng
        monkeypatch.setattr(torch.cuda, "is_available", lambda: count > 0)
        monkeypatch.setattr(torch.cuda, "device_count", lambda: count)
        monkeypatch.setattr(torch.cuda, "manual_seed_all", lambda seed: None)

        def fork_rng(devices=None, **kwargs):
            forked.append(list(devices))
            return real(devices=[], **kwargs)
        monkeypatch.setattr(torch.random, "fork_rng", fork_rng)
        return forked
    return pretend


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same torch seed, so a failure reproduces."""
    torch.manual_seed(0)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Mark every notebook cell that nbval runs slow (``-m "not slow"`` leaves the notebooks out), then, once -m
    and -k have deselected what they deselect, leave to the browser test each lesson that it will run.

    ``test_browser.test_lesson_runs_and_widgets_respond`` (and a module naming ``RUNS_LESSON``, such as
    ``test_browser_playground``) runs every cell of the lesson in JupyterLab and fails on
    any error output (and on any output to stderr, which nbval allows), so nbval's run would only repeat it. Where
    Chromium is missing the browser test is skipped (or fails, in CI) and nbval runs every lesson.

    Last, the files with slow tests go first, each file's tests in their own order: pytest-xdist hands out whole
    files (``--dist loadfile``) in this order, so the long ones start at once and the many short files fill in
    around them, instead of one long file starting last while the other worker has nothing left to do."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
    yield
    slow_files = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow_files)
    if chromium() is None:
        return
    in_browser = {item.callspec.params["notebook"] for item in items
                  if getattr(item, "originalname", None) == "test_lesson_runs_and_widgets_respond"}
    # a browser test module that runs a whole lesson of its own (the playground's, lesson 12) names it RUNS_LESSON
    in_browser |= {item.module.RUNS_LESSON for item in items if hasattr(getattr(item, "module", None), "RUNS_LESSON")}

    def run_twice(item):
        return item.path.suffix == ".ipynb" and item.path.parent.name == "notebooks" and item.path.name in in_browser

    dropped = [item for item in items if run_twice(item)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if not run_twice(item)]
