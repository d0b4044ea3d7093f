"""Associative recall (paper section 4.3): read a list of items, then a query item; answer with the item
that followed the query in the list.

Each item is s = ``item_size`` (the paper's 3) consecutive bit vectors of ``width`` (6) bits, after a
one-step delimiter. An episode of n items lasts ``T = (n + 2) * (s + 1)`` steps (the shorter episodes of a
batch are padded to its longest)::

    step                      inputs (width + 2 channels)                 target (width channels)  mask
    per item: 1 step          item delimiter, channel width = 1           0                        0
              s steps         the item's vectors in channels 0..width-1   0                        0
    1 step                    query delimiter, channel width + 1 = 1      0                        0
    s steps                   the query item (a copy of item q < n-1)     0                        0
    1 step                    query delimiter, channel width + 1 = 1      0                        0
    s steps                   no input                                    item q + 1               1

Paper settings: 6-bit vectors (8 input channels: ``ITEM_DELIMITER`` 6, ``QUERY_DELIMITER`` 7), 3 vectors
per item, 2-6 items.
"""
import torch

from .common import Batch, check_range, randint, random_bits


INPUT_SIZE = 8    # 6 data bits, item delimiter, query delimiter
OUTPUT_SIZE = 6
ITEM_DELIMITER, QUERY_DELIMITER = 6, 7


def associative_recall_batch(batch_size, min_items=2, max_items=6, item_size=3, width=6, generator=None):
    """A batch of associative-recall episodes; the number of items uniform in ``[min_items, max_items]``.

    Returns a :class:`Batch`: inputs ``(T, B, width + 2)``, targets ``(T, B, width)``, mask ``(T, B)``.
    """
    check_range("min_items", min_items, "max_items", max_items, least=2)
    counts = randint(min_items, max_items, batch_size, generator)
    n_max = int(counts.max())
    step = item_size + 1
    T = n_max * step + 2 * step
    items = random_bits((batch_size, n_max, item_size, width), generator)
    # the queried item: uniform over the items that have a successor
    queries = (torch.rand(batch_size, generator=generator) * (counts - 1)).long()
    inputs = torch.zeros(T, batch_size, width + 2)
    targets = torch.zeros(T, batch_size, width)
    mask = torch.zeros(T, batch_size)
    for b, (n, q) in enumerate(zip(counts.tolist(), queries.tolist())):
        for i in range(n):
            inputs[i * step, b, width] = 1.0
            inputs[i * step + 1:(i + 1) * step, b, :width] = items[b, i]
        t = n * step
        inputs[t, b, width + 1] = 1.0
        inputs[t + 1:t + step, b, :width] = items[b, q]
        inputs[t + step, b, width + 1] = 1.0
        targets[t + step + 1:t + 2 * step, b] = items[b, q + 1]
        mask[t + step + 1:t + 2 * step, b] = 1.0
    return Batch(inputs, targets, mask)
