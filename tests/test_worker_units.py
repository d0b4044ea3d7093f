"""The gradebook's worker (:mod:`ntm_course_instructor.grading.worker`), unit by unit and in this process: packing
a learner's values and loading them back as data only (:mod:`.transport`), IPython magics, the isolation steps it
takes itself (:mod:`.isolation`), the poisoned reference, the cases, and ``main`` run on a real job folder (with
``os._exit``, the mounts and the uid switch replaced, so this process survives it). tests/test_gradebook.py runs
the same worker for real, in a subprocess."""
import builtins
import errno
import json
import os
import pickle
import shutil
import sys
import tempfile

import pytest
import torch

import ntm_course
from ntm_course_instructor.grading import EXERCISES, check, isolation, transport, worker
from ntm_course.teaching.practice.checker import Foreign, GradOutcome, Outcome, score_outcomes


FOREIGN, DEVICE = transport.FOREIGN, transport.DEVICE
RIGHT_INTERPOLATE = "def interpolate(w_content, w_prev, g):\n    return g * w_content + (1 - g) * w_prev\n"


def cases_of(name):
    """The cases the grader sends the worker for exercise ``name`` (as gradebook.grade builds them)."""
    return {g: [case.args for case in EXERCISES[name].cases(g)] for g in ("values", "edge cases", "gradients")}


def learner(source, name):
    """The function ``name`` defined by ``source`` in a namespace of its own, as a learner's cell defines it."""
    namespace = {}
    exec(source, namespace)
    return namespace[name]


# --- pack / unpack: plain values across the process boundary ---------------------------------------------

def test_pack_copies_tensors_as_plain_detached_cpu_tensors():
    param = torch.nn.Parameter(torch.ones(3))
    packed = transport.pack(param)
    assert type(packed) is torch.Tensor and not packed.requires_grad
    with torch.no_grad():
        param.add_(1)
    assert torch.equal(packed, torch.ones(3))   # a copy, not a view of the learner's tensor


def test_pack_marks_huge_tensors_and_tensors_on_other_devices(monkeypatch):
    meta = transport.pack(torch.empty(2, 3, dtype=torch.float64, device="meta"))
    assert meta == {DEVICE: "meta", "shape": [2, 3], "dtype": "float64"}
    back = transport.unpack(meta)
    assert back.device.type == "meta" and back.shape == (2, 3) and back.dtype == torch.float64
    monkeypatch.setattr(transport, "MAX_ELEMENTS", 3)
    assert transport.pack(torch.zeros(4)) == {FOREIGN: "too large a tensor"}
    assert torch.equal(transport.pack(torch.zeros(3)), torch.zeros(3))


def test_pack_turns_subclasses_of_plain_types_into_the_plain_types():
    class Sneaky(str):
        def __str__(self):
            return "forged"

    class Count(int):
        pass

    class Ratio(float):
        pass
    assert transport.pack(True) is True and transport.pack(0) == 0
    packed = transport.pack((Sneaky("real"), Count(3), Ratio(0.5), None))
    assert packed == ("real", 3, 0.5, None)
    assert [type(v) for v in packed] == [str, int, float, type(None)]
    assert transport.pack("x" * 20000) == "x" * 10000


def test_pack_names_what_it_does_not_send_back():
    class Nameless(type):
        @property
        def __name__(cls):
            raise RuntimeError("no name")

    class Odd(metaclass=Nameless):
        pass
    long_name = type("N" * 100, (), {})
    packed = transport.pack({"set": {1}, "keys": {1: 2}, "odd": Odd(), "long": long_name(), "list": [object()]})
    assert packed == {"set": {FOREIGN: "set"}, "keys": {FOREIGN: "dict"}, "odd": {FOREIGN: "object"},
                      "long": {FOREIGN: "N" * 60}, "list": [{FOREIGN: "object"}]}


