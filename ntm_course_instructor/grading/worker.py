"""The gradebook's worker: runs one submission's code in its own process and sends back only values.

``ntm-course-instructor grade`` starts one worker per submission (:mod:`.runner`: ``python -m
ntm_course_instructor.grading.worker JOBDIR FD``, isolated by :mod:`.isolation`). The worker reads
``JOBDIR/job.pkl`` (written by the grader), hides the paths it is told to hide and drops to an unprivileged
user where it can (:func:`confine`), then runs the submission's code cells in order (IPython magics and shell
lines removed). Where a check cell stood, it calls the learner's function on the cases the grader sent, with
the library's own version of that function *poisoned* (calling it raises and is recorded), and saves what came
out to ``JOBDIR/results/<name>.pt`` (:func:`.transport.pack`: plain tensors, numbers, strings, tuples, lists
and dicts; anything else is replaced by a marker naming its type). It writes one line to the pipe ``FD`` at
each step, so the grader can tell an endless loop from progress.

The grader loads these files with :func:`.transport.load_results`, which rejects anything but those plain
values: the worker's answers are data, never code. It scores them in its own process
(:func:`.checker.score_outcomes`); nothing the submission does to the worker's interpreter reaches the grader.
"""
import os
import re
import sys

from .isolation import drop_privileges, expose, hide
from .transport import pack_gradient, pack_outcome


POISON_FLAG = "__ntm_course_reference_called__"


# --- the submission's code -----------------------------------------------------------------------------

_MAGIC = re.compile(r"^(\s*)(?:[%!]|\?\w|[\w.]+\?{1,2}\s*$)")   # %magic, !shell, ?help, name? and name??
_ASSIGNED_MAGIC = re.compile(r"^(\s*)([\w.]+)\s*=\s*[%!]")
RUN_CELL_MAGICS = ("%%time", "%%timeit", "%%capture", "%%prun")


def strip_magics(source):
    """Python source without IPython magics (``%matplotlib``, ``!pip``, ``x = !ls``, ``%%time``): each magic
    line becomes ``pass`` (or ``x = None``) and the lines it continues with a trailing backslash become empty,
    so line numbers and indentation survive; a cell magic other than timing or capturing empties the cell."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        if not lines[0].lstrip().startswith(RUN_CELL_MAGICS):
            return ""
        lines = ["pass"] + lines[1:]
    out, continued = [], False
    for line in lines:
        assigned, magic = _ASSIGNED_MAGIC.match(line), _MAGIC.match(line)
        if continued:                   # the rest of a magic that the line before continued
            out.append("")
        elif assigned:
            out.append(f"{assigned.group(1)}{assigned.group(2)} = None")
        elif magic:
            out.append(f"{magic.group(1)}pass")
        else:
            out.append(line)
        continued = line.endswith("\\") and bool(continued or assigned or magic)
    return "\n".join(out) + "\n"


# --- running the cases -----------------------------------------------------------------------------------

def _poison_code():
    def poisoned(*args, **kwargs):
        __ntm_course_reference_called__.append(1)   # noqa: F821 (set in the reference's globals)
        raise RuntimeError("the library's own version of this function cannot be handed in: write your own")
    return poisoned.__code__


class Poisoned:
    """While active, the library's own ``reference`` raises when called, under any name it has."""

    def __init__(self, reference):
        self.reference, self.calls = reference, []
        self.code = getattr(reference, "__code__", None)

    def __enter__(self):
        if self.code is not None and not self.code.co_freevars:
            self.reference.__globals__[POISON_FLAG] = self.calls
            self.reference.__code__ = _poison_code()
        return self

    def __exit__(self, *exc):
        if self.code is not None and not self.code.co_freevars:
            self.reference.__code__ = self.code
            self.reference.__globals__.pop(POISON_FLAG, None)
        return False


def is_reference(fn, reference):
    """True when ``fn`` is the library's own function (or wraps it directly)."""
    seen = 0
    while fn is not None and seen < 10:
        if fn is reference or getattr(fn, "__code__", None) is getattr(reference, "__code__", 0):
            return True
        fn = getattr(fn, "__wrapped__", None) or getattr(fn, "func", None)
        seen += 1
    return False


def run_cases(exercise, fn, cases, progress):
    """``{"outcomes": {group: [...]}, "reference_called": bool}`` for ``fn`` on the grader's cases. Like
    ``check`` in the learner's notebook, it leaves the submission's session as found, so the cells after a check
    cell see the same random generators, grad mode and default dtype here as there."""
    from ntm_course.teaching.practice.checker import call_learner, clone, learner_gradients, session_kept
    outcomes = {}
    with session_kept(), Poisoned(exercise.reference) as poison:
        for group in ("values", "edge cases"):
            outcomes[group] = []
            for args in cases.get(group, []):
                outcome = call_learner(exercise, fn, clone(args))
                outcomes[group].append(pack_outcome(outcome))
                progress("case")
                if outcome.not_implemented:
                    return {"outcomes": outcomes, "reference_called": bool(poison.calls)}
        outcomes["gradients"] = []
        for args in cases.get("gradients", []):
            outcomes["gradients"].append(pack_gradient(learner_gradients(exercise, fn, clone(args))))
            progress("case")
    return {"outcomes": outcomes, "reference_called": bool(poison.calls)}


