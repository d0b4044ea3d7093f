"""Grading: every exercise's check, the graded exercises' reference answers, and the gradebook.

``check(name, fn)`` is the learner's ``check`` with every reference in hand (the graded exercises' too);
``reference(name)`` returns the answer a check compares with. ``ntm-course-instructor grade`` does not trust a
notebook's own check: it runs the learner's code in an isolated worker process, gets back only the values and
gradients it computes, and scores them against the reference in its own process (:mod:`.gradebook`).
"""
from ntm_course import syllabus
from ntm_course.teaching.practice.checker import CheckResult, run_check

from .registry import EXERCISES, GRADED


def check(name, fn, verbose=True):
    """Check ``fn`` for the exercise ``name`` against its reference; see :func:`ntm_course.teaching.practice.check`."""
    return run_check(_exercise(name), fn, verbose, syllabus.points_of(name))


def reference(name):
    """The reference answer for the exercise ``name``."""
    return _exercise(name).reference


def _exercise(name):
    if name not in EXERCISES:
        raise ValueError(f"name must be one of {sorted(EXERCISES)}, got {name!r}")
    return EXERCISES[name]


__all__ = ["check", "reference", "CheckResult", "EXERCISES", "GRADED"]
