"""Your own machine: every stage of the NTM as a swappable piece.

The NTM is built from the functions the course has the learner write, in order: ``read`` and ``write`` (eqs.
2-4), ``cosine_similarity``, ``content_addressing``, ``interpolate``, ``shift``, ``sharpen`` (eqs. 5-9),
``address`` (the pipeline, fig. 2), ``split_head_params`` (controller output -> head parameters),
``memory_step`` (the write head writes, the read head reads) and ``training_step`` (one optimisation step).
:class:`Pieces` holds one of each; its defaults are the library's own. Pass a ``Pieces`` whose fields are *your*
functions to the NTM cell, the hand-programmed machines or training, and the machine runs on your code
(minitorch-style); only torch's own layers (the controller, the heads' linear layers) and its optimiser are not
pieces::

    pieces = Pieces(shift=my_shift, sharpen=my_sharpen)      # the rest stay the library's
    NTM(9, 8, pieces=pieces)

A piece of yours that fails, or returns the wrong shape, stops the machine with a :class:`PieceError` that
names the piece, the line of your code that failed and the shapes, instead of a traceback from deep inside the
cell.
"""
import inspect
import os
import traceback
from dataclasses import dataclass, fields
from functools import partial
from types import SimpleNamespace
from typing import Callable

import torch

from . import addressing, memory
from .heads import _split_head_params, head_param_names, head_param_sizes, split_head_params
from .step import composed_step, single_head_step, training_step


class PieceError(ValueError):
    """One of the learner's pieces failed inside a machine: the message names the piece (and, when it raised,
    the line of the learner's code; the exception itself is :attr:`original`)."""

    original = None


class MachineSignal(Exception):
    """An exception of the machine's own raised while a learner's piece runs (a training run diverging inside the
    optimiser step their ``training_step`` calls): it is not their piece's failure, and passes its guard as it is."""


def _shape(x):
    if isinstance(x, torch.Tensor):
        return "(" + ", ".join(str(n) for n in x.shape) + ")"
    if isinstance(x, dict):
        return "dict"
    return type(x).__name__


_OURS = tuple(os.path.dirname(m.__file__) + os.sep for m in (torch, addressing))   # torch's files and ours


