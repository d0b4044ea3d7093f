"""Exercise 08_ntm_step: a whole memory step with several read and several write heads (paper section 3),
graded against the library's own step, which ``NTMCell`` runs.
"""
import torch

from ntm_course.checks import check_heads, check_memory
from ntm_course.heads import address_with_params, head_param_sizes, split_head_params
from ntm_course.memory import read, write
from ntm_course.step import memory_step
from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Exercise, both, cast, one_hot, randn


# --- the reference answer -------------------------------------------------------------------------------

def ntm_step(memory, read_raws, write_raws, w_read_prev, w_write_prev, K=3):
    """One memory step of an NTM with several read and several write heads (paper section 3, as ``NTMCell``).

    The controller has already produced each head's raw parameters; this step turns them into writes, then
    reads. It is the library's own step, :func:`ntm_course.step.memory_step`, which ``NTMCell`` runs:

    1. ``split_head_params`` turns every head's raw vector into its parameters (all heads at once, ``(B, H, P)``);
    2. every write head addresses the *old* memory :math:`M_{t-1}` (eqs. 5-9) from its previous weighting;
    3. all write heads erase, then all add (eqs. 3-4; ``ntm_course.write`` with ``(B, W, N)`` weightings);
    4. every read head addresses the *new* memory :math:`M_t` from its previous weighting;
    5. and reads (eq. 2).

    Args:
        memory: ``(B, N, M)``, the memory before the step.
        read_raws: ``(B, R, M + K + 3)``, the R read heads' raw parameters.
        write_raws: ``(B, W, 3M + K + 3)``, the W write heads' raw parameters.
        w_read_prev: ``(B, R, N)``; w_write_prev: ``(B, W, N)``, each head's weighting at the previous step.
        K: the shift width (odd).
    Returns:
        ``(memory, reads, w_read, w_write)``: the new memory ``(B, N, M)``, the read vectors ``(B, R, M)``
        and the heads' new weightings ``(B, R, N)`` and ``(B, W, N)``.
    """
    B, N, M = check_memory(memory)
    for name, raws, w_prev in (("read", read_raws, w_read_prev), ("write", write_raws, w_write_prev)):
        check_heads(f"{name}_raws", raws, (B, None), "P")
        check_heads(f"w_{name}_prev", w_prev, tuple(raws.shape[:2]), "N", N)
    return memory_step(memory, split_head_params(write_raws, M, K, write=True), split_head_params(read_raws, M, K),
                       w_write_prev, w_read_prev)


# --- the check -----------------------------------------------------------------------------------------

def _heads_weighting(gen, B, H, N):
    return torch.softmax(2.0 * randn(gen, B, H, N), dim=2)


def _step_args(gen, B, N, M, K, R, W):
    read_size, write_size = (sum(head_param_sizes(M, K, write).values()) for write in (False, True))
    return (randn(gen, B, N, M), 2 * randn(gen, B, R, read_size), 2 * randn(gen, B, W, write_size),
            _heads_weighting(gen, B, R, N), _heads_weighting(gen, B, W, N), K)


# (B, N, M, K, R, W) for the random cases: R read and W write heads
STEP_CASE_SIZES = ((1, 5, 3, 3, 1, 1), (2, 6, 4, 3, 2, 1), (3, 7, 2, 5, 1, 2), (2, 8, 3, 3, 3, 2), (4, 4, 5, 1, 2, 2))


def _step_label(B, N, M, K, R, W):
    return f"batch {B}, N={N}, M={M}, K={K}, {R} read and {W} write head{'s' if W > 1 else ''}"


def _same_row_writes(gen):
    """Two write heads kept (g ~ 0, shift 0, large gamma) on row 2: erase-then-add order matters there."""
    B, N, M, K = 2, 5, 3, 3
    memory, read_raws, write_raws, w_read_prev, _, _ = _step_args(gen, B, N, M, K, 2, 2)
    write_raws[:, :, M + 1] = -20.0                                     # g: keep the previous weighting
    write_raws[:, :, M + 2:M + 2 + K] = torch.tensor([-20.0, 20.0, -20.0], dtype=torch.float64)  # shift 0
    write_raws[:, :, M + 2 + K] = 20.0                                  # gamma ~ 21
    return (memory, read_raws, write_raws, w_read_prev, one_hot(B, N, 2).unsqueeze(1).expand(B, 2, N).clone(), K)


