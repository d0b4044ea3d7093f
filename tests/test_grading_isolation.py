"""The pieces under ``ntm-course-instructor grade``'s guarantees, unit by unit: the checker's fixes (no raise on another
device, the learner's session left as found, a short train_step report), the syntax-tree detection of
reference hand-ins, IPython magics stripped, and the worker's answers loaded as data only."""
import os
import pickle

import pytest
import torch

from ntm_course_instructor.grading import EXERCISES, check
from ntm_course_instructor.grading import transport, worker
from ntm_course_instructor.grading.handins import handins
from ntm_course.teaching.practice.checker import Foreign, Outcome, score_outcomes


# --- check leaves the learner's session as it found it ---------------------------------------------------

def test_result_on_another_device_is_a_hint_not_an_error():
    result = check("shift", lambda w, s: w.to("meta"), verbose=False)
    assert result.points == 0
    assert "is on meta, expected on cpu" in result.report and "device" in result.report.split("hint:")[1]


def test_a_check_never_touches_the_thread_count(monkeypatch):
    threads = torch.get_num_threads()

    def refuse(n):
        raise AssertionError("a check changed the process-wide thread count")
    monkeypatch.setattr(torch, "set_num_threads", refuse)
    assert check("interpolate", EXERCISES["interpolate"].reference, verbose=False).passed
    assert torch.get_num_threads() == threads


def test_a_check_restores_grad_mode_and_default_dtype():
    def sneaky(w_content, w_prev, g):
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(False)
        return w_prev + g * (w_content - w_prev)
    with torch.no_grad():
        check("interpolate", sneaky, verbose=False)
        assert not torch.is_grad_enabled()
    assert torch.get_default_dtype() == torch.float32 and torch.is_grad_enabled()


def test_train_step_report_is_short_and_labels_its_arguments():
    unclipped = next(fn for hint, fn in EXERCISES["train_step"].mistakes if hint.startswith("the gradients are not"))
    report = check("train_step", unclipped, verbose=False).report
    assert "optimizer = torch.optim.SGD(model.parameters(), lr=0.5)" in report
    assert "optimizer = 0.5" not in report
    assert len(report.splitlines()) < 30, report
    assert "hint: the gradients are not clipped" in report


# --- the grader's side of the worker ---------------------------------------------------------------------

def test_remote_outcomes_score_like_local_ones():
    ex = EXERCISES["interpolate"]
    outcomes = {g: [Outcome(got=ex.reference(*c.args), args=c.args) for c in ex.cases(g)]
                for g in ("values", "edge cases")}
    outcomes["gradients"] = []
    result = score_outcomes(ex, outcomes)
    assert result.groups["values"] and result.groups["edge cases"] and result.groups["gradients"] is False
    assert "no result came back" in result.report
    wrong = {"values": [Outcome(got=Foreign("ndarray"), args=c.args) for c in ex.cases("values")]}
    assert "NumPy" in score_outcomes(ex, wrong).report


class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/ntm-course-pwned",))


def test_the_channel_carries_data_never_code():
    good = transport.result_message("shift", {"status": "ok", "outcomes": {
        "values": [transport.pack_outcome(Outcome(got=(torch.ones(2), 3.0)))]}})
    assert transport.read_result(good)[1]["status"] == "ok"
    for payload in (pickle.dumps(Evil()), pickle.dumps({"status": "ok", "x": Evil()}),
                    b"\x00" * 8 + pickle.dumps(Evil())):
        with pytest.raises(transport.Rejected):
            transport.read_result(payload)
    assert not os.path.exists("/tmp/ntm-course-pwned")
    assert transport.pack(torch.nn.Parameter(torch.ones(1))).__class__ is torch.Tensor   # sent as a plain tensor


def test_pack_keeps_plain_values_and_names_the_rest():
    import numpy as np
    packed = transport.pack({"a": (torch.ones(2), 1, 2.5, True), "b": np.zeros(2), "c": "text", "d": object()})
    back = transport.unpack(packed)
    assert torch.equal(back["a"][0], torch.ones(2)) and back["a"][1:] == (1, 2.5, True)
    assert isinstance(back["b"], Foreign) and back["b"].type_name == "ndarray"
    assert back["c"] == "text" and back["d"].type_name == "object"


# --- hand-ins and magics ---------------------------------------------------------------------------------

@pytest.mark.parametrize("source, expected", [
    ("from ntm_course.addressing import shift", {"shift"}),
    ("from ntm_course import shift as mine", {"shift"}),
    ("import ntm_course as n\ndef shift(w, s):\n    return n.shift(w, s)", {"shift"}),
    ("import ntm_course.addressing\nf = ntm_course.addressing.shift", {"shift"}),
    ("import ntm_course.addressing as a\nf = getattr(a, 'sh' + 'ift')", {"*"}),
    ("f = __import__('ntm_course')", {"*"}),
    ("import importlib", {"*"}),
    ("def shift(w, s):\n    return reference('shift')(w, s)", {"*"}),
    ("from ntm_course_instructor.grading import reference", {"*"}),
    ("import ntm_course.teaching.practice.checker as c\nc.compare = lambda *a: None", {"*"}),   # the teaching layer
    ("from ntm_course.teaching.lesson import your_turn", {"*"}),
    ("from ntm_course import teaching", {"*"}),
    ("from ntm_course import *", {"*"}),
    ("def shift(w, s):\n    return exec('1')", {"*"}),
    ("g = shift.__code__", {"*"}),
    # allowed: the library's other pieces, torch, and defining the function
    ("from ntm_course import sharpen, interpolate\nimport torch\ndef shift(w, s):\n    return w", set()),
    ("import torch.nn.functional as F\n%matplotlib inline\ndef shift(w, s):\n    return F.relu(w)", set()),
])
def test_hand_ins_are_found_in_the_syntax_tree(source, expected):
    assert set(handins(source, {"shift"})) == expected


def test_magics_are_stripped_keeping_lines():
    source = "%matplotlib inline\nimport torch\n!pip install x\nfiles = !ls\nif True:\n    %time y = 1\n"
    out = worker.strip_magics(source)
    assert out.splitlines() == ["pass", "import torch", "pass", "files = None", "if True:", "    pass"]
    compile(out, "cell", "exec")
    assert worker.strip_magics("%%bash\necho hi\n") == ""
    assert worker.strip_magics("%%time\nx = 1\n").splitlines() == ["pass", "x = 1"]
