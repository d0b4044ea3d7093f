"""``ntm-course grade SUBMISSION.ipynb... [--csv gradebook.csv]``: grade a class's exercise notebooks.

Each submission runs in a fresh kernel (nbclient) with a per-cell timeout. Before it runs, every graded test
cell (nbgrader ``grade: true``, identified by its ``grade_id``) gets back the source it has in the course's
solution notebook, so an edited check cannot award itself points. A check cell's value is its points (the
same number nbgrader's autograder reads). Whatever goes wrong in one submission -- an unreadable file, deleted
cells, a crash, an endless loop -- costs the points of the checks it stopped, is given as a reason, and the
other submissions are graded all the same.

Grading runs the submitted code with your permissions: see "For instructors" in the README for isolating it.
"""
import csv
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient

DEFAULT_SOURCE = Path(__file__).resolve().parents[2] / "solutions"


@dataclass
class Check:
    """One graded test cell of an assignment: its grade_id, points and canonical source."""
    grade_id: str
    points: float
    source: str


@dataclass
class Grade:
    """The grade of one submission: points per check (grade_id -> points) and the reasons for lost points."""
    submission: str
    assignment: str = None
    scores: dict = field(default_factory=dict)
    max_scores: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)

    @property
    def points(self):
        return sum(self.scores.values())

    @property
    def max_points(self):
        return sum(self.max_scores.values())


def graded_cells(nb):
    """The code cells of a notebook that nbgrader grades, in order."""
    return [c for c in nb.cells if c.get("metadata", {}).get("nbgrader", {}).get("grade")]


def load_assignments(source=DEFAULT_SOURCE):
    """``{assignment name: [Check, ...]}`` from the solution notebooks in ``source``."""
    paths = sorted(Path(source).glob("*.ipynb"))
    if not paths:
        raise ValueError(f"source must be the folder of solution notebooks, found none in {source}")
    assignments = {}
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        assignments[path.stem] = [Check(c.metadata.nbgrader["grade_id"], c.metadata.nbgrader["points"], c.source)
                                  for c in graded_cells(nb)]
    return assignments


def identify(path, nb, assignments):
    """The assignment a submission belongs to: the longest assignment name in its file name, else the one
    whose graded cells it shares most; None when neither tells."""
    named = [name for name in assignments if name in Path(path).name]
    if named:
        return max(named, key=len)
    if nb is None:
        return None
    ids = {c.metadata.nbgrader.get("grade_id") for c in graded_cells(nb)}
    overlap = {name: len(ids & {ch.grade_id for ch in checks}) for name, checks in assignments.items()}
    best = max(overlap, key=overlap.get, default=None)
    return best if best is not None and overlap[best] > 0 else None


def _first_line(text):
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.split(" -- ")[0]


def _short(text, limit=100):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def score_cell(cell, max_points):
    """``(points, reason)`` from an executed graded cell: its value is the points; an error scores 0."""
    stdout = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            if output.ename in ("CellTimeoutError", "KeyboardInterrupt"):   # nbclient interrupts on timeout
                return 0.0, "stopped at the time limit (an endless loop?)"
            return 0.0, _short(f"{output.ename}: {output.evalue}")
    for output in cell.get("outputs", []):
        if output.output_type == "execute_result":
            try:
                points = float(output.data.get("text/plain", ""))
            except ValueError:
                return 0.0, "the check cell's value is not a number"
            points = min(max(points, 0.0), max_points)
            return points, ("" if points == max_points else _first_line(stdout))
    return 0.0, "did not run"


def grade(path, assignments, timeout=60, startup_timeout=120):
    """Run one submission in a fresh kernel and score its checks; never raises for a bad submission."""
    result = Grade(str(path))
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except Exception as error:
        nb = None
        result.reasons.append(_short(f"not a readable notebook ({type(error).__name__}: {error})"))
    result.assignment = identify(path, nb, assignments)
    if result.assignment is None:
        result.reasons.append("unknown assignment: name the file after its exercise, e.g. 04_shift.ipynb")
        return result
    checks = assignments[result.assignment]
    result.scores = {c.grade_id: 0.0 for c in checks}
    result.max_scores = {c.grade_id: float(c.points) for c in checks}
    if nb is None:
        return result

    cells = {c.metadata.nbgrader.get("grade_id"): c for c in graded_cells(nb)}
    for check in checks:
        if check.grade_id in cells:
            cells[check.grade_id].source = check.source     # the course's check, not an edited one
        else:
            result.reasons.append(f"{check.grade_id}: the check cell was deleted")
    client = NotebookClient(nb, timeout=timeout, startup_timeout=startup_timeout, kernel_name="python3",
                            allow_errors=True, interrupt_on_timeout=True,
                            error_on_timeout={"ename": "CellTimeoutError", "evalue": f"over {timeout} s",
                                              "traceback": [f"CellTimeoutError: the cell ran over {timeout} s"]},
                            resources={"metadata": {"path": str(Path(path).parent)}})
    try:
        # one thread per kernel: the exercises' tensors are tiny, and graders run many kernels side by side
        client.execute(env={**os.environ, "OMP_NUM_THREADS": "1"})
    except Exception as error:
        result.reasons.append(_short(f"execution stopped ({type(error).__name__}: {error})"))
    for check in checks:
        if check.grade_id in cells:
            points, reason = score_cell(cells[check.grade_id], check.points)
            result.scores[check.grade_id] = points
            if reason:
                result.reasons.append(f"{check.grade_id}: {reason}")
    return result


def write_csv(grades, path):
    """One row per submission: points, max points, one column per check (course order), the reasons."""
    columns = []
    for g in grades:
        columns += [c for c in g.max_scores if c not in columns]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "assignment", "points", "max_points", *columns, "reasons"])
        for g in grades:
            writer.writerow([g.submission, g.assignment or "", _num(g.points), _num(g.max_points),
                             *[_num(g.scores[c]) if c in g.scores else "" for c in columns],
                             "; ".join(g.reasons)])


def _num(x):
    return f"{x:g}"


def summary(grades):
    """A plain-text table: submission, assignment, points, reasons."""
    rows = [("submission", "assignment", "points", "reasons")]
    rows += [(g.submission, g.assignment or "?", f"{_num(g.points)}/{_num(g.max_points)}",
              "; ".join(g.reasons) or "-") for g in grades]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows)


def add_arguments(parser):
    parser.add_argument("submissions", nargs="+", help="submitted exercise notebooks (.ipynb)")
    parser.add_argument("--csv", default="gradebook.csv", help="where to write the gradebook (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds each cell may run (default: %(default)s)")
    parser.add_argument("--source", default=str(DEFAULT_SOURCE),
                        help="the course's solution notebooks, for the canonical checks (default: %(default)s)")


def run(args):
    try:
        assignments = load_assignments(args.source)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    grades = []
    for path in args.submissions:
        print(f"grading {path} ...", flush=True)
        grades.append(grade(path, assignments, timeout=args.timeout))
    write_csv(grades, args.csv)
    print(summary(grades))
    print(f"gradebook written to {args.csv}")
    return 0
