"""Heads: turn the controller's output into addressing parameters, then a weighting (paper section 3).

A head owns a linear layer from the controller output to its raw parameters. :func:`split_head_params`
cuts that raw vector into named parameters and applies the activation that puts each in its range:

=========  =======  ==========================  ===============================
parameter  size     activation                  range
=========  =======  ==========================  ===============================
key        M        identity                    any (cosine ignores its length)
beta       1        softplus                    (0, inf)
g          1        sigmoid                     (0, 1)
s          K        softmax                     a distribution over the offsets
gamma      1        1 + softplus                [1, inf)
erase      M        sigmoid (write heads only)  (0, 1)^M
add        M        tanh (write heads only)     (-1, 1)^M
=========  =======  ==========================  ===============================

Raw values are first clipped to ``[-clip, clip]`` (Collier & Beel 2018 use 20) for stability. That bounds
every activated parameter: with the default clip of 20, ``beta <= softplus(20) ~ 20``, ``gamma <= 1 +
softplus(20) ~ 21``, and ``g``, ``erase`` stay at least ``sigmoid(-20) ~ 2e-9`` away from 0 and 1.

Addressing goes through a :class:`~ntm_course.pieces.Pieces` (the library's by default), so a head can run
on the learner's own content addressing, gate, shift and sharpening.
"""
import torch
import torch.nn.functional as F
from torch import nn

from .addressing import shift_offsets
from .checks import check_tensor
from .pieces import LIBRARY


def head_param_sizes(M, K, write=False):
    """Name -> width of each head parameter, in the order they sit in the raw vector."""
    shift_offsets(K)  # validates K
    sizes = {"key": M, "beta": 1, "g": 1, "s": K, "gamma": 1}
    if write:
        sizes.update(erase=M, add=M)
    return sizes


def split_head_params(raw, M, K, write=False, clip=20.0):
    """Cut a raw controller projection into head parameters and apply their activations.

    Args:
        raw: ``(B, P)`` with ``P = sum(head_param_sizes(M, K, write).values())``
            (``M + K + 3`` for a read head, ``3M + K + 3`` for a write head).
        M: memory width; K: shift width (odd); write: also return erase and add vectors.
        clip: raw values are clamped to ``[-clip, clip]`` first (``None`` to skip).
    Returns:
        dict: ``key (B, M)``, ``beta (B, 1)``, ``g (B, 1)``, ``s (B, K)``, ``gamma (B, 1)`` and, for
        write heads, ``erase (B, M)``, ``add (B, M)``.
    """
    sizes = head_param_sizes(M, K, write)
    check_tensor("raw", raw, 2, "B, P", (None, sum(sizes.values())))
    if clip is not None:
        raw = raw.clamp(-clip, clip)
    parts = dict(zip(sizes, torch.split(raw, list(sizes.values()), dim=1)))
    params = {
        "key": parts["key"],
        "beta": F.softplus(parts["beta"]),
        "g": torch.sigmoid(parts["g"]),
        "s": torch.softmax(parts["s"], dim=1),
        "gamma": 1 + F.softplus(parts["gamma"]),
    }
    if write:
        params["erase"] = torch.sigmoid(parts["erase"])
        params["add"] = torch.tanh(parts["add"])
    return params


def address_with_params(memory, params, w_prev, pieces=LIBRARY):
    """Address memory with a head's parameters (the dict from :func:`split_head_params`): ``(B, N)``.

    ``pieces`` (a :class:`~ntm_course.pieces.Pieces`, the library's by default) supplies the stages of the
    pipeline: ``pieces.address(memory, key, beta, g, s, gamma, w_prev)``.
    """
    return pieces.address(memory, params["key"], params["beta"], params["g"], params["s"], params["gamma"],
                          w_prev)


class Head(nn.Module):
    """A read or write head: controller output ``(B, C)`` -> parameters -> weighting ``(B, N)``."""

    write = False

    def __init__(self, controller_size, M, K=3, clip=20.0):
        super().__init__()
        self.M, self.K, self.clip = M, K, clip
        self.fc = nn.Linear(controller_size, sum(head_param_sizes(M, K, self.write).values()))

    def forward(self, h, memory, w_prev, pieces=LIBRARY):
        """Address memory. ``h (B, C)``, ``memory (B, N, M)``, ``w_prev (B, N)`` -> ``(w (B, N), params)``.

        ``pieces``: the addressing stages to use (see :func:`address_with_params`).
        """
        params = split_head_params(self.fc(h), self.M, self.K, self.write, self.clip)
        return address_with_params(memory, params, w_prev, pieces), params


class ReadHead(Head):
    """A head whose weighting is used to read (eq. 2)."""


class WriteHead(Head):
    """A head whose weighting, erase and add vectors write (eqs. 3-4)."""

    write = True
