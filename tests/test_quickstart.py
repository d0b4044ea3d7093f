"""The README's quick start on a learner's first, second and third day, in a copy of this checkout.

CI runs ``course.py`` once, in a fresh clone. A learner runs it again the next day, in a clone where the first
run left ``.venv`` and ``ntm_course.egg-info`` behind: these tests run the two commands three times each,
without the ``CI`` variable, from a Python that is not the course's environment (the learner's ``python3``).
A Python that does have this checkout's course installed (the conda route) must be used as it is.
``lab`` opens JupyterLab without nbgrader's instructor tools, ``lab --instructor`` with them, and neither writes
the user's Jupyter configuration. One set-up installs the course, with every extra, into the copy's ``.venv``
(about a minute and a half on the project's 2-core machine with a warm pip cache).
"""
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import venv
from importlib import metadata
from pathlib import Path

import pytest
from envs import checkout_copy
from labserver import running_lab

ROOT = Path(__file__).resolve().parents[1]
# The interpreter a learner types ``python3`` for: the one this environment was made from.
LEARNER_PYTHON = Path(getattr(sys, "_base_executable", sys.executable))
NBGRADER_VERSION = metadata.version("nbgrader")
# A test file that says which Python and which copy of the course ran it (in a file: pytest-xdist's workers
# do not print to the terminal).
WHERE = ("import os, sys, ntm_course\n\ndef test_where():\n    with open(os.environ['WHERE_FILE'], 'w') as f:\n"
         "        f.write(f'{sys.executable}\\n{ntm_course.__file__}')\n")


def _checkout_copy(dest):
    """A copy of the checkout (:func:`envs.checkout_copy`) with a test file that says where it ran."""
    checkout_copy(dest)
    (dest / "tests" / "test_where.py").write_text(WHERE)
    return dest


def _env(tmp):
    """The learner's shell: no CI, no active environment; Jupyter's per-user folders kept inside ``tmp``."""
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "VIRTUAL_ENV", "PYTHONPATH", "CONDA_PREFIX")}
    env.update(JUPYTER_DATA_DIR=str(tmp / "data"), JUPYTER_CONFIG_DIR=str(tmp / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp / "runtime"), JUPYTERLAB_WORKSPACES_DIR=str(tmp / "workspaces"))
    return env


def _course_test(python, checkout, env):
    """``python course.py test`` on one small test file; return the Python and the course file that ran it.

    ``-n 0`` runs that one test without pytest-xdist's workers (their start is most of such a run's time); CI runs
    ``course.py test`` with its workers anyway, and which Python runs pytest does not depend on them.
    """
    where = checkout / "where.txt"
    where.unlink(missing_ok=True)
    run = subprocess.run([str(python), "course.py", "test", "tests/test_where.py", "-q", "-p", "no:cacheprovider",
                          "-n", "0"], cwd=checkout, env={**env, "WHERE_FILE": str(where)}, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, f"course.py test failed ({run.returncode}):\n{run.stdout[-3000:]}{run.stderr[-3000:]}"
    python_used, course = where.read_text().splitlines()
    return Path(python_used), Path(course)


def _course_lab(python, checkout, env, log, *args):
    """What ``python course.py lab *args`` serves: it must serve the welcome lesson. Returns ``(the kernel spec it
    serves, the lab extensions the page loads, those disabled, the status of nbgrader's server endpoint
    /nbgrader_version, the server's log)``."""
    with running_lab(python, checkout, env, log, args=args) as url:
        with urllib.request.urlopen(f"{url}/api/contents/notebooks/00_welcome.ipynb?content=0", timeout=30) as r:
            assert json.load(r)["name"] == "00_welcome.ipynb"
        with urllib.request.urlopen(f"{url}/", timeout=30) as r:               # the server's front door ...
            assert r.geturl() == f"{url}/lab/tree/notebooks/00_welcome.ipynb"
        printed = re.findall(r"http://127\.0\.0\.1:\d+/\S*", log.read_text())    # ... and the URL it prints
        assert f"{url}/lab/tree/notebooks/00_welcome.ipynb" in printed and f"{url}/lab" not in printed, printed
        with urllib.request.urlopen(f"{url}/api/kernelspecs", timeout=30) as r:
            kernel = json.load(r)["kernelspecs"]["python3"]["spec"]
        with urllib.request.urlopen(f"{url}/lab", timeout=30) as r:
            page = r.read().decode()
        try:
            with urllib.request.urlopen(f"{url}/nbgrader_version?version={NBGRADER_VERSION}", timeout=30) as r:
                status = r.status
        except urllib.error.HTTPError as error:
            status = error.code
    config = json.loads(re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                                  page, re.S).group(1))
    loaded = [e["name"] for e in config["federated_extensions"]]
    return kernel, loaded, config["disabledExtensions"], status, log.read_text()


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    return _checkout_copy(tmp_path_factory.mktemp("clone"))


