"""Instant feedback on the learner's functions: ``check(name, fn)``.

In a lesson or an exercise notebook, the cell after the learner's function runs::

    from ntm_course.teaching.practice import check
    check("shift", shift).points

``check`` prints a short report and returns a :class:`CheckResult`. For the lessons' own stubs (the *practice*
exercises of :mod:`ntm_course.syllabus`) it compares ``fn`` with the library's version and explains the
difference with a hint. A *graded* exercise asks for something no lesson shows, and this package holds no
answer to it: where the instructor's tools (``ntm-course-instructor``) are installed, as when nbgrader
autogrades, ``check`` runs their check; elsewhere it says the answer is handed in, and the notebook goes on with
the learner's function (``result.ready``). The cell's value (the points) is what nbgrader reads; the
instructor's gradebook recomputes every score outside the submission.
"""
from importlib.metadata import entry_points

from ... import syllabus
from .checker import CheckResult, run_check
from .registry import EXERCISES
from .values import wrap


GRADED_CHECKS = "ntm_course.graded_checks"
"""The entry-point group through which the instructor's package offers the checks of the graded exercises."""


def _instructors_check(name):
    """The instructor's check of the graded exercise ``name``, where their package is installed; else None."""
    for entry in entry_points(group=GRADED_CHECKS):
        found = entry.load().get(name)
        if found is not None:
            return found
    return None


def check(name, fn, verbose=True):
    """Check the learner's function ``fn`` for the exercise ``name``.

    Runs ``fn`` on random and tricky inputs (zero vectors, several shift widths, batch sizes above 1,
    float32 and float64), checks that gradients flow and that the inputs are left untouched, and prints
    a report: the first failing case of each group, its input, expected against got, and a hint.
    Never raises because of ``fn``; an unimplemented ``fn`` scores 0.

    Returns:
        :class:`CheckResult` with ``passed``, ``points``, ``max_points``, ``pending``, ``ready`` and ``grade``
        (the points on the scale of the exercise's check cell, from :mod:`ntm_course.syllabus`).
    """
    if name in EXERCISES:
        return run_check(EXERCISES[name], fn, verbose, syllabus.points_of(name))
    if name not in syllabus.graded_checks():
        raise ValueError(f"name must be one of {sorted(EXERCISES) + syllabus.graded_checks()}, got {name!r}")
    exercise = _instructors_check(name)
    if exercise is not None:
        return run_check(exercise, fn, verbose, syllabus.points_of(name))
    return _handed_in(name, fn, verbose)


def _handed_in(name, fn, verbose):
    """A graded exercise checked where no reference is installed: only whether there is an answer."""
    points = syllabus.points_of(name)
    if not callable(fn):
        report = f"{name}: 0/{points} points -- expected a function, got {type(fn).__name__}"
        result = CheckResult(name, 0, points, report=report, worth=points)
    else:
        report = (f"{name}: handed in. This exercise is graded by your instructor's grader, which holds its "
                  f"answer; nothing on this machine does. The next cells run your {name}.")
        result = CheckResult(name, 0, points, report=report, pending=True, worth=points)
    if verbose:
        print(wrap(result.report))
    return result


def reference(name):
    """The library's version of the lesson stub ``name`` (to carry on with while your own is unfinished).

    A graded exercise has no reference here: ValueError saying so.
    """
    if name in syllabus.graded_checks():
        raise ValueError(f"{name} is a graded exercise: its answer is with your instructor, not in the course's "
                         f"library, so there is no reference to show or to use")
    if name not in EXERCISES:
        raise ValueError(f"name must be one of {sorted(EXERCISES)}, got {name!r}")
    return EXERCISES[name].reference


__all__ = ["check", "reference", "CheckResult", "EXERCISES", "GRADED_CHECKS"]
