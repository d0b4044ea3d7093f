"""CONTRIBUTING.md's recipes, followed for a toy lesson and a toy exercise, end to end, in a copy of the repository.

The recipe is: a syllabus row (``ntm_course/syllabus.py``) naming the module of the stub's check, that check, the
lesson notebook, the solution notebook, the README's course-map row, then ``ntm-course-instructor release``. Then
everything the course derives from the syllabus must pick the toy up with no other edit: the lesson's stub is
checked by ``your_turn``, the exercise is released, graded (full marks solved, 0 unanswered) and the lesson
rendered into a page of the website's book, in the syllabus's order (the HTML build itself is tests/test_render.py's
and the browser test's); ``tests/test_syllabus.py`` passes in the copy.

The copy runs in an environment of its own whose packages are this one's (a ``.pth`` file), with the copy first on
the path: no install, and the grader's worker processes see the copy too.
"""
import csv
import re
import site
import subprocess
import textwrap
import venv
from pathlib import Path

import nbformat
import pytest
from envs import checkout_copy, clean_env
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook


pytestmark = pytest.mark.slow

CHECK_MODULE = '''\
"""The toy lesson's check: ``double`` (CONTRIBUTING.md's recipe, followed by tests/test_contributing.py)."""
import torch

from .cases import Exercise, both, build_groups, randn


def double(x):
    """Twice ``x``, elementwise: ``(B, N)`` -> ``(B, N)``."""
    return 2 * x


DOUBLE = Exercise(
    name="double",
    reference=double,
    build=build_groups(lambda g, B, N, M, K: (randn(g, B, N),),
                       lambda g: both("zeros", (torch.zeros(2, 3, dtype=torch.float64),))),
    mistakes=[("this is x squared: twice x is 2 * x", lambda x: x * x)],
    hint="return 2 * x",
    grad_args=(0,),
)

CHECKS = (DOUBLE,)
'''
ROW = ('    Stage("13_toy", "A toy stage", ("double",), (), (Assignment("13_toy", "Double it", {"double": 4}),),\n'
       '          PRACTICE_CHECKS + "toy"),\n')
STUB = 'def double(x):\n    """Twice x: (B, N) -> (B, N)."""\n    raise NotImplementedError\n'
SOLVED = ('def double(x):\n    """Twice x: (B, N) -> (B, N)."""\n'
          '    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n')


def nbgrader(grade_id, **flags):
    return {"nbgrader": {"grade": False, "locked": False, "solution": False, "task": False, "schema_version": 3,
                         "grade_id": grade_id, **flags}}


def write(path, cells):
    nb = new_notebook(cells=cells, metadata={"kernelspec": {"display_name": "Python 3", "language": "python",
                                                            "name": "python3"}})
    nbformat.write(nb, str(path))


def follow_the_recipe(root):
    """CONTRIBUTING.md's steps for a lesson with one stub and a practice exercise."""
    syllabus = root / "ntm_course" / "syllabus.py"
    text = syllabus.read_text()
    start = text.index("\nSTAGES = (\n")
    end = text.index("\n)\n", start) + 1                   # the line that closes STAGES: the new row goes above it
    syllabus.write_text(text[:end] + ROW + text[end:])
    (root / "ntm_course" / "teaching" / "practice" / "exercises" / "toy.py").write_text(CHECK_MODULE)
    write(root / "notebooks" / "13_toy.ipynb", [
        new_markdown_cell("# Lesson 13 · A toy stage\n\nDouble a tensor."),
        new_code_cell("import torch\n\nfrom ntm_course.teaching.lesson import your_turn"),
        new_code_cell(STUB, metadata={"tags": ["stub"], "ntm_course": {"stub": "double"}}),
        new_code_cell('double = your_turn("double", double)'),
        new_code_cell("x = torch.arange(3.0).reshape(1, 3)\nassert torch.equal(double(x), 2 * x)"),
        new_markdown_cell("**Exercises:** [13_toy](../exercises/13_toy.ipynb) (`double` again: practice)."),
    ])
    write(root / "solutions" / "13_toy.ipynb", [
        new_markdown_cell("# Exercise 13: double it\n\n**Lesson:** [13_toy](../notebooks/13_toy.ipynb) · "
                          "**Asks you to:** write `double`."),
        new_code_cell("from ntm_course.teaching.practice import check", metadata=nbgrader("imports", locked=True)),
        new_code_cell(SOLVED, metadata=nbgrader("double", solution=True)),
        new_code_cell('double_result = check("double", double)\ndouble_result.points',
                      metadata=nbgrader("double_check", grade=True, locked=True, points=4)),
    ])
    readme = root / "README.md"
    text = readme.read_text()
    line = [line for line in text.splitlines() if re.match(r"\| \d+ \| \[`", line)][-1]   # the map's last row
    readme.write_text(text.replace(line, line + "\n| 13 | `13_toy`: a toy stage | `double` | `13_toy` | | |"))


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    """``(root, python)``: a copy of the repository with the toy added, and a Python that runs it."""
    tmp = tmp_path_factory.mktemp("toy")
    root = checkout_copy(tmp / "course")
    follow_the_recipe(root)
    venv.EnvBuilder(with_pip=False).create(tmp / "env")
    python = tmp / "env" / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             check=True, capture_output=True, text=True).stdout.strip()
    (Path(purelib) / "toy-course.pth").write_text(f"{root}\n{site.getsitepackages()[0]}\n")
    subprocess.run([str(python), "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"],
                   check=True, capture_output=True, env=clean_env())
    return root, python


