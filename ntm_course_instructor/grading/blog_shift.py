"""Exercise 05_blog_shift: translate a blog's shift rule, ``w[i] <- 0.3 w[i+3] + 0.5 w[i+4] + 0.2 w[i+5]``, into a
shift distribution ``s`` in this course's convention; graded on what ``ntm_course.shift`` does with it
(``blog_rule_s``), and on the reasoning (``blog_rule_answers``: the smallest K, the offsets, the columns).
"""
import torch

from ntm_course import addressing
from ntm_course.teaching.practice.exercises.cases import (DTYPES, Case, Understanding, answer_dict, both, cast, one_hot,
                                                          weighting)


# --- the reference answers ------------------------------------------------------------------------------

BLOG_RULE = {-3: 0.3, -4: 0.5, -5: 0.2}   # w[i] <- 0.3 w[i+3] + 0.5 w[i+4] + 0.2 w[i+5]: offset i - j of w(j)


def blog_rule_s(K):
    """The shift distribution ``s (1, K)`` that makes ``ntm_course.shift(w, s)`` apply the blog's rule
    ``w[i] <- 0.3 w[i+3] + 0.5 w[i+4] + 0.2 w[i+5]`` (indices modulo N), for any odd ``K >= 11``.

    Eq. 8 reads ``w~(i) = sum_j w(j) s(i - j)``: the term ``w(i + 3)`` has ``j = i + 3``, so it is offset
    ``i - j = -3``; column ``k`` of ``s`` holds offset ``k - K//2``.
    """
    s = torch.zeros(1, K)
    for offset, weight in BLOG_RULE.items():
        s[0, offset + K // 2] = weight
    return s


def blog_rule_answers():
    """The questions of exercise 05_blog_shift: the smallest K, the offsets of 0.3, 0.5 and 0.2 (in that order),
    and their columns in ``s`` when K is the smallest."""
    return {"K": 11, "offsets": (-3, -4, -5), "columns": (2, 1, 0)}


# --- the checks ----------------------------------------------------------------------------------------

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
    reference=blog_rule_s,
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
    answers = answer_dict(fn(), keys, "blog_rule_answers()", "'K', 'offsets' and 'columns'")
    return {k: answers[k] for k in keys}


def _answers(**changes):
    return lambda: {**blog_rule_answers(), **changes}


K_HINT = ("s must hold offsets -5 .. +5 (the offsets run from -(K//2) to +(K//2), K odd): the widest offset "
          "is 5, so K = 2 * 5 + 1")
BLOG_ANSWERS = Understanding(
    name="blog_rule_answers",
    reference=blog_rule_answers,
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

CHECKS = (BLOG_ANSWERS, BLOG_SHIFT)
"""This module's checks, found through the syllabus row that names the module."""
