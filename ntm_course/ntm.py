"""The Neural Turing Machine: one time step (:class:`NTMCell`), a sequence model (:class:`NTM`), and the
LSTM baseline the paper compares against (:class:`LSTMBaseline`).

Sequences are time first: inputs ``(T, B, input_size)``, outputs ``(T, B, output_size)``. Outputs are
logits; the paper's sigmoid output layer is applied by the loss (or by ``torch.sigmoid`` to read them).

One step of the NTM, in order::

    controller([x_t, r_{t-1}])                  -> h_t
    each write head addresses M_{t-1}, then all heads write (erase, then add) -> M_t
    each read head addresses M_t and reads      -> r_t
    output layer([h_t, r_t])                    -> y_t

Writing before reading is this course's choice (the paper fixes no order within a step); it lets a value
written at step t be read back at the same step.

The memory and addressing functions the cell calls come from a :class:`~ntm_course.pieces.Pieces`
(``pieces=``, the library's own by default), so an NTM can run on the learner's own ``read``, ``write``
and addressing stages. A piece of theirs that fails stops the step with a
:class:`~ntm_course.pieces.PieceError` that names it.
"""
from typing import NamedTuple

import torch
from torch import nn

from .checks import check_same_device_dtype, check_tensor
from .controller import make_controller
from .heads import ReadHead, WriteHead
from .memory import InitialMemory
from .pieces import LIBRARY, PieceError, Pieces

HEAD_PARAMS = ("key", "beta", "g", "s", "gamma")
"""The addressing parameters every head emits; the trace records them per head as ``read_<name>`` and
``write_<name>``."""


class NTMState(NamedTuple):
    """Everything the NTM carries from one step to the next."""
    memory: torch.Tensor          # (B, N, M)
    reads: torch.Tensor           # (B, R, M)  read vectors r_{t-1}
    read_weights: torch.Tensor    # (B, R, N)
    write_weights: torch.Tensor   # (B, W, N)
    controller: tuple             # the controller's own state