def test_pack_caps_the_depth_and_the_number_of_values():
    deep = 1
    for _ in range(10):
        deep = [deep]
    packed = transport.pack(deep)
    for _ in range(9):   # the lists at depths 0..8 are kept, what lies deeper is a marker
        assert isinstance(packed, list) and len(packed) == 1
        packed = packed[0]
    assert packed == {FOREIGN: "too large a result"}
    many = transport.pack(list(range(transport.MAX_LEAVES + 10)))
    kept = [v for v in many if not isinstance(v, dict)]
    assert kept == list(range(transport.MAX_LEAVES - 1))   # the list itself counts as one value
    assert many[-1] == {FOREIGN: "too large a result"} and len(many) == transport.MAX_LEAVES + 10


def test_unpack_turns_markers_back_into_foreign_values_and_meta_tensors():
    got = transport.unpack({"a": [{FOREIGN: "ndarray"}, ({DEVICE: "cuda:0", "shape": [2], "dtype": "float32"},)],
                         "b": {DEVICE: "cuda:1", "shape": [1], "dtype": "no_such_dtype"},
                         "c": {FOREIGN: "two keys", "x": 1}, "d": 3})
    foreign, (cuda,) = got["a"]
    assert isinstance(foreign, Foreign) and foreign.type_name == "ndarray"
    assert cuda.device.type == "meta" and cuda.shape == (2,) and cuda.dtype == torch.float32
    assert isinstance(got["b"], Foreign) and got["b"].type_name == "tensor on cuda:1"
    assert got["c"] == {FOREIGN: "two keys", "x": 1} and got["d"] == 3   # only a lone marker key is a marker


def test_errors_travel_as_their_type_name_and_message():
    class Unprintable(Exception):
        def __str__(self):
            raise ValueError("no")
    assert transport._error(KeyError("k")) == ["KeyError", "'k'"]
    assert transport._error(ValueError("m" * 5000)) == ["ValueError", "m" * 1000]
    assert transport._error(Unprintable()) == ["Unprintable", "(its message could not be read)"]


def test_pack_outcome_and_pack_gradient():
    t = torch.arange(3.0)
    packed = transport.pack_outcome(Outcome(got=(t, 1.5), args=(t, 2, "s"), error=ValueError("bad")))
    assert torch.equal(packed["got"][0], t) and packed["got"][1] == 1.5
    assert torch.equal(packed["args"][0], t) and packed["args"][1:] == [None, None]   # only tensors come back
    assert (packed["error"], packed["notimpl"]) == (["ValueError", "bad"], False)
    assert transport.pack_outcome(Outcome(not_implemented=True)) == {"got": None, "args": [], "error": None,
                                                                   "notimpl": True}
    grads = transport.pack_gradient(GradOutcome(grads=[t, t * 2]))
    assert grads["error"] is None and torch.equal(grads["grads"][1], t * 2)
    assert transport.pack_gradient(GradOutcome(error=ZeroDivisionError("z"))) == {
        "grads": None, "error": ["ZeroDivisionError", "z"]}


# --- the wire and outcomes_from: the grader reads data, never code -----------------------------------

def wire(value):
    """``value`` as the grader receives it: encoded by the worker, decoded by the grader."""
    return transport.decode(transport.encode(value))


def test_values_cross_the_wire_as_they_were():
    value = {"status": "ok", "outcomes": {"values": [transport.pack_outcome(Outcome(got=[torch.ones(2), {"k": 1}]))]},
             "t": (1, 2.5, None, True, "s", float("nan"), float("-inf")),
             "tensors": [torch.arange(6).to(dt).reshape(2, 3) for dt in (torch.float32, torch.float64,
                                                                         torch.int64, torch.bool)],
             "odd": [torch.zeros(0, 3), torch.tensor(2.5, dtype=torch.bfloat16), torch.ones(3)[::2]]}
    back = wire(value)
    assert torch.equal(back["outcomes"]["values"][0]["got"][0], torch.ones(2))
    assert back["t"][:5] == (1, 2.5, None, True, "s") and type(back["t"]) is tuple
    assert back["t"][5] != back["t"][5] and back["t"][6] == float("-inf")
    for sent, got in zip(value["tensors"] + value["odd"], back["tensors"] + back["odd"]):
        assert type(got) is torch.Tensor and got.dtype == sent.dtype and torch.equal(got, sent)


