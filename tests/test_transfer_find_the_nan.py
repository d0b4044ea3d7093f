"""Exercise 06_find_the_nan: ``first_nan``'s reference on hand-made programs and on the check's own, its harness
(the programs built from plain data, the answer encoded as numbers, anomaly mode left as found) and its messages."""
import re
import warnings

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm_course_instructor.grading import check
from ntm_course_instructor.grading import find_the_nan as ftn
from ntm_course_instructor.grading.transport import pack


def answer(t, phase, operation):
    return {"step": t, "phase": phase, "operation": operation}


# --- the reference on programs written here, whose answers are known by hand -----------------------------

def test_a_division_by_zero_at_step_2_is_named_where_it_is_born():
    def step(x, t):
        y = x * (0.0 if t == 2 else 1.0)
        return (y / y.sum()) + 1.0          # 0 / 0 at step 2; the addition only carries it
    assert ftn.first_nan(step, torch.ones(1, 3), 5) == answer(2, "forward", "DivBackward0")


def test_the_first_nan_of_a_step_is_its_first_tensor_with_a_nan():
    def step(x, t):
        y = torch.log(x - 10.0 * (t == 1))   # log of a negative number at step 1
        return torch.exp(y) * 2
    assert ftn.first_nan(step, torch.full((2, 2), 1.5), 3) == answer(1, "forward", "LogBackward0")


def test_zero_times_log_zero_is_born_in_the_multiplication():
    step = ftn.PROGRAMS["entropy"](torch.tensor([[[1.0, 0.0]], [[1.0, 1.0]]]))
    assert ftn.first_nan(step, torch.tensor([[0.5, 0.5]]), 2) == answer(0, "forward", "MulBackward0")


def test_a_clean_program_and_one_with_infinities_only_have_none():
    assert ftn.first_nan(lambda x, t: 2 * x + 1, torch.randn(2, 3), 4) is None
    assert ftn.first_nan(lambda x, t: torch.exp(10 * x), torch.ones(1, 2), 3) is None


def test_a_backward_only_nan_is_the_last_step_whose_gradient_holds_one():
    """sqrt(x ** 2) at x = 0: sqrt's slope is inf, and the power's backward multiplies it by 0 (its x)."""
    def step(x, t):
        x = x * (0.0 if t in (1, 2) else 1.0)
        return torch.sqrt(x ** 2) + 1.0
    found = ftn.first_nan(step, torch.ones(1, 2), 4)
    assert found == answer(2, "backward", "PowBackward0")


def test_the_forward_phase_comes_first():
    def step(x, t):
        if t == 0:
            return torch.where(x > 5, torch.log(x - 5), torch.zeros_like(x)) + 1.0   # backward-only
        return (x - x) / (x - x) if t == 2 else x                                    # forward at step 2
    assert ftn.first_nan(step, torch.ones(1, 2), 3) == answer(2, "forward", "DivBackward0")


def test_a_nan_born_where_two_gradients_add_up_has_no_node_and_says_so():
    """x / (x - x) is inf; backwards, x gets inf from the division and -inf + inf from the subtraction: the NaN
    appears when the engine adds them up, in no node, so detect_anomaly names none."""
    with pytest.raises(RuntimeError, match="step 0's gradient holds a NaN, but detect_anomaly found none"):
        ftn.first_nan(lambda x, t: x / (x - x), torch.ones(1, 2), 1)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_the_checks_programs_have_the_answers_their_labels_say(dtype):
    wanted = {"content addressing": answer(3, "forward", "DivBackward0"),
              "a where that guards log(0)": answer(3, "backward", "LogBackward0"),
              "sharpening by hand": answer(5, "forward", "DivBackward0"),
              "x <- sqrt(x) - drift": answer(2, "forward", "SqrtBackward0"),
              "x <- x - 0.1 x log x": answer(4, "forward", "MulBackward0"),
              "a row length by hand": answer(2, "backward", "PowBackward0"),
              "a NaN at step 0": answer(0, "forward", "SqrtBackward0"),
              "a backward-only NaN at step 0": answer(0, "backward", "LogBackward0"),
              "no NaN at all": None, "infinities but no NaN": None,
              "a NaN at the last step": answer(4, "forward", "DivBackward0"),
              "a single step": answer(0, "forward", "DivBackward0"),
              "two backward NaNs": answer(3, "backward", "PowBackward0")}
    cases = [c for group in ("values", "edge cases") for c in ftn.FIRST_NAN.cases(group) if c.label.endswith(
        str(dtype)[6:])]
    assert len(cases) == len(wanted)
    for case in cases:
        (expected,) = [v for k, v in wanted.items() if case.label.startswith(k)]
        program, T, x0, schedule = case.args
        assert x0.dtype == dtype
        assert ftn.first_nan(ftn.PROGRAMS[program](schedule), x0, T) == expected, case.label


