"""Exercise 08_multi_write: several write heads, two ways. The paper (and ``ntm_course.write`` with ``(B, H, N)``
weightings) lets every head erase, then every head add::

    M' = M * prod_h (1 - w_h e_h^T) + sum_h w_h a_h^T

``write_in_turn`` writes with the heads one after another instead (head 0 first), each erasing then adding;
``order_matters`` says, per example, whether the two can give different memories.

The algebra, one cell ``(i, j)`` at a time (``p_h = 1 - w_h(i) e_h(j)``, ``alpha_h = w_h(i) a_h(j)``): in turn,
``m -> m p_0 + alpha_0 -> (m p_0 + alpha_0) p_1 + alpha_1 -> ...``, so

    in turn - paper = sum_h alpha_h (prod_{k > h} p_k - 1)

The memory's own term ``m prod_h p_h`` is the same both ways: the difference does not depend on the memory at
all. It is the adds of earlier heads that later heads erase; for two heads, ``-w_0 a_0^T * w_1 e_1^T``.
"""
import torch

from ntm_course.checks import check_heads, check_memory, check_same_device_dtype, check_tensor
from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Understanding, both, cast, rand, randn


# --- the reference answers ------------------------------------------------------------------------------

def _check_heads_args(w, erase, add, memory=None):
    """Validate ``w (B, H, N)``, ``erase`` and ``add (B, H, M)`` (and ``memory (B, N, M)``). Returns ``B, H, N, M``."""
    B, H, N = check_tensor("w", w, 3, "B, H, N").shape
    M = memory.shape[2] if memory is not None else None
    check_heads("erase", erase, (B, H), "M", M)
    check_heads("add", add, (B, H), "M", erase.shape[2])
    if memory is not None:
        check_tensor("memory", memory, 3, "B, N, M", (B, N, M))
        check_same_device_dtype(memory=memory, w=w, erase=erase, add=add)
    else:
        check_same_device_dtype(w=w, erase=erase, add=add)
    return B, H, N, erase.shape[2]


def write_in_turn(memory, w, erase, add):
    r"""Write with H heads one after another, head 0 first, each erasing then adding (eqs. 3-4 per head).

    .. math:: M^{(h+1)} = M^{(h)} \circ (1 - w_h e_h^\top) + w_h a_h^\top, \qquad M^{(0)} = M

    Args:
        memory: ``(B, N, M)``.
        w: ``(B, H, N)``, one write weighting per head.
        erase, add: ``(B, H, M)``.
    Returns:
        ``(B, N, M)``, :math:`M^{(H)}`. A later head can erase what an earlier head added.
    """
    check_memory(memory)
    _check_heads_args(w, erase, add, memory)
    for h in range(w.shape[1]):
        w_h, e_h, a_h = w[:, h].unsqueeze(2), erase[:, h].unsqueeze(1), add[:, h].unsqueeze(1)
        memory = memory * (1 - w_h * e_h) + w_h * a_h
    return memory


def in_turn_minus_paper(w, erase, add):
    """``(B, N, M)``: the in-turn write minus the paper's write, which is the same for every memory:
    ``sum_h w_h a_h^T * (prod_{k > h} (1 - w_k e_k^T) - 1)``."""
    B, H, N, M = _check_heads_args(w, erase, add)
    later_keep = w.new_ones(B, N, M)     # prod over the heads after h of (1 - w_k e_k^T), built from the last head
    difference = w.new_zeros(B, N, M)
    for h in reversed(range(H)):
        difference = difference + w[:, h].unsqueeze(2) * add[:, h].unsqueeze(1) * (later_keep - 1)
        later_keep = later_keep * (1 - w[:, h].unsqueeze(2) * erase[:, h].unsqueeze(1))
    return difference


def order_matters(w, erase, add, tol=1e-6):
    """``(B,)`` bool: True where writing with the heads in turn (:func:`write_in_turn`) and the paper's
    all-erase-then-all-add write give different memories for some memory (a difference above ``tol``), False
    where they agree for every memory.

    The difference does not depend on the memory: it is ``sum_h w_h a_h^T * (prod_{k > h} (1 - w_k e_k^T) - 1)``,
    a later head's erase overlapping an earlier head's add on the same row and column.
    """
    difference = in_turn_minus_paper(w, erase, add)
    return difference.abs().flatten(1).amax(dim=1) > tol


# --- the wrong answers learners give --------------------------------------------------------------------

def _erase_all_then_add_in_turn(memory, w, erase, add):
    for h in range(w.shape[1]):
        memory = memory * (1 - w[:, h].unsqueeze(2) * erase[:, h].unsqueeze(1))
    for h in range(w.shape[1]):
        memory = memory + w[:, h].unsqueeze(2) * add[:, h].unsqueeze(1)
    return memory


