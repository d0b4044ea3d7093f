"""``ntm-course-instructor grade SUBMISSION.ipynb... [--csv gradebook.csv] [--jobs N] [--feedback DIR]``: grade a class.

**The grader computes every score itself.** For each graded check of a submission (a check cell
``<name>_check`` whose answer is the function ``<name>``), the grader runs the submission's code -- its
answer cells and the course's locked cells (restored from the solution notebooks, like the checks) -- in a
separate, isolated worker process, sends it the check's inputs, and gets back only the values and gradients
the learner's function produced. It compares them with the reference in its own process, with the same
scoring as ``check`` (:func:`.checker.score_outcomes`). Nothing a submission does to its own interpreter
(shadowing names, patching torch or the course, changing how numbers display, printing full marks) changes a
score; only computing the right values does. The notebook's own ``check`` cell stays the learner's instant
feedback (and what ``nbgrader autograde`` reads); the gradebook's verdict is the one that counts.

**Handing in the reference earns nothing**: an answer cell that imports or calls the library's own version of
the function it must write scores 0 on that check with a reason (the grader reads the cell's syntax tree; the
worker's kit holds no reference, only stubs that raise: :mod:`.kit`). The cases are drawn from a secret seed of
each run (``--seed`` repeats one).

**Whatever goes wrong in one submission** (an unreadable file, deleted cells, a crash, an endless loop, a
memory or fork bomb, a worker that kills itself) costs the points of the checks it stopped, is given as a
reason, and the rest of the class is graded all the same. ``--jobs N`` grades N submissions at once; the
gradebook is written as results come in (each time a new file renamed into place: :mod:`.safe_files`), and a
rerun with the same ``--csv`` skips the submissions it already holds (``--regrade`` to redo them); Ctrl-C keeps
what was graded. ``--feedback DIR`` writes one HTML page per submission.

The pieces: :mod:`.assignments` (the syllabus's exercises, from the solution notebooks), :mod:`.submission`
(grading one), :mod:`.handins` (the syntax-tree scan), :mod:`.session` (a run's cases, kits and uids), :mod:`.kit`
(the worker's course code), :mod:`.runner` (one worker process, the grader's side), :mod:`.worker` (the worker
itself), :mod:`.transport` (values across the boundary), :mod:`.isolation`, :mod:`.safe_files` and
:mod:`.feedback` (the pages). This module: the CSV gradebook and the command.
"""
import csv
import io
import os
import queue
import sys
import tempfile
import threading
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from pathlib import Path

from ntm_course import syllabus
from ntm_course.device import threads
from ntm_course.extras import needs


with needs("grading", __name__):
    import nbformat

from ..solutions import solutions_dir
from . import isolation
from .assignments import identify, load_assignments
from .feedback import write_feedback
from .runner import Interrupted, Job
from .safe_files import Folder, UnsafePath
from .session import GradingRun
from .submission import grade, points_text


POINTS_COLUMN = "points_by_grader"   # the gradebook's verdict, computed outside the submission


# --- the gradebook -------------------------------------------------------------------------------------

def columns_of(assignments, names):
    """The check columns for the assignments ``names``, in course order."""
    columns = []
    for name in names:
        columns += [c.grade_id for c in assignments.get(name, []) if c.grade_id not in columns]
    return columns


FIXED = ("submission", "assignment", "kind", POINTS_COLUMN, "max_points")
"""The gradebook's first columns; one column per check follows, then the reasons. ``kind`` is the exercise's kind
in the syllabus: practice (a lesson's stub again, low stakes), graded or transfer."""


def header(columns):
    return [*FIXED, *columns, "reasons"]


def kind_of(assignment):
    """The syllabus kind of the exercise ``assignment`` ("" when the submission's exercise is unknown)."""
    return next((a.kind for a in syllabus.assignments() if a.name == assignment), "")


def row_of(grade, columns):
    scores = [points_text(grade.scores[c]) if c in grade.scores else "" for c in columns]
    return [grade.submission, grade.assignment or "", kind_of(grade.assignment), points_text(grade.points),
            points_text(grade.max_points), *scores, "; ".join(grade.reasons)]


class Gradebook:
    """A CSV gradebook, rewritten whole as each result comes in (never appended: each write is a new file
    renamed over it, :mod:`.safe_files`); an existing one is kept and extended."""

    def __init__(self, path, columns, regrade=(), keep=True):
        self.path, self.lock = Path(path), threading.Lock()
        self.folder = Folder(self.path.parent, what="the gradebook's folder")
        self.rows, self.order = {}, []
        old_text = self.folder.read_text(self.path.name) if keep else None
        if old_text:
            old = list(csv.reader(old_text.splitlines()))
            if old and old[0][:1] == ["submission"]:
                names = old[0]
                for r in old[1:]:
                    entry = dict(zip(names, r))
                    if entry.get("submission") and entry["submission"] not in regrade:
                        self.rows[entry["submission"]] = entry
                columns = list(dict.fromkeys([*(n for n in names[:-1] if n not in FIXED), *columns]))
        self.columns = list(columns)
        self.order = list(self.rows)
        self.rewrite(self.order)

    def rewrite(self, order):
        """Write the whole gradebook, its rows in ``order`` (names it does not hold are left out)."""
        with self.lock:
            self.order = [k for k in dict.fromkeys(order) if k in self.rows]
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(header(self.columns))
            for key in self.order:
                entry = self.rows[key]
                writer.writerow([entry.get(c, "") for c in header(self.columns)])
            self.folder.write_text(self.path.name, out.getvalue())

    def add(self, grade):
        """Add one submission's row (after those written so far)."""
        entry = dict(zip(header(self.columns), row_of(grade, self.columns)))
        with self.lock:
            self.rows[grade.submission] = entry
        self.rewrite([*self.order, grade.submission])


