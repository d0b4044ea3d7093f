"""Grading: instant feedback for learners, and a gradebook for instructors.

In an exercise notebook, the cell after the learner's function runs::

    from ntm_course.teaching.grading import check
    check("shift", shift).points

``check`` prints a short report and returns a :class:`CheckResult`: the learner's instant feedback. The
cell's value (the points) is what nbgrader's autograder reads. ``ntm-course grade`` does not trust it: it runs
the learner's code in an isolated worker process, gets back only the values and gradients it computes, and
scores them against the reference in its own process (:mod:`.gradebook`). ``reference(name)`` returns the
answer a check compares with.
"""
from .checker import CheckResult, run_check
from .registry import EXERCISES


def check(name, fn, verbose=True):
    """Check the learner's function ``fn`` for the exercise ``name`` against the reference.

    Runs ``fn`` on random and tricky inputs (zero vectors, several shift widths, batch sizes above 1,
    float32 and float64), checks that gradients flow and that the inputs are left untouched, and prints
    a report: the first failing case of each group, its input, expected against got, and a hint.
    Never raises because of ``fn``; an unimplemented ``fn`` scores 0.

    Returns:
        :class:`CheckResult` with ``passed``, ``points`` and ``max_points``.
    """
    if name not in EXERCISES:
        raise ValueError(f"name must be one of {sorted(EXERCISES)}, got {name!r}")
    return run_check(EXERCISES[name], fn, verbose)


def reference(name):
    """The reference answer for the exercise ``name`` (to carry on with while your own is unfinished)."""
    if name not in EXERCISES:
        raise ValueError(f"name must be one of {sorted(EXERCISES)}, got {name!r}")
    return EXERCISES[name].reference


__all__ = ["check", "reference", "CheckResult", "EXERCISES"]
