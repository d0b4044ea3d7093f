"""The active lessons: the learner writes each stage, and no visible lesson cell gives a graded answer away.

nbval (or the browser test) runs every lesson untouched (each stub falls back to the course's version). Here
each lesson with stubs also runs *solved*, as a learner who answered every stub would run it: every stub cell gets
the source of the solution cell with the same grade_id in ``solutions/``. The solved lessons run in course order
and share one folder of saved pieces, so lessons 7-9 build their machine from the pieces written in lessons 1-6
(those three run whole; of lessons 1-6 only the stubs and their checks run, see ``_solved``).
"""
import ast
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from ntm_course import syllabus
from ntm_course.pieces import PIECE_NAMES
from ntm_course_instructor.grading import EXERCISES
from ntm_course_instructor.grading.worker import strip_magics


ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def stub_name(cell):
    return cell.get("metadata", {}).get("ntm_course", {}).get("stub")


def solution_sources():
    """``{grade_id: source}`` of the solution cells in ``solutions/``."""
    found = {}
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if meta.get("solution") and meta.get("grade_id"):
                found[meta["grade_id"]] = cell.source
    return found


def _is_stub(fn):
    """True when a function body is only a docstring, comments and ``raise NotImplementedError``."""
    body = [s for s in fn.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    return len(body) == 1 and isinstance(body[0], ast.Raise)


def test_lessons_have_stubs_that_follow_the_convention():
    solutions = solution_sources()
    stubs = {}
    for path in LESSONS:
        cells = nbformat.read(path, as_version=4).cells
        for i, cell in enumerate(cells):
            name = stub_name(cell)
            if name is None:
                continue
            stubs.setdefault(name, path.name)
            assert name in EXERCISES, f"{path.name} cell {i}: stub {name!r} has no check"
            assert name in solutions, f"{path.name} cell {i}: no solution cell with grade_id {name!r}"
            assert "stub" in cell.metadata.get("tags", []), f"{path.name} cell {i}: tag the stub 'stub'"
            functions = [n for n in ast.parse(strip_magics(cell.source)).body if isinstance(n, ast.FunctionDef)]
            assert [f.name for f in functions] == [name] and _is_stub(functions[0]), \
                f"{path.name} cell {i}: a stub defines only {name}() and raises NotImplementedError"
            following = next(c for c in cells[i + 1:] if c.cell_type == "code")
            assert following.source.strip() == f'{name} = your_turn("{name}", {name})', \
                f"{path.name} cell {i}: the stub's next code cell must check it with your_turn"
    # Every piece of the machine is written by the learner somewhere in lessons 1-8.
    assert set(PIECE_NAMES) <= set(stubs), f"pieces without a stub: {sorted(set(PIECE_NAMES) - set(stubs))}"


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_no_visible_lesson_cell_holds_a_graded_answer(path):
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "code" or cell.metadata.get("jupyter", {}).get("source_hidden"):
            continue
        for node in ast.walk(ast.parse(strip_magics(cell.source))):
            if isinstance(node, ast.FunctionDef) and node.name in EXERCISES:
                assert _is_stub(node), f"{path.name} cell {i} shows a finished {node.name}(): a graded answer"


def _names(node):
    """``(stored, loaded)``: the names that ``node`` and what it holds bind and read (imports, definitions and a
    function's arguments bind)."""
    stored, loaded = set(), set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            (loaded if isinstance(child.ctx, ast.Load) else stored).add(child.id)
        elif isinstance(child, (ast.FunctionDef, ast.ClassDef)):
            stored.add(child.name)
        elif isinstance(child, ast.arg):
            stored.add(child.arg)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            stored.update((alias.asname or alias.name).split(".")[0] for alias in child.names)
    return stored, loaded


def _bound_and_read(statement):
    """The names a top-level statement binds, and those it reads from before it: a loop's or a comprehension's
    own variables are not read from outside, but ``x = f(x)`` reads ``x``."""
    stored, loaded = _names(statement)
    if isinstance(statement, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and statement.value is not None:
        value_stored, value_loaded = _names(statement.value)
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        target_names = [_names(target) for target in targets]
        bound = set().union(*(names[0] for names in target_names))
        read = (value_loaded - value_stored).union(*(names[1] for names in target_names))
        return bound, read | (bound if isinstance(statement, ast.AugAssign) else set())
    return stored, loaded - stored


def _cells_on_the_learners_code(code):
    """Indices of the code cells that run on what the learner wrote, and of those that they need.

    Kept: each stub and the ``your_turn`` cell that checks it, and each cell with a statement that calls
    ``my_pieces`` (the machine built from the learner's pieces) or reads a name that such a statement bound
    (``live_ntm``, trained on the pieces, and what is computed from it; a name bound again by another statement
    is clean again). A checked stub agrees with the course's version, so the cells that merely call it are left to
    the untouched run. Then, from the last cell back, every cell that binds a name a kept cell reads is kept too
    (the imports, the task, the seed ...).
    """
    tainted, kept, names = set(), set(), []
    for i, cell in enumerate(code):
        cell_bound, cell_read = set(), set()
        for statement in ast.parse(strip_magics(cell.source)).body:
            bound, read = _bound_and_read(statement)
            cell_bound |= bound
            cell_read |= read
            if "my_pieces" in read or read & tainted:
                tainted |= bound
                kept.add(i)
            else:
                tainted -= bound
        if stub_name(cell) or "your_turn(" in cell.source:
            kept.add(i)
        names.append((cell_bound, cell_read))
    needed = set()
    for i in reversed(range(len(code))):
        bound, read = names[i]
        if i in kept or bound & needed:
            kept.add(i)
            needed |= read
    return kept


def _solved(path, solutions):
    """The lesson with every stub answered by its solution, and the stubs' names.

    Only the code cells that run on the learner's code and those they need are kept
    (:func:`_cells_on_the_learners_code`): in lessons 1-6 the stubs and their checks, in lessons 7-9 the machine
    built from the learner's pieces and what it is used for (lesson 9's live training). The rest of each lesson
    computes what its untouched run (nbval or the browser test) computes, since a passing stub agrees with the
    course's version that the untouched run falls back to.
    """
    nb = nbformat.read(path, as_version=4)
    names = []
    for cell in nb.cells:
        name = stub_name(cell)
        if name:
            cell.source = solutions[name]
            names.append(name)
    code = [c for c in nb.cells if c.cell_type == "code"]
    keep = _cells_on_the_learners_code(code)
    nb.cells = [c for i, c in enumerate(code) if i in keep]
    return nb, names


def _text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.fixture(scope="module")
def solved_runs(tmp_path_factory, warm_kernel):
    """Every lesson with stubs, solved and executed in course order (on the warm kernel, emptied before each, from
    the lessons' folder, saving pieces to a folder of their own): ``{name: (notebook, stub names)}``."""
    mine = tmp_path_factory.mktemp("mine")
    solutions = solution_sources()
    runs = {}
    for path in LESSONS:
        nb, names = _solved(path, solutions)
        if not names and not any("my_pieces" in c.source for c in nb.cells if c.cell_type == "code"):
            continue
        NotebookClient(nb, km=warm_kernel(path.parent, mine), timeout=120).execute()
        runs[path.name] = (nb, names)
    return runs


@pytest.mark.slow
def test_solved_lessons_run_on_the_learners_own_functions(solved_runs):
    assert solved_runs, "no lesson has stubs"
    for lesson, (nb, names) in solved_runs.items():
        out = "\n".join(_text(c) for c in nb.cells if c.cell_type == "code")
        for name in names:
            assert f"the lesson uses your {name}" in out, f"{lesson}: the solved {name} did not pass its check"
        assert "until your" not in out, f"{lesson}: a solved stub still fell back to the course's version"
        # lessons 7-9 build the machine from what the lessons before saved; lessons 8 and 9 build it again after
        # their own stubs, with those too (a listing may wrap over lines: it ends at its full stop)
        listings = [" ".join(part.split(".")[0].split()) for part in out.split("Your pieces:")[1:]]
        number = int(lesson[:2])
        for i, listed in enumerate(listings):
            last = i == len(listings) - 1 and number in (8, 9)
            wanted = [piece for stage in syllabus.STAGES for piece in stage.pieces
                      if int(stage.lesson[:2]) < number or (last and int(stage.lesson[:2]) == number)]
            for piece in wanted:
                assert piece in listed.split(", "), f"{lesson}: the machine does not use the learner's {piece}: {listed}"
        if number in (7, 8, 9):
            assert listings, f"{lesson}: no machine built from the learner's pieces"
