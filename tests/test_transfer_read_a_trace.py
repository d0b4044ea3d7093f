"""Exercise 09_read_a_trace: the reference reads a hand-made trace as computed by hand, agrees with the trace's
definitions on random traces (hypothesis), the check's traces (shipped models and synthetic) keep every answer away
from its threshold, the harness accepts the answers' natural forms and names what is wrong, and right answers
written differently pass."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm_course_instructor.grading import EXERCISES, check, read_a_trace, reference

ANSWERS = reference("trace_answers")


def hand_trace():
    """Three steps, batch 2, two read heads, K = 3, N = 4; example 0's head 0 is the one asked about."""
    T, B, R, N, K = 3, 2, 2, 4, 3
    g = torch.full((T, B, R, 1), 0.9)
    g[:, 0, 0, 0] = torch.tensor([0.9, 0.2, 0.45])
    s = torch.full((T, B, R, K), 1 / 3)
    s[:, 0, 0] = torch.tensor([[0.1, 0.8, 0.1], [0.05, 0.15, 0.8], [0.6, 0.3, 0.1]])
    w = torch.full((T, B, R, N), 0.25)
    w[:, 0, 0] = torch.tensor([[0.7, 0.1, 0.1, 0.1], [0.1, 0.1, 0.1, 0.7], [0.4, 0.3, 0.2, 0.1]])
    return {"read_g": g, "read_s": s, "read_weights": w, "write_g": 1 - g, "write_s": s.flip(-1),
            "write_weights": w.flip(-1)}


def test_a_hand_made_trace():
    assert ANSWERS(hand_trace()) == {"content": [1, 0, 0], "shift": [0, 1, -1], "focus": [0, 3, -1]}


@settings(max_examples=30, deadline=None)
@given(T=st.integers(1, 6), B=st.integers(1, 3), R=st.integers(1, 3), N=st.integers(2, 9),
       K=st.sampled_from([1, 3, 5, 7]), seed=st.integers(0, 999))
def test_the_reference_follows_its_definitions(T, B, R, N, K, seed):
    gen = torch.Generator().manual_seed(seed)
    trace = {"read_g": torch.rand(T, B, R, 1, generator=gen),
             "read_s": torch.softmax(3 * torch.randn(T, B, R, K, generator=gen), -1),
             "read_weights": torch.softmax(3 * torch.randn(T, B, R, N, generator=gen), -1)}
    answers = ANSWERS(trace)
    assert set(answers) == {"content", "shift", "focus"} and all(len(v) == T for v in answers.values())
    for t in range(T):
        g, s, w = trace["read_g"][t, 0, 0, 0].item(), trace["read_s"][t, 0, 0].tolist(), trace["read_weights"][t, 0, 0]
        assert answers["content"][t] == (1 if g > 0.5 else 0)
        assert answers["shift"][t] == s.index(max(s)) - K // 2 and -(K // 2) <= answers["shift"][t] <= K // 2
        top = w.max().item()
        assert answers["focus"][t] == (w.tolist().index(top) if top > 0.5 else -1)


def test_the_checks_traces_keep_every_answer_away_from_its_threshold():
    cases = [c for g in ("values", "edge cases") for c in EXERCISES["trace_answers"].cases(g)]
    assert len(cases) == 15
    for case in cases:
        (trace,) = case.args
        assert read_a_trace.margins_ok(trace), case.label
        assert all(isinstance(v, torch.Tensor) for v in trace.values())       # plain values for the worker
        T = trace["read_g"].shape[0]
        assert all(v.shape[0] == T for k, v in trace.items()), case.label


def test_the_shipped_models_traces_show_what_they_do():
    labels = {c.label: c.args[0] for c in EXERCISES["trace_answers"].cases("values")}
    copy = ANSWERS(labels["the shipped copy NTM, a sequence of 6"])
    assert copy["focus"][7:] == list(range(1, 7)) and set(copy["shift"][7:]) == {1}        # walks +1 when copying
    repeat = ANSWERS(labels["the shipped repeat-copy NTM, 3 items repeated twice"])
    assert any(a > b for a, b in zip(repeat["focus"][4:], repeat["focus"][5:]))               # jumps back to repeat
    assert labels["the shipped copy NTM, a batch of 2 sequences of 4, float64"]["read_g"].dtype == torch.float64


