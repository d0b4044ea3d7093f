"""The task generators (layouts, answers, seeds) and the metrics on hand-made cases."""
import importlib
import math
import re
import types

import pytest
import torch

import ntm_course.experiments.tasks
from ntm_course.experiments.tasks import (TASKS, Batch, associative_recall_batch, bayes_optimal, bit_errors,
                                          bits_per_sequence, copy_batch, get_task, ngrams_batch, priority_sort_batch,
                                          repeat_copy_batch)
from ntm_course.experiments.tasks.repeat_copy import normalise_repeats


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_shapes_mask_and_seeds(name):
    spec = get_task(name)
    a = spec.make(5, generator=gen(3))
    b = spec.make(5, generator=gen(3))
    c = spec.make(5, generator=gen(4))
    T = a.inputs.shape[0]
    assert a.inputs.shape == (T, 5, spec.input_size)
    assert a.targets.shape == (T, 5, spec.output_size)
    assert a.mask.shape == (T, 5)
    assert set(a.mask.unique().tolist()) <= {0.0, 1.0} and (a.mask.sum(0) > 0).all()
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a.inputs, c.inputs)
    # nothing to answer outside the mask
    assert (a.targets[a.mask == 0] == 0).all() or name == "ngrams"


@pytest.mark.parametrize("name", sorted(TASKS))
def test_each_task_is_a_module_of_its_name_with_a_generator_named_after_it(name):
    module = importlib.import_module(f"ntm_course.experiments.tasks.{name}")
    assert isinstance(module, types.ModuleType) and module.__name__ == f"ntm_course.experiments.tasks.{name}"
    assert getattr(ntm_course.experiments.tasks, name) is module    # ``import ntm_course.experiments.tasks.copy``
    make = getattr(ntm_course.experiments.tasks, f"{name}_batch")
    assert make is getattr(module, f"{name}_batch") is TASKS[name].make
    assert f"{name}_batch" in ntm_course.experiments.tasks.__all__ and name not in ntm_course.experiments.tasks.__all__
    assert (TASKS[name].input_size, TASKS[name].output_size) == (module.INPUT_SIZE, module.OUTPUT_SIZE)
    assert isinstance(make(2, generator=gen()), Batch)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_the_explorer_size_makes_episodes_that_grow_with_it(name):
    explore = TASKS[name].explore
    assert explore.label and explore.low <= explore.default <= explore.high
    lengths = [TASKS[name].make(1, **explore.options(n), generator=gen()).inputs.shape[0]
               for n in (explore.low, explore.default, explore.high)]
    assert lengths[0] < lengths[2] and lengths[0] <= lengths[1] <= lengths[2]


def test_copy_answer_is_the_input_after_the_delimiter():
    batch = copy_batch(50, 1, 20, generator=gen())
    for b in range(50):
        L = int(batch.inputs[:, b, 8].argmax())                  # the delimiter step
        assert batch.inputs[L + 1:, b].abs().sum() == 0           # no input while answering
        assert torch.equal(batch.targets[L + 1:2 * L + 1, b], batch.inputs[:L, b, :8])
        assert batch.mask[:, b].tolist() == [0.0] * (L + 1) + [1.0] * L + [0.0] * (batch.mask.shape[0] - 2 * L - 1)


def test_copy_lengths_cover_the_range():
    batch = copy_batch(400, 1, 20, generator=gen())
    lengths = batch.mask.sum(0)
    assert lengths.min() == 1 and lengths.max() == 20


def test_repeat_copy_answer_and_end_marker():
    batch = repeat_copy_batch(30, generator=gen())
    for b in range(30):
        L = int(batch.inputs[:, b, 8].argmax())
        R = round(float(batch.inputs[L, b, 9]) * math.sqrt(99 / 12) + 5.5)
        assert 1 <= R <= 10
        x = batch.inputs[:L, b, :8]
        end = L + 1 + L * R
        assert torch.equal(batch.targets[L + 1:end, b, :8], x.repeat(R, 1))
        assert batch.targets[:, b, 8].nonzero().flatten().tolist() == [end]
        assert batch.mask[:, b].sum() == L * R + 1 and batch.mask[end, b] == 1


def test_normalised_repeats_have_mean_0_variance_1():
    r = normalise_repeats(torch.arange(1, 11).double())
    assert r.mean().abs() < 1e-12 and abs(r.var(unbiased=False) - 1) < 1e-12


def test_associative_recall_answer_is_the_next_item():
    batch = associative_recall_batch(40, generator=gen())
    for b in range(40):
        x = batch.inputs[:, b]
        starts = x[:, 6].nonzero().flatten().tolist()              # item delimiters
        items = [x[s + 1:s + 4, :6] for s in starts]
        q1, q2 = x[:, 7].nonzero().flatten().tolist()              # query delimiters
        query = x[q1 + 1:q2, :6]
        i = next(i for i, item in enumerate(items) if torch.equal(item, query))
        assert torch.equal(batch.targets[q2 + 1:q2 + 4, b], items[i + 1])
        assert batch.mask[:, b].nonzero().flatten().tolist() == [q2 + 1, q2 + 2, q2 + 3]
        assert 2 <= len(items) <= 6