@pytest.mark.slow
def test_both_commands_work_on_the_first_second_and_third_run(checkout, tmp_path):
    """Each day runs both commands. The learner's ``lab`` (days 1 and 3) hides nbgrader's lab extension (its menu,
    Create Assignment panel, Validate button) and server extensions, for that launch only; the instructor's
    ``lab --instructor`` (day 2) shows them; neither writes the environment's or the user's configuration."""
    env = _env(tmp_path)
    venv_python = checkout / ".venv" / "bin" / "python"
    settings = checkout / ".venv" / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    env_config = checkout / ".venv" / "etc" / "jupyter"                         # what pip installed there
    for day in (1, 2, 3):
        if day == 3:  # a .venv made by an older pyproject.toml is brought up to date, not used as it is
            with open(checkout / "pyproject.toml", "a") as f:
                f.write("\n# a later version of the course\n")
        python, course = _course_test(LEARNER_PYTHON, checkout, env)
        assert python == venv_python, f"day {day}: the tests ran on {python}, not the course's .venv"
        assert course.is_relative_to(checkout / "ntm_course"), f"day {day}: the tests imported {course}"
        if day == 1:
            assert (checkout / "ntm_course.egg-info").is_dir()  # what tricked the second run before
            before = sorted(env_config.rglob("*"))
        instructor = day == 2
        kernel, loaded, disabled, status, log = _course_lab(LEARNER_PYTHON, checkout, env, tmp_path / f"lab{day}.log",
                                                            *(["--instructor"] if instructor else []))
        assert Path(kernel["argv"][0]) == venv_python, f"day {day}: the lessons' kernel is {kernel['argv']}"
        assert kernel["display_name"] == "Python 3 (ntm-course)"
        assert "@jupyter/nbgrader" in loaded                                       # installed ...
        if instructor:                                                             # ... and on
            assert "@jupyter/nbgrader" not in disabled
            assert status == 200 and "nbgrader.server_extensions.formgrader | extension was successfully loaded" in log
        else:                                                                      # ... and off, none linked
            assert "@jupyter/nbgrader" in disabled
            assert status == 404 and "nbgrader.server_extensions" not in log
        if day == 1:  # a setting of the learner's own in the environment's overrides survives the next start
            saved = json.loads(settings.read_text())
            settings.write_text(json.dumps({**saved, "@jupyterlab/apputils-extension:themes": {"theme": "Dark"}}))
    saved = json.loads(settings.read_text())
    assert saved["@jupyterlab/apputils-extension:themes"] == {"theme": "Dark"}
    assert saved["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert sorted(env_config.rglob("*")) == before                             # the environment's own config
    user_config = tmp_path / "config"                                          # $JUPYTER_CONFIG_DIR
    assert not [p for p in user_config.rglob("*") if "labconfig" in p.parts or "server_config" in p.name]


@pytest.mark.slow
def test_a_python_that_has_this_checkouts_course_is_used_as_it_is(checkout, tmp_path):
    """The conda route, simulated: an environment that is not ``.venv`` but has the course and its packages."""
    site = next((checkout / ".venv" / "lib").glob("python3*/site-packages"), None)
    if site is None:  # the first test sets .venv up; run alone, do it here
        _course_test(LEARNER_PYTHON, checkout, _env(tmp_path))
        site = next((checkout / ".venv" / "lib").glob("python3*/site-packages"))
    conda = tmp_path / "conda"
    venv.EnvBuilder(with_pip=False).create(conda)
    conda_site = next((conda / "lib").glob("python3*/site-packages"))
    (conda_site / "course.pth").write_text(f"import site; site.addsitedir({str(site)!r})\n")
    conda_python = conda / "bin" / "python"
    python, course = _course_test(conda_python, checkout, _env(tmp_path))
    assert python == conda_python
    assert course.is_relative_to(checkout / "ntm_course")

    # The same environment is foreign to another checkout: there course.py must not use it.
    other = _checkout_copy(tmp_path / "other")
    probe = subprocess.run([str(conda_python), "-c", "import course; print(course._has_course())"],
                           cwd=other, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "False"
    probe = subprocess.run([str(conda_python), "-c", "import course; print(course._has_course())"],
                           cwd=checkout, capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "True"


def test_a_learners_config_folder_goes_first_and_the_users_own_config_path_stays():
    """``lab`` prepends the learner folder to ``$JUPYTER_CONFIG_PATH``; ``--instructor`` drops it (also when
    inherited from a lab started by ``course.py``), and the user's own entries are kept in order."""
    probe = ("import course, os; from pathlib import Path; folder = Path('/env/etc/ntm-course/learner'); "
             "env = {'JUPYTER_CONFIG_PATH': os.pathsep.join(['/mine', str(folder), '/theirs'])}; "
             "print(course._jupyter_config_path(env, True, folder)); print(course._jupyter_config_path(env, False, "
             "folder)); print(repr(course._jupyter_config_path({}, False, folder)))")
    run = subprocess.run([str(LEARNER_PYTHON), "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert run.stdout.splitlines() == [os.pathsep.join(["/env/etc/ntm-course/learner", "/mine", "/theirs"]),
                                       os.pathsep.join(["/mine", "/theirs"]), "''"]


def test_lab_opens_the_welcome_lesson_also_at_the_url_it_prints():
    """``--no-browser`` prints JupyterLab's default URL: ``lab`` makes it the welcome lesson's, not the Launcher's,
    and the learner's own options come after the course's (on traitlets' command line the last one wins)."""
    probe = "import course, json, sys; print(json.dumps(course._lab_command(sys.executable, sys.argv[1:])))"
    run = subprocess.run([str(LEARNER_PYTHON), "-c", probe, "--no-browser", "--LabApp.default_url=/lab"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    cmd = json.loads(run.stdout)
    assert cmd[1:5] == ["-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}",
                        "--LabApp.default_url=/lab/tree/notebooks/00_welcome.ipynb"]
    assert "notebooks/00_welcome.ipynb" in cmd and (ROOT / "notebooks" / "00_welcome.ipynb").is_file()
    assert cmd.index("--LabApp.default_url=/lab") > 4 and "--no-browser" in cmd


def test_coverage_is_measured_in_ci_and_when_asked():
    """``course.py test`` adds ``--cov`` when ``$CI`` is set (and not false); ``test --cov`` asks for it anywhere."""
    probe = ("import course; print([course._coverage(env, rest) for env, rest in [({}, []), ({'CI': 'true'}, []), "
             "({'CI': '1'}, ['-x']), ({'CI': 'false'}, []), ({'CI': ''}, []), ({}, ['--cov']), "
             "({'CI': 'true'}, ['--cov']), ({'CI': 'true'}, ['--cov=ntm_course', 'tests'])]])")
    run = subprocess.run([str(LEARNER_PYTHON), "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    both = "['--cov=ntm_course', '--cov=ntm_course_instructor']"       # the learner's and the instructor's package
    assert run.stdout.strip() == f"[[], {both}, {both}, [], [], [], [], []]"


def test_a_half_made_or_orphaned_venv_is_not_trusted(tmp_path):
    """A ``.venv`` whose Python is gone (its base Python was removed) or that has no pip is made again."""
    half = tmp_path / "half"
    venv.EnvBuilder(with_pip=False).create(half)
    probe = ("import sys, course; from pathlib import Path; "
             "print([course._venv_works(Path(p)) for p in sys.argv[1:]])")
    run = subprocess.run([str(LEARNER_PYTHON), "-c", probe, str(tmp_path / "gone" / "bin" / "python"),
                          str(half / "bin" / "python"), sys.executable], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    assert run.stdout.strip() == "[False, False, True]"
