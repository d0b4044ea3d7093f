"""The instructor guide's table of lessons (docs/instructor.md, "Teaching the course") says what the lessons say:
one row per lesson of the syllabus, in order, with the time and the objectives of the lesson's own header, a
question to discuss, and the total it states."""
import re
from pathlib import Path

import nbformat

from ntm_course import syllabus

ROOT = Path(__file__).resolve().parents[1]


def header(stage):
    """``(minutes, objectives)`` from the lesson's header."""
    nb = nbformat.read(str(ROOT / "notebooks" / stage.notebook), as_version=4)
    text = next(c.source for c in nb.cells if c.cell_type == "markdown" and "Learning objectives" in c.source)
    return int(re.search(r"\*\*Time\.\*\* About (\d+) minutes", text).group(1)), re.findall(r"^> - (.+)$", text, re.M)


def test_the_teaching_table_is_the_lessons_headers():
    page = (ROOT / "docs" / "instructor.md").read_text()
    section = page.split("\n## Teaching the course\n", 1)[1].split("\n## ", 1)[0]
    rows = [[c.strip() for c in line.strip("|").split("|")] for line in section.splitlines()
            if line.startswith("| [")]
    assert [re.match(r"\[(\w+)\]", row[0]).group(1) for row in rows] == [s.lesson for s in syllabus.STAGES]
    total = 0
    for stage, (lesson, minutes, objectives, prompt) in zip(syllabus.STAGES, rows):
        want_minutes, want_objectives = header(stage)
        assert (int(minutes), objectives) == (want_minutes, "; ".join(want_objectives)), stage.lesson
        assert lesson == f"[{stage.lesson}](../notebooks/{stage.notebook})" and prompt.endswith("?"), stage.lesson
        total += want_minutes
    assert f"({total} minutes, about {round(total / 60)} hours, for the lessons in all)" in " ".join(section.split())
