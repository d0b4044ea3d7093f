"""``ntm-course-instructor grade``'s grader side, piece by piece and without starting a real worker
(tests/test_gradebook.py grades a whole class end to end): the assignments the syllabus and the solution
notebooks give, how the worker's verdict becomes points and reasons, how a worker process is run and followed
(a stand-in worker written in sh), the gradebook file kept across runs, the feedback pages, what a worker must
not see, and the command's orchestration."""
import argparse
import csv
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
import torch
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

import ntm_course
from ntm_course import syllabus
from ntm_course_instructor import cli
from ntm_course_instructor.grading import EXERCISES
from ntm_course_instructor.grading import feedback, isolation, runner, submission, transport, worker
from ntm_course_instructor.grading import gradebook as gb
from ntm_course_instructor.grading.assignments import Assignment, Check, identify, load_assignments
from ntm_course_instructor.grading.handins import handins
from ntm_course_instructor.grading.kit import STUB_MARK
from ntm_course_instructor.grading.safe_files import Folder
from ntm_course_instructor.grading.session import GradingRun


ROOT = Path(__file__).resolve().parents[1]
ASSIGNMENTS = load_assignments(ROOT / "solutions")
SHIFT = next(name for name, checks in ASSIGNMENTS.items() if "shift_check" in [c.grade_id for c in checks])
READ = next(name for name, checks in ASSIGNMENTS.items() if "read_check" in [c.grade_id for c in checks])


def own_shift(w, s):
    """A learner's right shift (eq. 8), written without the library's (a worker flags calls to the reference)."""
    K = s.shape[1]
    return sum(s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=1) for k in range(K))


def graded_cell(source, grade_id, **nbgrader):
    return new_code_cell(source, metadata={"nbgrader": {"grade_id": grade_id, **nbgrader}})


def shift_submission(folder, answer, name=None):
    """A 05_shift hand-in: its locked imports tampered with (the grader restores them), the answer cell, and
    the check cell edited (the grader runs its own check there)."""
    nb = new_notebook(cells=[new_markdown_cell("# shift"),
                             graded_cell("print('tampered')", "imports", locked=True),
                             graded_cell(answer, "shift", solution=True),
                             graded_cell("4", "shift_check", grade=True, locked=True, points=1)])
    path = Path(folder) / (name or f"{SHIFT}.ipynb")
    nbformat.write(nb, str(path))
    return path


RUN = GradingRun(isolation.Sandbox(), seed=0)
"""A grading run that draws the cases the learner's ``check`` uses (seed 0), as ``worker_verdict`` runs them."""


@pytest.fixture(autouse=True, scope="module")
def _close_run():
    yield
    RUN.close()   # its kits


def job(sandbox=None, timeout=5.0):
    return runner.Job(sandbox or isolation.Sandbox(), isolation.Limits(), timeout, kit="/no-kit")


def worker_verdict(fn, name="shift"):
    """What a worker sends back for ``fn``: the grader's cases run on it as the worker runs them."""
    cases = {g: [c.args for c in EXERCISES[name].cases(g)] for g in ("values", "edge cases", "gradients")}
    return {"status": "ok", **worker.run_cases(EXERCISES[name], fn, cases, progress=lambda message: None)}


@pytest.fixture
def stub_worker(monkeypatch):
    """``run_worker`` replaced: records what it was asked to run, returns ``stub_worker.reply``."""
    class Stub:
        def __init__(self):
            self.calls, self.reply = [], ({}, None)

        def __call__(self, cells, cases, job):
            self.calls.append((cells, cases, job))
            if isinstance(self.reply, Exception):
                raise self.reply
            return self.reply
    stub = Stub()
    monkeypatch.setattr(submission, "run_worker", stub)
    return stub


# --- small pieces -----------------------------------------------------------------------------------------

def test_a_source_without_solutions_is_a_value_error_naming_it(tmp_path):
    with pytest.raises(ValueError, match=f"^source must be the folder of solution notebooks, found none in "
                                         f"{tmp_path}$"):
        load_assignments(tmp_path)


