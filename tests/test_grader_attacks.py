"""A hostile class against ``ntm-course-instructor grade``: one attack at least from each family of issue #30, graded
as root would grade them, with the gradebook and the feedback folder in /tmp (a folder anyone may write).

- borrowed answers: the worker's frames, the library's source read from disk, the checkout and its git history,
  another checkout, the checker replaced, a lookup of the notebook's own check inputs, a result sent again by a
  later cell;
- sandbox escapes: what the worker sees (/proc, host sockets, the network, its uid, the library), files left in
  /tmp, /var/tmp and /dev/shm, a frame that claims to be huge, links planted where the grader writes;
- resources: memory in memfds (the cgroup counts it), many slow cells, a submission faking progress, a 50 MB error;
- two grading runs at once, and Ctrl-C.

Every attacker scores 0 with a reason, the correct controls full marks, and the rest of the class is graded.
The class is graded once (a module fixture); the other tests read its rows."""
import csv
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from ntm_course_instructor import cli
from ntm_course_instructor.grading import EXERCISES, isolation
from ntm_course_instructor.grading.kit import STUB_MARK
from test_gradebook import READ, ROOT, SHIFT, WRONG, submission


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the sandbox is Linux's")]
TIMEOUT = "6"
MARK = f"ntm-attack-{os.getpid()}"


def lookup_answer():
    """A shift that knows only the outputs of the cases the learner's own ``check`` runs (seed 0)."""
    table = {}
    for case in EXERCISES["shift"].cases("values") + EXERCISES["shift"].cases("edge cases"):
        w, s = case.args
        table[repr((w.tolist(), s.tolist()))] = EXERCISES["shift"].reference(w, s).tolist()
    return (f"import torch\nTABLE = {table!r}\n"
            "def shift(w, s):\n"
            "    got = TABLE.get(repr((w.tolist(), s.tolist())))\n"
            "    return w.clone() if got is None else torch.tensor(got, dtype=w.dtype)\n")


FRAMES = """import sys
def shift(w, s):
    frame = sys._getframe(1)
    while frame is not None:
        exercise = frame.f_locals.get("exercise")
        if exercise is not None and hasattr(exercise, "reference"):
            return exercise.reference(w, s)
        frame = frame.f_back
    return w.clone()
"""

DISK_LIBRARY = """import os, sys
import ntm_course
source = open(os.path.join(os.path.dirname(ntm_course.__file__), "addressing.py")).read()
open("stolen.py", "w").write(source.replace("from .", "from ntm_course."))
sys.path.insert(0, ".")
import stolen
def shift(w, s):
    return stolen.shift(w, s)
"""


def checkouts_answer(paths):
    """Looks for the solution in each of ``paths`` (checkouts, git objects): a right shift only if one is read."""
    return ("import json, os, glob\n"
            f"found = [p for p in {[str(p) for p in paths]!r} if os.path.exists(p)]\n"
            "found += glob.glob('/*/solutions/*.ipynb') + glob.glob('/*/*/solutions/*.ipynb')\n"
            "nb = json.load(open(found[0]))\n"
            "code = ''.join(next(c['source'] for c in nb['cells'] if c.get('metadata', {}).get('nbgrader', {})"
            ".get('grade_id') == 'shift'))\n"
            "open('stolen.py', 'w').write('import torch\\n' + code)\n"
            "import sys\nsys.path.insert(0, '.')\nfrom stolen import shift\n")


CHECKER = WRONG + """open("fwd.py", "w").write("import ntm_course.teaching.practice.runner as r\\n"
                      "r.call_learner = lambda ex, fn, args: r.Outcome(got=args[0], args=args)\\n")
import sys
sys.path.insert(0, ".")
import fwd
"""

FORGE_AFTER = """import sys, os
open("fwd.py", "w").write("from ntm_course_instructor.grading.transport import *\\n"
                          "from ntm_course.teaching.practice.checker import Outcome\\n")
sys.path.insert(0, ".")
import fwd, torch
def right(w, s):
    K = s.shape[1]
    return sum(s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=1) for k in range(K))
outcomes = {"values": [fwd.pack_outcome(fwd.Outcome(got=right(w, s), args=(w, s))) for w, s in SEEN]}
os.write(int(sys.argv[3]), fwd.frame(b"r", fwd.result_message("shift", {"status": "ok", "outcomes": outcomes})))
"""

SEEN = "SEEN = []\ndef shift(w, s):\n    SEEN.append((w.clone(), s.clone()))\n    return w.clone()\n"

HUGE_FRAME = WRONG + """import os, sys
os.write(int(sys.argv[3]), b"NTMGr" + (2 ** 40).to_bytes(8, "big") + b"x" * 64)
"""


