#!/usr/bin/env python3
"""Set up the course and run it: the README's two quick-start commands.

    python3 course.py lab                # set up, then open the course in JupyterLab (the welcome lesson; also
                                         # the URL that lab --no-browser prints)
    python3 course.py lab --instructor   # the same, with nbgrader's instructor tools (see below)
    python3 course.py test               # set up, then run every test: the library and every notebook

Set-up makes a virtual environment in ``.venv`` (once; again only when a pyproject.toml or constraints.txt
change, or when the environment is broken) and installs into it with pip, in editable mode, both of this
checkout's distributions: the learner's course with every extra (lessons, dev) and the instructor's tools
(``instructor/``, with the site extra): both commands use the same environment. If the Python running
this script already has *this checkout's* course installed in editable mode with every package it needs (the
conda environment from ``environment.yml``), that Python is used instead; a stale or foreign install (the
course from another checkout, metadata without the packages) never is, so every run picks the same Python.
Anything after ``lab`` or ``test`` goes to JupyterLab or pytest, e.g. ``python3 course.py test -x``;
``test -m "not slow"`` leaves out the notebooks and environment builds (a quick inner loop), and ``test --cov``
reports the library's coverage, which ``test`` measures by itself only in CI (``$CI`` set).

JupyterLab opens as a learner sees it: nbgrader's JupyterLab extension (the Nbgrader menu, the Create
Assignment panel, the Validate button, ...) and its server extensions (formgrader, assignment list, ...) are
disabled, for that launch only. ``--instructor`` leaves them on. This is done without touching the user's own
Jupyter configuration: the learner's settings are a configuration folder of the course's environment
(``etc/ntm-course/learner`` in ``.venv``) that ``lab`` puts first on ``$JUPYTER_CONFIG_PATH`` for JupyterLab.
Needs Python 3.10 or newer; only the standard library is used here.
"""
import hashlib
import json
import os
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
WELCOME = "notebooks/00_welcome.ipynb"
KERNEL_DISPLAY_NAME = "Python 3 (ntm-course)"
# Every command installs both distributions with all of these extras, so one environment serves lab and test.
EXTRAS = ("lessons", "dev")
INSTRUCTOR_EXTRAS = ("site",)
DISTRIBUTIONS = {"ntm-course": (ROOT, EXTRAS), "ntm-course-instructor": (ROOT / "instructor", INSTRUCTOR_EXTRAS)}
# JupyterLab defaults for the course's environment: no pop-up asking about news feeds on first start.
LAB_SETTINGS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}
# What a learner's JupyterLab leaves out (``lab --instructor`` keeps them): nbgrader's instructor and assignment
# tools. A Jupyter configuration folder: the lab extension's page config, the server extensions' switches.
LEARNER_CONFIG = {
    "labconfig/page_config.json": {"disabledExtensions": {"@jupyter/nbgrader": True}},
    "jupyter_server_config.d/ntm-course-learner.json": {"ServerApp": {"jpserver_extensions": {
        f"nbgrader.server_extensions.{name}": False
        for name in ("formgrader", "validate_assignment", "assignment_list", "course_list")}}},
}


def _venv_python():
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _has_course():
    """True when this Python has this checkout's two distributions, with every extra's packages, installed (the
    conda route).

    Looks only at installed distributions, never at this script's own folder: an editable install leaves
    ``ntm_course.egg-info`` here, which would otherwise look like an installed course. The course must be an
    editable install of this checkout (so the lessons import the code you see), and each requirement of it and
    of its :data:`EXTRAS` must be installed at a version that satisfies it.
    """
    if Path(sys.prefix).resolve() == VENV.resolve():
        return False
    paths = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    return all(_has_distribution(name, folder, extras, paths) for name, (folder, extras) in DISTRIBUTIONS.items())


def _has_distribution(name, folder, extras, paths):
    """True when ``name`` is an editable install of ``folder`` with the packages of its ``extras`` installed."""
    dist = next(iter(metadata.distributions(name=name, path=paths)), None)
    if dist is None:
        return False
    try:
        origin = json.loads(dist.read_text("direct_url.json") or "{}")
        from packaging.requirements import Requirement  # every environment with the course's packages has it
    except (ValueError, ImportError):
        return False
    if origin.get("url") != folder.as_uri() or not origin.get("dir_info", {}).get("editable"):
        return False
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker and not any(req.marker.evaluate({"extra": extra}) for extra in extras):
            continue
        found = next(iter(metadata.distributions(name=req.name, path=paths)), None)
        if found is None or not req.specifier.contains(found.version, prereleases=True):
            return False
    return True


