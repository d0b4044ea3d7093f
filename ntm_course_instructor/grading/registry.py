"""``EXERCISES``: every check the grader knows, by name: the lessons' stubs (practice, checked against the
learner's library) and the graded exercises, whose references live only here, one module per exercise beside its
check (:mod:`.blog_shift`, :mod:`.debug_nans`, :mod:`.reverse_copy`, :mod:`.ntm_step`, :mod:`.train_step`).
``GRADED`` is what the learner's ``check`` finds through the ``ntm_course.graded_checks`` entry point when this
package is installed (nbgrader's autograde)."""
from ntm_course import syllabus
from ntm_course.teaching.practice import EXERCISES as PRACTICE

from .blog_shift import BLOG_ANSWERS, BLOG_SHIFT
from .debug_nans import STABLE_COSINE, STABLE_SHARPEN
from .ntm_step import NTM_STEP
from .reverse_copy import REVERSE_COPY
from .train_step import TRAIN_STEP


GRADED = {ex.name: ex for ex in (BLOG_SHIFT, BLOG_ANSWERS, STABLE_COSINE, STABLE_SHARPEN, REVERSE_COPY, NTM_STEP,
                                 TRAIN_STEP)}
EXERCISES = {**PRACTICE, **GRADED}

if sorted(GRADED) != sorted(syllabus.graded_checks()):   # the syllabus and the checks must name the same exercises
    raise RuntimeError(f"the syllabus's graded checks {sorted(syllabus.graded_checks())} differ from the "
                       f"instructor's {sorted(GRADED)}")
