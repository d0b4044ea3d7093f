"""The checker's edge paths: results of the wrong structure or kind, values that cannot be compared (a sparse
tensor), outcomes from a worker that are missing or malformed, and errors rebuilt from a worker's report. Each
must become a failed case with a precise message, never an exception."""
import builtins

import pytest
import torch

from ntm_course.teaching.practice.checker import (
    CheckResult,
    GradOutcome,
    Outcome,
    clone,
    compare,
    format_value,
    not_callable,
    projected_gradients,
    rebuild_error,
    same,
    score_outcomes,
)
from ntm_course.teaching.practice.exercises.cases import Case, Exercise
from ntm_course_instructor.grading import EXERCISES, check

SHIFT = EXERCISES["shift"]   # arguments (w, s); gradients reach both


def t(*values):
    return torch.tensor(values, dtype=torch.float32)


def right_outcomes(exercise, change_args=None):
    """Outcomes of the reference itself on every values and edge case; ``change_args(args)`` what comes back
    as the arguments after the call."""
    return {g: [Outcome(got=exercise.reference(*clone(c.args)),
                        args=change_args(clone(c.args)) if change_args else clone(c.args))
                for c in exercise.cases(g)] for g in ("values", "edge cases")}


# --- small pieces -----------------------------------------------------------------------------------------

def test_check_result_repr_and_passed():
    assert repr(CheckResult("shift", 3, 4)) == "CheckResult('shift', points=3, max_points=4)"
    assert not CheckResult("shift", 3, 4).passed and CheckResult("shift", 4, 4).passed


def test_clone_copies_nested_dicts_detached_and_leaves_the_original_alone():
    x = torch.ones(2, requires_grad=True)
    copied = clone({"a": x, "b": [x, 3], "c": ("text",)})
    assert isinstance(copied["b"], list) and copied["b"][1] == 3 and copied["c"] == ("text",)
    assert not copied["a"].requires_grad and torch.equal(copied["a"], x.detach())
    copied["a"].add_(1)
    copied["b"][0].mul_(5)
    assert torch.equal(x.detach(), torch.ones(2))


def test_format_value_of_a_dict_full_and_brief():
    assert format_value({"a": t(1.0, 2.0), "b": 3}) == "{a: [1. 2.]  (2) float32, b: 3}"
    assert format_value({"w": torch.zeros(5, 5)}, brief=True) == "{w: tensor (5, 5) float32}"


# --- compare: numbers and structures ----------------------------------------------------------------------

def test_a_number_result_accepts_a_one_element_tensor_and_rejects_other_kinds():
    assert compare(1.5, torch.tensor(1.5)) is None
    assert compare(1.5, torch.tensor(2.5)) == ("values", "result is 2.5, expected 1.5")
    assert compare(1.0, True) == ("type", "result should be a number, got bool")
    assert compare(1.0, "1") == ("type", "result should be a number, got str")
    assert compare(1.0, torch.ones(2)) == ("type", "result should be a number, got Tensor")
    # a meta tensor has no value to read: it is not taken for a number
    assert compare(1.0, torch.tensor(1.0, device="meta")) == ("type", "result should be a number, got Tensor")


def test_a_dict_result_needs_a_dict_with_the_same_keys():
    expected = {"a": t(1.0), "b": t(2.0)}
    assert compare(expected, {"b": t(2.0), "a": t(1.0)}) is None                 # key order does not matter
    assert compare(expected, [t(1.0), t(2.0)]) == ("type", "result should be a dict with keys ['a', 'b'], got list")
    assert compare(expected, {"a": t(1.0), "c": t(2.0)}) == ("keys", "result has keys ['a', 'c'], expected ['a', 'b']")
    kind, message = compare(expected, {"a": t(1.0), "b": t(3.0)})
    assert kind == "values" and message.startswith("result['b'] differs from the expected values")


def test_a_tuple_result_needs_as_many_values_and_leaves():
    expected = (t(1.0), t(2.0))
    assert compare(expected, [t(1.0), t(2.0)]) is None                           # a list is accepted for a tuple
    assert compare(expected, t(1.0)) == ("type", "result should be a tuple of 2 values, got Tensor")
    assert compare(expected, [t(1.0)]) == ("type", "result should be a tuple of 2 values, got list of 1")
    assert compare(expected, (t(1.0), (t(2.0), t(3.0)))) == ("type", "result should hold 2 values, got 3")


