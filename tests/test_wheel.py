"""The two wheels: a learner who installs ``ntm-course``, and nothing else, gets lessons that run and no answer
key; an instructor who adds ``ntm-course-instructor`` grades a class from that plain install.

``python -m build`` makes the learner's sdist, then its wheel from the sdist, out of a copy of this checkout, and the
instructor's wheel from ``instructor/``. The learner's wheel holds no grading code and no graded answer (by module,
by name and by source). It is installed into a fresh virtual environment outside the repository (torch pinned by
constraints.txt, from pip's index and cache): first alone, the library, whose optional parts name the extra they
need, and ``ntm-course doctor`` says which are missing; ``ntm-course get`` copies the lessons and exercises into a
learner's folder, and run again it keeps the learner's answer and restores a deleted lesson; then with the
``lessons`` extra, and the welcome lesson and the first exercise (answered, as a learner would) run from that
folder on a kernel of that environment. Last the instructor's wheel joins it and grades submissions from that
folder. Nothing runs in the repository or with its paths: the packages are asserted to come from the environment's
site-packages. About three minutes, most of it pip installing torch, JupyterLab and nbgrader. The sdist is the
wheel's source: it carries the course files, the licence, citation and changelog, and no tests (they need the
whole repository).
"""
import ast
import csv
import inspect
import textwrap
import filecmp
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest
from envs import CONSTRAINTS, checkout_copy, clean_env, fresh_venv, pip, site_packages
from nbclient import NotebookClient

from ntm_course import syllabus
from ntm_course.teaching.get import course_files
from ntm_course_instructor.grading import GRADED


ROOT = Path(__file__).resolve().parents[1]
WHERE = "import sys, ntm_course, torch\nprint(ntm_course.__file__, sys.executable, torch.__version__)"
ANSWER = "    return (w.unsqueeze(-1) * memory).sum(dim=1)"          # exercises/01_read: the learner's read


def run(python_or_script, *args, cwd):
    """Run a program of the fresh environment in ``cwd``, with nothing of this checkout's paths."""
    return subprocess.run([str(python_or_script), *args], cwd=cwd, env=clean_env(), capture_output=True,
                          text=True, timeout=600)


def execute(path, kernel, extra_cells=()):
    """Execute the notebook at ``path`` from its folder on ``kernel``; return the executed notebook."""
    nb = nbformat.read(str(path), as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(source) for source in extra_cells]
    NotebookClient(nb, timeout=300, kernel_name=kernel, resources={"metadata": {"path": str(path.parent)}}).execute(
        env=clean_env())
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"
    return nb


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``(sdist, wheel, instructor's wheel)`` built from a copy of this checkout."""
    tmp = tmp_path_factory.mktemp("build")
    checkout = checkout_copy(tmp / "checkout")
    for args in ((str(checkout),), ("--wheel", str(checkout / "instructor"))):
        done = run(sys.executable, "-m", "build", "--outdir", str(tmp / "dist"), *args, cwd=tmp)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,) = (tmp / "dist").glob("*.tar.gz")
    (wheel,) = (tmp / "dist").glob("ntm_course-*.whl")
    (instructors,) = (tmp / "dist").glob("ntm_course_instructor-*.whl")
    return sdist, wheel, instructors


def body(function):
    """A function's body as normalised source (docstring left out): the same code under any name or layout."""
    statements = function.body[1:] if ast.get_docstring(function) is not None else function.body
    return "\n".join(ast.unparse(statement) for statement in statements)


