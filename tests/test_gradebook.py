"""``ntm-course grade``: a small mixed class (full, partial, empty, looping, half-deleted, tampered, corrupt,
crashing) gets exactly the expected gradebook; solutions score full marks and unanswered exercises zero.
Kernel start-ups are slow, so each test grades only a few notebooks."""
import csv
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_output

from ntm_course import cli
from ntm_course.grading import EXERCISES
from ntm_course.grading import gradebook as gb

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def submission(folder, filename, assignment, answered=(), replace=None, drop=()):
    """An exercise notebook as a learner might hand it in: the solutions of ``answered`` filled in,
    cells whose grade_id is in ``replace`` given other code, cells in ``drop`` deleted."""
    exercise = nbformat.read(str(ROOT / "exercises" / f"{assignment}.ipynb"), as_version=4)
    solution = nbformat.read(str(ROOT / "solutions" / f"{assignment}.ipynb"), as_version=4)
    answers = {grade_id(c): c.source for c in solution.cells if grade_id(c) in answered}
    for cell in exercise.cells:
        cell.source = (replace or {}).get(grade_id(cell), answers.get(grade_id(cell), cell.source))
    exercise.cells = [c for c in exercise.cells if grade_id(c) not in drop]
    path = folder / filename
    nbformat.write(exercise, str(path))
    return path


def test_mixed_class_gets_exactly_the_expected_gradebook(tmp_path, capsys):
    looping_write = "def write(memory, w, erase, add):\n    while True:\n        pass\n"
    class_ = [
        submission(tmp_path, "ada_01_read_write.ipynb", "01_read_write", answered=("read", "write")),
        submission(tmp_path, "ben_01_read_write.ipynb", "01_read_write", answered=("read",)),
        submission(tmp_path, "cy_01_read_write.ipynb", "01_read_write"),
        submission(tmp_path, "dot_01_read_write.ipynb", "01_read_write", answered=("read",),
                   replace={"write": looping_write}),
        submission(tmp_path, "eve_01_read_write.ipynb", "01_read_write", answered=("read",),
                   drop=("write", "write_check")),
        submission(tmp_path, "fay_01_read_write.ipynb", "01_read_write", replace={"read_check": "4"}),
        submission(tmp_path, "hal_01_read_write.ipynb", "01_read_write", answered=("read",),
                   replace={"write": "import os\nos._exit(1)"}),                 # kills its kernel
    ]
    corrupt = tmp_path / "gus_01_read_write.ipynb"
    corrupt.write_text(class_[0].read_text()[:2000])            # cut off mid-file
    class_.insert(5, corrupt)
    csv_path = tmp_path / "gradebook.csv"

    assert cli.main(["grade", *map(str, class_), "--csv", str(csv_path), "--timeout", "20"]) == 0

    rows = list(csv.reader(csv_path.open()))
    assert rows[0] == ["submission", "assignment", "points", "max_points", "read_check", "write_check", "reasons"]
    got = {Path(r[0]).name: r[1:] for r in rows[1:]}
    assert [Path(r[0]).name for r in rows[1:]] == [p.name for p in class_]
    unfinished = "write_check: write: not implemented yet (0/4 points)"
    expected = {
        "ada_01_read_write.ipynb": ["01_read_write", "8", "8", "4", "4", ""],
        "ben_01_read_write.ipynb": ["01_read_write", "4", "8", "4", "0", unfinished],
        "cy_01_read_write.ipynb": ["01_read_write", "0", "8", "0", "0",
                                   "read_check: read: not implemented yet (0/4 points); " + unfinished],
        "dot_01_read_write.ipynb": ["01_read_write", "4", "8", "4", "0",
                                    "write_check: stopped at the time limit (an endless loop?)"],
        "eve_01_read_write.ipynb": ["01_read_write", "4", "8", "4", "0",
                                    "write_check: the check cell was deleted"],
        # an edited check cell gets the course's check back, so "4" earns nothing
        "fay_01_read_write.ipynb": ["01_read_write", "0", "8", "0", "0",
                                    "read_check: read: not implemented yet (0/4 points); " + unfinished],
        "hal_01_read_write.ipynb": ["01_read_write", "4", "8", "4", "0",
                                    "execution stopped (DeadKernelError: Kernel died); write_check: did not run"],
    }
    for name, row in expected.items():
        assert got[name] == row, name
    assert got[corrupt.name][:5] == ["01_read_write", "0", "8", "0", "0"]
    assert got[corrupt.name][5].startswith("not a readable notebook (NotJSONError")

    out = capsys.readouterr().out
    assert "gradebook written to" in out and "ada_01_read_write.ipynb" in out and "8/8" in out


