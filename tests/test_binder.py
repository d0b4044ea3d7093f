"""Binder: the files in ``binder/`` build an environment in which the welcome lesson runs on the installed course.

repo2docker pip-installs ``binder/requirements.txt``, then runs ``binder/postBuild`` in the repository's root.
The slow test does the same in a fresh virtual environment, against a copy of this checkout, and runs
``notebooks/00_welcome.ipynb`` in a kernel of that environment. Only torch's index differs from Binder's: the
download.pytorch.org CPU index is replaced (``$TORCH_INDEX_URL``) by the index this machine's pip uses, which
holds the same CPU build of the torch that constraints.txt pins.
"""
import os
import re
import subprocess
from pathlib import Path

import pytest
from envs import checkout_copy, clean_env, execute_in, fresh_venv, site_packages

from ntm_course_instructor import hosted


ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
WELCOME = "notebooks/00_welcome.ipynb"


def requirement_lines():
    return [line.strip() for line in (BINDER / "requirements.txt").read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def postbuild_installs():
    """The ``pip install`` commands of postBuild, continuation lines joined."""
    text = (BINDER / "postBuild").read_text().replace("\\\n", " ")
    return [line.strip() for line in text.splitlines() if line.strip().startswith("pip install")]


def test_the_environment_file_does_not_install_the_repository():
    lines = requirement_lines()
    assert lines, "binder/requirements.txt lists what Binder installs before postBuild"
    assert not [line for line in lines if line.startswith(("-e", "--editable", ".", "/", "file:", "-r"))
                or re.match(r"ntm[-_]course", line)]


def test_postbuild_installs_the_course_with_the_cpu_build_of_torch():
    assert os.access(BINDER / "postBuild", os.X_OK), "repo2docker runs postBuild only when it is executable"
    assert "set -euo pipefail" in (BINDER / "postBuild").read_text()
    torch_step, course_step = postbuild_installs()
    assert torch_step.endswith(" torch") and "https://download.pytorch.org/whl/cpu" in torch_step
    assert course_step.endswith('".[lessons]"') and " -e " not in course_step
    assert all("-c constraints.txt" in step for step in (torch_step, course_step))


def test_the_readme_quick_start_opens_the_welcome_lesson_on_binder():
    quick_start = (ROOT / "README.md").read_text().split("## Quick start")[1].split("\n## ")[0]
    assert hosted.binder_badge(WELCOME) in quick_start
    assert hosted.binder_url(WELCOME) == \
        "https://mybinder.org/v2/gh/ntm-course/ntm-course/main?urlpath=lab/tree/notebooks/00_welcome.ipynb"


@pytest.mark.slow
def test_binder_files_build_an_environment_that_runs_the_welcome_lesson(tmp_path, monkeypatch):
    checkout = checkout_copy(tmp_path / "repo")
    python = fresh_venv(tmp_path / "binder", "-r", str(checkout / "binder" / "requirements.txt"))
    env = clean_env(PATH=f"{python.parent}{os.pathsep}{os.environ['PATH']}",
                    TORCH_INDEX_URL=os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple"))
    built = subprocess.run(["bash", "binder/postBuild"], cwd=checkout, env=env, capture_output=True, text=True,
                           timeout=1200)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    assert not (checkout / "build").exists() and not list(checkout.glob("*.egg-info"))

    # The welcome lesson, in a kernel of that environment (JupyterLab brought ipykernel).
    course_file, executable, torch_version = execute_in(
        python, checkout / WELCOME, monkeypatch,
        "import sys\nprint(ntm_course.__file__, sys.executable, torch.__version__)").split()
    assert Path(course_file).is_relative_to(site_packages(python)), course_file   # installed, not the source
    assert Path(executable).parent == python.parent and torch_version.startswith("2.13.0")
