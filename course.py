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
import os
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
WELCOME = "notebooks/00_welcome.ipynb"


def _venv_python():
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _already_installed():
    """True when the running Python already has the course installed (e.g. the conda environment)."""
    try:
        metadata.version("ntm-course")
    except metadata.PackageNotFoundError:
        return False
    return Path(sys.prefix).resolve() != VENV.resolve()


def setup(extras):
    """Return the Python to use, creating and filling ``.venv`` when needed."""
    if _already_installed() and not os.environ.get("CI"):
        return Path(sys.executable)
    if sys.version_info < (3, 10):
        sys.exit(f"ntm-course needs Python 3.10 or newer; this is {sys.version.split()[0]}")
    python = _venv_python()
    spec = ".[" + extras + "]" if extras else "."
    digest = hashlib.sha256(spec.encode())
    for name in ("pyproject.toml", "constraints.txt"):
        digest.update((ROOT / name).read_bytes())
    stamp = VENV / ".ntm-course-installed"
    if python.exists() and stamp.exists() and stamp.read_text() == digest.hexdigest():
        return python
    if not python.exists():
        print(f"Creating a virtual environment in {VENV} ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print(f"Installing the course ({spec}) into {VENV}; the first time takes a few minutes ...", flush=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "-c", "constraints.txt", "-e", spec],
                   check=True, cwd=ROOT)
    stamp.write_text(digest.hexdigest())
    return python


def main(argv):
    if not argv or argv[0] not in ("lab", "test"):
        sys.exit(__doc__)
    command, rest = argv[0], argv[1:]
    if command == "lab":
        python = setup(extras="")
        cmd = [str(python), "-m", "jupyterlab", f"--ServerApp.root_dir={ROOT}", WELCOME, *rest]
    else:
        python = setup(extras="dev")
        cmd = [str(python), "-m", "pytest", "--cov=ntm_course", "--cov-report=term:skip-covered", *rest]
    return subprocess.call(cmd, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