def bodies(tree):
    """The body of every function in ``tree``."""
    return {body(node) for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def graded_answers():
    """``{name: normalised body}`` of every graded exercise's reference answer."""
    return {name: body(ast.parse(textwrap.dedent(inspect.getsource(exercise.reference))).body[0])
            for name, exercise in GRADED.items()}


@pytest.mark.slow
def test_the_learners_wheel_holds_no_grader_and_no_graded_answer(built):
    _, wheel, _ = built
    answers = graded_answers()
    assert set(answers) == set(syllabus.graded_checks()) and all(answers.values())
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert not [n for n in names if n.startswith("ntm_course_instructor") or "solutions" in n
                    or Path(n).stem in ("gradebook", "worker", "isolation", "references", "understanding")]
        for name in (n for n in names if n.endswith(".py")):
            tree = ast.parse(archive.read(name))
            defined = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
            assert not defined & set(answers), f"{name} defines a graded answer: {sorted(defined & set(answers))}"
            same = [answer for answer, body in answers.items() if body in bodies(tree)]
            assert not same, f"{name} holds the source of the graded answer to {same}"


@pytest.mark.slow
def test_the_instructors_wheel_carries_the_grader_and_the_solutions(built):
    _, _, instructors = built
    with zipfile.ZipFile(instructors) as archive:
        names = set(archive.namelist())
    assert {f"ntm_course_instructor/solutions/{a.notebook}" for a in syllabus.assignments()} <= names
    assert {"ntm_course_instructor/grading/gradebook.py", "ntm_course_instructor/cli.py"} <= names
    assert not [n for n in names if n.startswith("ntm_course/")]     # the learner's package is a dependency


@pytest.mark.slow
def test_the_wheel_carries_the_lessons_exercises_and_shipped_models(built):
    sdist, wheel, _ = built
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        for relative in course_files(ROOT):
            assert archive.read(f"ntm_course/course_files/{relative.as_posix()}") == (ROOT / relative).read_bytes()
    shipped = ROOT / "ntm_course" / "experiments" / "pretrained"
    models = [p.name for p in shipped.iterdir() if p.suffix in (".pt", ".json")]
    assert models and {f"ntm_course/experiments/pretrained/{name}" for name in models} <= names
    assert "ntm_course/csrc/memory_step.cpp" in names                 # the fast path's source, compiled on first use
    assert not [n for n in names if "solutions" in n]                 # the instructor's answers stay out
    with tarfile.open(sdist) as archive:                            # the sdist carries them for its own build
        assert {f"ntm_course-0.1.0/{f.as_posix()}" for f in course_files(ROOT)} <= set(archive.getnames())


@pytest.mark.slow
def test_the_sdist_carries_no_tests_and_both_wheels_say_their_licences(built):
    """The sdist is the wheel's source (``built`` made the wheel from it), not a test suite with its helpers missing:
    no tests at all. Every archive's metadata says ``MIT AND CC-BY-4.0`` and carries LICENSE."""
    sdist, wheel, instructors = built
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
        pkg_info = archive.extractfile("ntm_course-0.1.0/PKG-INFO").read().decode()
    assert not [n for n in names if n.split("/")[0] == "tests" or Path(n).name.startswith(("test_", "conftest"))]
    assert {"LICENSE", "CITATION.cff", "CHANGELOG.md", "setup.py", "ntm_course/teaching/get.py"} <= names
    metadata = [pkg_info]
    for built_wheel in (wheel, instructors):
        with zipfile.ZipFile(built_wheel) as archive:
            metadata.append(archive.read(next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA")))
                            .decode())
            if built_wheel == wheel:
                assert any(n.endswith(".dist-info/licenses/LICENSE") for n in archive.namelist())
    for text in metadata:
        assert "License-Expression: MIT AND CC-BY-4.0" in text.splitlines()
        assert "Classifier: Intended Audience :: Education" in text and "Project-URL: Documentation, " in text


@pytest.mark.slow
def test_a_learner_installs_the_wheel_gets_the_course_and_runs_it(built, tmp_path, monkeypatch):
    _, wheel, instructors = built
    python = fresh_venv(tmp_path / "venv")
    pip(python, "-c", str(CONSTRAINTS), str(wheel))           # the library alone
    site, bin_dir = site_packages(python), python.parent
    learner = tmp_path / "learner"
    learner.mkdir()

    where = run(python, "-c", WHERE, cwd=learner)
    course_file, executable, torch_version = where.stdout.split()
    assert Path(course_file).is_relative_to(site) and Path(executable).parent == bin_dir, where.stdout
    assert torch_version.startswith("2.13.0")
    model = run(python, "-c", "import torch, ntm_course; print(ntm_course.NTM(9, 8, controller_size=8, N=16, M=4)"
                              "(torch.zeros(5, 2, 9)).shape)", cwd=learner)
    assert model.stdout.strip() == "torch.Size([5, 2, 8])", model.stderr
    widgets = run(python, "-c", "import ntm_course.presentation.widgets", cwd=learner)
    assert widgets.stderr.splitlines()[-1].endswith("ntm_course.presentation.widgets needs the course's 'lessons' "
                                                    "extra (no "
                                                    "module named 'ipywidgets'): pip install 'ntm-course[lessons]'")
    release = run(bin_dir / "ntm-course", "release", "--check", cwd=learner)
    assert release.returncode == 2 and "pip install ntm-course-instructor" in release.stderr
    assert "Traceback" not in release.stderr
    refused = run(python, "-c", "from ntm_course.teaching.lesson import reveal; reveal('reverse_copy_head_params')",
                  cwd=learner)
    assert "is a graded exercise: its answer is with your instructor" in refused.stderr
    doctor = run(bin_dir / "ntm-course", "doctor", cwd=learner)                 # runs without any extra
    assert doctor.returncode == 0 and "Traceback" not in doctor.stderr, doctor.stderr
    assert f"Python {sys.version.split()[0]} at {python}" in doctor.stdout and "torch 2.13.0" in doctor.stdout
    assert "extra 'lessons' (pip install 'ntm-course[lessons]'): not installed (missing jupyterlab, ipykernel, " \
           "ipywidgets, matplotlib): no JupyterLab" in doctor.stdout
    assert "ntm-course-instructor (the instructor's tools, a separate distribution): not installed" in doctor.stdout
    assert "Jupyter kernels: jupyter_client is not installed" in doctor.stdout

    got = run(bin_dir / "ntm-course", "get", "course", cwd=learner)
    assert got.returncode == 0, got.stderr
    files = course_files(ROOT)
    lessons = sum(f.parts[0] == "notebooks" for f in files)
    assert got.stdout.startswith(f"course: {lessons} lessons in notebooks/, {len(files) - lessons} exercises in "
                                 f"exercises/ ({len(files)} added, 0 updated, 0 already up to date")
    course = learner / "course"
    assert all(filecmp.cmp(ROOT / f, course / f, shallow=False) for f in course_files(ROOT))
    exercise = course / "exercises" / "01_read.ipynb"
    nb = nbformat.read(str(exercise), as_version=4)
    (stub,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "read"]
    stub.source = stub.source.replace("    # YOUR CODE HERE\n    raise NotImplementedError()", ANSWER)
    assert ANSWER in stub.source
    nbformat.write(nb, str(exercise))
    (course / "notebooks" / "03_writing.ipynb").unlink()
    again = run(bin_dir / "ntm-course", "get", "course", cwd=learner)      # the learner's answer is kept, the
    assert again.returncode == 0, again.stderr                             # deleted lesson comes back
    assert "kept (you changed it): exercises/01_read.ipynb" in again.stdout.splitlines()
    assert "added (it was missing): notebooks/03_writing.ipynb" in again.stdout.splitlines()
    assert ANSWER in exercise.read_text() and (course / "notebooks" / "03_writing.ipynb").is_file()
    third = run(bin_dir / "ntm-course", "get", "course", cwd=learner)      # and the next day too
    assert third.returncode == 0 and "1 of yours kept" in third.stdout and ANSWER in exercise.read_text()

    pip(python, "-c", str(CONSTRAINTS), f"{wheel}[lessons]")
    run(python, "-m", "ipykernel", "install", "--prefix", str(tmp_path / "jupyter"), "--name", "wheel-test",
        cwd=learner).check_returncode()
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter" / "share" / "jupyter"))
    for path in (course / "notebooks" / "00_welcome.ipynb", exercise):
        nb = execute(path, "wheel-test", extra_cells=[WHERE])
        course_file, executable, _ = nb.cells[-1].outputs[0].text.split()
        assert Path(course_file).is_relative_to(site) and Path(executable).parent == bin_dir
    (check,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "read_check"]
    assert check.outputs[-1]["data"]["text/plain"] == "1"                # the learner's read: full marks (1 point)

    # The instructor's wheel joins the learner's: it grades the answered exercise, and a graded one, outside the
    # repository with no --source (the solutions come with it).
    pip(python, "-c", str(CONSTRAINTS), str(wheel), str(instructors))
    where = run(python, "-c", "import ntm_course_instructor as i; print(i.__file__)", cwd=learner)
    assert Path(where.stdout.strip()).is_relative_to(site), where.stderr
    blog = course / "exercises" / "05_blog_shift.ipynb"       # unanswered: 0 for each check
    graded = run(bin_dir / "ntm-course-instructor", "grade", str(exercise), str(blog), "--csv", "book.csv",
                 "--jobs", "2", "--no-isolation", cwd=learner)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    with open(learner / "book.csv") as book:
        rows = {Path(row["submission"]).stem: row for row in csv.DictReader(book)}
    assert rows["01_read"]["read_check"] == "1" and rows["05_blog_shift"]["blog_rule_s_check"] == "0"