def test_a_decoded_value_is_plain_and_every_size_is_checked_before_anything_is_built():
    good = transport.encode({"t": torch.ones(4)})
    n = int.from_bytes(good[:8], "big")
    head = json.loads(good[8:8 + n])
    variants = {
        "truncated": good[:-3],
        "more bytes than it says": good + b"xx",
        "a huge claimed tensor": transport.encode({"t": torch.ones(1)}).replace(b"[1]", b"[100000000]"),
        "garbage": b"\x00" * 8 + b"{not json",
        "an unknown marker": _encoded({"tree": {"__pickle__": "x"}, "sizes": []}),
        "a dtype not on the list": _encoded({"tree": {"__tensor__": [0, "object", [1]]}, "sizes": [8]}, b"\0" * 8),
        "an int key": _encoded({"tree": {"__dict__": [[1, 2]]}, "sizes": []}),
        "too deep": _encoded({"tree": _nest(40), "sizes": []}),
    }
    assert head["sizes"] == [16]
    for what, data in variants.items():
        with pytest.raises(transport.Rejected):
            transport.decode(data)
        assert what


def _encoded(head, blobs=b""):
    text = json.dumps(head).encode()
    return len(text).to_bytes(8, "big") + text + blobs


def _nest(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def test_frames_are_read_whole_across_chunks_and_a_frame_too_large_is_refused_unread():
    frames = transport.Frames(max_frame=100)
    data = transport.frame(b"p", b"started") + transport.frame(b"r", b"x" * 50)
    got = []
    for i in range(0, len(data), 7):
        got += frames.feed(data[i:i + 7])
    assert got == [(b"p", b"started"), (b"r", b"x" * 50)] and frames.broken is None
    big = transport.frame(b"r", b"")[:5] + (10 ** 12).to_bytes(8, "big")   # says 1 TB; nothing more is read
    assert frames.feed(big + b"y" * 1000) == [] and frames.broken == "a result larger than 0 MiB"
    assert frames.feed(transport.frame(b"p", b"done")) == []              # nothing after a broken frame
    junk = transport.Frames()
    assert junk.feed(b"PK\x03\x04" + b"\0" * 20) == [] and junk.broken.startswith("the worker's channel carried")


def test_a_result_message_names_its_check_and_anything_else_is_rejected():
    name, result = transport.read_result(transport.result_message("shift", {"status": "ok"}))
    assert (name, result) == ("shift", {"status": "ok"})
    for payload in (transport.encode(["shift"]), transport.encode({"check": 1, "result": {}}), b"nonsense"):
        with pytest.raises(transport.Rejected):
            transport.read_result(payload)


def test_pack_names_sparse_tensors_instead_of_failing():
    assert transport.pack(torch.eye(3).to_sparse()) == {FOREIGN: "torch.sparse_coo tensor"}


def test_a_result_packed_to_the_depth_limit_arrives_with_its_marker():
    """pack cuts a deep value off with a marker; the grader must accept what pack sends, marker and all."""
    result = {"status": "ok", "outcomes": {"values": [{"got": transport.pack(_nest(12))}]}}
    got = wire(result)["outcomes"]["values"][0]["got"]
    for _ in range(9):
        got = got[0]
    assert got == {FOREIGN: "too large a result"}


def test_outcomes_from_rebuilds_outcomes_and_gradients():
    t = torch.ones(2)
    data = {"outcomes": {
        "values": [{"got": [t, {FOREIGN: "ndarray"}], "args": [t, None], "error": None, "notimpl": False},
                   "not a dict",
                   {"got": None, "args": "not a list", "error": ["MadeUpError", "broke"], "notimpl": True}],
        "edge cases": "not a list",
        "gradients": [{"grads": [t], "error": None}, {"grads": None, "error": ["ZeroDivisionError", "z"]},
                      {"grads": None, "error": ["TooShort"]}]}}
    found = transport.outcomes_from(data)
    assert set(found) == {"values", "gradients"}
    first, second, third = found["values"]
    assert torch.equal(first.got[0], t) and isinstance(first.got[1], Foreign) and first.args == [t, None]
    assert first.error is None and not first.not_implemented
    assert second is None
    assert third.args is None and third.not_implemented
    assert type(third.error).__name__ == "MadeUpError" and str(third.error) == "broke"
    grad, failed, short = found["gradients"]
    assert isinstance(grad, GradOutcome) and torch.equal(grad.grads[0], t) and grad.error is None
    assert failed.grads is None and isinstance(failed.error, ZeroDivisionError) and str(failed.error) == "z"
    assert short.error is None   # an error without a message is no error record
    assert transport.outcomes_from({"status": "missing"}) == {}


# --- strip_magics -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("%matplotlib inline\nx = 1", "pass\nx = 1\n"),
    ("!pip install torch\n?len\nfiles = !ls\nself.out = %sx ls", "pass\npass\nfiles = None\nself.out = None\n"),
    ("for i in range(2):\n    %time y = i\n    !echo", "for i in range(2):\n    pass\n    pass\n"),
    ("%%time\nx = 1", "pass\nx = 1\n"),
    ("  %%capture out\nx = 1", "pass\nx = 1\n"),
    ("%%bash\necho hi", ""),
    ("%%writefile solution.py\nprint(1)", ""),
    ("x = 10 % 3\ny = x != 1", "x = 10 % 3\ny = x != 1\n"),
    ("torch.roll?\ntorch.roll??\nif True:\n    len?", "pass\npass\nif True:\n    pass\n"),
    ("", "\n"),
    # a trailing backslash continues a magic (IPython joins the lines); it does not continue Python code
    ("!pip install torch \\\n    numpy\nx = 1", "pass\n\nx = 1\n"),
    ("if True:\n    files = !ls \\\n  -l \\\n-a\n    y = 2", "if True:\n    files = None\n\n\n    y = 2\n"),
    ("x = 1 + \\\n    2\n%time y = x", "x = 1 + \\\n    2\npass\n"),
])
def test_strip_magics(source, expected):
    out = worker.strip_magics(source)
    assert out == expected
    compile(out, "cell", "exec")


