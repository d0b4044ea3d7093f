"""``ntm-course-instructor grade``, end to end: one class of submissions -- right, wrong, unanswered, forged
(shadowed names, patched torch and course, IPython display tricks, a fake check printing full marks, writing into
the gradebook, reading the solutions), reference hand-ins, and the failures isolation must contain (an endless
loop, a memory bomb, a fork bomb, a worker that ends itself, a notebook that isn't JSON, one that deleted its
cells) -- is graded in a single ``grade`` call with ``--jobs 2``, and every row is checked. Workers start a
Python each, so the class is graded once (a module fixture) and the other tests read its results."""
import csv
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from ntm_course import syllabus
from ntm_course_instructor import cli
from ntm_course_instructor.grading import EXERCISES
from ntm_course_instructor.grading import gradebook as gb
from ntm_course_instructor.grading import isolation
from ntm_course_instructor.grading.assignments import identify, load_assignments
from ntm_course_instructor.grading.submission import Grade, grade


ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
ASSIGNMENTS = load_assignments(ROOT / "solutions")


def assignment_of(check):
    """The assignment (solution notebook stem) holding the check ``check`` (derived, never hard-coded)."""
    return next(name for name, checks in ASSIGNMENTS.items() if check in [c.grade_id for c in checks])


SHIFT, READ = assignment_of("shift_check"), assignment_of("read_check")


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def submission(folder, filename, assignment, answered=(), replace=None, drop=(), extra=None):
    """An exercise notebook as a learner might hand it in: the solutions of ``answered`` filled in, cells whose
    grade_id is in ``replace`` given other code, cells in ``drop`` deleted, ``extra`` code added at the end."""
    exercise = nbformat.read(str(ROOT / "exercises" / f"{assignment}.ipynb"), as_version=4)
    solution = nbformat.read(str(ROOT / "solutions" / f"{assignment}.ipynb"), as_version=4)
    answers = {grade_id(c): c.source for c in solution.cells if grade_id(c) in answered}
    for cell in exercise.cells:
        cell.source = (replace or {}).get(grade_id(cell), answers.get(grade_id(cell), cell.source))
    exercise.cells = [c for c in exercise.cells if grade_id(c) not in drop]
    if extra:
        exercise.cells.append(new_code_cell(extra))
    path = folder / filename
    nbformat.write(exercise, str(path))
    return path


WRONG = "def shift(w, s):\n    return w.clone()\n"
SEED = "11"   # the cases' seed: a serial rerun must draw the same cases to give the same reasons


def forged(trick):
    """A wrong shift (it returns w) with a trick meant to fool a grader that trusts the notebook."""
    return WRONG + "\n" + trick


FORGERIES = {
    # the check's own names, shadowed: a fake check and a fake result with full marks
    "shadow": forged("class Full:\n    points, max_points, passed = 4, 4, True\n"
                     "def check(name, fn, verbose=True):\n    print(f'{name}: 4/4 points -- well done!')\n"
                     "    return Full()\nshift_result = Full()\n"),
    # torch patched so that every comparison passes
    "patch_torch": forged("import torch\ntorch.allclose = lambda *a, **k: True\n"
                          "torch.equal = lambda *a, **k: True\ntorch.isclose = lambda a, b, **k: a == a\n"),
    # the course's checker patched (through its import, which the grader refuses in an answer)
    "patch_course": forged("import ntm_course.teaching.practice.checker as c\nc.compare = lambda *a: None\n"),
    # IPython: display every number as 4
    "ipython": forged("ip = get_ipython()\nip.display_formatter.formatters['text/plain'].for_type("
                      "int, lambda n, p, cycle: p.text('4'))\n"),
    # a check that prints full marks and a cell value of 4
    "fake_print": forged("print('shift: 4/4 points -- well done!')\n4\n"),
}


def sneaky(csv_path, solutions):
    return {
        # writes a forged row into the gradebook, and a file into the solutions
        "write_gradebook": forged(f"for target in [{str(csv_path)!r}, {str(solutions / 'pwned.txt')!r}]:\n"
                                  "    try:\n        with open(target, 'a') as f:\n"
                                  "            f.write('forged.ipynb,x,99,99\\n')\n"
                                  "    except OSError:\n        pass\n"),
        # reads the solution notebook and imports its answer through a module file (no exec)
        "read_solutions": ("import json, sys\n"
                           f"nb = json.load(open({str(solutions / (SHIFT + '.ipynb'))!r}))\n"
                           "code = ''.join(next(c['source'] for c in nb['cells'] if c.get('metadata', {})"
                           ".get('nbgrader', {}).get('grade_id') == 'shift'))\n"
                           "open('stolen.py', 'w').write('import torch\\n' + code)\nsys.path.insert(0, '.')\n"
                           "from stolen import shift\n"),
    }