def probe(socket_path, checkout):
    """A right shift only if the worker's machine is private: see the asserts."""
    return f"""import os, socket
def _private():
    pids = [p for p in os.listdir("/proc") if p.isdigit()]
    assert len(pids) < 8, ("/proc", pids)
    for pid in pids:
        cmdline = open(f"/proc/{{pid}}/cmdline", "rb").read()
        assert b".ipynb" not in cmdline and b"pytest" not in cmdline, cmdline
    assert os.getuid() >= {isolation.UID_BASE}, os.getuid()
    assert not os.path.exists({socket_path!r}), "host socket"
    s = socket.socket(socket.AF_UNIX)
    try:
        s.connect({socket_path!r})
        raise AssertionError("connected")
    except OSError:
        pass
    assert sorted(os.listdir("/sys/class/net")) in (["lo"], []), "network"
    assert not os.path.exists({str(checkout)!r}), "the checkout"
    import ntm_course.addressing as lib
    assert {STUB_MARK!r} in open(lib.__file__).read(), "the library is not the kit's"
    return True
ok = _private()
"""


LITTER = f"""for folder in ("/tmp", "/var/tmp", "/dev/shm"):
    with open(f"{{folder}}/{MARK}", "wb") as f:
        f.write(b"x" * 2 ** 24)
"""

MEMFD = """import os
fds = []
for i in range(8):
    fd = os.memfd_create(f"hog{i}")
    for _ in range(13):
        os.write(fd, b"\\0" * 2 ** 24)     # 208 MiB each, under the file-size limit, 1.6 GiB in all
    fds.append(fd)
"""

FAKE_PROGRESS = """import os, sys
def shift(w, s):
    while True:
        for line in (b"started", b"cell 1", b"case", b"done"):
            os.write(int(sys.argv[3]), b"NTMGp" + len(line).to_bytes(8, "big") + line)
"""

