"""The gradebook's worker: runs one submission's code in its own process and sends back only values.

``ntm-course-instructor grade`` starts one worker per submission (:mod:`.runner`), in the sandbox of
:mod:`.isolation`, with the assignment's kit (:mod:`.kit`) first on ``sys.path``: the course's library with the
functions this assignment grades stubbed out, and of each graded exercise only what runs a case. The worker reads
its job (the cells, the grader's cases, what it needs of each check; written by the grader), becomes the job's
unprivileged user, then runs the submission's code cells in order (IPython magics and shell lines removed). Where
a check cell stood, it calls the learner's function on the cases the grader sent and writes what came out on its
channel to the grader (:class:`Channel`: a pipe; :func:`.transport.pack` makes it plain tensors, numbers,
strings, tuples, lists and dicts, anything else a marker naming its type).

The grader keeps the first result of each check, rebuilds it as data only (:func:`.transport.decode`) and scores
it in its own process (:func:`.checker.score_outcomes`); nothing the submission does to the worker's interpreter
reaches the grader, and no reference is there to borrow.
"""
import os
import re
import sys

from .isolation import drop_privileges, expose, hide
from .transport import frame, pack_gradient, pack_outcome, result_message


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

def default_call(fn, args):
    return fn(*args)


def exercise_of(name, spec):
    """What the worker knows of the exercise ``name``: a practice check comes from the kit's own registry (its
    reference a stub), a graded one is its call (imported from the kit's shaken module) and gradient arguments."""
    import importlib
    from types import SimpleNamespace
    if spec.get("practice"):
        from ntm_course.teaching.practice import EXERCISES
        return EXERCISES[name]
    call = default_call
    if spec.get("call"):
        module, qualname = spec["call"].split(":")
        call = getattr(importlib.import_module(module), qualname)
    return SimpleNamespace(name=name, call=call, grad_args=tuple(spec.get("grad_args", ())))


def run_cases(exercise, fn, cases, progress):
    """``{"outcomes": {group: [...]}}`` for ``fn`` on the grader's cases. Like ``check`` in the learner's
    notebook, it leaves the submission's session as found, so the cells after a check cell see the same random
    generators, grad mode and default dtype here as there."""
    from ntm_course.teaching.practice.checker import call_learner, clone, learner_gradients, session_kept
    outcomes = {}
    with session_kept():
        for group in ("values", "edge cases"):
            outcomes[group] = []
            for args in cases.get(group, []):
                outcome = call_learner(exercise, fn, clone(args))
                outcomes[group].append(pack_outcome(outcome))
                progress("case")
                if outcome.not_implemented:
                    return {"outcomes": outcomes}
        outcomes["gradients"] = []
        for args in cases.get("gradients", []):
            outcomes["gradients"].append(pack_gradient(learner_gradients(exercise, fn, clone(args))))
            progress("case")
    return {"outcomes": outcomes}


class Channel:
    """The worker's channel to the grader (a pipe): progress and results, one frame each. Its writer is taken
    before any submitted code runs, so what a submission patches cannot redirect it; the grader keeps the first
    result of each check and ignores any later one, so a cell after a check cannot change what it sent."""

    def __init__(self, fd, write=os.write):
        self.fd, self.write = fd, write

    def send(self, kind, payload):
        data = frame(kind, payload)
        try:
            while data:
                data = data[self.write(self.fd, data):]
        except OSError:   # the grader stopped reading (it gave up on this worker): nothing more to say
            pass

    def __call__(self, message):
        self.send(b"p", message.encode()[:200])

    def result(self, name, value):
        self.send(b"r", result_message(name, value))


def confine(job, jobdir):
    """The isolation steps the worker takes itself, before any submitted code runs, where no sandbox did them
    (the fallback): hide the paths it is told to hide and, as root, keep the Python installation reachable and
    drop to the job's uid. Returns warnings."""
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
        return f"code cell {index + 1} raised {type(error).__name__}: {_said(error)}"
    return None


def _said(error, limit=200):
    try:
        return str(error)[:limit]
    except BaseException:   # noqa: B902 (a lying exception)
        return "(its message could not be read)"


def check_result(exercise, fn, cases, errors, progress):
    """What the worker sends back for one check point: the learner's ``fn`` run on the grader's ``cases``, or
    why there is nothing to run (``errors``: the code cells' so far)."""
    name = exercise.name
    if fn is None:
        return {"status": "missing", "detail": f"`{name}` is not defined" + (f" ({errors[-1]})" if errors else "")}
    if not callable(fn):
        return {"status": "missing", "detail": f"`{name}` is not a function"}
    try:
        return {"status": "ok", **run_cases(exercise, fn, cases.get(name, {}), progress)}
    except BaseException as error:   # noqa: B902
        return {"status": "missing", "detail": f"the cases stopped: {type(error).__name__}: {_said(error)}"}


def main(job_path, fd, jobdir=None):
    """Run the job in ``job_path`` and report each step on the channel ``fd``; ends the process when done.
    ``jobdir``: the job's folder in the fallback (no sandbox), where :func:`confine` isolates the worker."""
    import pickle
    channel = Channel(fd)
    with open(job_path, "rb") as f:
        job = pickle.load(f)   # written by the grader, read before any submitted code runs
    uid = job.get("uid")
    if uid is not None and os.getuid() == 0 and jobdir is None:   # the sandbox: become the job's user
        drop_privileges(uid)
    warnings = confine(job, jobdir) if jobdir is not None else []
    work = os.getcwd() if jobdir is None else os.path.join(jobdir, "work")
    os.chdir(work)
    os.environ.update({"HOME": work, "MPLBACKEND": "Agg", "MPLCONFIGDIR": work})
    if jobdir is not None:
        os.environ["TMPDIR"] = work

    import builtins

    import torch  # noqa: F401 (torch and the checker are loaded before the submission runs)

    from ntm_course.teaching.practice.checker import clone  # noqa: F401
    exercises = {name: exercise_of(name, spec) for name, spec in job["specs"].items()}
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    errors = []
    channel("started" + ("; " + "; ".join(warnings) if warnings else ""))
    for index, (kind, payload) in enumerate(job["cells"]):
        channel(f"cell {index}")
        if kind == "code":
            error = run_cell(payload, index, namespace)
            if error:
                errors.append(error)
            continue
        channel.result(payload, check_result(exercises[payload], namespace.get(payload), job["cases"], errors,
                                             channel))
    channel("done")
    os._exit(0)   # skip interpreter shutdown: whatever the submission left behind cannot delay or fail it


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3] if len(sys.argv) > 3 else None)
