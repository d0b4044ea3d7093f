"""``EXERCISES``: every check the grader knows, by name: the lessons' stubs (practice, checked against the
learner's library) and the graded exercises, whose checks and references live only here, one module per exercise
(the module its syllabus row names). ``GRADED`` is what the learner's ``check`` finds through the
``ntm_course.graded_checks`` entry point when this package is installed (nbgrader's autograde)."""
from ntm_course import syllabus
from ntm_course.teaching.practice import EXERCISES as PRACTICE


GRADED = syllabus.load_checks((a.module, a.checks) for a in syllabus.hidden_assignments())
EXERCISES = {**PRACTICE, **GRADED}