def _add_then_erase(memory, w, erase, add):
    for h in range(w.shape[1]):
        w_h, e_h, a_h = w[:, h].unsqueeze(2), erase[:, h].unsqueeze(1), add[:, h].unsqueeze(1)
        memory = (memory + w_h * a_h) * (1 - w_h * e_h)
    return memory


def _last_head_first(memory, w, erase, add):
    return write_in_turn(memory, w.flip(1), erase.flip(1), add.flip(1))


def _any_overlap(w, erase, add, tol=1e-6):
    """True where two heads' weightings share a row, whatever they erase and add."""
    H = w.shape[1]
    found = torch.zeros(w.shape[0], dtype=torch.bool, device=w.device)
    for h in range(H):
        for k in range(h + 1, H):
            found = found | ((w[:, h] * w[:, k]).sum(dim=1) > tol)
    return found


def _earlier_erase_later_add(w, erase, add, tol=1e-6):
    """The right algebra with the order of the heads reversed: an earlier head's erase against a later add."""
    return order_matters(w.flip(1), erase.flip(1), add.flip(1), tol)


def _neighbours_only(w, erase, add, tol=1e-6):
    """Only consecutive heads compared, two at a time."""
    found = torch.zeros(w.shape[0], dtype=torch.bool, device=w.device)
    for h in range(w.shape[1] - 1):
        found = found | order_matters(w[:, h:h + 2], erase[:, h:h + 2], add[:, h:h + 2], tol)
    return found


# --- the checks -----------------------------------------------------------------------------------------

SIZES = ((1, 5, 3, 2), (2, 6, 4, 3), (3, 7, 2, 2), (4, 4, 5, 1), (2, 8, 3, 4))    # (B, N, M, H)


def _heads(gen, B, H, N, M):
    """Random weightings (a softmax per head), erase vectors in (0, 1) and add vectors."""
    w = torch.softmax(2 * randn(gen, B, H, N), dim=2)
    return w, rand(gen, B, H, M, low=0.05, high=0.95), randn(gen, B, H, M)


def _write_case(gen, B, N, M, H):
    return (randn(gen, B, N, M), *_heads(gen, B, H, N, M))


def _rows(N, *rows):
    """``(1, len(rows), N)``: head h on the rows ``rows[h]`` (a tuple), spread evenly."""
    w = torch.zeros(1, len(rows), N, dtype=torch.float64)
    for h, on in enumerate(rows):
        w[0, h, list(on)] = 1.0 / len(on)
    return w


