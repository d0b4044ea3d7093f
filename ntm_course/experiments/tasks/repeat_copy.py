"""Repeat copy (paper section 4.2): read a sequence and a repeat count, write the sequence that many times,
then emit an end marker.

Layout of one episode of length L and R repeats (T = L + 1 + L*R + 1, padded to the batch's longest)::

    step                 inputs (10 channels)                         target (9 channels)            mask
    0 .. L-1             x_t in channels 0-7                          0                              0
    L                    delimiter ch 8 = 1, ch 9 = normalised R      0                              0
    L+1 .. L+L*R         no input                                     x repeated, ch 8 = 0           1
    L+L*R+1              no input                                     end marker: ch 8 = 1, rest 0   1

The repeat count is given on channel 9 normalised to mean 0 and variance 1 over the *training*
distribution (uniform on 1-10, as in the paper), so longer tests (R = 20) feed values beyond that range.
Paper settings: 8-bit vectors, L uniform in 1-10, R uniform in 1-10.
"""
import math

import torch

from .common import Batch, check_range, randint, random_bits


INPUT_SIZE = 10   # 8 data bits, delimiter, repeat count
OUTPUT_SIZE = 9   # 8 data bits, end marker
DELIMITER, REPEATS, END = 8, 9, 8
TRAIN_MIN_REPEATS, TRAIN_MAX_REPEATS = 1, 10


def normalise_repeats(repeats, lo=TRAIN_MIN_REPEATS, hi=TRAIN_MAX_REPEATS):
    """Map a repeat count to mean 0, variance 1 under the uniform distribution on the integers ``lo..hi``."""
    n = hi - lo + 1
    mean, std = (lo + hi) / 2, math.sqrt((n * n - 1) / 12)
    return (repeats - mean) / std


def repeat_copy_batch(batch_size, min_length=1, max_length=10, min_repeats=1, max_repeats=10, width=8,
                      generator=None):
    """A batch of repeat-copy episodes; lengths and repeat counts uniform in their ranges.

    Returns a :class:`Batch`: inputs ``(T, B, width + 2)``, targets ``(T, B, width + 1)``, mask ``(T, B)``.
    """
    check_range("min_length", min_length, "max_length", max_length)
    check_range("min_repeats", min_repeats, "max_repeats", max_repeats)
    lengths = randint(min_length, max_length, batch_size, generator)
    repeats = randint(min_repeats, max_repeats, batch_size, generator)
    T = int((lengths + 2 + lengths * repeats).max())
    bits = random_bits((int(lengths.max()), batch_size, width), generator)
    inputs = torch.zeros(T, batch_size, width + 2)
    targets = torch.zeros(T, batch_size, width + 1)
    mask = torch.zeros(T, batch_size)
    for b, (L, R) in enumerate(zip(lengths.tolist(), repeats.tolist())):
        inputs[:L, b, :width] = bits[:L, b]
        inputs[L, b, width] = 1.0
        inputs[L, b, width + 1] = normalise_repeats(R)
        end = L + 1 + L * R
        targets[L + 1:end, b, :width] = bits[:L, b].repeat(R, 1)
        targets[end, b, width] = 1.0
        mask[L + 1:end + 1, b] = 1.0
    return Batch(inputs, targets, mask)
