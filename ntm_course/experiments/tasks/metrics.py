"""Metrics the paper reports, for every task: cost in bits per sequence and bit errors per sequence.

Shapes: logits and targets ``(T, B, out)``, mask ``(T, B)`` (1 where the answer is scored, 0 elsewhere).
Both metrics sum over the scored steps and the output channels of each sequence, so they are *per sequence*:
``reduction="none"`` returns one value per sequence ``(B,)``, ``"mean"`` (the default) their average.
"""
import math

import torch.nn.functional as F

from ...checks import check_tensor


def _check(logits, targets, mask):
    check_tensor("logits", logits, 3, "T, B, out")
    check_tensor("targets", targets, 3, "T, B, out", tuple(logits.shape))
    check_tensor("mask", mask, 2, "T, B", tuple(logits.shape[:2]))


def _reduce(per_sequence, reduction):
    if reduction == "mean":
        return per_sequence.mean()
    if reduction == "none":
        return per_sequence
    raise ValueError(f"reduction must be 'mean' or 'none', got {reduction!r}")


def bits_per_sequence(logits, targets, mask, reduction="mean"):
    r"""Cross-entropy cost in bits per sequence (the y axis of the paper's learning curves).

    .. math:: -\sum_{t \in \text{mask}} \sum_k \big[y_{t,k} \log_2 p_{t,k} + (1 - y_{t,k}) \log_2 (1 - p_{t,k})\big],
        \quad p = \sigma(\text{logits})

    Targets may be probabilities (the N-grams task scores against bits, the Bayes estimator gives
    probabilities). It is the training loss too: differentiable, computed from logits for stability.
    """
    _check(logits, targets, mask)
    nats = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(dim=2)   # (T, B)
    return _reduce((nats * mask).sum(dim=0) / math.log(2), reduction)


def bit_errors(logits, targets, mask, reduction="mean"):
    """Bit errors per sequence: outputs thresholded at 0.5 (logit 0) that differ from the target bits.

    A bit counts as an error when ``sigmoid(logit) > 0.5`` and the target is 0, or the other way round.
    """
    _check(logits, targets, mask)
    wrong = ((logits > 0) != (targets > 0.5)).to(logits.dtype).sum(dim=2)                   # (T, B)
    return _reduce((wrong * mask).sum(dim=0), reduction)
