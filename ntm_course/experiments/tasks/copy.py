"""Copy (paper section 4.1): read a sequence of random bit vectors, then write it back.

Layout of one episode of length L (time runs down; T = 2L + 1, padded to the batch's longest)::

    step            inputs (9 channels)            target (8 channels)   mask
    0 .. L-1        x_t in channels 0-7, ch 8 = 0  0                     0
    L               delimiter: ch 8 = 1            0                     0
    L+1 .. 2L       all zero (no input)            x_{t-L-1}             1

The answer is read from the L steps after the delimiter. Paper settings: 8-bit vectors, L uniform in 1-20.
"""
import torch

from .common import Batch, check_range, randint, random_bits


INPUT_SIZE = 9    # 8 data bits + the delimiter flag
OUTPUT_SIZE = 8
DELIMITER = 8     # the input channel of the delimiter flag


def copy_batch(batch_size, min_length=1, max_length=20, width=8, generator=None):
    """A batch of copy episodes, each of a length drawn uniformly from ``[min_length, max_length]``.

    Returns a :class:`Batch`: inputs ``(T, B, width + 1)``, targets ``(T, B, width)``, mask ``(T, B)``,
    with ``T = 2 * longest + 1``. ``generator`` (a ``torch.Generator``) makes it reproducible.
    """
    check_range("min_length", min_length, "max_length", max_length)
    lengths = randint(min_length, max_length, batch_size, generator)
    T = 2 * int(lengths.max()) + 1
    bits = random_bits((int(lengths.max()), batch_size, width), generator)
    inputs = torch.zeros(T, batch_size, width + 1)
    targets = torch.zeros(T, batch_size, width)
    mask = torch.zeros(T, batch_size)
    for b, L in enumerate(lengths.tolist()):
        inputs[:L, b, :width] = bits[:L, b]
        inputs[L, b, width] = 1.0
        targets[L + 1:2 * L + 1, b] = bits[:L, b]
        mask[L + 1:2 * L + 1, b] = 1.0
    return Batch(inputs, targets, mask)
