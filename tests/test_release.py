"""``ntm-course-instructor release``: exercises/ is exactly what nbgrader's preprocessors make of solutions/, and no
answer
leaks into an exercise: every exercise runs without an error and nbgrader's Validator passes none of its checks
(one run of each exercise, ``conftest.validated``, serves both)."""
import ast
import inspect
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from ntm_course import syllabus
from ntm_course_instructor import cli, hosted, release
from ntm_course_instructor.grading import reference


ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISE_NOTEBOOKS = sorted((ROOT / "exercises").glob("*.ipynb"))
NAME = re.compile(r"^\d\d_[a-z0-9_]+\.ipynb$")


def nbgrader_meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_lines(nb):
    """Every non-blank line between BEGIN SOLUTION and END SOLUTION markers."""
    lines, inside = [], False
    for cell in nb.cells:
        for line in cell.source.splitlines():
            if "### BEGIN SOLUTION" in line:
                inside = True
            elif "### END SOLUTION" in line:
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def test_exercises_match_what_release_produces():
    assert release.drift(ROOT / "solutions", ROOT / "exercises") == []


def test_one_exercise_per_solution():
    assert SOLUTIONS and all(NAME.match(p.name) for p in SOLUTIONS)
    assert [p.name for p in SOLUTIONS] == sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb"))


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_no_solution_line_appears_in_the_exercise(path):
    solution = nbformat.read(str(path), as_version=4)
    exercise = nbformat.read(str(ROOT / "exercises" / path.name), as_version=4)
    answers = solution_lines(solution)
    assert answers, "a solution notebook must hold answers between the markers"
    exercise_lines = {line.strip() for cell in exercise.cells for line in cell.source.splitlines()}
    assert not [line for line in answers if line in exercise_lines]
    assert "SOLUTION" not in nbformat.writes(exercise)


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_notebook_metadata(path):
    nb = nbformat.read(str(path), as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), "commit solutions without outputs"
    assert all(nbgrader_meta(c) for c in code), "every code cell carries nbgrader metadata"
    ids = [nbgrader_meta(c)["grade_id"] for c in code]
    assert len(ids) == len(set(ids))
    solutions = [nbgrader_meta(c)["grade_id"] for c in code if nbgrader_meta(c)["solution"]]
    graded = [nbgrader_meta(c) for c in code if nbgrader_meta(c)["grade"]]
    assert solutions and [g["grade_id"] for g in graded] == [f"{s}_check" for s in solutions]
    assert all(g["locked"] and g["points"] > 0 for g in graded)
    assert all(nbgrader_meta(c)["locked"] for c in code if not nbgrader_meta(c)["solution"])
    assert code[0].metadata.nbgrader["grade_id"] == "colab" and hosted.role(code[0]) == "install"
    assert code[1].metadata.nbgrader["grade_id"] == "imports" and "seed_everything(0)" in code[1].source


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_exercise_stubs_raise_and_cells_are_locked(path):
    nb = nbformat.read(str(ROOT / "exercises" / path.name), as_version=4)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if cell.cell_type != "code":
            continue
        assert not cell.outputs and meta.get("checksum"), "released cells carry nbgrader checksums"
        assert cell.metadata.get("deletable") is False
        if meta["solution"]:
            assert "# YOUR CODE HERE\n    raise NotImplementedError()" in cell.source
            assert cell.source.startswith("def ") or "\ndef " in cell.source   # the signature stays
        else:
            assert cell.metadata.get("editable") is False


def test_release_writes_and_check_detects_drift(tmp_path, capsys):
    source, target = tmp_path / "solutions", tmp_path / "exercises"
    source.mkdir()
    shutil.copy(SOLUTIONS[0], source)
    assert cli.main(["release", "--source", str(source), "--target", str(target)]) == 0
    written = target / SOLUTIONS[0].name
    assert written.read_text() == (ROOT / "exercises" / SOLUTIONS[0].name).read_text()
    assert cli.main(["release", "--check", "--source", str(source), "--target", str(target)]) == 0

    written.write_text(written.read_text().replace("raise NotImplementedError()", "pass"))
    (target / "99_stale.ipynb").write_text("{}")
    assert cli.main(["release", "--check", "--source", str(source), "--target", str(target)]) == 1
    out = capsys.readouterr().out
    assert f"out of date: {written}" in out and "99_stale.ipynb" in out