def _venv_works(python):
    """True when ``python`` runs and has pip (a venv whose base Python was removed, or half made, does not)."""
    return python.exists() and subprocess.run([str(python), "-m", "pip", "--version"],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def _stamp():
    """The install stamp: where it lives and the digest it must hold to be current."""
    digest = hashlib.sha256(",".join(EXTRAS + INSTRUCTOR_EXTRAS).encode())
    for name in ("pyproject.toml", "instructor/pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return VENV / ".ntm-course-installed", digest.hexdigest()


def _installed():
    path, digest = _stamp()
    return path.exists() and path.read_text() == digest


def setup():
    """Return the Python to use, creating and filling ``.venv`` (the course with every extra) when needed."""
    if _has_course():
        return Path(sys.executable)
    if sys.version_info < (3, 10):
        sys.exit(f"ntm-course needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    python = _venv_python()
    if python.exists() and _installed():
        return python
    if not _venv_works(python):
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    specs = ["-e", f".[{','.join(EXTRAS)}]", "-e", f"./instructor[{','.join(INSTRUCTOR_EXTRAS)}]"]
    print(f"Installing the course ({' '.join(specs[1::2])}) into {VENV}; the first time takes a few minutes ...",
          flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", "-c", "constraints.txt", *specs],
                   check=True, cwd=ROOT)
    # Bytecode for everything installed, on every core (pip's own compiling takes twice as long, on one): each
    # kernel and test process then imports torch in about a second, not three, also where $PYTHONDONTWRITEBYTECODE
    # stops Python from caching what it compiles. A few packages ship files that are not Python 3, which
    # compileall reports and pip would skip: its output and exit status say nothing about the course.
    subprocess.run([str(python), "-m", "compileall", "-q", "-j", "0", str(VENV)], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    path, digest = _stamp()
    path.write_text(digest)
    return python


def _merge_lab_settings(path):
    """Add the course's JupyterLab defaults to the environment's ``overrides.json``, keeping what else it holds."""
    try:
        settings = json.loads(path.read_text()) if path.exists() else {}
    except ValueError:
        settings = None
    if not isinstance(settings, dict):
        print(f"warning: {path} is not a JSON object; leaving it as it is", file=sys.stderr)
        return
    for plugin, values in LAB_SETTINGS.items():  # the course's defaults; a learner's own choices win
        settings[plugin] = {**values, **settings.get(plugin, {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2))


def _learner_config(prefix):
    """Write :data:`LEARNER_CONFIG` into the environment at ``prefix``; return its folder."""
    folder = prefix / "etc" / "ntm-course" / "learner"
    for name, content in LEARNER_CONFIG.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(content, indent=2))
    return folder


def _jupyter_config_path(env, learner, folder):
    """``$JUPYTER_CONFIG_PATH`` for the launch: the user's own, with ``folder`` first for a learner only."""
    theirs = [p for p in env.get("JUPYTER_CONFIG_PATH", "").split(os.pathsep) if p and Path(p) != folder]
    return os.pathsep.join(([str(folder)] if learner else []) + theirs)


def _coverage(env, rest):
    """pytest's coverage options: the library's coverage is measured in CI (``$CI`` set, as CI services and
    ``.ci/run`` do) and when asked for (``test --cov``); a local run skips it, which makes it faster."""
    in_ci = env.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    asked = any(arg.split("=")[0] == "--cov" for arg in rest)
    # "=": a bare --cov would take the next argument
    return ["--cov=ntm_course", "--cov=ntm_course_instructor"] if in_ci and not asked else []


def _lab_command(python, rest):
    """JupyterLab's command line: served from this checkout, at the welcome lesson. The lesson is both the file to
    open (a browser JupyterLab starts opens it) and JupyterLab's default URL, so the URL it prints (``--no-browser``)
    and its ``/`` open the lesson too, not the Launcher. ``rest`` comes last: the learner's own options win."""
    cmd = [str(python), "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}", f"--LabApp.default_url=/lab/tree/{WELCOME}",
           WELCOME, *rest]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
        cmd.append("--allow-root")
    return cmd


def main(argv):
    if not argv or argv[0] not in ("lab", "test"):
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    env = dict(os.environ)
    python = setup()
    if command == "lab":
        instructor = "--instructor" in rest
        rest = [arg for arg in rest if arg != "--instructor"]
        # Notebooks ask for the kernel "python3": register this environment's Python under that name inside the
        # environment, and let environment paths win over a user-wide "python3" kernel that may lack the course.
        subprocess.run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
                        "--display-name", KERNEL_DISPLAY_NAME], check=True, stdout=subprocess.DEVNULL)
        env["JUPYTER_PREFER_ENV_PATH"] = "1"
        prefix = VENV if python == _venv_python() else Path(sys.prefix)
        _merge_lab_settings(prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json")
        env["JUPYTER_CONFIG_PATH"] = _jupyter_config_path(env, not instructor, _learner_config(prefix))
        cmd = _lab_command(python, rest)
    else:
        # One worker per core; --dist loadfile keeps each file (a notebook's cells share one kernel) on one worker,
        # and --no-loadscope-reorder hands the files out in the order the tests' conftest puts them (the files with
        # slow tests first) instead of by their number of tests, which would start the slowest ones last.
        cmd = [str(python), "-m", "pytest", "-n", "auto", "--dist", "loadfile", "--no-loadscope-reorder",
               *_coverage(env, rest), *rest]
    os.chdir(ROOT)
    if os.name == "nt":
        return subprocess.call(cmd, env=env)
    os.execve(cmd[0], cmd, env)  # become JupyterLab or pytest: signals (Ctrl-C, kill) reach it directly


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