# --- the isolation steps the worker takes itself (in isolation.py) --------------------------------------

@pytest.fixture
def mounts(monkeypatch):
    """The mounts the worker asks for, recorded instead of made (they would change this machine)."""
    made = []
    monkeypatch.setattr(isolation, "_mount", lambda *args: made.append(args))
    return made


def test_hide_covers_folders_with_tmpfs_and_files_with_dev_null(tmp_path, mounts):
    folder, file = tmp_path / "solutions", tmp_path / "gradebook.csv"
    folder.mkdir()
    file.write_text("x")
    isolation.hide([str(folder), str(file), str(tmp_path / "absent")])
    assert mounts == [("none", str(folder), "tmpfs", 2 | 4 | 8, "size=16k,mode=000"),   # nosuid, nodev, noexec
                      ("/dev/null", str(file), None, 4096, None)]                      # a bind mount


def test_mount_raises_oserror_naming_the_target(tmp_path):
    target = str(tmp_path / "absent")   # fails before mounting anything: no such folder, or not permitted
    with pytest.raises(OSError) as raised:
        isolation._mount("none", target, "tmpfs", 0, "size=16k")
    assert raised.value.errno in (errno.ENOENT, errno.EPERM) and raised.value.filename == target
    assert raised.value.strerror == os.strerror(raised.value.errno)


@pytest.fixture
def tree():
    """An open folder (o+x) in the temp folder; ``make(relative, mode)`` makes a folder in it."""
    base = os.path.realpath(tempfile.mkdtemp())
    os.chmod(base, 0o755)
    assert isolation._blocked(base) is None, f"the temp folder {base} is closed to others: these tests need it open"

    def make(relative, mode=0o755):
        path = os.path.join(base, relative)
        os.makedirs(path)
        os.chmod(path, mode)
        return path
    yield base, make
    for root, dirs, _ in os.walk(base):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
    shutil.rmtree(base)


