"""Priority sort (paper section 4.5): read vectors with a priority each, write back the highest-priority
ones, sorted from the highest priority down.

Layout of an episode (T = n_inputs + 1 + n_outputs = 37 with the paper's 20 and 16)::

    step                    inputs (10 channels)                          target (8 channels)        mask
    0 .. 19                 x_i in channels 0-7, priority p_i in ch 8    0                          0
    20                      delimiter, ch 9 = 1                          0                          0
    21 .. 36                no input                                     x of the k-th highest p    1

Paper settings: 20 random 8-bit vectors, priorities uniform in [-1, 1], the 16 highest in the target.
"""
import torch

from .common import Batch, check_range, random_bits


INPUT_SIZE = 10   # 8 data bits, priority, delimiter
OUTPUT_SIZE = 8
PRIORITY, DELIMITER = 8, 9


def paper_proportion(n_inputs):
    """The generator's arguments for ``n_inputs`` vectors, the target holding the paper's proportion of them
    (16 of 20), at least 1."""
    return dict(n_inputs=n_inputs, n_outputs=max(1, 4 * n_inputs // 5))


def priority_sort_batch(batch_size, n_inputs=20, n_outputs=16, width=8, generator=None):
    """A batch of priority-sort episodes. Returns a :class:`Batch`: inputs ``(T, B, width + 2)``, targets
    ``(T, B, width)``, mask ``(T, B)`` with ``T = n_inputs + 1 + n_outputs``."""
    check_range("n_outputs", n_outputs, "n_inputs", n_inputs)
    bits = random_bits((n_inputs, batch_size, width), generator)
    priority = torch.rand(n_inputs, batch_size, generator=generator) * 2 - 1
    T = n_inputs + 1 + n_outputs
    inputs = torch.zeros(T, batch_size, width + 2)
    inputs[:n_inputs, :, :width] = bits
    inputs[:n_inputs, :, width] = priority
    inputs[n_inputs, :, width + 1] = 1.0
    order = priority.argsort(dim=0, descending=True)[:n_outputs]                 # (n_outputs, B)
    targets = torch.zeros(T, batch_size, width)
    targets[n_inputs + 1:] = bits.gather(0, order.unsqueeze(2).expand(-1, -1, width))
    mask = torch.zeros(T, batch_size)
    mask[n_inputs + 1:] = 1.0
    return Batch(inputs, targets, mask)
