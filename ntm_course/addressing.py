"""Addressing: how a head decides *where* to read and write (paper section 3.3, eqs. 5-9).

The pipeline, as in the paper's flow diagram::

    key, beta --content_addressing--> w_c --interpolate(g, w_prev)--> w_g --shift(s)--> w~ --sharpen(gamma)--> w

Shapes: memory ``(B, N, M)``, key ``(B, M)``, weightings ``(B, N)``, beta / g / gamma ``(B, 1)``,
shift distribution ``s`` ``(B, K)`` with K odd.
"""
import torch

from .checks import (check_memory, check_same_device_dtype, check_scalar, check_tensor,
                     check_weighting)


def cosine_similarity(memory, key, eps=1e-8):
    r"""Cosine similarity between the key and every memory row (paper eq. 6).

    .. math:: K[u, v] = \frac{u \cdot v}{\lVert u \rVert\, \lVert v \rVert}

    Args:
        memory: ``(B, N, M)``.
        key: ``(B, M)``.
        eps: the denominator is at least ``eps``, so a zero key or a zero row gives similarity 0, not NaN.
    Returns:
        ``(B, N)`` with values in [-1, 1]: 1 where a row points the same way as the key.
    """
    B, N, M = check_memory(memory)
    check_tensor("key", key, 2, "B, M", (B, M))
    check_same_device_dtype(memory=memory, key=key)
    dot = torch.bmm(memory, key.unsqueeze(2)).squeeze(2)                 # (B, N)
    norms = memory.norm(dim=2) * key.norm(dim=1, keepdim=True)          # (B, N)
    return dot / norms.clamp_min(eps)


def content_addressing(memory, key, beta):
    r"""Content-based weighting: a softmax over the rows' similarity to the key (paper eq. 5).

    .. math:: w^c_t(i) = \frac{\exp(\beta_t K[k_t, M_t(i)])}{\sum_j \exp(\beta_t K[k_t, M_t(j)])}

    Args:
        memory: ``(B, N, M)``.
        key: ``(B, M)``, what we look for.
        beta: ``(B, 1)``, key strength, > 0: large beta focuses on the best match, small beta blurs.
    Returns:
        ``(B, N)``, a distribution over the rows.
    """
    similarity = cosine_similarity(memory, key)                          # checks memory and key
    check_scalar("beta", beta, memory.shape[0])
    check_same_device_dtype(memory=memory, beta=beta)
    return torch.softmax(beta * similarity, dim=1)


def interpolate(w_content, w_prev, g):
    r"""Blend the content weighting with the previous step's weighting by the gate g (paper eq. 7).

    .. math:: w^g_t = g_t\, w^c_t + (1 - g_t)\, w_{t-1}

    Args:
        w_content: ``(B, N)``, this step's content weighting.
        w_prev: ``(B, N)``, the head's weighting at the previous step.
        g: ``(B, 1)``, the interpolation gate in [0, 1]: 1 takes the content focus, 0 keeps the old focus.
    Returns:
        ``(B, N)``.
    """
    check_tensor("w_content", w_content, 2, "B, N")
    B, N = w_content.shape
    check_weighting("w_prev", w_prev, B, N)
    check_scalar("g", g, B)
    check_same_device_dtype(w_content=w_content, w_prev=w_prev, g=g)
    return g * w_content + (1 - g) * w_prev


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
        w: ``(B, N)``, the gated weighting :math:`w^g_t`.
        s: ``(B, K)``, K odd, a distribution over the offsets (any K, even K > N: offsets wrap around).
    Returns:
        ``(B, N)``. A spread-out ``s`` blurs the focus over neighbouring rows; sharpening undoes that.
    """
    check_tensor("w", w, 2, "B, N")
    B, N = w.shape
    check_tensor("s", s, 2, "B, K", (B, None))
    K = s.shape[1]
    if K % 2 != 1:
        raise ValueError(f"s must have an odd number of shift weights K, got s of shape {tuple(s.shape)}")
    check_same_device_dtype(w=w, s=s)
    offsets = torch.tensor(shift_offsets(K), device=w.device)              # (K,)
    rows = torch.arange(N, device=w.device)                               # (N,)
    source = (rows.unsqueeze(1) - offsets.unsqueeze(0)) % N               # (N, K): j = i - offset
    return (w[:, source] * s.unsqueeze(1)).sum(dim=2)                     # (B, N, K) -> (B, N)


def sharpen(w, gamma, eps=None):
    r"""Sharpen the weighting by raising it to the power gamma and renormalising (paper eq. 9).

    .. math:: w_t(i) = \frac{\tilde w_t(i)^{\gamma_t}}{\sum_j \tilde w_t(j)^{\gamma_t}}

    Args:
        w: ``(B, N)``, non-negative.
        gamma: ``(B, 1)``, >= 1: 1 leaves ``w`` as it is, large gamma approaches a one-hot on the maximum.
    Returns:
        ``(B, N)``, a distribution.

    ``w`` is first divided by its maximum (the result does not depend on that scale), so even a large
    gamma on tiny weights cannot underflow every entry to 0; zero weights stay 0 and give no NaN.
    ``eps`` is a floor for that maximum (default: the dtype's smallest normal number).
    """
    check_tensor("w", w, 2, "B, N")
    B, _ = w.shape
    check_scalar("gamma", gamma, B)
    check_same_device_dtype(w=w, gamma=gamma)
    peak = w.max(dim=1, keepdim=True).values.detach()  # a constant scale: the output is invariant to it
    scaled = w / peak.clamp_min(torch.finfo(w.dtype).tiny if eps is None else eps)
    powered = scaled ** gamma
    return powered / powered.sum(dim=1, keepdim=True)


def address(memory, key, beta, g, s, gamma, w_prev):
    """The full addressing pipeline (paper fig. 2): content (eq. 5), interpolation (7), shift (8), sharpening (9).

    Args:
        memory ``(B, N, M)``, key ``(B, M)``, beta ``(B, 1)``, g ``(B, 1)``, s ``(B, K)``, gamma ``(B, 1)``,
        w_prev ``(B, N)``.
    Returns:
        ``(B, N)``, the head's new weighting.
    """
    return sharpen(shift(interpolate(content_addressing(memory, key, beta), w_prev, g), s), gamma)


def address_stages(memory, key, beta, g, s, gamma, w_prev):
    """The pipeline of :func:`address`, returning every intermediate weighting for plots.

    Returns:
        dict with ``(B, N)`` tensors ``content``, ``gated``, ``shifted``, ``sharpened``.
    """
    content = content_addressing(memory, key, beta)
    gated = interpolate(content, w_prev, g)
    shifted = shift(gated, s)
    return {"content": content, "gated": gated, "shifted": shifted, "sharpened": sharpen(shifted, gamma)}
