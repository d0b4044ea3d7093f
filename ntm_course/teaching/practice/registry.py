"""``EXERCISES``: the checks of the lessons' stubs by name, each graded against the library's own function; the
syllabus says which module holds each stage's checks."""
from ... import syllabus


EXERCISES = syllabus.load_checks((stage.checks, stage.stubs) for stage in syllabus.STAGES if stage.stubs)
