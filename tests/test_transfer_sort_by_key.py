"""Exercise 12_sort_by_key (ntm_course_instructor.grading.sort_by_key): the references agree with plain loops and
with the library's metrics, their cases exercise what the edge cases say, and an answer written another way passes.
(That the solution scores full marks, the released exercise zero and each catalogued mistake less, with its hint,
is tests/test_graded_exercises.py's.)"""
import torch
from hypothesis import given
from hypothesis import strategies as st

from ntm_course.experiments.playground import custom_task
from ntm_course.experiments.tasks import bit_errors
from ntm_course_instructor.grading import EXERCISES, check
from ntm_course_instructor.grading.sort_by_key import sequence_accuracy, sort_by_key_episode


def episode_by_loops(items, keys):
    """The layout written out step by step, sorting with Python's (stable) sorted."""
    L, B, W = items.shape
    inputs, targets, mask = torch.zeros(2 * L + 1, B, W + 2), torch.zeros(2 * L + 1, B, W), torch.zeros(2 * L + 1, B)
    for b in range(B):
        for t in range(L):
            inputs[t, b, :W], inputs[t, b, W] = items[t, b], keys[t, b]
        inputs[L, b, W + 1] = 1.0
        for j, t in enumerate(sorted(range(L), key=lambda t: float(keys[t, b]))):
            targets[L + 1 + j, b] = items[t, b]
            mask[L + 1 + j, b] = 1.0
    return inputs, targets, mask


@given(L=st.integers(1, 6), B=st.integers(1, 4), W=st.integers(1, 4), seed=st.integers(0, 2 ** 16),
       levels=st.integers(1, 4))
def test_the_episodes_are_the_loops(L, B, W, seed, levels):
    gen = torch.Generator().manual_seed(seed)
    items = torch.randint(0, 2, (L, B, W), generator=gen).float()
    keys = torch.randint(0, levels, (L, B), generator=gen).float() / levels     # few levels: many ties
    for got, expected in zip(sort_by_key_episode(items, keys), episode_by_loops(items, keys)):
        assert torch.equal(got, expected)


def test_the_answer_is_sorted_and_a_generator_from_it_is_a_playground_task():
    def make(batch_size, generator=None):
        items = torch.randint(0, 2, (5, batch_size, 3), generator=generator).float()
        return sort_by_key_episode(items, torch.rand(5, batch_size, generator=generator))

    inputs, targets, mask = make(4, torch.Generator().manual_seed(1))
    keys = inputs[:5, :, 3]
    order = keys.argsort(dim=0)
    assert torch.equal(targets[6:], inputs[:5, :, :3].gather(0, order.unsqueeze(2).expand(-1, -1, 3)))
    assert custom_task(make, metric=sequence_accuracy).input_size == 5


@given(T=st.integers(1, 8), B=st.integers(1, 6), out=st.integers(1, 5), seed=st.integers(0, 2 ** 16))
def test_sequence_accuracy_is_the_share_of_sequences_without_bit_errors(T, B, out, seed):
    gen = torch.Generator().manual_seed(seed)
    targets = torch.randint(0, 2, (T, B, out), generator=gen).float()
    logits = torch.randn(T, B, out, generator=gen) * 0.3 + (targets * 2 - 1) * 0.5
    mask = torch.randint(0, 2, (T, B), generator=gen).float()
    perfect = bit_errors(logits, targets, mask, reduction="none") == 0      # an unscored sequence has no errors
    assert sequence_accuracy(logits, targets, mask) == perfect.double().mean().item()


def test_an_answer_written_another_way_passes():
    def accuracy_by_loops(logits, targets, mask):
        right = 0
        for b in range(logits.shape[1]):
            right += all(bool(((logits[t, b] > 0).float() == targets[t, b]).all())
                         for t in range(logits.shape[0]) if mask[t, b] == 1)
        return right / logits.shape[1]

    def episode_with_sort(items, keys):
        inputs, targets, mask = episode_by_loops(items.double(), keys.double())
        return inputs.to(items), targets.to(items), mask.to(items)

    assert check("sequence_accuracy", accuracy_by_loops, verbose=False).passed
    assert check("sort_by_key_episode", episode_with_sort, verbose=False).passed


def test_the_edge_cases_hold_what_they_say():
    labels = [case.label for case in EXERCISES["sort_by_key_episode"].cases("edge cases")]
    assert any("equal keys keep the order" in label for label in labels)
    ties = next(c for c in EXERCISES["sort_by_key_episode"].cases("edge cases") if "equal keys keep" in c.label)
    items, keys = ties.args
    _, targets, _ = sort_by_key_episode(items, keys)
    assert torch.equal(targets[5:, 1], items[:, 1])            # example 1: keys 0.2, 0.2, 0.2, 0.7: reading order
    empty = next(c for c in EXERCISES["sequence_accuracy"].cases("edge cases") if "no scored step" in c.label)
    assert not empty.args[2][:, 2].any() and sequence_accuracy(*empty.args) == 1.0
