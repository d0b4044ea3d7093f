"""The harnesses the exercises run a learner's answer in, shared by the notebook and the instructor's grader.

:func:`run_machine` runs a hand-programmed NTM (exercise ``07_reverse_copy``): the learner sets both heads'
parameters at every step, and the machine's output is what counts. :func:`run_recall_machine` runs one that
answers an associative-recall query (exercise ``07_associative_recall``): the items, then the query, then the answer.
:func:`run_episode` runs the fixed write-then-read machine whose losses exercise ``09_credit_assignment``
differentiates.
"""
import torch

from ..checks import check_same_device_dtype, check_tensor
from ..handcrafted import run_steps, shift_distribution
from ..heads import head_param_names
from ..memory import read, write


def _checked_params(params, step, B, M, like):
    """The learner's ``(write_params, read_params)`` at one step, checked and cast to ``like``'s dtype."""
    if not (isinstance(params, (tuple, list)) and len(params) == 2 and all(isinstance(p, dict) for p in params)):
        raise ValueError(f"at step {step}: return a pair of dicts (write_params, read_params), "
                         f"got {type(params).__name__}")
    checked = []
    for head, p, keys in (("write_params", params[0], head_param_names(write=True)),
                          ("read_params", params[1], head_param_names())):
        missing = [k for k in keys if k not in p]
        if missing:
            raise ValueError(f"at step {step}: {head} is missing {missing} (a head needs {list(keys)})")
        out = {}
        for k in keys:
            value = p[k] if isinstance(p[k], torch.Tensor) else torch.as_tensor(p[k])
            width = {"key": M, "erase": M, "add": M, "s": value.shape[-1] if value.dim() else 0}.get(k, 1)
            if value.dim() != 2 or value.shape[0] != B or (k != "s" and value.shape[1] != width):
                want = "(B, K)" if k == "s" else f"(B, {'M' if width == M else 1}) = ({B}, {width})"
                raise ValueError(f"at step {step}: {head}[{k!r}] has shape {tuple(value.shape)}, expected {want}")
            out[k] = value.to(like)
        checked.append(out)
    return checked


def run_machine(head_params, sequence, N=None, trace=False):
    """Run a hand-programmed NTM: ``head_params(step, T, W, inputs, batch_size)`` sets both heads at every step.

    Memory ``(B, N, W + 1)`` starts at zero (``N = T + 1`` by default); both heads start on row ``N - 1``, one
    row before row 0. At steps ``0 .. 2T - 1``, in the order of ``NTMCell``: the write head addresses the
    memory and writes, then the read head addresses the new memory and reads. The item at step ``t < T`` is
    ``sequence[t]``, passed as ``inputs (B, W)`` (``None`` at the read steps).

    Returns:
        ``(T, B, W)``: the item part of the reads at steps ``T .. 2T - 1``; with ``trace=True`` also a dict of
        ``write_weights`` and ``read_weights (2T, B, N)`` and ``memory (2T, B, N, W + 1)``.
    """
    T, B, W = sequence.shape
    outputs, steps = run_steps(
        lambda step, inputs: _checked_params(head_params(step, T, W, inputs, B), step, B, W + 1, sequence),
        sequence, N)
    return (outputs, {k: steps[k] for k in ("write_weights", "read_weights", "memory")}) if trace else outputs


def _idle_params(B, M, like):
    """Both heads at rest: no content (g = 0), shift 0, and the write head writes nothing (erase 0, add 0)."""
    head = {"key": like.new_zeros(B, M), "beta": like.new_ones(B, 1), "g": like.new_zeros(B, 1),
            "s": shift_distribution(0, 3, batch_size=B, like=like), "gamma": like.new_ones(B, 1)}
    return dict(head, erase=like.new_zeros(B, M), add=like.new_zeros(B, M)), dict(head)


def run_recall_machine(head_params, sequence, query, N=None, trace=False):
    """Run a hand-programmed NTM on one associative-recall episode: ``head_params(step, T, W, inputs, batch_size)``
    sets both heads at every step, as in :func:`run_machine`.

    Memory ``(B, N, W + 1)`` starts at zero (``N = T + 1`` by default); both heads start on row ``N - 1``, one row
    before row 0. Steps ``0 .. T + 1``, each in the order of ``NTMCell`` (the write head addresses the memory and
    writes, then the read head addresses the new memory and reads): at step ``t < T`` the item ``sequence[t]``
    arrives as ``inputs (B, W)``; at step ``T`` the query ``(B, W)``; at step ``T + 1`` nothing (``None``), and the
    read of that step is the machine's answer.

    Returns:
        ``(B, W)``: the item part of the read at step ``T + 1``; with ``trace=True`` also a dict of
        ``write_weights`` and ``read_weights (T + 2, B, N)`` and ``memory (T + 2, B, N, W + 1)``.
    """
    check_tensor("sequence", sequence, 3, "T, B, W")
    T, B, W = sequence.shape
    if T == 0:
        raise ValueError(f"sequence must hold at least one item, got shape {tuple(sequence.shape)}")
    check_tensor("query", query, 2, "B, W", (B, W))
    check_same_device_dtype(sequence=sequence, query=query)
    N = T + 1 if N is None else N
    if N < T + 1:
        raise ValueError(f"N must be at least T + 1 = {T + 1} (the T items, and the row the heads start on), got "
                         f"N={N} for sequence of shape {tuple(sequence.shape)}")

    def params_at(step, inputs):   # steps after T + 1 only pad run_steps' 2 (T + 1) steps: the heads rest
        if step > T + 1:
            return _idle_params(B, W + 1, sequence)
        return _checked_params(head_params(step, T, W, inputs, B), step, B, W + 1, sequence)

    outputs, steps = run_steps(params_at, torch.cat([sequence, query.unsqueeze(0)]), N)
    answer = outputs[0]
    return (answer, {k: steps[k][:T + 2] for k in ("write_weights", "read_weights", "memory")}) if trace else answer


def run_episode(w_write, erase, add, w_read, target):
    """The machine: memory ``(B, N, M)`` starts at zero; at each step ``t`` it writes (eqs. 3-4, ``write``
    with ``w_write[t]``, ``erase[t]``, ``add[t]``), then reads (eq. 2, ``read`` with ``w_read[t]``).

    Returns ``(reads (T, B, M), losses (T, B))``: ``losses[t][b]`` is example b's squared error of the read against
    ``target[t]``, summed over the M features.
    """
    memory = add.new_zeros(add.shape[1], w_write.shape[2], add.shape[2])
    reads, losses = [], []
    for t in range(add.shape[0]):
        memory = write(memory, w_write[t], erase[t], add[t])
        reads.append(read(memory, w_read[t]))
        losses.append(((reads[-1] - target[t]) ** 2).sum(dim=1))
    return torch.stack(reads), torch.stack(losses)