def _write_build(gen):
    values = []
    for _ in range(2):
        for B, N, M, H in SIZES:
            args = _write_case(gen, B, N, M, H)
            values += [Case(f"random, batch {B}, N={N}, M={M}, H={H}, {str(d)[6:]}", cast(args, d)) for d in DTYPES]
    _, erase, add = _heads(gen, 2, 3, 6, 4)
    w_disjoint = torch.cat([_rows(6, (0, 1), (2, 3), (4, 5))] * 2)
    added_then_erased = (torch.zeros(1, 4, 3, dtype=torch.float64), _rows(4, (1,), (1,)),
                         torch.tensor([[[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]], dtype=torch.float64),
                         torch.tensor([[[1.0, 2.0, 3.0], [0.5, 0.0, -0.5]]], dtype=torch.float64))
    edge = (both("one head: the same as ntm_course.write", _write_case(gen, 2, 5, 3, 1))
            + both("three heads on disjoint rows: the same as the paper's write",
                   (randn(gen, 2, 6, 4), w_disjoint, erase, add))
            + both("two heads on row 1: head 1 erases (e = 1) what head 0 added, then adds its own",
                   added_then_erased, "head 1 runs after head 0 has added: its full erase wipes head 0's add, so "
                                      "row 1 ends as head 1's add alone")
            + both("four heads, a sharp focus on shared rows", _write_case(gen, 2, 5, 3, 4)))
    grads = [Case(f"gradients, batch {B}, N={N}, M={M}, H={H}, float64", _write_case(gen, B, N, M, H))
             for B, N, M, H in ((2, 6, 4, 3), (3, 5, 3, 2))]
    return {"values": values, "edge cases": edge, "gradients": grads}


WRITE_IN_TURN = Understanding(
    name="write_in_turn",
    reference=write_in_turn,
    build=_write_build,
    grad_args=(0, 1, 2, 3),
    values_note="batch 1 to 4, N = 4 to 8, M = 2 to 5, H = 1 to 4 heads, float32 and float64",
    notes={"edge cases": "one head, heads on disjoint rows, head 1 erasing what head 0 added, four heads"},
    mistakes=[
        ("you let every head erase before any head adds: that is the paper's write (ntm_course.write), where the "
         "order of the heads does not matter. In turn, head h erases and adds before head h + 1 starts, so a "
         "later head's erase also hits what the earlier heads added", _erase_all_then_add_in_turn),
        ("each head must erase first, then add (eqs. 3-4): adding before erasing lets a head erase its own add",
         _add_then_erase),
        ("the heads go in the order of the heads axis, head 0 first: the last head writes last, so its add is the "
         "one that no later erase touches", _last_head_first),
    ],
    hint="loop over the heads in order; for head h: memory * (1 - w_h e_h^T) + w_h a_h^T, with the memory "
         "this head's write starts from being the one the previous head left",
    shape_hint="w_h = w[:, h] is (B, N) and e_h, a_h are (B, M): their outer product is "
               "w_h.unsqueeze(2) * e_h.unsqueeze(1), (B, N, M) like the memory",
)


def _matters_call(fn, args):
    """The learner's ``order_matters(w, erase, add)``, checked to be a ``(B,)`` bool tensor, as 1.0 / 0.0."""
    w = args[0]
    found = fn(*args)
    B = w.shape[0]
    if not isinstance(found, torch.Tensor):
        raise ValueError(f"order_matters must return a bool tensor of shape (B,) = ({B},), got {type(found).__name__}")
    if found.dtype != torch.bool:
        raise ValueError(f"order_matters must return a bool tensor of shape (B,) = ({B},), got dtype {found.dtype}: "
                         f"compare with tol (difference > tol) to get one")
    if tuple(found.shape) != (B,):
        raise ValueError(f"order_matters must return a bool tensor of shape (B,) = ({B},), one answer per example, "
                         f"got shape {tuple(found.shape)}")
    return found.to(torch.float64)


def _blend(gen, B, H, N, M, kinds):
    """A batch of ``B`` examples of ``H`` heads, example ``b`` of kind ``kinds[b % len(kinds)]``."""
    w, erase, add = _heads(gen, B, H, N, M)
    w, erase, add = w.clone(), erase.clone(), add.clone()
    for b in range(B):
        kind = kinds[b % len(kinds)]
        if kind == "disjoint":             # each head on rows of its own
            rows = torch.randperm(N, generator=gen)
            mask = torch.zeros(H, N, dtype=torch.float64)
            for h in range(H):
                mask[h, rows[h::H]] = 1.0
            w[b] = w[b] * mask
            w[b] = w[b] / w[b].sum(dim=1, keepdim=True)
        elif kind == "no erase":           # nobody erases: the adds just sum
            erase[b] = 0.0
        elif kind == "no add":             # nobody adds: the erases commute
            add[b] = 0.0
        elif kind == "first head only erases":   # head 0 adds nothing, the others erase nothing
            add[b, 0] = 0.0
            erase[b, 1:] = 0.0
        elif kind == "later heads only erase":   # head 0 only adds, the others only erase
            erase[b, 0] = 0.0
            add[b, 1:] = 0.0
    return w, erase, add


KINDS = ("overlap", "disjoint", "later heads only erase", "no erase", "overlap", "no add", "first head only erases")


def _matters_build(gen):
    values = []
    for repeat in range(2):
        for B, N, M, H in ((7, 6, 3, 2), (5, 8, 4, 3), (6, 7, 2, 2), (7, 9, 3, 4), (4, 6, 5, 3)):
            kinds = KINDS[3 * repeat:] + KINDS[:3 * repeat]
            args = _blend(gen, B, H, N, M, kinds)
            values += [Case(f"random, batch {B} (overlapping, disjoint, no erase, ...), N={N}, M={M}, H={H}, "
                            f"{str(d)[6:]}", cast(args, d)) for d in DTYPES]
    e0 = torch.tensor([[1.0, 0.0, 0.0]], dtype=torch.float64)
    one_row = _rows(4, (0,), (0,))
    # head 0 adds only in column 0, head 1 erases only columns 1 and 2: same row, never the same cell
    other_columns = (one_row, torch.tensor([[[0.5, 0.5, 0.5], [0.0, 1.0, 1.0]]], dtype=torch.float64),
                     torch.tensor([[[1.0, 0.0, 0.0], [0.3, 0.3, 0.3]]], dtype=torch.float64))
    # three heads on one cell: head 1's add makes up for what head 2's erase takes from heads 0 and 1
    cancelling = (_rows(4, (0,), (0,), (0,)), torch.tensor([[[0.0] * 3, [0.5] * 3, [0.5] * 3]], dtype=torch.float64),
                  torch.cat([e0, -1.5 * e0, torch.full((1, 3), 0.7, dtype=torch.float64)]).unsqueeze(0))
    # (a): head 2 erases what head 0 added, head 1 between them writes elsewhere; (b): an erase before an add
    skipping = (torch.cat([_rows(5, (0, 1), (3, 4), (0, 2)), _rows(5, (0, 1), (0, 4), (3,))]),
                torch.tensor([[[0.0] * 3, [0.0] * 3, [0.8] * 3], [[0.8] * 3, [0.0] * 3, [0.0] * 3]],
                             dtype=torch.float64),
                torch.tensor([[[1.0] * 3, [0.0] * 3, [0.0] * 3], [[0.0] * 3, [1.0] * 3, [0.0] * 3]],
                             dtype=torch.float64))
    B, N, M = 3, 6, 3
    w, erase, add = _heads(gen, B, 2, N, M)
    w[:, 1] = w[:, 0]
    erase[:, 0], add[:, 1] = 0.0, 0.0       # head 0 only adds, head 1 only erases: in this order it matters
    edge = (both("one head: nothing to order", (*_heads(gen, 3, 1, 5, 3),))
            + both("head 0 only adds, head 1 only erases, on the same rows", (w, erase, add),
                   "head 1 erases after head 0 added: what it erases includes head 0's add")
            + both("the same two heads in the other order: head 0 only erases, head 1 only adds",
                   (w.flip(1), erase.flip(1), add.flip(1)),
                   "an earlier head's erase cannot touch a later head's add: it ran before the add existed")
            + both("two heads on one row, but head 0 adds only where head 1 erases nothing", other_columns,
                   "the term w_0 a_0^T * w_1 e_1^T is elementwise: the same row is not enough, the same column "
                   "must be added by head 0 and erased by head 1")
            + both("three heads, head 1 elsewhere: (a) head 0 adds and head 2 erases on row 0, (b) head 0 erases "
                   "and head 1 adds on row 0", skipping, "any later head counts, not only the next one")
            + both("three heads on one cell whose effects cancel exactly", cancelling,
                   "work out the exact difference for H heads: head 0's add is erased by heads 1 and 2, head 1's by "
                   "head 2; here the terms add up to zero")
            + both("zero erase everywhere: the adds sum in any order", (_heads(gen, 2, 3, 5, 3)[0],
                                                                         torch.zeros(2, 3, 3, dtype=torch.float64),
                                                                         randn(gen, 2, 3, 3)))
            + both("zero add everywhere: the erases multiply in any order",
                   (*_heads(gen, 2, 3, 5, 3)[:2], torch.zeros(2, 3, 3, dtype=torch.float64))))
    return {"values": values, "edge cases": edge}


ORDER_MATTERS = Understanding(
    name="order_matters",
    reference=order_matters,
    build=_matters_build,
    call=_matters_call,
    only_groups=("values", "edge cases", "inputs untouched"),
    values_note="batches mixing overlapping heads, disjoint rows, zero erase, zero add; H = 2 to 4, float32 and "
                "float64; True shown as 1, False as 0",
    notes={"edge cases": "one head, the two orders of an add and an erase, the same row in other columns, "
                         "three heads that cancel, a later head that is not the next, zero erase, zero add"},
    mistakes=[
        ("sharing rows is not enough: with no erase the adds just sum, and with no add the erases multiply, in any "
         "order. Work out the difference cell by cell: it is an earlier head's add that a later head erases",
         _any_overlap),
        ("the order is reversed: head h runs before head h + 1, so it is a LATER head's erase that removes part of "
         "an EARLIER head's add; an earlier erase ran before the later add existed", _earlier_erase_later_add),
        ("every later head counts, not only the next one: head 2 erases what head 0 added even if head 1 wrote "
         "elsewhere; for H heads the difference is sum_h w_h a_h^T * (prod_{k > h} (1 - w_k e_k^T) - 1)",
         _neighbours_only),
    ],
    hint="write both updates for one cell (i, j) with the heads in turn and all-erase-then-all-add, subtract: the "
         "memory's own term is the same both ways, so the difference does not depend on the memory",
    shape_hint="return a bool tensor of shape (B,): one answer per example (e.g. difference.abs().amax(...) > tol)",
)

CHECKS = (WRITE_IN_TURN, ORDER_MATTERS)
"""This module's checks, found through the syllabus row that names the module."""
