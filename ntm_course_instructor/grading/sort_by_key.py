"""Exercise 12_sort_by_key: design a new algorithmic task, as the capstone asks: its episodes and its metric.

``sort_by_key_episode(items, keys)`` lays out sort-by-key episodes from given data (items and their keys in, the
items in the order of their keys out); ``sequence_accuracy(logits, targets, mask)`` is the share of sequences a model
answers without one wrong bit. Graded on values: the episodes are built from the case's data, so nothing random
stands between the learner's layout and the reference's.
"""
import torch

from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Exercise, cast


# --- the reference answers ------------------------------------------------------------------------------

def sort_by_key_episode(items, keys):
    """Sort-by-key episodes: read L items with a key each, a delimiter, then answer the items sorted by key.

    items ``(L, B, W)`` (bit vectors), keys ``(L, B)`` (numbers in [0, 1)). Returns ``(inputs, targets, mask)``
    with ``T = 2L + 1`` steps::

        step         inputs (W + 2 channels)                          target (W)                  mask
        0 .. L-1     item t in channels 0..W-1, its key in channel W   0                           0
        L            delimiter: channel W + 1 = 1                      0                           0
        L+1 .. 2L    all zero                                          the items, smallest key     1
                                                                       first (equal keys: in the
                                                                       order they were read)

    Each example of the batch is sorted by its own keys. Tensors of ``items``' dtype and device.
    """
    L, B, W = items.shape
    inputs = items.new_zeros(2 * L + 1, B, W + 2)
    targets = items.new_zeros(2 * L + 1, B, W)
    mask = items.new_zeros(2 * L + 1, B)
    inputs[:L, :, :W] = items
    inputs[:L, :, W] = keys.to(items.dtype)
    inputs[L, :, W + 1] = 1.0
    order = torch.sort(keys, dim=0, stable=True).indices                     # (L, B)
    targets[L + 1:] = items.gather(0, order.unsqueeze(2).expand(L, B, W))
    mask[L + 1:] = 1.0
    return inputs, targets, mask


def sequence_accuracy(logits, targets, mask):
    """The share of sequences without a wrong bit: a number in [0, 1].

    logits, targets ``(T, B, out)``, mask ``(T, B)``. A bit is answered 1 when its logit is above 0 (a probability
    above 0.5; a logit of exactly 0 is answered 0, as ``bit_errors`` reads it); a sequence is right when every bit
    of every step its mask scores is right. A sequence with no scored step has nothing wrong: it counts as right.
    """
    wrong = ((logits > 0) != (targets > 0.5)).any(dim=2) & (mask > 0)         # (T, B)
    return (~wrong.any(dim=0)).double().mean().item()


# --- the cases -------------------------------------------------------------------------------------------

def _bits(gen, *shape):
    return torch.randint(0, 2, shape, generator=gen).double()


def _keys(gen, L, B):
    return torch.rand(L, B, generator=gen, dtype=torch.float64)


def _both(label, args, hint=""):
    return [Case(f"{label}, {str(d)[6:]}", cast(args, d), hint) for d in DTYPES]


def _episode_build(gen):
    values = []
    for L, B, W in ((3, 1, 2), (4, 2, 3), (5, 3, 4), (6, 4, 2), (2, 5, 5), (7, 2, 3)):
        values += _both(f"random, L={L}, B={B}, W={W}", (_bits(gen, L, B, W), _keys(gen, L, B)))
    ties = torch.tensor([[0.5, 0.2], [0.1, 0.2], [0.5, 0.2], [0.1, 0.7]], dtype=torch.float64)
    sorted_keys = torch.linspace(0.1, 0.9, 5, dtype=torch.float64).unsqueeze(1).repeat(1, 3)
    edge = (_both("one item (L = 1)", (_bits(gen, 1, 3, 4), _keys(gen, 1, 3)))
            + _both("equal keys keep the order they were read in", (_bits(gen, 4, 2, 3), ties),
                    "equal keys: the item read first comes first (a stable sort, torch.sort(..., stable=True))")
            + _both("all keys equal: the answer is a plain copy", (_bits(gen, 5, 2, 3),
                                                                   torch.full((5, 2), 0.3, dtype=torch.float64)))
            + _both("keys already in order", (_bits(gen, 5, 3, 2), sorted_keys))
            + _both("keys in reverse order: the answer is the items reversed",
                    (_bits(gen, 5, 3, 2), sorted_keys.flip(0)))
            + _both("every example with its own order", (torch.eye(3, dtype=torch.float64).unsqueeze(1).repeat(1, 3, 1),
                                                         torch.tensor([[0.1, 0.9, 0.5], [0.5, 0.1, 0.9],
                                                                       [0.9, 0.5, 0.1]], dtype=torch.float64)),
                    "sort each example by its own keys: along the time axis (dim 0), one column of keys per example"))
    return {"values": values, "edge cases": edge}


