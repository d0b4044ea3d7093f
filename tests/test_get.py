"""``ntm-course get DIR``: the course files it copies, from a checkout and from a wheel's copy, and the learner's
work it never overwrites without ``--force``. (tests/test_wheel.py runs it from an installed wheel.)"""
import filecmp
import shutil
from pathlib import Path

import pytest

from ntm_course.teaching import cli, get


ROOT = Path(__file__).resolve().parents[1]


def test_the_course_files_are_every_lesson_and_exercise_and_what_lesson_9_reads():
    files = get.course_files(ROOT)
    assert {f for f in files if f.parts[0] == "notebooks"} == {f.relative_to(ROOT) for f in
                                                               (ROOT / "notebooks").glob("*.ipynb")}
    assert {f for f in files if f.parts[0] == "exercises"} == {f.relative_to(ROOT) for f in
                                                               (ROOT / "exercises").glob("*.ipynb")}
    assert not [f for f in files if f.parts[0] == "solutions"]


def test_a_pattern_that_finds_nothing_is_an_error(tmp_path):
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "00_welcome.ipynb").write_text("{}")
    with pytest.raises(FileNotFoundError, match=r"no course file exercises/\*\.ipynb under"):
        get.course_files(tmp_path)


def test_course_root_prefers_the_wheels_copy_then_the_checkout(tmp_path):
    assert get.course_root() == ROOT                                # this checkout (an editable install)
    package = tmp_path / "site-packages" / "ntm_course"
    (package / "course_files").mkdir(parents=True)
    assert get.course_root(package) == package / "course_files"     # an installed wheel
    shutil.rmtree(package / "course_files")
    with pytest.raises(FileNotFoundError, match="holds no lessons: it is neither a wheel with course_files/"):
        get.course_root(package)


def test_get_copies_the_course_and_a_second_run_copies_nothing(tmp_path):
    dest = tmp_path / "my course"
    copied, unchanged = get.get(dest)
    assert copied == get.course_files(ROOT) and unchanged == []
    assert all(filecmp.cmp(ROOT / f, dest / f, shallow=False) for f in copied)
    assert get.get(dest) == ([], copied)


def test_get_never_overwrites_a_learners_work_without_force(tmp_path):
    dest = tmp_path / "course"
    get.get(dest)
    mine = dest / "exercises" / "05_shift.ipynb"
    mine.write_text("my answers")
    (dest / "notebooks" / "01_memory.ipynb").unlink()
    with pytest.raises(FileExistsError, match=r"1 of the course's files with other content \(exercises/05_shift"
                                              r"\.ipynb\): your work, perhaps\. Nothing was copied; use --force"):
        get.get(dest)
    assert mine.read_text() == "my answers" and not (dest / "notebooks" / "01_memory.ipynb").exists()
    copied, _ = get.get(dest, force=True)
    assert copied == [Path("notebooks/01_memory.ipynb"), Path("exercises/05_shift.ipynb")]
    assert filecmp.cmp(mine, ROOT / "exercises" / "05_shift.ipynb", shallow=False)


@pytest.mark.parametrize("where, match", [("file", "DIR must be a folder, got the file"),
                                          ("root", "DIR is where the course's files come from")])
def test_get_rejects_a_file_or_the_courses_own_folder(tmp_path, where, match):
    dest = tmp_path / "a-file"
    dest.write_text("")
    with pytest.raises(ValueError, match=match):
        get.get(dest if where == "file" else ROOT)


def test_the_command_reports_what_it_did_and_fails_in_one_line(tmp_path, capsys):
    dest = tmp_path / "course"
    assert cli.main(["get", str(dest)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{dest}: 12 lessons in notebooks/, 13 exercises in exercises/ (25 files copied, "
                          "0 already there)\nstart with: jupyter lab ")
    (dest / "notebooks" / "00_welcome.ipynb").write_text("changed")
    assert cli.main(["get", str(dest)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ntm-course get: {dest} already has 1 of the course's files") and err.count("\n") == 1
    assert cli.main(["get", "--force", str(dest)]) == 0
    assert "(1 files copied, 24 already there)" in capsys.readouterr().out