def test_blocked_finds_the_highest_folder_closed_to_others(tree, monkeypatch):
    base, make = tree
    make("a")
    closed = make("a/b", 0o700)
    make("a/b/c")
    inner = make("a/b/c/d", 0o700)
    assert isolation._blocked(os.path.join(base, "a")) is None
    assert isolation._blocked(closed) == closed and isolation._blocked(inner) == closed
    os.symlink(inner, os.path.join(base, "link"))
    assert isolation._blocked(os.path.join(base, "link")) == closed   # the real path counts
    with open(os.path.join(inner, "f"), "w"):
        pass
    assert isolation._blocked(os.path.join(inner, "f")) == closed
    # a folder that vanishes between isdir and stat blocks nothing
    monkeypatch.setattr(os.path, "isdir", lambda path: True)
    assert isolation._blocked(os.path.join(base, "gone", "x")) is None


def test_expose_binds_needed_paths_back_into_closed_folders(tree, mounts):
    base, make = tree
    closed, other = make("root", 0o700), make("home", 0o750)
    python, site, lib = make("root/python"), make("root/python/site"), make("home/lib")
    stage, open_dir = make("stage", 0o711), make("open")
    file = os.path.join(open_dir, "f")
    with open(file, "w"):
        pass
    isolation.expose([python, site, python, open_dir, lib, "", None, file, os.path.join(base, "absent")], stage)
    staged = [os.path.join(stage, str(i)) for i in range(3)]
    bind = 4096 | 16384   # MS_BIND | MS_REC
    assert mounts == [(python, staged[0], None, bind, None), (site, staged[1], None, bind, None),
                      ("none", closed, "tmpfs", 0, "size=64k,mode=755"),
                      (staged[0], python, None, bind, None), (staged[1], site, None, bind, None),
                      (lib, staged[2], None, bind, None),
                      ("none", other, "tmpfs", 0, "size=64k,mode=755"),
                      (staged[2], lib, None, bind, None)]
    assert sorted(os.listdir(stage)) == ["0", "1", "2"]
    assert all(os.stat(s).st_mode & 0o777 == 0o755 & ~current_umask() for s in staged)


def current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_drop_privileges_drops_groups_then_gid_then_uid_and_verifies(monkeypatch):
    calls, now = [], {"uid": 0}
    monkeypatch.setattr(os, "setgroups", lambda groups: calls.append(("setgroups", groups)))
    monkeypatch.setattr(os, "setgid", lambda gid: calls.append(("setgid", gid)))
    monkeypatch.setattr(os, "setuid", lambda uid: (calls.append(("setuid", uid)), now.update(uid=uid)))
    monkeypatch.setattr(os, "getuid", lambda: now["uid"])
    monkeypatch.setattr(os, "geteuid", lambda: now["uid"])
    isolation.drop_privileges(1234)
    assert calls == [("setgroups", []), ("setgid", 1234), ("setuid", 1234)]
    monkeypatch.setattr(os, "setuid", lambda uid: None)   # a system that ignores the switch
    now["uid"] = 0
    with pytest.raises(OSError, match="^could not drop privileges$"):
        isolation.drop_privileges(1234)


# --- run_cases --------------------------------------------------------------------------------------------

def test_run_cases_sends_back_outcomes_that_score_like_check():
    ex, cases = EXERCISES["interpolate"], cases_of("interpolate")
    fn = learner(RIGHT_INTERPOLATE, "interpolate")
    steps = []
    result = worker.run_cases(ex, fn, cases, steps.append)
    assert steps == ["case"] * sum(len(v) for v in cases.values())
    assert [len(result["outcomes"][g]) for g in cases] == [len(v) for v in cases.values()]
    scored = score_outcomes(ex, transport.outcomes_from(wire({"status": "ok", **result})))
    assert scored.passed and scored.points == check("interpolate", fn, verbose=False).points