def test_same_is_false_when_the_results_cannot_even_be_compared():
    expected = torch.rand(2, 3)
    with pytest.raises(NotImplementedError):          # torch has no elementwise comparison for sparse tensors
        compare(expected, expected.to_sparse())
    assert same(expected, expected.to_sparse()) is False
    assert same(expected, expected.clone()) is True


# --- check and score_outcomes: nothing raises -------------------------------------------------------------

def test_a_result_that_cannot_be_compared_is_a_failed_case_not_an_error():
    result = check("shift", lambda w, s: SHIFT.reference(w, s).to_sparse(), verbose=False)
    assert (result.points, result.groups["values"]) == (0, False)
    assert result.failures["values"].problem.startswith(
        "the result could not be compared with the reference (NotImplementedError: ")
    assert result.failures["values"].hint == SHIFT.shape_hint


def test_a_result_that_cannot_be_compared_in_a_batch_is_a_failed_case_not_an_error():
    """A sparse result on the batched cases only: the report's "first differing example" must not raise."""
    def shift(w, s):
        out = SHIFT.reference(w, s)
        return out.to_sparse() if w.shape[0] > 1 else out
    result = check("shift", shift, verbose=False)
    assert result.points == 0 and result.failures["values"].case.label.startswith("random, batch 2")


def test_a_failure_quotes_only_the_first_line_of_a_long_error():
    result = check("shift", lambda w, s: SHIFT.reference(w, s).to_sparse(), verbose=False)
    problem = result.failures["values"].problem
    assert "\n" not in problem and len(problem) < 300, problem


def test_arguments_that_did_not_come_back_lose_the_inputs_untouched_point():
    """Every runner sends the arguments back after the call; a result without them cannot show they were kept."""
    outcomes = right_outcomes(SHIFT)
    outcomes["values"] = [Outcome(got=o.got, args=None) for o in outcomes["values"]]
    result = score_outcomes(SHIFT, outcomes, verbose=False)
    assert result.groups["values"] and not result.groups["inputs untouched"]
    assert result.failures["inputs untouched"].problem.startswith("the arguments did not come back")


def test_an_exception_that_cannot_be_printed_is_a_failed_case_not_an_error():
    class Unprintable(Exception):
        def __str__(self):
            raise RuntimeError("no message")

    def shift(w, s):
        raise Unprintable()

    result = check("shift", shift, verbose=False)
    assert result.points == 0
    assert result.failures["values"].problem == "the check could not score this case (RuntimeError: no message)"
    assert result.failures["values"].hint == "return tensors like the reference's, on the inputs' device"


def test_not_callable_scores_zero_and_says_why(capsys):
    result = not_callable(SHIFT, "no function named shift", verbose=True)
    assert (result.name, result.points, result.max_points, result.passed) == ("shift", 0, 4, False)
    assert result.report == "shift: 0/4 points -- no function named shift"
    assert capsys.readouterr().out == result.report + "\n"


def test_an_argument_that_comes_back_as_something_else_counts_as_changed():
    """From a worker: the arguments after the call came back, but as a sparse tensor torch cannot compare
    with the original; the grader fails closed and counts the input as changed."""
    outcomes = right_outcomes(SHIFT, change_args=lambda args: (args[0].to_sparse(), args[1]))
    outcomes["gradients"] = [GradOutcome(grads=projected_gradients(SHIFT, SHIFT.reference, clone(c.args)))
                             for c in SHIFT.cases("gradients")]
    result = score_outcomes(SHIFT, outcomes)
    assert result.groups == {"values": True, "edge cases": True, "gradients": True, "inputs untouched": False}
    assert result.failures["inputs untouched"].problem == "your function changed its input w in place"


