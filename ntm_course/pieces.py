"""Your own machine: the NTM's memory and addressing functions as swappable pieces.

The NTM is built from seven functions, the paper's equations 2-9. :class:`Pieces` holds one of each; its
defaults are the library's own. Pass a ``Pieces`` whose fields are *your* functions to the NTM cell, the
hand-programmed machines or training, and the machine runs on your code (minitorch-style)::

    pieces = Pieces(shift=my_shift, sharpen=my_sharpen)      # the rest stay the library's
    NTM(9, 8, pieces=pieces)

A piece of yours that fails, or returns the wrong shape, stops the machine with a :class:`PieceError` that
names the piece and the shapes, instead of a traceback from deep inside the cell.
"""
from dataclasses import dataclass, fields, replace
from typing import Callable

import torch

from . import addressing, memory

PIECE_NAMES = ("read", "write", "cosine_similarity", "content_addressing", "interpolate", "shift", "sharpen")


class PieceError(ValueError):
    """One of the learner's pieces failed inside a machine: the message names the piece."""


def _shape(x):
    return "(" + ", ".join(str(n) for n in x.shape) + ")" if isinstance(x, torch.Tensor) else type(x).__name__


def _guarded(name, fn, expected_shape):
    """``fn`` wrapped so that an exception or a wrongly shaped result names the piece ``name``.

    ``expected_shape(*args)`` gives the shape the result must have.
    """
    def piece(*args):
        try:
            out = fn(*args)
        except Exception as error:
            raise PieceError(f"your {name} failed inside the machine: {type(error).__name__}: {error} "
                             f"(called with shapes {', '.join(_shape(a) for a in args)})") from error
        want = expected_shape(*args)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != want:
            raise PieceError(f"your {name} returned {_shape(out)}, but the machine needs a tensor of shape "
                             f"{want} (called with shapes {', '.join(_shape(a) for a in args)})")
        return out
    piece.__wrapped__ = fn
    return piece


# The shape each piece returns, from its arguments.
_SHAPES = {
    "read": lambda mem, w: (mem.shape[0], mem.shape[2]),
    "write": lambda mem, *rest: tuple(mem.shape),
    "cosine_similarity": lambda mem, key: tuple(mem.shape[:2]),
    "content_addressing": lambda mem, key, beta: tuple(mem.shape[:2]),
    "interpolate": lambda w_content, w_prev, g: tuple(w_prev.shape),
    "shift": lambda w, s: tuple(w.shape),
    "sharpen": lambda w, gamma: tuple(w.shape),
}


@dataclass(frozen=True)
class Pieces:
    """The seven functions an NTM is made of; any of them may be the learner's own.

    Each field has the library function's signature (``read(memory, w)``, ``shift(w, s)``, ...), in the
    single-head forms: memory ``(B, N, M)``, weighting ``(B, N)``, key ``(B, M)``, scalars ``(B, 1)``,
    shift ``(B, K)``. ``content_addressing`` is used as given (if yours calls your ``cosine_similarity``,
    both are yours).
    """
    read: Callable = memory.read
    write: Callable = memory.write
    cosine_similarity: Callable = addressing.cosine_similarity
    content_addressing: Callable = addressing.content_addressing
    interpolate: Callable = addressing.interpolate
    shift: Callable = addressing.shift
    sharpen: Callable = addressing.sharpen

    def __post_init__(self):
        for f in fields(self):
            fn = getattr(self, f.name)
            if not callable(fn):
                raise ValueError(f"{f.name} must be a function, got {type(fn).__name__}")
            if fn is not f.default and not hasattr(fn, "__wrapped__"):
                object.__setattr__(self, f.name, _guarded(f.name, fn, _SHAPES[f.name]))

    def mine(self):
        """The names of the pieces that are not the library's."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not f.default]

    def address(self, memory, key, beta, g, s, gamma, w_prev):
        """The addressing pipeline (fig. 2) on these pieces: content (eq. 5), gate (7), shift (8), sharpen (9).

        Shapes as in :func:`ntm_course.addressing.address`; returns the weighting ``(B, N)``.
        """
        w_content = self.content_addressing(memory, key, beta)
        return self.sharpen(self.shift(self.interpolate(w_content, w_prev, g), s), gamma)

    def replace(self, **changes):
        """A copy with some pieces changed."""
        return replace(self, **changes)


LIBRARY = Pieces()