def _their_line(error):
    """``" at line 3 of your shift: `return ...`"`` for the last frame of the learner's code in ``error``'s
    traceback (not torch's, not the course's), or ``""``."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)[1:] if not f.filename.startswith(_OURS)]
    if not frames:
        return ""
    frame = frames[-1]
    line = f": `{frame.line.strip()}`" if frame.line else ""
    return f" at line {frame.lineno} of your {frame.name}{line}"


def _first_line(error):
    lines = str(error).strip().splitlines()
    return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__


def _guarded(name, fn, problem, signature):
    """``fn`` wrapped so that an exception or a wrong result names the piece ``name``.

    ``problem(out, *args)`` says what is wrong with the result (None when it is right), the arguments bound to
    ``signature`` (the library function's) with their defaults.
    """
    arity = len(signature.parameters)

    def arguments(args, kwargs):
        """The call's arguments in the library's order, with its defaults (a PieceError if they do not fit)."""
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:
            raise PieceError(f"your {name} was called with arguments that do not fit the library's "
                             f"{name}{signature}: {error}") from None
        bound.apply_defaults()
        return list(bound.arguments.values())

    def called(args):
        return "called with " + ", ".join(_shape(a) for a in args)

    def piece(*args, **kwargs):
        try:
            out = fn(*args, **kwargs)
        except PieceError as error:          # one of their pieces inside another: it names itself
            raise error.with_traceback(None) from None
        except MachineSignal:
            raise
        except Exception as error:
            found = PieceError(f"your {name} failed inside the machine: {_first_line(error)}{_their_line(error)} "
                               f"({called(arguments(args, kwargs))})")
            found.original = error
            raise found from None
        full = arguments(args, kwargs) if kwargs or len(args) < arity else args
        wrong = problem(out, *full)
        if wrong:
            raise PieceError(f"your {name} returned {wrong} ({called(full)})")
        return out
    piece.__wrapped__ = fn
    piece.__name__ = getattr(fn, "__name__", name)
    return piece


def _tensor_of(want):
    """A ``problem`` check: the result must be a tensor of the shape ``want(*args)``."""
    def problem(out, *args):
        shape = want(*args)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != shape:
            return f"{_shape(out)}, but the machine needs a tensor of shape {shape}"
        return None
    return problem


def _head_params_problem(out, raw, M, K, write=False, clip=20.0):
    want = {name: (raw.shape[0], width) for name, width in head_param_sizes(M, K, write).items()}
    if not isinstance(out, dict) or set(out) != set(want):
        got = sorted(out) if isinstance(out, dict) else type(out).__name__
        return f"{got}, but the machine needs a dict with the keys {list(want)}"
    for key, shape in want.items():
        if not isinstance(out[key], torch.Tensor) or tuple(out[key].shape) != shape:
            return f"{_shape(out[key])} for {key!r}, but the machine needs {shape}"
    return None


def _step_problem(out, memory_, write_params, read_params, w_write_prev, w_read_prev):
    B, N, M = memory_.shape
    want = (("memory", (B, N, M)), ("r", (B, M)), ("w_read", (B, N)), ("w_write", (B, N)))
    if not isinstance(out, (tuple, list)) or len(out) != 4:
        return f"{_shape(out)}, but the machine needs a tuple (memory, r, w_read, w_write)"
    for (what, shape), got in zip(want, out):
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != shape:
            return f"{_shape(got)} for {what}, but the machine needs {shape}"
    return None


def _loss_problem(out, *args):
    if not isinstance(out, torch.Tensor) or out.numel() != 1:
        return f"{_shape(out)}, but the training loop needs the loss, a tensor of one number (what loss_of() gave)"
    return None


# What is wrong with each piece's result, from its arguments (None: nothing).
_PROBLEMS = {
    "read": _tensor_of(lambda mem, w: (mem.shape[0], mem.shape[2])),
    "write": _tensor_of(lambda mem, *rest: tuple(mem.shape)),
    "cosine_similarity": _tensor_of(lambda mem, key, *rest: tuple(mem.shape[:2])),
    "content_addressing": _tensor_of(lambda mem, key, beta: tuple(mem.shape[:2])),
    "interpolate": _tensor_of(lambda w_content, w_prev, g: tuple(w_prev.shape)),
    "shift": _tensor_of(lambda w, s: tuple(w.shape)),
    "sharpen": _tensor_of(lambda w, gamma, *rest: tuple(w.shape)),
    "address": _tensor_of(lambda mem, key, beta, g, s, gamma, w_prev: tuple(w_prev.shape)),
    "split_head_params": _head_params_problem,
    "memory_step": _step_problem,
    "training_step": _loss_problem,
}


@dataclass(frozen=True, eq=False)
class Pieces:
    """The functions an NTM is made of; any of them may be the learner's own.

    Each field has the library function's signature, in the single-head forms: memory ``(B, N, M)``, weighting
    ``(B, N)``, key ``(B, M)``, scalars ``(B, 1)``, shift ``(B, K)``:

    - ``read(memory, w)``, ``write(memory, w, erase, add)`` (eqs. 2-4);
    - ``cosine_similarity(memory, key)``, ``content_addressing(memory, key, beta)``, ``interpolate(w_content,
      w_prev, g)``, ``shift(w, s)``, ``sharpen(w, gamma)`` (eqs. 5-9);
    - ``address(memory, key, beta, g, s, gamma, w_prev)``: the pipeline. Unless it is given, it is the pipeline
      on *these* pieces' stages; a learner's ``address`` is used as written (it calls whatever stages it calls);
    - ``split_head_params(raw, M, K, write=False, clip=20.0)``: a head's raw controller output ``(B, P)`` ->
      its parameters (:func:`~ntm_course.heads.split_head_params`);
    - ``memory_step(memory, write_params, read_params, w_write_prev, w_read_prev)``: one write head writes,
      then one read head reads (:func:`~ntm_course.step.single_head_step`). A machine with several heads of a
      kind, or none that writes, runs the library's multi-head step on the other pieces instead (writing that
      step is exercise ``08_ntm_step``);
    - ``training_step(model, optimizer, loss_of, clip=10.0)``: one optimisation step
      (:func:`~ntm_course.step.training_step`); the training loop calls it, on the learner's NTM.

    ``content_addressing`` is used as given (if yours calls your ``cosine_similarity``, both are yours).
    """
    read: Callable = memory.read
    write: Callable = memory.write
    cosine_similarity: Callable = addressing.cosine_similarity
    content_addressing: Callable = addressing.content_addressing
    interpolate: Callable = addressing.interpolate
    shift: Callable = addressing.shift
    sharpen: Callable = addressing.sharpen
    address: Callable = addressing.address
    split_head_params: Callable = split_head_params
    memory_step: Callable = single_head_step
    training_step: Callable = training_step

    def __post_init__(self):
        given = []
        for f in fields(self):
            fn = getattr(self, f.name)
            if not callable(fn):
                raise ValueError(f"{f.name} must be a function, got {type(fn).__name__}")
            if fn is f.default:
                continue
            given.append(f.name)
            if not hasattr(fn, "__wrapped__"):
                object.__setattr__(self, f.name, _guarded(f.name, fn, _PROBLEMS[f.name],
                                                          inspect.signature(f.default)))
        object.__setattr__(self, "_given", tuple(given))
        if "address" not in given:       # the pipeline on these pieces' stages
            object.__setattr__(self, "address", partial(_address, self))
        object.__setattr__(self, "_heads", _on_heads(self))

    def mine(self):
        """The names of the pieces that are not the library's, in the order the course builds them."""
        return list(self._given)

    @property
    def heads(self):
        """The pieces on a heads axis, for a machine that has checked its inputs: ``pieces.heads.shift(w, s)``.

        Every function takes and returns the heads form (memory ``(B, N, M)``, the rest ``(B, H, ...)``;
        ``split_head_params(raw (B, H, P), M, K, write, clip)``; ``memory_step`` with ``(B, H, ...)`` parameters
        and weightings, as :func:`~ntm_course.step.memory_step`). The library's pieces are its unchecked
        versions, all heads in one call; a learner's single-head piece gets every head at once with the heads
        folded into the batch (``write``: see :func:`_write_per_head`; ``memory_step``: one head of each kind).
        """
        return self.__dict__["_heads"]

    def replace(self, **changes):
        """A copy with some pieces changed."""
        return Pieces(**{**{name: getattr(self, name) for name in self._given}, **changes})

    def __repr__(self):
        return f"Pieces(yours: {', '.join(self._given) or 'none'})"


