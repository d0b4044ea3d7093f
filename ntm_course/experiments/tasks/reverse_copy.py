"""Reverse copy (not one of the paper's tasks; the playground's and the capstone's): read a sequence of random bit
vectors, then write it back last vector first.

Layout of one episode of length L, as copy's (:mod:`.copy`) but with the answer reversed (T = 2L + 1, padded to the
batch's longest)::

    step            inputs (9 channels)            target (8 channels)   mask
    0 .. L-1        x_t in channels 0-7, ch 8 = 0  0                     0
    L               delimiter: ch 8 = 1            0                     0
    L+1 .. 2L       all zero (no input)            x_{2L-t}              1

So the first answer step (t = L + 1) is the last input x_{L-1}, and the last answer step (t = 2L) is x_0. An NTM
can solve it as it solves copy, writing each input one row further on, then reading the rows back while its read
head shifts by -1 instead of +1.
"""
import torch

from .common import Batch, check_range, randint, random_bits


INPUT_SIZE = 9    # 8 data bits + the delimiter flag
OUTPUT_SIZE = 8
DELIMITER = 8


def reverse_copy_batch(batch_size, min_length=1, max_length=20, width=8, generator=None):
    """A batch of reverse-copy episodes, each of a length drawn uniformly from ``[min_length, max_length]``.

    Returns a :class:`Batch`: inputs ``(T, B, width + 1)``, targets ``(T, B, width)``, mask ``(T, B)``,
    with ``T = 2 * longest + 1``. ``generator`` (a ``torch.Generator``) makes it reproducible.
    """
    check_range("min_length", min_length, "max_length", max_length)
    lengths = randint(min_length, max_length, batch_size, generator)
    longest = int(lengths.max())
    T = 2 * longest + 1
    bits = random_bits((longest, batch_size, width), generator)
    inputs = torch.zeros(T, batch_size, width + 1)
    targets = torch.zeros(T, batch_size, width)
    mask = torch.zeros(T, batch_size)
    for b, L in enumerate(lengths.tolist()):
        inputs[:L, b, :width] = bits[:L, b]
        inputs[L, b, width] = 1.0
        targets[L + 1:2 * L + 1, b] = bits[:L, b].flip(0)
        mask[L + 1:2 * L + 1, b] = 1.0
    return Batch(inputs, targets, mask)
