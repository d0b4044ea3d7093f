"""Reference answers for the exercises that go beyond one library function.

The other exercises are graded against the library itself (``ntm_course.read``, ``ntm_course.shift``, ...);
these two combine its pieces: one full NTM step as a plain function, and one training step.
"""
import torch

from ..heads import address_with_params, split_head_params
from ..memory import read, write
from ..tasks import bits_per_sequence


def ntm_step(memory, read_raw, write_raw, w_read_prev, w_write_prev, K=3):
    """One memory step of an NTM with one read and one write head (paper section 3, as in ``NTMCell``).

    The controller has already produced each head's raw parameters; this step turns them into a write,
    then a read:

    1. ``split_head_params`` turns ``write_raw`` and ``read_raw`` into the heads' parameters;
    2. the write head addresses the old memory (eqs. 5-9) from ``w_write_prev``;
    3. it writes: erase, then add (eqs. 3-4);
    4. the read head addresses the *new* memory from ``w_read_prev``;
    5. and reads (eq. 2).

    Args:
        memory: ``(B, N, M)``, the memory before the step.
        read_raw: ``(B, M + K + 3)``, the read head's raw parameters.
        write_raw: ``(B, 3M + K + 3)``, the write head's raw parameters.
        w_read_prev, w_write_prev: ``(B, N)``, each head's weighting at the previous step.
        K: the shift width (odd).
    Returns:
        ``(memory, r, w_read, w_write)``: the new memory ``(B, N, M)``, the read vector ``(B, M)`` and the
        heads' new weightings ``(B, N)``.
    """
    M = memory.shape[2]
    wp = split_head_params(write_raw, M, K, write=True)
    w_write = address_with_params(memory, wp, w_write_prev)
    memory = write(memory, w_write, wp["erase"], wp["add"])
    rp = split_head_params(read_raw, M, K)
    w_read = address_with_params(memory, rp, w_read_prev)
    return memory, read(memory, w_read), w_read, w_write


def train_step(model, optimizer, inputs, targets, mask, clip=10.0):
    """One training step on a batch of episodes, with the paper's protocol (section 4).

    1. forget the previous step's gradients;
    2. run the model on ``inputs (T, B, in)``: logits ``(T, B, out)``;
    3. the loss is the cost in bits per sequence on the scored steps (``ntm_course.tasks.bits_per_sequence``);
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