class NTMCell(nn.Module):
    """One time step of the NTM: controller, heads and memory.

    Args:
        input_size, output_size: widths of ``x_t`` and ``y_t``.
        controller: ``"lstm"`` or ``"feedforward"``; controller_size, controller_layers: its size.
        N, M: memory rows and width (the paper uses 128 x 20).
        num_read_heads, num_write_heads: any number of each (at least one read head).
        shift_width: K, the number of allowed shifts (odd; 3 allows -1, 0, +1).
        memory_init: ``"constant"`` (1e-6, the default), ``"learned"`` or ``"random"``.
        learn_initial_state: learn the initial read vectors and weightings; otherwise start from zero
            read vectors and weightings focused on row 0.
        clip: controller outputs are clipped to ``[-clip, clip]`` before the head activations. This bounds
            the head parameters: ``beta`` at most ``softplus(clip)`` (about 20) and ``gamma`` at most
            ``1 + softplus(clip)`` (about 21), so no head can sharpen or focus without limit.
        pieces: the :class:`~ntm_course.pieces.Pieces` the step runs on (default: the library's). Kept as
            ``cell.pieces``: not a parameter, not saved in the ``state_dict``, and it may be assigned later
            (``model.cell.pieces = my_pieces()`` runs a trained model on the learner's functions).

    With a ``write`` piece of the learner's (single-head: ``write(memory, w (B, N), e (B, M), a (B, M))``)
    the write heads are applied one at a time: first every head erases (``write`` with a zero add vector),
    then every head adds (``write`` with a zero erase vector). That is the library's multi-head order (all
    erases, then all adds, eqs. 3-4), so the memory is the same up to rounding for any number of write
    heads; with one write head it is a single call ``write(memory, w, e, a)``. Read heads always read one
    at a time with ``pieces.read``.
    """

    def __init__(self, input_size, output_size, controller="lstm", controller_size=100, controller_layers=1,
                 N=128, M=20, num_read_heads=1, num_write_heads=1, shift_width=3, memory_init="constant",
                 learn_initial_state=True, clip=20.0, pieces=None):
        super().__init__()
        self.pieces = pieces
        if num_read_heads < 1 or num_write_heads < 0:
            raise ValueError(f"need at least one read head and no negative counts, got "
                             f"num_read_heads={num_read_heads}, num_write_heads={num_write_heads}")
        self.N, self.M = N, M
        self.input_size, self.output_size = input_size, output_size
        self.controller = make_controller(controller, input_size + num_read_heads * M, controller_size,
                                          controller_layers)
        C = self.controller.output_size
        self.read_heads = nn.ModuleList(ReadHead(C, M, shift_width, clip) for _ in range(num_read_heads))
        self.write_heads = nn.ModuleList(WriteHead(C, M, shift_width, clip) for _ in range(num_write_heads))
        self.output = nn.Linear(C + num_read_heads * M, output_size)
        self.initial_memory = InitialMemory(N, M, memory_init)
        # Initial read vectors and weightings (as logits, softmaxed over the rows), one per head.
        reads0 = torch.zeros(num_read_heads, M)
        logits0 = torch.full((num_read_heads + num_write_heads, N), -10.0)
        logits0[:, 0] = 10.0  # start focused on row 0
        if learn_initial_state:
            self.reads0, self.weight_logits0 = nn.Parameter(reads0), nn.Parameter(logits0)
        else:
            self.register_buffer("reads0", reads0)
            self.register_buffer("weight_logits0", logits0)

    @property
    def pieces(self):
        """The :class:`~ntm_course.pieces.Pieces` this cell runs on; assign a new one to swap them."""
        return self._pieces

    @pieces.setter
    def pieces(self, pieces):
        if pieces is None:
            pieces = LIBRARY
        if not isinstance(pieces, Pieces):
            raise ValueError(f"pieces must be a ntm_course.pieces.Pieces (e.g. my_pieces()), "
                             f"got {type(pieces).__name__}")
        self.__dict__["_pieces"] = pieces   # a plain attribute: no parameter, nothing in the state_dict

    def initial_state(self, batch_size):
        """The state before the first step, for a batch of ``batch_size`` episodes."""
        R = len(self.read_heads)
        p = self.reads0
        weights0 = torch.softmax(self.weight_logits0, dim=1).unsqueeze(0).expand(batch_size, -1, -1)
        return NTMState(
            memory=self.initial_memory(batch_size).to(p),
            reads=p.unsqueeze(0).expand(batch_size, -1, -1),
            read_weights=weights0[:, :R],
            write_weights=weights0[:, R:],
            controller=self.controller.initial_state(batch_size, p.device, p.dtype),
        )

    def forward(self, x, state, record=True):
        """One step. ``x (B, input_size)`` -> ``(y (B, output_size) logits, new NTMState, info)``.

        ``info`` holds this step's ``read_weights (B, R, N)``, ``reads (B, R, M)`` and, with write heads,
        ``write_weights (B, W, N)``, ``erase`` and ``add (B, W, M)``. With ``record=True`` (the default) it
        also holds every head's addressing parameters: ``read_key (B, R, M)``, ``read_beta``, ``read_g``,
        ``read_gamma (B, R, 1)``, ``read_s (B, R, K)`` and the same ``write_*`` for the write heads.

        Raises :class:`~ntm_course.pieces.PieceError` (naming the piece) when one of the learner's pieces fails.
        """
        B = state.memory.shape[0]
        check_tensor("x", x, 2, "B, input_size", (B, self.input_size))
        check_same_device_dtype(x=x, memory=state.memory)
        try:
            return self._step(x, state, record)
        except PieceError as error:
            raise error.with_traceback(None)   # the message names the piece: skip the cell's insides

    def _step(self, x, state, record):
        pieces = self._pieces
        h, controller_state = self.controller(torch.cat([x, state.reads.flatten(1)], dim=1), state.controller)

        memory = state.memory
        info = {}
        if len(self.write_heads):
            addressed = [head(h, memory, state.write_weights[:, i], pieces)
                         for i, head in enumerate(self.write_heads)]
            write_weights = torch.stack([w for w, _ in addressed], dim=1)                    # (B, W, N)
            erase = torch.stack([p["erase"] for _, p in addressed], dim=1)                  # (B, W, M)
            add = torch.stack([p["add"] for _, p in addressed], dim=1)                      # (B, W, M)
            memory = self._write(pieces, memory, write_weights, erase, add)
            info.update(write_weights=write_weights, erase=erase, add=add)
            if record:
                info.update(_stack_params("write", [p for _, p in addressed]))
        else:
            write_weights = state.write_weights

        addressed = [head(h, memory, state.read_weights[:, i], pieces) for i, head in enumerate(self.read_heads)]
        read_weights = torch.stack([w for w, _ in addressed], dim=1)                        # (B, R, N)
        reads = torch.stack([pieces.read(memory, read_weights[:, i]) for i in range(len(self.read_heads))],
                            dim=1)                                                          # (B, R, M)
        info.update(read_weights=read_weights, reads=reads)
        if record:
            info.update(_stack_params("read", [p for _, p in addressed]))

        y = self.output(torch.cat([h, reads.flatten(1)], dim=1))
        return y, NTMState(memory, reads, read_weights, write_weights, controller_state), info

    @staticmethod
    def _write(pieces, memory, w, erase, add):
        """All write heads write: ``w (B, W, N)``, ``erase``/``add (B, W, M)`` (see the class docstring)."""
        if pieces.write is LIBRARY.write:
            return pieces.write(memory, w, erase, add)                  # all heads in one call
        if w.shape[1] == 1:
            return pieces.write(memory, w[:, 0], erase[:, 0], add[:, 0])
        for i in range(w.shape[1]):                                     # every head erases ...
            memory = pieces.write(memory, w[:, i], erase[:, i], torch.zeros_like(add[:, i]))
        for i in range(w.shape[1]):                                     # ... then every head adds
            memory = pieces.write(memory, w[:, i], torch.zeros_like(erase[:, i]), add[:, i])
        return memory


