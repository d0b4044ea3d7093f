"""The graded exercises: for each, the reference answer, the cases a check runs and the mistakes it recognises.

Each case is built in float64 from a fixed seed and cast to each dtype, so every check is deterministic.
A *mistake* is a known wrong implementation: when a learner's result on a failing case equals a mistake's
result, the check shows that mistake's hint.
"""
import inspect
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F

from .. import addressing, memory
from ..heads import split_head_params
from ..ntm import NTM
from ..tasks import copy as copy_task
from . import references

DTYPES = (torch.float32, torch.float64)
# (B, N, M, K) for the random cases: batch 1 to 4, shift widths 1 to 7, N from 4 to 8
SIZES = ((1, 5, 3, 3), (2, 6, 4, 3), (3, 7, 2, 5), (4, 4, 5, 1), (2, 8, 3, 7))


@dataclass
class Case:
    """One input to check: a label for the report, the positional arguments and a hint for this case."""
    label: str
    args: tuple
    hint: str = ""


@dataclass
class Exercise:
    """What a check needs to know about one exercise.

    ``build(gen)`` returns ``{group: [Case, ...]}``; ``mistakes`` is a list of ``(hint, wrong_fn)``;
    ``grad_args`` the positions of the arguments that gradients must reach; ``call(fn, args)`` runs a
    function on a case (by default ``fn(*args)``).
    """
    name: str
    reference: Callable
    build: Callable
    mistakes: list = field(default_factory=list)
    hint: str = ""
    shape_hint: str = ""
    edge_note: str = ""
    values_note: str = "several batch and memory sizes, float32 and float64"
    grad_args: tuple = ()
    call: Callable = staticmethod(lambda fn, args: fn(*args))
    _cases: dict = None

    @property
    def arg_names(self):
        return list(inspect.signature(self.reference).parameters)

    @property
    def groups(self):
        groups = ("values", "edge cases", "gradients", "inputs untouched")
        return groups if self.grad_args else tuple(g for g in groups if g != "gradients")

    def cases(self, group):
        if self._cases is None:
            self._cases = self.build(torch.Generator().manual_seed(0))
        return self._cases.get(group, [])

    @property
    def group_notes(self):
        return {"values": f"{len(self.cases('values'))} random cases ({self.values_note})",
                "edge cases": self.edge_note, "gradients": "float64, compared with the reference's"}

    def signature(self):
        return f"{self.name}{inspect.signature(self.reference)}"

    def error_hint(self, error):
        """A hint for an exception raised by the learner's code."""
        text = str(error)
        if isinstance(error, TypeError) and "argument" in text:
            return f"your function must take the same arguments as the library's: {self.signature()}"
        if "numpy" in text.lower():
            return "keep everything in torch: gradients cannot flow through NumPy arrays"
        if "in-place" in text or "leaf Variable" in text:
            return "an in-place operation (x.mul_(y), x *= y, x[i] = ...) modified a tensor autograd needs"
        if "dtype" in text or ("Double" in text and "Float" in text):
            return "create new tensors with the inputs' dtype (torch.zeros_like, x.new_zeros, dtype=x.dtype)"
        if any(word in text for word in ("size", "shape", "dimension", "mat1", "broadcast")):
            return self.shape_hint or "print the shapes of your intermediate tensors"
        return self.hint


# --- random inputs, built in float64 -----------------------------------------------------------------

