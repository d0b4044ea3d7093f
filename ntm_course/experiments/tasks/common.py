"""What every task returns, and the random helpers the tasks share."""
from typing import NamedTuple

import torch


class Batch(NamedTuple):
    """A batch of episodes, time first.

    inputs ``(T, B, input_size)``, targets ``(T, B, output_size)``, mask ``(T, B)``: 1.0 at the steps where
    the model's output is scored (the answer), 0.0 elsewhere. Sequences of different lengths in one batch
    are padded at the end with zero inputs, zero targets and mask 0.
    """
    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor


def check_range(name_min, lo, name_max, hi, least=1):
    """``least <= lo <= hi``, else a ValueError naming both arguments."""
    if not (least <= lo <= hi):
        raise ValueError(f"need {least} <= {name_min} <= {name_max}, got {name_min}={lo}, {name_max}={hi}")


def randint(lo, hi, size, generator):
    """Integers uniform in ``[lo, hi]`` (both ends included), a ``(size,)`` long tensor."""
    return torch.randint(lo, hi + 1, (size,), generator=generator)


def random_bits(shape, generator, dtype=torch.float32):
    """Independent fair coin flips, 0.0 or 1.0."""
    return torch.randint(0, 2, shape, generator=generator).to(dtype)
