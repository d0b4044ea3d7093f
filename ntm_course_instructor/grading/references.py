"""Reference answers for the exercises that go beyond one library function.

The other exercises are graded against the library itself (``ntm_course.read``, ``ntm_course.shift``, ...);
these combine its pieces (a whole NTM step with several heads, one training step) or ask for something the
library does not have as such (a blog's shift rule in this course's convention, NaN-free cosine similarity and
sharpening, a hand-programmed machine that copies in reverse).
"""
import torch

from ntm_course.addressing import cosine_similarity, sharpen
from ntm_course.checks import check_heads, check_memory
from ntm_course.experiments.tasks import bits_per_sequence
from ntm_course.handcrafted import shift_distribution
from ntm_course.heads import split_head_params
from ntm_course.step import memory_step


def ntm_step(memory, read_raws, write_raws, w_read_prev, w_write_prev, K=3):
    """One memory step of an NTM with several read and several write heads (paper section 3, as ``NTMCell``).

    The controller has already produced each head's raw parameters; this step turns them into writes, then
    reads. It is the library's own step, :func:`ntm_course.step.memory_step`, which ``NTMCell`` runs:

    1. ``split_head_params`` turns every head's raw vector into its parameters (all heads at once, ``(B, H, P)``);
    2. every write head addresses the *old* memory :math:`M_{t-1}` (eqs. 5-9) from its previous weighting;
    3. all write heads erase, then all add (eqs. 3-4; ``ntm_course.write`` with ``(B, W, N)`` weightings);
    4. every read head addresses the *new* memory :math:`M_t` from its previous weighting;
    5. and reads (eq. 2).

    Args:
        memory: ``(B, N, M)``, the memory before the step.
        read_raws: ``(B, R, M + K + 3)``, the R read heads' raw parameters.
        write_raws: ``(B, W, 3M + K + 3)``, the W write heads' raw parameters.
        w_read_prev: ``(B, R, N)``; w_write_prev: ``(B, W, N)``, each head's weighting at the previous step.
        K: the shift width (odd).
    Returns:
        ``(memory, reads, w_read, w_write)``: the new memory ``(B, N, M)``, the read vectors ``(B, R, M)``
        and the heads' new weightings ``(B, R, N)`` and ``(B, W, N)``.
    """
    B, N, M = check_memory(memory)
    for name, raws, w_prev in (("read", read_raws, w_read_prev), ("write", write_raws, w_write_prev)):
        check_heads(f"{name}_raws", raws, (B, None), "P")
        check_heads(f"w_{name}_prev", w_prev, tuple(raws.shape[:2]), "N", N)
    return memory_step(memory, split_head_params(write_raws, M, K, write=True), split_head_params(read_raws, M, K),
                       w_write_prev, w_read_prev)


def train_step(model, optimizer, inputs, targets, mask, clip=10.0):
    """One training step on a batch of episodes, with the paper's protocol (section 4).

    1. forget the previous step's gradients;
    2. run the model on ``inputs (T, B, in)``: logits ``(T, B, out)``;
    3. the loss is the cost in bits per sequence on the scored steps
       (``ntm_course.experiments.tasks.bits_per_sequence``);
    4. backpropagate, clip every gradient element to ``[-clip, clip]``, take the optimizer's step.

    Returns:
        the loss before the step, a Python float (bits per sequence).
    """
    optimizer.zero_grad()
    loss = bits_per_sequence(model(inputs), targets, mask)
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), clip)
    optimizer.step()
    return loss.item()


# --- the shift rule of a blog post, in this course's convention (exercise 05_blog_shift) ----------------

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


# --- NaN-free cosine similarity and sharpening (exercise 06_debug_nans) --------------------------------

def stable_cosine_similarity(memory, key, eps=1e-8):
    """Cosine similarity (eq. 6) that is 0, with finite gradients, for a zero row or a zero key: the product
    of the lengths is clamped to at least ``eps`` (``ntm_course.cosine_similarity``)."""
    return cosine_similarity(memory, key, eps)


def stable_sharpen(w, gamma):
    """Sharpening (eq. 9) that cannot underflow to 0/0: ``w`` is first divided by its maximum, which leaves the
    result unchanged and keeps the largest power at 1 (``ntm_course.sharpen``)."""
    return sharpen(w, gamma)


# --- a hand-programmed machine that copies in reverse (exercise 07_reverse_copy) -----------------------

def reverse_copy_head_params(step, T, W, inputs=None, batch_size=1):
    """Head parameters, set by hand, of a machine that outputs its input sequence reversed.

    Memory rows have width ``W + 1``; both heads start on row ``N - 1`` (one before row 0). While writing
    (``step < T``) the write head shifts +1 and writes the item (full erase), and the read head walks along
    with it, so after the last write both are on row ``T - 1``. While reading, the write head stays put and
    writes nothing; the read head reads row ``T - 1`` first (shift 0), then walks back (shift -1). No content
    addressing: keys are zero, the gate g = 0 keeps the previous weighting, gamma = 1.

    Returns:
        ``(write_params, read_params)``: dicts of ``key (B, W + 1)``, ``beta``, ``g``, ``gamma (B, 1)`` and
        ``s (B, 3)``; the write dict also has ``erase`` and ``add (B, W + 1)``.
    """
    B, M = batch_size, W + 1

    def head(offset):
        return {"key": torch.zeros(B, M), "beta": torch.ones(B, 1), "g": torch.zeros(B, 1),
                "s": shift_distribution(offset, 3, batch_size=B), "gamma": torch.ones(B, 1)}

    if step < T:
        write_params = dict(head(+1), erase=torch.ones(B, M),
                            add=torch.cat([inputs, inputs.new_zeros(B, 1)], dim=1))
        read_params = head(+1)
    else:
        write_params = dict(head(0), erase=torch.zeros(B, M), add=torch.zeros(B, M))
        read_params = head(0 if step == T else -1)
    return write_params, read_params
