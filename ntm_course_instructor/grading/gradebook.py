"""``ntm-course-instructor grade SUBMISSION.ipynb... [--csv gradebook.csv] [--jobs N] [--feedback DIR]``: grade a class.

**The grader computes every score itself.** For each graded check of a submission (a check cell
``<name>_check`` whose answer is the function ``<name>``), the grader runs the submission's code -- its
answer cells and the course's locked cells (restored from the solution notebooks, like the checks) -- in a
separate, isolated worker process (:mod:`.worker`, :mod:`.isolation`), sends it the check's inputs, and gets
back only the values and gradients the learner's function produced. It compares them with the reference in
its own process, with the same scoring as ``check`` (:func:`.checker.score_outcomes`). Nothing a submission
does to its own interpreter (shadowing names, patching torch or the course, changing how numbers display,
printing full marks) changes a score; only computing the right values does. The notebook's own ``check``
cell stays the learner's instant feedback (and what ``nbgrader autograde`` reads); the gradebook's verdict
is the one that counts.

**Handing in the reference earns nothing**: an answer cell that imports or calls the library's own version of
the function it must write scores 0 on that check with a reason (the grader reads the cell's syntax tree; in
the worker, the library's function also raises when called during the check).

**Whatever goes wrong in one submission** (an unreadable file, deleted cells, a crash, an endless loop, a
memory or fork bomb, a worker that kills itself) costs the points of the checks it stopped, is given as a
reason, and the rest of the class is graded all the same. ``--jobs N`` grades N submissions at once; the
gradebook is written as results come in, and a rerun with the same ``--csv`` skips the submissions it already
holds (``--regrade`` to redo them). ``--feedback DIR`` writes one HTML page per submission.
"""
import ast
import csv
import html
import os
import pickle
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from ntm_course.device import threads
from ntm_course.extras import needs


with needs("grading", __name__):
    import nbformat

from ..solutions import solutions_dir
from . import isolation
from .registry import EXERCISES
from .worker import Rejected, load_results, outcomes_from, strip_magics


POINTS_COLUMN = "points_by_grader"   # the gradebook's verdict, computed outside the submission


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

    def __init__(self, checks=(), locked=None, path=None):
        super().__init__(checks)
        self.locked = dict(locked or {})
        self.path = path


@dataclass
class Grade:
    """The grade of one submission: points per check (grade_id -> points) and the reasons for lost points."""
    submission: str
    assignment: str = None
    scores: dict = field(default_factory=dict)
    max_scores: dict = field(default_factory=dict)
    reasons: list = field(default_factory=list)
    reports: dict = field(default_factory=dict)    # grade_id -> the check's report (for the feedback page)

    @property
    def points(self):
        return sum(self.scores.values())

    @property
    def max_points(self):
        return sum(self.max_scores.values())


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def graded_cells(nb):
    """The code cells of a notebook that nbgrader grades, in order."""
    return [c for c in nb.cells if _nbgrader(c).get("grade")]


def load_assignments(source=None):
    """``{assignment name: Assignment([Check, ...])}`` from the solution notebooks in ``source`` (default: this
    install's, :func:`~ntm_course_instructor.solutions.solutions_dir`)."""
    source = solutions_dir() if source is None else source
    paths = sorted(Path(source).glob("*.ipynb"))
    if not paths:
        raise ValueError(f"source must be the folder of solution notebooks, found none in {source}")
    assignments = {}
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        checks = [Check(c.metadata.nbgrader["grade_id"], c.metadata.nbgrader["points"], c.source)
                  for c in graded_cells(nb)]
        locked = {_nbgrader(c)["grade_id"]: c.source for c in nb.cells
                  if c.cell_type == "code" and _nbgrader(c).get("locked") and not _nbgrader(c).get("grade")
                  and _nbgrader(c).get("grade_id")}
        assignments[path.stem] = Assignment(checks, locked, path)
    return assignments


def identify(path, nb, assignments):
    """The assignment a submission belongs to: the longest assignment name in its file name, else the one
    whose graded cells it shares most; None when neither tells."""
    named = [name for name in assignments if name in Path(path).name]
    if named:
        return max(named, key=len)
    if nb is None:
        return None
    ids = {_nbgrader(c).get("grade_id") for c in graded_cells(nb)}
    overlap = {name: len(ids & {ch.grade_id for ch in checks}) for name, checks in assignments.items()}
    best = max(overlap, key=overlap.get, default=None)
    return best if best is not None and overlap[best] > 0 else None