def randn(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def rand(gen, *shape, low=0.0, high=1.0):
    return low + (high - low) * torch.rand(*shape, generator=gen, dtype=torch.float64)


def weighting(gen, B, N, sharpness=2.0):
    """A random, non-uniform distribution over N rows."""
    return torch.softmax(sharpness * randn(gen, B, N), dim=1)


def one_hot(B, N, index):
    w = torch.zeros(B, N, dtype=torch.float64)
    w[:, index] = 1.0
    return w


def cast(args, dtype):
    return tuple(a.to(dtype) if isinstance(a, torch.Tensor) else a for a in args)


def sizes_label(B, N, M, K, uses_k):
    return f"batch {B}, N={N}, M={M}" + (f", K={K}" if uses_k else "")


def random_cases(gen, make, repeats=2, sizes=SIZES, uses_k=False):
    """Cases from ``make(gen, B, N, M, K) -> args`` for every size, float32 and float64."""
    cases = []
    for _ in range(repeats):
        for B, N, M, K in sizes:
            args = make(gen, B, N, M, K)
            for dtype in DTYPES:
                cases.append(Case(f"random, {sizes_label(B, N, M, K, uses_k)}, {str(dtype)[6:]}",
                                  cast(args, dtype)))
    return cases


def grad_cases(gen, make, uses_k=False):
    return [Case(f"gradients, {sizes_label(B, N, M, K, uses_k)}, float64", make(gen, B, N, M, K))
            for B, N, M, K in ((2, 6, 4, 3), (3, 5, 3, 5))]


def build_groups(make, edge, uses_k=False):
    """``build(gen)`` for an exercise: random and gradient cases from ``make``, edge cases from ``edge(gen)``.
    ``uses_k``: the shift width K matters (it is then named in the cases' labels)."""
    def build(gen):
        return {"values": random_cases(gen, make, uses_k=uses_k), "edge cases": edge(gen),
                "gradients": grad_cases(gen, make, uses_k)}
    return build


def both(label, args, hint=""):
    """The same edge case in float32 and float64."""
    return [Case(f"{label}, {str(d)[6:]}", cast(args, d), hint) for d in DTYPES]


# --- cosine similarity and content addressing (eqs. 5-6) --------------------------------------------

ZERO_HINT = ("a zero vector has no direction: its similarity must be 0, not NaN -- divide by the product of the "
             "lengths clamped to a small eps (e.g. 1e-8)")


def _cosine_edge(gen):
    key = randn(gen, 2, 3)
    parallel = torch.stack([2 * key, -key, randn(gen, 2, 3), 0.5 * key], dim=1)
    zero_row = randn(gen, 2, 4, 3)
    zero_row[:, 1] = 0.0
    return (both("zero key", (randn(gen, 2, 4, 3), torch.zeros(2, 3, dtype=torch.float64)), ZERO_HINT)
            + both("a zero memory row", (zero_row, randn(gen, 2, 3)), ZERO_HINT)
            + both("rows parallel (1), opposite (-1) and longer than the key", (parallel, key),
                   "cosine similarity ignores length: 2k and 0.5k both score 1 against k, -k scores -1"))


def _bmm(memory_, key):
    return torch.bmm(memory_, key.unsqueeze(2)).squeeze(2)


COSINE = Exercise(
    name="cosine_similarity",
    reference=addressing.cosine_similarity,
    build=build_groups(lambda g, B, N, M, K: (randn(g, B, N, M), randn(g, B, M)), _cosine_edge),
    mistakes=[
        ("this is the dot product: divide by the lengths of both vectors (eq. 6), so only the direction counts",
         _bmm),
        ("you divided by the key's length only: divide by each row's length too",
         lambda m, k: _bmm(m, k) / k.norm(dim=1, keepdim=True)),
        ("you divided by the rows' lengths only: divide by the key's length too",
         lambda m, k: _bmm(m, k) / m.norm(dim=2)),
    ],
    hint="K[u, v] = u.v / (|u| |v|): one dot product per memory row, divided by both lengths",
    shape_hint="the result is (B, N): one similarity per memory row; memory is (B, N, M), key (B, M)",
    edge_note="zero vectors, parallel and opposite rows",
    grad_args=(0, 1),
)


def _content(memory_, key, beta, similarity=addressing.cosine_similarity, dim=1):
    return torch.softmax(beta * similarity(memory_, key), dim=dim)


def _content_args(g, B, N, M, K):
    return randn(g, B, N, M), randn(g, B, M), rand(g, B, 1, low=0.5, high=10.0)


def _content_edge(gen):
    m, k = randn(gen, 3, 5, 4), randn(gen, 3, 4)
    return (both("strong focus, beta = 200", (m, k, torch.full((3, 1), 200.0, dtype=torch.float64)),
                 "exp(200) overflows: use torch.softmax, which subtracts the maximum before exponentiating")
            + both("zero key: every row equally similar", (m, torch.zeros(3, 4, dtype=torch.float64),
                                                           rand(gen, 3, 1, high=5.0)), ZERO_HINT)
            + both("a different beta for each example", (m, k, torch.tensor([[0.1], [1.0], [20.0]],
                                                                            dtype=torch.float64))))


CONTENT = Exercise(
    name="content_addressing",
    reference=addressing.content_addressing,
    build=build_groups(_content_args, _content_edge),
    mistakes=[
        ("beta is missing: multiply the similarities by the key strength beta before the softmax (eq. 5)",
         lambda m, k, b: _content(m, k, 1.0)),
        ("the softmax runs over the wrong axis: normalise over the N memory rows (dim=1), not over the batch",
         lambda m, k, b: _content(m, k, b, dim=0)),
        ("this uses the dot product: eq. 5 uses the cosine similarity K[k, M(i)] of eq. 6", 
         lambda m, k, b: _content(m, k, b, _bmm)),
        ("beta multiplies the weighting after the softmax: it belongs inside, exp(beta * K)",
         lambda m, k, b: b * _content(m, k, 1.0)),
    ],
    hint="w_c(i) = exp(beta K[k, M(i)]) / sum_j exp(beta K[k, M(j)]): a softmax over the rows of beta times "
         "the cosine similarity",
    shape_hint="the result is (B, N): one weight per memory row, a softmax over dim 1",
    edge_note="large beta, zero key, one beta per example",
    grad_args=(0, 1, 2),
)


# --- reading and writing (eqs. 2-4) -------------------------------------------------------------------

def _read_edge(gen):
    m = randn(gen, 2, 5, 3)
    square = randn(gen, 2, 4, 4)
    return (both("one-hot weighting on row 3 reads row 3 exactly", (m, one_hot(2, 5, 3)))
            + both("uniform weighting reads the mean of the rows", (m, torch.full((2, 5), 0.2, dtype=torch.float64)))
            + both("square memory, N = M = 4", (square, weighting(gen, 2, 4)),
                   "with N = M a wrong axis goes unnoticed by the shapes: weight the rows (dim 1) by w"))


READ = Exercise(
    name="read",
    reference=memory.read,
    build=build_groups(lambda g, B, N, M, K: (randn(g, B, N, M), weighting(g, B, N)), _read_edge),
    mistakes=[
        ("you weighted the M columns instead of the N rows: r = sum_i w(i) M(i) sums over the rows (dim 1)",
         lambda m, w: (m * w.unsqueeze(1)).sum(dim=2)),
        ("this is the plain sum of the rows: weight each row by w(i) first",
         lambda m, w: m.sum(dim=1)),
    ],
    hint="r = sum_i w(i) M(i): weight each of the N rows by w(i), then sum over the rows",
    shape_hint="the read vector is (B, M): weight each of the N rows (memory's dim 1) by w, then sum over the rows",
    edge_note="one-hot and uniform weightings, square memory",
    grad_args=(0, 1),
)


def _outer(w, v):
    return w.unsqueeze(2) * v.unsqueeze(1)          # (B, N, 1) * (B, 1, M)


def _write_args(g, B, N, M, K):
    return (randn(g, B, N, M), weighting(g, B, N), torch.sigmoid(randn(g, B, M)), torch.tanh(randn(g, B, M)))


def _write_edge(gen):
    m, a = randn(gen, 2, 5, 3), torch.tanh(randn(gen, 2, 3))
    ones, zeros = torch.ones(2, 3, dtype=torch.float64), torch.zeros(2, 3, dtype=torch.float64)
    return (both("one-hot write with erase = 1 replaces row 2 by the add vector", (m, one_hot(2, 5, 2), ones, a))
            + both("erase = 0 only adds", (m, weighting(gen, 2, 5), zeros, a))
            + both("zero weighting leaves memory unchanged", (m, torch.zeros(2, 5, dtype=torch.float64), ones, a)))


WRITE = Exercise(
    name="write",
    reference=memory.write,
    build=build_groups(_write_args, _write_edge),
    mistakes=[
        ("you added before erasing: erase first (eq. 3), then add (eq. 4), or the erase wipes what you just added",
         lambda m, w, e, a: (m + _outer(w, a)) * (1 - _outer(w, e))),
        ("the erase ignores the weighting: row i is erased by w(i) e, M(i) [1 - w(i) e]",
         lambda m, w, e, a: m * (1 - e.unsqueeze(1)) + _outer(w, a)),
        ("nothing is erased: apply eq. 3, M(i) [1 - w(i) e], before adding",
         lambda m, w, e, a: m + _outer(w, a)),
        ("the add ignores the weighting: row i receives w(i) a",
         lambda m, w, e, a: m * (1 - _outer(w, e)) + a.unsqueeze(1)),
    ],
    hint="M~(i) = M(i) [1 - w(i) e] (erase), then M(i) = M~(i) + w(i) a (add): both are outer products w e^T, w a^T",
    shape_hint="the new memory is (B, N, M): w(i) e and w(i) a are outer products, (B, N, 1) * (B, 1, M)",
    edge_note="full erase of one row, erase = 0, zero weighting",
    grad_args=(0, 1, 2, 3),
)


# --- interpolation, shift, sharpening (eqs. 7-9) and the pipeline -------------------------------------

def _interpolate_edge(gen):
    wc, wp = weighting(gen, 3, 5), weighting(gen, 3, 5)
    return (both("g = 0 keeps the previous weighting", (wc, wp, torch.zeros(3, 1, dtype=torch.float64)))
            + both("g = 1 takes the content weighting", (wc, wp, torch.ones(3, 1, dtype=torch.float64)))
            + both("g = 0, 0.5, 1 across the batch", (wc, wp, torch.tensor([[0.0], [0.5], [1.0]],
                                                                              dtype=torch.float64))))


INTERPOLATE = Exercise(
    name="interpolate",
    reference=addressing.interpolate,
    build=build_groups(lambda g, B, N, M, K: (weighting(g, B, N), weighting(g, B, N), rand(g, B, 1)),
                       _interpolate_edge),
    mistakes=[
        ("g is swapped: g = 1 must take the *content* weighting, w_g = g w_c + (1 - g) w_prev (eq. 7)",
         lambda wc, wp, g: (1 - g) * wc + g * wp),
    ],
    hint="w_g = g w_c + (1 - g) w_prev: g (B, 1) broadcasts over the N rows",
    shape_hint="the result is (B, N); g is (B, 1) and broadcasts over the rows",
    edge_note="g = 0, g = 1, a different g per example",
    grad_args=(0, 1, 2),
)


def _zero_padded_shift(w, s):
    """The classic mistake: a shift that falls off the ends instead of wrapping around."""
    K, N = s.shape[1], w.shape[1]
    out = torch.zeros_like(w)
    for k in range(K):
        o = k - K // 2
        if abs(o) < N:
            moved = torch.zeros_like(w)
            if o >= 0:
                moved[:, o:] = w[:, :N - o]
            else:
                moved[:, :N + o] = w[:, -o:]
            out = out + s[:, k:k + 1] * moved
    return out


def _shift_one_hot(K, offset, B=2):
    s = torch.zeros(B, K, dtype=torch.float64)
    s[:, offset + K // 2] = 1.0
    return s


def _shift_edge(gen):
    direction = "offset +1 moves the focus from row i to row i+1: s[:, k] weights offset k - K//2"
    return (both("focus on row 1, shift +1 (K=3): focus moves to row 2", (one_hot(2, 5, 1), _shift_one_hot(3, 1)),
                 direction)
            + both("focus on the last row, shift +1: wraps around to row 0", (one_hot(2, 5, 4), _shift_one_hot(3, 1)),
                   "the shift is circular (indices modulo N): what leaves the last row enters row 0")
            + both("shift -2 with K=5", (weighting(gen, 2, 6), _shift_one_hot(5, -2)), direction)
            + both("K=1: the identity", (weighting(gen, 2, 6), torch.ones(2, 1, dtype=torch.float64)),
                   "with K=1 the only offset is 0")
            + both("K=5 wider than N=3: offsets wrap around", (weighting(gen, 2, 3),
                                                               torch.softmax(randn(gen, 2, 5), dim=1)),
                   "indices are modulo N, so offsets +2 and -1 land on the same row when N=3"))


SHIFT = Exercise(
    name="shift",
    reference=addressing.shift,
    build=build_groups(lambda g, B, N, M, K: (weighting(g, B, N), torch.softmax(randn(g, B, K), dim=1)),
                       _shift_edge, uses_k=True),
    values_note="several batch sizes and shift widths K, float32 and float64",
    mistakes=[
        ("your shift goes the wrong way: s[:, k] weights offset k - K//2, and offset +1 must move the focus "
         "from row i to row i+1 (w~(i) = sum_j w(j) s(i - j))",
         lambda w, s: addressing.shift(w, s.flip(1))),
        ("the shift is not circular: weight that moves past the last row must wrap around to row 0 "
         "(indices modulo N)", _zero_padded_shift),
    ],
    hint="w~(i) = sum_j w(j) s(i - j), indices modulo N: for each offset o, roll w by o and weight it by s",
    shape_hint="the result is (B, N) like w; s is (B, K) with one weight per offset -(K//2) .. +(K//2)",
    edge_note="direction, wrap-around, K=1, K=5, K wider than N",
    grad_args=(0, 1),
)


def _sharpen_edge(gen):
    uneven = torch.tensor([[0.2, 0.3, 0.1, 0.6], [0.5, 0.5, 0.5, 0.5]], dtype=torch.float64)
    return (both("gamma = 1 leaves a distribution unchanged", (weighting(gen, 2, 5), torch.ones(2, 1, dtype=torch.float64)))
            + both("zero weights stay zero", (torch.tensor([[0.0, 0.5, 0.5, 0.0], [0.1, 0.0, 0.9, 0.0]],
                                                           dtype=torch.float64), torch.full((2, 1), 3.0, dtype=torch.float64)))
            + both("gamma = 30 is nearly one-hot", (weighting(gen, 2, 5), torch.full((2, 1), 30.0, dtype=torch.float64)))
            + both("an input that does not sum to 1", (uneven, torch.tensor([[2.0], [1.5]], dtype=torch.float64)),
                   "divide by the sum of the powered weights, so the result sums to 1 whatever the input")
            + both("tiny weights, gamma = 50: a uniform weighting over 12 rows stays uniform",
                   (torch.full((2, 12), 1 / 12, dtype=torch.float64), torch.full((2, 1), 50.0, dtype=torch.float64)),
                   "(1/12) ** 50 is about 1e-54, below float32's smallest number: every power underflows to 0 and "
                   "0/0 is NaN. Divide w by its maximum first: eq. 9's result does not change"))


SHARPEN = Exercise(
    name="sharpen",
    reference=addressing.sharpen,
    build=build_groups(lambda g, B, N, M, K: (weighting(g, B, N), rand(g, B, 1, low=1.0, high=5.0)),
                       _sharpen_edge),
    mistakes=[
        ("you did not renormalise: divide w^gamma by its sum over the rows so it is a distribution again (eq. 9)",
         lambda w, gamma: w ** gamma),
        ("gamma multiplies instead of raising to a power: w(i)^gamma sharpens, gamma w(i) cancels in the "
         "normalisation", lambda w, gamma: w / w.sum(dim=1, keepdim=True)),
        ("this is a softmax of gamma w: eq. 9 raises w to the power gamma, w^gamma / sum w^gamma",
         lambda w, gamma: torch.softmax(gamma * w, dim=1)),
    ],
    hint="w(i) = w~(i)^gamma / sum_j w~(j)^gamma: raise to the power gamma, then divide by the sum over the rows",
    shape_hint="the result is (B, N) like w; gamma is (B, 1)",
    edge_note="gamma = 1, zeros, large gamma, unnormalised input, tiny weights (underflow)",
    grad_args=(0, 1),
)


def _address_args(g, B, N, M, K):
    return (randn(g, B, N, M), randn(g, B, M), rand(g, B, 1, high=5.0), rand(g, B, 1),
            torch.softmax(randn(g, B, K), dim=1), rand(g, B, 1, low=1.0, high=4.0), weighting(g, B, N))


def _address_edge(gen):
    m, k, wp = randn(gen, 2, 6, 3), randn(gen, 2, 3), weighting(gen, 2, 6)
    one, zero = torch.ones(2, 1, dtype=torch.float64), torch.zeros(2, 1, dtype=torch.float64)
    return (both("g = 0, no shift, gamma = 1: the previous weighting", (m, k, one, zero, _shift_one_hot(3, 0),
                                                                         one, wp))
            + both("g = 1, shift +1: content focus moved one row on", (m, k, 50 * one, one, _shift_one_hot(3, 1),
                                                                        one, wp))
            + both("zero key, g = 1", (m, torch.zeros(2, 3, dtype=torch.float64), one, one,
                                       torch.softmax(randn(gen, 2, 3), dim=1), 2 * one, wp), ZERO_HINT))


def _pipeline(order):
    """The addressing stages in another order, or with one left out: recognisable wrong pipelines."""
    def address(m, k, beta, g, s, gamma, wp):
        steps = {"interpolate": lambda w: addressing.interpolate(w, wp, g),
                 "shift": lambda w: addressing.shift(w, s), "sharpen": lambda w: addressing.sharpen(w, gamma)}
        w = addressing.content_addressing(m, k, beta)
        for step in order:
            w = steps[step](w)
        return w
    return address


ADDRESS = Exercise(
    name="address",
    reference=addressing.address,
    build=build_groups(_address_args, _address_edge, uses_k=True),
    values_note="several batch and memory sizes and shift widths K, float32 and float64",
    mistakes=[
        ("the shift is missing: content, interpolate, *shift*, sharpen", _pipeline(("interpolate", "sharpen"))),
        ("the sharpening is missing: content, interpolate, shift, *sharpen*", _pipeline(("interpolate", "shift"))),
        ("the interpolation is missing: blend with w_prev by g before shifting",
         _pipeline(("shift", "sharpen"))),
        ("the stages are in the wrong order: content (eq. 5), interpolate (7), shift (8), sharpen (9)",
         _pipeline(("shift", "interpolate", "sharpen"))),
        ("the stages are in the wrong order: sharpen (eq. 9) comes after the shift (eq. 8)",
         _pipeline(("interpolate", "sharpen", "shift"))),
    ],
    hint="chain the four stages: content_addressing -> interpolate -> shift -> sharpen",
    shape_hint="the result is (B, N), one weight per memory row",
    edge_note="pure location addressing, pure content addressing, zero key",
    grad_args=(0, 1, 2, 3, 4, 5, 6),
)


# --- head parameters, one NTM step, one training step -------------------------------------------------

def _params_wrong(change):
    """split_head_params with one activation replaced: ``change(params, raw_parts) -> params``."""
    def wrong(raw, M, K, write=False, clip=20.0):
        params = split_head_params(raw, M, K, write, clip)
        raw = raw if clip is None else raw.clamp(-clip, clip)
        cut = torch.split(raw, [M, 1, 1, K, 1] + ([M, M] if write else []), dim=1)
        return {**params, **change(dict(zip(["key", "beta", "g", "s", "gamma", "erase", "add"], cut)))}
    return wrong


def _raw_args(g, B, N, M, K, write):
    return (3 * randn(g, B, (3 if write else 1) * M + K + 3), M, K, write, 20.0)


def _params_build(gen):
    values = [c for write in (False, True)
              for c in random_cases(gen, lambda g, B, N, M, K: _raw_args(g, B, N, M, K, write), repeats=1,
                                    uses_k=True)]
    edge = (both("raw values beyond the clip (+-50), write head", (50 * torch.sign(randn(gen, 2, 3 * 3 + 3 + 3)),
                                                                    3, 3, True, 20.0),
                 "clamp the raw vector to [-clip, clip] before the activations")
            + both("clip = 2", (5 * randn(gen, 3, 2 + 5 + 3), 2, 5, False, 2.0),
                   "clamp the raw vector to [-clip, clip] before the activations")
            + both("K = 1, batch 4", (randn(gen, 4, 3 + 1 + 3), 3, 1, False, 20.0)))
    grads = [Case("gradients, write head, batch 3, M=3, K=3, float64", _raw_args(gen, 3, 0, 3, 3, True)),
             Case("gradients, read head, batch 2, M=4, K=5, float64", _raw_args(gen, 2, 0, 4, 5, False))]
    return {"values": values, "edge cases": edge, "gradients": grads}


SPLIT_HEAD_PARAMS = Exercise(
    name="split_head_params",
    reference=split_head_params,
    build=_params_build,
    mistakes=[
        ("s: the softmax runs over the wrong axis -- normalise over the K shift weights (dim=1), not the batch",
         _params_wrong(lambda p: {"s": torch.softmax(p["s"], dim=0)})),
        ("gamma must be at least 1 (eq. 9 only sharpens): use 1 + softplus, not softplus alone",
         _params_wrong(lambda p: {"gamma": F.softplus(p["gamma"])})),
        ("beta: use softplus, which is positive and grows linearly; exp explodes, sigmoid caps beta at 1",
         _params_wrong(lambda p: {"beta": torch.exp(p["beta"])})),
        ("beta: use softplus, which is positive and grows linearly; exp explodes, sigmoid caps beta at 1",
         _params_wrong(lambda p: {"beta": torch.sigmoid(p["beta"])})),
        ("g and the erase vector lie in (0, 1): use a sigmoid",
         _params_wrong(lambda p: {"g": F.softplus(p["g"])})),
        ("the raw vector is not clipped: clamp it to [-clip, clip] before the activations",
         lambda raw, M, K, write=False, clip=20.0: split_head_params(raw, M, K, write, None)),
    ],
    hint="cut raw into key (M), beta (1), g (1), s (K), gamma (1) [, erase (M), add (M)] in that order, then "
         "apply: identity, softplus, sigmoid, softmax, 1 + softplus [, sigmoid, tanh]",
    shape_hint="return a dict with key (B, M), beta (B, 1), g (B, 1), s (B, K), gamma (B, 1), and for a write "
               "head erase (B, M) and add (B, M)",
    edge_note="clipping, K = 1",
    values_note="read and write heads, several batch sizes, M and K, float32 and float64",
    grad_args=(0,),
)


@dataclass
class ModelRecipe:
    """How a train_step case builds its tiny NTM (shown in reports instead of a whole model)."""
    seed: int
    N: int = 6
    M: int = 4

    def build(self):
        with torch.random.fork_rng(devices=[]):   # seeds its own draw: the learner's global RNG is left alone
            torch.manual_seed(self.seed)
            return NTM(4, 3, controller="feedforward", controller_size=8, N=self.N, M=self.M).double()

    def __repr__(self):
        return f"NTM(4, 3, controller='feedforward', controller_size=8, N={self.N}, M={self.M}), float64"


@dataclass
class OptimizerRecipe:
    """The optimizer a train_step case hands the learner: plain SGD on the model's parameters."""
    lr: float = 0.5

    def build(self, model):
        return torch.optim.SGD(model.parameters(), lr=self.lr)

    def __repr__(self):
        return f"torch.optim.SGD(model.parameters(), lr={self.lr})"


def _two_steps(fn, args):
    """Run ``fn`` twice on one model and optimizer: the two losses and the parameters afterwards, by name."""
    recipe, optimizer_recipe, inputs, targets, mask, clip = args
    model = recipe.build()
    optimizer = optimizer_recipe.build(model)
    losses = [fn(model, optimizer, inputs, targets, mask, clip) for _ in range(2)]
    return {"loss of step 1": losses[0], "loss of step 2": losses[1],
            **{f"{name} after step 2": p.detach().clone() for name, p in model.named_parameters()}}


def _train_case(gen, label, seed, batch_size, clip, max_length=2, hint=""):
    batch = copy_task(batch_size, 1, max_length, width=3, generator=gen)
    return Case(label, (ModelRecipe(seed), OptimizerRecipe(0.5), batch.inputs.double(), batch.targets.double(),
                        batch.mask.double(), clip), hint)


def _train_build(gen):
    values = [_train_case(gen, f"copy, batch {B}, lengths 1-2, clip 10", seed, B, 10.0)
              for seed, B in ((0, 1), (1, 5))]
    edge = [_train_case(gen, "clip = 0.01: the clipping decides the step", 3, 4, 0.01,
                        hint="clip each gradient element to [-clip, clip] after backward() and before step()"),
            _train_case(gen, "padded batch: lengths 1-4, most steps unscored", 4, 6, 10.0, max_length=4,
                        hint="only the steps where mask is 1 count: use bits_per_sequence(logits, targets, mask)")]
    return {"values": values, "edge cases": edge}


def _train_wrong(zero_grad=True, clip="value", loss="bits"):
    def wrong(model, optimizer, inputs, targets, mask, clip_value=10.0):
        if zero_grad:
            optimizer.zero_grad()
        logits = model(inputs)
        if loss == "bits":
            value = references.bits_per_sequence(logits, targets, mask)
        elif loss == "unmasked":
            value = references.bits_per_sequence(logits, targets, torch.ones_like(mask))
        else:
            value = F.binary_cross_entropy_with_logits(logits, targets)
        value.backward()
        if clip == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value)
        elif clip == "norm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_value)
        optimizer.step()
        return value.item()
    return wrong


TRAIN_STEP = Exercise(
    name="train_step",
    reference=references.train_step,
    build=_train_build,
    call=_two_steps,
    mistakes=[
        ("gradients pile up from step to step: call optimizer.zero_grad() before backward()",
         _train_wrong(zero_grad=False)),
        ("the gradients are not clipped: torch.nn.utils.clip_grad_value_(model.parameters(), clip) between "
         "backward() and step()", _train_wrong(clip=None)),
        ("the paper clips each gradient element to [-clip, clip] (clip_grad_value_), not the gradient's norm",
         _train_wrong(clip="norm")),
        ("the loss counts every step: only the steps where mask is 1 are scored", _train_wrong(loss="unmasked")),
        ("the loss is a mean over every bit: the cost is in bits per sequence -- use "
         "ntm_course.tasks.bits_per_sequence(logits, targets, mask)", _train_wrong(loss="mean")),
    ],
    hint="zero_grad, logits = model(inputs), loss = bits_per_sequence(logits, targets, mask), backward, "
         "clip_grad_value_, step, return loss.item()",
    shape_hint="return the loss as a Python float (loss.item())",
    edge_note="strong clipping, padded episodes",
    values_note="two steps of SGD on a tiny NTM, float64: the losses and the parameters afterwards",
)
