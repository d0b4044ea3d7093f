"""The extras: what is missing names the extra to install; the extras named in the code are the two pyprojects'."""
import re
import tomllib
from pathlib import Path

import pytest

from ntm_course.extras import EXTRAS, MissingExtra, needs
from ntm_course.teaching import cli
from ntm_course_instructor import cli as instructor_cli


ROOT = Path(__file__).resolve().parents[1]


def test_a_missing_module_names_the_extra_and_how_to_install_it():
    with pytest.raises(MissingExtra) as caught:
        with needs("grading", "ntm-course-instructor grade"):
            import ntm_course_test_absent_module  # noqa: F401
    assert str(caught.value) == ("ntm-course-instructor grade needs the course's 'grading' extra (no module named "
                                 "'ntm_course_test_absent_module'): pip install 'ntm-course-instructor'")
    assert isinstance(caught.value, ModuleNotFoundError) and caught.value.name == "ntm_course_test_absent_module"


def test_a_missing_part_of_the_course_is_a_bug_not_an_extra():
    with pytest.raises(ModuleNotFoundError) as caught:
        with needs("lessons", "here"):
            import ntm_course.no_such_module  # noqa: F401
    assert type(caught.value) is ModuleNotFoundError and caught.value.name == "ntm_course.no_such_module"


def test_an_inner_missing_extra_keeps_its_own_message():
    with pytest.raises(MissingExtra, match=r"^inner needs the course's 'site' extra"):
        with needs("grading", "outer"), needs("site", "inner"):
            import ntm_course_test_absent_module  # noqa: F401


def test_an_unknown_extra_is_rejected():
    with pytest.raises(ValueError, match=r"extra must be one of \('lessons', 'grading', 'site'\), got 'lesson'"):
        with needs("lesson", "here"):
            pass


def test_every_extra_the_code_names_is_one_that_a_pyproject_defines():
    """``lessons`` is the learner's extra, ``site`` the instructor's; ``grading`` is the instructor's
    distribution itself (its own dependencies)."""
    def project(folder):
        return tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    learner, instructor = project(ROOT), project(ROOT / "instructor")
    defined = {f"{learner['name']}[{e}]" for e in learner["optional-dependencies"] if e != "dev"}
    defined |= {f"{instructor['name']}[{e}]" for e in instructor["optional-dependencies"]} | {instructor["name"]}
    assert set(EXTRAS.values()) == defined
    named = {name for package in ("ntm_course", "ntm_course_instructor") for path in (ROOT / package).rglob("*.py")
             for name in re.findall(r"""needs\(["'](\w+)["']""", path.read_text())}
    named |= {extra for commands in (cli.COMMANDS, instructor_cli.COMMANDS) for _, extra, _ in commands.values()
              if extra}
    assert named == set(EXTRAS)                                         # each extra is asked for somewhere