def copy_solutions(folder, leave_out=()):
    for path in (ROOT / "solutions").glob("*.ipynb"):
        if path.stem not in leave_out:
            shutil.copy(path, folder / path.name)


def test_the_assignments_are_the_syllabus_exercises_with_their_checks_and_points(tmp_path):
    assert list(ASSIGNMENTS) == [planned.name for planned in syllabus.assignments()]
    for planned in syllabus.assignments():
        assert {c.name: c.points for c in ASSIGNMENTS[planned.name]} == planned.checks
    copy_solutions(tmp_path)
    nbformat.write(new_notebook(cells=[graded_cell("1", "extra_check", grade=True, points=1)]),
                   str(tmp_path / "99_extra.ipynb"))
    assert list(load_assignments(tmp_path)) == list(ASSIGNMENTS)   # a notebook outside the syllabus is not graded


def test_a_missing_solution_notebook_is_a_value_error_naming_it(tmp_path):
    copy_solutions(tmp_path, leave_out={SHIFT})
    message = (f"source must hold the solution notebook of every exercise of the syllabus: {SHIFT}.ipynb (for "
               f"'{SHIFT}') is missing from {tmp_path}")
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        load_assignments(tmp_path)


@pytest.mark.parametrize("change", ["points", "grade_id", "not graded", "an extra check", "a check twice"])
def test_graded_cells_that_disagree_with_the_syllabus_are_a_value_error_naming_the_notebook(tmp_path, change):
    copy_solutions(tmp_path)
    path = tmp_path / f"{SHIFT}.ipynb"
    nb = nbformat.read(str(path), as_version=4)
    [check_cell] = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    meta = check_cell.metadata.nbgrader
    if change == "points":
        meta["points"] = 5
    elif change == "grade_id":
        meta["grade_id"] = "shifted_check"
    elif change == "not graded":
        meta["grade"] = False
    else:
        nb.cells.append(graded_cell("1", "extra_check" if change == "an extra check" else "shift_check", grade=True,
                                    points=4))
    nbformat.write(nb, str(path))
    expected = re.escape(f"disagree with the syllabus's checks for '{SHIFT}' {{'shift_check': 1}} (grade_id: points)")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: its graded cells .* {expected}$"):
        load_assignments(tmp_path)


def test_identify_without_a_notebook_or_a_telling_name_is_none():
    assert identify("homework.ipynb", None, ASSIGNMENTS) is None
    assert identify(f"x/{SHIFT}-v2.ipynb", None, ASSIGNMENTS) == SHIFT
    # where the file name holds two assignments' names, the longest wins
    assert identify("09_train_step_09_train.ipynb", None, {"09_train": [], "09_train_step": []}) == "09_train_step"


def test_check_names_its_exercise():
    assert Check("shift_check", 4, "").name == "shift"
    assert Check("shift", 4, "").name == "shift"


def test_reasons_are_shortened_to_one_line():
    assert submission._short("a  b\n\n c") == "a b c"
    long = submission._short("word " * 100, limit=20)
    assert long == "word word word wo..." and len(long) == 20
    assert submission._first_line("\n  shift: 0/4 points -- well done\nmore") == "shift: 0/4 points"
    assert submission._first_line("   ") == ""


@pytest.mark.parametrize("code, expected", [
    (None, "the worker ended early (the submission's code exited)"),
    (0, "the worker ended early (the submission's code exited)"),
    (3, "the submission's code ended the worker (exit code 3)"),
    (-signal.SIGXCPU, "ran out of CPU time (an endless loop?)"),
    (128 + signal.SIGKILL, "the worker was killed (out of memory, or the submission killed it)"),
    (-signal.SIGTERM, "the worker was ended by SIGTERM"),
    (-100, "the worker was ended by signal 100"),
])
def test_why_a_worker_ended(code, expected):
    assert runner._ended(code) == expected


