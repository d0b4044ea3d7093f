"""The memory matrix: reading (eq. 2), writing (eqs. 3-4) and initialisation.

Shapes: memory ``(B, N, M)`` -- a batch of B memories of N rows (locations), each a vector of width M;
weightings ``(B, N)``; read, erase and add vectors ``(B, M)``. Several heads stack on a heads axis:
``(B, H, N)`` weightings and ``(B, H, M)`` vectors.
"""
import torch
from torch import nn

from .checks import check_heads, check_lead, check_memory, check_same_device_dtype

INIT_SCHEMES = ("constant", "learned", "random")


def _read(memory, w):
    """``memory (B, N, M)``, ``w (B, H, N)`` -> ``(B, H, M)``, unchecked."""
    if w.shape[1] == 1:     # one head: on a CPU a broadcast product beats a batched matmul of 1-row matrices
        return (w.transpose(1, 2) * memory).sum(dim=1, keepdim=True)
    return torch.bmm(w, memory)


def _write(memory, w, erase, add):
    """``memory (B, N, M)``, ``w (B, H, N)``, ``erase`` and ``add (B, H, M)`` -> ``(B, N, M)``, unchecked."""
    if w.shape[1] == 1:     # M (1 - w e) + w a = M - w (M e - a): three products of the memory's size
        return memory - w.transpose(1, 2) * (memory * erase - add)
    # What the heads keep, a running product over the heads of 1 - w_h e_h (B, N, M): prod()'s backward is slow
    # where a term is 0, and heads cut out of one (B, H, N, M) tensor would each fill one that size in backward.
    one, keep = memory.new_ones(1, 1, 1), None
    for w_h, e_h in zip(w.unsqueeze(3).unbind(1), erase.unsqueeze(2).unbind(1)):    # (B, N, 1), (B, 1, M)
        term = torch.baddbmm(one, w_h, e_h, alpha=-1)
        keep = term if keep is None else keep * term
    return torch.addcmul(torch.bmm(w.transpose(1, 2), add), memory, keep)   # M keep + sum over heads of w(i) a


def read(memory, w):
    r"""Read a vector from memory through the weighting ``w`` (paper eq. 2).

    .. math:: r_t = \sum_i w_t(i)\, M_t(i)

    Args:
        memory: ``(B, N, M)``.
        w: ``(B, N)``, a weighting over the rows (non-negative, sums to 1); or ``(B, H, N)`` for H read heads.
    Returns:
        ``(B, M)`` (or ``(B, H, M)``): the rows of memory averaged with the weights ``w``.

    A one-hot ``w`` returns one row exactly; a spread-out ``w`` returns a blend, which is what makes
    reading differentiable with respect to *where* we read.
    """
    B, N, _ = check_memory(memory)
    lead = check_lead("w", w, "N")
    check_heads("w", w, (B, *lead[1:]), "N", N)
    check_same_device_dtype(memory=memory, w=w)
    return _read(memory, w.unsqueeze(1)).squeeze(1) if w.dim() == 2 else _read(memory, w)


def write(memory, w, erase, add):
    r"""Write to memory: erase (paper eq. 3), then add (eq. 4). Returns the new memory; inputs are unchanged.

    .. math::
        \tilde M_t(i) = M_{t-1}(i)\,[\mathbf 1 - w_t(i)\, e_t] \qquad
        M_t(i) = \tilde M_t(i) + w_t(i)\, a_t

    Args:
        memory: ``(B, N, M)``, the memory before the write, :math:`M_{t-1}`.
        w: ``(B, N)`` write weighting (or ``(B, H, N)`` for H write heads).
        erase: ``(B, M)`` erase vector with entries in (0, 1) (or ``(B, H, M)``).
        add: ``(B, M)`` add vector (or ``(B, H, M)``).
    Returns:
        ``(B, N, M)``, :math:`M_t`.

    A row is erased only where both the weighting and the erase vector are near 1, like an LSTM's forget
    gate; the add plays the input gate. With several heads every head erases (the products commute),
    then every head adds (the sums commute), so the order of the heads does not matter.
    """
    B, N, M = check_memory(memory)
    lead = check_lead("w", w, "N")
    check_heads("w", w, (B, *lead[1:]), "N", N)
    check_heads("erase", erase, (B, *lead[1:]), "M", M)
    check_heads("add", add, (B, *lead[1:]), "M", M)
    check_same_device_dtype(memory=memory, w=w, erase=erase, add=add)
    if w.dim() == 2:
        w, erase, add = w.unsqueeze(1), erase.unsqueeze(1), add.unsqueeze(1)
    return _write(memory, w, erase, add)


class InitialMemory(nn.Module):
    """The memory an episode starts from, ``(B, N, M)``, by one of three schemes.

    - ``"constant"``: every cell holds ``value`` (1e-6 by default). Collier & Beel (2018) found this
      converges fastest: all rows look alike, so the first writes decide what is where.
    - ``"learned"``: an ``(N, M)`` parameter learned with the rest of the model, shared across the batch.
    - ``"random"``: fresh uniform noise in ``[-value_range, value_range]`` for every episode and example, drawn
      from a ``torch.Generator`` of its own (seeded by ``seed``; without one, by a number drawn from torch's
      global generator when the module is built, as the weights are), never from the global generator
      while the model runs. ``forward(batch_size, generator)`` draws from the generator given instead.
      The noise is drawn on the CPU, so a seed gives the same memories on every device.
    """

    def __init__(self, N, M, scheme="constant", value=1e-6, value_range=0.1, seed=None):
        super().__init__()
        if scheme not in INIT_SCHEMES:
            raise ValueError(f"scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
        if N < 1 or M < 1:
            raise ValueError(f"memory size N x M must be positive, got N={N}, M={M}")
        self.N, self.M, self.scheme = N, M, scheme
        self.value, self.value_range = value, value_range
        if scheme == "learned":
            self.weight = nn.Parameter(torch.empty(N, M).uniform_(-value_range, value_range))
        else:
            self.register_buffer("reference", torch.zeros(()), persistent=False)
        if scheme == "random":
            if seed is None:
                seed = int(torch.randint(2**62, ()))
            self.generator = torch.Generator().manual_seed(seed)

    def forward(self, batch_size, generator=None):
        """Return a fresh ``(batch_size, N, M)`` memory (``generator``: a CPU ``torch.Generator`` for the
        ``"random"`` scheme's noise instead of the module's own)."""
        if self.scheme == "learned":
            return self.weight.unsqueeze(0).expand(batch_size, -1, -1)
        shape = (batch_size, self.N, self.M)
        ref = self.reference
        if self.scheme == "constant":
            return ref.new_full(shape, self.value)
        noise = torch.rand(shape, dtype=ref.dtype, generator=generator or self.generator)
        return (noise.to(ref.device) * 2 - 1) * self.value_range

    def extra_repr(self):
        return f"N={self.N}, M={self.M}, scheme={self.scheme!r}"


UNCHECKED = {"read": _read, "write": _write}
"""Public name -> the unchecked version on the heads form (see :data:`ntm_course.addressing.UNCHECKED`)."""
