"""docs/common-bugs.md is generated from the checks' catalogue of mistakes: it must say what the checks say."""
from pathlib import Path

from ntm_course.presentation.common_bugs import COMMAND, checks_by_lesson, common_bugs_markdown
from ntm_course.teaching.practice.registry import EXERCISES

PAGE = Path(__file__).resolve().parents[1] / "docs" / "common-bugs.md"


def test_the_page_is_up_to_date():
    assert PAGE.read_text() == common_bugs_markdown(), f"docs/common-bugs.md is stale: run `{COMMAND}`"


def test_every_check_and_every_mistake_hint_is_on_the_page():
    listed = [exercise.name for _, exercises in checks_by_lesson() for exercise, _ in exercises]
    assert sorted(listed) == sorted(EXERCISES)
    page = common_bugs_markdown()
    for exercise in EXERCISES.values():
        assert f"### `{exercise.name}`" in page
        for hint, _ in exercise.mistakes:
            assert hint.strip()[1:] in page, (exercise.name, hint)


def test_lessons_come_in_the_syllabus_order_with_their_notebooks():
    page = common_bugs_markdown()
    headings = [line for line in page.splitlines() if line.startswith("## Lesson")]
    numbers = [int(line.split()[2].rstrip(":")) for line in headings]
    assert numbers == sorted(numbers) and numbers[0] == 1
    assert "(`notebooks/05_shift.ipynb`)" in page
    assert "`stable_sharpen` (exercise `exercises/06_debug_nans.ipynb`)" in page