@settings(max_examples=15, deadline=None)
@given(T=st.integers(1, 7), data=st.data())
def test_the_birth_step_follows_the_trouble(T, data):
    """Whichever step the trouble is put at, the answer names that step: forward for a sqrt of a negative,
    backward for a where that hides log(0)."""
    at = data.draw(st.integers(0, T - 1))
    gen = torch.Generator().manual_seed(at)
    program, _, x0, schedule = ftn._program(gen, "sqrt", T, at=(at,))
    assert ftn.first_nan(ftn.PROGRAMS[program](schedule), x0, T) == answer(at, "forward", "SqrtBackward0")
    program, _, x0, schedule = ftn._program(gen, "safe_log", T, at=(at,))
    assert ftn.first_nan(ftn.PROGRAMS[program](schedule), x0, T) == answer(at, "backward", "LogBackward0")


# --- another correct hunt, written differently, scores full marks: the contract is well defined -------------

def first_nan_by_hooks(step, x0, T):
    """Forward: states only, then each operation of the first bad step replayed under a watch. Backward: the whole
    pass under detect_anomaly, the step found by hooks on the states (the last hook fired before the error)."""
    x, states = x0.detach().requires_grad_(), []
    for t in range(T):
        states.append(x)
        x = step(x, t)
        if torch.isnan(x).any():
            with ftn.NaNWatch() as watch:
                step(states[-1], t)
            return answer(t, "forward", watch.first)
    reached = []
    for t, state in enumerate(states):
        if state.requires_grad and not state.is_leaf:
            state.register_hook(lambda g, t=t: reached.append(t))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.autograd.detect_anomaly():
                x.sum().backward()
        except RuntimeError as error:
            name = re.search(r"'(\w+)'", str(error)).group(1)
            return answer(min(reached, default=T) - 1, "backward", name)
    return None


def test_a_hunt_written_differently_scores_full_marks():
    result = check("first_nan", first_nan_by_hooks, verbose=False)
    assert result.passed and result.grade == 4, result.report


# --- the harness and its messages -------------------------------------------------------------------------

def test_the_cases_are_plain_values_that_cross_the_worker_boundary():
    for group in ("values", "edge cases"):
        for case in ftn.FIRST_NAN.cases(group):
            program, T, x0, schedule = case.args
            assert isinstance(program, str) and isinstance(T, int) and program in ftn.PROGRAMS
            assert pack(case.args)[0] == program and torch.equal(pack(case.args)[2], x0)


def test_the_answer_is_encoded_as_numbers():
    none = ftn.encoded(None)
    assert none["step"] == -1 and sum(v for k, v in none.items() if k != "step") == 0
    found = ftn.encoded(answer(3, "backward", "LogBackward0"))
    assert found["step"] == 3 and found["phase is backward"] == 1 and found["phase is forward"] == 0
    assert found["operation is LogBackward0"] == 1 and found["operation is another name"] == 0
    assert ftn.encoded(answer(torch.tensor(3), "forward", "Log"))["operation is another name"] == 1
    assert all(isinstance(v, int) for v in found.values())


@pytest.mark.parametrize("bad, words", [
    ("DivBackward0", "must return None or a dict with keys 'step', 'phase' and 'operation', got str"),
    ({"step": 1, "phase": "forward"}, "exactly the keys 'step', 'phase' and 'operation'"),
    (answer(1.0, "forward", "DivBackward0"), "'step' must be an int"),
    (answer(True, "forward", "DivBackward0"), "'step' must be an int"),
    (answer(1, "Forward", "DivBackward0"), "'phase' must be 'forward' or 'backward', got 'Forward'"),
    (answer(1, "forward", None), "'operation' must be a str"),
])
def test_a_malformed_answer_is_a_clear_error(bad, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        ftn.encoded(bad)


def test_the_report_of_a_malformed_answer_says_what_to_return():
    result = check("first_nan", lambda step, x0, T: "DivBackward0", verbose=False)
    assert result.points == 0 and "must return None or a dict with keys" in result.report


def test_the_harness_gives_a_fresh_leaf_and_leaves_anomaly_mode_as_found():
    seen = []

    def careless(step, x0, T):
        seen.append((x0.is_leaf, x0.requires_grad))
        torch.autograd.set_detect_anomaly(True)   # never turned off again
        return None

    case = ftn.FIRST_NAN.cases("values")[0]
    before = torch.is_anomaly_enabled()
    assert ftn.run_program(careless, case.args)["step"] == -1
    assert torch.is_anomaly_enabled() == before and seen == [(True, True)]
    x0 = case.args[2]
    assert not x0.requires_grad and x0.grad is None


def test_an_unknown_program_is_a_value_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="program must be one of"):
        ftn._program(torch.Generator(), "nope", 3)