# --- hand-ins the syntax tree shows ------------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("def shift(w, s:\n", {}),                                                     # not Python: nothing to see
    ("import ntm_course.addressing.shift as mine", {"shift": "import ntm_course.addressing.shift"}),
    ("import ntm_course.teaching.lesson", {"*": "import ntm_course.teaching.lesson"}),
    ("import runpy", {"*": "import runpy"}),
    ("from importlib import import_module", {"*": "from importlib import ..."}),
    ("from ntm_course.teaching import lesson", {"*": "from ntm_course.teaching import lesson"}),
    ("from ntm_course.teaching.lesson import reveal", {"*": "from ntm_course.teaching.lesson import reveal"}),
    ("from ntm_course import addressing as a\nf = a.shift", {"shift": "a.shift"}),
    ("import ntm_course as n\nf = n.teaching.lesson", {"*": "n.teaching.lesson"}),
    ("import ntm_course as n\nf = getattr(n, 'shift')", {"*": "getattr(n, 'shift')"}),
    ("x = my_pieces()", {"*": "uses my_pieces"}),
    ("f = g.__globals__", {"*": "uses .__globals__"}),
    # the library's other pieces, and other libraries' shift, are the learner's to use
    ("from ntm_course import addressing as a\nf = a.sharpen", {}),
    ("from numpy import roll as shift", {}),
    ("import torch\nshift = torch.roll", {}),
])
def test_hand_ins_and_what_they_are_called(source, expected):
    assert handins(source, {"shift"}) == expected


def test_program_restores_locked_cells_and_turns_checks_into_check_points(tmp_path):
    nb = nbformat.read(str(shift_submission(tmp_path, "def shift(w, s):\n    return w\n")), as_version=4)
    nb.cells.append(new_code_cell("extra = 1"))
    cells, learner = submission.program(nb, ASSIGNMENTS[SHIFT], ASSIGNMENTS[SHIFT].locked)
    assert cells == [("code", ASSIGNMENTS[SHIFT].locked["imports"]), ("code", "def shift(w, s):\n    return w\n"),
                     ("check", "shift"), ("code", "extra = 1")]
    assert learner == [(1, "def shift(w, s):\n    return w\n"), (3, "extra = 1")]


# --- grade: the worker's verdict becomes points and reasons ------------------------------------------------

def test_a_right_answer_scores_full_marks_and_the_worker_runs_the_restored_program(tmp_path, stub_worker):
    answer = "def shift(w, s):\n    return w\n"
    stub_worker.reply = ({"shift": worker_verdict(own_shift)}, None)
    the_job = job()
    result = submission.grade(shift_submission(tmp_path, answer), ASSIGNMENTS, timeout=7, job=the_job, run=RUN)
    assert (result.assignment, result.scores, result.max_scores, result.reasons) == (
        SHIFT, {"shift_check": 1.0}, {"shift_check": 1.0}, [])
    assert result.reports["shift_check"].startswith("shift: 1/1 points -- well done!")
    [(cells, cases, used)] = stub_worker.calls
    assert cells == [("code", ASSIGNMENTS[SHIFT].locked["imports"]), ("code", answer), ("check", "shift")]
    assert set(cases) == {"shift"} and len(cases["shift"]["values"]) == len(EXERCISES["shift"].cases("values"))
    assert used is the_job and used.timeout == 7


def test_partial_credit_names_the_first_failing_group(tmp_path, stub_worker):
    def in_place(w, s):
        out = own_shift(w, s)
        with torch.no_grad():
            w.mul_(1.0 + 1e-3)    # right values and gradients, but the caller's w is changed
        return out
    stub_worker.reply = ({"shift": worker_verdict(in_place)}, None)
    result = submission.grade(shift_submission(tmp_path, "def shift(w, s): ..."), ASSIGNMENTS, job=job(), run=RUN)
    assert result.scores == {"shift_check": 0.75}
    assert result.reasons == ["shift_check: shift: 0.75/1 points (inputs untouched: your function changed its "
                              "input w in place)"]


def test_a_wrong_answer_scores_zero_with_the_values_problem(tmp_path, stub_worker):
    stub_worker.reply = ({"shift": worker_verdict(lambda w, s: w.clone())}, None)
    result = submission.grade(shift_submission(tmp_path, "def shift(w, s): ..."), ASSIGNMENTS, job=job(), run=RUN)
    assert result.scores == {"shift_check": 0.0}
    assert result.reasons[0].startswith("shift_check: shift: 0/1 points (values: result differs from the expected")
    assert len(result.reasons[0]) <= len("shift_check: ") + 200