def test_release_of_an_empty_folder_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["release", "--source", str(tmp_path), "--target", str(tmp_path / "x")]) == 2
    assert "found none" in capsys.readouterr().err


def test_release_keeps_the_solution_untouched():
    solution = nbformat.read(str(SOLUTIONS[0]), as_version=4)
    before = nbformat.writes(solution)
    release.release_notebook(solution, SOLUTIONS[0].name)
    assert nbformat.writes(solution) == before


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_exercise_keeps_the_locked_install_cell_and_its_badge_opens_the_exercise(path):
    exercise = nbformat.read(str(ROOT / "exercises" / path.name), as_version=4)
    assert exercise.cells[0].source == hosted.colab_badge(f"exercises/{path.name}")
    install = next(c for c in exercise.cells if c.cell_type == "code")
    assert hosted.role(install) == "install" and install.source == hosted.INSTALL_CELL
    assert install.metadata.get("editable") is False and nbgrader_meta(install)["locked"]


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_exercise_functions_have_the_references_signatures(path):
    nb = nbformat.read(str(ROOT / "exercises" / path.name), as_version=4)
    stubs = [node for cell in nb.cells if nbgrader_meta(cell).get("solution")
             for node in ast.parse(cell.source).body if isinstance(node, ast.FunctionDef)]
    assert stubs
    for stub in stubs:
        args = stub.args
        names = [a.arg for a in args.args]
        defaults = dict(zip(names[len(names) - len(args.defaults):], (ast.literal_eval(d) for d in args.defaults)))
        want = inspect.signature(reference(stub.name)).parameters
        assert names == list(want), stub.name
        assert defaults == {n: p.default for n, p in want.items() if p.default is not inspect.Parameter.empty}


# --- the exercise set: numbered like the lessons, each linking its lesson and saying what it asks -------------

LINK = re.compile(r"\]\(\.\./notebooks/(\d\d_[a-z0-9_]+\.ipynb)\)")


def intro(path):
    """The exercise's first cell after the Colab badge: its title, its lesson, what it asks."""
    return next(c for c in nbformat.read(str(path), as_version=4).cells if hosted.role(c) != "badge").source


def test_each_exercise_is_numbered_like_its_lesson():
    """The syllabus places every exercise in a stage (tests/test_syllabus.py); its number is that lesson's."""
    for assignment in syllabus.assignments():
        assert assignment.name[:2] == syllabus.stage_of(assignment.name).lesson[:2], assignment.name


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_exercise_links_its_lesson_and_says_what_it_asks(path):
    text = intro(path)
    links = LINK.findall(text)
    assert links and links[0][:2] == path.name[:2] and (ROOT / "notebooks" / links[0]).exists()
    asks = [line for line in text.splitlines() if "**Asks you to:**" in line]
    assert len(asks) == 1 and asks[0].strip().endswith(".")


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_shift_width_promised_only_where_a_function_takes_one(path):
    nb = nbformat.read(str(path), as_version=4)
    names = [nbgrader_meta(c)["grade_id"] for c in nb.cells if nbgrader_meta(c).get("solution")]
    takes_k = any({"K", "s"} & set(inspect.signature(reference(n)).parameters) for n in names)
    assert takes_k or "shift width" not in intro(path)


def test_training_exercise_does_not_pass_adam_off_as_the_papers_protocol():
    text = "\n".join(c.source for c in nbformat.read(str(ROOT / "solutions" / "09_train_step.ipynb"), 4).cells
                     if c.cell_type == "markdown")
    assert "RMSProp" in text and "momentum 0.9" in text and "on purpose" in text


@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=[p.stem for p in EXERCISE_NOTEBOOKS])
def test_every_cell_of_an_exercise_runs_without_an_error(validated, path):
    errors = validated(path, invert=True).errors
    assert not errors, f"{path.name}: " + "; ".join(errors)


@pytest.mark.slow
@pytest.mark.parametrize("path", EXERCISE_NOTEBOOKS, ids=[p.stem for p in EXERCISE_NOTEBOOKS])
def test_nbgrader_validator_passes_no_check_of_an_exercise(validated, path):
    assert validated(path, invert=True).results == {}
