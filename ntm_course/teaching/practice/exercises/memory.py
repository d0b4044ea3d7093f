"""The checks of the memory layer (``ntm_course.memory``): reading (eq. 2) and writing, erase then add (eqs. 3-4)."""
import torch

from .... import memory
from .cases import Exercise, Ladder, both, build_groups, one_hot, randn, weighting


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
    ladder=Ladder(
        nudge="Reading is a weighted average of the memory's rows: each row counts as much as the weighting puts "
              "on it. A one-hot weighting reads one row exactly; a spread-out one reads a blend of rows.",
        shapes="memory (B, N, M): B memories of N rows, each a vector of width M. w (B, N): one weight per row. "
               "The result is (B, M), one vector per example: the sum runs over the N rows (memory's dim 1), "
               "never over the M columns.",
        steps="for each example b:\n"
              "    r = a vector of M zeros\n"
              "    for each row i: r = r + w[b, i] times row i of memory[b]\n"
              "    the read vector of example b is r\n"
              "(no loop is needed: line w up with the rows, multiply, and sum over the row axis)"),
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
    ladder=Ladder(
        nudge="A write is two steps, like an LSTM's forget and input gates: first erase (row i keeps the fraction "
              "1 - w(i) e of each entry), then add (row i gains w(i) a). Erase before add, or the erase wipes "
              "what you just wrote.",
        shapes="memory (B, N, M); w (B, N), one weight per row; erase (B, M), entries in (0, 1), and add (B, M), "
               "one value per column. The result is the new memory, (B, N, M). w(i) e and w(i) a are outer "
               "products: w as (B, N, 1) times e or a as (B, 1, M) is (B, N, M), w running along the rows (dim 1) "
               "and e or a along the columns (dim 2). Nothing is summed: each entry (i, j) changes on its own.",
        steps="for each example, row i and column j:\n"
              "    erased = memory[i, j] * (1 - w[i] * erase[j])      (eq. 3)\n"
              "    new[i, j] = erased + w[i] * add[j]                 (eq. 4)\n"
              "return new, a fresh tensor: the memory you were given stays as it was (no in-place update)"),
)

CHECKS = (READ, WRITE)
"""This module's checks, found through the syllabus row that names the module."""