@pytest.mark.parametrize("verdict, reason", [
    ({"status": "rejected", "detail": "a dict key that is not a string"},
     "the worker sent back something other than values (a dict key that is not a string)"),
    ({"status": "missing", "detail": "`shift` is not defined (code cell 2 raised NameError: x)"},
     "`shift` is not defined (code cell 2 raised NameError: x)"),
    ({"status": "missing"}, "no function to check"),
    ({"status": "ok", "outcomes": {"values": [{"got": None, "args": [], "notimpl": False, "error": [
        "RuntimeError", f"ntm_course.addressing.shift {STUB_MARK}"]}]}},
     "calls the library's own shift: 0 points, write it yourself"),
])
def test_what_the_worker_reports_instead_of_values_costs_the_points_with_a_reason(tmp_path, stub_worker,
                                                                                   verdict, reason):
    stub_worker.reply = ({"shift": verdict}, None)
    result = submission.grade(shift_submission(tmp_path, "def shift(w, s): ..."), ASSIGNMENTS, job=job(), run=RUN)
    assert (result.scores, result.reasons) == ({"shift_check": 0.0}, [f"shift_check: {reason}"])
    if verdict["status"] == "missing":      # the feedback page shows the 0-point report
        assert result.reports["shift_check"] == f"shift: 0/1 points -- {reason}"


@pytest.mark.parametrize("reply, reason", [
    (({}, "stopped at the time limit (an endless loop?)"), "stopped at the time limit (an endless loop?)"),
    (({}, None), "no result came back"),
    (OSError("cannot fork"), "the worker could not run (OSError: cannot fork)"),
])
def test_no_result_from_the_worker_costs_the_points_with_its_fate(tmp_path, stub_worker, reply, reason):
    stub_worker.reply = reply
    result = submission.grade(shift_submission(tmp_path, "def shift(w, s): ..."), ASSIGNMENTS, job=job(), run=RUN)
    assert (result.scores, result.reasons) == ({"shift_check": 0.0}, [f"shift_check: {reason}"])


@pytest.mark.parametrize("answer, reason", [
    ("from ntm_course.addressing import shift",
     "hands in the library's own shift (code cell 2: from ntm_course.addressing import shift): 0 points, "
     "write it yourself"),
    ("import importlib\ndef shift(w, s):\n    return w",
     "code cell 2: import importlib, which the grader does not accept in an answer: 0 points"),
])
def test_a_hand_in_scores_zero_without_running_a_worker(tmp_path, stub_worker, answer, reason):
    result = submission.grade(shift_submission(tmp_path, answer), ASSIGNMENTS, job=job(), run=RUN)
    assert (result.scores, result.reasons) == ({"shift_check": 0.0}, [f"shift_check: {reason}"])
    assert stub_worker.calls == []


def test_a_check_without_an_exercise_or_without_its_cell_scores_zero(tmp_path, stub_worker):
    assignments = {"99_mystery": Assignment([Check("mystery_check", 2, ""), Check("shift_check", 4, "")])}
    path = tmp_path / "99_mystery.ipynb"
    nbformat.write(new_notebook(cells=[graded_cell("1", "mystery_check", grade=True)]), str(path))
    result = submission.grade(path, assignments, job=job(), run=RUN)
    assert result.max_points == 6 and result.points == 0
    assert result.reasons == ["mystery_check: no exercise for this check", "shift_check: the check cell was deleted"]
    assert stub_worker.calls == []


def test_an_unreadable_submission_of_a_known_assignment_scores_zero(tmp_path, stub_worker):
    path = tmp_path / f"{SHIFT}.ipynb"
    path.write_text("{not json")
    result = submission.grade(path, ASSIGNMENTS, job=job(), run=RUN)
    assert (result.assignment, result.scores, result.max_points) == (SHIFT, {"shift_check": 0.0}, 1.0)
    assert len(result.reasons) == 1 and result.reasons[0].startswith("not a readable notebook (NotJSONError")
    assert stub_worker.calls == []


