"""Exercise 05_scalar_shift (ntm_course_instructor.grading.scalar_shift): the reference is the paper's width-one
uniform distribution over the shifts in this course's convention (hand-computed cases, properties, float64
gradcheck), the harness returns ``s`` and ``shift(w, s)`` and says clearly what is wrong with a result, and correct
answers written differently pass."""
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import ntm_course
from ntm_course_instructor.grading import EXERCISES, check, reference, scalar_shift

SCALAR_SHIFT = reference("scalar_shift")


def s_of(a, K, dtype=torch.float64):
    return SCALAR_SHIFT(torch.tensor([[a]], dtype=dtype), K)[0].tolist()


# --- the reference is right ----------------------------------------------------------------------------

@pytest.mark.parametrize("a, K, expected", [
    (6.7, 15, {6: 0.3, 7: 0.7}),             # the paper's example
    (0.0, 3, {0: 1.0}),
    (1.0, 3, {1: 1.0}),
    (-1.0, 3, {-1: 1.0}),
    (0.25, 3, {0: 0.75, 1: 0.25}),
    (-0.3, 5, {-1: 0.3, 0: 0.7}),            # floor, not trunc: the lower end lies in offset -1's unit
    (-1.5, 5, {-2: 0.5, -1: 0.5}),
    (1.5, 5, {1: 0.5, 2: 0.5}),
    (2.0, 5, {2: 1.0}),                      # the upper limit: nothing spills past the last column
    (2.6, 5, {2: 1.0}),                      # clamped
    (-40.0, 5, {-2: 1.0}),
    (0.4, 1, {0: 1.0}),                      # K = 1: offset 0 only
])
def test_reference_by_hand(a, K, expected):
    want = [expected.get(k - K // 2, 0.0) for k in range(K)]
    assert s_of(a, K) == pytest.approx(want, abs=1e-12)


@settings(max_examples=60, deadline=None)
@given(a=st.floats(-12, 12, allow_nan=False), K=st.sampled_from([1, 3, 5, 7, 9, 15]))
def test_a_distribution_whose_mean_is_a_clamped(a, K):
    s = torch.tensor(s_of(a, K), dtype=torch.float64)
    offsets = torch.arange(-(K // 2), K // 2 + 1, dtype=torch.float64)
    assert (s >= 0).all() and s.sum().item() == pytest.approx(1.0)
    assert (s > 0).sum().item() <= 2
    assert (s * offsets).sum().item() == pytest.approx(min(max(a, -(K // 2)), K // 2), abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(a=st.floats(-3, 3, allow_nan=False), K=st.sampled_from([3, 5, 7]))
def test_the_width_one_interval_gives_each_offset_its_overlap(a, K):
    """s(o) is the length of [a, a + 1] inside [o, o + 1), with a clamped."""
    a_c = min(max(a, -(K // 2)), K // 2)
    want = [max(0.0, min(a_c + 1, o + 1) - max(a_c, o)) for o in range(-(K // 2), K // 2 + 1)]
    assert s_of(a, K) == pytest.approx(want, abs=1e-9)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_follows_the_inputs_dtype_and_batch(dtype):
    a = torch.tensor([[0.5], [-1.25], [3.0]], dtype=dtype)
    s = SCALAR_SHIFT(a, 5)
    assert s.shape == (3, 5) and s.dtype == dtype
    assert torch.allclose(s[1], torch.tensor([0.25, 0.75, 0, 0, 0], dtype=dtype))


def test_gradcheck_between_integers():
    a = torch.tensor([[0.3], [-1.7], [1.2], [-0.45]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a: SCALAR_SHIFT(a, 5), (a,))
    assert torch.autograd.gradcheck(lambda a: SCALAR_SHIFT(a, 9), (a,))


def test_the_gradient_moves_weight_from_the_lower_to_the_upper_offset():
    a = torch.tensor([[0.3]], dtype=torch.float64, requires_grad=True)
    s = SCALAR_SHIFT(a, 3)
    (grad,) = torch.autograd.grad(s[0, 1], a)   # offset 0 holds 1 - frac
    assert grad.item() == -1.0
    (grad,) = torch.autograd.grad(SCALAR_SHIFT(a, 3)[0, 2], a)
    assert grad.item() == 1.0


def test_a_focus_moves_by_one_and_a_half_rows():
    w = torch.zeros(1, 10, dtype=torch.float64)
    w[0, 3] = 1.0
    moved = ntm_course.shift(w, SCALAR_SHIFT(torch.tensor([[1.5]], dtype=torch.float64), 5))
    assert moved[0].tolist() == pytest.approx([0, 0, 0, 0, 0.5, 0.5, 0, 0, 0, 0])


@pytest.mark.parametrize("a, K, words", [
    (torch.zeros(2, 1), 4, "K must be odd"),
    (torch.zeros(2, 1), 0, "K must be odd"),
    (torch.zeros(2), 3, "shape (B, 1)"),
    ([[0.5]], 3, "shape (B, 1)"),
])
def test_reference_errors_name_the_argument(a, K, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        SCALAR_SHIFT(a, K)


# --- the harness and the check -------------------------------------------------------------------------

def test_harness_returns_s_and_the_shifted_weighting():
    a, w = torch.tensor([[-1.0], [0.5]]), torch.softmax(torch.randn(2, 6), dim=1)
    s, moved = scalar_shift._call(SCALAR_SHIFT, (a, 3, w))
    assert torch.equal(s, SCALAR_SHIFT(a, 3))
    assert torch.allclose(moved[0], torch.roll(w[0], -1, 0))
    assert torch.allclose(moved[1], 0.5 * w[1] + 0.5 * torch.roll(w[1], 1, 0))


@pytest.mark.parametrize("answer, words", [
    (lambda a, K: [[1.0]], "must return a torch.Tensor s of shape (B, K) = (2, 3), got list"),
    (lambda a, K: torch.zeros(K), "must return s of shape (B, K) = (2, 3), got (3,)"),
    (lambda a, K: torch.zeros(a.shape[0], K + 2), "got (2, 5)"),
])
def test_harness_errors_say_what_was_expected(answer, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        scalar_shift._call(answer, (torch.zeros(2, 1), 3, torch.full((2, 4), 0.25)))


def test_the_reference_scores_every_group():
    result = check("scalar_shift", SCALAR_SHIFT, verbose=False)
    assert result.passed and result.points == 4 and result.grade == 4, result.report


def test_cases_cover_the_brief():
    labels = " ".join(c.label for group in ("values", "edge cases") for c in EXERCISES["scalar_shift"].cases(group))
    for words in ("a = 6.7", "integer a", "negative, non-integer a", "at the clamp limits", "beyond the clamp",
                  "K = 1", "float32", "float64", "batch 4"):
        assert words in labels, words
    assert EXERCISES["scalar_shift"].grad_args == (0,)


def _triangle(a, K):
    """A correct answer written differently: the triangle kernel max(0, 1 - |o - a|) after the clamp."""
    a = a.clamp(-(K // 2), K // 2)
    offsets = torch.arange(-(K // 2), K // 2 + 1, dtype=a.dtype, device=a.device)
    return torch.relu(1 - (offsets - a).abs())


def _scattered(a, K):
    """A correct answer with scatter: lower and upper columns, the upper one dropped past the last column."""
    a = a.clamp(-(K // 2), K // 2)
    low = torch.floor(a)
    frac = a - low
    column = (low + K // 2).long()
    s = torch.zeros(a.shape[0], K + 1, dtype=a.dtype, device=a.device)
    s = s.scatter(1, column, 1 - frac).scatter_add(1, column + 1, frac)
    return s[:, :K]


@pytest.mark.parametrize("answer", [_triangle, _scattered], ids=["triangle", "scatter"])
def test_correct_answers_written_differently_pass(answer):
    result = check("scalar_shift", answer, verbose=False)
    assert result.passed, result.report


def test_a_focus_moving_the_wrong_way_shows_in_the_machine():
    """Offsets mirrored (column k holds offset K//2 - k): s is a permutation of the reference's and shift(w, s)
    moves the focus the other way."""
    result = check("scalar_shift", lambda a, K: SCALAR_SHIFT(a, K).flip(1), verbose=False)
    assert not result.passed and result.groups["values"] is False


def test_a_detached_answer_loses_the_gradient_point():
    result = check("scalar_shift", lambda a, K: SCALAR_SHIFT(a.detach(), K), verbose=False)
    assert result.groups == {"values": True, "edge cases": True, "gradients": False, "inputs untouched": True}
    assert result.grade == 3 and "no gradient reaches the inputs" in result.report


def test_an_in_place_clamp_loses_a_point():
    def clamping_in_place(a, K):
        return SCALAR_SHIFT(a.clamp_(-(K // 2), K // 2), K)
    result = check("scalar_shift", clamping_in_place, verbose=False)
    assert result.groups["inputs untouched"] is False and "changed its input a in place" in result.report


@pytest.mark.parametrize("index", range(len(EXERCISES["scalar_shift"].mistakes)))
def test_each_mistake_is_a_real_answer_that_differs(index):
    """Each catalogued mistake is a function of (a, K) returning (B, K), and differs from the reference somewhere."""
    _, wrong = EXERCISES["scalar_shift"].mistakes[index]
    a = torch.tensor([[-0.3], [1.0], [2.0], [6.2], [0.7]], dtype=torch.float64)
    s = wrong(a, 5)
    assert s.shape == (5, 5) and not torch.allclose(s, SCALAR_SHIFT(a, 5))


def test_the_mistakes_of_the_brief_are_catalogued():
    hints = " ".join(hint for hint, _ in EXERCISES["scalar_shift"].mistakes)
    for words in ("swapped", "offset k - K//2", "int() and trunc()", "two offsets", "clamped"):
        assert words in hints, words
    assert len(EXERCISES["scalar_shift"].mistakes) == 6
