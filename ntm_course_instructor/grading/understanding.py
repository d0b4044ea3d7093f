"""Where the graded exercises' checks used to find :class:`Understanding`; it now lives with the other kinds of check
in :mod:`ntm_course.teaching.practice.exercises.cases` (a practice exercise uses it too)."""
from ntm_course.teaching.practice.exercises.cases import Understanding

__all__ = ["Understanding"]