@pytest.mark.parametrize("grads", ["junk", [torch.zeros(2)]], ids=["not a list", "one gradient of two"])
def test_malformed_gradients_from_a_worker_fail_the_gradients_group(grads):
    outcomes = right_outcomes(SHIFT)
    outcomes["gradients"] = [GradOutcome(grads=grads) for _ in SHIFT.cases("gradients")]
    result = score_outcomes(SHIFT, outcomes)
    assert result.groups["values"] and result.groups["inputs untouched"]
    assert result.groups["gradients"] is False and result.points == 3
    assert result.failures["gradients"].problem == "the gradients could not be computed"


def double(x):
    return 2 * x


# a one-vector exercise: its gradients have no batch axis, so a failure's report shows them whole
DOUBLE = Exercise("double", double, build=lambda gen: {
    "values": [Case("a vector", (torch.arange(3.0),))],
    "gradients": [Case("a vector, float64", (torch.arange(3.0, dtype=torch.float64),))]}, grad_args=(0,))


def test_gradients_that_cannot_be_compared_differ_from_the_reference():
    x = DOUBLE.cases("gradients")[0].args[0]
    assert torch.equal(projected_gradients(DOUBLE, double, clone((x,)))[0] / 2,
                       projected_gradients(DOUBLE, lambda v: v, clone((x,)))[0])   # d(2x) = 2 dx
    sparse = [g.to_sparse() for g in projected_gradients(DOUBLE, double, clone((x,)))]
    values = [Outcome(got=double(c.args[0]), args=clone(c.args)) for c in DOUBLE.cases("values")]
    result = score_outcomes(DOUBLE, {"values": values, "gradients": [GradOutcome(grads=sparse)]})
    assert result.groups == {"values": True, "edge cases": True, "gradients": False, "inputs untouched": True}
    assert result.failures["gradients"].problem == "the gradient with respect to x differs from the reference's"
    assert "the values match but the gradients don't" in result.report


# --- errors a worker reported ----------------------------------------------------------------------------

def test_a_builtin_error_is_rebuilt_as_itself():
    error = rebuild_error("ValueError", "w must be (B, N)")
    assert type(error) is ValueError and str(error) == "w must be (B, N)"
    assert type(rebuild_error("KeyboardInterrupt", "stop")) is KeyboardInterrupt   # any BaseException


@pytest.mark.parametrize("name", ["ShapeMismatch", "int", "print"])
def test_an_unknown_or_non_exception_name_becomes_a_new_exception_class_of_that_name(name):
    error = rebuild_error(name, "message")
    assert type(error).__name__ == name and str(error) == "message"
    assert isinstance(error, Exception) and type(error) is not getattr(builtins, name, None)


@pytest.mark.parametrize("name", [None, 3, "not a name", "os.system"])
def test_a_name_that_is_not_an_identifier_becomes_exception(name):
    error = rebuild_error(name, "message")
    assert type(error) is Exception and str(error) == "message"


def test_a_builtin_error_that_needs_more_arguments_keeps_its_name_and_message():
    error = rebuild_error("UnicodeDecodeError", "bad byte")       # its constructor takes five arguments
    assert type(error).__name__ == "UnicodeDecodeError" and type(error) is not UnicodeDecodeError
    assert isinstance(error, Exception) and str(error) == "bad byte"


def test_rebuilt_names_and_messages_are_cut_to_size():
    error = rebuild_error("E" * 100, "m" * 5000)
    assert type(error).__name__ == "E" * 60 and str(error) == "m" * 2000


def test_a_dtype_mismatch_error_gets_the_dtype_hint():
    hint = EXERCISES["shift"].error_hint(RuntimeError("expected scalar type Double but found Float"))
    assert hint.startswith("create new tensors with the inputs' dtype")


def test_a_check_forks_every_cuda_generator_around_the_learners_code(fake_gpus):
    """Whatever the learner's function draws, on any device, the learner's generators come back as they were."""
    forked = fake_gpus(2)
    before = torch.get_rng_state()

    def read(memory, w):
        torch.manual_seed(123)                                    # a learner's function that reseeds
        return (memory * w.unsqueeze(-1)).sum(dim=1)
    assert check("read", read, verbose=False).passed
    assert [0, 1] in forked and torch.equal(torch.get_rng_state(), before)
