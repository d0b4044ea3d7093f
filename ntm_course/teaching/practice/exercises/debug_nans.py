"""Exercise 06_debug_nans (practice): fix the NaNs of cosine similarity on a zero memory row or key (eq. 6) and of
sharpening's underflow (eq. 9); checked on the values *and* the gradients, since a patched value can still hide a
NaN gradient. The fixes are the contracts of lessons 2 and 6's stubs, so the library's own functions are the
references: practice, not graded work (the graded hunt for a NaN is ``06_find_the_nan``).
"""
import torch

from ....addressing import cosine_similarity, sharpen
from .cases import Case, Understanding, both, rand, randn, random_cases, weighting


# --- the reference answers ------------------------------------------------------------------------------

def stable_cosine_similarity(memory, key, eps=1e-8):
    """Cosine similarity (eq. 6) that is 0, with finite gradients, for a zero row or a zero key: the product
    of the lengths is clamped to at least ``eps`` (``ntm_course.cosine_similarity``)."""
    return cosine_similarity(memory, key, eps)


def stable_sharpen(w, gamma):
    """Sharpening (eq. 9) that cannot underflow to 0/0: ``ntm_course.sharpen``, which computes it as
    ``softmax(gamma log w)``; the softmax divides by the largest power (as dividing ``w`` by its maximum would),
    so the largest is 1."""
    return sharpen(w, gamma)


# --- the checks ----------------------------------------------------------------------------------------

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
    reference=stable_cosine_similarity,
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
    reference=stable_sharpen,
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

CHECKS = (STABLE_COSINE, STABLE_SHARPEN)
"""This module's checks, found through the syllabus row that names the module."""