PIECE_NAMES = tuple(f.name for f in fields(Pieces))
"""The pieces' names, in the order the course builds them (and :class:`Pieces` holds them)."""
STAGES = PIECE_NAMES[:7]
"""The pieces that are the paper's equations 2-9, one function each."""


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


def _split_per_head(split):
    """A single-head ``split_head_params(raw (B, P), ...)`` applied to ``raw (B, H, P)``: dict of ``(B, H, ...)``."""
    def per_head(raw, M, K, write=False, clip=20.0):
        B, H = raw.shape[:2]
        params = split(raw.reshape(B * H, raw.shape[2]), M, K, write, clip)
        return {name: value.reshape(B, H, *value.shape[1:]) for name, value in params.items()}
    return per_head


def _library_split(raw, M, K, write=False, clip=20.0):
    return _split_head_params(raw, head_param_sizes(M, K, write), clip)


def _one_head_step(step, heads):
    """The heads-form memory step from a learner's single-head ``step``: one write and one read head run on
    it; any other machine runs the library's step on the learner's other pieces (``heads``)."""
    def memory_step(memory_, write_params, read_params, w_write_prev, w_read_prev):
        if write_params is None or w_write_prev.shape[1] != 1 or w_read_prev.shape[1] != 1:
            return composed_step(memory_, write_params, read_params, w_write_prev, w_read_prev, heads)
        first = {name: value[:, 0] for name, value in write_params.items()}
        second = {name: value[:, 0] for name, value in read_params.items()}
        new, r, w_read, w_write = step(memory_, first, second, w_write_prev[:, 0], w_read_prev[:, 0])
        return new, r.unsqueeze(1), w_read.unsqueeze(1), w_write.unsqueeze(1)
    return memory_step


_UNCHECKED = {**memory.UNCHECKED, **addressing.UNCHECKED}


def _on_heads(pieces):
    """The heads-form functions of ``pieces`` (see :attr:`Pieces.heads`)."""
    mine = set(pieces.mine())
    fns = {}
    for name in STAGES:
        fn = getattr(pieces, name)
        if name not in mine:
            fns[name] = _UNCHECKED[name]
        elif name == "write":
            fns[name] = _write_per_head(fn)
        else:
            fns[name] = _fold(fn, shared_memory=name in ("read", "cosine_similarity", "content_addressing"))
    heads = SimpleNamespace(**fns)
    heads.address = (_fold(pieces.address, shared_memory=True) if "address" in mine else partial(_address, heads))
    heads.split_head_params = _split_per_head(pieces.split_head_params) if "split_head_params" in mine \
        else _library_split
    heads.memory_step = (_one_head_step(pieces.memory_step, heads) if "memory_step" in mine
                         else partial(composed_step, heads=heads))
    heads.training_step = pieces.training_step
    return heads


def _address(stages, memory, key, beta, g, s, gamma, w_prev):
    """The new weighting from :func:`ntm_course.addressing.pipeline` on ``stages`` (pieces, or their heads form)."""
    return addressing.pipeline(stages, memory, key, beta, g, s, gamma, w_prev)["sharpened"]


LIBRARY = Pieces()
"""The library's own pieces (what every machine runs on unless given others)."""