@pytest.mark.parametrize("paths", [SOLUTIONS[i:i + 3] for i in range(0, len(SOLUTIONS), 3)],
                         ids=lambda ps: "+".join(p.stem[:2] for p in ps))
def test_solutions_score_full_marks(paths):
    assignments = gb.load_assignments(ROOT / "solutions")
    for path in paths:
        result = gb.grade(path, assignments, timeout=120)
        assert result.reasons == [] and result.points == result.max_points > 0, (path, result)


EXERCISES_NB = sorted((ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.parametrize("paths", [EXERCISES_NB[i:i + 3] for i in range(0, len(EXERCISES_NB), 3)],
                         ids=lambda ps: "+".join(p.stem[:2] for p in ps))
def test_unanswered_exercises_run_to_the_end_and_score_zero(paths):
    assignments = gb.load_assignments(ROOT / "solutions")
    for path in paths:
        result = gb.grade(path, assignments, timeout=120)
        assert result.points == 0 and result.max_points > 0, (path, result)
        assert result.reasons == [f"{c}: {c[:-6]}: not implemented yet (0/{m:g} points)"
                                  for c, m in result.max_scores.items()]


def test_assignments_points_match_the_checks():
    assignments = gb.load_assignments(ROOT / "solutions")
    assert len(assignments) == len(SOLUTIONS)
    for checks in assignments.values():
        for c in checks:
            assert c.points == len(EXERCISES[c.grade_id.removesuffix("_check")].groups)
            assert c.source == f'{c.grade_id[:-6]}_result = check("{c.grade_id[:-6]}", {c.grade_id[:-6]})\n' \
                               f'{c.grade_id[:-6]}_result.points'


def test_identify_by_file_name_then_by_grade_ids():
    assignments = gb.load_assignments(ROOT / "solutions")
    nb = nbformat.read(str(ROOT / "exercises" / "04_shift.ipynb"), as_version=4)
    assert gb.identify("alice-04_shift.ipynb", None, assignments) == "04_shift"
    assert gb.identify("alice.ipynb", nb, assignments) == "04_shift"
    assert gb.identify("alice.ipynb", nbformat.v4.new_notebook(), assignments) is None


def test_unknown_assignment_is_reported_without_running(tmp_path):
    path = tmp_path / "homework.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[new_code_cell("1 / 0")]), str(path))
    result = gb.grade(path, gb.load_assignments(ROOT / "solutions"))
    assert result.assignment is None and result.points == result.max_points == 0
    assert "unknown assignment" in result.reasons[0]


@pytest.mark.parametrize("outputs, expected", [
    ([new_output("execute_result", data={"text/plain": "3"})], (3.0, "")),
    ([new_output("stream", name="stdout", text="shift: 2/4 points\n  ✓ values\n"),
      new_output("execute_result", data={"text/plain": "2"})], (2.0, "shift: 2/4 points")),
    ([new_output("execute_result", data={"text/plain": "7"})], (4.0, "")),           # capped at the maximum
    ([new_output("error", ename="NameError", evalue="name 'shift' is not defined", traceback=[])],
     (0.0, "NameError: name 'shift' is not defined")),
    ([new_output("execute_result", data={"text/plain": "'lots'"})], (0.0, "the check cell's value is not a number")),
    ([], (0.0, "did not run")),
])
def test_score_cell(outputs, expected):
    cell = new_code_cell("x", outputs=outputs)
    assert gb.score_cell(cell, 4) == expected


def test_summary_and_csv_of_known_grades(tmp_path):
    grades = [gb.Grade("a.ipynb", "04_shift", {"shift_check": 4.0}, {"shift_check": 4.0}),
              gb.Grade("b.ipynb", "03_interpolate", {"interpolate_check": 1.5}, {"interpolate_check": 4.0},
                       ["interpolate_check: interpolate: 1.5/4"])]
    gb.write_csv(grades, tmp_path / "g.csv")
    assert (tmp_path / "g.csv").read_text().splitlines() == [
        "submission,assignment,points,max_points,shift_check,interpolate_check,reasons",
        "a.ipynb,04_shift,4,4,4,,",
        "b.ipynb,03_interpolate,1.5,4,,1.5,interpolate_check: interpolate: 1.5/4"]
    table = gb.summary(grades).splitlines()
    assert table[1].split() == ["a.ipynb", "04_shift", "4/4", "-"]
