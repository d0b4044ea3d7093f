"""The gradebook's worker: runs one submission's code in its own process and sends back only values.

``ntm-course-instructor grade`` starts one worker per submission (``python -m ntm_course_instructor.grading.worker JOBDIR FD``,
isolated by :mod:`.isolation`). The worker reads ``JOBDIR/job.pkl`` (written by the grader), hides the paths it
is told to hide and drops to an unprivileged user where it can, then runs the submission's code cells in order
(IPython magics and shell lines removed). Where a check cell stood, it calls the learner's function on the
cases the grader sent, with the library's own version of that function *poisoned* (calling it raises and is
recorded), and saves what came out to ``JOBDIR/results/<name>.pt``: plain tensors, numbers, strings, tuples,
lists and dicts (anything else is replaced by a marker naming its type). It writes one line to the pipe ``FD``
at each step, so the grader can tell an endless loop from progress.

The grader loads these files with ``torch.load(..., weights_only=True)`` and :func:`load_results` rejects
anything but those plain values: the worker's answers are data, never code. It scores them in its own process
(:func:`.checker.score_outcomes`); nothing the submission does to the worker's interpreter reaches the grader.
"""
import os
import re
import stat
import sys


MAX_LEAVES = 2000
MAX_ELEMENTS = 4_000_000
FOREIGN, DEVICE = "__foreign__", "__device__"
POISON_FLAG = "__ntm_course_reference_called__"


# --- values across the process boundary ----------------------------------------------------------------

def pack(x, depth=0, count=None):
    """A plain copy of a learner's value: CPU tensors, numbers, strings, tuples, lists and str-keyed dicts;
    anything else becomes ``{FOREIGN: type name}``."""
    import torch
    count = [0] if count is None else count
    count[0] += 1
    if count[0] > MAX_LEAVES or depth > 8:
        return {FOREIGN: "too large a result"}
    if isinstance(x, torch.Tensor):
        if x.layout != torch.strided:
            return {FOREIGN: f"{x.layout} tensor"}
        if x.numel() > MAX_ELEMENTS:
            return {FOREIGN: "too large a tensor"}
        if x.device.type != "cpu":
            return {DEVICE: str(x.device), "shape": list(x.shape), "dtype": str(x.dtype).replace("torch.", "")}
        return x.detach().clone().as_subclass(torch.Tensor)
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x)
    if isinstance(x, str):
        return str.__str__(x)[:10000]
    if x is None:
        return None
    if isinstance(x, tuple):
        return tuple(pack(v, depth + 1, count) for v in x)
    if isinstance(x, list):
        return [pack(v, depth + 1, count) for v in x]
    if isinstance(x, dict) and all(isinstance(k, str) for k in x):
        return {str(k): pack(v, depth + 1, count) for k, v in x.items()}
    try:
        name = type(x).__name__
    except Exception:
        name = "object"
    return {FOREIGN: str(name)[:60]}


def _error(error):
    try:
        message = str(error)
    except Exception:
        message = "(its message could not be read)"
    return [type(error).__name__[:60], message[:1000]]


def pack_outcome(outcome):
    import torch
    return {"got": pack(outcome.got),
            "args": [pack(a) if isinstance(a, torch.Tensor) else None for a in (outcome.args or ())],
            "error": None if outcome.error is None else _error(outcome.error),
            "notimpl": bool(outcome.not_implemented)}


def pack_gradient(outcome):
    return {"grads": None if outcome.grads is None else [pack(g) for g in outcome.grads],
            "error": None if outcome.error is None else _error(outcome.error)}


class Rejected(Exception):
    """A worker sent back something other than plain values."""


