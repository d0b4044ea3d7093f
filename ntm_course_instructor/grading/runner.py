"""The grader's side of one worker process: hand it the job, follow its progress, collect what it sent back.

:func:`run_worker` writes the job (the cells to run, the checks' cases, the uid, the paths to hide) into a
throwaway folder, starts ``python -I -m ntm_course_instructor.grading.worker JOBDIR FD`` under the sandbox's
prefix and limits (:mod:`.isolation`), follows the progress lines on the pipe ``FD`` (:func:`_watch`: a worker
that stops making progress is stopped at the time limit), kills whatever the worker left running, and loads
each check's result as data only (:func:`.transport.load_results`).
"""
import os
import pickle
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from . import isolation
from .transport import Rejected, load_results


WORKER = "ntm_course_instructor.grading.worker"
WORKER_ENV = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
              "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}


@dataclass
class Job:
    """How to run one worker: isolation, limits, timeout, the paths to hide and the job slot (its uid)."""
    sandbox: isolation.Sandbox
    limits: isolation.Limits
    timeout: float = 60.0
    hide: tuple = ()
    slot: int = 0


def run_worker(cells, cases, job):
    """Run the worker on ``cells``; ``({name: result dict or None}, fate)``: the results that came back and
    why the worker stopped early (None when it ran to the end)."""
    uid = isolation.UID_BASE + job.slot if job.sandbox.drop_uid else None
    jobdir = tempfile.mkdtemp(prefix="ntm-grade-")
    try:
        _write_job(jobdir, cells, cases, uid, job)
        proc, read_end = _start(jobdir, uid, job)
        fate = _watch(proc, read_end, job.timeout, len(cells))
        isolation.kill_all(proc, uid)
        if fate is None and proc.returncode not in (0, None):
            fate = _ended(proc.returncode)
        return _collect(jobdir, cells), fate
    finally:
        shutil.rmtree(jobdir, ignore_errors=True)


def _write_job(jobdir, cells, cases, uid, job):
    """The job folder: ``work/`` and ``results/`` (the worker's uid owns them) and ``job.pkl``."""
    os.chmod(jobdir, 0o711)
    for sub in ("work", "results"):
        os.mkdir(os.path.join(jobdir, sub), 0o700)
        if uid is not None:
            os.chown(os.path.join(jobdir, sub), uid, uid)
    with open(os.path.join(jobdir, "job.pkl"), "wb") as f:
        os.fchmod(f.fileno(), 0o600)
        pickle.dump({"cells": cells, "cases": cases, "uid": uid,
                     "hide": list(job.hide) if job.sandbox.hide else []}, f)


def _start(jobdir, uid, job):
    """Start the worker in its sandbox with its limits; ``(process, the read end of its progress pipe)``."""
    read_end, write_end = os.pipe()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **WORKER_ENV, "HOME": jobdir}
    nproc = job.limits.processes if uid is not None else isolation.user_tasks() + job.limits.processes
    command = job.sandbox.prefix + [sys.executable, "-I", "-m", WORKER, jobdir, str(write_end)]
    try:
        proc = subprocess.Popen(command, cwd=jobdir, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, pass_fds=(write_end,),
                                preexec_fn=isolation.preexec(job.limits,
                                                             nproc if sys.platform.startswith("linux") else None))
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return proc, read_end


def _collect(jobdir, cells):
    """``{check name: result}`` for each check whose result file came back; a file that is not plain values
    becomes a ``"rejected"`` result."""
    results = {}
    for kind, name in cells:
        path = os.path.join(jobdir, "results", f"{name}.pt")
        if kind != "check" or name in results or not os.path.lexists(path):
            continue
        try:
            results[name] = load_results(path)
        except Rejected as error:
            results[name] = {"status": "rejected", "detail": str(error)}
    return results


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
    """Why a worker that exited with ``code`` (negative: the signal that ended it) stopped early."""
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
