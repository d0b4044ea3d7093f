"""The build step that puts the course's lessons and exercises into the wheel; the metadata is in pyproject.toml.

The notebooks stay at the repository's top level (``notebooks/``, ``exercises/``, see ``ntm_course/teaching/get.py``'s
``COURSE_FILES``); building a wheel copies them into the package as ``ntm_course/course_files/``, where
``ntm-course get DIR`` finds them after ``pip install``. Nothing is committed twice. An editable install copies
nothing: there ``ntm-course get`` reads the checkout. (An sdist carries the files through MANIFEST.in.)
"""
import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


ROOT = Path(__file__).resolve().parent


def _get_module():
    """``ntm_course/teaching/get.py``, loaded by path: importing the package would need torch at build time."""
    spec = importlib.util.spec_from_file_location("ntm_course_get", ROOT / "ntm_course" / "teaching" / "get.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class BuildWithCourseFiles(build_py):
    """``build_py``, then the course files into ``<build>/ntm_course/course_files``."""

    def run(self):
        super().run()
        if self.editable_mode:
            return
        get = _get_module()
        target = Path(self.build_lib) / "ntm_course" / get.SHIPPED.name
        shutil.rmtree(target, ignore_errors=True)       # a file removed from the course leaves no stale copy
        for relative in get.course_files(ROOT):
            (target / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / relative, target / relative)


setup(cmdclass={"build_py": BuildWithCourseFiles})
