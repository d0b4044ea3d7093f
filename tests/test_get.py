"""``ntm-course get DIR``: the course files it copies, from a checkout and from a wheel's copy; a second and third
run merge (what is missing comes back, the learner's changes stay, a file nobody changed follows the course), and
``--force FILE`` replaces only the files it names, keeping the learner's beside them. (tests/test_wheel.py runs it
from an installed wheel.)"""
import filecmp
import shutil
from pathlib import Path

import pytest

from ntm_course.teaching import cli, get


ROOT = Path(__file__).resolve().parents[1]
SHIFT, MEMORY, WELCOME = Path("exercises/05_shift.ipynb"), Path("notebooks/01_memory.ipynb"), \
    Path("notebooks/00_welcome.ipynb")


def test_the_course_files_are_every_lesson_and_exercise():
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
    first = get.get(dest)
    assert first.added == get.course_files(ROOT) and not (first.unchanged or first.kept or first.updated)
    assert all(filecmp.cmp(ROOT / f, dest / f, shallow=False) for f in first.added)
    assert get.get(dest) == get.Merge(unchanged=first.added)


def test_the_second_and_third_runs_restore_what_was_deleted_and_keep_what_the_learner_changed(tmp_path):
    dest = tmp_path / "course"
    get.get(dest)
    mine = dest / SHIFT
    mine.write_text("my answers")
    (dest / MEMORY).unlink()
    second = get.get(dest)                                          # day 2: one edited, one deleted
    assert second.added == [MEMORY] and second.kept == [SHIFT] and not second.replaced
    assert len(second.unchanged) == len(get.course_files(ROOT)) - 2
    assert mine.read_text() == "my answers" and filecmp.cmp(dest / MEMORY, ROOT / MEMORY, shallow=False)
    (dest / WELCOME).write_text("my notes")                         # day 3: another edit, another deletion
    (dest / SHIFT).unlink()
    third = get.get(dest)
    assert third.added == [SHIFT] and third.kept == [WELCOME]
    assert (dest / WELCOME).read_text() == "my notes"
    assert get.get(dest).kept == [WELCOME]                          # and so on, every day


def test_a_file_nobody_changed_follows_a_newer_course_and_the_learners_does_not(tmp_path):
    """A new version of the course (another ``root``): the file ``get`` wrote and nobody touched is updated."""
    course, dest = tmp_path / "course", tmp_path / "mine"
    for pattern in get.COURSE_FILES:
        for path in ROOT.glob(pattern):
            (course / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, course / path.relative_to(ROOT))
    get.get(dest, root=course)
    (dest / SHIFT).write_text("my answers")
    (course / SHIFT).write_text("the course's new exercise")
    (course / MEMORY).write_text("the course's new lesson")
    merge = get.get(dest, root=course)
    assert merge.updated == [MEMORY] and merge.kept == [SHIFT]
    assert (dest / MEMORY).read_text() == "the course's new lesson" and (dest / SHIFT).read_text() == "my answers"
    (dest / get.RECORD).unlink()                                    # no record: whatever differs counts as yours
    (course / MEMORY).write_text("a newer lesson still")
    assert get.get(dest, root=course).kept == [MEMORY, SHIFT]


def test_force_replaces_only_the_files_it_names_and_keeps_the_learners_beside_them(tmp_path):
    dest = tmp_path / "course"
    get.get(dest)
    for name in (SHIFT, WELCOME):
        (dest / name).write_text(f"mine: {name}")
    merge = get.get(dest, force=[str(SHIFT)])
    assert merge.replaced == {SHIFT: Path("exercises/05_shift.mine.ipynb")} and merge.kept == [WELCOME]
    assert filecmp.cmp(dest / SHIFT, ROOT / SHIFT, shallow=False)
    assert (dest / "exercises" / "05_shift.mine.ipynb").read_text() == f"mine: {SHIFT}"
    assert (dest / WELCOME).read_text() == f"mine: {WELCOME}"      # not named: kept
    (dest / SHIFT).write_text("mine again")                        # a second backup does not overwrite the first
    merge = get.get(dest, force=[str(dest / SHIFT)])                # a path inside DIR names it too
    assert merge.replaced == {SHIFT: Path("exercises/05_shift.mine-2.ipynb")}
    assert (dest / "exercises" / "05_shift.mine.ipynb").read_text() == f"mine: {SHIFT}"
    assert get.get(dest, force=[str(SHIFT)]) == get.get(dest)       # the course's already: nothing to replace


def test_force_refuses_a_file_that_is_not_the_courses_and_writes_nothing(tmp_path):
    dest = tmp_path / "course"
    get.get(dest)
    (dest / SHIFT).write_text("mine")
    with pytest.raises(ValueError, match=r"--force notebooks/99_nope\.ipynb: not one of the course's files"):
        get.get(dest, force=[str(SHIFT), "notebooks/99_nope.ipynb"])
    assert (dest / SHIFT).read_text() == "mine" and not (dest / "exercises" / "05_shift.mine.ipynb").exists()


@pytest.mark.parametrize("where, match", [("file", "DIR must be a folder, got the file"),
                                          ("root", "DIR is where the course's files come from")])
def test_get_rejects_a_file_or_the_courses_own_folder(tmp_path, where, match):
    dest = tmp_path / "a-file"
    dest.write_text("")
    with pytest.raises(ValueError, match=match):
        get.get(dest if where == "file" else ROOT)


def test_the_command_says_what_it_added_and_kept_and_exits_0(tmp_path, capsys):
    dest, files = tmp_path / "course", get.course_files(ROOT)
    lessons = sum(f.parts[0] == "notebooks" for f in files)
    counts = f"{dest}: {lessons} lessons in notebooks/, {len(files) - lessons} exercises in exercises/"
    assert cli.main(["get", str(dest)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{counts} ({len(files)} added, 0 updated, 0 already up to date, 0 of yours kept, "
                          "0 replaced)\nstart with: jupyter lab ")
    (dest / WELCOME).write_text("changed")
    (dest / MEMORY).unlink()
    assert cli.main(["get", str(dest)]) == 0
    assert capsys.readouterr().out.splitlines()[:4] == [
        f"{counts} (1 added, 0 updated, {len(files) - 2} already up to date, 1 of yours kept, 0 replaced)",
        f"added (it was missing): {MEMORY}",
        f"kept (you changed it): {WELCOME}",
        f"to replace one of yours with the course's (yours kept beside it): ntm-course get {dest} --force {WELCOME}"]
    assert cli.main(["get", str(dest), "--force", str(WELCOME)]) == 0
    out = capsys.readouterr().out
    assert f"(0 added, 0 updated, {len(files) - 1} already up to date, 0 of yours kept, 1 replaced)" in out
    assert f"replaced by the course's: {WELCOME} (yours is now notebooks/00_welcome.mine.ipynb)" in out
    assert cli.main(["get", str(dest), "--force", "nope.ipynb"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("ntm-course get: --force nope.ipynb: not one of") and err.count("\n") == 1
