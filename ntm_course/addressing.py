"""Addressing: how a head decides *where* to read and write (paper section 3.3, eqs. 5-9).

The pipeline, as in the paper's flow diagram::

    key, beta --content_addressing--> w_c --interpolate(g, w_prev)--> w_g --shift(s)--> w~ --sharpen(gamma)--> w

Shapes: memory ``(B, N, M)``, key ``(B, M)``, weightings ``(B, N)``, beta / g / gamma ``(B, 1)``,
shift distribution ``s`` ``(B, K)`` with K odd. Every function also addresses several heads in one call, on
a heads axis: keys ``(B, H, M)``, weightings ``(B, H, N)``, scalars ``(B, H, 1)``, shifts ``(B, H, K)``.

Each public function checks its arguments (a ``ValueError`` naming the argument and the shapes), then calls
its unchecked version, which works on the heads form. :data:`UNCHECKED` maps the public names to those
versions: the NTM checks its inputs once, at its edge, and then calls them at every step.
"""
import functools
from types import SimpleNamespace

import torch

from .checks import check_heads, check_lead, check_memory, check_same_device_dtype


# ------------------------------------------------------------------ the equations, unchecked, on a heads axis

def _cosine_similarity(memory, key, eps=1e-8):
    """``memory (B, N, M)``, ``key (B, H, M)`` -> ``(B, H, N)``: ``u.v / max(|u| |v|, eps)``."""
    if key.shape[1] == 1:   # one head: on a CPU a broadcast product beats a batched matmul of 1-row matrices
        dot = (memory * key).sum(dim=2).unsqueeze(1)
    else:
        dot = torch.matmul(key, memory.transpose(1, 2))
    squares = (key * key).sum(dim=2, keepdim=True) * (memory * memory).sum(dim=2).unsqueeze(1)   # |u|^2 |v|^2
    return dot * squares.clamp_min(eps * eps).rsqrt()       # no square root of 0, so no infinite gradient


def _content_addressing(memory, key, beta):
    """``memory (B, N, M)``, ``key (B, H, M)``, ``beta (B, H, 1)`` -> ``(B, H, N)``."""
    return torch.softmax(beta * _cosine_similarity(memory, key), dim=-1)


def _interpolate(w_content, w_prev, g):
    return torch.lerp(w_prev, w_content, g)                  # g w_c + (1 - g) w_prev, in one operation


