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
from functools import partial
from types import SimpleNamespace
from typing import Callable

import torch

from . import addressing, memory


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
        object.__setattr__(self, "_heads", _on_heads(self))

    def mine(self):
        """The names of the pieces that are not the library's."""
        return [f.name for f in fields(self) if getattr(self, f.name) is not f.default]

    def address(self, memory, key, beta, g, s, gamma, w_prev):
        """The addressing pipeline (fig. 2) on these pieces: content (eq. 5), gate (7), shift (8), sharpen (9).

        Shapes as in :func:`ntm_course.addressing.address`; returns the weighting ``(B, N)``.
        """
        return _address(self, memory, key, beta, g, s, gamma, w_prev)

    @property
    def heads(self):
        """The pieces on a heads axis, for a machine that has checked its inputs: ``pieces.heads.shift(w, s)``.

        Every function takes and returns the heads form (memory ``(B, N, M)``, the rest ``(B, H, ...)``) and
        ``heads.address(memory, key, beta, g, s, gamma, w_prev)`` runs the pipeline. The library's pieces are
        its unchecked versions, all heads in one call; a learner's single-head piece gets every head at once
        with the heads folded into the batch (``write``: see :func:`_write_per_head`).
        """
        return self.__dict__["_heads"]

    def replace(self, **changes):
        """A copy with some pieces changed."""
        return replace(self, **changes)


PIECE_NAMES = tuple(f.name for f in fields(Pieces))
"""The pieces' names, in the order the course builds them (and :class:`Pieces` holds them)."""


def _fold(fn, shared_memory):
    """A single-head function applied to ``(B, H, ...)`` arguments, the heads folded into the batch.

    With ``shared_memory`` the first argument is the memory ``(B, N, M)``, the same for every head.
    """
    def per_head(*args):
        first = int(shared_memory)
        B, H = args[first].shape[:2]
        flat = [x.reshape(B * H, *x.shape[2:]) for x in args[first:]]
        if shared_memory:
            memory_ = args[0]
            flat.insert(0, memory_.unsqueeze(1).expand(B, H, *memory_.shape[1:]).reshape(B * H, *memory_.shape[1:]))
        out = fn(*flat)
        return out.reshape(B, H, *out.shape[1:])
    return per_head


def _write_per_head(write):
    """A single-head ``write(memory, w (B, N), e (B, M), a (B, M))`` applied to W heads ``(B, W, ...)``.

    One head is one call. With several, every head erases (``write`` with a zero add vector), then every head
    adds (``write`` with a zero erase vector): the library's multi-head order (all erases, then all adds,
    eqs. 3-4), so the memory is the same up to rounding for any number of heads.
    """
    def per_head(memory, w, erase, add):
        if w.shape[1] == 1:
            return write(memory, w[:, 0], erase[:, 0], add[:, 0])
        for i in range(w.shape[1]):
            memory = write(memory, w[:, i], erase[:, i], torch.zeros_like(add[:, i]))
        for i in range(w.shape[1]):
            memory = write(memory, w[:, i], torch.zeros_like(erase[:, i]), add[:, i])
        return memory
    return per_head


_UNCHECKED = {**memory.UNCHECKED, **addressing.UNCHECKED}


def _on_heads(pieces):
    """The heads-form functions of ``pieces`` (see :attr:`Pieces.heads`)."""
    fns = {}
    for f in fields(pieces):
        fn = getattr(pieces, f.name)
        if fn is f.default:
            fns[f.name] = _UNCHECKED[f.name]
        elif f.name == "write":
            fns[f.name] = _write_per_head(fn)
        else:
            fns[f.name] = _fold(fn, shared_memory=f.name in ("read", "cosine_similarity", "content_addressing"))
    heads = SimpleNamespace(**fns)
    heads.address = partial(_address, heads)
    return heads


def _address(stages, memory, key, beta, g, s, gamma, w_prev):
    """The new weighting from :func:`ntm_course.addressing.pipeline` on ``stages`` (pieces, or their heads form)."""
    return addressing.pipeline(stages, memory, key, beta, g, s, gamma, w_prev)["sharpened"]


LIBRARY = Pieces()