def _first_line(text):
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line.split(" -- ")[0]


def _short(text, limit=160):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --- handing in the reference ----------------------------------------------------------------------------

LEARNER = "ntm_course"
TEACHING = f"{LEARNER}.teaching"       # the lessons' reveal and checks: never in an answer
INSTRUCTOR = "ntm_course_instructor"   # the grader and the references: never in an answer
DYNAMIC = {"exec", "eval", "compile", "__import__", "globals", "vars", "__builtins__", "breakpoint"}
DYNAMIC_MODULES = {"importlib", "runpy", "imp", "pkgutil", "inspect", "ctypes", "gc"}
DYNAMIC_ATTRS = {"__code__", "__globals__", "__closure__", "__wrapped__", "modules", "setprofile", "settrace"}
REFERENCE_HELPERS = {"reference", "reveal", "my_pieces", "EXERCISES"}


def handins(source, names):
    """Ways a learner's cell reaches the library's own version of a graded function.

    Returns ``{name: why}`` for the graded ``names`` the cell gets from the library, and ``{"*": why}`` when
    it uses dynamic code (``exec``, ``__import__``, ``importlib``, ``__code__``, ...) or the course's
    reference helpers in a way the grader cannot follow, which counts against every check."""
    try:
        tree = ast.parse(strip_magics(source))
    except SyntaxError:
        return {}
    found, aliases = {}, set()

    def flag(name, why):
        found.setdefault(name, why)

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                root = alias.name.split(".")[0]
                if root == INSTRUCTOR:
                    flag("*", f"import {alias.name}")
                if root == LEARNER:
                    aliases.add(alias.asname or root)
                    if alias.asname and alias.name.split(".")[-1] in names:
                        flag(alias.name.split(".")[-1], f"import {alias.name}")
                    if alias.name.startswith(TEACHING) or alias.name.endswith((".lesson", ".references")):
                        flag("*", f"import {alias.name}")
                if root in DYNAMIC_MODULES:
                    flag("*", f"import {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if module.split(".")[0] in DYNAMIC_MODULES:
                flag("*", f"from {module} import ...")
            if module.split(".")[0] == INSTRUCTOR:
                flag("*", f"from {module} import ...")
            if module.split(".")[0] != LEARNER:
                continue
            for alias in node.names:
                text = f"from {module} import {alias.name}"
                if alias.name == "*":
                    flag("*", text)
                elif alias.name in names:
                    flag(alias.name, text)
                elif alias.name in REFERENCE_HELPERS or module.startswith(TEACHING) \
                        or alias.name in ("teaching", "practice", "lesson"):
                    flag("*", text)
                else:
                    aliases.add(alias.asname or alias.name) if alias.name[:1].islower() and \
                        alias.name in ("addressing", "memory", "heads", "ntm", "pieces", "tasks") else None
        elif isinstance(node, ast.Name):
            if node.id in DYNAMIC:
                flag("*", f"uses {node.id}")
            elif node.id in REFERENCE_HELPERS:
                flag("*", f"uses {node.id}")
        elif isinstance(node, ast.Attribute) and node.attr in DYNAMIC_ATTRS:
            flag("*", f"uses .{node.attr}")
    for node in ast.walk(tree):   # library modules bound to a name: module.shift, getattr(module, ...)
        if isinstance(node, ast.Attribute) and _root(node) in aliases:
            if node.attr in names:
                flag(node.attr, f"{ast.unparse(node)}")
            elif node.attr in ("teaching", "practice", "lesson", "reference", "reveal"):
                flag("*", ast.unparse(node))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr" \
                and node.args and _root(node.args[0]) in aliases:
            flag("*", ast.unparse(node))
    return found


def _root(node):
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


# --- one submission ----------------------------------------------------------------------------------------

def program(nb, checks, locked):
    """The code the worker runs, ``[("code", source) or ("check", name)]``, and the learner's cells
    ``[(index, source)]``: locked cells get back the course's source; check cells become check points."""
    ids = {c.grade_id: c for c in checks}
    cells, learner = [], []
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        gid = _nbgrader(cell).get("grade_id")
        if gid in ids:
            cells.append(("check", ids[gid].name))
        elif gid in locked:
            cells.append(("code", locked[gid]))
        else:
            learner.append((len(cells), cell.source))
            cells.append(("code", cell.source))
    return cells, learner


@dataclass
class Job:
    """How to run one worker: isolation, limits, timeout, the paths to hide and the job slot (its uid)."""
    sandbox: isolation.Sandbox
    limits: isolation.Limits
    timeout: float = 60.0
    hide: tuple = ()
    slot: int = 0
    uid_base: int = isolation.UID_BASE


def run_worker(cells, cases, job):
    """Run the worker on ``cells``; ``({name: result dict or None}, fate)``: the results that came back and
    why the worker stopped early (None when it ran to the end)."""
    box = job.sandbox
    uid = job.uid_base + job.slot if box.drop_uid else None
    jobdir = tempfile.mkdtemp(prefix="ntm-grade-")
    fate = None
    try:
        os.chmod(jobdir, 0o711)
        for sub in ("work", "results"):
            os.mkdir(os.path.join(jobdir, sub), 0o700)
            if uid is not None:
                os.chown(os.path.join(jobdir, sub), uid, uid)
        with open(os.path.join(jobdir, "job.pkl"), "wb") as f:
            os.fchmod(f.fileno(), 0o600)
            pickle.dump({"cells": cells, "cases": cases, "uid": uid,
                         "hide": list(job.hide) if box.hide else []}, f)
        read_end, write_end = os.pipe()
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "OMP_NUM_THREADS": "1",
               "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
               "MPLBACKEND": "Agg", "HOME": jobdir}
        nproc = job.limits.processes if uid is not None else isolation.user_tasks() + job.limits.processes
        command = box.prefix + [sys.executable, "-I", "-m", "ntm_course_instructor.grading.worker", jobdir,
                                str(write_end)]
        try:
            proc = subprocess.Popen(command, cwd=jobdir, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(write_end,),
                                    preexec_fn=isolation.preexec(job.limits, nproc if sys.platform.startswith(
                                        "linux") else None))
        finally:
            os.close(write_end)
        fate = _watch(proc, read_end, job.timeout, len(cells))
        isolation.kill_all(proc, uid)
        if fate is None and proc.returncode not in (0, None):
            fate = _ended(proc.returncode)
        results = {}
        for kind, name in cells:
            path = os.path.join(jobdir, "results", f"{name}.pt")
            if kind != "check" or name in results or not os.path.lexists(path):
                continue
            try:
                results[name] = load_results(path)
            except Rejected as error:
                results[name] = {"status": "rejected", "detail": str(error)}
        return results, fate
    finally:
        shutil.rmtree(jobdir, ignore_errors=True)


