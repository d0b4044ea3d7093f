"""Exercise 05_scalar_shift: the paper's other shift (section 3.3.2). The controller emits one scalar ``a``, the lower
bound of a width-one uniform distribution over the shifts: ``a = 6.7`` puts 0.3 on offset 6 and 0.7 on offset 7.
The learner turns ``a (B, 1)`` into ``s (B, K)`` in this course's convention; graded as a function and plugged
into the machine: the check's harness returns ``s`` and ``ntm_course.shift(w, s)`` on a weighting of the case, so
a column convention the wrong way round shows as a focus moving the wrong way.
"""
import torch

from ntm_course import addressing
from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Understanding, cast, one_hot, rand, weighting


# --- the reference answer -------------------------------------------------------------------------------

def scalar_shift(a, K):
    """The shift distribution ``s (B, K)`` of one scalar per example, ``a (B, 1)``: the lower bound of a width-one
    uniform distribution over the offsets -(K//2) .. K//2, after ``a`` is clamped into [-(K//2), K//2].

    The interval ``[a, a + 1]`` covers ``[floor(a), floor(a) + 1)`` for ``1 - frac`` and ``[floor(a) + 1, a + 1]``
    for ``frac = a - floor(a)``: offset ``floor(a)`` gets ``1 - frac``, offset ``floor(a) + 1`` gets ``frac``.
    Column ``k`` of ``s`` holds offset ``k - K//2``. Differentiable in ``a`` between integers (inside the clamp).
    """
    if K % 2 != 1 or K < 1:
        raise ValueError(f"the shift width K must be odd and positive, got K={K}")
    if not isinstance(a, torch.Tensor) or a.dim() != 2 or a.shape[1] != 1:
        raise ValueError(f"a must be a tensor of shape (B, 1), got {tuple(getattr(a, 'shape', ()))}")
    a = a.clamp(-(K // 2), K // 2)
    low = torch.floor(a)
    frac = a - low
    offsets = torch.arange(-(K // 2), K // 2 + 1, dtype=a.dtype, device=a.device)
    return (offsets == low) * (1 - frac) + (offsets == low + 1) * frac


# --- the check -----------------------------------------------------------------------------------------

def _call(fn, args):
    """``(s, ntm_course.shift(w, s))`` with the learner's ``s = fn(a, K)``: the function and the machine."""
    a, K, w = args
    s = fn(a, K)
    if not isinstance(s, torch.Tensor):
        raise ValueError(f"scalar_shift(a, {K}) must return a torch.Tensor s of shape (B, K) = "
                         f"({a.shape[0]}, {K}), got {type(s).__name__}")
    if tuple(s.shape) != (a.shape[0], K):
        raise ValueError(f"scalar_shift(a, {K}) must return s of shape (B, K) = ({a.shape[0]}, {K}), "
                         f"got {tuple(s.shape)}")
    return s, addressing.shift(w.to(dtype=s.dtype, device=s.device), s)


def _variant(floor=torch.floor, centred=True, swapped=False):
    """A wrong ``scalar_shift``: one of the reference's choices changed (a column index wraps around as Python's
    negative indices do)."""
    def scalar_shift(a, K):
        a = a.clamp(-(K // 2), K // 2)
        low = floor(a)
        frac = a - low
        lower, upper = (frac, 1 - frac) if swapped else (1 - frac, frac)
        column = low.long() + (K // 2 if centred else 0)
        columns = torch.arange(K, device=a.device)
        return ((columns == column % K) * lower + (columns == (column + 1) % K) * upper).to(a.dtype)
    return scalar_shift


def _rounded(a, K):
    """One offset only: ``a`` rounded to the nearest integer, a one-hot ``s``."""
    offset = torch.round(a.clamp(-(K // 2), K // 2)).long() + K // 2
    return (torch.arange(K, device=a.device) == offset).to(a.dtype)


def _triangle_unclamped(a, K):
    """The width-one distribution without the clamp: weights fall off the ends when ``|a| > K//2``."""
    offsets = torch.arange(-(K // 2), K // 2 + 1, dtype=a.dtype, device=a.device)
    return torch.relu(1 - (offsets - a).abs())


def _ceil_assigned(a, K):
    """``s[floor(a)] = 1 - frac`` then ``s[ceil(a)] = frac``, assigned: at an integer ``a`` both are one column and
    the second assignment (weight 0) overwrites the first."""
    a = a.clamp(-(K // 2), K // 2)
    low, high = torch.floor(a), torch.ceil(a)
    frac = a - low
    offsets = torch.arange(-(K // 2), K // 2 + 1, dtype=a.dtype, device=a.device)
    s = (offsets == low) * (1 - frac)
    return torch.where(offsets == high, frac, s)


def _scalars(gen, B, K):
    """``a (B, 1)``, real values inside the clamp [-(K//2), K//2]."""
    return rand(gen, B, 1, low=-(K // 2), high=K // 2)


def _case(label, a, K, w, hint=""):
    return [Case(f"{label}, {str(d)[6:]}", cast((a, K, w), d), hint) for d in DTYPES]


def _build(gen):
    values = []
    for B, K, N in ((1, 3, 5), (2, 5, 8), (3, 7, 10), (4, 3, 6), (2, 9, 12), (3, 5, 4)):
        a = _scalars(gen, B, K)
        values += _case(f"random a in [-{K // 2}, {K // 2}], batch {B}, K={K}, N={N}", a, K, weighting(gen, B, N))
    negative = ("a = -0.3 is the interval [-0.3, 0.7]: its lower end lies below 0, so the lower offset is -1, the "
                "integer below a (floor), not 0 (int() and trunc() round towards zero)")
    limits = ("a beyond the widest offset K//2 cannot shift further than the widest offset: clamp a into "
              "[-(K//2), K//2] first")
    edge = (_case("a = 6.7, the paper's example (K = 15): 0.3 on offset 6, 0.7 on offset 7; a one-hot focus on "
                  "row 2 of 16", torch.tensor([[6.7], [6.7]], dtype=torch.float64), 15, one_hot(2, 16, 2))
            + _case("integer a: all the weight on one offset (K = 5)",
                    torch.tensor([[-2.0], [-1.0], [0.0], [1.0], [2.0]], dtype=torch.float64), 5, one_hot(5, 9, 4),
                    "an integer a is the interval [a, a + 1]: all its weight on offset a")
            + _case("negative, non-integer a (K = 5)", torch.tensor([[-0.3], [-1.5], [-1.75], [-0.01]],
                                                                    dtype=torch.float64), 5, one_hot(4, 7, 3),
                    negative)
            + _case("a at the clamp limits, a = -K//2 and a = K//2 (K = 7)",
                    torch.tensor([[-3.0], [3.0], [2.999]], dtype=torch.float64), 7, weighting(gen, 3, 9), limits)
            + _case("a beyond the clamp limits (K = 5)", torch.tensor([[2.5], [-2.25], [40.0], [-7.5]],
                                                                       dtype=torch.float64), 5, weighting(gen, 4, 8),
                    limits)
            + _case("K = 1: offset 0 only, whatever a is", torch.tensor([[0.4], [-0.6], [3.0]], dtype=torch.float64),
                    1, weighting(gen, 3, 5), limits)
            + _case("K = 9 wider than N = 4: the offsets wrap around", _scalars(gen, 3, 9), 9, weighting(gen, 3, 4)))
    gradients = [Case(f"gradients with respect to a, batch {B}, K={K}, N={N}, float64",
                      (_scalars(gen, B, K), K, weighting(gen, B, N))) for B, K, N in ((3, 5, 8), (4, 7, 6))]
    gradients.append(Case("gradients, a beyond the clamp limits on some rows (K = 5), float64",
                          (torch.tensor([[0.3], [-4.2], [1.6], [2.7]], dtype=torch.float64), 5,
                           weighting(gen, 4, 7))))
    return {"values": values, "edge cases": edge, "gradients": gradients}


SCALAR_SHIFT = Understanding(
    name="scalar_shift",
    reference=scalar_shift,
    build=_build,
    call=_call,
    inputs=("a", "K", "w"),
    grad_args=(0,),
    notes={"values": "s and shift(w, s) for random a (B, 1) inside [-(K//2), K//2], K = 3 to 9, float32 and "
                     "float64",
           "edge cases": "the paper's a = 6.7, integer a, negative a, a at and beyond the clamp limits, K = 1",
           "gradients": "with respect to a, between integers; float64, compared with the reference's"},
    mistakes=[
        ("the two weights are swapped: the interval [a, a + 1] covers most of the offset *above* floor(a) when a "
         "is just under it (a = 6.7: only [6.7, 7) lies in offset 6's unit, 0.3 of the mass)",
         _variant(swapped=True)),
        ("column k of s holds offset k - K//2, not offset k: offset 0 is the middle column, and a negative offset "
         "used as a column index silently counts from the other end", _variant(centred=False)),
        ("int() and trunc() round towards zero: for a negative, non-integer a the lower end of [a, a + 1] lies in "
         "the unit of the integer *below* a (floor), so a = -0.3 puts weight on offsets -1 and 0, never a "
         "negative weight", _variant(floor=torch.trunc)),
        ("a width-one interval that does not start on an integer covers two offsets: s spreads the weight over "
         "both, in proportion to how much of [a, a + 1] each covers (rounding to one offset also leaves a "
         "without a gradient)", _rounded),
        ("a beyond the widest offset K//2 must be clamped into [-(K//2), K//2] first: otherwise weight falls off "
         "the ends and s no longer sums to 1", _triangle_unclamped),
        ("at an integer a, floor(a) and ceil(a) are the same offset: writing the upper weight into column "
         "ceil(a) overwrote the lower one; the upper neighbour is always floor(a) + 1", _ceil_assigned),
    ],
    hint="a is the lower end of the interval [a, a + 1] of width one: each offset o gets the length of "
         "[a, a + 1] that falls in [o, o + 1); column k of s holds offset k - K//2",
    shape_hint="return s of shape (B, K) in a's dtype: one row per example, one column per offset -(K//2) .. K//2",
)

CHECKS = (SCALAR_SHIFT,)
"""This module's checks, found through the syllabus row that names the module."""
