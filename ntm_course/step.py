"""One memory step of the NTM (paper section 3): the write heads write, then the read heads read.

:func:`memory_step` is the only place the step is written down. :class:`~ntm_course.ntm.NTMCell` calls it
after its controller, the hand-programmed machines (:mod:`~ntm_course.handcrafted`) call it with head
parameters set by hand, and the graded exercise ``ntm_step`` is graded against it.
"""
from .heads import address_with_params
from .pieces import LIBRARY


def memory_step(memory, write_params, read_params, w_write_prev, w_read_prev, pieces=LIBRARY):
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
        pieces: the :class:`~ntm_course.pieces.Pieces` the step runs on (its :attr:`~ntm_course.pieces.Pieces.heads`).
    Returns:
        ``(memory, reads, w_read, w_write)``: :math:`M_t` ``(B, N, M)``, the read vectors ``(B, R, M)`` and the
        new weightings ``(B, R, N)`` and ``(B, W, N)`` (``w_write_prev`` itself without write heads).
    """
    heads = pieces.heads
    w_write = w_write_prev
    if write_params is not None:
        w_write = address_with_params(memory, write_params, w_write_prev, heads)
        memory = heads.write(memory, w_write, write_params["erase"], write_params["add"])
    w_read = address_with_params(memory, read_params, w_read_prev, heads)
    return memory, heads.read(memory, w_read), w_read, w_write
