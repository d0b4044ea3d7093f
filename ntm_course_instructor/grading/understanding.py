"""Exercises that test understanding rather than copying: each asks for something no lesson cell shows.

- ``blog_rule_s``, ``blog_rule_answers`` (exercise 05_blog_shift): translate a blog's shift rule,
  ``w[i] <- 0.3 w[i+3] + 0.5 w[i+4] + 0.2 w[i+5]``, into a shift distribution ``s`` in this course's
  convention; graded on what ``ntm_course.shift`` does with it.
- ``stable_cosine_similarity``, ``stable_sharpen`` (06_debug_nans): fix the NaNs of a zero memory row and of
  sharpening's underflow; graded on the values *and* the gradients.
- ``reverse_copy_head_params`` (07_reverse_copy): hand-program a machine that copies in reverse; graded on
  the machine's output (:func:`run_machine`).
- ``ntm_step`` (08_ntm_step): a whole memory step with several read and write heads, graded against the
  reference that ``NTMCell`` agrees with.

The checks reuse :mod:`.exercises.cases`: cases, mistakes with hints, the report. Where the learner's function
is run inside a harness (``call``), the case's inputs are the harness's, named by ``inputs``.
"""
from dataclasses import dataclass

import torch

from ntm_course import addressing
from ntm_course.handcrafted import copy_head_params, run_steps
from ntm_course.heads import address_with_params, split_head_params
from ntm_course.memory import read, write
from ntm_course.teaching.harness import run_machine
from ntm_course.teaching.practice.exercises.cases import (DTYPES, Case, Exercise, both, cast, one_hot, rand, randn,
                                                          random_cases, weighting)

from . import references


@dataclass
class Understanding(Exercise):
    """An :class:`Exercise` whose groups, argument names and group notes can be set.

    ``only_groups``: the groups scored (default: the usual ones); ``inputs``: the names of a case's arguments
    when the check runs the learner's function inside a harness; ``notes``: notes for the report's groups.
    """
    only_groups: tuple = ()
    inputs: tuple = ()
    notes: dict = None

    @property
    def arg_names(self):
        return list(self.inputs) if self.inputs else super().arg_names

    @property
    def groups(self):
        return self.only_groups or super().groups

    @property
    def group_notes(self):
        return {**super().group_notes, **(self.notes or {})}


# --- 05_blog_shift: a blog's shift rule in this course's convention ------------------------------------

def blog_rule_directly(w):
    """The blog's rule applied with ``torch.roll``: ``w[i] <- 0.3 w[i+3] + 0.5 w[i+4] + 0.2 w[i+5]`` (mod N)."""
    return 0.3 * torch.roll(w, -3, dims=1) + 0.5 * torch.roll(w, -4, dims=1) + 0.2 * torch.roll(w, -5, dims=1)


def _blog_call(fn, args):
    """``ntm_course.shift(w, s)`` with the learner's ``s = fn(K)`` (one row, used for every example)."""
    K, w = args
    s = fn(K)
    if not isinstance(s, torch.Tensor):
        raise ValueError(f"blog_rule_s({K}) must return a torch.Tensor s of shape (1, {K}), got {type(s).__name__}")
    if tuple(s.shape) != (1, K):
        raise ValueError(f"blog_rule_s({K}) must return s of shape (1, K) = (1, {K}), got {tuple(s.shape)}")
    return addressing.shift(w, s.to(w).expand(w.shape[0], K))