def summary(grades):
    """A plain-text table: submission, assignment, points, reasons."""
    rows = [("submission", "assignment", "points", "reasons")]
    rows += [(g.submission, g.assignment or "?", f"{points_text(g.points)}/{points_text(g.max_points)}",
              "; ".join(g.reasons) or "-") for g in grades]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3] for r in rows)


# --- the command -------------------------------------------------------------------------------------------

def add_arguments(parser):
    parser.add_argument("submissions", nargs="+", help="submitted exercise notebooks (.ipynb)")
    parser.add_argument("--csv", default="gradebook.csv",
                        help="the gradebook; an existing one is extended (default: %(default)s)")
    parser.add_argument("--timeout", type=int, default=120,
                        help="seconds of wall clock one submission may run, all its cells and checks together "
                             "(default: %(default)s)")
    parser.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                        help="submissions graded at once (default: the number of cores, %(default)s)")
    parser.add_argument("--feedback", metavar="DIR", help="write one HTML feedback page per submission to DIR")
    parser.add_argument("--regrade", action="store_true",
                        help="grade again the submissions the gradebook already holds (default: skip them)")
    parser.add_argument("--memory", type=int, default=4096, help="memory per worker, MiB (default: %(default)s)")
    parser.add_argument("--cpu", type=int, default=300, help="CPU seconds per worker (default: %(default)s)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="run workers without namespaces or a separate user (debugging only)")
    parser.add_argument("--seed", type=int, default=None,
                        help="the seed of the checks' cases (default: a new secret one each run, printed at the end)")
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
    except (ValueError, FileNotFoundError) as error:   # FileNotFoundError: an install with no solutions
        print(f"error: {error}", file=sys.stderr)
        return 2
    with threads(1):   # the grader's own comparisons: tiny tensors, many jobs side by side
        try:
            return grade_all(args, assignments)
        except UnsafePath as error:
            print(f"error: {error}", file=sys.stderr)
            return 2


def grade_all(args, assignments):
    """Grade ``args.submissions`` into the gradebook ``args.csv`` (the body of :func:`run`)."""
    box = isolation.probe(not args.no_isolation)
    for warning in box.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    submissions = list(dict.fromkeys(args.submissions))
    names = [_identify(path, assignments) for path in submissions]
    columns = columns_of(assignments, [n for n in dict.fromkeys(names) if n])
    book = Gradebook(args.csv, columns, regrade=set(submissions) if args.regrade else set())
    feedback = Folder(args.feedback, create=True, what="the feedback folder") if args.feedback else None
    todo = [p for p in submissions if p not in book.rows]
    skipped = len(submissions) - len(todo)
    if skipped:
        print(f"{skipped} submission(s) already in {args.csv}: skipped (--regrade to grade them again)")
    jobs_n = max(1, min(args.jobs, isolation.UID_BLOCK))
    limits, hide = isolation.Limits(cpu_s=args.cpu, memory_mb=args.memory), tuple(_hidden_paths(args, submissions))
    grades, used_pages = {}, set()
    with GradingRun(box, jobs_n, args.seed) as run:
        jobs = [Job(box, limits, args.timeout, hide, slot) for slot in range(jobs_n)]
        pool = ThreadPoolExecutor(max_workers=len(jobs))
        try:
            for path, result in _graded(todo, assignments, jobs, args.timeout, run, pool):
                grades[path] = result
                book.add(result)
                if feedback is not None:
                    write_feedback(result, feedback, used_pages)
                print(f"graded {result.submission}: {points_text(result.points)}/{points_text(result.max_points)}",
                      flush=True)
        except KeyboardInterrupt:
            run.stop.set()                                   # every running worker is killed, the rest cancelled
            pool.shutdown(wait=True, cancel_futures=True)
            book.rewrite([k for k in book.rows if k not in submissions] + [p for p in submissions if p in book.rows])
            print(f"\ninterrupted: {len(grades)} of {len(todo)} submission(s) graded and kept in {args.csv}; "
                  "the same command grades the rest", file=sys.stderr)
            return 130
        finally:
            run.stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
    earlier = [k for k in book.rows if k not in submissions]
    book.rewrite(earlier + submissions)   # the final gradebook in a stable order: the same for any --jobs
    print(summary([grades[p] for p in todo]))
    print(f"gradebook written to {args.csv} (the grader's verdict: scores computed outside the submissions; "
          f"cases drawn with --seed {run.seed})")
    return 0


def _identify(path, assignments):
    """The assignment of a submission, by its file name, else by its cells; None when neither tells."""
    name = identify(path, None, assignments)
    if name is None:
        try:
            name = identify(path, nbformat.read(str(path), as_version=4), assignments)
        except Exception:
            name = None
    return name


def _graded(paths, assignments, jobs, timeout, run, pool):
    """``(path, Grade)`` for each of ``paths`` as it is graded in ``pool``, ``len(jobs)`` at a time: each grading
    holds one of ``jobs`` (its slot, so its uid) while it runs. A grading the run's stop interrupted
    (:class:`.runner.Interrupted`: its worker killed by the grader) is left out, never recorded as the student's."""
    free = queue.Queue()
    for job in jobs:
        free.put(job)

    def one(path):
        job = free.get()
        try:
            return grade(path, assignments, timeout=timeout, job=job, run=run)
        finally:
            free.put(job)

    futures = {pool.submit(one, path): path for path in paths}
    pending = set(futures)
    while pending:
        # a short wait, again and again: Ctrl-C's signal may reach another thread, and the main thread runs
        # Python's handler only when it wakes (a wait without a timeout would hold it until a grading ends)
        done, pending = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: paths.index(futures[f])):
            try:
                result = future.result()
            except Interrupted:
                continue
            yield futures[future], result
