"""The Colab badge and install cell (``ntm_course_instructor.hosted``): the cell does nothing off Colab, and on a
simulated
Colab it installs the course next to the hosted torch and ipywidgets without touching them.

The slow test builds the simulation: a fresh virtual environment holding torch 2.13.0 and ipywidgets 7.7 (as
Colab ships them), a fake ``google.colab`` module imported before the cell runs (Colab's kernel imports the
real one at start), and ``$NTM_COURSE_SOURCE`` pointing the cell at a copy of this checkout instead of GitHub.
"""
import subprocess
import sys
import time
import types
from pathlib import Path

import nbformat
import pytest
from envs import ROOT, checkout_copy, clean_env, execute_in, fresh_venv, site_packages

from ntm_course_instructor import hosted


LESSON, SOLUTION = ROOT / "notebooks" / "05_shift.ipynb", ROOT / "solutions" / "05_shift.ipynb"


# --- the cells in the notebooks -------------------------------------------------------------------------------

def stripped(path):
    """The notebook at ``path`` without its hosted cells, as it was before they were added."""
    nb = nbformat.read(str(path), as_version=nbformat.NO_CONVERT)
    nb.cells = [c for c in nb.cells if hosted.role(c) is None]
    return nb


def test_add_hosted_cells_puts_the_badge_first_and_the_install_cell_before_the_first_code_cell():
    nb = hosted.add_hosted_cells(stripped(LESSON), "notebooks/05_shift.ipynb")
    roles = [hosted.role(c) for c in nb.cells]
    first_code = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    assert roles[0] == "badge" and roles[first_code] == "install" and roles.count(None) == len(roles) - 2
    assert nb.cells[0].source == hosted.colab_badge("notebooks/05_shift.ipynb")
    assert "https://colab.research.google.com/github/ntm-course/ntm-course/blob/main/notebooks/05_shift.ipynb" \
        in nb.cells[0].source
    assert "nbgrader" not in nb.cells[first_code].metadata
    again = hosted.add_hosted_cells(nbformat.from_dict(nb), "notebooks/05_shift.ipynb")
    assert nbformat.writes(again) == nbformat.writes(nb)          # adding them twice changes nothing


def test_an_nbgrader_notebook_gets_a_locked_install_cell():
    nb = hosted.add_hosted_cells(stripped(SOLUTION), "solutions/05_shift.ipynb")
    install = next(c for c in nb.cells if hosted.role(c) == "install")
    assert install.metadata.nbgrader == {"grade": False, "grade_id": "colab", "locked": True,
                                         "schema_version": 3, "solution": False, "task": False}


def test_main_rewrites_stale_notebooks_and_check_lists_them(tmp_path, capsys):
    for path in (LESSON, SOLUTION):
        (tmp_path / path.parent.name).mkdir()
        (tmp_path / path.parent.name / path.name).write_text(nbformat.writes(stripped(path)) + "\n")
    assert hosted.main(["--root", str(tmp_path), "--check"]) == 1
    assert "stale: notebooks/05_shift.ipynb" in capsys.readouterr().out
    assert hosted.main(["--root", str(tmp_path)]) == 0
    assert "ntm-course-instructor release" in capsys.readouterr().out
    assert hosted.main(["--root", str(tmp_path), "--check"]) == 0
    for path in (LESSON, SOLUTION):   # the same text as the repository's notebooks
        assert (tmp_path / path.parent.name / path.name).read_text() == path.read_text()


def test_main_outside_the_repository_is_a_clear_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        hosted.main(["--root", str(tmp_path)])
    assert stopped.value.code == 2 and "--root must be the course's repository" in capsys.readouterr().err