def _rule_s(rule, centred=True):
    """A ``blog_rule_s`` that puts ``rule[o]`` on offset o (``centred``) or on column o (not centred)."""
    def blog_rule_s(K):
        s = torch.zeros(1, K)
        for offset, weight in rule.items():
            s[0, offset + K // 2 if centred else offset] = weight
        return s
    return blog_rule_s


def _blog_build(gen):
    values = []
    for B, N, K in ((1, 6, 11), (2, 8, 11), (3, 12, 13), (2, 16, 15), (4, 20, 21), (2, 7, 11)):
        args = (K, weighting(gen, B, N))
        values += [Case(f"random w, batch {B}, N={N}, K={K}, {str(d)[6:]}", cast(args, d)) for d in DTYPES]
    direction = ("w[i+3] is the weight 3 rows *after* row i moving up to row i: in eq. 8, w~(i) = sum_j w(j) "
                 "s(i - j), the term w(i+3) has j = i + 3, so its offset is i - j = -3")
    edge = (both("K = 11, a one-hot focus on row 8 of 12: the rule moves it to rows 5, 4, 3 (0.3, 0.5, 0.2)",
                 (11, one_hot(2, 12, 8)), direction)
            + both("K = 13: column k of s is offset k - K//2, so the columns move with K", (13, weighting(gen, 2, 9)),
                   "column k of s is offset k - K//2: for K = 13, offset -3 is column 3, not 2")
            + both("N = 4, fewer rows than the offsets: indices wrap around (K = 11)", (11, weighting(gen, 3, 4)))
            + both("K = 21, wider than N = 8", (21, weighting(gen, 2, 8))))
    return {"values": values, "edge cases": edge}


BLOG_SHIFT = Understanding(
    name="blog_rule_s",
    reference=references.blog_rule_s,
    build=_blog_build,
    call=_blog_call,
    inputs=("K", "w"),
    only_groups=("values", "edge cases"),
    notes={"values": "shift(w, blog_rule_s(K)) against the rule applied directly, random w, K = 11 to 21",
           "edge cases": "a one-hot focus, K = 13 and 21, fewer rows than the offsets"},
    mistakes=[
        ("the direction is flipped: w[i+3] brings the weight of row i+3 to row i, which in eq. 8 "
         "(w~(i) = sum_j w(j) s(i - j)) is offset i - j = -3, not +3", _rule_s({3: 0.3, 4: 0.5, 5: 0.2})),
        ("the order is reversed: 0.3 goes with offset -3 and 0.2 with offset -5; column k of s is offset "
         "k - K//2, so the first of the three columns is offset -5 (weight 0.2)", _rule_s({-5: 0.3, -4: 0.5, -3: 0.2})),
        ("both the direction and the order are flipped: offset -3 (the term w[i+3]) gets 0.3, offset -5 gets 0.2",
         _rule_s({5: 0.3, 4: 0.5, 3: 0.2})),
        ("column k of s is offset k - K//2, not offset k: put offset -3 in column K//2 - 3",
         _rule_s({3: 0.3, 4: 0.5, 5: 0.2}, centred=False)),
        ("right for K = 11 only: column k of s is offset k - K//2, so the columns of -3, -4, -5 move with K",
         _rule_s({2: 0.3, 1: 0.5, 0: 0.2}, centred=False)),
    ],
    hint="s[:, k] weights offset k - K//2 and eq. 8 is w~(i) = sum_j w(j) s(i - j): the term 0.3 w[i+3] is "
         "offset -3 with weight 0.3",
    shape_hint="return s of shape (1, K): one row, one column per offset -(K//2) .. K//2",
)


def _answers_call(fn, args):
    """The learner's answers to the questions in ``args[0]`` (a tuple of keys)."""
    keys = args[0]
    answers = fn()
    if not isinstance(answers, dict):
        raise ValueError(f"blog_rule_answers() must return a dict with keys 'K', 'offsets' and 'columns', "
                         f"got {type(answers).__name__}")
    missing = [k for k in keys if k not in answers]
    if missing:
        raise ValueError(f"blog_rule_answers() must return a dict with keys 'K', 'offsets' and 'columns': "
                         f"{missing[0]!r} is missing")
    return {k: answers[k] for k in keys}


def _answers(**changes):
    return lambda: {**references.blog_rule_answers(), **changes}


K_HINT = ("s must hold offsets -5 .. +5 (the offsets run from -(K//2) to +(K//2), K odd): the widest offset "
          "is 5, so K = 2 * 5 + 1")
BLOG_ANSWERS = Understanding(
    name="blog_rule_answers",
    reference=references.blog_rule_answers,
    build=lambda gen: {"values": [Case("the smallest K", (("K",),)),
                                  Case("the offsets of 0.3, 0.5 and 0.2, in that order", (("offsets",),))],
                       "edge cases": [Case("their columns in s for the smallest K", (("columns",),))]},
    call=_answers_call,
    only_groups=("values", "edge cases"),
    notes={"values": "the smallest K and the offsets", "edge cases": "the columns of s for the smallest K"},
    mistakes=[
        (K_HINT, _answers(K=5)), (K_HINT, _answers(K=6)), (K_HINT, _answers(K=3)), (K_HINT, _answers(K=10)),
        ("the direction is flipped: in eq. 8 the term w(i+3) has j = i + 3, so its offset is i - j = -3",
         _answers(offsets=(3, 4, 5))),
        ("give the offsets in the order of the weights: 0.3 (w[i+3]), then 0.5, then 0.2",
         _answers(offsets=(-5, -4, -3))),
        ("those are the columns of offsets +3, +4, +5: column k of s is offset k - K//2, so offset -3 is column 2",
         _answers(columns=(8, 9, 10))),
        ("give the columns in the order of the weights: 0.3 (offset -3), 0.5 (offset -4), 0.2 (offset -5)",
         _answers(columns=(0, 1, 2))),
        ("column k of s is offset k - K//2 (K//2 = 5 for K = 11), not offset k", _answers(columns=(-3, -4, -5))),
    ],
    hint="K is the number of offsets -(K//2) .. K//2; the term 0.3 w[i+3] is offset -3 (eq. 8); column k is offset "
         "k - K//2",
    shape_hint="return {'K': an int, 'offsets': three ints, 'columns': three ints}",
)


# --- 06_debug_nans: NaN-free cosine similarity and sharpening -----------------------------------------

FINITE = "finite gradients (1 = yes)"


def _with_gradients(names, zero_masks):
    """``call`` for a check on values *and* gradients: ``{value, finite flag, gradient per input}``.

    Gradients of a fixed random projection of the result; entries of inputs that are exactly zero vectors
    (``zero_masks(args)``) are left out of the comparison (their gradient is a matter of convention), but every
    gradient must be finite.
    """
    def call(fn, args):
        inputs = args[:len(names)]
        for x in inputs:
            x.requires_grad_()
        out = fn(*args)
        if not isinstance(out, torch.Tensor):
            raise ValueError(f"the result must be a torch.Tensor, got {type(out).__name__}")
        if not out.requires_grad:
            raise ValueError("no gradient reaches the inputs: the result is cut off from the graph (.detach(), "
                             ".item(), NumPy or torch.tensor(...) on computed values)")
        gen = torch.Generator().manual_seed(1)
        projection = torch.randn(out.shape, generator=gen, dtype=torch.float64).to(out.dtype)
        grads = torch.autograd.grad((out * projection).sum(), inputs, allow_unused=True)
        for name, g in zip(names, grads):
            if g is None:
                raise ValueError(f"no gradient reaches {name}: it is cut off from the graph (.detach(), .item(), "
                                 f"NumPy or torch.tensor(...) on values computed from it)")
        result = {"value": out.detach(), FINITE: float(all(bool(torch.isfinite(g).all()) for g in grads))}
        for name, g, mask in zip(names, grads, zero_masks(args)):
            result[f"gradient wrt {name}"] = g.masked_fill(mask, 0.0) if mask is not None else g
        return result
    return call


def _zero_rows(x):
    """True on every entry of a row (last dim) that is entirely zero."""
    return (x == 0).all(dim=-1, keepdim=True).expand_as(x)


def _nan_to_num(fn):
    return lambda *args: torch.nan_to_num(fn(*args))


def buggy_cosine_similarity(memory, key):
    """The first attempt: the dot product over the product of the lengths, NaN on a zero row (0 / 0)."""
    return torch.einsum("bnm,bm->bn", memory, key) / (memory.norm(dim=2) * key.norm(dim=1, keepdim=True))


def _cosine_where(memory, key, eps=1e-8):
    lengths = memory.norm(dim=2) * key.norm(dim=1, keepdim=True)
    return torch.where(lengths > 0, torch.einsum("bnm,bm->bn", memory, key) / lengths, torch.zeros_like(lengths))


def _cosine_sqrt(memory, key, eps=1e-8):
    lengths = torch.sqrt((memory ** 2).sum(dim=2)) * torch.sqrt((key ** 2).sum(dim=1, keepdim=True))
    return torch.einsum("bnm,bm->bn", memory, key) / lengths.clamp_min(eps)


def _cosine_plus_eps(memory, key, eps=1e-8):
    lengths = memory.norm(dim=2) * key.norm(dim=1, keepdim=True)
    return torch.einsum("bnm,bm->bn", memory, key) / (lengths + eps)


COSINE_NAN_HINT = ("a zero row has length 0, so u.v / (|u| |v|) is 0 / 0 = NaN, in the value or, once the value "
                   "is patched, in the backward pass; clamp the denominator instead: "
                   "u.v / (|u| |v|).clamp_min(eps)")
PATCHED_HINT = ("the value is fixed but the gradient is still NaN: nan_to_num or torch.where only hide the NaN of the "
                "forward pass (the backward pass still divides by 0 at the zero row, and 0 * inf = NaN), and "
                "torch.sqrt has an infinite slope at 0; use .norm(dim=...) and clamp the denominator: "
                "u.v / (|u| |v|).clamp_min(eps)")


def _stable_cosine_edge(gen):
    zero_row = randn(gen, 2, 4, 3)
    zero_row[:, 1] = 0.0
    both_zero = randn(gen, 3, 5, 4)
    both_zero[0, 2] = 0.0
    key = randn(gen, 3, 4)
    key[1] = 0.0
    return (both("a zero memory row", (zero_row, randn(gen, 2, 3)), COSINE_NAN_HINT)
            + both("a zero key", (randn(gen, 2, 5, 3), torch.zeros(2, 3, dtype=torch.float64)), COSINE_NAN_HINT)
            + both("a zero row in one example, a zero key in another", (both_zero, key), COSINE_NAN_HINT))


STABLE_COSINE = Understanding(
    name="stable_cosine_similarity",
    reference=references.stable_cosine_similarity,
    build=lambda gen: {"values": random_cases(gen, lambda g, B, N, M, K: (randn(g, B, N, M), randn(g, B, M)),
                                              repeats=1),
                       "edge cases": _stable_cosine_edge(gen)},
    call=_with_gradients(("memory", "key"), lambda args: (_zero_rows(args[0]), _zero_rows(args[1]))),
    values_note="the values and the gradients, several batch and memory sizes, float32 and float64",
    notes={"edge cases": "a zero row, a zero key: value 0 and finite gradients"},
    mistakes=[
        (PATCHED_HINT, _nan_to_num(buggy_cosine_similarity)),
        (PATCHED_HINT, _cosine_where),
        (PATCHED_HINT, _cosine_sqrt),
        ("adding eps to the denominator shifts every similarity a little (by about eps / (|u| |v|)); clamp it "
         "instead, u.v / (|u| |v|).clamp_min(eps), which changes nothing unless the lengths are below eps",
         _cosine_plus_eps),
        ("this is the dot product: divide by the lengths of both vectors (eq. 6)",
         lambda m, k, eps=1e-8: torch.einsum("bnm,bm->bn", m, k)),
    ],
    hint="K[u, v] = u.v / (|u| |v|), with the denominator clamped to at least eps",
    shape_hint="the result is (B, N): one similarity per memory row",
)


def buggy_sharpen(w, gamma):
    """The first attempt: w^gamma / sum w^gamma, 0 / 0 = NaN once every w^gamma underflows to 0."""
    powered = w ** gamma
    return powered / powered.sum(dim=1, keepdim=True)


UNDERFLOW_HINT = ("every w(i)^gamma underflowed to 0, so the result is 0 / 0 = NaN (or 0 everywhere with an eps): "
                  "divide w by its maximum first -- eq. 9 does not change when w is scaled, and the largest "
                  "power is then 1, which cannot underflow")
LOG_HINT = ("log(0) = -inf: the value survives, but the backward pass multiplies inf by 0 (NaN); divide w by its "
            "maximum instead of taking logs")


def _stable_sharpen_edge(gen):
    near_uniform = torch.softmax(0.1 * randn(gen, 2, 512), dim=1)
    tiny = 1e-30 * weighting(gen, 3, 6, sharpness=0.5)
    zeros = torch.tensor([[0.0, 0.5, 0.5, 0.0], [0.1, 0.0, 0.9, 0.0]], dtype=torch.float64)
    return (both("512 rows, nearly uniform, gamma = 20 (each w(i)^gamma is about 1e-54)",
                 (near_uniform, torch.full((2, 1), 20.0, dtype=torch.float64)), UNDERFLOW_HINT)
            + [Case("weights of about 1e-31 (an unnormalised input), gamma = 15, float64",
                    (tiny, torch.full((3, 1), 15.0, dtype=torch.float64)), UNDERFLOW_HINT)]
            + both("zero weights stay zero, with finite gradients", (zeros, torch.tensor([[3.0], [1.0]],
                                                                                       dtype=torch.float64)), LOG_HINT)
            + both("gamma = 1 leaves a distribution unchanged",
                   (weighting(gen, 2, 5), torch.ones(2, 1, dtype=torch.float64))))


def _sharpen_eps(w, gamma):
    powered = w ** gamma
    return powered / (powered.sum(dim=1, keepdim=True) + 1e-8)


STABLE_SHARPEN = Understanding(
    name="stable_sharpen",
    reference=references.stable_sharpen,
    build=lambda gen: {"values": random_cases(gen, lambda g, B, N, M, K: (weighting(g, B, N),
                                                                       rand(g, B, 1, low=1.0, high=5.0)), repeats=1),
                       "edge cases": _stable_sharpen_edge(gen)},
    call=_with_gradients(("w", "gamma"), lambda args: (args[0] == 0, None)),
    values_note="the values and the gradients, several batch sizes and N, float32 and float64",
    notes={"edge cases": "underflow (512 rows, tiny weights), zero weights, gamma = 1"},
    mistakes=[
        ("adding eps to the denominator changes the result a little everywhere, and once every w(i)^gamma "
         "underflows it gives 0 in every row instead of a distribution: divide w by its maximum first instead "
         "(eq. 9 does not change when w is scaled, and the largest power is then 1)", _sharpen_eps),
        (UNDERFLOW_HINT, _nan_to_num(buggy_sharpen)),
        ("you did not renormalise: divide by the sum over the rows so the result is a distribution (eq. 9)",
         lambda w, gamma: (w / w.max(dim=1, keepdim=True).values) ** gamma),
    ],
    hint="w(i) = w~(i)^gamma / sum_j w~(j)^gamma, computed on w / max(w) so no power underflows",
    shape_hint="the result is (B, N) like w; gamma is (B, 1)",
)


# --- 07_reverse_copy: a hand-programmed machine, graded on its output ----------------------------------

def _reverse_variant(write_offset_reading=0, read_first=0, read_then=-1, read_while_writing=+1, erase_reading=0.0):
    """A wrong reverse-copy machine: one of the reference's choices changed."""
    def head_params(step, T, W, inputs=None, batch_size=1):
        write_params, read_params = references.reverse_copy_head_params(step, T, W, inputs, batch_size)
        B, M = batch_size, W + 1
        if step < T:
            read_params["s"] = _one_shift(read_while_writing, B)
        else:
            write_params.update(s=_one_shift(write_offset_reading, B), erase=torch.full((B, M), erase_reading))
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


REVERSE_COPY = Understanding(
    name="reverse_copy_head_params",
    reference=references.reverse_copy_head_params,
    build=_reverse_build,
    call=lambda fn, args: run_machine(fn, *args),
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
         _reverse_variant(write_offset_reading=+1, erase_reading=1.0)),
    ],
    hint="write as the copy machine does (shift +1, full erase, add the item); keep the read head beside the "
         "write head; then read with shift 0 once and -1 afterwards",
    shape_hint="return (write_params, read_params): dicts of key (B, W + 1), beta, g, gamma (B, 1), s (B, 3), "
               "and for the write head erase and add (B, W + 1)",
)


# --- 08_ntm_step: a whole memory step with several read and write heads -------------------------------

def _heads_weighting(gen, B, H, N):
    return torch.softmax(2.0 * randn(gen, B, H, N), dim=2)


def _step_args(gen, B, N, M, K, R, W):
    return (randn(gen, B, N, M), 2 * randn(gen, B, R, M + K + 3), 2 * randn(gen, B, W, 3 * M + K + 3),
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
    reference=references.ntm_step,
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

UNDERSTANDING = (BLOG_SHIFT, BLOG_ANSWERS, STABLE_COSINE, STABLE_SHARPEN, REVERSE_COPY, NTM_STEP)
