"""Exercise 09_credit_assignment: credit assignment through memory. A fixed memory machine writes an add vector at
every step and reads after it; ``write_influence`` measures how much each write moves each later step's loss,
``G[b, t, t'] = || d loss_t'[b] / d add[t][b] ||``, with one backward pass per loss. Graded on G over episodes whose
weightings copy, overwrite, erase fully or partly, or never write.
"""
import torch

from ntm_course import read, write
from ntm_course.teaching.harness import run_episode
from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Understanding, cast, rand, randn


# --- the reference answer (the machine is ntm_course.teaching.harness.run_episode) --------------------------

def write_influence(w_write, erase, add, w_read, target):
    """How much the write at step t moves the loss at step t', for every pair and example.

    The sequences are time first: ``w_write``, ``w_read (T, B, N)``; ``erase``, ``add``, ``target (T, B, M)``.
    The machine (:func:`run_episode`): memory ``(B, N, M)`` starts at zero; at each step it writes, erase then add
    (eqs. 3-4), then reads (eq. 2); ``loss_t'[b] = sum_m (r[t'][b, m] - target[t'][b, m]) ** 2``.

    Returns:
        ``G (B, T, T)``, ``G[b, t, t'] = || d loss_t'[b] / d add[t][b] ||_2`` (the Euclidean norm over the M
        features); 0 when t > t' (a write cannot move an earlier read), and 0 when a full erase between t and t'
        wiped what the write left.
    """
    T, B, _ = add.shape
    with torch.enable_grad():
        add = add.detach().requires_grad_()
        _, losses = run_episode(w_write, erase, add, w_read, target)
        G = add.new_zeros(B, T, T)
        for later in range(T):   # one backward pass per loss; examples are independent, so a sum keeps them apart
            (grad,) = torch.autograd.grad(losses[later].sum(), add, retain_graph=True)
            G[:, :, later] = grad.norm(dim=2).T
    return G.detach()


# --- the catalogued mistakes -----------------------------------------------------------------------------

def _accumulated(w_write, erase, add, w_read, target):
    """``.backward()`` once per loss without zeroing ``add.grad``: column t' holds the sum of losses 0 .. t'."""
    T, B, _ = add.shape
    add = add.detach().requires_grad_()
    _, losses = run_episode(w_write, erase, add, w_read, target)
    G = add.new_zeros(B, T, T)
    for later in range(T):
        losses[later].sum().backward(retain_graph=True)
        G[:, :, later] = add.grad.norm(dim=2).T
    return G.detach()


def _total_loss(w_write, erase, add, w_read, target):
    """The gradient of the total loss, the same for every t'."""
    T, B, _ = add.shape
    add = add.detach().requires_grad_()
    _, losses = run_episode(w_write, erase, add, w_read, target)
    (grad,) = torch.autograd.grad(losses.sum(), add)
    return grad.norm(dim=2).T.unsqueeze(2).expand(B, T, T).detach().clone()


def _swapped(w_write, erase, add, w_read, target):
    """G with its time axes swapped: ``G[b, t', t]``."""
    return write_influence(w_write, erase, add, w_read, target).transpose(1, 2).contiguous()


def _overlap_only(w_write, erase, add, w_read, target):
    """The shortcut that ignores the erases: ``2 |w_read[t'] . w_write[t]| ||r[t'] - target[t']||`` for t <= t'."""
    reads, _ = run_episode(w_write, erase, add, w_read, target)
    overlap = torch.einsum("tbn,sbn->bts", w_write, w_read).abs()        # [b, t, t'] = w_write[t] . w_read[t']
    error = 2 * (reads - target).norm(dim=2).T.unsqueeze(1)              # [b, 1, t']
    return torch.triu(overlap * error)


def _truncated(w_write, erase, add, w_read, target):
    """The memory detached between steps (truncated backpropagation): only each step's own write counts."""
    T, B, _ = add.shape
    add = add.detach().requires_grad_()
    memory = add.new_zeros(B, w_write.shape[2], add.shape[2])
    G = add.new_zeros(B, T, T)
    for t in range(T):
        memory = write(memory.detach(), w_write[t], erase[t], add[t])
        loss = ((read(memory, w_read[t]) - target[t]) ** 2).sum(dim=1)
        (grad,) = torch.autograd.grad(loss.sum(), add)
        G[:, :, t] = grad.norm(dim=2).T
    return G


def _batch_mean(w_write, erase, add, w_read, target):
    """The loss averaged over the batch: every gradient divided by B."""
    return write_influence(w_write, erase, add, w_read, target) / add.shape[1]


# --- the cases -------------------------------------------------------------------------------------------

def _one_hot(T, B, N, rows):
    """Weightings ``(T, B, N)``: one-hot on ``rows[t]`` (None: a zero weighting, no write or read)."""
    w = torch.zeros(T, B, N, dtype=torch.float64)
    for t, row in enumerate(rows):
        if row is not None:
            w[t, :, row] = 1.0
    return w


def _random_episode(gen, B, T, N, M):
    return (torch.softmax(2 * randn(gen, T, B, N), dim=2), rand(gen, T, B, M), randn(gen, T, B, M),
            torch.softmax(2 * randn(gen, T, B, N), dim=2), randn(gen, T, B, M))


