"""Exercise 08_multi_write (ntm_course_instructor.grading.multi_write): ``write_in_turn`` is the heads writing one
after another, ``order_matters`` says exactly when that differs from the paper's all-erase-then-all-add write
(``ntm_course.write``); both checks' harnesses and messages."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ntm_course import write
from ntm_course_instructor.grading import check, multi_write
from ntm_course_instructor.grading.multi_write import in_turn_minus_paper, order_matters, write_in_turn

D = torch.float64


def heads(seed, B=2, H=3, N=5, M=4, sharp=2.0):
    gen = torch.Generator().manual_seed(seed)
    w = torch.softmax(sharp * torch.randn(B, H, N, generator=gen, dtype=D), dim=2)
    return w, torch.rand(B, H, M, generator=gen, dtype=D), torch.randn(B, H, M, generator=gen, dtype=D)


def memory_like(w, erase, seed=0):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(w.shape[0], w.shape[2], erase.shape[2], generator=gen, dtype=D)


# --- write_in_turn --------------------------------------------------------------------------------------

def test_two_heads_on_one_row_by_hand():
    memory = torch.tensor([[[1.0, 1.0], [2.0, -2.0]]], dtype=D)          # (1, 2, 2)
    w = torch.tensor([[[0.0, 1.0], [0.0, 1.0]]], dtype=D)                  # both heads on row 1
    erase = torch.tensor([[[0.5, 0.0], [1.0, 0.5]]], dtype=D)
    add = torch.tensor([[[1.0, 3.0], [0.25, 1.0]]], dtype=D)
    # head 0: row 1 = (2 * 0.5 + 1, -2 * 1 + 3) = (2, 1); head 1: (2 * 0 + 0.25, 1 * 0.5 + 1) = (0.25, 1.5)
    assert torch.equal(write_in_turn(memory, w, erase, add), torch.tensor([[[1.0, 1.0], [0.25, 1.5]]], dtype=D))
    # the paper: all erase (2 * 0.5 * 0, -2 * 1 * 0.5), then all add: (1.25, 3)
    assert torch.equal(write(memory, w, erase, add), torch.tensor([[[1.0, 1.0], [1.25, 3.0]]], dtype=D))


@given(st.integers(0, 10_000), st.integers(1, 3), st.integers(2, 6), st.integers(1, 4))
def test_one_head_is_the_libraries_write(seed, B, N, M):
    w, erase, add = heads(seed, B, 1, N, M)
    memory = memory_like(w, erase, seed)
    assert torch.allclose(write_in_turn(memory, w, erase, add), write(memory, w[:, 0], erase[:, 0], add[:, 0]))


@given(st.integers(0, 10_000), st.integers(1, 4))
def test_heads_on_disjoint_rows_write_like_the_paper(seed, H):
    w, erase, add = heads(seed, 2, H, 2 * H, 3)
    mask = torch.zeros(H, 2 * H, dtype=D)
    for h in range(H):
        mask[h, [2 * h, 2 * h + 1]] = 1.0
    w = w * mask
    memory = memory_like(w, erase, seed)
    assert torch.allclose(write_in_turn(memory, w, erase, add), write(memory, w, erase, add))


@given(st.integers(0, 10_000), st.integers(1, 4))
def test_in_turn_is_the_heads_written_one_by_one(seed, H):
    w, erase, add = heads(seed, 2, H, 5, 3)
    memory = memory_like(w, erase, seed)
    expected = memory
    for h in range(H):
        expected = write(expected, w[:, h], erase[:, h], add[:, h])
    assert torch.allclose(write_in_turn(memory, w, erase, add), expected)


def test_write_in_turn_gradcheck_and_inputs_untouched():
    w, erase, add = heads(1, 2, 3, 4, 3)
    memory = memory_like(w, erase)
    args = [x.clone().requires_grad_() for x in (memory, w, erase, add)]
    assert torch.autograd.gradcheck(write_in_turn, args)
    before = [x.clone() for x in (memory, w, erase, add)]
    write_in_turn(memory, w, erase, add)
    assert all(torch.equal(a, b) for a, b in zip(before, (memory, w, erase, add)))


def test_write_in_turn_names_the_argument_with_a_wrong_shape():
    w, erase, add = heads(0)
    memory = memory_like(w, erase)
    with pytest.raises(ValueError, match=r"erase must have shape \(B, H, M\) = \(2, 3, 4\), got \(2, 2, 4\)"):
        write_in_turn(memory, w, erase[:, :2], add)
    with pytest.raises(ValueError, match=r"w must have shape \(B, H, N\)"):
        write_in_turn(memory, w[:, 0], erase, add)


# --- order_matters --------------------------------------------------------------------------------------

@given(st.integers(0, 10_000), st.integers(1, 4), st.integers(0, 3))
def test_the_difference_is_the_same_for_every_memory(seed, H, memory_seed):
    w, erase, add = heads(seed, 2, H, 4, 3)
    memory = memory_like(w, erase, memory_seed)
    difference = write_in_turn(memory, w, erase, add) - write(memory, w, erase, add)
    assert torch.allclose(difference, in_turn_minus_paper(w, erase, add), atol=1e-12)


def test_two_heads_differ_by_an_earlier_add_a_later_head_erases():
    w, erase, add = heads(3, 2, 2, 5, 4)
    expected = -(w[:, 0, :, None] * add[:, 0, None, :]) * (w[:, 1, :, None] * erase[:, 1, None, :])
    assert torch.allclose(in_turn_minus_paper(w, erase, add), expected)


def test_order_matters_by_hand():
    w = torch.zeros(5, 2, 3, dtype=D)
    w[:, :, 0] = 1.0                                    # both heads on row 0 ...
    w[4, 1] = torch.tensor([0.0, 1.0, 0.0], dtype=D)    # ... except in the last example
    erase = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [0.0, 1.0], [0.0, 1.0]], dtype=D)[:, :, None]
    add = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]], dtype=D)[:, :, None]
    # erase after an add; erase before an add; nobody erases; nobody adds before the erase; different rows
    assert order_matters(w, erase, add).tolist() == [True, False, False, False, False]


def test_three_heads_that_cancel_agree_for_every_memory():
    w = torch.zeros(1, 3, 2, dtype=D)
    w[0, :, 0] = 1.0
    erase = torch.tensor([[[0.0], [0.5], [0.5]]], dtype=D)
    add = torch.tensor([[[1.0], [-1.5], [0.7]]], dtype=D)
    assert order_matters(w, erase, add).tolist() == [False]
    for value in (-3.0, 0.0, 2.5):
        memory = torch.full((1, 2, 1), value, dtype=D)
        assert torch.equal(write_in_turn(memory, w, erase, add), write(memory, w, erase, add))
    assert multi_write._neighbours_only(w, erase, add).tolist() == [True]   # head pairs alone get this wrong


@given(st.integers(0, 10_000), st.integers(2, 4))
def test_order_matters_agrees_with_writing_both_ways(seed, H):
    w, erase, add = heads(seed, 3, H, 4, 3, sharp=4.0)
    erase[1] = 0.0          # example 1: nobody erases
    w[2] = torch.eye(4, dtype=D)[:H]        # example 2: each head on a row of its own
    memory = memory_like(w, erase, seed)
    differs = (write_in_turn(memory, w, erase, add) - write(memory, w, erase, add)).abs().flatten(1).amax(1) > 1e-9
    assert order_matters(w, erase, add, tol=1e-9).tolist() == differs.tolist() == [True, False, False]


def test_tol_is_the_threshold():
    w, erase, add = heads(5, 1, 2, 3, 2)
    largest = in_turn_minus_paper(w, erase, add).abs().max().item()
    assert order_matters(w, erase, add, tol=largest * 0.99).tolist() == [True]
    assert order_matters(w, erase, add, tol=largest * 1.01).tolist() == [False]


def test_order_matters_returns_a_bool_per_example_in_float32_too():
    found = order_matters(*(x.float() for x in heads(2, 4, 2, 5, 3)))
    assert found.dtype == torch.bool and found.shape == (4,)


# --- the checks: harness, mistakes, messages ------------------------------------------------------------

def test_the_references_score_full_marks():
    for exercise in multi_write.CHECKS:
        result = check(exercise.name, exercise.reference, verbose=False)
        assert result.passed and result.grade == 4, result.report


def test_the_cases_mix_true_and_false():
    found = torch.cat([order_matters(*case.args) for case in multi_write.ORDER_MATTERS.cases("values")])
    assert 0.3 < found.double().mean().item() < 0.7


def test_simulating_with_an_empty_memory_passes():
    def by_simulation(w, erase, add, tol=1e-6):
        memory = w.new_zeros(w.shape[0], w.shape[2], erase.shape[2])
        in_turn = memory
        for h in range(w.shape[1]):
            in_turn = write(in_turn, w[:, h], erase[:, h], add[:, h])
        return (in_turn - write(memory, w, erase, add)).abs().flatten(1).amax(dim=1) > tol
    assert check("order_matters", by_simulation, verbose=False).passed


@pytest.mark.parametrize("answer, words", [
    (lambda w, erase, add, tol=1e-6: order_matters(w, erase, add, tol).float(), "got dtype torch.float32"),
    (lambda w, erase, add, tol=1e-6: order_matters(w, erase, add, tol)[:, None], ", 1)"),
    (lambda w, erase, add, tol=1e-6: order_matters(w, erase, add, tol).tolist(), "got list"),
])
def test_the_harness_says_what_order_matters_must_return(answer, words):
    result = check("order_matters", answer, verbose=False)
    assert not result.passed and "must return a bool tensor of shape (B,)" in result.report
    assert words in result.report, result.report


def test_a_multi_head_write_without_turns_is_named():
    result = check("write_in_turn", lambda memory, w, erase, add: write(memory, w, erase, add), verbose=False)
    assert not result.passed and "that is the paper's write" in result.report
