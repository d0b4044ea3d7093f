"""Exercise 08_param_count (ntm_course_instructor.grading.param_count): the reference equals
``count_parameters(NTM(...))`` on many configurations (hypothesis over the sizes), counts machines too big to build
exactly, its errors name the argument; the harness demands an int and compares it exactly; an answer that builds
the model fails the big machines with the hint that says why."""
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ntm_course as nc
from ntm_course_instructor.grading import EXERCISES, check, param_count, reference

COUNT = reference("ntm_parameter_count")
EXERCISE = EXERCISES["ntm_parameter_count"]


def built(input_size, output_size, controller="lstm", controller_size=100, controller_layers=1, N=128, M=20, R=1,
          W=1, K=3):
    """What the learner may not do for the big machines: build the NTM and count."""
    return nc.count_parameters(nc.NTM(input_size, output_size, controller=controller, controller_size=controller_size,
                                      controller_layers=controller_layers, N=N, M=M, num_read_heads=R,
                                      num_write_heads=W, shift_width=K))


# --- the reference is right ----------------------------------------------------------------------------

def test_the_paper_sized_copy_machines_by_hand():
    # LSTM: 4*100*(9 + 20 + 100 + 2) controller, (26 + 66) * 101 heads, 8 * (100 + 20 + 1) output, 20 + 128 * 2 state
    assert COUNT(9, 8) == 52_400 + 92 * 101 + 968 + 276 == 62_936
    # feed-forward: 100 * (29 + 1) controller, the rest as above
    assert COUNT(9, 8, "feedforward") == 3_000 + 92 * 101 + 968 + 276 == 13_536


def test_the_smallest_machine_by_hand():
    # lstm 1 unit reading 1 + 1: 4 * (2 + 1 + 2) = 20; one read head of 1 + 1 + 3 = 5 raw numbers: 5 * 2 = 10;
    # output 1 * (1 + 1 + 1) = 3; initial state 1 + 1 = 2
    assert COUNT(1, 1, "lstm", 1, N=1, M=1, R=1, W=0, K=1) == 20 + 10 + 3 + 2 == built(1, 1, "lstm", 1, N=1, M=1,
                                                                                           R=1, W=0, K=1)


@pytest.mark.parametrize("case", EXERCISE.cases("values") + EXERCISE.cases("edge cases")[:6], ids=lambda c: c.label)
def test_every_buildable_case_equals_the_built_models_count(case):
    assert COUNT(**case.args[0]) == built(**case.args[0])


@settings(max_examples=40, deadline=None)
@given(input_size=st.integers(1, 12), output_size=st.integers(1, 12),
       controller=st.sampled_from(["lstm", "feedforward"]), controller_size=st.integers(1, 40),
       controller_layers=st.integers(1, 3), N=st.integers(1, 40),
       M=st.integers(1, 12), R=st.integers(1, 4), W=st.integers(0, 4), K=st.sampled_from([1, 3, 5, 7, 9]))
def test_equals_count_parameters_of_the_built_ntm(**config):
    assert COUNT(**config) == built(**config)


def test_more_memory_rows_add_only_the_initial_weightings():
    """Lesson 8's measurement: 128 -> 1024 rows adds (1024 - 128) * (R + W) parameters."""
    assert COUNT(9, 8, N=1024) - COUNT(9, 8) == (1024 - 128) * 2


def test_machines_too_big_to_build_are_counted_exactly():
    counts = [COUNT(**config) for config in param_count.TOO_BIG_CONFIGS]
    assert all(isinstance(n, int) and n > 10**10 for n in counts)
    assert counts[0] == 4 * 10**7 * (29 + 10**7 + 2) + 92 * (10**7 + 1) + 8 * (10**7 + 21) + 276
    assert counts[-1] > 2**63   # more than a 64-bit integer holds