def _copy_episode(gen, B, L, N, M):
    """Write items on rows 0 .. L-1 (full erase), then read them back in order, no write; targets: 0, then the
    items; the adds are half the items (an untrained writer)."""
    items = (rand(gen, L, B, M) < 0.5).to(torch.float64)
    T = 2 * L
    w_write = _one_hot(T, B, N, list(range(L)) + [None] * L)
    w_read = _one_hot(T, B, N, list(range(L)) * 2)
    erase = torch.cat([torch.ones(L, B, M, dtype=torch.float64), torch.zeros(L, B, M, dtype=torch.float64)])
    add = torch.cat([0.5 * items, randn(gen, L, B, M)])
    target = torch.cat([torch.zeros(L, B, M, dtype=torch.float64), items])
    return w_write, erase, add, w_read, target


def _both(label, args, hint=""):
    return [Case(f"{label}, {str(d)[6:]}", cast(args, d), hint) for d in DTYPES]


ERASE_HINT = ("a full erase (w = 1 on the row, e = 1) between t and t' wipes what the write at t left there: no path "
              "is left from add[t] to the read at t', so G[t, t'] = 0; let autograd follow the machine, erases and all")


def _edge(gen):
    B, N, M = 2, 4, 3
    # row 0 written at step 0, fully erased at step 2 (and rewritten), read at every step
    erased = list(_random_episode(gen, B, 5, N, M))
    erased[0] = _one_hot(5, B, N, [0, 1, 0, 2, 3])
    erased[1] = torch.ones(5, B, M, dtype=torch.float64)
    erased[3] = _one_hot(5, B, N, [0] * 5)
    # a partial erase: half of what was written survives each later write on the same row
    partial = list(_random_episode(gen, B, 4, N, M))
    partial[0], partial[1] = _one_hot(4, B, N, [1] * 4), torch.full((4, B, M), 0.5, dtype=torch.float64)
    # no write at step 0: the first read sees an empty memory
    empty = list(_random_episode(gen, B, 4, N, M))
    empty[0][0] = 0.0
    # the read at step 2 hits its target exactly: a loss at its minimum has a zero gradient
    perfect = list(_random_episode(gen, 3, 4, N, M))
    reads, _ = run_episode(*perfect)
    perfect[4][2] = reads[2]
    # an overwrite: every step writes row 2 with a full erase, and reads it
    overwrite = list(_random_episode(gen, B, 4, N, M))
    overwrite[0], overwrite[1], overwrite[3] = (_one_hot(4, B, N, [2] * 4), torch.ones(4, B, M, dtype=torch.float64),
                                                _one_hot(4, B, N, [2] * 4))
    return (_both("row 0 written at step 0, fully erased at step 2, read at every step", tuple(erased), ERASE_HINT)
            + _both("an overwrite: row 2 written with a full erase at every step and read", tuple(overwrite),
                    ERASE_HINT)
            + _both("a partial erase (e = 0.5) at every write of row 1", tuple(partial))
            + _both("no write at step 0 (a zero write weighting): add[0] moves nothing", tuple(empty))
            + _both("the read at step 2 equals its target: a loss at its minimum has a zero gradient",
                    tuple(perfect), "G[:, t, t'] is a gradient: 0 where loss_t' is at its minimum")
            + _both("a single step, T = 1", _random_episode(gen, 3, 1, 5, 2)))


def _build(gen):
    values = []
    for B, T, N, M in ((2, 4, 5, 3), (3, 6, 6, 4), (1, 5, 4, 2), (4, 3, 7, 3), (2, 8, 8, 5)):
        values += _both(f"random episode, batch {B}, T={T}, N={N}, M={M}", _random_episode(gen, B, T, N, M))
    values += _both("a copy episode, 3 items written then read back, batch 2, N=4, M=3", _copy_episode(gen, 2, 3, 4, 3))
    return {"values": values, "edge cases": _edge(gen)}


WRITE_INFLUENCE = Understanding(
    name="write_influence",
    reference=write_influence,
    build=_build,
    only_groups=("values", "edge cases"),
    notes={"values": "12 episodes: random weightings, erases and adds (batch 1 to 4, T = 3 to 8), a copy episode; "
                     "float32 and float64",
           "edge cases": "a full erase in between, an overwrite, a partial erase, no write, a loss at its minimum, "
                         "T = 1"},
    mistakes=[
        ("add.grad piles up from one loss to the next: zero it before each backward() (or use torch.autograd.grad, "
         "which returns fresh gradients), so that column t' holds the gradient of loss_t' alone", _accumulated),
        ("that is the gradient of the total loss, the same for every t': take one gradient per loss_t', keeping the "
         "graph between them (retain_graph=True)", _total_loss),
        ("the axes are swapped: G[b, t, t'] is the write at step t (axis 1) against the loss at step t' (axis 2), "
         "so G is 0 below the diagonal (t > t'), where a write comes after the read", _swapped),
        ("the overlap of the weightings w_write[t] . w_read[t'] is only part of the story: every erase between t and "
         "t' scales what the write left (a full erase wipes it), so let autograd follow the machine", _overlap_only),
        ("detaching the memory between steps (truncated backpropagation) cuts every path from an earlier write to "
         "a later loss: keep the whole graph, so that G[t, t'] for t < t' is the credit memory carries", _truncated),
        ("loss_t' of example b is its own squared error: sum the batch's losses before a backward pass (examples do "
         "not mix), don't average them, which divides every gradient by B", _batch_mean),
    ],
    hint="run the machine once with add.requires_grad_(), then for each t' take torch.autograd.grad(loss_t'.sum(), "
         "add, retain_graph=True) and its norm over the M features: that is G[:, :, t']",
    shape_hint="G has shape (B, T, T): G[b, t, t'] for the write at step t and the loss at step t'",
)

CHECKS = (WRITE_INFLUENCE,)
"""This module's checks, found through the syllabus row that names the module."""
