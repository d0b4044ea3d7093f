"""Exercise 07_reverse_copy: hand-program a machine that outputs its input sequence reversed, by setting both
heads' parameters at every step; graded on the machine's output (:func:`ntm_course.teaching.harness.run_machine`).
"""
import torch

from ntm_course.handcrafted import copy_head_params, shift_distribution
from ntm_course.teaching.harness import run_machine
from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Understanding, both, cast, randn


# --- the reference answer -------------------------------------------------------------------------------

def reverse_copy_head_params(step, T, W, inputs=None, batch_size=1):
    """Head parameters, set by hand, of a machine that outputs its input sequence reversed.

    Memory rows have width ``W + 1``; both heads start on row ``N - 1`` (one before row 0). While writing
    (``step < T``) the write head shifts +1 and writes the item (full erase), and the read head walks along
    with it, so after the last write both are on row ``T - 1``. While reading, the write head stays put and
    writes nothing; the read head reads row ``T - 1`` first (shift 0), then walks back (shift -1). No content
    addressing: keys are zero, the gate g = 0 keeps the previous weighting, gamma = 1.

    Returns:
        ``(write_params, read_params)``: dicts of ``key (B, W + 1)``, ``beta``, ``g``, ``gamma (B, 1)`` and
        ``s (B, 3)``; the write dict also has ``erase`` and ``add (B, W + 1)``.
    """
    B, M = batch_size, W + 1

    def head(offset):
        return {"key": torch.zeros(B, M), "beta": torch.ones(B, 1), "g": torch.zeros(B, 1),
                "s": shift_distribution(offset, 3, batch_size=B), "gamma": torch.ones(B, 1)}

    if step < T:
        write_params = dict(head(+1), erase=torch.ones(B, M),
                            add=torch.cat([inputs, inputs.new_zeros(B, 1)], dim=1))
        read_params = head(+1)
    else:
        write_params = dict(head(0), erase=torch.zeros(B, M), add=torch.zeros(B, M))
        read_params = head(0 if step == T else -1)
    return write_params, read_params


# --- the check -----------------------------------------------------------------------------------------

def _reverse_variant(read_first=0, read_then=-1, read_while_writing=+1, erase_reading=0.0):
    """A wrong reverse-copy machine: one of the reference's choices changed."""
    def head_params(step, T, W, inputs=None, batch_size=1):
        write_params, read_params = reverse_copy_head_params(step, T, W, inputs, batch_size)
        B, M = batch_size, W + 1
        if step < T:
            read_params["s"] = _one_shift(read_while_writing, B)
        else:
            write_params.update(s=_one_shift(0, B), erase=torch.full((B, M), erase_reading))
            read_params["s"] = _one_shift(read_first if step == T else read_then, B)
        return write_params, read_params
    return head_params


def _one_shift(offset, B):
    s = torch.zeros(B, 3)
    s[:, offset + 1] = 1.0
    return s


def _forward_copy(step, T, W, inputs=None, batch_size=1):
    return copy_head_params(step, T, W, batch_size, "location", inputs=inputs)


def _bits(gen, T, B, W):
    return (torch.rand(T, B, W, generator=gen) < 0.5).to(torch.float64)


def _reverse_build(gen):
    values = []
    for T, B, W in ((2, 1, 3), (3, 2, 4), (5, 3, 6), (8, 2, 4), (4, 4, 2)):
        args = (_bits(gen, T, B, W), T + 1)
        values += [Case(f"random bits, T={T}, batch {B}, W={W}, N={T + 1}, {str(d)[6:]}", cast(args, d))
                   for d in DTYPES]
    edge = (both("a single item, T = 1", (_bits(gen, 1, 2, 4), 2))
            + both("a larger memory than needed, T = 4, N = 11", (_bits(gen, 4, 2, 3), 11),
                   "do not rely on the memory size: walk from where the last item was written")
            + both("real-valued items, T = 6", (randn(gen, 6, 2, 3), 7))
            + both("a long sequence, T = 12", (_bits(gen, 12, 1, 5), 13)))
    return {"values": values, "edge cases": edge}


def _reverse_call(fn, args):
    """The machine's output with the learner's head parameters (``args``: the sequence and N)."""
    return run_machine(fn, *args)


REVERSE_COPY = Understanding(
    name="reverse_copy_head_params",
    reference=reverse_copy_head_params,
    build=_reverse_build,
    call=_reverse_call,
    inputs=("sequence", "N"),
    values_note="the machine's output against the sequence reversed, several lengths and batch sizes",
    notes={"edge cases": "T = 1, a larger memory, real-valued items, T = 12"},
    mistakes=[
        ("your machine copies in order: the read head must start on the *last* item written and walk back "
         "(shift -1)", _forward_copy),
        ("your first read lands one row early: when reading starts the read head is already on the last "
         "item written (it walked alongside the write head), so shift 0 first, then -1",
         _reverse_variant(read_first=-1)),
        ("after the first read the read head must walk back, shift -1, not forward",
         _reverse_variant(read_then=+1)),
        ("your read head did not follow the write head: while writing, shift it +1 with the write head, so it is "
         "on the last item when reading starts", _reverse_variant(read_while_writing=0)),
        ("the write head keeps erasing while the machine reads: at the read steps set erase = 0 and add = 0",
         _reverse_variant(erase_reading=1.0)),
    ],
    hint="write as the copy machine does (shift +1, full erase, add the item); keep the read head beside the "
         "write head; then read with shift 0 once and -1 afterwards",
    shape_hint="return (write_params, read_params): dicts of key (B, W + 1), beta, g, gamma (B, 1), s (B, 3), "
               "and for the write head erase and add (B, W + 1)",
)

CHECKS = (REVERSE_COPY,)
"""This module's checks, found through the syllabus row that names the module."""
