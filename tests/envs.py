"""Helpers for the tests that build environments of their own: a copy of the checkout as a clone would hold it,
a fresh virtual environment, pip, and a notebook run on that environment's kernel (test_quickstart, test_hosted,
test_binder, test_wheel)."""
import os
import shutil
import subprocess
import venv
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"


def checkout_copy(dest):
    """Copy what a clone of this working tree holds (tracked files and untracked, not ignored ones)."""
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, files):
        if (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def clean_env(**extra):
    """This environment without what would leak this checkout or its venv into another Python, and with bytecode
    compiled when first imported: pip (also one that a script under test starts) compiles nothing at install,
    and each module is compiled once and cached, not in every process that imports it (torch: 2 s each time)."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    return {**env, "PIP_COMPILE": "0", **extra}  # pip's --no-compile (PIP_NO_COMPILE=1 would mean the opposite)


def fresh_venv(path, *requirements):
    """A new virtual environment at ``path`` with ``requirements`` pip-installed (pinned by constraints.txt);
    returns its Python."""
    venv.EnvBuilder(with_pip=True).create(path)
    python = path / "bin" / "python"
    if requirements:
        pip(python, "-c", str(CONSTRAINTS), *requirements)
    return python


def pip(python, *args, cwd=None):
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *args], cwd=cwd,
                          env=clean_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, f"pip install {' '.join(args)} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"


def site_packages(python):
    return Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())


def execute_in(python, path, monkeypatch, last_cell):
    """Run the notebook at ``path`` (from its folder), then ``last_cell``, in a kernel of ``python``'s virtual
    environment (its ipykernel, registered in the environment). Fails on an error; returns ``last_cell``'s output."""
    subprocess.run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "under-test"],
                   env=clean_env(), check=True, capture_output=True)
    monkeypatch.setenv("JUPYTER_PATH", str(python.parents[1] / "share" / "jupyter"))
    nb = nbformat.read(str(path), as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(last_cell))
    NotebookClient(nb, timeout=300, kernel_name="under-test",
                   resources={"metadata": {"path": str(path.parent)}}).execute(env=clean_env())
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    return "".join(o.get("text", "") for o in nb.cells[-1].outputs)
