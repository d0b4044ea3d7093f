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
from .common import Batch
from .copy import copy_batch


INPUT_SIZE = 9    # 8 data bits + the delimiter flag
OUTPUT_SIZE = 8
DELIMITER = 8


def reverse_copy_batch(batch_size, min_length=1, max_length=20, width=8, generator=None):
    """A batch of reverse-copy episodes, each of a length drawn uniformly from ``[min_length, max_length]``.

    Returns a :class:`Batch`: inputs ``(T, B, width + 1)``, targets ``(T, B, width)``, mask ``(T, B)``,
    with ``T = 2 * longest + 1``. ``generator`` (a ``torch.Generator``) makes it reproducible: the same generator
    state gives copy's episodes (:func:`~.copy.copy_batch`), their answers reversed.
    """
    inputs, targets, mask = copy_batch(batch_size, min_length, max_length, width, generator)
    for b, L in enumerate(mask.sum(dim=0).long().tolist()):
        targets[L + 1:2 * L + 1, b] = targets[L + 1:2 * L + 1, b].flip(0)
    return Batch(inputs, targets, mask)