@pytest.mark.parametrize("s", [1, 2, 3, 5])
def test_associative_recall_layout_in_the_docstring_holds_for_any_item_size(s):
    """The module docstring's ``T = ...`` formula and its table, checked against batches of n items."""
    module = importlib.import_module("ntm_course.experiments.tasks.associative_recall")
    formula = re.search(r"``T = (.+?)``", module.__doc__)
    assert formula, "the module docstring gives no ``T = ...`` formula"
    for n in (2, 3, 7):
        batch = associative_recall_batch(4, min_items=n, max_items=n, item_size=s, generator=gen(n))
        T = batch.inputs.shape[0]
        assert T == eval(formula.group(1), {"n": n, "s": s})
        for b in range(4):
            x = batch.inputs[:, b]
            assert x[:, 6].nonzero().flatten().tolist() == [i * (s + 1) for i in range(n)]
            assert x[:, 7].nonzero().flatten().tolist() == [n * (s + 1), (n + 1) * (s + 1)]
            assert batch.mask[:, b].nonzero().flatten().tolist() == list(range(T - s, T))
            assert x[T - s:].abs().sum() == 0                           # no input while answering


def test_priority_sort_targets_the_highest_priorities_in_order():
    batch = priority_sort_batch(10, generator=gen())
    for b in range(10):
        x = batch.inputs[:20, b]
        order = sorted(range(20), key=lambda i: -float(x[i, 8]))[:16]
        assert torch.equal(batch.targets[21:, b], x[order, :8])
    assert batch.mask[21:].all() and not batch.mask[:21].any()


def test_ngrams_inputs_and_targets_are_one_sequence_shifted():
    batch = ngrams_batch(4, length=50, generator=gen())
    assert batch.inputs.shape == (49, 4, 1)
    assert torch.equal(batch.inputs[1:], batch.targets[:-1])


def test_ngrams_follow_their_table():
    # one long sequence: the empirical next-bit frequency of each context varies far more than fair coins would
    batch = ngrams_batch(1, length=4000, generator=gen())
    p = bayes_optimal(batch.inputs, batch.targets)
    assert p[-1].item() != 0.5 and (p[-1000:] - 0.5).abs().mean() > 0.2


def test_bayes_optimal_by_hand():
    # n = 2: the context is the previous bit. Sequence 0 1 1 1 0 1
    seq = torch.tensor([0., 1, 1, 1, 0, 1])
    inputs, targets = seq[:-1].view(-1, 1, 1), seq[1:].view(-1, 1, 1)
    p = bayes_optimal(inputs, targets, n=2).flatten().tolist()
    # before each target: counts of (context -> next) seen so far
    expected = [0.5 / 1,            # context 0, nothing seen
                0.5 / 1,            # context 1, nothing seen
                1.5 / 2,            # context 1, seen 1->1 once
                2.5 / 3,            # context 1, seen 1->1 twice
                1.5 / 2]            # context 0, seen 0->1 once
    assert p == pytest.approx(expected)


def test_bayes_optimal_is_near_the_papers_floor():
    batch = ngrams_batch(300, generator=gen())
    p = bayes_optimal(batch.inputs, batch.targets)
    bits = bits_per_sequence(torch.logit(p), batch.targets, batch.mask).item()
    assert 125 < bits < 140          # the paper's figure: about 133 bits per sequence


def test_bits_per_sequence_by_hand():
    logits = torch.zeros(3, 2, 2)                                  # p = 1/2 everywhere: 1 bit per scored bit
    targets = torch.ones(3, 2, 2)
    mask = torch.tensor([[1., 1], [1, 0], [0, 0]])
    assert bits_per_sequence(logits, targets, mask, reduction="none").tolist() == pytest.approx([4, 2])
    assert bits_per_sequence(logits, targets, mask).item() == pytest.approx(3)
    logits[0, 0, 0] = math.log(3)                                  # p = 3/4 for a 1: -log2(3/4) bits
    assert bits_per_sequence(logits, targets, mask, "none")[0].item() == pytest.approx(3 - math.log2(0.75))


def test_bit_errors_by_hand():
    logits = torch.tensor([[[2., -1.]], [[-3., 0.5]], [[9., 9.]]])  # (3, 1, 2)
    targets = torch.tensor([[[1., 1.]], [[0., 0.]], [[0., 0.]]])
    mask = torch.tensor([[1.], [1.], [0.]])
    assert bit_errors(logits, targets, mask).item() == 2           # step 0 ch 1, step 1 ch 1; step 2 unscored


def test_metrics_check_shapes():
    with pytest.raises(ValueError, match="mask"):
        bit_errors(torch.zeros(3, 2, 4), torch.zeros(3, 2, 4), torch.zeros(3, 3))
    with pytest.raises(ValueError, match="reduction"):
        bits_per_sequence(torch.zeros(3, 2, 4), torch.zeros(3, 2, 4), torch.zeros(3, 2), reduction="sum")


def test_bad_ranges_name_the_arguments():
    with pytest.raises(ValueError, match="min_length"):
        copy_batch(2, 5, 3)
    with pytest.raises(ValueError, match="min_items"):
        associative_recall_batch(2, min_items=1)
    with pytest.raises(ValueError, match="task"):
        get_task("sorting")
