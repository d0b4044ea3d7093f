"""``ntm-course doctor``: what this install of the course is made of, and what to fix, one line each.

    $ ntm-course doctor
    ntm-course 0.1.0 at /home/me/venv/lib/python3.12/site-packages/ntm_course
    Python 3.12.3 at /home/me/venv/bin/python
    torch 2.13.0+cpu: a CPU build
    device: the course will use cpu (no GPU found)
    extra 'lessons' (pip install 'ntm-course[lessons]'): installed
    extra 'grading' (pip install 'ntm-course-instructor'): not installed: no release or grade (the instructor's ...
    ...
    fast path: the fused memory step, built at /home/me/.cache/ntm-course/memory_step-....so; training runs it on a CPU
    Jupyter kernel 'python3' (the one the lessons ask for): /home/me/venv/bin/python, which imports this ntm_course
    your saved pieces: /home/me/.ntm_course/mine (read, shift)

Each line comes from a function here that returns data (:func:`python`, :func:`torch_build`, :func:`device`,
:func:`extras`, :func:`fast_path`, :func:`kernels`, :func:`saved_pieces`, :func:`cpu_torch_advice`); the command
only prints them.
A torch built for CUDA on a machine without a GPU gets a last line: how to install torch's CPU build instead
(the CUDA build's libraries are gigabytes the course never uses there).
"""
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import torch

from .. import __version__, fused
from .. import device as _device
from ..extras import EXTRAS
from .lesson import mine_dir


CPU_TORCH = "pip install torch --index-url https://download.pytorch.org/whl/cpu"
"""The command that installs torch's CPU build."""
DISABLES = {
    "lessons": "no JupyterLab, figures or widgets: the lessons do not run, nor ntm-course eval",
    "grading": "no release or grade (the instructor's tools, a separate distribution)",
    "site": "no ntm-course-instructor render (the course website)",
}
"""What each extra of :data:`ntm_course.extras.EXTRAS` brings; a missing one takes it away."""
KERNEL = "python3"
"""The kernel the course's notebooks ask for."""
_FIND = "import importlib.util as u; s = u.find_spec('ntm_course'); print(s.origin if s else '')"


def python():
    """``{"version", "executable"}`` of the Python running the course."""
    return {"version": sys.version.split()[0], "executable": sys.executable}


def torch_build():
    """``{"version", "build", "cuda", "gpus"}``: torch's version, ``"CPU"`` or ``"CUDA 12.8"`` (``"ROCm ..."``),
    the CUDA version it was built for (None for a CPU build) and the names of the GPUs it sees."""
    cuda, hip = torch.version.cuda, getattr(torch.version, "hip", None)
    gpus = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] \
        if torch.cuda.is_available() else []
    build = f"CUDA {cuda}" if cuda else f"ROCm {hip}" if hip else "CPU"
    return {"version": torch.__version__, "build": build, "cuda": cuda, "gpus": gpus}


def device():
    """The device the course will use: :func:`ntm_course.get_device`'s choice, as a string."""
    return str(_device.get_device())


def _requirements(dist, extra, requires):
    """The distribution names ``dist`` needs for ``extra`` (its base requirements when ``extra`` is None)."""
    names = []
    for line in requires(dist) or []:
        spec, _, marker = line.partition(";")
        wanted = re.search(r"""extra\s*==\s*['"]([^'"]+)['"]""", marker)
        if (wanted.group(1) if wanted else None) == extra:
            names.append(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.strip()).group(0))
    return names


def _installed(name):
    try:
        metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return False
    return True


def extras(requires=metadata.requires, installed=_installed):
    """One ``{"extra", "requirement", "installed", "missing", "disables"}`` per extra of :data:`EXTRAS`.

    An extra ``dist[x]`` is installed when ``dist`` and every distribution its ``x`` extra requires are; a bare
    ``dist`` (the instructor's tools) when it and its requirements are. ``missing`` names what is not there.
    ``requires`` and ``installed`` (a distribution's requirement lines; whether a name is installed) are
    :mod:`importlib.metadata`'s by default.
    """
    found = []
    for extra, requirement in EXTRAS.items():
        dist, _, rest = requirement.partition("[")
        if installed(dist):
            missing = [name for name in _requirements(dist, rest.rstrip("]") or None, requires)
                       if not installed(name)]
        else:
            missing = [dist]
        found.append({"extra": extra, "requirement": requirement, "installed": not missing, "missing": missing,
                      "disables": DISABLES[extra]})
    return found


