"""``EXERCISES``: the learner's checks by name: the lessons' stubs and the practice exercises, each checked against
the library's own function; the syllabus says which module holds each stage's and each exercise's checks."""
from ... import syllabus


EXERCISES = syllabus.load_checks(
    [(stage.checks, stage.stubs) for stage in syllabus.STAGES if stage.stubs]
    + [(a.module, a.checks) for a in syllabus.assignments(syllabus.PRACTICE) if a.module])