@pytest.mark.parametrize("changes, words", [
    (dict(R=0), "R must be a positive int, got 0"),
    (dict(W=-1), "W (the number of write heads) must be an int >= 0, got -1"),
    (dict(K=4), "K must be odd and positive, got K=4"),
    (dict(M=2.5), "M must be a positive int, got 2.5"),
    (dict(controller="gru"), "controller must be one of ['feedforward', 'lstm'], got 'gru'"),
    (dict(controller_layers=True), "controller_layers must be a positive int, got True"),
])
def test_reference_errors_name_the_argument(changes, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        COUNT(**{"input_size": 9, "output_size": 8, **changes})


# --- the harness and the check -------------------------------------------------------------------------

def test_harness_returns_the_count_and_its_last_digits():
    config = dict(input_size=9, output_size=8)
    assert param_count._call(COUNT, (config,)) == {"count": 62_936, "last three digits": 936}
    assert param_count._call(lambda **c: torch.tensor(62_936), (config,))["count"] == 62_936   # an int tensor is an int


@pytest.mark.parametrize("answer, words", [
    (lambda **c: 62_936.0, "must return an int (the number of parameters), got float 62936.0"),
    (lambda **c: None, "got NoneType None"),
    (lambda **c: True, "got a bool"),
    (lambda **c: torch.tensor(62_936.0), "got Tensor"),
])
def test_harness_errors_say_an_int_is_expected(answer, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        param_count._call(answer, (dict(input_size=9, output_size=8),))


def test_the_reference_scores_every_group():
    result = check("ntm_parameter_count", COUNT, verbose=False)
    assert result.passed and result.points == 2 and result.grade == 4, result.report


def test_the_check_is_exact_where_a_relative_tolerance_would_not_be():
    """Off by one on a machine of 10^14 parameters: within any relative tolerance, caught by the last digits."""
    def off_by_one_when_huge(**config):
        n = COUNT(**config)
        return n + 1 if n > 10**10 else n
    result = check("ntm_parameter_count", off_by_one_when_huge, verbose=False)
    assert result.groups == {"values": True, "edge cases": False}
    assert "result['last three digits']" in result.report


def test_building_the_model_fails_the_machines_too_big_to_build():
    result = check("ntm_parameter_count", built, verbose=False)
    assert result.groups == {"values": True, "edge cases": False} and result.grade == 2
    assert "too big to build" in result.report and param_count.TOO_BIG in result.report


def test_building_on_the_meta_device_fails_too():
    def on_meta(**config):
        with torch.device("meta"):
            return built(**config)
    result = check("ntm_parameter_count", on_meta, verbose=False)
    assert result.groups["edge cases"] is False and param_count.TOO_BIG in result.report


def test_a_float_count_is_told_to_count_in_ints():
    result = check("ntm_parameter_count", lambda **c: float(COUNT(**c)), verbose=False)
    assert result.points == 0 and "count with integers" in result.report


def test_cases_cover_the_brief():
    configs = [c.args[0] for group in ("values", "edge cases") for c in EXERCISE.cases(group)]
    assert {c["controller"] for c in configs} == {"lstm", "feedforward"}
    assert {c["K"] for c in configs} >= {1, 3, 5, 7, 9}
    assert max(c["R"] for c in configs) >= 4 and max(c["W"] for c in configs) >= 4 and min(c["W"] for c in configs) == 0
    assert sum(COUNT(**c) > 10**10 for c in configs) >= 2
    assert EXERCISE.groups == ("values", "edge cases")


@pytest.mark.parametrize("index", range(len(EXERCISE.mistakes)))
def test_each_mistake_differs_from_the_reference_on_an_lstm_of_two_layers(index):
    _, wrong = EXERCISE.mistakes[index]
    config = dict(input_size=9, output_size=8, controller_layers=2, R=2, W=2)
    assert wrong(**config) != COUNT(**config)


def test_the_mistakes_of_the_brief_are_catalogued():
    hints = " ".join(hint for hint, _ in EXERCISE.mistakes)
    for words in ("R read vectors", "erase and add", "bias vector", "four gated layers", "b_ih and b_hh",
                  "[h_t; r_t]"):
        assert words in hints, words
