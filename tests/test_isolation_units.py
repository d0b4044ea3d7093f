"""The gradebook's isolation (:mod:`ntm_course_instructor.grading.isolation`), unit by unit and in this process: what
``probe`` grants on each kind of system, the limits ``preexec`` sets, how ``user_tasks`` counts, and what
``kill_all`` kills. The end-to-end tests (tests/test_gradebook.py) see these pieces only from inside workers."""
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import pytest

from ntm_course_instructor.grading import isolation


UNSHARE, BWRAP = "/usr/bin/unshare", "/usr/bin/bwrap"
FULL = ["--net", "--mount", "--pid", "--fork", "--kill-child"]
NOT_ROOT = "the grader is not root, so submissions run as your user"
NO_BWRAP = "bubblewrap (bwrap) is not installed: falling back to unshare"


# --- probe: the strongest isolation the system grants ---------------------------------------------------

@pytest.fixture
def linux(monkeypatch):
    """A fresh probe on a Linux with ``unshare`` at UNSHARE, no bubblewrap and a memory cgroup; ``grant(root,
    *accepted)`` sets whether the grader is root and which commands succeed, and returns the list of the commands
    probe tried."""
    monkeypatch.setattr(isolation, "_PROBED", {})
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setattr(shutil, "which", lambda name: UNSHARE if name == "unshare" else None)
    monkeypatch.setattr(isolation, "memory_cgroup_root", lambda: "/sys/fs/cgroup/memory/mine")

    def grant(root, *accepted):
        tried = []
        monkeypatch.setattr(os, "geteuid", lambda: 0 if root else 1000)

        def fake_try(cmd):
            tried.append(cmd)
            return cmd in accepted
        monkeypatch.setattr(isolation, "_try", fake_try)
        return tried
    return grant


def test_root_with_every_namespace_gets_the_full_sandbox(linux):
    full = [UNSHARE, *FULL, "--"]
    tried = linux(True, full)
    box = isolation.probe()
    assert (box.kind, box.prefix, box.hide, box.drop_uid) == ("unshare", full, True, True)
    assert len(box.warnings) == 1 and box.warnings[0].startswith(NO_BWRAP)
    assert tried == [full]


def test_a_user_falls_back_to_the_namespaces_granted_and_is_warned_about_its_uid(linux):
    base = [UNSHARE, "--map-root-user"]
    tried = linux(False, base + ["--net", "--mount", "--"])
    box = isolation.probe()
    assert tried == [base + FULL + ["--"], base + ["--net", "--mount", "--"]]
    assert box.prefix == base + ["--net", "--mount", "--"] and box.hide and not box.drop_uid
    assert len(box.warnings) == 2 and box.warnings[0].startswith(NO_BWRAP) and box.warnings[1].startswith(NOT_ROOT)


def test_network_namespace_alone_warns_that_the_solutions_are_readable(linux):
    linux(True, [UNSHARE, "--net", "--"])
    box = isolation.probe()
    assert box.prefix == [UNSHARE, "--net", "--"] and not box.hide and box.drop_uid
    assert box.warnings[1:] == ["no mount namespace (`unshare --mount` not permitted): submissions can read the "
                                "solutions"]


def test_no_namespace_at_all_warns_about_the_network(linux):
    tried = linux(True)
    box = isolation.probe()
    assert len(tried) == 3 and box.prefix == [] and not box.hide
    assert box.drop_uid   # a root grader still runs each worker as its own uid
    assert len(box.warnings) == 2 and box.warnings[1].startswith("no network namespace (`unshare --net` is missing")


def test_without_unshare_nothing_is_tried(linux, monkeypatch):
    tried = linux(False, [UNSHARE, "--net", "--"])
    monkeypatch.setattr(shutil, "which", lambda name: None)
    box = isolation.probe()
    assert tried == [] and box.prefix == [] and not box.drop_uid
    assert len(box.warnings) == 3
    assert box.warnings[1].startswith("no network namespace") and box.warnings[2].startswith(NOT_ROOT)


def test_isolation_off_and_other_systems_only_warn(linux, monkeypatch):
    tried = linux(True, [UNSHARE, *FULL, "--"])
    off = isolation.probe(isolate=False)
    assert (off.prefix, off.hide, off.drop_uid) == ([], False, False)
    assert off.warnings == ["isolation is off (--no-isolation): submissions run with your permissions and network"]
    monkeypatch.setattr(sys, "platform", "darwin")
    mac = isolation.probe()
    assert (mac.prefix, mac.hide, mac.drop_uid) == ([], False, False)
    assert len(mac.warnings) == 1 and mac.warnings[0].startswith("no isolation on darwin: ")
    assert "Dockerfile" in mac.warnings[0]
    assert tried == []


def test_probe_is_cached_per_setting(linux):
    tried = linux(True, [UNSHARE, *FULL, "--"])
    first = isolation.probe()
    assert isolation.probe() is first and isolation.probe(True) is first
    assert len(tried) == 1
    assert isolation.probe(False) is not first and len(tried) == 1