# --- run_worker and _watch: a stand-in worker written in sh ------------------------------------------------

def fake_worker(script):
    """A sandbox whose 'prefix' runs ``script`` in bash instead of the worker (the fallback's command line,
    ``prefix + [python, -I, -c, BOOT, kit, job file, fd, job folder]``): ``$6`` is the job file, ``$7`` the channel's
    file descriptor, ``$8`` the job folder."""
    return isolation.Sandbox(prefix=["bash", "-c", script, "fake-worker"])


def frames_file(folder, name, *frames):
    path = Path(folder) / name
    path.write_bytes(b"".join(frames))
    return path


def said(text):
    return transport.frame(b"p", text.encode())


def sent(name, value):
    return transport.frame(b"r", transport.result_message(name, value))


def test_run_worker_hands_over_the_job_and_keeps_the_first_result_of_each_check(tmp_path):
    first = {"status": "ok", "outcomes": {"values": [transport.pack_outcome(worker_outcome())]}}
    stream = frames_file(tmp_path, "stream", said("started"), said("cell 0"), sent("shift", first),
                         sent("shift", {"status": "ok", "outcomes": {}}),        # a later cell's try: ignored
                         sent("nobody", {"status": "ok"}),                        # no such check: ignored
                         transport.frame(b"r", b"\0" * 8 + b"{no json"), said("done"))
    script = (f'cp "$6" {tmp_path}/job.pkl; echo "$8" > {tmp_path}/jobdir; cat {stream} >&$7')
    cells = [("code", "x = 1"), ("check", "shift"), ("check", "read")]
    the_job = job(fake_worker(script))
    the_job.specs = {"shift": {"practice": True}}
    results, fate = runner.run_worker(cells, {"shift": {"values": []}}, the_job)
    assert fate is None
    assert set(results) == {"shift", "read"}
    assert torch.equal(results["shift"]["outcomes"]["values"][0]["got"], torch.ones(2))
    assert results["read"] == {"status": "rejected", "detail": "not a valid result (JSONDecodeError)"}
    with open(tmp_path / "job.pkl", "rb") as f:
        assert pickle.load(f) == {"cells": cells, "cases": {"shift": {"values": []}}, "uid": None,
                                  "specs": {"shift": {"practice": True}}, "hide": []}
    assert not Path((tmp_path / "jobdir").read_text().strip()).exists()         # the job folder is removed


def worker_outcome():
    from ntm_course.teaching.practice.checker import Outcome
    return Outcome(got=torch.ones(2), args=(torch.zeros(2),))


@pytest.mark.parametrize("script, fate", [
    ("exit 3", "the submission's code ended the worker (exit code 3)"),
    ("exit 0", "the worker ended early (the submission's code exited)"),
    ("sleep 3 & exit 0", "the worker ended early (the submission's code exited)"),   # a child holds the pipe
    ("printf 'NTMGp\\0\\0\\0\\0\\0\\0\\0\\4done' >&$7; kill -KILL $$",
     "the worker was killed (out of memory, or the submission killed it)"),
    ("printf 'PK\\3\\4 a zip file, not frames' >&$7; sleep 30",
     "the worker sent something other than results: the worker's channel carried something other than frames"),
])
def test_run_worker_says_why_a_worker_stopped_early(script, fate):
    assert runner.run_worker([("check", "shift")], {}, job(fake_worker(script))) == ({}, fate)


@pytest.fixture
def pipe_process():
    """Start ``sh -c script`` with the write end of a pipe as fd 3, in its own session; killed afterwards."""
    started = []

    def start(script):
        read_end, write_end = os.pipe()
        proc = subprocess.Popen(["bash", "-c", script], pass_fds=(write_end,), start_new_session=True,
                                env={"PATH": os.environ["PATH"], "FD": str(write_end)})
        os.close(write_end)
        started.append(proc)
        return proc, read_end
    yield start
    for proc in started:           # the shell and whatever it left running (its session)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def printf(*frames):
    """A bash ``printf`` command writing ``frames`` (bytes) to ``$FD``."""
    text = "".join(f"\\{b:o}" for frame in frames for b in frame)
    return f"printf '{text}' >&$FD"