def _watch(proc, fd, timeout, n_cells):
    """Follow the worker's progress lines; None when it finished, else why it was stopped."""
    started = time.monotonic()
    limit_total = timeout * (n_cells + 4) + 60
    deadline = started + timeout + 60          # importing torch on a busy machine is slow
    buffer, done = b"", False
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            now = time.monotonic()
            wait = min(deadline, started + limit_total) - now
            if wait <= 0:
                return "stopped at the time limit (an endless loop?)"
            ready, _, _ = select.select([pipe], [], [], min(wait, 1.0))
            if not ready:
                if proc.poll() is not None and not done:   # ended without "done", a child holding the pipe
                    return _ended(proc.returncode)
                continue
            chunk = pipe.read(65536)
            if not chunk:   # every writer closed: the worker (and its children) ended
                break
            buffer = (buffer + chunk)[-4096:]
            done = done or b"\ndone\n" in b"\n" + buffer
            deadline = time.monotonic() + timeout
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        return None if done else "stopped at the time limit (an endless loop?)"
    return None if done else _ended(proc.returncode)


def _ended(code):
    if code is None or code == 0:
        return "the worker ended early (the submission's code exited)"
    if code < 0 or code > 128:
        number = -code if code < 0 else code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        if name == "SIGXCPU":
            return "ran out of CPU time (an endless loop?)"
        if name == "SIGKILL":
            return "the worker was killed (out of memory, or the submission killed it)"
        return f"the worker was ended by {name}"
    return f"the submission's code ended the worker (exit code {code})"


