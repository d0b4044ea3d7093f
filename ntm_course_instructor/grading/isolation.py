"""How the gradebook isolates each submission's worker process (Linux; elsewhere it warns and runs plainly).

- **No network**: the worker starts in new network, mount and PID namespaces (``unshare --net --mount --pid
  --fork --kill-child``; ``--map-root-user`` added when the grader is not root). Where the system refuses a
  namespace, a warning says which is missing.
- **Hidden files**: inside its mount namespace the worker covers the solutions, the folders of the
  submissions, the gradebook and the feedback folder with empty mounts before any submitted code runs
  (:func:`hide`; :func:`expose` keeps the Python installation reachable for the unprivileged user).
- **An unprivileged user**: when the grader runs as root, each worker drops to its own uid
  (``uid_base + slot``, no home, no groups; :func:`drop_privileges`) before running submitted code, so it
  cannot write the grader's files, and a fork bomb only exhausts its own process limit.
- **Limits** (set before ``exec``): CPU seconds, address space, processes, file size, no core dumps; a
  throwaway working directory under the system's temp folder, deleted afterwards.
- **Clean-up**: the worker is its own session (and PID namespace): killing it kills everything it started.
"""
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field


UID_BASE = 1_900_000_000   # far above any account's uid: each job slot gets its own


@dataclass
class Limits:
    cpu_s: int = 300
    memory_mb: int = 4096
    processes: int = 64
    file_mb: int = 256


@dataclass
class Sandbox:
    """What this system allows: the command prefix, whether uids can be dropped, and warnings to print."""
    prefix: list = field(default_factory=list)
    drop_uid: bool = False
    hide: bool = False
    warnings: list = field(default_factory=list)


def _try(cmd):
    try:
        return subprocess.run(cmd + ["true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


_PROBED = {}


def probe(isolate=True):
    """The strongest isolation this system grants (cached)."""
    if isolate in _PROBED:
        return _PROBED[isolate]
    box = Sandbox()
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not isolate:
        box.warnings.append("isolation is off (--no-isolation): submissions run with your permissions and network")
    elif not sys.platform.startswith("linux"):
        box.warnings.append(f"no isolation on {sys.platform}: submissions run with your permissions and network "
                            "access; grade untrusted work in the container (see the Dockerfile)")
    else:
        unshare = shutil.which("unshare")
        base = [unshare] + ([] if root else ["--map-root-user"]) if unshare else None
        for extra in (["--net", "--mount", "--pid", "--fork", "--kill-child"], ["--net", "--mount"], ["--net"]):
            if base and _try(base + extra + ["--"]):
                box.prefix = base + extra + ["--"]
                box.hide = "--mount" in extra
                break
        if not box.prefix:
            box.warnings.append("no network namespace (`unshare --net` is missing or not permitted here): "
                                "submissions can reach the network; grade in the container (see the Dockerfile)")
        elif not box.hide:
            box.warnings.append("no mount namespace (`unshare --mount` not permitted): submissions can read "
                                "the solutions")
        box.drop_uid = root
        if not root:
            box.warnings.append("the grader is not root, so submissions run as your user: they cannot change "
                                "the hidden files, but can change anything else you can")
    _PROBED[isolate] = box
    return box


def preexec(limits, uid_processes=None):
    """The ``preexec_fn`` of a worker: its own session and resource limits."""
    def setup():
        import resource
        os.setsid()
        cpu = int(limits.cpu_s)
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
        memory = int(limits.memory_mb) * 2 ** 20
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        size = int(limits.file_mb) * 2 ** 20
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if uid_processes is not None:
            resource.setrlimit(resource.RLIMIT_NPROC, (uid_processes, uid_processes))
    return setup


def user_tasks():
    """How many processes and threads this user runs now (RLIMIT_NPROC counts them all)."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{entry}/task"))
            except OSError:
                pass
    return count


def kill_all(proc, uid=None):
    """Kill a worker, everything it started (its session), and, when it ran as ``uid``, all of that uid's
    processes (those that left the session)."""
    for target in (lambda: os.killpg(proc.pid, signal.SIGKILL), lambda: proc.kill()):
        try:
            target()
        except (OSError, ProcessLookupError):
            pass
    if uid is not None and os.geteuid() == 0:
        pid = os.fork()
        if pid == 0:   # a child that becomes uid and kills every other process of that uid (kill(-1) spares it)
            try:
                os.setgid(uid)
                os.setuid(uid)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass


# --- the steps the worker takes itself, before any submitted code runs ---------------------------------

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
    """Become ``uid`` (its own group, no others); OSError when the system ignores the switch."""
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop privileges")