def kernels(specs=None):
    """The Jupyter kernels that run Python: one ``{"name", "python", "ntm_course"}`` each, where ``ntm_course`` is
    the course that kernel's Python imports (the package's folder; None when it has none, ``"?"`` when that
    Python does not run). ``specs`` maps a kernel's name to its spec (``{"argv": [...], "language": ...}``);
    by default jupyter_client's (None when it is not installed: the ``lessons`` extra brings it)."""
    if specs is None:
        try:
            from jupyter_client.kernelspec import KernelSpecManager
        except ImportError:
            return None
        specs = {name: found["spec"] for name, found in KernelSpecManager().get_all_specs().items()}
    found, nowhere = [], tempfile.mkdtemp()        # run from an empty folder: the current one may hold a course
    for name, spec in sorted(specs.items()):
        if spec.get("language", "python").lower() != "python" or not spec.get("argv"):
            continue
        executable = shutil.which(spec["argv"][0]) or spec["argv"][0]
        try:
            done = subprocess.run([executable, "-c", _FIND], capture_output=True, text=True, timeout=60, cwd=nowhere)
            origin = done.stdout.strip() if done.returncode == 0 else "?"
        except (OSError, subprocess.SubprocessError):
            origin = "?"
        package = str(Path(origin).resolve().parent) if origin not in ("", "?") else origin or None
        found.append({"name": name, "python": executable, "ntm_course": package})
    shutil.rmtree(nowhere, ignore_errors=True)
    return found


def this_course():
    """The folder of the ``ntm_course`` package running now."""
    return str(Path(__file__).resolve().parents[1])


def saved_pieces():
    """``{"folder", "saved"}``: where the learner's pieces are saved (:func:`~ntm_course.teaching.lesson.mine_dir`)
    and the names of those saved there, sorted."""
    folder = mine_dir()
    saved = sorted(path.stem for path in folder.glob("*.py")) if folder.is_dir() else []
    return {"folder": str(folder), "saved": saved}


def cpu_torch_advice(cuda=None, gpu=None):
    """How to get torch's CPU build when a CUDA build (``cuda``, its CUDA version) sits on a machine without a
    GPU (``gpu`` false); None otherwise. Both default to this torch and this machine."""
    cuda = torch.version.cuda if cuda is None else cuda
    gpu = torch.cuda.is_available() if gpu is None else gpu
    if not cuda or gpu:
        return None
    return (f"torch here is a CUDA {cuda} build, and this machine has no GPU: its CUDA libraries (gigabytes) go "
            f"unused. The CPU build does the same work: pip uninstall torch, then {CPU_TORCH} (in a new "
            f"environment, install it first, then the course)")


def fast_path():
    """``{"available", "why", "library"}``: whether the fused memory step (:mod:`ntm_course.fused`, the fast path
    training runs on a CPU) is built here (building it if needed), why not, and the compiled library's path."""
    ok, why = fused.available()
    return {"available": ok, "why": why, "library": str(fused.library().path) if ok else None}


def report():
    """The command's lines."""
    build, instructor = torch_build(), _installed("ntm-course-instructor")
    gpus = f"{len(build['gpus'])} GPU: {', '.join(build['gpus'])}" if build["gpus"] else "no GPU found"
    lines = [f"ntm-course {__version__} at {this_course()}",
             f"Python {python()['version']} at {python()['executable']}",
             f"torch {build['version']}: a {build['build']} build",
             f"device: the course will use {device()} ({gpus})",
             "ntm-course-instructor (the instructor's tools, a separate distribution): "
             + (f"installed, {metadata.version('ntm-course-instructor')}" if instructor else "not installed")]
    for extra in extras():
        state = "installed" if extra["installed"] else \
            f"not installed (missing {', '.join(extra['missing'])}): {extra['disables']}"
        lines.append(f"extra {extra['extra']!r} (pip install '{extra['requirement']}'): {state}")
    fast = fast_path()
    lines.append(f"fast path: the fused memory step, built at {fast['library']}; training runs it on a CPU"
                 if fast["available"] else f"fast path: not available, training runs the eager step ({fast['why']})")
    found = kernels()
    if found is None:
        lines.append("Jupyter kernels: jupyter_client is not installed (the 'lessons' extra brings it)")
    else:
        lines += [_kernel_line(kernel) for kernel in found]
        if not any(k["name"] == KERNEL and k["ntm_course"] == this_course() for k in found):
            lines.append(f"no kernel {KERNEL!r} imports this ntm_course, and the lessons ask for that one: "
                         f"{sys.executable} -m ipykernel install --sys-prefix --name {KERNEL} "
                         f"--display-name 'Python 3 (ntm-course)'")
    pieces = saved_pieces()
    lines.append(f"your saved pieces: {pieces['folder']} ({', '.join(pieces['saved']) or 'none yet'})")
    advice = cpu_torch_advice()
    if advice:
        lines.append(f"advice: {advice}")
    return lines


def _kernel_line(kernel):
    which = " (the one the lessons ask for)" if kernel["name"] == KERNEL else ""
    course = kernel["ntm_course"]
    imports = ("which imports this ntm_course" if course == this_course() else "which does not run" if course == "?"
               else "which has no ntm_course" if course is None else f"which imports another ntm_course ({course})")
    return f"Jupyter kernel {kernel['name']!r}{which}: {kernel['python']}, {imports}"


def add_arguments(parser):
    pass


def run(args):
    print("\n".join(report()))
    return 0