def grade(path, assignments, timeout=60, job=None):
    """Grade one submission: run its code in an isolated worker, score the values that come back here.
    Never raises for a bad submission."""
    job = job or Job(isolation.probe(), isolation.Limits(), timeout)
    job.timeout = timeout
    result = Grade(str(path))
    try:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
    except Exception as error:
        nb = None
        result.reasons.append(_short(f"not a readable notebook ({type(error).__name__}: {error})"))
    result.assignment = identify(path, nb, assignments)
    if result.assignment is None:
        result.reasons.append("unknown assignment: name the file after its exercise, e.g. 05_shift.ipynb")
        return result
    checks = assignments[result.assignment]
    result.scores = {c.grade_id: 0.0 for c in checks}
    result.max_scores = {c.grade_id: float(c.points) for c in checks}
    if nb is None:
        return result

    cells, learner = program(nb, checks, getattr(checks, "locked", {}))
    present = {name for kind, name in cells if kind == "check"}
    names = {c.name for c in checks}
    why = {}
    for index, source in learner:
        for name, reason in handins(source, names).items():
            why.setdefault(name, f"code cell {index + 1}: {reason}")
    graded = [c for c in checks if c.name in present and c.name in EXERCISES and c.name not in why
              and "*" not in why]
    cases = {c.name: {g: [case.args for case in EXERCISES[c.name].cases(g)]
                      for g in ("values", "edge cases", "gradients")} for c in graded}
    results, fate = {}, None
    if graded:
        wanted = {c.name for c in graded}
        run_cells = [cell for cell in cells if cell[0] == "code" or cell[1] in wanted]
        try:
            results, fate = run_worker(run_cells, cases, job)
        except Exception as error:   # the grader could not start a worker: say so, grade the rest
            fate = _short(f"the worker could not run ({type(error).__name__}: {error})")
    for check in checks:
        name, gid = check.name, check.grade_id
        reason, report = None, ""
        if name not in present:
            reason = "the check cell was deleted"
        elif name in why or "*" in why:
            detail = why.get(name) or why["*"]
            reason = (f"hands in the library's own {name} ({detail}): 0 points, write it yourself"
                      if name in why else f"{detail}, which the grader does not accept in an answer: 0 points")
        elif name not in EXERCISES:
            reason = "no exercise for this check"
        elif name not in results:
            reason = fate or "no result came back"
        else:
            points, reason, report = _score(check, results[name])
            result.scores[gid] = points
        result.reports[gid] = report or reason or ""
        if reason:
            result.reasons.append(f"{gid}: {reason}")
    return result


def _score(check, data):
    """``(points, reason, report)`` for one check from the worker's result."""
    from ntm_course.teaching.practice.checker import not_callable, score_outcomes
    exercise = EXERCISES[check.name]
    status = data.get("status")
    if status == "rejected":
        return 0.0, f"the worker sent back something other than values ({data.get('detail')})", ""
    if status != "ok":
        detail = str(data.get("detail") or "no function to check")
        return 0.0, _short(detail), not_callable(exercise, detail).report
    if data.get("reference_called"):
        return 0.0, (f"calls the library's own {check.name}: 0 points, write it yourself"), ""
    result = score_outcomes(exercise, outcomes_from(data))
    points = float(check.points) * result.points / result.max_points
    if result.points == result.max_points:
        return points, "", result.report
    reason = _first_line(result.report)
    for group in exercise.groups:
        failure = result.failures.get(group)
        if failure is not None:
            reason += f" ({group}: {failure.problem})"
            break
    return points, _short(reason, 200), result.report


# --- the gradebook -------------------------------------------------------------------------------------

def _num(x):
    return f"{x:g}"


def columns_of(assignments, names):
    """The check columns for the assignments ``names``, in course order."""
    columns = []
    for name in names:
        columns += [c.grade_id for c in assignments.get(name, []) if c.grade_id not in columns]
    return columns


def header(columns):
    return ["submission", "assignment", POINTS_COLUMN, "max_points", *columns, "reasons"]


def row_of(grade, columns):
    return [grade.submission, grade.assignment or "", _num(grade.points), _num(grade.max_points),
            *[_num(grade.scores[c]) if c in grade.scores else "" for c in columns], "; ".join(grade.reasons)]