def _step_build(gen):
    values = []
    for _ in range(2):
        for size in STEP_CASE_SIZES:
            args = _step_args(gen, *size)
            values += [Case(f"random, {_step_label(*size)}, {str(d)[6:]}", cast(args, d)) for d in DTYPES]
    edge = (both("two write heads on the same row: all erase, then all add", _same_row_writes(gen),
                 "with several write heads, every head erases, then every head adds (eqs. 3-4): "
                 "ntm_course.write takes (B, W, N) weightings and (B, W, M) erase and add vectors")
            + both("batch 1, K = 1, M = 1, one head each", _step_args(gen, 1, 4, 1, 1, 1, 1))
            + both("one-hot previous weightings, K = 5, 3 read heads", _step_args(gen, 3, 6, 2, 5, 3, 1)[:3]
                   + (one_hot(3, 6, 0).unsqueeze(1).expand(3, 3, 6).clone(), one_hot(3, 6, 5).unsqueeze(1), 5)))
    grads = [Case(f"gradients, {_step_label(*size)}, float64", _step_args(gen, *size))
             for size in ((2, 6, 4, 3, 2, 2), (3, 5, 3, 5, 1, 2))]
    return {"values": values, "edge cases": edge, "gradients": grads}


def _heads(raws, M, K, write_):
    return [split_head_params(raws[:, i], M, K, write=write_) for i in range(raws.shape[1])]


def _step_variant(read_old=False, write_in_turn=False, sequential=False):
    """A wrong multi-head step: reads the old memory, or writes head by head."""
    def ntm_step(memory, read_raws, write_raws, w_read_prev, w_write_prev, K=3):
        M = memory.shape[2]
        old = memory
        w_write = []
        for i, p in enumerate(_heads(write_raws, M, K, True)):
            w = address_with_params(memory if sequential else old, p, w_write_prev[:, i])
            w_write.append(w)
            if write_in_turn or sequential:
                memory = write(memory, w, p["erase"], p["add"])
        w_write = torch.stack(w_write, dim=1)
        if not (write_in_turn or sequential):
            ps = _heads(write_raws, M, K, True)
            memory = write(memory, w_write, torch.stack([p["erase"] for p in ps], 1),
                           torch.stack([p["add"] for p in ps], 1))
        source = old if read_old else memory
        w_read = torch.stack([address_with_params(source, p, w_read_prev[:, i])
                              for i, p in enumerate(_heads(read_raws, M, K, False))], dim=1)
        reads = torch.stack([read(source, w_read[:, i]) for i in range(w_read.shape[1])], dim=1)
        return memory, reads, w_read, w_write
    return ntm_step


NTM_STEP = Exercise(
    name="ntm_step",
    reference=ntm_step,
    build=_step_build,
    values_note="1 to 3 read heads and 1 or 2 write heads, several batch and memory sizes and K, float32 and float64",
    mistakes=[
        ("the read heads use the memory from before the writes: write first, then address and read the new memory",
         _step_variant(read_old=True)),
        ("every write head addresses the memory before this step's writes, M_{t-1}: address all the write heads "
         "first, then write", _step_variant(sequential=True)),
        ("the write heads write one after the other (erase, add, erase, add): with several write heads every head "
         "erases, then every head adds (eqs. 3-4) -- ntm_course.write takes (B, W, N) weightings and (B, W, M) "
         "erase and add vectors", _step_variant(write_in_turn=True)),
    ],
    hint="write heads: split_head_params(write=True), address the old memory; write with all heads (erase, then "
         "add); read heads: split_head_params, address the new memory, read",
    shape_hint="return (memory (B, N, M), reads (B, R, M), w_read (B, R, N), w_write (B, W, N)): the heads are "
               "stacked on dim 1",
    edge_note="two write heads on one row, K = 1 and 5, one-hot previous weightings",
    grad_args=(0, 1, 2, 3, 4),
)

CHECKS = (NTM_STEP,)
"""This module's checks, found through the syllabus row that names the module."""
