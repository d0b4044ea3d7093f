"""The NTM's two steps: one memory step (paper section 3), and one training step (section 4).

**The memory step.** The write heads address and write, then the read heads address and read.
:func:`memory_step` is the only place the step is written down, on every head of a kind at once (the heads
form); :func:`single_head_step` is the same step for one write head and one read head, the contract of the
lesson stub ``memory_step`` (lesson 8), which the machine runs when it is the learner's.
:class:`~ntm_course.ntm.NTMCell` calls it after its controller, the hand-programmed machines
(:mod:`~ntm_course.handcrafted`) call it with head parameters set by hand, and the graded exercise ``ntm_step``
(several heads of each kind, from the controller's raw output) is graded against it.

**The training step.** :func:`training_step`: forget the old gradients, compute the loss, backpropagate, clip
every gradient element, let the optimiser step. The contract of the lesson stub ``training_step`` (lesson 9).
"""
from types import SimpleNamespace

import torch

from .addressing import UNCHECKED as _ADDRESSING, address, pipeline
from .heads import HEAD_PARAMS, address_with_params
from .memory import UNCHECKED as _MEMORY, read, write


def _library_heads():
    """The library's unchecked functions on the heads form (what ``Pieces().heads`` holds)."""
    heads = SimpleNamespace(**_ADDRESSING, **_MEMORY)
    heads.address = lambda *args: pipeline(heads, *args)["sharpened"]
    return heads


LIBRARY_HEADS = _library_heads()


def memory_step(memory, write_params, read_params, w_write_prev, w_read_prev, pieces=None):
    """Address and write with every write head, then address and read with every read head.

    1. every write head addresses the memory *before* the step, :math:`M_{t-1}` (eqs. 5-9), starting from its
       previous weighting;
    2. all write heads erase, then all add (eqs. 3-4): :math:`M_t`;
    3. every read head addresses :math:`M_t` and reads (eq. 2): a value written at step t can be read at t.

    Unchecked: the caller has checked the shapes (the NTM does so once, at its edge).

    Args:
        memory: ``(B, N, M)``, :math:`M_{t-1}`.
        write_params: dict of the W write heads' parameters (:func:`~ntm_course.heads.split_head_params`):
            ``key``, ``erase``, ``add`` ``(B, W, M)``, ``beta``, ``g``, ``gamma`` ``(B, W, 1)``, ``s`` ``(B, W, K)``;
            ``None`` for a machine without write heads.
        read_params: the R read heads' parameters, the same without ``erase`` and ``add``, ``(B, R, ...)``.
        w_write_prev: ``(B, W, N)``; w_read_prev: ``(B, R, N)``, each head's weighting at the previous step.
        pieces: the :class:`~ntm_course.pieces.Pieces` the step runs on (default: the library's): its
            :attr:`~ntm_course.pieces.Pieces.heads` ``.memory_step``, which is the learner's own ``memory_step``
            where they wrote one (for one read and one write head), else this step on their other pieces.
    Returns:
        ``(memory, reads, w_read, w_write)``: :math:`M_t` ``(B, N, M)``, the read vectors ``(B, R, M)`` and the
        new weightings ``(B, R, N)`` and ``(B, W, N)`` (``w_write_prev`` itself without write heads).
    """
    if pieces is not None:
        return pieces.heads.memory_step(memory, write_params, read_params, w_write_prev, w_read_prev)
    return composed_step(memory, write_params, read_params, w_write_prev, w_read_prev, LIBRARY_HEADS)


def composed_step(memory, write_params, read_params, w_write_prev, w_read_prev, heads):
    """:func:`memory_step` made of the heads-form functions ``heads.address``, ``heads.write`` and ``heads.read``."""
    w_write = w_write_prev
    if write_params is not None:
        w_write = address_with_params(memory, write_params, w_write_prev, heads)
        memory = heads.write(memory, w_write, write_params["erase"], write_params["add"])
    w_read = address_with_params(memory, read_params, w_read_prev, heads)
    return memory, heads.read(memory, w_read), w_read, w_write


def single_head_step(memory, write_params, read_params, w_write_prev, w_read_prev):
    """One memory step of an NTM with one write head and one read head (paper section 3).

    .. math::

        w^w_t = \\text{address}(M_{t-1}, k^w_t, \\beta^w_t, g^w_t, s^w_t, \\gamma^w_t, w^w_{t-1})  \\quad\\text{(eqs. 5-9)}

        M_t(i) = M_{t-1}(i)\\,[1 - w^w_t(i)\\, e_t] + w^w_t(i)\\, a_t  \\quad\\text{(eqs. 3-4)}

        w^r_t = \\text{address}(M_t, k^r_t, \\ldots, w^r_{t-1}), \\qquad r_t = \\sum_i w^r_t(i)\\, M_t(i)  \\quad\\text{(eq. 2)}

    The write head addresses the memory before the step and writes; the read head addresses the memory after
    the write and reads, so a vector written at step t can be read back at step t.

    Args:
        memory: ``(B, N, M)``, the memory before the step.
        write_params: dict ``key (B, M)``, ``beta``, ``g``, ``gamma (B, 1)``, ``s (B, K)``, ``erase``, ``add (B, M)``.
        read_params: dict ``key (B, M)``, ``beta``, ``g``, ``gamma (B, 1)``, ``s (B, K)``.
        w_write_prev, w_read_prev: ``(B, N)``, each head's weighting at the previous step.
    Returns:
        ``(memory, r, w_read, w_write)``: the new memory ``(B, N, M)``, the read vector ``(B, M)``, and the heads'
        new weightings ``(B, N)`` (read head) and ``(B, N)`` (write head).
    """
    w_write = address(memory, *(write_params[name] for name in HEAD_PARAMS), w_write_prev)
    memory = write(memory, w_write, write_params["erase"], write_params["add"])
    w_read = address(memory, *(read_params[name] for name in HEAD_PARAMS), w_read_prev)
    return memory, read(memory, w_read), w_read, w_write


def training_step(model, optimizer, loss_of, clip=10.0):
    """One optimisation step (the paper's protocol, section 4), on a loss the caller knows how to compute.

    1. forget the gradients of the previous step (``optimizer.zero_grad()``);
    2. ``loss = loss_of()``: runs the model forward on this step's batch and returns its loss, a 0-dim tensor;
    3. backpropagate;
    4. clip every gradient element to ``[-clip, clip]`` (the paper's clip: element by element, not the norm);
    5. let the optimiser update the parameters.

    Returns:
        the loss ``loss_of()`` returned (a 0-dim tensor), the loss *before* the update.
    """
    optimizer.zero_grad()
    loss = loss_of()
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), clip)
    optimizer.step()
    return loss