def run(toy, *args, script=None):
    root, python = toy
    command = [str(python), *(["-c", textwrap.dedent(script)] if script else []), *args]
    done = subprocess.run(command, cwd=root, capture_output=True, text=True, env=clean_env(), timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def test_the_copy_runs_its_own_packages(toy):
    root, _ = toy
    where = run(toy, script="import ntm_course, ntm_course_instructor; print(ntm_course.__file__, "
                            "ntm_course_instructor.__file__)").split()
    assert [Path(p).parents[1] for p in where] == [root, root]


def test_the_stub_is_checked_in_the_lesson(toy):
    out = run(toy, script="""
        import torch
        from ntm_course import syllabus
        from ntm_course.teaching.lesson import your_turn
        assert syllabus.lessons()[-1] == "13_toy" and "double" in syllabus.stubs()
        assert your_turn("double", lambda x: x * x, save=False)(torch.tensor([3.0])).item() == 6.0  # the course's
        def double(x):
            return x + x
        assert your_turn("double", double, save=False) is double
    """)
    assert "this is x squared: twice x is 2 * x" in out and "double: 4/4 points -- well done!" in out


def test_the_exercise_is_released_graded_and_the_syllabus_holds(toy, tmp_path):
    root, _ = toy
    run(toy, "-m", "ntm_course_instructor.cli", "release")
    exercise = root / "exercises" / "13_toy.ipynb"
    assert "raise NotImplementedError" in exercise.read_text() and "return 2 * x" not in exercise.read_text()
    solved = tmp_path / "ada_13_toy.ipynb"
    solved.write_text((root / "solutions" / "13_toy.ipynb").read_text())
    book = tmp_path / "book.csv"
    run(toy, "-m", "ntm_course_instructor.cli", "grade", str(solved), str(exercise), "--csv", str(book),
        "--jobs", "2", "--no-isolation")
    with open(book) as f:
        rows = {Path(row["submission"]).name: row for row in csv.DictReader(f)}
    assert rows["ada_13_toy.ipynb"]["double_check"] == "4" and rows["13_toy.ipynb"]["double_check"] == "0"
    run(toy, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_syllabus.py")


def test_the_lesson_is_rendered_in_the_syllabus_order(toy, tmp_path):
    root, _ = toy
    out = run(toy, script="""
        from ntm_course_instructor.render import find_notebooks
        print(find_notebooks(["notebooks"])[-1].name, find_notebooks([])[-1].name)
    """)
    assert out.split() == ["13_toy.ipynb", "13_toy.ipynb"]
    book = tmp_path / "book"                         # the site's page: executed, written into the book, in its TOC
    book.mkdir()
    run(toy, str(book), script="""
        import sys
        from pathlib import Path
        import yaml
        from ntm_course_instructor.render import render_notebook, write_toc
        book = Path(sys.argv[1])
        config = yaml.safe_load(Path("site/_config.yml").read_text())
        page, problem = render_notebook(Path("notebooks/13_toy.ipynb"), book, 60, config)
        assert page is not None and problem is None, problem
        write_toc(book, [page])
    """)
    page = nbformat.read(str(book / "13_toy.ipynb"), as_version=4)
    assert "the lesson goes on with the course's double" in "".join(
        o.get("text", "") for c in page.cells if c.cell_type == "code" for o in c.outputs)
    assert "file: 13_toy" in (book / "_toc.yml").read_text()
