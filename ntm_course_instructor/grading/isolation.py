"""How the gradebook isolates each submission's worker process (Linux; elsewhere it warns and runs plainly).

**With bubblewrap** (``bwrap``, Debian's ``bubblewrap`` package; :func:`bwrap_command`), each worker gets a
private machine:

- a minimal, read-only filesystem: ``/usr`` and the Python installation, with every installed copy of the
  course masked, and the assignment's kit (:mod:`.kit`) as the only course code; no home, no checkout, no git
  history, no solutions, no gradebook or feedback folder, no host ``/run`` or ``/tmp`` (so no host sockets);
- its own ``/tmp``, ``/var/tmp`` and ``/dev/shm`` (size-limited tmpfs, gone with the worker), its own ``/proc``
  (its own processes only), no network, its own IPC, UTS and PID namespaces; it dies with the grader
  (``--die-with-parent``) and has its own session;
- as root, a uid of this grading run's own (:func:`claim_uids`: a lock per block of uids, so two runs at once
  never share one; no groups, no capabilities, no new privileges);
- a memory cgroup where the system offers one (:class:`MemoryCgroup`), so memory held in tmpfs files and memfds
  counts against the limit too.

**Without it** (the fallback, said in the warnings) the worker starts in new network, mount and PID namespaces
(``unshare``), covers the solutions, the submissions' folders, the gradebook and the feedback folder with empty
mounts (:func:`hide`) and drops to its uid itself: the library's files stay readable on disk there.

Always: resource limits set before ``exec`` (CPU seconds, address space, processes, file size, no core dumps;
:func:`preexec`), and one wall-clock limit per submission (:mod:`.runner`). Clean-up kills the worker's session,
every process of its uid (its own: no other run uses it) and of its cgroup.
"""
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field

try:
    import resource   # POSIX only; imported here, never in a forked child (see preexec)
except ImportError:   # pragma: no cover (Windows: no limits, and the grader says so)
    resource = None


UID_BASE = 1_900_000_000   # far above any account's uid
UID_BLOCK = 64             # the uids of one grading run: UID_BASE + k * UID_BLOCK + slot, slot < UID_BLOCK
LOCKS = "/run/ntm-course-grader"
KIT, SCRATCH, JOB = "/kit", "/scratch", "/job"   # where the worker finds the kit, its folder and its job


@dataclass
class Limits:
    cpu_s: int = 300
    memory_mb: int = 4096
    processes: int = 64
    file_mb: int = 256
    tmp_mb: int = 256       # each of the worker's /tmp, /var/tmp and /dev/shm


@dataclass
class Sandbox:
    """What this system allows: the kind of sandbox (``"bwrap"``, ``"unshare"`` or ``""``), the command prefix of
    the fallback, whether uids can be dropped, whether paths must be hidden, memory cgroups, warnings to print."""
    kind: str = ""
    prefix: list = field(default_factory=list)
    drop_uid: bool = False
    hide: bool = False
    cgroup: str = None
    warnings: list = field(default_factory=list)


