"""Heads: turn the controller's output into addressing parameters, then a weighting (paper section 3).

The heads of one kind share a linear layer from the controller output to their raw parameters
(:class:`HeadParams`). :func:`split_head_params` cuts a head's raw vector into named parameters and applies
the activation that puts each in its range. The raw vector's layout is stated once, here (:data:`HEAD_PARAMS`,
:data:`WRITE_VECTORS`, :data:`WIDTHS`); everything else reads it from :func:`head_param_names` and
:func:`head_param_sizes`:

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

For the shift the paper prescribes the softmax (section 3.3.2; its alternative, one scalar read as the lower
edge of a width-one uniform distribution over the shifts, is exercise ``05_scalar_shift``); for the other
parameters it fixes only the range, and these activations are the usual choices.

Raw values are first clipped to ``[-clip, clip]`` (Collier & Beel 2018 use 20) for stability. That bounds
every activated parameter: with the default clip of 20, ``beta <= softplus(20) ~ 20``, ``gamma <= 1 +
softplus(20) ~ 21``, and ``g``, ``erase`` stay at least ``sigmoid(-20) ~ 2e-9`` away from 0 and 1.

Addressing goes through a :class:`~ntm_course.pieces.Pieces` (the library's by default), so a head can run
on the learner's own content addressing, gate, shift and sharpening.
"""
import torch
import torch.nn.functional as F
from torch import nn

from .addressing import address, shift_offsets
from .checks import check_heads, check_lead


HEAD_PARAMS = ("key", "beta", "g", "s", "gamma")
"""The addressing parameters every head emits, in the order they start its raw vector; the same order as the
arguments of :func:`~ntm_course.addressing.address` after the memory. The NTM's trace records them per head as
``read_<name>`` and ``write_<name>``."""
WRITE_VECTORS = ("erase", "add")
"""What a write head's raw vector holds after :data:`HEAD_PARAMS`: its erase and add vectors (eqs. 3-4)."""
WIDTHS = {"key": "M", "beta": "1", "g": "1", "s": "K", "gamma": "1", "erase": "M", "add": "M"}
"""Each parameter's width: ``"M"`` the memory width, ``"K"`` the shift width, ``"1"`` one number."""


def head_param_names(write=False):
    """A head's parameter names, in raw-vector order: :data:`HEAD_PARAMS`, then :data:`WRITE_VECTORS` if ``write``."""
    return HEAD_PARAMS + WRITE_VECTORS if write else HEAD_PARAMS


def head_param_sizes(M, K, write=False):
    """Name -> width of each head parameter, in the order they sit in the raw vector: ``M + K + 3`` values for
    a read head, ``3M + K + 3`` for a write head. A ``ValueError`` unless K is odd and positive."""
    shift_offsets(K)  # validates K
    width = {"M": M, "K": K, "1": 1}
    return {name: width[WIDTHS[name]] for name in head_param_names(write)}


def split_head_params(raw, M, K, write=False, clip=20.0):
    """Cut a raw controller projection into head parameters and apply their activations.

    Args:
        raw: ``(B, P)`` with ``P = sum(head_param_sizes(M, K, write).values())``
            (``M + K + 3`` for a read head, ``3M + K + 3`` for a write head); or ``(B, H, P)`` for H heads.
        M: memory width; K: shift width (odd); write: also return erase and add vectors.
        clip: raw values are clamped to ``[-clip, clip]`` first (``None`` to skip).
    Returns:
        dict: ``key (B, M)``, ``beta (B, 1)``, ``g (B, 1)``, ``s (B, K)``, ``gamma (B, 1)`` and, for
        write heads, ``erase (B, M)``, ``add (B, M)``; with a heads axis each is ``(B, H, ...)``.
    """
    sizes = head_param_sizes(M, K, write)
    check_heads("raw", raw, check_lead("raw", raw, "P"), "P", sum(sizes.values()))
    return _split_head_params(raw, sizes, clip)


def check_head_params(name, params, B, M, write=False):
    """A ``ValueError`` naming ``name`` and the entry unless ``params`` is one head's parameter dict for batch B.

    ``params`` maps ``key (B, M)``, ``beta``, ``g``, ``gamma (B, 1)`` and ``s (B, K)`` (K odd) and, if ``write``,
    ``erase`` and ``add (B, M)``: what :func:`split_head_params` returns, or parameters set by hand.
    """
    needed = head_param_names(write)
    if not isinstance(params, dict) or set(needed) - set(params):
        missing = sorted(set(needed) - set(params)) if isinstance(params, dict) else type(params).__name__
        raise ValueError(f"{name} must be a dict of {sorted(needed)}, missing {missing}")
    width = {"M": M, "K": None, "1": 1}                # any K: its oddness is checked below
    for key in needed:
        check_heads(f"{name}[{key!r}]", params[key], (B,), WIDTHS[key], width[WIDTHS[key]])
    if params["s"].shape[1] % 2 != 1:
        raise ValueError(f"{name}['s'] must have an odd number of shift weights K, got {tuple(params['s'].shape)}")


def _split_head_params(raw, sizes, clip):
    """:func:`split_head_params` without the checks: ``raw (..., P)``, ``sizes`` from :func:`head_param_sizes`."""
    if clip is not None:
        raw = raw.clamp(-clip, clip)
    parts = dict(zip(sizes, torch.split(raw, list(sizes.values()), dim=-1)))
    params = {
        "key": parts["key"],
        "beta": F.softplus(parts["beta"]),
        "g": torch.sigmoid(parts["g"]),
        "s": torch.softmax(parts["s"], dim=-1),
        "gamma": 1 + F.softplus(parts["gamma"]),
    }
    if "erase" in parts:
        params["erase"] = torch.sigmoid(parts["erase"])
        params["add"] = torch.tanh(parts["add"])
    return params


class HeadParams(nn.Module):
    """One linear layer from the controller output to the raw parameters of H heads of one kind, then
    :func:`split_head_params`: ``h (B, C)`` -> dict of ``(B, H, ...)`` parameters.

    All H heads come out of one matrix product (``H * P`` outputs, head by head), so the NTM's step costs the
    same number of operations for one head or eight.
    """

    def __init__(self, controller_size, H, M, K=3, write=False, clip=20.0):
        super().__init__()
        self.sizes, self.H, self.clip = head_param_sizes(M, K, write), H, clip
        self.fc = nn.Linear(controller_size, H * sum(self.sizes.values()))

    def forward(self, h):
        return _split_head_params(self.fc(h).view(h.shape[0], self.H, -1), self.sizes, self.clip)

    def extra_repr(self):
        return f"heads={self.H}, params={dict(self.sizes)}, clip={self.clip}"


def address_with_params(memory, params, w_prev, pieces=None):
    """Address memory with a head's parameters (the dict from :func:`split_head_params`).

    ``w_prev`` ``(B, N)`` (or ``(B, H, N)``, with ``(B, H, ...)`` parameters); returns the new weighting, the
    same shape. ``pieces`` (a :class:`~ntm_course.pieces.Pieces`, or its unchecked heads form
    :attr:`~ntm_course.pieces.Pieces.heads`; default: the library's :func:`~ntm_course.addressing.address`)
    supplies the pipeline: ``pieces.address(memory, key, beta, g, s, gamma, w_prev)``.
    """
    return (address if pieces is None else pieces.address)(memory, *(params[name] for name in HEAD_PARAMS), w_prev)
