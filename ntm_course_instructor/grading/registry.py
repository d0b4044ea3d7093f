"""``EXERCISES``: every check the grader knows, by name: the lessons' stubs (practice, checked against the
learner's library) and the graded exercises, whose references live only here (:mod:`.understanding`,
:mod:`.train_step`). ``GRADED`` is what the learner's ``check`` finds through the ``ntm_course.graded_checks``
entry point when this package is installed (nbgrader's autograde)."""
from ntm_course import syllabus
from ntm_course.teaching.practice import EXERCISES as PRACTICE

from .train_step import TRAIN_STEP
from .understanding import UNDERSTANDING


GRADED = {ex.name: ex for ex in UNDERSTANDING + (TRAIN_STEP,)}
EXERCISES = {**PRACTICE, **GRADED}

if sorted(GRADED) != sorted(syllabus.graded_checks()):   # the syllabus and the checks must name the same exercises
    raise RuntimeError(f"the syllabus's graded checks {sorted(syllabus.graded_checks())} differ from the "
                       f"instructor's {sorted(GRADED)}")