@functools.lru_cache(maxsize=32)
def _shift_index(N, K, device):
    """``(N, K)``: row ``i``, column ``k`` holds ``j = (i - offset_k) mod N``, the row whose weight lands on ``i``."""
    with torch.inference_mode(False):                       # a normal tensor: backward saves it
        offsets = torch.arange(-(K // 2), K // 2 + 1, device=device)
        return (torch.arange(N, device=device).unsqueeze(1) - offsets) % N


def _shift(w, s):
    """``w (..., N)``, ``s (..., K)`` -> ``(..., N)``: the sum over the offsets o of ``s_o * roll(w, o)``.

    One head, or on a GPU: gather ``(..., N, K)`` through an index cached per (N, K, device), weight by ``s`` and
    sum (three operations; under ``torch.compile`` the index is built in the graph, which keeps it as a
    constant). Several heads on a CPU: K rolls, each weighted by its column of ``s``, as a gather's cost there
    grows with its size, and for several heads the rolls are faster (``benchmarks/README.md``).
    """
    if w.device.type == "cpu" and w.dim() > 2 and w.shape[-2] > 1:
        K = s.shape[-1]
        weights = s.unsqueeze(-1).unbind(-2)    # K of (..., 1): one backward node (a stack), not a slice's each
        out = w * weights[K // 2]                                             # offset 0
        for k, s_k in enumerate(weights):
            if k != K // 2:
                out = torch.addcmul(out, torch.roll(w, k - K // 2, dims=-1), s_k)
        return out
    index = _shift_index.__wrapped__ if torch.compiler.is_compiling() else _shift_index   # compiled: a constant
    return (w[..., index(w.shape[-1], s.shape[-1], w.device)] * s.unsqueeze(-2)).sum(dim=-1)


def _sharpen(w, gamma, eps=None):
    """``w^gamma / sum(w^gamma)`` as ``softmax(gamma log w)``: one stable softmax; zero weights stay exactly 0."""
    floor = torch.finfo(w.dtype).tiny if eps is None else eps
    return torch.softmax(gamma * w.clamp_min(floor).log(), dim=-1) * (w > 0)


# ------------------------------------------------------------------------------- the public, checked functions

def _single(fn, memory, *per_head):
    """Call a heads-form function; single-head ``(B, ...)`` arguments go in as one head and come back without it."""
    if per_head[0].dim() == 2:
        return fn(memory, *(x.unsqueeze(1) for x in per_head)).squeeze(1)
    return fn(memory, *per_head)


def _check_key(memory, key):
    """memory ``(B, N, M)`` and key ``(B, M)`` or ``(B, H, M)``; returns the key's leading sizes."""
    B, _, M = check_memory(memory)
    lead = check_lead("key", key, "M")
    check_heads("key", key, (B, *lead[1:]), "M", M)
    return (B, *lead[1:])


def cosine_similarity(memory, key, eps=1e-8):
    r"""Cosine similarity between the key and every memory row (paper eq. 6).

    .. math:: K[u, v] = \frac{u \cdot v}{\lVert u \rVert\, \lVert v \rVert}

    Args:
        memory: ``(B, N, M)``.
        key: ``(B, M)``, or ``(B, H, M)`` for H heads.
        eps: the denominator is at least ``eps``, so a zero key or a zero row gives similarity 0, not NaN.
    Returns:
        ``(B, N)`` (or ``(B, H, N)``) with values in [-1, 1]: 1 where a row points the same way as the key.
    """
    _check_key(memory, key)
    check_same_device_dtype(memory=memory, key=key)
    return _single(functools.partial(_cosine_similarity, eps=eps), memory, key)


def content_addressing(memory, key, beta):
    r"""Content-based weighting: a softmax over the rows' similarity to the key (paper eq. 5).

    .. math:: w^c_t(i) = \frac{\exp(\beta_t K[k_t, M_t(i)])}{\sum_j \exp(\beta_t K[k_t, M_t(j)])}

    Args:
        memory: ``(B, N, M)``.
        key: ``(B, M)``, what we look for (or ``(B, H, M)``).
        beta: ``(B, 1)``, key strength, > 0: large beta focuses on the best match, small beta blurs
            (or ``(B, H, 1)``).
    Returns:
        ``(B, N)`` (or ``(B, H, N)``), a distribution over the rows.
    """
    lead = _check_key(memory, key)
    check_heads("beta", beta, lead, "1", 1)
    check_same_device_dtype(memory=memory, key=key, beta=beta)
    return _single(_content_addressing, memory, key, beta)


def interpolate(w_content, w_prev, g):
    r"""Blend the content weighting with the previous step's weighting by the gate g (paper eq. 7).

    .. math:: w^g_t = g_t\, w^c_t + (1 - g_t)\, w_{t-1}

    Args:
        w_content: ``(B, N)``, this step's content weighting (or ``(B, H, N)``).
        w_prev: ``(B, N)``, the head's weighting at the previous step (or ``(B, H, N)``).
        g: ``(B, 1)``, the interpolation gate in [0, 1]: 1 takes the content focus, 0 keeps the old focus
            (or ``(B, H, 1)``).
    Returns:
        ``(B, N)`` (or ``(B, H, N)``).
    """
    lead = check_lead("w_content", w_content, "N")
    check_heads("w_prev", w_prev, lead, "N", w_content.shape[-1])
    check_heads("g", g, lead, "1", 1)
    check_same_device_dtype(w_content=w_content, w_prev=w_prev, g=g)
    return _interpolate(w_content, w_prev, g)


def shift_offsets(K):
    """The offsets that the K entries of a shift distribution stand for: ``-(K//2) .. +(K//2)``."""
    if K % 2 != 1 or K < 1:
        raise ValueError(f"the shift width K must be odd and positive, got K={K}")
    return list(range(-(K // 2), K // 2 + 1))


def shift(w, s):
    r"""Rotate the weighting by a circular convolution with the shift distribution (paper eq. 8).

    .. math:: \tilde w_t(i) = \sum_{j=0}^{N-1} w^g_t(j)\, s_t(i - j) \quad \text{(indices modulo N)}

    **Direction convention.** ``s[:, k]`` is the weight of offset ``k - K//2``; with K = 3 the columns are
    offsets (-1, 0, +1). Offset +1 moves the focus from row i to row i+1: with a one-hot ``s`` on offset
    ``o`` the result is ``torch.roll(w, o, dims=1)``. (The well-known PyTorch NTM orders its three shift
    weights as (+1, 0, -1) without saying so; the paper's equation gives the order used here.)

    Args:
        w: ``(B, N)``, the gated weighting :math:`w^g_t` (or ``(B, H, N)``).
        s: ``(B, K)``, K odd, a distribution over the offsets (any K, even K > N: offsets wrap around)
            (or ``(B, H, K)``).
    Returns:
        ``(B, N)`` (or ``(B, H, N)``). A spread-out ``s`` blurs the focus over neighbouring rows; sharpening
        undoes that.
    """
    lead = check_lead("w", w, "N")
    check_heads("s", s, lead, "K")
    if s.shape[-1] % 2 != 1:
        raise ValueError(f"s must have an odd number of shift weights K, got s of shape {tuple(s.shape)}")
    check_same_device_dtype(w=w, s=s)
    return _shift(w, s)


def sharpen(w, gamma, eps=None):
    r"""Sharpen the weighting by raising it to the power gamma and renormalising (paper eq. 9).

    .. math:: w_t(i) = \frac{\tilde w_t(i)^{\gamma_t}}{\sum_j \tilde w_t(j)^{\gamma_t}}

    Args:
        w: ``(B, N)``, non-negative (or ``(B, H, N)``).
        gamma: ``(B, 1)``, >= 1: 1 leaves ``w`` as it is, large gamma approaches a one-hot on the maximum
            (or ``(B, H, 1)``).
    Returns:
        ``(B, N)`` (or ``(B, H, N)``), a distribution; an all-zero weighting stays all zero (no NaN).

    Computed as ``softmax(gamma * log w)``, the same quantity in one stable operation: the softmax divides
    by the largest power first, so even a large gamma on tiny weights cannot underflow every entry to 0,
    and nothing is ever 0/0. The logarithm sees at least ``eps`` (default: the dtype's smallest normal
    number), so zero weights give finite gradients; they stay exactly 0.
    """
    lead = check_lead("w", w, "N")
    check_heads("gamma", gamma, lead, "1", 1)
    check_same_device_dtype(w=w, gamma=gamma)
    return _sharpen(w, gamma, eps)


def pipeline(stages, memory, key, beta, g, s, gamma, w_prev):
    """The addressing pipeline (paper fig. 2) on ``stages``: content (eq. 5), interpolation (7), shift (8),
    sharpening (9), each stage the function of that name in ``stages``.

    ``stages``: anything with ``content_addressing``, ``interpolate``, ``shift`` and ``sharpen``: this module's
    checked functions (for :func:`address` and :func:`address_stages`), a :class:`~ntm_course.pieces.Pieces`, or
    its heads form. The one place the order of the stages is written down.

    Returns:
        dict of the weightings after each stage, in order: ``content``, ``gated``, ``shifted``, ``sharpened``
        (the last is the head's new weighting).
    """
    content = stages.content_addressing(memory, key, beta)
    gated = stages.interpolate(content, w_prev, g)
    shifted = stages.shift(gated, s)
    return {"content": content, "gated": gated, "shifted": shifted, "sharpened": stages.sharpen(shifted, gamma)}


_CHECKED = SimpleNamespace(content_addressing=content_addressing, interpolate=interpolate, shift=shift,
                           sharpen=sharpen)


def address(memory, key, beta, g, s, gamma, w_prev):
    """The full addressing pipeline (paper fig. 2): content (eq. 5), interpolation (7), shift (8), sharpening (9).

    Args:
        memory ``(B, N, M)``, key ``(B, M)``, beta ``(B, 1)``, g ``(B, 1)``, s ``(B, K)``, gamma ``(B, 1)``,
        w_prev ``(B, N)``; or, for H heads at once, ``(B, H, M)``, ``(B, H, 1)``, ``(B, H, K)``, ``(B, H, N)``.
    Returns:
        ``(B, N)`` (or ``(B, H, N)``), the head's new weighting: the last of :func:`address_stages`.
    """
    return pipeline(_CHECKED, memory, key, beta, g, s, gamma, w_prev)["sharpened"]


def address_stages(memory, key, beta, g, s, gamma, w_prev):
    """The pipeline of :func:`address`, returning every intermediate weighting for plots.

    Returns:
        dict with ``(B, N)`` (or ``(B, H, N)``) tensors ``content``, ``gated``, ``shifted``, ``sharpened``.
    """
    return pipeline(_CHECKED, memory, key, beta, g, s, gamma, w_prev)


UNCHECKED = {
    "cosine_similarity": _cosine_similarity,
    "content_addressing": _content_addressing,
    "interpolate": _interpolate,
    "shift": _shift,
    "sharpen": _sharpen,
}
"""Public name -> the unchecked version on the heads form (memory ``(B, N, M)``, every other argument and the
result ``(B, H, ...)``), for callers that have checked their inputs once already."""
