#!/usr/bin/env python3
"""Set up the course and run it: the README's two quick-start commands.

    python3 course.py lab    # set up, then open the course in JupyterLab (the welcome lesson)
    python3 course.py test   # set up, then run every test: the library and every notebook

Set-up makes a virtual environment in ``.venv`` (once; again only when pyproject.toml or constraints.txt
change) and installs the course into it with pip. If this Python already has the course installed
(for example the conda environment from ``environment.yml``), that Python is used instead.
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


def _already_installed():
    """True when the running Python already has the course installed (e.g. the conda environment)."""
    try:
        metadata.version("ntm-course")
    except metadata.PackageNotFoundError:
        return False
    return Path(sys.prefix).resolve() != VENV.resolve()


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
    if _already_installed() and not os.environ.get("CI"):
        return Path(sys.executable)
    if sys.version_info < (3, 10):
        sys.exit(f"ntm-course needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    python = _venv_python()
    if python.exists() and (_installed(extras) or _installed("dev")):
        return python
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    spec = f".[{extras}]" if extras else "."
    print(f"Installing the course ({spec}) into {VENV}; the first time takes a few minutes ...", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", spec],
                   check=True, cwd=ROOT)
    path, digest = _stamp(extras)
    path.write_text(digest)
    return python


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
        settings = prefix / "share" / "jupyter" / "lab" / "settings"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(LAB_SETTINGS, indent=2))
        cmd = [str(python), "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}", WELCOME, *rest]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # containers and CI run as root
            cmd.append("--allow-root")
    else:
        python = setup(extras="dev")
        cmd = [str(python), "-m", "pytest", "--cov=ntm_course", "--cov-report=term:skip-covered", *rest]
    os.chdir(ROOT)
    if os.name == "nt":
        return subprocess.call(cmd, env=env)
    os.execve(cmd[0], cmd, env)  # become JupyterLab or pytest: signals (Ctrl-C, kill) reach it directly


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