def write_csv(grades, path):
    """One row per submission: the grader's points, max points, one column per check, the reasons."""
    columns = []
    for g in grades:
        columns += [c for c in g.max_scores if c not in columns]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header(columns))
        for g in grades:
            writer.writerow(row_of(g, columns))


class Gradebook:
    """A CSV gradebook written row by row as results come in; an existing one is kept and extended."""

    def __init__(self, path, columns, regrade=(), keep=True):
        self.path, self.lock = Path(path), threading.Lock()
        self.rows = {}
        if keep and self.path.exists():
            with open(self.path, newline="", encoding="utf-8") as f:
                old = list(csv.reader(f))
            if old and old[0][:1] == ["submission"]:
                names = old[0]
                for r in old[1:]:
                    entry = dict(zip(names, r))
                    if entry.get("submission") and entry["submission"] not in regrade:
                        self.rows[entry["submission"]] = entry
                columns = list(dict.fromkeys([*names[4:-1], *columns]))
        self.columns = list(columns)
        self.rewrite(list(self.rows))

    def rewrite(self, order):
        with self.lock:
            tmp = self.path.with_name(self.path.name + ".part")
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f)
                writer.writerow(header(self.columns))
                for key in order:
                    if key in self.rows:
                        entry = self.rows[key]
                        writer.writerow([entry.get(c, "") for c in header(self.columns)])
            os.replace(tmp, self.path)

    def add(self, grade):
        entry = dict(zip(header(self.columns), row_of(grade, self.columns)))
        with self.lock:
            self.rows[grade.submission] = entry
            with open(self.path, "a", newline="", encoding="utf-8") as f:
                csv.writer(f).writerow([entry.get(c, "") for c in header(self.columns)])
                f.flush()


def summary(grades):
    """A plain-text table: submission, assignment, points, reasons."""
    rows = [("submission", "assignment", "points", "reasons")]
    rows += [(g.submission, g.assignment or "?", f"{_num(g.points)}/{_num(g.max_points)}",
              "; ".join(g.reasons) or "-") for g in grades]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows)