def bwrap_found(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: {"bwrap": BWRAP, "unshare": UNSHARE}.get(name))


def test_bubblewrap_when_it_runs_is_the_sandbox(linux, monkeypatch):
    tried = linux(True, isolation.bwrap_base(BWRAP, True) + ["--ro-bind", "/", "/", "--"])
    bwrap_found(monkeypatch)
    box = isolation.probe()
    assert (box.kind, box.prefix, box.hide, box.drop_uid, box.warnings) == ("bwrap", [BWRAP], False, True, [])
    assert len(tried) == 1 and "--unshare-user" not in tried[0]   # root: the worker drops to its own uid itself
    assert box.cgroup == "/sys/fs/cgroup/memory/mine"


def test_bubblewrap_that_is_not_permitted_falls_back_to_unshare_and_says_so(linux, monkeypatch):
    tried = linux(False, [UNSHARE, "--map-root-user", *FULL, "--"])
    bwrap_found(monkeypatch)
    monkeypatch.setattr(isolation, "memory_cgroup_root", lambda: None)
    box = isolation.probe()
    assert box.kind == "unshare" and "--unshare-user" in tried[0]   # not root: bwrap needs a user namespace
    assert box.warnings[0].startswith("bubblewrap (bwrap) is not permitted here: falling back to unshare")
    assert box.warnings[1].startswith("no memory cgroup to create here")


def test_this_systems_sandbox_really_cuts_the_network(monkeypatch):
    """probe() on this very machine: its sandbox runs a command that sees only the loopback device
    (/proc/self/net/dev lists the devices of the caller's network namespace); without one, it says so."""
    monkeypatch.setattr(isolation, "_PROBED", {})
    box = isolation.probe()
    prefix = (isolation.bwrap_base(box.prefix[0], os.geteuid() == 0) + ["--ro-bind", "/", "/", "--proc", "/proc",
                                                                          "--"]
              if box.kind == "bwrap" else box.prefix)
    if prefix:
        out = subprocess.run(prefix + ["cat", "/proc/self/net/dev"], capture_output=True, text=True,
                             timeout=20, check=True).stdout
        devices = [line.split(":")[0].strip() for line in out.splitlines() if ":" in line]
        assert devices == ["lo"], out
    else:
        assert any(w.startswith(("no network namespace", "no isolation on")) for w in box.warnings), box.warnings


def test_try_runs_the_command_with_true_and_reports_success():
    assert isolation._try([]) is True                         # `true`
    assert isolation._try(["false"]) is False                 # `false true` exits 1
    assert isolation._try(["/nonexistent/unshare"]) is False  # OSError: no such program


def test_try_gives_up_on_a_command_that_hangs(monkeypatch):
    seen = {}

    def hang(cmd, **kwargs):
        seen.update(cmd=cmd, timeout=kwargs.get("timeout"))
        raise subprocess.TimeoutExpired(cmd, kwargs.get("timeout"))
    monkeypatch.setattr(subprocess, "run", hang)
    assert isolation._try([UNSHARE, "--net", "--"]) is False
    assert seen == {"cmd": [UNSHARE, "--net", "--", "true"], "timeout": 20}


# --- preexec: a session of its own and resource limits ---------------------------------------------------

def test_preexec_sets_the_limits_only_when_called(monkeypatch):
    calls = []
    monkeypatch.setattr(os, "setsid", lambda: calls.append("setsid"))
    monkeypatch.setattr(resource, "setrlimit", lambda which, limits: calls.append((which, limits)))
    setup = isolation.preexec(isolation.Limits(cpu_s=7, memory_mb=64, processes=3, file_mb=2), uid_processes=9)
    assert calls == []
    setup()
    mib = 2 ** 20
    assert calls == ["setsid", (resource.RLIMIT_CPU, (7, 12)), (resource.RLIMIT_AS, (64 * mib, 64 * mib)),
                     (resource.RLIMIT_FSIZE, (2 * mib, 2 * mib)), (resource.RLIMIT_CORE, (0, 0)),
                     (resource.RLIMIT_NPROC, (9, 9))]
    calls.clear()
    isolation.preexec(isolation.Limits())()   # the defaults, and no process limit when none is given
    assert calls == ["setsid", (resource.RLIMIT_CPU, (300, 305)), (resource.RLIMIT_AS, (4096 * mib, 4096 * mib)),
                     (resource.RLIMIT_FSIZE, (256 * mib, 256 * mib)), (resource.RLIMIT_CORE, (0, 0))]


