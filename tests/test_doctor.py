"""``ntm-course doctor``: each of its lines is a function that returns data, tested here on this environment and on
stand-ins (a CUDA build without a GPU, a missing extra, kernels of other Pythons); the command prints them."""
import sys
from pathlib import Path

import torch

import ntm_course
from ntm_course import fused
from ntm_course.extras import EXTRAS
from ntm_course.teaching import cli, doctor

COURSE = str(Path(ntm_course.__file__).resolve().parent)


def test_python_torch_and_the_device_are_this_processes():
    assert doctor.python() == {"version": sys.version.split()[0], "executable": sys.executable}
    build = doctor.torch_build()
    assert build["version"] == torch.__version__ and build["cuda"] == torch.version.cuda
    assert build["build"] == (f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU")
    assert len(build["gpus"]) == (torch.cuda.device_count() if torch.cuda.is_available() else 0)
    assert doctor.device() == str(ntm_course.get_device()) == ("cuda" if torch.cuda.is_available() else "cpu")


def test_a_cuda_build_without_a_gpu_is_told_how_to_get_the_cpu_build():
    advice = doctor.cpu_torch_advice(cuda="12.8", gpu=False)
    assert "CUDA 12.8 build, and this machine has no GPU" in advice
    assert "pip install torch --index-url https://download.pytorch.org/whl/cpu" in advice
    assert doctor.cpu_torch_advice(cuda="12.8", gpu=True) is None       # a GPU to use it on
    assert doctor.cpu_torch_advice(cuda="", gpu=False) is None          # the CPU build already
    expected = torch.version.cuda is not None and not torch.cuda.is_available()
    assert (doctor.cpu_torch_advice() is not None) == expected          # this machine


def test_every_extra_says_whether_it_is_installed_and_what_its_absence_disables():
    assert set(doctor.DISABLES) == set(EXTRAS)
    found = doctor.extras()                                             # this environment has every one
    assert [e["extra"] for e in found] == list(EXTRAS) and all(e["installed"] and not e["missing"] for e in found)
    requires = {"ntm-course": ["torch>=2.2", 'jupyterlab>=4; extra == "lessons"', "matplotlib>=3.7 ; extra=='lessons'",
                               'pytest; extra == "dev"'],
                "ntm-course-instructor": ["ntm-course[lessons]>=0.1.0", "nbgrader>=0.9",
                                          'jupyter-book<2,>=1; extra == "site"']}
    present = {"ntm-course", "torch", "jupyterlab", "ntm-course-instructor", "ntm-course[lessons]", "nbgrader"}
    found = {e["extra"]: e for e in doctor.extras(requires=requires.get, installed=present.__contains__)}
    assert found["lessons"]["missing"] == ["matplotlib"] and not found["lessons"]["installed"]
    assert "the lessons do not run" in found["lessons"]["disables"]
    assert found["grading"]["installed"] and found["site"]["missing"] == ["jupyter-book"]
    found = {e["extra"]: e for e in doctor.extras(requires=requires.get, installed={"ntm-course"}.__contains__)}
    assert found["grading"]["missing"] == found["site"]["missing"] == ["ntm-course-instructor"]
    assert "instructor's tools, a separate distribution" in found["grading"]["disables"]


def test_the_kernels_say_which_ntm_course_their_python_imports(tmp_path):
    specs = {"python3": {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                         "language": "python"},
             "gone": {"argv": [str(tmp_path / "no-python"), "-m", "ipykernel_launcher"], "language": "python"},
             "bare": {"argv": [sys.executable, "-m", "ipykernel_launcher"], "language": "python"},
             "ir": {"argv": ["R", "--slave"], "language": "R"}}
    bare = tmp_path / "bare-python"                     # a Python without the course: -S skips site-packages
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    bare.chmod(0o755)
    specs["bare"]["argv"][0] = str(bare)
    assert doctor.kernels(specs) == [{"name": "bare", "python": str(bare), "ntm_course": None},
                                     {"name": "gone", "python": str(tmp_path / "no-python"), "ntm_course": "?"},
                                     {"name": "python3", "python": sys.executable, "ntm_course": COURSE}]
    assert doctor._kernel_line(doctor.kernels(specs)[-1]) == (f"Jupyter kernel 'python3' (the one the lessons ask "
                                                               f"for): {sys.executable}, which imports this ntm_course")
    assert all(k["python"] for k in doctor.kernels())   # jupyter_client's own list, on this environment


def test_the_saved_pieces_are_where_the_lessons_save_them(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    assert doctor.saved_pieces() == {"folder": str(tmp_path / "mine"), "saved": []}
    (tmp_path / "mine").mkdir()
    for name in ("shift", "read"):
        (tmp_path / "mine" / f"{name}.py").write_text("")
    assert doctor.saved_pieces()["saved"] == ["read", "shift"]


def test_the_command_prints_every_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path))
    (tmp_path / "read.py").write_text("")
    monkeypatch.setattr(doctor, "cpu_torch_advice", lambda: "a stand-in advice")
    assert cli.main(["doctor"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:4] == [f"ntm-course {ntm_course.__version__} at {COURSE}",
                         f"Python {sys.version.split()[0]} at {sys.executable}",
                         f"torch {torch.__version__}: a {doctor.torch_build()['build']} build",
                         f"device: the course will use {doctor.device()} (no GPU found)"
                         if not torch.cuda.is_available() else lines[3]]
    assert lines[4].startswith("ntm-course-instructor (the instructor's tools, a separate distribution): installed")
    assert [line.split(" (")[0] for line in lines[5:8]] == [f"extra {e!r}" for e in EXTRAS]
    assert any(line.startswith("Jupyter kernel 'python3'") for line in lines)
    assert f"fast path: the fused memory step, built at {fused.build()}; training runs it on a CPU" in lines
    assert lines[-2:] == [f"your saved pieces: {tmp_path} (read)", "advice: a stand-in advice"]


def test_the_fast_path_line_says_why_it_is_not_available(monkeypatch):
    monkeypatch.setattr(fused, "available", lambda: (False, "no C++ compiler: 'c++' is not on PATH"))
    assert doctor.fast_path() == {"available": False, "why": "no C++ compiler: 'c++' is not on PATH", "library": None}
    assert "fast path: not available, training runs the eager step (no C++ compiler: 'c++' is not on PATH)" in \
        doctor.report()
