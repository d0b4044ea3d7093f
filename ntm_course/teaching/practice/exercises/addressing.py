"""The checks of the addressing layer (``ntm_course.addressing``): cosine similarity and content addressing
(eqs. 5-6), interpolation, shift and sharpening (eqs. 7-9), and the whole pipeline."""
import torch

from .... import addressing
from .cases import Exercise, Ladder, both, build_groups, one_hot, rand, randn, weighting


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
    ladder=Ladder(
        nudge="Compare the key with each memory row by direction only: their dot product divided by both lengths "
              "is 1 for the same direction, -1 for opposite ones, 0 at right angles. A zero vector has no "
              "direction: its similarity is 0, not NaN.",
        shapes="memory (B, N, M), key (B, M): one key per example, the same for all its rows. The result is "
               "(B, N), one similarity per row. The dot products and the lengths run over the M entries "
               "(memory's dim 2, the key's dim 1).",
        steps="for each example b and row i:\n"
              "    dot = sum over j of memory[b, i, j] * key[b, j]\n"
              "    lengths = |memory[b, i]| * |key[b]|\n"
              "    similarity[b, i] = dot / max(lengths, eps), eps small (1e-8): a zero vector gives 0"),
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
    ladder=Ladder(
        nudge="Score every row by its cosine similarity to the key, scale the scores by the key strength beta, "
              "and turn them into a distribution over the rows with a softmax: a large beta focuses on the best "
              "match, a small one blurs over many rows.",
        shapes="memory (B, N, M), key (B, M), beta (B, 1): one strength per example, broadcast over the rows. "
               "The similarities are (B, N), and so is the result, a distribution over the N rows: the softmax "
               "runs over dim 1 (the rows), not over the batch.",
        steps="K = the cosine similarity of the key with each row          (B, N), eq. 6\n"
              "score = beta * K\n"
              "w[b, i] = exp(score[b, i]) / sum over rows j of exp(score[b, j])   eq. 5\n"
              "(stably: a softmax subtracts each example's largest score first, so exp(200) never overflows)"),
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
    ladder=Ladder(
        nudge="The gate g chooses between this step's content focus and the head's focus at the previous step: "
              "g = 1 takes the content weighting, g = 0 keeps the previous one, and a g in between blends them.",
        shapes="w_content (B, N) and w_prev (B, N), two distributions over the rows; g (B, 1), one gate per "
               "example, broadcast over the N rows (dim 1). The result is (B, N), again a distribution. Nothing "
               "is summed: each row blends on its own.",
        steps="for each example b and row i:\n"
              "    w[b, i] = g[b] * w_content[b, i] + (1 - g[b]) * w_prev[b, i]      (eq. 7)"),
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
    ladder=Ladder(
        nudge="The shift moves the focus a few rows on, circularly: each offset o contributes the whole weighting "
              "moved o rows on, weighted by how much s puts on that offset. Offset +1 moves the focus from row i "
              "to row i+1, and what leaves the last row comes back at row 0.",
        shapes="w (B, N), a weighting over the rows; s (B, K), K odd, one weight per offset: column k is offset "
               "k - K//2 (with K = 3 the columns are offsets -1, 0, +1). The result is (B, N), like w. The "
               "rotation runs over the rows (dim 1), indices modulo N; the sum runs over the K offsets.",
        steps="out = zeros, shaped like w\n"
              "for each column k of s:\n"
              "    offset = k - K//2\n"
              "    moved[b, i] = w[b, (i - offset) mod N]     (w rotated offset rows towards the higher rows)\n"
              "    out = out + s[b, k] * moved\n"
              "return out                                     (eq. 8: out(i) = sum over j of w(j) s(i - j))"),
)


def _sharpen_edge(gen):
    f64 = torch.float64
    uneven = torch.tensor([[0.2, 0.3, 0.1, 0.6], [0.5, 0.5, 0.5, 0.5]], dtype=f64)
    zeros = torch.tensor([[0.0, 0.5, 0.5, 0.0], [0.1, 0.0, 0.9, 0.0]], dtype=f64)
    return (both("gamma = 1 leaves a distribution unchanged", (weighting(gen, 2, 5), torch.ones(2, 1, dtype=f64)))
            + both("zero weights stay zero", (zeros, torch.full((2, 1), 3.0, dtype=f64)))
            + both("gamma = 30 is nearly one-hot", (weighting(gen, 2, 5), torch.full((2, 1), 30.0, dtype=f64)))
            + both("an input that does not sum to 1", (uneven, torch.tensor([[2.0], [1.5]], dtype=f64)),
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
    ladder=Ladder(
        nudge="The shift blurs the focus; sharpening undoes that: raise every weight to the power gamma >= 1, so "
              "large weights gain on small ones, then renormalise so that the weights sum to 1 again.",
        shapes="w (B, N), non-negative; gamma (B, 1), one exponent per example, broadcast over the rows. The "
               "result is (B, N), a distribution: the normalising sum runs over the rows (dim 1).",
        steps="p[b, i] = w[b, i] to the power gamma[b]\n"
              "out[b, i] = p[b, i] / sum over rows j of p[b, j]          (eq. 9)\n"
              "mind underflow: (1/12) to the power 50 is 0 in float32, and 0/0 is NaN; dividing w by its largest "
              "weight first leaves the result as it is and keeps the largest power at 1"),
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
    ladder=Ladder(
        nudge="The four stages you wrote, one after the other, as in the paper's figure 2: find rows by content, "
              "blend with the previous focus, shift, sharpen. Each stage's output is the next stage's input.",
        shapes="memory (B, N, M), key (B, M), beta, g and gamma (B, 1), s (B, K), w_prev (B, N). Every "
               "intermediate weighting is (B, N), a distribution over the rows (dim 1), and so is the result: the "
               "head's new weighting. Each stage keeps to its own axis, as you wrote it.",
        steps="1. the content weighting, from memory, key and beta                 (eq. 5)\n"
              "2. gate it with the previous weighting w_prev by g                  (eq. 7)\n"
              "3. shift that by the shift distribution s                           (eq. 8)\n"
              "4. sharpen that by gamma, and return it                             (eq. 9)"),
    worker=addressing.pipeline,
)

CHECKS = (COSINE, CONTENT, INTERPOLATE, SHIFT, SHARPEN, ADDRESS)
"""This module's checks, found through the syllabus row that names the module."""