def test_run_cases_stops_at_the_exercise_stub():
    def stub(w_content, w_prev, g):
        raise NotImplementedError
    steps = []
    result = worker.run_cases(EXERCISES["interpolate"], stub, cases_of("interpolate"), steps.append)
    assert steps == ["case"]
    assert list(result["outcomes"]) == ["values"] and result["outcomes"]["values"][0]["notimpl"] is True


def test_the_worker_finds_a_graded_check_by_its_call_and_a_practice_check_in_its_registry():
    practice = worker.exercise_of("interpolate", {"practice": True})
    assert practice is ntm_course.teaching.practice.EXERCISES["interpolate"]
    graded = worker.exercise_of("scalar_shift", {"call": "ntm_course_instructor.grading.scalar_shift:_call",
                                                 "grad_args": [0]})
    assert graded.name == "scalar_shift" and graded.grad_args == (0,)
    assert graded.call is EXERCISES["scalar_shift"].call
    plain = worker.exercise_of("ntm_step", {"call": None, "grad_args": []})
    assert plain.call(lambda *a: sum(a), (1, 2)) == 3


# --- main: one job folder, in this process --------------------------------------------------------------

class Exited(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


@pytest.fixture
def run_main(tmp_path, monkeypatch):
    """``run_main(cells, cases={}, uid=None, hide=(), specs=None)``: write a job as the grader does, run
    ``worker.main`` on it here (the fallback's way, with a job folder), and return ``(progress lines, {check:
    result}, jobdir)`` read off its channel. What main changes in this process (the environment, the working
    directory) is restored afterwards; its final ``os._exit`` raises ``Exited``."""
    for key in ("HOME", "TMPDIR", "MPLBACKEND", "MPLCONFIGDIR"):
        monkeypatch.setenv(key, os.environ.get(key, ""))
    monkeypatch.chdir(tmp_path)

    def exit_(code):
        raise Exited(code)
    monkeypatch.setattr(os, "_exit", exit_)

    def run(cells, cases=None, uid=None, hide=(), specs=None):
        jobdir = tempfile.mkdtemp(dir=tmp_path)
        os.mkdir(os.path.join(jobdir, "work"))
        names = [name for kind, name in cells if kind == "check"]
        job = {"cells": cells, "cases": cases or {}, "uid": uid, "hide": list(hide),
               "specs": specs or {n: {"practice": True} for n in names}}
        with open(os.path.join(jobdir, "job.pkl"), "wb") as f:
            pickle.dump(job, f)
        read_end, write_end = os.pipe()
        os.set_blocking(write_end, True)
        try:
            with pytest.raises(Exited) as exited:
                worker.main(os.path.join(jobdir, "job.pkl"), write_end, jobdir)
            assert exited.value.code == 0
            os.close(write_end)
            with os.fdopen(os.dup(read_end), "rb") as pipe:
                frames = transport.Frames().feed(pipe.read())
        finally:
            os.close(read_end)
        lines = [p.decode() for kind, p in frames if kind == b"p"]
        results = dict(transport.read_result(p) for kind, p in frames if kind == b"r")
        return lines, results, jobdir
    return run


def test_main_runs_the_cells_and_sends_each_checks_values(run_main):
    cases = {"interpolate": cases_of("interpolate")}
    cells = [("code", "%matplotlib inline\nimport torch\n" + RIGHT_INTERPOLATE), ("check", "interpolate"),
             ("code", "raise SystemExit(3)"), ("check", "shift")]
    lines, results, jobdir = run_main(cells, cases)
    n = sum(len(v) for v in cases["interpolate"].values())
    assert lines == ["started", "cell 0", "cell 1", *["case"] * n, "cell 2", "cell 3", "done"]
    assert sorted(results) == ["interpolate", "shift"]
    assert results["interpolate"]["status"] == "ok"
    assert score_outcomes(EXERCISES["interpolate"], transport.outcomes_from(results["interpolate"])).passed
    # SystemExit in a cell is recorded, and the worker goes on
    assert results["shift"] == {"status": "missing",
                                "detail": "`shift` is not defined (code cell 3 raised SystemExit: 3)"}
    work = os.path.join(jobdir, "work")
    assert os.getcwd() == work
    assert [os.environ[k] for k in ("HOME", "TMPDIR", "MPLCONFIGDIR", "MPLBACKEND")] == [work, work, work, "Agg"]


def test_main_reports_missing_functions_and_stopped_cases(run_main):
    cells = [("code", "1 / 0"), ("check", "shift"), ("code", "sharpen = 3\ndef read(memory, w):\n    return memory\n"),
             ("check", "sharpen"), ("check", "read")]
    lines, results, _ = run_main(cells, cases={"read": {"values": 5}})
    assert lines == ["started", "cell 0", "cell 1", "cell 2", "cell 3", "cell 4", "done"]
    assert results["shift"]["detail"] == \
        "`shift` is not defined (code cell 1 raised ZeroDivisionError: division by zero)"
    assert results["sharpen"] == {"status": "missing", "detail": "`sharpen` is not a function"}
    assert results["read"]["status"] == "missing" and results["read"]["detail"].startswith("the cases stopped: ")


@pytest.fixture
def steps(monkeypatch):
    """The isolation steps main takes, recorded in order with the submission's first code (which calls
    ``_ntm_test_step``), instead of mounting or switching this process's user."""
    events = []
    monkeypatch.setattr(worker, "hide", lambda paths: events.append(("hide", paths)))
    monkeypatch.setattr(worker, "expose", lambda paths, stage: events.append(("expose", paths, stage)))
    monkeypatch.setattr(worker, "drop_privileges", lambda uid: events.append(("drop", uid)))
    monkeypatch.setattr(builtins, "_ntm_test_step", events.append, raising=False)
    return events


def test_main_as_root_hides_exposes_and_drops_before_any_submitted_code(run_main, steps, monkeypatch):
    monkeypatch.setattr(os, "getuid", lambda: 0)
    lines, _, jobdir = run_main([("code", "_ntm_test_step('code')")], uid=4321, hide=["/solutions", "/book.csv"])
    stage = os.path.join(jobdir, "stage")
    assert [e[0] if isinstance(e, tuple) else e for e in steps] == ["hide", "expose", "drop", "code"]
    assert steps[0] == ("hide", ["/solutions", "/book.csv"]) and steps[2] == ("drop", 4321)
    paths = steps[1][1]
    assert steps[1][2] == stage and os.stat(stage).st_mode & 0o777 == 0o711 & ~current_umask()
    assert {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))} <= set(paths)
    assert [p for p in sys.path if p] == paths[3:]
    assert lines == ["started", "cell 0", "done"]