# --- feedback pages ------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; }} td, th {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
.full {{ color: #176c2e; }} .lost {{ color: #a4262c; }}
pre {{ background: #f6f6f6; padding: .8rem; overflow-x: auto; white-space: pre-wrap; }}
</style></head><body>
<h1>{title}</h1>
<p>Assignment <b>{assignment}</b>: <b>{points} / {max_points}</b> points.</p>
<p>These scores were computed by the course's grader, outside your notebook: it ran your functions on its
own inputs and compared what they returned with the reference. Your notebook's own check cells were not used.</p>
<table><tr><th>check</th><th>points</th><th>result</th></tr>
{rows}
</table>
{reasons}
{details}
</body></html>
"""


def feedback_page(grade):
    """One self-contained HTML page: each check's points, result, failing case and hint."""
    e = html.escape
    rows, details = [], []
    for gid, max_points in grade.max_scores.items():
        points = grade.scores.get(gid, 0.0)
        full = points == max_points
        status = "full marks" if full else next((r.split(": ", 1)[1] for r in grade.reasons
                                                if r.startswith(f"{gid}: ")), "points lost")
        rows.append(f'<tr><td>{e(gid)}</td><td class="{"full" if full else "lost"}">{_num(points)} / '
                    f'{_num(max_points)}</td><td>{e(status)}</td></tr>')
        report = grade.reports.get(gid, "")
        if report:
            details.append(f"<h2>{e(gid)}</h2>\n<pre>{e(report)}</pre>")
    general = [r for r in grade.reasons if not any(r.startswith(f"{g}: ") for g in grade.max_scores)]
    reasons = ("<ul>" + "".join(f"<li>{e(r)}</li>" for r in general) + "</ul>") if general else ""
    return PAGE.format(title=e(f"Feedback: {Path(grade.submission).name}"), assignment=e(grade.assignment or "?"),
                       points=_num(grade.points), max_points=_num(grade.max_points), rows="\n".join(rows),
                       reasons=reasons, details="\n".join(details))


def write_feedback(grade, folder, used):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem, n = Path(grade.submission).stem, 1
    name = f"{stem}.html"
    while name in used:
        n += 1
        name = f"{stem}-{n}.html"
    used.add(name)
    (folder / name).write_text(feedback_page(grade), encoding="utf-8")
    return folder / name


# --- the command -------------------------------------------------------------------------------------------

def add_arguments(parser):
    parser.add_argument("submissions", nargs="+", help="submitted exercise notebooks (.ipynb)")
    parser.add_argument("--csv", default="gradebook.csv",
                        help="the gradebook; an existing one is extended (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=60,
                        help="seconds one cell or one check case may run (default: %(default)s)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of cores, %(default)s)")
    parser.add_argument("--feedback", metavar="DIR", help="write one HTML feedback page per submission to DIR")
    parser.add_argument("--regrade", action="store_true",
                        help="grade again the submissions the gradebook already holds (default: skip them)")
    parser.add_argument("--memory", type=int, default=4096, help="memory per worker, MiB (default: %(default)s)")
    parser.add_argument("--cpu", type=int, default=300, help="CPU seconds per worker (default: %(default)s)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="run workers without namespaces or a separate user (debugging only)")
    parser.add_argument("--source", default=None,
                        help="the course's solution notebooks, for the canonical checks (default: the ones this "
                             "install carries)")


def _hidden_paths(args, submissions):
    """What a worker must not see: the solutions, the submissions' folders, the gradebook, the feedback."""
    import ntm_course
    essential = [Path(p).resolve() for p in (Path(ntm_course.__file__).parents[1], sys.prefix, sys.base_prefix,
                                             Path(sys.executable).resolve().parent, tempfile.gettempdir(), "/dev")]

    def safe(folder):
        return folder != Path("/") and not any(e == folder or folder in e.parents for e in essential)

    hide = []
    for folder, files in [(Path(args.source or solutions_dir()).resolve(), [])] + \
            [(Path(p).resolve().parent, [Path(p).resolve()]) for p in submissions] + \
            [(Path(args.csv).resolve().parent, [Path(args.csv).resolve()])] + \
            ([(Path(args.feedback).resolve(), [])] if args.feedback else []):
        targets = [folder] if safe(folder) else files
        hide += [str(t) for t in targets if str(t) not in hide]
    return hide


def run(args):
    try:
        assignments = load_assignments(args.source)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    with threads(1):   # the grader's own comparisons: tiny tensors, many jobs side by side
        return grade_all(args, assignments)


def grade_all(args, assignments):
    """Grade ``args.submissions`` into the gradebook ``args.csv`` (the body of :func:`run`)."""
    box = isolation.probe(not args.no_isolation)
    for warning in box.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    submissions = list(dict.fromkeys(args.submissions))
    names = []
    for path in submissions:
        name = identify(path, None, assignments)
        if name is None:
            try:
                name = identify(path, nbformat.read(str(path), as_version=4), assignments)
            except Exception:
                name = None
        names.append(name)
    columns = columns_of(assignments, [n for n in dict.fromkeys(names) if n])
    book = Gradebook(args.csv, columns, regrade=set(submissions) if args.regrade else set())
    todo = [p for p in submissions if p not in book.rows]
    skipped = len(submissions) - len(todo)
    if skipped:
        print(f"{skipped} submission(s) already in {args.csv}: skipped (--regrade to grade them again)")
    limits = isolation.Limits(cpu_s=args.cpu, memory_mb=args.memory)
    hide = _hidden_paths(args, submissions)
    slots = queue.Queue()
    jobs = max(1, args.jobs)
    for slot in range(jobs):
        slots.put(slot)
    used_pages = set()

    def one(path):
        slot = slots.get()
        try:
            job = Job(box, limits, args.timeout, tuple(hide), slot)
            return grade(path, assignments, timeout=args.timeout, job=job)
        finally:
            slots.put(slot)

    grades = {}
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(one, path): path for path in todo}
        for future in as_completed(futures):
            result = future.result()
            grades[futures[future]] = result
            book.add(result)
            if args.feedback:
                write_feedback(result, args.feedback, used_pages)
            print(f"graded {result.submission}: {_num(result.points)}/{_num(result.max_points)}", flush=True)
    earlier = [k for k in book.rows if k not in submissions]
    book.rewrite(earlier + submissions)   # the final gradebook in a stable order: the same for any --jobs
    print(summary([grades[p] for p in todo]))
    print(f"gradebook written to {args.csv} (the grader's verdict: scores computed outside the submissions)")
    return 0
