"""The grader's side of one worker process: hand it the job, watch it, take what it sends back.

:func:`run_worker` writes the job (the cells to run, the checks' cases and what the worker needs of each check)
into a private folder, starts the worker in its sandbox (:mod:`.isolation`: bubblewrap, or the fallback) with the
assignment's kit (:mod:`.kit`) first on its ``sys.path``, and reads its channel, a pipe, as frames
(:class:`.transport.Frames`): the first result of each check is kept, any later one for the same check ignored.
The time limit is one wall clock for the whole submission, started when the worker says it has started (before
any submitted code runs, so the submission cannot move it) and not moved by anything the submission sends. Then
it kills whatever the worker left running and removes the folder.
"""
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

from . import isolation
from .transport import MAX_FRAME, Frames, Rejected, read_result


WORKER_ENV = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1",
              "PYTHONHASHSEED": "0", "MPLBACKEND": "Agg"}
STARTUP_S = 120        # how long the worker may take to start (import torch) on a busy machine
MAX_CHANNEL = 4 * MAX_FRAME
BOOT = ("import sys; sys.path.insert(0, sys.argv[1]); from ntm_course_instructor.grading.worker import main; "
        "main(sys.argv[2], int(sys.argv[3]), *sys.argv[4:])")


class Interrupted(Exception):
    """The grading run was stopped (Ctrl-C): this worker was killed by the grader, not by its submission."""


@dataclass
class Job:
    """How to run one worker: isolation, limits, the submission's time limit (seconds of wall clock), the paths
    to hide (fallback), the job slot, this run's first uid, the assignment's kit and checks, and the run's stop."""
    sandbox: isolation.Sandbox
    limits: isolation.Limits
    timeout: float = 120.0
    hide: tuple = ()
    slot: int = 0
    uid_base: int = None
    kit: str = None
    specs: dict = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def uid(self):
        if not self.sandbox.drop_uid:
            return None
        return (isolation.UID_BASE if self.uid_base is None else self.uid_base) + self.slot


def run_worker(cells, cases, job):
    """Run the worker on ``cells``; ``({name: result dict}, fate)``: the results that came back and why the worker
    stopped early (None when it ran to the end). Raises :class:`Interrupted` when ``job.stop`` is set."""
    import pickle
    uid = job.uid
    jobdir = tempfile.mkdtemp(prefix="ntm-grade-")
    cgroup = None
    try:
        work = os.path.join(jobdir, "work")
        os.mkdir(work, 0o700)
        if uid is not None:
            os.chown(work, uid, uid)
        job_file = os.path.join(jobdir, "job.pkl")
        with open(job_file, "xb") as f:
            pickle.dump({"cells": cells, "cases": cases, "uid": uid, "specs": job.specs,
                         "hide": list(job.hide) if job.sandbox.hide else []}, f)
        if job.sandbox.cgroup:
            cgroup = isolation.MemoryCgroup(job.sandbox.cgroup, f"ntm-grade-{os.getpid()}-{job.slot}-"
                                                                 f"{os.path.basename(jobdir)}", job.limits.memory_mb)
        proc, read_end = _start(jobdir, job_file, uid, job, cgroup)
        try:
            results, fate = _watch(proc, read_end, job, {name for kind, name in cells if kind == "check"})
        finally:
            isolation.kill_all(proc, uid)
        if fate is None and proc.returncode not in (0, None):
            fate = _ended(proc.returncode)
        if cgroup is not None and cgroup.oom():
            fate = f"ran out of memory (the limit is {job.limits.memory_mb} MiB, files in /tmp included)"
        return results, fate
    finally:
        if cgroup is not None:
            cgroup.remove()
        shutil.rmtree(jobdir, ignore_errors=True)


def _start(jobdir, job_file, uid, job, cgroup):
    """Start the worker in its sandbox with its limits; ``(process, the read end of its channel)``."""
    read_end, write_end = os.pipe()
    python = [sys.executable, "-I", "-c", BOOT]
    if job.sandbox.kind == "bwrap":
        os.chmod(job_file, 0o644)
        argv = python + [isolation.KIT, isolation.JOB, str(write_end)]
        command = isolation.bwrap_command(job.sandbox, job.limits, job.kit, os.path.join(jobdir, "work"), job_file,
                                          argv)
        env = {"PATH": "/usr/bin:/bin", **WORKER_ENV, "HOME": isolation.SCRATCH, "TMPDIR": "/tmp"}
        cwd = "/"
    else:
        os.chmod(jobdir, 0o711)
        os.chmod(job_file, 0o644)
        command = job.sandbox.prefix + python + [job.kit, job_file, str(write_end), jobdir]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **WORKER_ENV, "HOME": jobdir}
        cwd = jobdir
    nproc = job.limits.processes if uid is not None else isolation.user_tasks() + job.limits.processes
    try:
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, pass_fds=(write_end,),
                                preexec_fn=isolation.preexec(job.limits,
                                                             nproc if sys.platform.startswith("linux") else None,
                                                             cgroup))
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    return proc, read_end


def _watch(proc, fd, job, expected):
    """Read the worker's channel until it closes, the time limit passes or the run is stopped; ``(results,
    fate)``: the first valid result of each ``expected`` check, and why the worker was stopped (None when it
    said it was done)."""
    started, frames = time.monotonic(), Frames()
    deadline = started + STARTUP_S
    results, rejected, place, done, total = {}, None, "", False, 0
    fate = None
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            if job.stop.is_set():
                raise Interrupted()
            wait = deadline - time.monotonic()
            if wait <= 0:
                fate = (f"stopped at the time limit ({job.timeout:g} s for the whole submission{place}; an endless "
                        "loop?)")
                break
            ready, _, _ = select.select([pipe], [], [], min(wait, 0.5))
            if not ready:
                if proc.poll() is not None and not done:   # ended without "done", a child holding the pipe
                    fate = _ended(proc.returncode)
                    break
                continue
            chunk = pipe.read(1 << 20)
            if not chunk:   # every writer closed: the worker (and its children) ended
                break
            total += len(chunk)
            for kind, payload in frames.feed(chunk if total <= MAX_CHANNEL else b"\0" * 16):
                if kind == b"p":
                    text = payload.decode("utf-8", "replace")
                    if text.startswith("started") and deadline == started + STARTUP_S:
                        deadline = time.monotonic() + job.timeout   # before any submitted code: cannot be faked
                    elif text.startswith("cell "):
                        place = f", in code cell {text[5:].strip()[:6]}"
                    done = done or text == "done"
                    continue
                try:
                    name, result = read_result(payload)
                except Rejected as error:
                    rejected = str(error)
                    continue
                if name in expected and name not in results:
                    results[name] = result
            if frames.broken:
                fate = "the worker sent something other than results: " + frames.broken
                break
    if fate is None:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        if not done:
            fate = _ended(proc.returncode)
    if rejected:
        for name in expected - set(results):
            results[name] = {"status": "rejected", "detail": rejected}
    return results, fate


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
