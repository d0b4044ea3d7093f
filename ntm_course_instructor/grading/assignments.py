"""The grader's table of assignments: one per exercise of :mod:`ntm_course.syllabus`, from its solution notebook.

The syllabus says which exercises there are and what each check is worth (``{function name: points}``); the
solution notebook ``<name>.ipynb`` gives the canonical sources the grader restores in a submission: its check
cells (nbgrader ``grade_id`` ``<function>_check``) and its locked cells. A notebook that is missing, or whose
graded cells disagree with the syllabus, is a ValueError naming it: the grader never guesses a score's weight.
A notebook of no syllabus exercise is not graded (``release`` refuses it).
"""
from dataclasses import dataclass
from pathlib import Path

from ntm_course import syllabus
from ntm_course.extras import needs


with needs("grading", __name__):
    import nbformat

from ..solutions import solutions_dir


@dataclass
class Check:
    """One graded test cell of an assignment: its grade_id, points and canonical source."""
    grade_id: str
    points: float
    source: str

    @property
    def name(self):
        """The exercise (the function) the check grades: ``shift`` for ``shift_check``."""
        return self.grade_id[:-len("_check")] if self.grade_id.endswith("_check") else self.grade_id


class Assignment(list):
    """The checks of one assignment (a list of :class:`Check`), with the sources of its locked cells."""

    def __init__(self, checks=(), locked=None):
        super().__init__(checks)
        self.locked = dict(locked or {})


def nbgrader_meta(cell):
    """A cell's nbgrader metadata (``{}`` when it has none)."""
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def graded_cells(nb):
    """The code cells of a notebook that nbgrader grades, in order."""
    return [c for c in nb.cells if nbgrader_meta(c).get("grade")]


def load_assignments(source=None):
    """``{assignment name: Assignment([Check, ...])}``, one per exercise of the syllabus in course order, from
    the solution notebooks in ``source`` (default: this install's,
    :func:`~ntm_course_instructor.solutions.solutions_dir`). ValueError naming the notebook when one is missing
    or its graded cells disagree with the syllabus."""
    source = Path(solutions_dir() if source is None else source)
    if not any(source.glob("*.ipynb")):
        raise ValueError(f"source must be the folder of solution notebooks, found none in {source}")
    return {planned.name: _from_notebook(planned, source / planned.notebook)
            for planned in syllabus.assignments()}


def _from_notebook(planned, path):
    """The :class:`Assignment` of the syllabus's ``planned`` exercise from its solution notebook ``path``."""
    if not path.is_file():
        raise ValueError(f"source must hold the solution notebook of every exercise of the syllabus: "
                         f"{path.name} (for {planned.name!r}) is missing from {path.parent}")
    nb = nbformat.read(str(path), as_version=4)
    graded = [(nbgrader_meta(c).get("grade_id"), nbgrader_meta(c).get("points"), c.source)
              for c in graded_cells(nb)]
    found = {grade_id: points for grade_id, points, _ in graded}
    expected = {f"{name}_check": points for name, points in planned.checks.items()}
    if len(graded) != len(found) or found != expected:
        raise ValueError(f"{path}: its graded cells {found} disagree with the syllabus's checks for "
                         f"{planned.name!r} {expected} (grade_id: points)")
    sources = {grade_id: source for grade_id, _, source in graded}
    locked = {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells
              if c.cell_type == "code" and _locked(nbgrader_meta(c))}
    return Assignment([Check(grade_id, points, sources[grade_id]) for grade_id, points in expected.items()], locked)


def _locked(meta):
    """A locked cell that is not a check: the course's code, restored in a submission."""
    return bool(meta.get("locked") and not meta.get("grade") and meta.get("grade_id"))


def identify(path, nb, assignments):
    """The assignment a submission belongs to: the longest assignment name in its file name, else the one
    whose graded cells it shares most; None when neither tells."""
    named = [name for name in assignments if name in Path(path).name]
    if named:
        return max(named, key=len)
    if nb is None:
        return None
    ids = {nbgrader_meta(c).get("grade_id") for c in graded_cells(nb)}
    overlap = {name: len(ids & {ch.grade_id for ch in checks}) for name, checks in assignments.items()}
    best = max(overlap, key=overlap.get, default=None)
    return best if best is not None and overlap[best] > 0 else None