def _check_plain(x, depth=0):
    import torch
    if depth > 16:   # pack stops at depth 8, and its marker can sit at depth 13 of a result
        raise Rejected("nested too deeply")
    if type(x) is torch.Tensor:
        if x.layout != torch.strided or x.device.type != "cpu":
            raise Rejected("a tensor of an unusual kind")
        return
    if x is None or type(x) in (bool, int, float, str):
        return
    if type(x) in (tuple, list):
        for v in x:
            _check_plain(v, depth + 1)
        return
    if type(x) is dict:
        for k, v in x.items():
            if type(k) is not str:
                raise Rejected("a dict key that is not a string")
            _check_plain(v, depth + 1)
        return
    raise Rejected(f"a value of type {type(x).__name__}")


def unpack(x):
    """The grader's side of :func:`pack`: markers become :class:`.checker.Foreign` or meta tensors."""
    import torch

    from ntm_course.teaching.practice.checker import Foreign
    if isinstance(x, dict):
        if FOREIGN in x and len(x) == 1:
            return Foreign(x[FOREIGN])
        if DEVICE in x:
            try:   # stands for a tensor left on another device: same shape and dtype, on "meta"
                return torch.empty(x["shape"], dtype=getattr(torch, x["dtype"]), device="meta")
            except Exception:
                return Foreign(f"tensor on {x[DEVICE]}")
        return {k: unpack(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(unpack(v) for v in x)
    if isinstance(x, list):
        return [unpack(v) for v in x]
    return x


def load_results(path, max_bytes=256 * 2 ** 20):
    """Load and check one result file written by a worker: a dict of plain values. Raises :class:`Rejected`
    for anything else (never runs code from the file: ``weights_only=True``, no symlinks, size-capped, and a FIFO
    or a folder that a submission put in its place is rejected without blocking)."""
    import torch
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise Rejected(f"unreadable ({error.strerror})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Rejected("not a file")
        if info.st_size > max_bytes:
            raise Rejected("too large")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        try:
            data = torch.load(f, weights_only=True, map_location="cpu")
        except Exception as error:
            raise Rejected(f"not a valid result file ({type(error).__name__})")
    _check_plain(data)
    if not isinstance(data, dict):
        raise Rejected("not a dict")
    return data


def outcomes_from(data):
    """``{group: [Outcome or GradOutcome]}`` from a loaded result's ``"outcomes"``."""
    from ntm_course.teaching.practice.checker import GradOutcome, Outcome, rebuild_error
    found = {}
    for group, items in (data.get("outcomes") or {}).items():
        if not isinstance(items, list):
            continue
        outs = []
        for item in items:
            if not isinstance(item, dict):
                outs.append(None)
                continue
            err = item.get("error")
            error = rebuild_error(*err[:2]) if isinstance(err, list) and len(err) >= 2 else None
            if group == "gradients":
                grads = item.get("grads")
                outs.append(GradOutcome(grads=None if grads is None else unpack(grads), error=error))
            else:
                args = item.get("args")
                outs.append(Outcome(got=unpack(item.get("got")), args=unpack(args) if isinstance(args, list) else None,
                                    error=error, not_implemented=bool(item.get("notimpl"))))
        found[group] = outs
    return found


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


# --- isolation steps the worker takes itself, before any submitted code runs ---------------------------

def _mount(source, target, fstype, flags, data):
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mount.argtypes = (ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p)
    if libc.mount(source.encode(), target.encode(), fstype.encode() if fstype else None, flags,
                  data.encode() if data else None) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), target)


def hide(paths):
    """Cover each folder with an empty tmpfs and each file with /dev/null (in this mount namespace only)."""
    MS_BIND, MS_NOSUID, MS_NODEV, MS_NOEXEC = 4096, 2, 4, 8
    for path in paths:
        if os.path.isdir(path):
            _mount("none", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=16k,mode=000")
        elif os.path.exists(path):
            _mount("/dev/null", path, None, MS_BIND, None)


def _blocked(path):
    """The highest folder on the way to ``path`` that others cannot enter (mode without o+x), else None."""
    current = "/"
    for part in [p for p in os.path.realpath(path).split("/") if p]:
        current = os.path.join(current, part)
        try:
            if os.path.isdir(current) and not os.stat(current).st_mode & 0o001:
                return current
        except OSError:
            return None
    return None


def expose(paths, stage):
    """Keep ``paths`` (the Python installation, the course) reachable once the worker drops to another user:
    where a folder on the way is closed to others (a Python under /root), cover that folder with an empty,
    enterable tmpfs and bind the needed paths back into it. The rest of the closed folder stays out of sight."""
    MS_BIND, MS_REC = 4096, 16384
    needed = {}
    for path in dict.fromkeys(os.path.realpath(p) for p in paths if p and os.path.isdir(p)):
        blocked = _blocked(path)
        if blocked:
            needed.setdefault(blocked, []).append(path)
    for blocked, inside in needed.items():
        staged = []
        for path in inside:
            target = os.path.join(stage, str(len(os.listdir(stage))))
            os.mkdir(target, 0o755)
            _mount(path, target, None, MS_BIND | MS_REC, None)
            staged.append((target, path))
        _mount("none", blocked, "tmpfs", 0, "size=64k,mode=755")
        for target, path in staged:
            os.makedirs(path, 0o755, exist_ok=True)
            _mount(target, path, None, MS_BIND | MS_REC, None)


def drop_privileges(uid):
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop privileges")


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


def main(jobdir, fd):
    import pickle
    out = os.fdopen(fd, "w", buffering=1)

    def progress(message):
        try:
            out.write(message + "\n")
        except Exception:
            pass

    with open(os.path.join(jobdir, "job.pkl"), "rb") as f:
        job = pickle.load(f)   # written by the grader, read before any submitted code runs
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
    work = os.path.join(jobdir, "work")
    os.chdir(work)
    os.environ.update({"HOME": work, "TMPDIR": work, "MPLBACKEND": "Agg", "MPLCONFIGDIR": work})

    import builtins

    import torch  # noqa: F401  (imported before the submission runs)

    from ntm_course.teaching.practice.checker import clone  # noqa: F401
    from .registry import EXERCISES

    save, rename, join = torch.save, os.replace, os.path.join
    results = join(jobdir, "results")
    cases = job["cases"]
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    errors = []
    progress("started" + ("; " + "; ".join(warnings) if warnings else ""))
    for index, (kind, payload) in enumerate(job["cells"]):
        progress(f"cell {index}")
        if kind == "code":
            try:
                exec(compile(strip_magics(payload), f"<code cell {index + 1}>", "exec"), namespace)
            except BaseException as error:   # noqa: B902 (a submission may raise SystemExit or worse)
                errors.append(f"code cell {index + 1} raised {type(error).__name__}: {str(error)[:200]}")
            continue
        name = payload
        exercise = EXERCISES[name]
        fn = namespace.get(name)
        if fn is None:
            result = {"status": "missing", "detail": f"`{name}` is not defined"
                      + (f" ({errors[-1]})" if errors else "")}
        elif not callable(fn):
            result = {"status": "missing", "detail": f"`{name}` is not a function"}
        elif is_reference(fn, exercise.reference):
            result = {"status": "ok", "outcomes": {}, "reference_called": True}
        else:
            try:
                result = {"status": "ok", **run_cases(exercise, fn, cases[name], progress)}
            except BaseException as error:   # noqa: B902
                result = {"status": "missing", "detail": f"the cases stopped: {type(error).__name__}: {error}"}
        path = join(results, f"{name}.pt")
        part = f"{path}.{os.getpid()}.part"   # a forked copy of the worker writes its own
        save(result, part)
        rename(part, path)
        progress(f"check {name}")
    progress("done")
    try:
        out.close()
    except OSError:   # the grader stopped reading (it gave up on this worker): nothing more to say
        pass
    os._exit(0)   # skip interpreter shutdown: whatever the submission left behind cannot delay or fail it


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