def test_preexec_limits_hold_in_the_started_process():
    script = ("import os, resource; r = resource.getrlimit; "
              "print(os.getsid(0) == os.getpid(), r(resource.RLIMIT_CPU), r(resource.RLIMIT_AS), "
              "r(resource.RLIMIT_FSIZE), r(resource.RLIMIT_CORE), r(resource.RLIMIT_NPROC))")
    limits = isolation.Limits(cpu_s=30, memory_mb=2048, file_mb=1)
    hard = resource.getrlimit(resource.RLIMIT_NPROC)[1]
    nproc = 4000 if hard == resource.RLIM_INFINITY else min(hard, 4000)   # a limit may only go down
    out = subprocess.run([sys.executable, "-I", "-S", "-c", script], capture_output=True, text=True, timeout=20,
                         preexec_fn=isolation.preexec(limits, nproc), check=True).stdout.split(" ", 1)
    mib = 2 ** 20
    assert out[0] == "True"
    assert out[1].strip() == f"(30, 35) ({2048 * mib}, {2048 * mib}) ({mib}, {mib}) (0, 0) ({nproc}, {nproc})"


# --- user_tasks: how many processes and threads this user runs --------------------------------------------

def _threads(pid):
    return len(os.listdir(f"/proc/{pid}/task"))


def test_user_tasks_counts_the_threads_of_this_users_processes(monkeypatch):
    me, real_listdir = str(os.getpid()), os.listdir
    gone = "99999999"   # above any pid_max: stat fails, as for a process that ended during the count

    def only_me(path):
        return [me, "self", gone, "sys"] if path == "/proc" else real_listdir(path)
    before = _threads(me)
    monkeypatch.setattr(os, "listdir", only_me)
    counted = isolation.user_tasks()
    monkeypatch.setattr(os, "getuid", lambda: isolation.UID_BASE - 1)
    assert isolation.user_tasks() == 0   # this process is not that uid's
    monkeypatch.undo()
    assert counted == before == _threads(me)
    assert isolation.user_tasks() >= counted   # with every process of this machine


# --- kill_all: the worker, its session and, as root, its uid --------------------------------------------

def running(pid):
    """Whether ``pid`` still runs (a zombie has ended)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state not in ("Z", "X")


def ended(pid, within=3.0):
    stop = time.monotonic() + within
    while running(pid):
        if time.monotonic() > stop:
            return False
        time.sleep(0.02)
    return True


# a worker that starts a child in its session, and one that leaves it (setsid): it prints both pids
ESCAPING = "sleep 60 & echo $!; setsid sleep 60 & echo $!; exec sleep 60"


def start(**kwargs):
    proc = subprocess.Popen(["sh", "-c", ESCAPING], stdout=subprocess.PIPE, text=True, start_new_session=True,
                            cwd="/", **kwargs)
    inside, outside = int(proc.stdout.readline()), int(proc.stdout.readline())
    proc.stdout.close()
    stop = time.monotonic() + 5
    while os.getsid(outside) != outside:   # until the second has left the session (setsid has run)
        assert time.monotonic() < stop, "setsid did not run"
        time.sleep(0.01)
    return proc, inside, outside


def test_kill_all_kills_the_worker_and_its_session_but_not_a_process_that_left_it():
    proc, inside, outside = start()
    try:
        assert running(inside) and running(outside)
        isolation.kill_all(proc)
        assert proc.returncode == -signal.SIGKILL
        assert ended(inside)
        assert running(outside)   # only killing the uid's processes reaches it (next test)
    finally:
        os.kill(outside, signal.SIGKILL)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="starting a process as another uid needs root")
def test_kill_all_as_root_also_kills_every_process_of_the_workers_uid():
    uid = isolation.UID_BASE - 1000 - os.getpid() % 100_000   # a uid of this test process alone
    proc, inside, outside = start(user=uid, group=uid, extra_groups=[])
    try:
        assert os.stat(f"/proc/{outside}").st_uid == uid
        isolation.kill_all(proc, uid)
        assert proc.returncode == -signal.SIGKILL
        assert ended(inside) and ended(outside)
    finally:
        if running(outside):
            os.kill(outside, signal.SIGKILL)


def test_kill_all_leaves_the_uid_alone_when_the_grader_is_not_root(monkeypatch):
    def refuse():
        raise AssertionError("kill_all forked a uid killer without root")
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "fork", refuse)
    isolation.kill_all(proc, uid=isolation.UID_BASE)
    assert proc.returncode == -signal.SIGKILL


def test_kill_all_of_a_finished_worker_does_nothing():
    proc = subprocess.Popen(["true"], start_new_session=True)
    assert proc.wait(timeout=20) == 0
    isolation.kill_all(proc)   # its process group is gone: nothing to kill, nothing raised
    assert proc.returncode == 0


def test_kill_all_gives_up_waiting_for_a_worker_that_does_not_die(monkeypatch):
    proc = subprocess.Popen(["sleep", "60"], start_new_session=True)
    waited = []

    def stuck(timeout=None):
        waited.append(timeout)
        raise subprocess.TimeoutExpired(proc.args, timeout)
    monkeypatch.setattr(proc, "wait", stuck)
    isolation.kill_all(proc)   # returns instead of raising
    assert waited == [10]
    monkeypatch.undo()
    assert proc.wait(timeout=20) == -signal.SIGKILL   # it was killed all the same
