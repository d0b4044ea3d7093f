"""Grading one submission: its code runs in a worker, its values are scored here.

:func:`grade` restores the course's locked cells and check cells in the submission (:func:`program`), scans the
learner's cells for the library's own version of a graded function (:func:`.handins.handins`: 0 points, no run),
runs the rest in an isolated worker (:func:`.runner.run_worker`, with the assignment's kit, :mod:`.kit`) on the
cases of this grading run (:class:`.session.GradingRun`: drawn from its own seed), and scores the values that come
back against the reference in this process, with the same scoring as ``check`` (:func:`.checker.score_outcomes`).
Whatever goes wrong costs the points of the checks it stopped, with a reason (reasons and reports cut to
``MAX_REASON`` and ``MAX_REPORT`` characters).
"""
from dataclasses import dataclass, field

from ntm_course.extras import needs


with needs("grading", __name__):
    import nbformat

from . import isolation
from .assignments import identify, nbgrader_meta
from .handins import handins
from .registry import EXERCISES
from .kit import STUB_MARK
from .runner import Interrupted, Job, run_worker
from .session import GradingRun
from .transport import outcomes_from


@dataclass
class Grade:
    """The grade of one submission: points per check (grade_id -> points) and the reasons for lost points."""
    submission: str
    assignment: str = None
    scores: dict = field(default_factory=dict)
    max_scores: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)
    reports: dict = field(default_factory=dict)    # grade_id -> the check's report (for the feedback page)

    @property
    def points(self):
        return sum(self.scores.values())

    @property
    def max_points(self):
        return sum(self.max_scores.values())


def points_text(x):
    """Points as the gradebook and the feedback write them: ``4``, ``1.5``."""
    return f"{x:g}"


def _first_line(text):
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.split(" -- ")[0]


MAX_REASON = 300
MAX_REPORT = 20_000
"""The most characters of a reason (the gradebook's cell) and of one check's report (the feedback page)."""


def _short(text, limit=160):
    text = " ".join(str(text)[:4 * limit].split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _cut(text, limit):
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit:,} more characters cut)"


def program(nb, checks, locked):
    """The code the worker runs, ``[("code", source) or ("check", name)]``, and the learner's cells
    ``[(index, source)]``: locked cells get back the course's source; check cells become check points."""
    ids = {c.grade_id: c for c in checks}
    cells, learner = [], []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in ids:
            cells.append(("check", ids[gid].name))
        elif gid in locked:
            cells.append(("code", locked[gid]))
        else:
            learner.append((len(cells), cell.source))
            cells.append(("code", cell.source))
    return cells, learner


def grade(path, assignments, timeout=120, job=None, run=None):
    """Grade one submission: run its code in an isolated worker, score the values that come back here.
    ``run``: the grading run (:class:`.session.GradingRun`: its cases, kits and uids; default: one of its own).
    Never raises for a bad submission; raises :class:`.runner.Interrupted` when the run is stopped."""
    if run is None:
        with GradingRun(job.sandbox if job else isolation.probe()) as own:
            return grade(path, assignments, timeout, job, own)
    job = job or Job(run.sandbox, isolation.Limits(), timeout)
    job.timeout, job.stop, job.uid_base = timeout, run.stop, run.uid_base
    result = Grade(str(path))
    nb = _read(path, result)
    result.assignment = identify(path, nb, assignments)
    if result.assignment is None:
        result.reasons.append("unknown assignment: name the file after its exercise, e.g. 05_shift.ipynb")
        return result
    checks = assignments[result.assignment]
    result.scores = {c.grade_id: 0.0 for c in checks}
    result.max_scores = {c.grade_id: float(c.points) for c in checks}
    if nb is None:
        return result
    cells, learner = program(nb, checks, checks.locked)
    present = {name for kind, name in cells if kind == "check"}
    why = _handed_in(learner, {c.name for c in checks})
    graded = [c for c in checks if c.name in present and c.name in EXERCISES and c.name not in why
              and "*" not in why]
    results, fate = _run(cells, graded, job, run, result.assignment, checks)
    for check in checks:
        points, reason, report = _verdict(check, present, why, results, fate, run)
        result.scores[check.grade_id] = points
        result.reports[check.grade_id] = _cut(report or reason or "", MAX_REPORT)
        if reason:
            result.reasons.append(_short(f"{check.grade_id}: {reason}", MAX_REASON))
    return result


def _read(path, result):
    """The submission's notebook, or None with the reason in ``result``."""
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        return nb
    except Exception as error:
        result.reasons.append(_short(f"not a readable notebook ({type(error).__name__}: {error})"))
        return None


def _handed_in(learner, names):
    """``{name or "*": why}``: the graded functions the learner's cells take from the library (:func:`handins`)."""
    why = {}
    for index, source in learner:
        for name, reason in handins(source, names).items():
            why.setdefault(name, f"code cell {index + 1}: {reason}")
    return why


def _run(cells, graded, job, run, assignment, checks):
    """Run the worker on the code cells and the ``graded`` checks' cells; ``(results, fate)`` as
    :func:`.runner.run_worker` gives them, or the reason no worker could run."""
    if not graded:
        return {}, None
    wanted = {c.name for c in graded}
    run_cells = [cell for cell in cells if cell[0] == "code" or cell[1] in wanted]
    try:
        job.kit, specs = run.kit(assignment, checks)
        job.specs = {name: specs[name] for name in wanted}
        return run_worker(run_cells, run.cases(sorted(wanted)), job)
    except Interrupted:
        raise
    except Exception as error:   # the grader could not start a worker: say so, grade the rest
        return {}, _short(f"the worker could not run ({type(error).__name__}: {error})")


def _verdict(check, present, why, results, fate, run):
    """``(points, reason, report)`` for one check of a submission."""
    name = check.name
    if name not in present:
        return 0.0, "the check cell was deleted", ""
    if name in why:
        return 0.0, f"hands in the library's own {name} ({why[name]}): 0 points, write it yourself", ""
    if "*" in why:
        return 0.0, f"{why['*']}, which the grader does not accept in an answer: 0 points", ""
    if name not in EXERCISES:
        return 0.0, "no exercise for this check", ""
    if name not in results:
        return 0.0, fate or "no result came back", ""
    return _score(check, results[name], run.exercise(name))


def _score(check, data, exercise):
    """``(points, reason, report)`` for one check from the worker's result, scored against ``exercise`` (the
    check with this run's cases)."""
    from ntm_course.teaching.practice.checker import not_callable, score_outcomes
    status = data.get("status")
    if status == "rejected":
        return 0.0, f"the worker sent back something other than values ({data.get('detail')})", ""
    if status != "ok":
        detail = str(data.get("detail") or "no function to check")
        return 0.0, _short(detail), not_callable(exercise, detail, worth=check.points).report
    outcomes = outcomes_from(data)
    if any(STUB_MARK in str(getattr(o, "error", "") or "") for group in outcomes.values() for o in group):
        return 0.0, f"calls the library's own {check.name}: 0 points, write it yourself", ""
    result = score_outcomes(exercise, outcomes, worth=check.points)
    points = float(check.points) * result.points / result.max_points   # not result.grade: that is rounded
    if result.points == result.max_points:
        return points, "", result.report
    reason = _first_line(result.report)
    for group in exercise.groups:
        failure = result.failures.get(group)
        if failure is not None:
            reason += f" ({group}: {failure.problem})"
            break
    return points, _short(reason, 200), result.report
