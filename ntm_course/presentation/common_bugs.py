"""The course's common-bugs page, written from the checker's own catalogue of mistakes.

Every stub's check (:data:`ntm_course.teaching.practice.registry.EXERCISES`) knows the wrong implementations
learners write most often and the hint it shows for each (``Exercise.mistakes``), the hint of each edge case it
runs, and the hints every check shares (:mod:`ntm_course.teaching.practice.runner`). :func:`common_bugs_markdown`
puts them on one page, lesson by lesson, so the page says exactly what the checks say; ``docs/common-bugs.md`` is
its output, and a test fails when the two differ. To rewrite the page after changing a check::

    python -m ntm_course.presentation.common_bugs > docs/common-bugs.md

Text only: this module needs neither matplotlib nor ipywidgets.
"""
from .. import syllabus
from ..teaching.practice.registry import EXERCISES
from ..teaching.practice.runner import GENERIC_HINTS, IN_PLACE_HINT


COMMAND = "python -m ntm_course.presentation.common_bugs > docs/common-bugs.md"


def checks_by_lesson():
    """``[(stage, [(exercise, where), ...]), ...]`` in the syllabus's order: each lesson's stubs' checks (``where``
    is ``""``), then the checks of its practice exercises that have checks of their own (``where`` names the
    exercise, e.g. ``"06_debug_nans"``)."""
    found = []
    for stage in syllabus.STAGES:
        names = {name: "" for name in stage.stubs}
        for assignment in stage.assignments:
            if assignment.kind == syllabus.PRACTICE and assignment.module:
                names.update({name: assignment.name for name in assignment.checks if name not in names})
        checks = [(EXERCISES[name], where) for name, where in names.items() if name in EXERCISES]
        if checks:
            found.append((stage, checks))
    return found


def _unique(texts):
    """``texts`` without blanks and repeats, in their first order."""
    return list(dict.fromkeys(text for text in texts if text))


def _sentence(text):
    """``text`` with a capital first letter and a final full stop, for a list item."""
    text = text.strip()
    return text[:1].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def exercise_section(exercise, where=""):
    """The Markdown of one check: what it wants, the mistakes it recognises, and its edge cases' hints; ``where``
    names the exercise notebook that holds it when it is not the lesson's own stub."""
    lines = [f"### `{exercise.name}`" + (f" (exercise `exercises/{where}.ipynb`)" if where else ""), ""]
    if exercise.hint:
        lines += [f"What the check wants: {exercise.hint}.", ""]
    mistakes = _unique(hint for hint, _ in exercise.mistakes)
    if mistakes:
        lines += ["Mistakes the check recognises (it shows the hint when your result equals the mistake's):", ""]
        lines += [f"- {_sentence(hint)}" for hint in mistakes]
        lines.append("")
    edges = _unique(case.hint for group in exercise.groups for case in exercise.cases(group))
    edges = [hint for hint in edges if hint not in mistakes]
    if edges:
        lines += [(f"Edge cases it runs: {exercise.edge_note}. " if exercise.edge_note else "")
                  + "The hints when one fails:", ""]
        lines += [f"- {_sentence(hint)}" for hint in edges]
        lines.append("")
    if exercise.shape_hint:
        lines += [f"Wrong shape: {exercise.shape_hint}.", ""]
    return lines


def common_bugs_markdown():
    """The whole page, in Markdown."""
    lines = ["# Common bugs",
             "",
             "The mistakes the course's checks recognise, lesson by lesson, with the hint each check shows. This "
             "page is generated from the checks themselves (`ntm_course/teaching/practice/exercises/`) by "
             f"`{COMMAND}`; don't edit it by hand. `check(your_function)` in a lesson runs the same checks, and "
             "`reveal(name)` climbs a stub's hint ladder one rung at a time.",
             "",
             "## Any stub",
             "",
             f"- {_sentence(IN_PLACE_HINT)}"]
    lines += [f"- {_sentence(hint)}" for hint in GENERIC_HINTS.values()]
    lines.append("")
    for stage, exercises in checks_by_lesson():
        number = stage.lesson.split("_", 1)[0]
        lines += [f"## Lesson {int(number)}: {stage.title} (`notebooks/{stage.lesson}.ipynb`)", ""]
        for exercise, where in exercises:
            lines += exercise_section(exercise, where)
    return "\n".join(lines).rstrip("\n") + "\n"


def main():
    print(common_bugs_markdown(), end="")


if __name__ == "__main__":
    main()
