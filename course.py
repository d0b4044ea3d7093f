#!/usr/bin/env python3
"""Set up the course and run it: the README's two quick-start commands.

    python3 course.py lab    # set up, then open the course in JupyterLab (the welcome lesson)
    python3 course.py test   # set up, then run every test: the library and every notebook

Set-up makes a virtual environment in ``.venv`` (once; again only when pyproject.toml or constraints.txt
change, or when the environment is broken) and installs the course into it with pip. If the Python running
this script already has *this checkout's* course installed in editable mode with every package it needs (the
conda environment from ``environment.yml``), that Python is used instead; a stale or foreign install (the
course from another checkout, metadata without the packages) never is, so every run picks the same Python.
Anything after ``lab`` or ``test`` goes to JupyterLab or pytest, e.g. ``python3 course.py test -x``.
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
# JupyterLab defaults for the course's environment: no pop-up asking about news feeds on first start.
LAB_SETTINGS = {"@jupyterlab/apputils-extension:notification": {"fetchNews": "false"}}


def _venv_python():
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _has_course(extras):
    """True when this Python has this checkout's course, and what ``extras`` needs, installed (the conda route).

    Looks only at installed distributions, never at this script's own folder: an editable install leaves
    ``ntm_course.egg-info`` here, which would otherwise look like an installed course. The course must be an
    editable install of this checkout (so the lessons import the code you see), and each requirement of it must
    be installed at a version that satisfies it.
    """
    if Path(sys.prefix).resolve() == VENV.resolve():
        return False
    paths = [p for p in sys.path if Path(p or ".").resolve() != ROOT]
    dist = next(iter(metadata.distributions(name="ntm-course", path=paths)), None)
    if dist is None:
        return False
    try:
        origin = json.loads(dist.read_text("direct_url.json") or "{}")
        from packaging.requirements import Requirement  # every environment with the course's packages has it
    except (ValueError, ImportError):
        return False
    if origin.get("url") != ROOT.as_uri() or not origin.get("dir_info", {}).get("editable"):
        return False
    for line in dist.requires or []:
        req = Requirement(line)
        if req.marker and not req.marker.evaluate({"extra": extras}):
            continue
        found = next(iter(metadata.distributions(name=req.name, path=paths)), None)
        if found is None or not req.specifier.contains(found.version, prereleases=True):
            return False
    return True


def _venv_works(python):
    """True when ``python`` runs and has pip (a venv whose base Python was removed, or half made, does not)."""
    return python.exists() and subprocess.run([str(python), "-m", "pip", "--version"],
                                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0


def _stamp(extras):
    """The install stamp for ``extras``: where it lives and the digest it must hold to be current."""
    digest = hashlib.sha256(extras.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    return VENV / f".ntm-course-installed-{extras or 'base'}", digest.hexdigest()


def _installed(extras):
    path, digest = _stamp(extras)
    return path.exists() and path.read_text() == digest


def setup(extras):
    """Return the Python to use, creating and filling ``.venv`` when needed.

    ``extras`` is "" (the course) or "dev" (the course and its tests); a dev install serves both.
    """
    if _has_course(extras):
        return Path(sys.executable)
    if sys.version_info < (3, 10):
        sys.exit(f"ntm-course needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    python = _venv_python()
    if python.exists() and (_installed(extras) or _installed("dev")):
        return python
    if not _venv_works(python):
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    print(f"Installing the course ({spec}) into {VENV}; the first time takes a few minutes ...", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", spec],
                   check=True, cwd=ROOT)
    path, digest = _stamp(extras)
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


def main(argv):
    if not argv or argv[0] not in ("lab", "test"):
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    env = dict(os.environ)
    if command == "lab":
        python = setup(extras="")
        # Notebooks ask for the kernel "python3": register this environment's Python under that name inside the
        # environment, and let environment paths win over a user-wide "python3" kernel that may lack the course.
        subprocess.run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3",
                        "--display-name", KERNEL_DISPLAY_NAME], check=True, stdout=subprocess.DEVNULL)
        env["JUPYTER_PREFER_ENV_PATH"] = "1"
        prefix = VENV if python == _venv_python() else Path(sys.prefix)
        _merge_lab_settings(prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json")
        cmd = [str(python), "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}", WELCOME, *rest]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
            cmd.append("--allow-root")
    else:
        python = setup(extras="dev")
        # One worker per core; --dist loadfile keeps each file (a notebook's cells share one kernel) on one worker.
        cmd = [str(python), "-m", "pytest", "-n", "auto", "--dist", "loadfile", "--cov=ntm_course",
               "--cov-report=term:skip-covered", *rest]
    os.chdir(ROOT)
    if os.name == "nt":
        return subprocess.call(cmd, env=env)
    os.execve(cmd[0], cmd, env)  # become JupyterLab or pytest: signals (Ctrl-C, kill) reach it directly


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