def _scored(gen, T, B, out, lengths):
    """Logits of a model that is mostly right (its few wrong bits at scored steps; the edge cases put some where the
    mask is 0), targets, and a mask scoring the last ``lengths[b]`` steps of each example."""
    targets = _bits(gen, T, B, out)
    logits = (targets * 2 - 1) * (0.05 + 3 * torch.rand(T, B, out, generator=gen, dtype=torch.float64))
    mask = torch.zeros(T, B, dtype=torch.float64)
    for b, L in enumerate(lengths):
        mask[T - L:, b] = 1.0
    flips = (torch.rand(T, B, out, generator=gen, dtype=torch.float64) < 0.04) & (mask > 0).unsqueeze(2)
    return torch.where(flips, -logits, logits), targets, mask


def _accuracy_build(gen):
    values = []
    for T, B, out in ((5, 4, 3), (9, 8, 4), (7, 16, 2), (11, 6, 5), (13, 10, 8)):
        lengths = torch.randint(1, T // 2 + 1, (B,), generator=gen).tolist()
        values += _both(f"random, T={T}, B={B}, out={out}", _scored(gen, T, B, out, lengths))
    # padding: errors where the mask is 0 do not count
    logits, targets, mask = _scored(gen, 8, 6, 3, [3] * 6)
    padded = logits.clone()
    padded[:5] = -(targets[:5] * 2 - 1)                    # every unscored bit wrong
    right = (targets * 2 - 1) * 2.0
    zero = right.clone()
    zero[-1, :, 0] = 0.0                                   # a logit of exactly 0 reads as 0
    empty = mask.clone()
    empty[:, 2] = 0.0
    edge = (_both("wrong bits only at steps the mask does not score", (padded, targets, mask),
                  "only the steps where mask is 1 are scored: multiply by the mask (or index with it) before "
                  "counting")
            + _both("a logit of exactly 0", (zero, targets, mask),
                    "a logit of 0 is a probability of exactly 0.5: answer 1 only when logits > 0, as bit_errors does")
            + _both("a sequence with no scored step", (right, targets, empty),
                    "a sequence whose mask is all 0 has no wrong bit: it counts as right")
            + _both("one sequence", _scored(gen, 6, 1, 4, [3]))
            + _both("all right", (right, targets, mask)))
    return {"values": values, "edge cases": edge}


# --- the mistakes ----------------------------------------------------------------------------------------

def _episode_variant(descending=False, batch_axis=False, no_gap=False, no_key=False, mask_all=False,
                     ties_reversed=False, unsorted=False):
    def sort_by_key_episode(items, keys):
        L, B, W = items.shape
        inputs, targets, mask = (items.new_zeros(2 * L + 1, B, W + 2), items.new_zeros(2 * L + 1, B, W),
                                 items.new_zeros(2 * L + 1, B))
        inputs[:L, :, :W] = items
        if not no_key:
            inputs[:L, :, W] = keys.to(items.dtype)
        inputs[L, :, W + 1] = 1.0
        if unsorted:
            order = torch.arange(L).unsqueeze(1).expand(L, B)
        elif batch_axis:
            order = torch.sort(keys, dim=1, stable=True).indices.clamp(max=L - 1)
        elif ties_reversed:
            order = torch.sort(keys.flip(0), dim=0, stable=True).indices
            order = L - 1 - order
        else:
            order = torch.sort(keys, dim=0, stable=True, descending=descending).indices
        answer = items.gather(0, order.unsqueeze(2).expand(L, B, W))
        start = L if no_gap else L + 1
        targets[start:start + L] = answer
        mask[start:start + L] = 1.0
        if mask_all:
            mask[:] = 1.0
        return inputs, targets, mask
    return sort_by_key_episode


def _accuracy_variant(threshold=0.0, unmasked=False, per_bit=False, per_step=False, count=False, at_least=False,
                      empty_wrong=False):
    def sequence_accuracy(logits, targets, mask):
        answered = logits >= threshold if at_least else logits > threshold
        wrong_bits = answered != (targets > 0.5)
        scored = torch.ones_like(mask, dtype=torch.bool) if unmasked else mask > 0
        if per_bit:
            bits = scored.unsqueeze(2).expand_as(wrong_bits)
            return 1 - wrong_bits[bits].double().mean().item()
        wrong = wrong_bits.any(dim=2) & scored
        if per_step:
            return 1 - wrong[scored].double().mean().item()
        right = ~wrong.any(dim=0)
        if empty_wrong:
            right &= scored.any(dim=0)
        return right.double().sum().item() if count else right.double().mean().item()
    return sequence_accuracy


SORT_BY_KEY_EPISODE = Exercise(
    name="sort_by_key_episode",
    reference=sort_by_key_episode,
    build=_episode_build,
    values_note="L = 2 to 7 items of W = 2 to 5 bits, batch 1 to 5, float32 and float64",
    edge_note="one item, equal keys, all keys equal, keys in order and reversed, each example its own order",
    mistakes=[
        ("the answer is the items sorted by their keys, the smallest key first (ascending)",
         _episode_variant(descending=True)),
        ("sort along the time axis: the L items of one example are the rows of dim 0, one column of keys per "
         "example (dim 1 is the batch)", _episode_variant(batch_axis=True)),
        ("the answer starts the step after the delimiter: steps L + 1 to 2L, as in copy",
         _episode_variant(no_gap=True)),
        ("the model must see each item's key: put it in input channel W, beside the item's bits",
         _episode_variant(no_key=True)),
        ("the mask scores only the answer's steps (L + 1 to 2L): while it reads, the model is not asked anything",
         _episode_variant(mask_all=True)),
        ("equal keys keep the order they were read in (a stable sort, torch.sort(..., stable=True))",
         _episode_variant(ties_reversed=True)),
        ("the answer is not the items in the order they were read: sort them by their keys",
         _episode_variant(unsorted=True)),
    ],
    hint="lay out the inputs as copy does, with the key in channel W and the delimiter in channel W + 1; the answer "
         "is items.gather along dim 0 with the order torch.sort(keys, dim=0, stable=True).indices",
    shape_hint="inputs (2L + 1, B, W + 2), targets (2L + 1, B, W), mask (2L + 1, B), all of items' dtype",
)

SEQUENCE_ACCURACY = Exercise(
    name="sequence_accuracy",
    reference=sequence_accuracy,
    build=_accuracy_build,
    values_note="T = 5 to 13 steps, batch 4 to 16, 2 to 8 output bits, answers of different lengths, float32 "
                "and float64",
    edge_note="wrong bits only at unscored steps, a logit of exactly 0, a sequence with no scored step, one "
              "sequence, all right",
    mistakes=[
        ("only the steps where mask is 1 are scored: multiply by the mask (or index with it) before counting",
         _accuracy_variant(unmasked=True)),
        ("a logit is before the sigmoid: the answer is 1 when the logit is above 0 (a probability above 0.5), not "
         "when the logit is above 0.5", _accuracy_variant(threshold=0.5)),
        ("this is the share of sequences without a wrong bit, not the share of right bits: one wrong bit makes "
         "the whole sequence wrong", _accuracy_variant(per_bit=True)),
        ("this is the share of sequences, not of steps: one wrong step makes the whole sequence wrong",
         _accuracy_variant(per_step=True)),
        ("return a share in [0, 1] (divide by the number of sequences), not a count", _accuracy_variant(count=True)),
        ("a logit of 0 is a probability of exactly 0.5: answer 1 only when logits > 0, as bit_errors does",
         _accuracy_variant(at_least=True)),
        ("a sequence whose mask is all 0 has no wrong bit: it counts as right", _accuracy_variant(empty_wrong=True)),
    ],
    hint="answered = logits > 0; a step is wrong when any of its bits differs from targets > 0.5 and the mask "
         "scores it; a sequence is right when none of its steps is wrong; return the mean over the batch",
    shape_hint="return one number: a Python float or a tensor of one element",
)

CHECKS = (SORT_BY_KEY_EPISODE, SEQUENCE_ACCURACY)
"""This module's checks, found through the syllabus row that names the module."""