class Progress:
    """One line to the grader's pipe at each step, so it can tell an endless loop from progress."""

    def __init__(self, fd):
        self.out = os.fdopen(fd, "w", buffering=1)

    def __call__(self, message):
        try:
            self.out.write(message + "\n")
        except Exception:
            pass

    def close(self):
        try:
            self.out.close()
        except OSError:   # the grader stopped reading (it gave up on this worker): nothing more to say
            pass


def confine(job, jobdir):
    """The isolation steps the worker takes itself, before any submitted code runs: hide the paths it is told
    to hide and, as root, keep the Python installation reachable and drop to the job's uid. Returns warnings."""
    warnings = []
    if job.get("hide"):
        try:
            hide(job["hide"])
        except OSError as error:
            warnings.append(f"could not hide {error.filename}: {error.strerror}")
    if job.get("uid") is not None and os.getuid() == 0:
        if job.get("hide"):   # a mount namespace: keep the Python installation reachable for the new user
            try:
                stage = os.path.join(jobdir, "stage")
                os.mkdir(stage, 0o711)
                expose([sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)),
                        *[p for p in sys.path if p]], stage)
            except OSError as error:
                warnings.append(f"could not expose {error.filename}: {error.strerror}")
        drop_privileges(job["uid"])
    return warnings


def run_cell(source, index, namespace):
    """Run one code cell in the submission's namespace; None, or what it raised, in one line."""
    try:
        exec(compile(strip_magics(source), f"<code cell {index + 1}>", "exec"), namespace)
    except BaseException as error:   # noqa: B902 (a submission may raise SystemExit or worse)
        return f"code cell {index + 1} raised {type(error).__name__}: {str(error)[:200]}"
    return None


def check_result(exercise, fn, cases, errors, progress):
    """What the worker sends back for one check point: the learner's ``fn`` run on the grader's ``cases``
    (a ``KeyError`` when none came), or why there is nothing to run (``errors``: the code cells' so far)."""
    name = exercise.name
    if fn is None:
        return {"status": "missing", "detail": f"`{name}` is not defined" + (f" ({errors[-1]})" if errors else "")}
    if not callable(fn):
        return {"status": "missing", "detail": f"`{name}` is not a function"}
    if is_reference(fn, exercise.reference):
        return {"status": "ok", "outcomes": {}, "reference_called": True}
    try:
        return {"status": "ok", **run_cases(exercise, fn, cases[name], progress)}
    except BaseException as error:   # noqa: B902
        return {"status": "missing", "detail": f"the cases stopped: {type(error).__name__}: {error}"}


class Results:
    """The job's results folder; its writers are taken before any submitted code runs (``torch.save``,
    ``os.replace``, ``os.path.join``), so what a submission patches cannot redirect them."""

    def __init__(self, folder, save, rename, join):
        self.folder, self.save, self.rename, self.join = folder, save, rename, join

    def write(self, name, result):
        path = self.join(self.folder, f"{name}.pt")
        part = f"{path}.{os.getpid()}.part"   # a forked copy of the worker writes its own
        self.save(result, part)
        self.rename(part, path)


def main(jobdir, fd):
    """Run the job in ``jobdir`` and report each step on the pipe ``fd``; ends the process when done."""
    import pickle
    progress = Progress(fd)
    with open(os.path.join(jobdir, "job.pkl"), "rb") as f:
        job = pickle.load(f)   # written by the grader, read before any submitted code runs
    warnings = confine(job, jobdir)
    work = os.path.join(jobdir, "work")
    os.chdir(work)
    os.environ.update({"HOME": work, "TMPDIR": work, "MPLBACKEND": "Agg", "MPLCONFIGDIR": work})

    import builtins

    import torch   # torch and the checker are loaded before the submission runs

    from ntm_course.teaching.practice.checker import clone  # noqa: F401
    from .registry import EXERCISES

    results = Results(os.path.join(jobdir, "results"), torch.save, os.replace, os.path.join)
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    errors = []
    progress("started" + ("; " + "; ".join(warnings) if warnings else ""))
    for index, (kind, payload) in enumerate(job["cells"]):
        progress(f"cell {index}")
        if kind == "code":
            error = run_cell(payload, index, namespace)
            if error:
                errors.append(error)
            continue
        results.write(payload, check_result(EXERCISES[payload], namespace.get(payload), job["cases"], errors,
                                            progress))
        progress(f"check {payload}")
    progress("done")
    progress.close()
    os._exit(0)   # skip interpreter shutdown: whatever the submission left behind cannot delay or fail it


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
