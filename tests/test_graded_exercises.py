"""Every graded and transfer exercise of the syllabus, the same way: its solution scores full marks, its released
notebook scores 0, each mistake it catalogues scores less and shows its hint, and the points are where the course
says (most of them on transfer). The exercises' own tests (their references, their harnesses) live in
``tests/test_understanding.py`` and ``tests/test_transfer_*.py``."""
from pathlib import Path

import nbformat
import pytest

from ntm_course import syllabus
from ntm_course_instructor.grading import EXERCISES, check


ROOT = Path(__file__).resolve().parents[1]
HIDDEN = syllabus.hidden_assignments()
MISTAKES = [(name, index) for a in HIDDEN for name in a.checks for index in range(len(EXERCISES[name].mistakes))]
PRE_TRANSFER = {"05_blog_shift", "07_reverse_copy"}    # the transfer exercises from before the catalogue's rule


def cells(folder, stem):
    return nbformat.read(str(ROOT / folder / f"{stem}.ipynb"), as_version=4).cells


def namespace(folder, stem):
    """A notebook's imports and solution cells (its checks aside), run in a fresh namespace."""
    found = {}
    for cell in cells(folder, stem):
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade_id") == "imports" or meta.get("solution"):
            exec(compile(cell.source, stem, "exec"), found)
    return found


def points_by_kind():
    """Points of the solutions' graded cells, by the syllabus kind of their exercise."""
    totals = dict.fromkeys((syllabus.PRACTICE, *syllabus.HIDDEN), 0)
    for assignment in syllabus.assignments():
        for cell in cells("solutions", assignment.name):
            totals[assignment.kind] += cell.metadata.get("nbgrader", {}).get("points", 0)
    return totals


def test_most_points_are_on_transfer_and_practice_is_low_stakes():
    totals = points_by_kind()
    whole = sum(totals.values())
    assert totals[syllabus.TRANSFER] >= 0.6 * whole, totals
    assert totals[syllabus.PRACTICE] <= 0.25 * whole, totals
    assert len(syllabus.assignments(syllabus.TRANSFER)) >= len(PRE_TRANSFER) + 8


@pytest.mark.parametrize("assignment", HIDDEN, ids=lambda a: a.name)
def test_the_solution_scores_full_marks(assignment):
    found = namespace("solutions", assignment.name)
    for name, points in assignment.checks.items():
        result = check(name, found[name], verbose=False)
        assert result.passed and result.grade == points, result.report


@pytest.mark.parametrize("assignment", HIDDEN, ids=lambda a: a.name)
def test_the_released_exercise_scores_zero(assignment):
    found = namespace("exercises", assignment.name)
    for name in assignment.checks:
        result = check(name, found[name], verbose=False)
        assert result.points == 0 and result.grade == 0 and "not implemented yet" in result.report


@pytest.mark.parametrize("assignment", [a for a in syllabus.assignments(syllabus.TRANSFER)
                                        if a.name not in PRE_TRANSFER], ids=lambda a: a.name)
def test_each_transfer_exercise_catalogues_at_least_three_mistakes(assignment):
    assert sum(len(EXERCISES[name].mistakes) for name in assignment.checks) >= 3


@pytest.mark.parametrize("name, index", MISTAKES, ids=[f"{n}-{i}" for n, i in MISTAKES])
def test_each_catalogued_mistake_scores_less_with_its_hint(name, index):
    hint, wrong = EXERCISES[name].mistakes[index]
    result = check(name, wrong, verbose=False)
    assert not result.passed and result.grade < syllabus.points_of(name)
    assert hint in result.report, result.report