def test_watch_a_worker_that_finishes(pipe_process):
    proc, fd = pipe_process(printf(said("started"), said("cell 0"), said("done")))
    assert runner._watch(proc, fd, job(timeout=5), set()) == ({}, None)


def test_watch_a_worker_that_exits_while_a_child_keeps_the_pipe_open(pipe_process):
    proc, fd = pipe_process("sleep 30 & exit 3")       # the child holds the pipe: no end of file
    assert runner._watch(proc, fd, job(timeout=5), set()) == (
        {}, "the submission's code ended the worker (exit code 3)")


def test_the_time_limit_is_one_wall_clock_from_the_start_that_the_submission_cannot_move(pipe_process):
    """The clock starts at the worker's first "started" (sent before any submitted code runs); progress lines,
    another "started" or "done" sent by the submission later move nothing."""
    fakes = " ; ".join([printf(said("started")), *[f"sleep 0.1; {printf(said('started'), said('cell 5'))}"] * 8,
                        "sleep 30"])
    proc, fd = pipe_process(fakes)
    began = time.monotonic()
    results, fate = runner._watch(proc, fd, job(timeout=0.5), set())
    assert time.monotonic() - began < 3
    assert fate == "stopped at the time limit (0.5 s for the whole submission, in code cell 5; an endless loop?)"


def test_a_stopped_run_interrupts_the_watch_at_once(pipe_process):
    proc, fd = pipe_process(printf(said("started")) + "; sleep 30")
    the_job = job(timeout=60)
    the_job.stop.set()
    with pytest.raises(runner.Interrupted):
        runner._watch(proc, fd, the_job, set())


# --- the gradebook file -------------------------------------------------------------------------------------

