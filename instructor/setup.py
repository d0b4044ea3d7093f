"""The build step that puts the solution notebooks into the instructor's wheel; the metadata is in pyproject.toml.

``solutions/`` stays at the repository's top level; building a wheel copies its notebooks into the package as
``ntm_course_instructor/solutions/``, where the grader finds them after ``pip install ntm-course-instructor``
(:mod:`ntm_course_instructor.solutions`). An editable install copies nothing: it reads the checkout's.
"""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


SOLUTIONS = Path(__file__).resolve().parent.parent / "solutions"


class BuildWithSolutions(build_py):
    """``build_py``, then ``solutions/*.ipynb`` into ``<build>/ntm_course_instructor/solutions``."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / "ntm_course_instructor" / "solutions"
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        notebooks = sorted(SOLUTIONS.glob("*.ipynb"))
        if not notebooks:
            raise FileNotFoundError(f"no solution notebooks in {SOLUTIONS}: build from a checkout of the course")
        for notebook in notebooks:
            shutil.copyfile(notebook, target / notebook.name)


setup(cmdclass={"build_py": BuildWithSolutions})