def _try(cmd):
    try:
        return subprocess.run(cmd + ["true"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


_PROBED = {}


def _root():
    return hasattr(os, "geteuid") and os.geteuid() == 0


def probe(isolate=True):
    """The strongest isolation this system grants (cached)."""
    if isolate in _PROBED:
        return _PROBED[isolate]
    box = Sandbox()
    root = _root()
    if not isolate:
        box.warnings.append("isolation is off (--no-isolation): submissions run with your permissions and network")
    elif not sys.platform.startswith("linux"):
        box.warnings.append(f"no isolation on {sys.platform}: submissions run with your permissions and network "
                            "access; grade untrusted work in the container (see the Dockerfile)")
    else:
        bwrap = shutil.which("bwrap")
        if bwrap and _try(bwrap_base(bwrap, root) + ["--ro-bind", "/", "/", "--"]):
            box.kind, box.prefix, box.drop_uid = "bwrap", [bwrap], root
        else:
            box.warnings.append("bubblewrap (bwrap) is " + ("not permitted here" if bwrap else "not installed") +
                                ": falling back to unshare, where the worker can read the library's files on disk; "
                                "install Debian's `bubblewrap` package, or grade in the container (see the Dockerfile)")
            _probe_unshare(box, root)
        box.cgroup = memory_cgroup_root()
        if box.cgroup is None:
            box.warnings.append("no memory cgroup to create here: memory held in tmpfs files or memfds is not "
                                "counted (only the address-space limit holds); the container recipe has one")
        if not root and box.kind == "bwrap":
            box.warnings.append("the grader is not root, so workers run as your user inside their sandboxes (they "
                                "see and write only their own folders) and two runs at once share that user")
        elif not root:
            box.warnings.append("the grader is not root, so submissions run as your user: they cannot change "
                                "the hidden files, but can change anything else you can")
    _PROBED[isolate] = box
    return box


def _probe_unshare(box, root):
    unshare = shutil.which("unshare")
    base = [unshare] + ([] if root else ["--map-root-user"]) if unshare else None
    for extra in (["--net", "--mount", "--pid", "--fork", "--kill-child"], ["--net", "--mount"], ["--net"]):
        if base and _try(base + extra + ["--"]):
            box.kind, box.prefix = "unshare", base + extra + ["--"]
            box.hide = "--mount" in extra
            break
    if not box.prefix:
        box.warnings.append("no network namespace (`unshare --net` is missing or not permitted here): "
                            "submissions can reach the network; grade in the container (see the Dockerfile)")
    elif not box.hide:
        box.warnings.append("no mount namespace (`unshare --mount` not permitted): submissions can read "
                            "the solutions")
    box.drop_uid = root


def bwrap_base(bwrap, root):
    """bubblewrap's namespaces: all of them (as root, no user namespace: the worker drops to its own uid)."""
    spaces = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    if not root:
        spaces.append("--unshare-user")
    return [bwrap, *spaces, "--die-with-parent", "--new-session"]


def _python_roots():
    """The folders the worker's Python needs: its installation, its environment, its executable's folder."""
    roots = [sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))]
    found = []
    for root in map(os.path.realpath, roots):
        if not any(root == f or root.startswith(f + "/") for f in found):
            found = [f for f in found if not f.startswith(root + "/")] + [root]
    return found


def _course_copies(roots):
    """Every installed copy of the course under ``roots`` (packages, metadata, editable finders), to mask."""
    found = []
    for path in sys.path:
        real = os.path.realpath(path) if path else ""
        if not real or not os.path.isdir(real) or not any(real == r or real.startswith(r + "/") for r in roots):
            continue
        for entry in os.listdir(real):
            if "ntm_course" in entry or "ntm-course" in entry:
                found.append(os.path.join(real, entry))
    return sorted(set(found))


def bwrap_command(box, limits, kit, work, job_file, argv):
    """The bubblewrap command line that runs ``argv`` (the worker's Python) in a private machine: see the
    module's docstring. ``kit`` is mounted read-only at ``/kit``, ``work`` read-write at ``/scratch`` (its
    cwd and home), ``job_file`` read-only at ``/job``."""
    cmd = bwrap_base(box.prefix[0], _root())
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    size = str(int(limits.tmp_mb) * 2 ** 20)
    for tmp in ("/tmp", "/var/tmp", "/dev/shm"):
        cmd += ["--perms", "1777", "--size", size, "--tmpfs", tmp]
    roots = _python_roots()
    made = {"/", "/tmp", "/var", "/var/tmp", "/dev"}
    for root in roots:
        if root == "/usr" or root.startswith("/usr/"):
            continue   # already there, read-only
        parts = root.strip("/").split("/")
        for i in range(1, len(parts)):
            parent = "/" + "/".join(parts[:i])
            if parent not in made:
                cmd += ["--perms", "0755", "--dir", parent]
                made.add(parent)
        cmd += ["--ro-bind", root, root]
    for path in _course_copies(roots):
        cmd += (["--perms", "0000", "--size", "4096", "--tmpfs", path] if os.path.isdir(path)
                else ["--ro-bind", "/dev/null", path])
    cmd += ["--ro-bind", kit, KIT, "--bind", work, SCRATCH, "--ro-bind", job_file, JOB, "--chdir", SCRATCH]
    if _root():
        cmd += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]   # the worker drops them with its uid
    return cmd + ["--", *argv]