HANDINS = {
    "handin_import": "from ntm_course.addressing import shift\n",
    "handin_alias": "import ntm_course as n\n\ndef shift(w, s):\n    return n.shift(w, s)\n",
    "handin_dunder": "def shift(w, s):\n    return __import__('ntm_course').addressing.shift(w, s)\n",
    "handin_importlib": "import importlib\n\ndef shift(w, s):\n    return importlib.import_module('ntm_course').shift(w, s)\n",
    "handin_reference": "def shift(w, s):\n    return reference('shift')(w, s)\n",
    # reaches the library's function through an object the syntax tree cannot follow: caught in the worker
    "handin_runtime": "from ntm_course.pieces import LIBRARY\n\ndef shift(w, s):\n    lib = LIBRARY\n"
                      "    return lib.shift(w, s)\n",
}

CONTAINED = {
    "loop": "def shift(w, s):\n    while True:\n        pass\n",
    "memory_bomb": "hog = bytearray(64 * 2 ** 30)\n" + WRONG,
    "fork_bomb": "import os\nwhile True:\n    os.fork()\n" + WRONG,
    "exits": "import os\nos._exit(3)\n",
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the whole class once: ``{name: row}`` from the gradebook, the CSV path, the output."""
    folder = tmp_path_factory.mktemp("class")
    csv_path = folder / "gradebook.csv"
    paths = {"right": submission(folder, f"right_{SHIFT}.ipynb", SHIFT, answered=("shift",)),
             "unanswered": submission(folder, f"unanswered_{SHIFT}.ipynb", SHIFT),
             "wrong": submission(folder, f"wrong_{SHIFT}.ipynb", SHIFT, replace={"shift": WRONG}),
             "deleted": submission(folder, f"deleted_{SHIFT}.ipynb", SHIFT, answered=("shift",),
                                   drop=("shift", "shift_check")),
             "edited_check": submission(folder, f"edited_check_{SHIFT}.ipynb", SHIFT,
                                        replace={"shift_check": "4"}),
             "read_right": submission(folder, f"read_right_{READ}.ipynb", READ, answered=("read",)),
             "probe": submission(folder, f"probe_{SHIFT}.ipynb", SHIFT, answered=("shift",),
                                 extra=probe_cell(csv_path)),
             "magics": submission(folder, f"magics_{SHIFT}.ipynb", SHIFT, answered=("shift",),
                                  extra="%matplotlib inline\n!echo hi\nfiles = !ls\n%time x = 1\n")}
    tricks = {**FORGERIES, **sneaky(csv_path, ROOT / "solutions"), **HANDINS, **CONTAINED}
    for name, code in tricks.items():
        paths[name] = submission(folder, f"{name}_{SHIFT}.ipynb", SHIFT, replace={"shift": code})
    corrupt = folder / f"corrupt_{SHIFT}.ipynb"
    corrupt.write_text(paths["right"].read_text()[:1500])
    paths["corrupt"] = corrupt
    feedback = folder / "feedback"
    argv = ["grade", *map(str, paths.values()), "--csv", str(csv_path), "--timeout", "10", "--jobs", "2",
            "--feedback", str(feedback), "--seed", SEED]
    assert cli.main(argv) == 0
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    by_name = {name: next(r for r in rows if r["submission"] == str(path)) for name, path in paths.items()}
    return {"rows": by_name, "csv": csv_path, "all": rows, "paths": paths, "feedback": feedback,
            "folder": folder}


def probe_cell(csv_path):
    """A cell that redefines shift wrongly unless the worker is isolated as promised."""
    box = isolation.probe()
    checks = ["import os, resource, socket, tempfile"]
    if box.prefix:
        checks.append("assert sorted(os.listdir('/sys/class/net')) in (['lo'], []), 'network'")
    if box.drop_uid:
        checks.append("assert os.getuid() != 0, 'root'")
    if box.hide:
        checks += [f"assert not os.path.exists({str(csv_path)!r}) or os.path.getsize({str(csv_path)!r}) == 0, "
                   "'gradebook visible'",
                   f"assert not os.access({str(ROOT / 'solutions')!r}, os.R_OK) or not os.listdir("
                   f"{str(ROOT / 'solutions')!r}), 'solutions visible'"]
    checks += ["assert resource.getrlimit(resource.RLIMIT_AS)[0] > 0, 'memory limit'",
               "assert resource.getrlimit(resource.RLIMIT_CPU)[0] > 0, 'cpu limit'",
               "assert os.getcwd() == '/scratch' or os.getcwd().startswith(tempfile.gettempdir()), 'cwd'"]
    body = "\n".join("    " + line for line in checks)
    return f"try:\n{body}\nexcept AssertionError as what:\n    print('not isolated:', what)\n" \
           f"    def shift(w, s):\n        return w\n"


@pytest.mark.slow
def test_header_says_the_grader_computed_the_points(graded):
    with open(graded["csv"], newline="") as f:
        head = next(csv.reader(f))
    assert head == ["submission", "assignment", "kind", "points_by_grader", "max_points", "shift_check", "read_check",
                    "reasons"]
    assert [r["submission"] for r in graded["all"]] == [str(p) for p in graded["paths"].values()]


@pytest.mark.slow
def test_right_answers_score_full_marks(graded):
    for name in ("right", "read_right", "magics"):
        row = graded["rows"][name]
        assert row["points_by_grader"] == row["max_points"] == "1" and row["reasons"] == "", (name, row)
        assert row["kind"] == "practice"                    # shift and read: the lessons' stubs again, 1 point


@pytest.mark.slow
def test_isolation_holds_inside_the_worker(graded):
    row = graded["rows"]["probe"]
    assert (row["points_by_grader"], row["reasons"]) == ("1", ""), row


@pytest.mark.slow
def test_unanswered_wrong_deleted_and_edited_checks(graded):
    rows = graded["rows"]
    assert rows["unanswered"]["reasons"] == "shift_check: shift: not implemented yet (0/1 points)"
    assert rows["edited_check"]["reasons"] == "shift_check: shift: not implemented yet (0/1 points)"
    assert rows["wrong"]["reasons"].startswith("shift_check: shift: 0/1 points (values: result differs")
    assert rows["deleted"]["reasons"] == "shift_check: the check cell was deleted"
    for name in ("unanswered", "edited_check", "wrong", "deleted"):
        assert rows[name]["points_by_grader"] == rows[name]["shift_check"] == "0", name


@pytest.mark.slow
@pytest.mark.parametrize("name", [*FORGERIES, "write_gradebook", "read_solutions"])
def test_forgeries_score_zero(graded, name):
    row = graded["rows"][name]
    assert row["points_by_grader"] == row["shift_check"] == "0" and row["max_points"] == "1", row
    assert row["reasons"].startswith("shift_check: "), row


@pytest.mark.slow
def test_forgeries_change_nothing_outside_the_worker(graded):
    assert "forged" not in graded["csv"].read_text()
    assert not (ROOT / "solutions" / "pwned.txt").exists()
    assert "import ntm_course.teaching.practice.checker, which the grader does not accept" in \
        graded["rows"]["patch_course"]["reasons"]
    assert "Permission denied" in graded["rows"]["read_solutions"]["reasons"] or \
        "No such file" in graded["rows"]["read_solutions"]["reasons"]


@pytest.mark.slow
@pytest.mark.parametrize("name", HANDINS)
def test_reference_hand_ins_score_zero_with_a_reason(graded, name):
    row = graded["rows"][name]
    assert row["points_by_grader"] == "0", row
    reason = row["reasons"]
    assert ("hands in the library's own shift" in reason or "calls the library's own shift" in reason
            or "which the grader does not accept" in reason), reason


@pytest.mark.slow
def test_runtime_hand_in_is_caught_by_the_workers_stubbed_library(graded):
    assert "calls the library's own shift" in graded["rows"]["handin_runtime"]["reasons"]


@pytest.mark.slow
@pytest.mark.parametrize("name, words", [
    ("loop", "time limit"), ("memory_bomb", "MemoryError"), ("fork_bomb", "BlockingIOError"),
    ("exits", "exit code 3"), ("corrupt", "not a readable notebook (NotJSONError")])
def test_contained_failures_cost_their_points_with_a_reason(graded, name, words):
    row = graded["rows"][name]
    assert row["points_by_grader"] == "0" and row["max_points"] == "1", row
    assert words in row["reasons"], row


@pytest.mark.slow
def test_feedback_page_per_submission(graded):
    pages = sorted(p.name for p in graded["feedback"].glob("*.html"))
    assert pages == sorted(f"{p.stem}.html" for p in graded["paths"].values())
    wrong = (graded["feedback"] / f"wrong_{SHIFT}.html").read_text()
    for part in ("0 / 1", "shift_check", "case: random", "expected:", "got:", "hint:", "outside your notebook"):
        assert part in wrong, part
    assert "<script" not in wrong and "http" not in wrong          # offline, self-contained
    assert "full marks" in (graded["feedback"] / f"right_{SHIFT}.html").read_text()


@pytest.mark.slow
def test_serial_run_gives_the_same_rows_and_a_rerun_skips_graded_work(graded, capsys):
    names = ["right", "wrong", "handin_import"]
    serial = graded["folder"] / "serial.csv"
    assert cli.main(["grade", *[str(graded["paths"][n]) for n in names], "--csv", str(serial),
                     "--jobs", "1", "--timeout", "10", "--seed", SEED]) == 0
    with open(serial, newline="") as f:
        rows = {r["submission"]: r for r in csv.DictReader(f)}
    for n in names:
        expected = {k: v for k, v in graded["rows"][n].items() if k != "read_check"}
        assert rows[str(graded["paths"][n])] == expected, n
    capsys.readouterr()
    # a rerun with the same gradebook grades nothing again, and keeps every row
    assert cli.main(["grade", *[str(graded["paths"][n]) for n in names], "--csv", str(serial)]) == 0
    assert "3 submission(s) already in" in capsys.readouterr().out
    with open(serial, newline="") as f:
        assert {r["submission"]: r for r in csv.DictReader(f)} == rows


@pytest.mark.slow
def test_an_interrupted_gradebook_is_completed(tmp_path, capsys):
    path = submission(tmp_path, f"late_{READ}.ipynb", READ, answered=("read",))
    book = tmp_path / "book.csv"
    book.write_text("submission,assignment,points_by_grader,max_points,read_check,reasons\n"   # before the kind column
                    f"earlier_{READ}.ipynb,{READ},1,1,1,\n")
    assert cli.main(["grade", str(path), f"earlier_{READ}.ipynb", "--csv", str(book)]) == 0
    assert "1 submission(s) already in" in capsys.readouterr().out
    with open(book, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["submission"] for r in rows] == [str(path), f"earlier_{READ}.ipynb"] or \
        [r["submission"] for r in rows] == [f"earlier_{READ}.ipynb", str(path)]
    assert all(r["points_by_grader"] == "1" for r in rows)


def test_assignments_points_match_the_checks():
    assert len(ASSIGNMENTS) == len(SOLUTIONS)
    for checks in ASSIGNMENTS.values():
        assert checks.locked, "every assignment has locked cells (its imports at least)"
        for c in checks:
            assert c.name in EXERCISES and c.points == syllabus.points_of(c.name)
            assert c.source == f'{c.name}_result = check("{c.name}", {c.name})\n{c.name}_result.grade'


def test_identify_by_file_name_then_by_grade_ids():
    nb = nbformat.read(str(ROOT / "exercises" / f"{SHIFT}.ipynb"), as_version=4)
    assert identify(f"alice-{SHIFT}.ipynb", None, ASSIGNMENTS) == SHIFT
    assert identify("alice.ipynb", nb, ASSIGNMENTS) == SHIFT
    assert identify("alice.ipynb", nbformat.v4.new_notebook(), ASSIGNMENTS) is None


def test_unknown_assignment_is_reported_without_running(tmp_path):
    path = tmp_path / "homework.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[new_code_cell("1 / 0")]), str(path))
    result = grade(path, ASSIGNMENTS)
    assert result.assignment is None and result.points == result.max_points == 0
    assert "unknown assignment" in result.reasons[0]


def test_summary_and_csv_of_known_grades(tmp_path):
    grades = [Grade("a.ipynb", SHIFT, {"shift_check": 4.0}, {"shift_check": 4.0}),
              Grade("b.ipynb", "04_interpolate", {"interpolate_check": 1.5}, {"interpolate_check": 4.0},
                       ["interpolate_check: interpolate: 1.5/4"])]
    book = gb.Gradebook(tmp_path / "g.csv", gb.columns_of(ASSIGNMENTS, [SHIFT, "04_interpolate"]))
    for g in grades:
        book.add(g)
    assert (tmp_path / "g.csv").read_text().splitlines() == [
        "submission,assignment,kind,points_by_grader,max_points,shift_check,interpolate_check,reasons",
        f"a.ipynb,{SHIFT},practice,4,4,4,,",
        "b.ipynb,04_interpolate,practice,1.5,4,,1.5,interpolate_check: interpolate: 1.5/4"]
    table = gb.summary(grades).splitlines()
    assert table[1].split() == ["a.ipynb", SHIFT, "4/4", "-"]