def rows_of(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_a_new_gradebook_has_its_header_and_grows_row_by_row(tmp_path):
    path = tmp_path / "book.csv"
    book = gb.Gradebook(path, ["shift_check"])
    assert rows_of(path) == [["submission", "assignment", "kind", "points_by_grader", "max_points", "shift_check",
                              "reasons"]]
    book.add(submission.Grade("a.ipynb", SHIFT, {"shift_check": 2.5}, {"shift_check": 4.0}, ["shift_check: why"]))
    assert rows_of(path)[1:] == [["a.ipynb", SHIFT, "practice", "2.5", "4", "2.5", "shift_check: why"]]
    assert not (tmp_path / "book.csv.part").exists()


def test_an_existing_gradebook_keeps_its_rows_and_columns_except_those_to_regrade(tmp_path):
    path = tmp_path / "book.csv"
    path.write_text("submission,assignment,kind,points_by_grader,max_points,read_check,reasons\n"
                    f"a.ipynb,{READ},practice,4,4,4,\nb.ipynb,{READ},practice,0,4,0,read_check: wrong\n,,,,,,\n")
    book = gb.Gradebook(path, ["shift_check", "read_check"], regrade={"b.ipynb"})
    assert book.columns == ["read_check", "shift_check"]
    assert list(book.rows) == ["a.ipynb"]                       # b is to be graded again; the empty row is dropped
    assert rows_of(path) == [["submission", "assignment", "kind", "points_by_grader", "max_points", "read_check",
                              "shift_check", "reasons"], ["a.ipynb", READ, "practice", "4", "4", "4", "", ""]]
    book.add(submission.Grade("c.ipynb", SHIFT, {"shift_check": 4.0}, {"shift_check": 4.0}))
    book.rewrite(["c.ipynb", "missing.ipynb", "a.ipynb"])
    assert [r[0] for r in rows_of(path)[1:]] == ["c.ipynb", "a.ipynb"]
    assert rows_of(path)[1] == ["c.ipynb", SHIFT, "practice", "4", "4", "", "4", ""]


@pytest.mark.parametrize("text", ["not,a,gradebook\n1,2,3\n", ""])
def test_a_file_that_is_not_a_gradebook_is_replaced(tmp_path, text):
    path = tmp_path / "book.csv"
    path.write_text(text)
    book = gb.Gradebook(path, ["shift_check"])
    assert book.rows == {} and rows_of(path) == [gb.header(["shift_check"])]


def test_keep_false_starts_afresh(tmp_path):
    path = tmp_path / "book.csv"
    path.write_text(f"submission,assignment,points_by_grader,max_points,read_check,reasons\na.ipynb,{READ},4,4,4,\n")
    assert gb.Gradebook(path, ["shift_check"], keep=False).rows == {}
    assert rows_of(path) == [gb.header(["shift_check"])]


def test_columns_of_follow_the_assignments_order_once_each():
    assert gb.columns_of(ASSIGNMENTS, [READ, SHIFT, READ, "unknown"]) == ["read_check", "shift_check"]


# --- feedback pages ---------------------------------------------------------------------------------------

def test_feedback_page_shows_each_check_its_reason_and_the_general_reasons_escaped():
    grade = submission.Grade("class/alice_05.ipynb", SHIFT, {"a_check": 4.0, "b_check": 1.0},
                     {"a_check": 4.0, "b_check": 4.0}, ["b_check: <b> differs", "worker note & more"],
                     {"a_check": "a: 4/4 points", "b_check": "b: 1/4 <report>"})
    page = feedback.feedback_page(grade)
    assert "<title>Feedback: alice_05.ipynb</title>" in page
    assert f"Assignment <b>{SHIFT}</b>: <b>5 / 8</b> points." in page
    assert '<td>a_check</td><td class="full">4 / 4</td><td>full marks</td>' in page
    assert '<td>b_check</td><td class="lost">1 / 4</td><td>&lt;b&gt; differs</td>' in page
    assert "<ul><li>worker note &amp; more</li></ul>" in page
    assert "<h2>b_check</h2>\n<pre>b: 1/4 &lt;report&gt;</pre>" in page


def test_feedback_page_without_a_reason_says_points_lost_and_has_no_list():
    page = feedback.feedback_page(submission.Grade("x.ipynb", None, {"a_check": 0.0}, {"a_check": 4.0}))
    assert '<td class="lost">0 / 4</td><td>points lost</td>' in page and "<ul>" not in page
    assert "Assignment <b>?</b>" in page and "<h2>" not in page


def test_feedback_pages_of_submissions_with_one_name_do_not_overwrite_each_other(tmp_path):
    used = set()
    folder = Folder(tmp_path / "feedback", create=True)
    paths = [feedback.write_feedback(submission.Grade(f"{d}/hw.ipynb", SHIFT, {}, {}), folder, used)
             for d in ("a", "b", "c")]
    assert [p.name for p in paths] == ["hw.html", "hw-2.html", "hw-3.html"]
    assert all(p.read_text(encoding="utf-8").startswith("<!DOCTYPE html>") for p in paths)
    assert used == {"hw.html", "hw-2.html", "hw-3.html"}


# --- what a worker must not see -----------------------------------------------------------------------------

def test_hidden_paths_are_whole_folders_except_those_the_worker_needs():
    away = Path("/ntm-course-grading-test")            # a folder that holds nothing the worker needs (need not exist)
    args = argparse.Namespace(source=str(away / "solutions"), csv=str(away / "book" / "g.csv"),
                              feedback=str(away / "pages"))
    temp = Path(tempfile.gettempdir()).resolve()
    library = Path(ntm_course.__file__).resolve().parents[1]     # the checkout, or site-packages
    submissions = [away / "class" / "a.ipynb", away / "class" / "b.ipynb", library / "c.ipynb", temp / "d.ipynb"]
    assert gb._hidden_paths(args, submissions) == [
        str(away / "solutions"), str(away / "class"),   # each folder once
        str(library / "c.ipynb"),                       # the folder that holds the library: only the file
        str(temp / "d.ipynb"),                          # the temp folder holds the job: only the file
        str(away / "book"), str(away / "pages")]


def test_hidden_paths_never_hide_a_folder_above_the_python_installation():
    args = argparse.Namespace(source=str(ROOT / "solutions"), csv=str(ROOT / "g.csv"), feedback=None)
    above = Path(sys.prefix).resolve().parent                 # the checkout (the .venv's folder) or above
    hide = gb._hidden_paths(args, [above / "e.ipynb"])
    assert str(above / "e.ipynb") in hide and str(above) not in hide
    assert str(ROOT / "solutions") in hide


# --- the command ------------------------------------------------------------------------------------------------

def test_run_with_a_folder_without_solutions_is_exit_code_2(tmp_path, capsys):
    args = argparse.Namespace(source=str(tmp_path))
    assert gb.run(args) == 2
    assert capsys.readouterr().err == f"error: source must be the folder of solution notebooks, found none " \
                                      f"in {tmp_path}\n"


def test_the_grade_command_grades_each_submission_once_into_a_stable_gradebook(tmp_path, monkeypatch, capsys):
    seen = []

    def fake_grade(path, assignments, timeout, job, run):
        seen.append((path, timeout, job))
        name = identify(path, None, assignments)
        scores = {c.grade_id: 4.0 for c in assignments.get(name, [])}
        return submission.Grade(str(path), name, scores, dict(scores))
    monkeypatch.setattr(gb, "grade", fake_grade)
    unnamed = tmp_path / "homework.ipynb"
    unnamed.write_text("{not json")                       # neither its name nor its cells tell its assignment
    subs = [str(tmp_path / f"a_{READ}.ipynb"), str(tmp_path / f"b_{SHIFT}.ipynb"), str(unnamed)]
    book = str(tmp_path / "book.csv")
    options = ["--csv", book, "--no-isolation", "--timeout", "9", "--memory", "512", "--cpu", "30"]
    assert cli.main(["grade", *subs, subs[0], *options, "-j", "2", "--feedback", str(tmp_path / "pages")]) == 0
    out, err = capsys.readouterr()
    assert err == "warning: isolation is off (--no-isolation): submissions run with your permissions and network\n"
    assert sorted(path for path, _, _ in seen) == sorted(subs)                    # the repeated one: once
    for _, timeout, used in seen:
        assert timeout == 9 and used.timeout == 9 and used.slot in (0, 1) and used.sandbox.prefix == []
        assert (used.limits.cpu_s, used.limits.memory_mb) == (30, 512)
        assert str(tmp_path) in used.hide
    rows = rows_of(book)
    assert rows[0] == gb.header(["read_check", "shift_check"])                    # the unnamed one adds no column
    assert [r[0] for r in rows[1:]] == subs                                       # in the order given
    assert sorted(p.name for p in (tmp_path / "pages").iterdir()) == sorted(f"{Path(s).stem}.html" for s in subs)
    assert out.splitlines()[-1].startswith(f"gradebook written to {book} (the grader's verdict: scores computed "
                                           "outside the submissions; cases drawn with --seed ")
    # a rerun skips them all and keeps the rows; --regrade grades the named ones again, listed last
    assert cli.main(["grade", *subs, *options]) == 0
    assert "3 submission(s) already in" in capsys.readouterr().out and len(seen) == 3
    assert rows_of(book) == rows
    assert cli.main(["grade", subs[0], *options, "--regrade"]) == 0
    assert len(seen) == 4 and seen[-1][0] == subs[0]
    assert rows_of(book) == [rows[0], rows[2], rows[3], rows[1]]


def test_an_install_without_solutions_is_a_one_line_error(tmp_path, monkeypatch, capsys):
    """No --source, and neither the wheel's solutions nor a checkout's beside the package: exit 2, no traceback."""
    from ntm_course_instructor import solutions
    monkeypatch.setattr(solutions, "PACKAGE", tmp_path / "ntm_course_instructor")
    monkeypatch.setattr(solutions.solutions_dir, "__defaults__", (tmp_path / "ntm_course_instructor",))
    assert cli.main(["grade", str(tmp_path / "x.ipynb"), "--csv", str(tmp_path / "book.csv")]) == 2
    assert capsys.readouterr().err.startswith("error: this install of ntm_course_instructor")