def _stack_params(kind, params):
    """``[{name: (B, size)} per head]`` -> ``{f"{kind}_{name}": (B, H, size)}`` for the addressing parameters."""
    return {f"{kind}_{name}": torch.stack([p[name] for p in params], dim=1) for name in HEAD_PARAMS}


class NTM(nn.Module):
    """The NTM over whole sequences: ``x (T, B, input_size)`` -> logits ``(T, B, output_size)``.

    The state is reset at the start of every call (every episode starts from the initial state).
    Takes the same arguments as :class:`NTMCell`, ``pieces=`` included: ``NTM(9, 8, pieces=my_pieces())``
    is an NTM made of the learner's functions, and ``model.cell.pieces = ...`` swaps them in a trained one.
    """

    def __init__(self, input_size, output_size, **cell_kwargs):
        super().__init__()
        self.cell = NTMCell(input_size, output_size, **cell_kwargs)

    @property
    def pieces(self):
        """The cell's :class:`~ntm_course.pieces.Pieces` (``model.pieces = ...`` sets ``model.cell.pieces``)."""
        return self.cell.pieces

    @pieces.setter
    def pieces(self, pieces):
        self.cell.pieces = pieces

    def forward(self, x):
        return self.trace(x, record=False)[0]

    def trace(self, x, record=True):
        """Run the sequence; return ``(logits (T, B, out), trace)``.

        With ``record=True`` the trace maps names to tensors stacked over time:

        - ``read_weights (T, B, R, N)``, ``reads (T, B, R, M)``, ``memory (T, B, N, M)`` (after each step);
        - every read head's addressing parameters: ``read_key (T, B, R, M)``, ``read_beta``, ``read_g``,
          ``read_gamma (T, B, R, 1)`` and ``read_s (T, B, R, K)``;
        - with write heads, ``write_weights (T, B, W, N)``, ``erase`` and ``add (T, B, W, M)``, and
          ``write_key``, ``write_beta``, ``write_g``, ``write_s``, ``write_gamma`` shaped like the read ones.

        With ``record=False`` it is empty.
        """
        check_tensor("x", x, 3, "T, B, input_size", (None, None, self.cell.input_size))
        if x.shape[0] == 0:
            raise ValueError(f"x must hold at least one time step, got shape {tuple(x.shape)}")
        state = self.cell.initial_state(x.shape[1])
        outputs, steps = [], []
        try:
            for x_t in x:
                y, state, info = self.cell(x_t, state, record)
                outputs.append(y)
                if record:
                    steps.append({**info, "memory": state.memory})
        except PieceError as error:
            raise error.with_traceback(None)   # the message names the piece
        trace = {k: torch.stack([s[k] for s in steps]) for k in steps[0]} if steps else {}
        return torch.stack(outputs), trace


class LSTMBaseline(nn.Module):
    """The paper's LSTM baseline: a stack of LSTM layers and a linear output, ``(T, B, in) -> (T, B, out)``."""

    def __init__(self, input_size, output_size, hidden_size=256, num_layers=3):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers)
        self.output = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        check_tensor("x", x, 3, "T, B, input_size", (None, None, self.lstm.input_size))
        check_same_device_dtype(x=x, output_weight=self.output.weight)
        return self.output(self.lstm(x)[0])


def count_parameters(model):
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
