"""Dynamic N-grams (paper section 4.4): predict the next bit of a sequence drawn from a random 6-gram model.

Each episode draws a fresh table of 2^(n-1) = 32 probabilities ``P(1 | previous 5 bits)`` from
Beta(1/2, 1/2), then a sequence of ``length`` (200) bits: the first n-1 = 5 uniformly at random, each later
bit from the table entry of the 5 bits before it. The model must learn the table *during* the episode.

Layout (T = length - 1, every step scored)::

    step t          inputs (1 channel)     target (1 channel)     mask
    0 .. T-1        bit x_t                bit x_{t+1}            1

:func:`bayes_optimal` is the best any predictor can do, ``P(1) = (N1 + 1/2) / (N1 + N0 + 1)`` with N1, N0
the number of times the current context has so far been followed by a 1 and a 0: the floor to compare
against (about 133 bits per sequence in the paper's figure).
"""
import torch

from .common import Batch, check_range


INPUT_SIZE = 1
OUTPUT_SIZE = 1


def _context(window):
    """The last n-1 bits ``(n-1, B)`` as a binary number ``(B,)``, the oldest bit most significant."""
    weights = 2 ** torch.arange(window.shape[0] - 1, -1, -1)
    return (window.long() * weights.unsqueeze(1)).sum(dim=0)


def ngrams_batch(batch_size, length=200, n=6, generator=None):
    """A batch of N-gram sequences. Returns a :class:`Batch` with inputs and targets ``(length - 1, B, 1)``."""
    check_range("n", n, "length", length, least=2)
    # Beta(1/2, 1/2) is the arcsine distribution: sin^2(pi U / 2) for U uniform on [0, 1]
    probs = torch.sin(torch.pi / 2 * torch.rand(batch_size, 2 ** (n - 1), generator=generator)) ** 2
    bits = torch.zeros(length, batch_size)
    bits[:n - 1] = torch.randint(0, 2, (n - 1, batch_size), generator=generator).float()
    uniforms = torch.rand(length, batch_size, generator=generator)
    rows = torch.arange(batch_size)
    for t in range(n - 1, length):
        context = _context(bits[t - n + 1:t])
        bits[t] = (uniforms[t] < probs[rows, context]).float()
    inputs, targets = bits[:-1].unsqueeze(2), bits[1:].unsqueeze(2)
    return Batch(inputs, targets, torch.ones(length - 1, batch_size))


def bayes_optimal(inputs, targets, n=6):
    """The Bayes-optimal prediction of every target bit, given the bits seen so far in the episode.

    ``inputs``, ``targets``: ``(T, B, 1)`` as made by :func:`ngrams_batch` (target t is the bit after input t).
    Returns ``(T, B, 1)`` probabilities ``P(x_{t+1} = 1) = (N1 + 1/2) / (N1 + N0 + 1)``, where N1 and N0
    count how often the current context (the last n-1 bits) was followed by 1 and by 0 earlier in the
    episode; 1/2 while fewer than n-1 bits have been seen. Score it with
    ``bits_per_sequence(torch.logit(p), targets, mask)``.
    """
    bits = torch.cat([inputs[:1, :, 0], targets[:, :, 0]])               # (T + 1, B): the whole sequence
    T, B = targets.shape[:2]
    ones = torch.zeros(B, 2 ** (n - 1))
    total = torch.zeros(B, 2 ** (n - 1))
    probs = torch.full((T, B), 0.5)
    rows = torch.arange(B)
    for t in range(n - 2, T):                   # target t is bit t+1, predicted from bits t-n+2 .. t
        c = _context(bits[t - n + 2:t + 1])
        probs[t] = (ones[rows, c] + 0.5) / (total[rows, c] + 1)
        ones[rows, c] += bits[t + 1]
        total[rows, c] += 1
    return probs.unsqueeze(2).to(inputs.dtype)