def test_the_readme_quick_start_opens_the_welcome_lesson_on_colab():
    quick_start = (ROOT / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    assert hosted.colab_badge("notebooks/00_welcome.ipynb") in quick_start
    assert (ROOT / "notebooks" / "00_welcome.ipynb").exists()


# --- the install cell's guard ------------------------------------------------------------------------------

@pytest.fixture
def no_pip(monkeypatch):
    """Any subprocess the cell starts (pip) fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"the cell started {args}")
    monkeypatch.setattr(subprocess, "run", refuse)


def test_off_colab_the_install_cell_does_nothing(no_pip, capsys):
    assert "google.colab" not in sys.modules
    namespace = {}
    started = time.perf_counter()
    exec(compile(hosted.INSTALL_CELL, "install cell", "exec"), namespace)
    assert time.perf_counter() - started < 0.1
    assert set(namespace) == {"__builtins__", "sys"} and capsys.readouterr().out == ""


def test_on_colab_with_the_course_installed_the_cell_installs_nothing(no_pip, monkeypatch, capsys):
    # This environment has the course and every requirement of its lessons: nothing to do but say so.
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setenv(hosted.SOURCE_VARIABLE, "/nonexistent")
    exec(compile(hosted.INSTALL_CELL, "install cell", "exec"), {})
    assert capsys.readouterr().out.strip().endswith("already installed")


# --- a simulated Colab ----------------------------------------------------------------------------------------

COLAB = ("torch==2.13.0", "ipywidgets==7.7.1", "ipykernel==6.17.1", "notebook==6.5.7", "jupyter-server==1.24.0")
"""What the simulated Colab runtime holds before the install cell runs, at Colab's versions (torch at this
machine's): its own notebook server, older than JupyterLab 4's, and no JupyterLab."""


def distributions(python):
    """``{name: (version, mtime of its metadata folder)}`` of every distribution in the venv."""
    site = site_packages(python)
    found = {}
    for info in site.glob("*.dist-info"):
        name, version = info.name[:-len(".dist-info")].rsplit("-", 1)
        found[name.lower().replace("_", "-")] = (version, info.stat().st_mtime_ns)
    return found


def run_cell(python, checkout, tmp_path, on_colab):
    """Run the install cell in ``python``; on Colab, with a fake ``google.colab`` imported first."""
    fake = tmp_path / "fake_colab"
    (fake / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (fake / "google" / "colab" / "__init__.py").write_text('"""A stand-in for Colab\'s module."""\n')
    code = ("import google.colab\n" if on_colab else "") + hosted.INSTALL_CELL
    started = time.perf_counter()
    done = subprocess.run([str(python), "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=900,
                          env=clean_env(PYTHONPATH=str(fake), **{hosted.SOURCE_VARIABLE: str(checkout)}))
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip(), time.perf_counter() - started


@pytest.mark.slow
def test_on_a_simulated_colab_the_cell_installs_the_course_beside_the_hosted_torch(tmp_path, monkeypatch):
    checkout = checkout_copy(tmp_path / "checkout")
    python = fresh_venv(tmp_path / "colab", *COLAB)
    hosted_before = distributions(python)
    assert hosted_before["ipywidgets"][0] == "7.7.1" and "jupyterlab" not in hosted_before

    out, _ = run_cell(python, checkout, tmp_path, on_colab=False)
    assert out == "" and "ntm-course" not in distributions(python)      # not Colab: nothing happens

    out, seconds = run_cell(python, checkout, tmp_path, on_colab=True)
    assert out.startswith("ntm-course 0.1.0 installed"), out
    after = distributions(python)
    assert "ntm-course" in after and "jupyterlab" not in after   # Colab serves the notebooks itself
    changed = {name: (was, after.get(name)) for name, was in hosted_before.items() if after.get(name) != was}
    assert not changed, f"the cell replaced what was installed: {changed}"

    # The welcome lesson runs on it, with Colab's ipywidgets 7.7.
    course_file, torch_version, widgets_version = execute_in(
        python, checkout / "notebooks" / "00_welcome.ipynb", monkeypatch,
        "import ipywidgets\nprint(ntm_course.__file__, torch.__version__, ipywidgets.__version__)").split()
    assert Path(course_file).is_relative_to(site_packages(python))       # installed, not the checkout's source
    assert (torch_version, widgets_version) == (hosted_before["torch"][0], "7.7.1")

    out, again = run_cell(python, checkout, tmp_path, on_colab=True)       # a second run does nothing, quickly
    assert out == "ntm-course 0.1.0 already installed" and again < min(5.0, seconds / 5)
    assert distributions(python) == after


CHANGELOG = "# Changelog\n\n## [Unreleased]\n{unreleased}\n## [v0.3.0] - 2027-01-02\n\n- something\n"


@pytest.mark.parametrize("unreleased, ref", [("\n### Added\n\n- a new lesson\n", "main"), ("", "v0.3.0"),
                                             ("\n### Added\n", "v0.3.0")])
def test_a_notebook_installs_the_release_it_belongs_to(tmp_path, unreleased, ref):
    """While the CHANGELOG lists unreleased changes the notebooks belong to the default branch; in a release
    commit (nothing unreleased) they install, and their badges open, that release's tag."""
    (tmp_path / "CHANGELOG.md").write_text(CHANGELOG.format(unreleased=unreleased))
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "ntm-course"\nversion = "0.3.0"\n')
    assert hosted.release_ref(tmp_path) == ref
    nb = hosted.add_hosted_cells(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), "x.ipynb", ref)
    assert hosted.ref_of(nb) == ref and f"github.com/{hosted.REPOSITORY}@{ref}\"" in nb.cells[1].source
    assert f"/blob/{ref}/x.ipynb" in nb.cells[0].source


def test_this_checkouts_notebooks_follow_its_changelog():
    assert {hosted.ref_of(nbformat.read(str(path), as_version=4))
            for folder in (*hosted.FOLDERS, "exercises") for path in (ROOT / folder).glob("*.ipynb")} == \
        {hosted.release_ref(ROOT)}