def test_main_says_what_it_could_not_hide_or_expose_and_still_drops(run_main, steps, monkeypatch):
    def refuse(errno_, path):
        def fail(*args):
            raise OSError(errno_, os.strerror(errno_), path)
        return fail
    monkeypatch.setattr(worker, "hide", refuse(errno.EPERM, "/solutions"))
    monkeypatch.setattr(worker, "expose", refuse(errno.EACCES, "/root/python"))
    monkeypatch.setattr(os, "getuid", lambda: 0)
    lines, _, _ = run_main([], uid=4321, hide=["/solutions"])
    assert lines == [(f"started; could not hide /solutions: {os.strerror(errno.EPERM)}; "
                      f"could not expose /root/python: {os.strerror(errno.EACCES)}"), "done"]
    assert steps == [("drop", 4321)]


def test_main_switches_user_only_as_root_and_exposes_only_with_a_mount_namespace(run_main, steps, monkeypatch):
    monkeypatch.setattr(os, "getuid", lambda: 1000)
    assert run_main([], uid=4321)[0] == ["started", "done"]
    assert steps == []   # not root: no uid to drop to, nothing hidden when told nothing
    monkeypatch.setattr(os, "getuid", lambda: 0)
    run_main([], uid=4321)
    assert steps == [("drop", 4321)]   # no paths to hide means no mount namespace: nothing to expose
