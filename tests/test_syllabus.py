"""The syllabus (``ntm_course.syllabus``) is the one table of the course: the notebooks, the checks, the pieces and
the README's course map all agree with it."""
import re
from dataclasses import fields
from pathlib import Path

import nbformat
import pytest

from ntm_course import syllabus
from ntm_course.pieces import Pieces
from ntm_course.teaching.practice import EXERCISES as PRACTICE
from ntm_course_instructor.grading import GRADED
from ntm_course_instructor.grading.assignments import graded_cells, nbgrader_meta


ROOT = Path(__file__).resolve().parents[1]


def graded_points(path):
    """``{function name: points}`` of a solution notebook's graded cells (grade_id ``<name>_check``)."""
    meta = [nbgrader_meta(c) for c in graded_cells(nbformat.read(str(path), as_version=4))]
    return {m["grade_id"].removesuffix("_check"): m.get("points") for m in meta}


def test_the_lessons_are_the_syllabus_stages_in_order():
    assert sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb")) == syllabus.lessons()


def test_the_exercises_and_solutions_are_the_syllabus_assignments():
    names = sorted(a.name for a in syllabus.assignments())
    for folder in ("solutions", "exercises"):
        assert sorted(p.stem for p in (ROOT / folder).glob("*.ipynb")) == names, folder


@pytest.mark.parametrize("assignment", syllabus.assignments(), ids=lambda a: a.name)
def test_each_solutions_graded_cells_are_its_checks_and_points(assignment):
    assert graded_points(ROOT / "solutions" / assignment.notebook) == assignment.checks


@pytest.mark.parametrize("stage", [s for s in syllabus.STAGES if s.stubs], ids=lambda s: s.lesson)
def test_each_lessons_stubs_are_its_syllabus_stubs_in_order(stage):
    cells = nbformat.read(str(ROOT / "notebooks" / stage.notebook), as_version=4).cells
    assert tuple(c.metadata.get("ntm_course", {}).get("stub") for c in cells
                 if c.metadata.get("ntm_course", {}).get("stub")) == stage.stubs


def test_every_check_has_exactly_one_home():
    """A stub or a practice check is the learner's (the library holds its reference); a graded check is only
    the instructor's."""
    practice = {name for a in syllabus.assignments(syllabus.PRACTICE) for name in a.checks}
    assert set(syllabus.stubs()) | practice == set(PRACTICE)
    assert set(syllabus.graded_checks()) == set(GRADED)
    assert not set(PRACTICE) & set(GRADED)


def test_the_pieces_are_stubs_and_the_machine_is_made_of_them():
    assert set(syllabus.pieces()) <= set(syllabus.stubs())
    assert set(syllabus.pieces()) == {field.name for field in fields(Pieces)}


def test_an_unknown_name_is_a_value_error_naming_the_known_ones():
    with pytest.raises(ValueError, match=r"name must be a lesson or an exercise .*01_memory.*got 'nope'"):
        syllabus.stage_of("nope")
    assert syllabus.stage_of("05_blog_shift").lesson == "05_shift"
    assert syllabus.stage_of("05_shift").assignments[1].kind == syllabus.TRANSFER


def course_map():
    """The README's course map: ``[(stage, lesson, stubs, exercises)]`` from its table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## The map of the course", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:-1] for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
    names = [re.findall(r"`(\w+)`", cell) for row in rows for cell in row[1:4]]
    return [(int(row[0]), names[3 * i][0], tuple(names[3 * i + 1]), tuple(names[3 * i + 2]))
            for i, row in enumerate(rows)]


def test_the_readmes_course_map_is_the_syllabus():
    assert course_map() == [(int(s.lesson[:2]), s.lesson, s.stubs, tuple(a.name for a in s.assignments))
                            for s in syllabus.STAGES]


@pytest.mark.parametrize("stage", [s for s in syllabus.STAGES if s.assignments], ids=lambda s: s.lesson)
def test_each_lesson_links_every_exercise_of_its_stage(stage):
    text = (ROOT / "notebooks" / stage.notebook).read_text()
    assert not [a.name for a in stage.assignments if f"](../exercises/{a.notebook})" not in text]