HUGE_ERROR = "def shift(w, s):\n    raise ValueError('x' * 50_000_000)\n"


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """Grade the hostile class once, as root, into a gradebook and a feedback folder directly in /tmp. The
    grader's own temporary folders (job folders, kits) go to a folder of this test's, to be counted after."""
    folder = tmp_path_factory.mktemp("hostile")
    own_temp = tmp_path_factory.mktemp("grader-temp")
    checkout = tmp_path_factory.mktemp("other-checkout")
    (checkout / "solutions").mkdir()
    (checkout / "solutions" / f"{SHIFT}.ipynb").write_bytes((ROOT / "solutions" / f"{SHIFT}.ipynb").read_bytes())
    socket_path = os.path.join(tempfile.gettempdir(), f"{MARK}.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(socket_path)
    server.listen(1)
    right = submission(folder, f"right_{SHIFT}.ipynb", SHIFT, answered=("shift",))
    paths = {"right": right,
             "read_right": submission(folder, f"read_right_{READ}.ipynb", READ, answered=("read",)),
             "probe": submission(folder, f"probe_{SHIFT}.ipynb", SHIFT, answered=("shift",),
                                 extra=probe(socket_path, ROOT)),
             "litter": submission(folder, f"litter_{SHIFT}.ipynb", SHIFT, answered=("shift",), extra=LITTER)}
    answers = {"frames": FRAMES, "disk_library": DISK_LIBRARY, "checker": CHECKER, "lookup": lookup_answer(),
               "checkouts": checkouts_answer([ROOT / "solutions" / f"{SHIFT}.ipynb", ROOT / ".git" / "HEAD",
                                              checkout / "solutions" / f"{SHIFT}.ipynb"]),
               "huge_frame": HUGE_FRAME, "memfd": MEMFD + WRONG, "fake_progress": FAKE_PROGRESS,
               "huge_error": HUGE_ERROR}
    for name, code in answers.items():
        paths[name] = submission(folder, f"{name}_{SHIFT}.ipynb", SHIFT, replace={"shift": code})
    paths["forge_after"] = submission(folder, f"forge_after_{SHIFT}.ipynb", SHIFT, replace={"shift": SEEN},
                                      extra=FORGE_AFTER)
    slow = nbformat.read(str(right), as_version=4)
    at = next(i for i, c in enumerate(slow.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "shift") + 1
    slow.cells[at:at] = [new_code_cell("import time\ntime.sleep(1)") for _ in range(20)]   # before the check
    paths["slow_cells"] = folder / f"slow_cells_{SHIFT}.ipynb"
    nbformat.write(slow, str(paths["slow_cells"]))
    book = Path(tempfile.gettempdir()) / f"{MARK}.csv"
    pages = Path(tempfile.gettempdir()) / f"{MARK}-feedback"
    argv = ["grade", *map(str, paths.values()), "--csv", str(book), "--feedback", str(pages), "--jobs", "2",
            "--timeout", TIMEOUT, "--memory", "1024"]
    saved_temp, tempfile.tempdir = tempfile.tempdir, str(own_temp)
    try:
        assert cli.main(argv) == 0
        with open(book, newline="") as f:
            rows = {r["submission"]: r for r in csv.DictReader(f)}
        pages_text = {p.name: p.read_text() for p in pages.iterdir()}
    finally:
        tempfile.tempdir = saved_temp
        server.close()
        os.unlink(socket_path)
        book.unlink(missing_ok=True)
        for page in pages.glob("*"):
            page.unlink()
        if pages.exists():
            pages.rmdir()
    return {"rows": {name: rows[str(path)] for name, path in paths.items()}, "pages": pages_text,
            "grader_temp": sorted(os.listdir(own_temp))}


def leftover_worker_uids():
    """Worker uids with a process still running whose grading run has ended (its block's lock is free): a grading
    run that is still going, in another test process, holds its lock and is not counted."""
    import fcntl
    uids = {int(u) for u in subprocess.run(["ps", "-eo", "uid="], capture_output=True, text=True).stdout.split()}
    leaked = []
    for uid in sorted(u for u in uids if isolation.UID_BASE <= u < isolation.UID_BASE + 4096 * isolation.UID_BLOCK):
        first = uid - (uid - isolation.UID_BASE) % isolation.UID_BLOCK
        fd = os.open(os.path.join(isolation.LOCKS, f"{first}.lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            leaked.append(uid)
        except OSError:
            pass
        finally:
            os.close(fd)
    return leaked


def row(attacked, name):
    return attacked["rows"][name]


@pytest.mark.parametrize("name", ["right", "read_right", "probe", "litter"])
def test_the_controls_and_the_isolation_probes_get_full_marks(attacked, name):
    r = row(attacked, name)
    assert (r["points_by_grader"], r["reasons"]) == (r["max_points"], ""), r


@pytest.mark.parametrize("name, because", [
    ("frames", "calls the library's own shift"),               # the worker's frames hold only a stub
    ("disk_library", "calls the library's own shift"),         # the source on disk is the kit's, stubbed
    ("checkouts", "IndexError"),                               # no checkout, no git, no other copy in sight
    ("checker", "values: "),                                   # a replaced checker sends wrong values
    ("lookup", "values: result differs"),                      # this run's cases are not the notebook's
    ("forge_after", "values: result differs"),                 # a later cell's result is ignored
    ("huge_frame", "the worker sent something other than results: a result larger than 64 MiB"),
    ("memfd", "ran out of memory (the limit is 1024 MiB"),     # memfds count against the cgroup
    ("slow_cells", f"stopped at the time limit ({TIMEOUT} s for the whole submission"),
    ("fake_progress", f"stopped at the time limit ({TIMEOUT} s for the whole submission"),
    ("huge_error", "ValueError"),
])
def test_every_attack_scores_zero_with_its_reason(attacked, name, because):
    r = row(attacked, name)
    assert r["points_by_grader"] == "0" and r["max_points"] == "1", r
    assert because in r["reasons"], r


def test_reasons_and_feedback_pages_stay_small_whatever_the_submission_raised(attacked):
    assert all(len(r["reasons"]) <= 400 for r in attacked["rows"].values())
    assert len(attacked["pages"]) == len(attacked["rows"])
    assert max(len(text) for text in attacked["pages"].values()) < 100_000


def test_nothing_is_left_outside_the_sandbox(attacked):
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not os.path.exists(f"{folder}/{MARK}"), folder
    assert attacked["grader_temp"] == []          # every job folder and kit removed
    assert leftover_worker_uids() == []


def test_without_bubblewrap_the_fallback_still_grades_with_the_kit_and_says_so(tmp_path, monkeypatch, capsys):
    """With bwrap missing, workers run under unshare as their own uid, with the same kit: right scores, a hand-in
    that reaches the library at run time finds a stub."""
    which = isolation.shutil.which
    monkeypatch.setattr(isolation.shutil, "which", lambda name: None if name == "bwrap" else which(name))
    monkeypatch.setattr(isolation, "_PROBED", {})
    subs = [submission(tmp_path, f"right_{SHIFT}.ipynb", SHIFT, answered=("shift",)),
            submission(tmp_path, f"frames_{SHIFT}.ipynb", SHIFT, replace={"shift": FRAMES})]
    assert cli.main(["grade", *map(str, subs), "--csv", str(tmp_path / "book.csv"), "--timeout", "20"]) == 0
    assert "bubblewrap (bwrap) is not installed: falling back to unshare" in capsys.readouterr().err
    with open(tmp_path / "book.csv", newline="") as f:
        rows = {Path(r["submission"]).name: r for r in csv.DictReader(f)}
    assert rows[f"right_{SHIFT}.ipynb"]["points_by_grader"] == "1", rows
    assert "calls the library's own shift" in rows[f"frames_{SHIFT}.ipynb"]["reasons"], rows


# --- links planted where the grader writes -----------------------------------------------------------------

@pytest.fixture
def secret(tmp_path):
    """A root-only file a planted link points at: it must stay as it is."""
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    target = private / "shadow"
    target.write_text("root's own\n")
    return target


def test_a_link_planted_at_the_gradebook_in_tmp_is_refused_and_its_target_untouched(secret, capsys):
    book = Path(tempfile.gettempdir()) / f"{MARK}-linked.csv"
    book.symlink_to(secret)
    try:
        assert cli.main(["grade", str(ROOT / "solutions" / f"{SHIFT}.ipynb"), "--csv", str(book)]) == 2
    finally:
        book.unlink()
    assert "not a plain file (a link or a folder): refused" in capsys.readouterr().err
    assert secret.read_text() == "root's own\n"


def test_a_link_planted_at_the_feedback_folder_is_refused_before_any_worker_starts(secret, tmp_path, capsys):
    pages = Path(tempfile.gettempdir()) / f"{MARK}-linked-pages"
    pages.symlink_to(secret.parent)
    book = tmp_path / "book.csv"
    try:
        assert cli.main(["grade", str(ROOT / "solutions" / f"{SHIFT}.ipynb"), "--csv", str(book),
                         "--feedback", str(pages)]) == 2
    finally:
        pages.unlink()
    err = capsys.readouterr().err
    assert "the feedback folder" in err and "a link is never followed" in err
    assert sorted(p.name for p in secret.parent.iterdir()) == ["shadow"]


def test_two_runs_at_once_hold_different_uids_and_grade_their_own_classes(tmp_path):
    first, first_lock = isolation.claim_uids(2)
    second, second_lock = isolation.claim_uids(2)
    assert first != second                       # a block is held until its run closes its lock
    first_lock.close()
    second_lock.close()
    runs = []
    for n in (1, 2):
        folder = tmp_path / f"run{n}"
        folder.mkdir()
        killer = "import os, signal\ntry:\n    os.kill(-1, signal.SIGKILL)\nexcept OSError:\n    pass\n" + WRONG
        subs = [submission(folder, f"right_{SHIFT}.ipynb", SHIFT, answered=("shift",)),
                submission(folder, f"killer_{SHIFT}.ipynb", SHIFT, replace={"shift": killer}),
                submission(folder, f"right_{READ}.ipynb", READ, answered=("read",))]
        runs.append((folder / "book.csv", subprocess.Popen(
            [sys.executable, "-m", "ntm_course_instructor.cli", "grade", *map(str, subs), "--csv",
             str(folder / "book.csv"), "--jobs", "2", "--timeout", "20"], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)))
    for book, proc in runs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        with open(book, newline="") as f:
            rows = {Path(r["submission"]).name: r for r in csv.DictReader(f)}
        assert rows[f"right_{SHIFT}.ipynb"]["points_by_grader"] == "1", rows
        assert rows[f"right_{READ}.ipynb"]["points_by_grader"] == "1", rows
        assert rows[f"killer_{SHIFT}.ipynb"]["points_by_grader"] == "0", rows


def test_ctrl_c_stops_at_once_keeps_what_was_graded_and_says_so_in_one_line(tmp_path):
    loop = "def shift(w, s):\n    while True:\n        pass\n"
    subs = [submission(tmp_path, f"right_{SHIFT}.ipynb", SHIFT, answered=("shift",))]
    subs += [submission(tmp_path, f"loop{i}_{SHIFT}.ipynb", SHIFT, replace={"shift": loop}) for i in range(3)]
    book = tmp_path / "book.csv"
    # SIGINT as a terminal's Ctrl-C sends it: pytest-xdist's workers ignore it, and an ignored signal stays ignored
    # in a child, so the grader is started with the default disposition restored
    proc = subprocess.Popen([sys.executable, "-m", "ntm_course_instructor.cli", "grade", *map(str, subs), "--csv",
                             str(book), "--jobs", "1", "--timeout", "120"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONFAULTHANDLER": "1"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    for line in proc.stdout:
        if line.startswith("graded ") and "right_" in line:
            break
    time.sleep(2)                                 # the first endless loop is running now
    proc.send_signal(signal.SIGINT)
    began = time.monotonic()
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:             # say where it hangs: faulthandler prints every thread's stack
        proc.send_signal(signal.SIGABRT)
        out, err = proc.communicate()
        pytest.fail("the grader went on after Ctrl-C; its threads:\n" + err[-6000:])
    assert time.monotonic() - began < 10
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1] == (f"interrupted: 1 of 4 submission(s) graded and kept in {book}; the same "
                                            "command grades the rest")
    with open(book, newline="") as f:
        assert [Path(r["submission"]).name for r in csv.DictReader(f)] == [f"right_{SHIFT}.ipynb"]
    assert leftover_worker_uids() == []