def test_recorded_traces_are_the_same_every_time():
    one = read_a_trace.recorded_trace("copy", dict(min_length=3, max_length=3))
    two = read_a_trace.recorded_trace("copy", dict(min_length=3, max_length=3))
    assert one.keys() == two.keys() and all(torch.equal(one[k], two[k]) for k in one)


def test_a_synthetic_trace_has_the_shapes_of_ntm_trace():
    trace = read_a_trace.synthetic_trace(torch.Generator().manual_seed(0), T=4, B=2, R=3, N=5, M=6, K=5, W=2)
    assert trace["read_weights"].shape == (4, 2, 3, 5) and trace["read_s"].shape == (4, 2, 3, 5)
    assert trace["write_g"].shape == (4, 2, 2, 1) and trace["memory"].shape == (4, 2, 5, 6)
    assert torch.allclose(trace["read_weights"].sum(-1), torch.ones(4, 2, 3, dtype=torch.float64))
    assert not any(k.startswith("write") for k in read_a_trace.synthetic_trace(
        torch.Generator().manual_seed(0), T=2, B=1, R=1, N=5, M=3, K=3, W=0))


@pytest.mark.parametrize("answers", [
    {"content": [True, False, False], "shift": torch.tensor([0, 1, -1]), "focus": (0, 3, -1)},
    {"content": torch.tensor([1.0, 0.0, 0.0]), "shift": [torch.tensor(0), 1, -1], "focus": [0.0, 3.0, -1.0]},
])
def test_the_harness_accepts_booleans_tensors_and_whole_floats(answers):
    assert read_a_trace._trace_call(lambda trace: answers, (hand_trace(),)) == ANSWERS(hand_trace())


@pytest.mark.parametrize("answers, words", [
    ([1, 0, 0], "must return a dict with keys ['content', 'shift', 'focus'], got list"),
    ({"content": [1, 0, 0], "shift": [0, 1, -1]}, "'focus' is missing"),
    ({"content": [1, 0, 0], "shift": [0, 1], "focus": [0, 3, -1]},
     "['shift'] must hold one value per step, T = 3, got 2 values: the trace's tensors are time first"),
    ({"content": [1, 0, 0], "shift": 1, "focus": [0, 3, -1]}, "got int"),
    ({"content": [1, 0, 0], "shift": [0, 0.5, -1], "focus": [0, 3, -1]}, "['shift'][1] must be an integer"),
])
def test_the_harness_names_what_is_wrong(answers, words):
    with pytest.raises(ValueError) as error:
        read_a_trace._trace_call(lambda trace: answers, (hand_trace(),))
    assert words in str(error.value)


def answers_in_a_loop(trace):
    """Another right answer: step by step, in plain Python."""
    out = {"content": [], "shift": [], "focus": []}
    for t in range(trace["read_g"].shape[0]):
        g = float(trace["read_g"][t, 0, 0, 0])
        s = trace["read_s"][t, 0, 0].tolist()
        w = trace["read_weights"][t, 0, 0].tolist()
        out["content"].append(g > 0.5)
        out["shift"].append(s.index(max(s)) - len(s) // 2)
        out["focus"].append(w.index(max(w)) if max(w) > 0.5 else -1)
    return out


def answers_as_tensors(trace):
    s = trace["read_s"][..., 0, 0, :]
    w = trace["read_weights"].select(2, 0).select(1, 0)
    return {"content": trace["read_g"][:, 0, 0, 0] > 0.5, "shift": s.argmax(-1) - (s.shape[-1] - 1) // 2,
            "focus": torch.where(w.max(-1).values > 0.5, w.argmax(-1), torch.full_like(w.argmax(-1), -1))}


@pytest.mark.parametrize("fn", [answers_in_a_loop, answers_as_tensors])
def test_right_answers_written_differently_pass(fn):
    result = check("trace_answers", fn, verbose=False)
    assert result.passed and result.grade == 4, result.report


def test_the_write_heads_answers_fail_on_a_trace_without_one_and_say_so():
    report = check("trace_answers", read_a_trace._variant(prefix="write"), verbose=False).report
    assert "the write head's values" in report