class MemoryCgroup:
    """One worker's memory cgroup (v1 or v2) under this process's own: its limit counts tmpfs files and memfds
    too. ``enter()`` runs in the child before ``exec``; ``oom()`` says whether the limit was hit."""

    def __init__(self, root, name, memory_mb):
        self.path = os.path.join(root, name)
        os.mkdir(self.path, 0o700)
        limit = str(int(memory_mb) * 2 ** 20)
        for name in ("memory.limit_in_bytes", "memory.max"):
            target = os.path.join(self.path, name)
            if os.path.exists(target):
                with open(target, "w") as f:
                    f.write(limit)
        swap = os.path.join(self.path, "memory.memsw.limit_in_bytes")
        if os.path.exists(swap):
            try:
                with open(swap, "w") as f:
                    f.write(limit)
            except OSError:
                pass

    def enter(self):
        with open(os.path.join(self.path, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))

    def oom(self):
        """Whether the kernel killed a process of this cgroup for its memory limit (v1: ``oom_kill`` in
        ``memory.oom_control``; v2: in ``memory.events``)."""
        for name in ("memory.oom_control", "memory.events"):
            try:
                with open(os.path.join(self.path, name)) as f:
                    lines = f.read().splitlines()
            except OSError:
                continue
            if any(line.split()[:1] == ["oom_kill"] and line.split()[1:2] != ["0"] for line in lines):
                return True
        return False

    def remove(self):
        """Kill whatever is left in the cgroup, then remove it."""
        for _ in range(50):
            try:
                with open(os.path.join(self.path, "cgroup.procs")) as f:
                    pids = [int(p) for p in f.read().split()]
            except OSError:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except OSError:
                import time
                time.sleep(0.02)


def memory_cgroup_root():
    """The folder under which this process may create memory cgroups (its own cgroup's), or None."""
    if not _root():
        return None
    try:
        with open("/proc/self/cgroup") as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if "memory" in controllers.split(","):
            candidates = [os.path.join("/sys/fs/cgroup/memory", path.lstrip("/"))]
            break
    else:
        path = next((line.split(":", 2)[2] for line in lines if line.startswith("0::")), None)
        candidates = [os.path.join("/sys/fs/cgroup", path.lstrip("/"))] if path is not None else []
    for root in candidates:
        try:
            probe_cg = MemoryCgroup(root, f"ntm-grade-probe-{os.getpid()}", 64)
            probe_cg.remove()
            return root
        except OSError:
            continue
    return None


def claim_uids(n):
    """``(first uid, lock file)``: a block of ``n`` uids no other grading run holds, until the lock file is
    closed (its lock, in a root-only folder, is how two runs at once keep apart)."""
    import fcntl
    n = min(n, UID_BLOCK)
    try:
        os.mkdir(LOCKS, 0o700)
    except FileExistsError:
        pass
    info = os.lstat(LOCKS)
    import stat
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != 0 or info.st_mode & 0o077:
        raise OSError(f"{LOCKS} must be a folder only root can use: refusing to keep uid locks there")
    for k in range(4096):
        first = UID_BASE + k * UID_BLOCK
        fd = os.open(os.path.join(LOCKS, f"{first}.lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return first, os.fdopen(fd, "r+")
        except OSError:
            os.close(fd)
    raise OSError("every block of worker uids is held by another grading run")


def preexec(limits, uid_processes=None, cgroup=None):
    """The ``preexec_fn`` of a worker: its own session, its cgroup and resource limits."""
    def setup():   # runs in the forked child before exec: no import here (another thread may hold the import lock)
        os.setsid()
        if cgroup is not None:
            cgroup.enter()
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
    """Kill a worker, everything it started (its session), and, when it ran as ``uid`` (this run's own), all of
    that uid's processes (those that left the session)."""
    for target in (lambda: os.killpg(proc.pid, signal.SIGKILL), lambda: proc.kill()):
        try:
            target()
        except (OSError, ProcessLookupError):
            pass
    if uid is not None and os.geteuid() == 0:
        # ``kill -1`` run as uid kills every other process of that uid (kill(-1) spares the caller); started with
        # subprocess's own uid switch, so no Python code runs in a forked copy of this threaded process
        try:
            subprocess.run([shutil.which("kill") or "/bin/kill", "-KILL", "-1"], user=uid, group=uid,
                           extra_groups=[], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=10)
        except (OSError, subprocess.SubprocessError):
            pass
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
