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

Every stage the cell calls apart from torch's layers (the controller, the heads' linear layers, the output
layer) comes from a :class:`~ntm_course.pieces.Pieces` (``pieces=``, the library's own by default): the head
activations (``split_head_params``), the memory step (``memory_step``), and inside it ``address`` and its
stages, ``read`` and ``write``. So an NTM can run on the learner's own code. A piece of theirs that fails stops
the step with a :class:`~ntm_course.pieces.PieceError` that names it.
"""
import inspect
import warnings
from typing import NamedTuple

import torch
from torch import nn

from . import fused
from .checks import check_same_device_dtype, check_tensor
from .controller import LSTMController, make_controller
from .heads import HEAD_PARAMS, HeadParams
from .memory import InitialMemory
from .pieces import LIBRARY, PieceError, Pieces
from .step import memory_step


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
        head_clip: controller outputs are clipped to ``[-head_clip, head_clip]`` before the head activations.
            This bounds the head parameters: ``beta`` at most ``softplus(head_clip)`` (about 20) and ``gamma``
            at most ``1 + softplus(head_clip)`` (about 21), so no head can sharpen or focus without limit.
        pieces: the :class:`~ntm_course.pieces.Pieces` the step runs on (default: the library's). Kept as
            ``cell.pieces``: not a parameter, not saved in the ``state_dict``, and it may be assigned later
            (``model.cell.pieces = my_pieces()`` runs a trained model on the learner's functions).

    The heads of each kind are one :class:`~ntm_course.heads.HeadParams`: all read heads' parameters come from
    one linear layer, all write heads' from another, and the step (:func:`~ntm_course.step.memory_step`)
    addresses all heads of a kind in one call. The cell checks its inputs once per call (:meth:`forward`);
    :class:`NTM` checks the sequence once and then runs the unchecked step.
    """

    def __init__(self, input_size, output_size, controller="lstm", controller_size=100, controller_layers=1,
                 N=128, M=20, num_read_heads=1, num_write_heads=1, shift_width=3, memory_init="constant",
                 learn_initial_state=True, head_clip=20.0, pieces=None):
        super().__init__()
        self.pieces = pieces
        if num_read_heads < 1 or num_write_heads < 0:
            raise ValueError(f"need at least one read head and no negative counts, got "
                             f"num_read_heads={num_read_heads}, num_write_heads={num_write_heads}")
        self.N, self.M = N, M
        self.input_size, self.output_size = input_size, output_size
        self.num_read_heads, self.num_write_heads = num_read_heads, num_write_heads
        self.controller = make_controller(controller, input_size + num_read_heads * M, controller_size,
                                          controller_layers)
        C = self.controller.output_size
        self.read_heads = HeadParams(C, num_read_heads, M, shift_width, write=False, clip=head_clip)
        self.write_heads = (HeadParams(C, num_write_heads, M, shift_width, write=True, clip=head_clip)
                            if num_write_heads else None)
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

    def initial_state(self, batch_size, generator=None):
        """The state before the first step, for a batch of ``batch_size`` episodes (``generator``: see
        :class:`~ntm_course.memory.InitialMemory`; only a ``"random"`` initial memory draws from it)."""
        R = self.num_read_heads
        p = self.reads0
        weights0 = torch.softmax(self.weight_logits0, dim=1).unsqueeze(0).expand(batch_size, -1, -1)
        return NTMState(
            memory=self.initial_memory(batch_size, generator).to(p),
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
        self.check_state(state)
        check_tensor("x", x, 2, "B, input_size", (state.memory.shape[0], self.input_size))
        check_same_device_dtype(x=x, memory=state.memory)
        try:
            h, state, info = self.step(x, state, record)
        except PieceError as error:
            raise error.with_traceback(None)   # the message names the piece: skip the cell's insides
        return self.readout(h, state.reads), state, info

    def readout(self, h, reads):
        """The output layer on ``[h, reads]``: ``h (..., C)``, ``reads (..., R, M)`` -> logits ``(..., output_size)``
        (one step ``(B, ...)`` or a whole sequence ``(T, B, ...)``: the output does not feed back into the step)."""
        return self.output(torch.cat([h, reads.flatten(-2)], dim=-1))

    def check_state(self, state):
        """A ``ValueError`` naming the field unless ``state`` is an :class:`NTMState` of this cell's shapes."""
        if not isinstance(state, NTMState):
            raise ValueError(f"state must be an NTMState (from initial_state), got {type(state).__name__}")
        B = check_tensor("state.memory", state.memory, 3, "B, N, M", (None, self.N, self.M)).shape[0]
        R, W = self.num_read_heads, self.num_write_heads
        check_tensor("state.reads", state.reads, 3, "B, R, M", (B, R, self.M))
        check_tensor("state.read_weights", state.read_weights, 3, "B, R, N", (B, R, self.N))
        check_tensor("state.write_weights", state.write_weights, 3, "B, W, N", (B, W, self.N))
        check_same_device_dtype(memory=state.memory, reads=state.reads, read_weights=state.read_weights,
                                write_weights=state.write_weights)

    def step(self, x, state, record=False):
        """One step without checks or output layer: ``(h (B, C), new NTMState, info)`` (see :meth:`forward`).

        For callers that checked ``x (B, input_size)`` and ``state`` once already, as :class:`NTM` does.
        """
        h, controller_state = self.controller(torch.cat([x, state.reads.flatten(1)], dim=1), state.controller)
        write_params = self.head_params(self.write_heads, h, write=True)
        read_params = self.head_params(self.read_heads, h)
        memory, reads, read_weights, write_weights = memory_step(
            state.memory, write_params, read_params, state.write_weights, state.read_weights, self._pieces)
        info = {"read_weights": read_weights, "reads": reads}
        if write_params is not None:
            info.update(write_weights=write_weights, erase=write_params["erase"], add=write_params["add"])
        if record:
            info.update({f"read_{name}": read_params[name] for name in HEAD_PARAMS})
            if write_params is not None:
                info.update({f"write_{name}": write_params[name] for name in HEAD_PARAMS})
        return h, NTMState(memory, reads, read_weights, write_weights, controller_state), info

    def head_params(self, layer, h, write=False):
        """The parameters of the heads of one kind: their linear ``layer`` (torch's) on ``h (B, C)``, then the
        pieces' ``split_head_params`` (the learner's, where they wrote it): a dict of ``(B, H, ...)``; None
        without such heads."""
        if layer is None:
            return None
        if "split_head_params" not in self._pieces.mine():
            return layer(h)
        raw = layer.fc(h).view(h.shape[0], layer.H, -1)
        return self._pieces.heads.split_head_params(raw, layer.sizes["key"], layer.sizes["s"], write, layer.clip)


class NTM(nn.Module):
    """The NTM over whole sequences: ``x (T, B, input_size)`` -> logits ``(T, B, output_size)``.

    The state is reset at the start of every call (every episode starts from the initial state).
    Takes the same arguments as :class:`NTMCell`, ``pieces=`` included: ``NTM(9, 8, pieces=my_pieces())``
    is an NTM made of the learner's functions, and ``model.cell.pieces = ...`` swaps them in a trained one.

    ``model.fast = True`` runs :meth:`forward` on the fused memory step (:mod:`ntm_course.fused`, the fast path)
    where it applies: the library's pieces, on a CPU, in float32 or float64; elsewhere, and in :meth:`trace`, the
    eager step runs. The two agree to rounding (1e-5 in float32). Off by default (the eager step is the
    reference); ``ntm-course train`` and the playground turn it on. A plain attribute, like ``pieces``: not in
    the ``state_dict``.
    """

    fast = False

    def __init__(self, input_size, output_size, **cell_kwargs):
        super().__init__()
        self.cell = NTMCell(input_size, output_size, **cell_kwargs)

    __init__.__signature__ = inspect.signature(NTMCell.__init__)   # help(NTM) and Jupyter show NTMCell's arguments

    @property
    def pieces(self):
        """The cell's :class:`~ntm_course.pieces.Pieces` (``model.pieces = ...`` sets ``model.cell.pieces``)."""
        return self.cell.pieces

    @pieces.setter
    def pieces(self, pieces):
        self.cell.pieces = pieces

    def forward(self, x, generator=None):
        if self.fast and isinstance(x, torch.Tensor) and self._fast_applies(x):
            return self._fast_forward(x, generator)
        return self.trace(x, record=False, generator=generator)[0]

    def _fast_applies(self, x):
        """Whether :meth:`forward` can run the fused step on ``x``; warns once when it was asked for but cannot be
        built here (the eager step then runs)."""
        if set(self.cell.pieces.mine()) - {"training_step"} or not fused.supports(x):
            return False
        ok, why = fused.available()
        if not ok and not getattr(self, "_warned", False):
            self._warned = True
            warnings.warn(f"model.fast: the fused step is not available, running the eager step ({why})",
                          stacklevel=3)
        return ok

    def _fast_forward(self, x, generator):
        """:meth:`forward` on the fused step: per time step the controller (a one-layer LSTM as one matrix product
        and :func:`ntm_course.fused.lstm_cell`), one matrix product for every head's raw parameters (write heads
        first, then read heads) and :func:`ntm_course.fused.memory_step`."""
        cell = self.cell
        state = self._initial_state(x, generator)
        layers = [layer for layer in (cell.write_heads, cell.read_heads) if layer is not None]
        weight = torch.cat([layer.fc.weight for layer in layers]).t()
        bias = torch.cat([layer.fc.bias for layer in layers])
        K, clip = cell.read_heads.sizes["s"], cell.read_heads.clip
        memory, reads, w_read, w_write, controller = state
        lstm = cell.controller.cells[0] if isinstance(cell.controller, LSTMController) \
            and len(cell.controller.cells) == 1 else None
        if lstm is not None:      # [x, r, h] (W_ih W_hh)^T + b_ih + b_hh: the gates in one product
            lstm_weight, lstm_bias = torch.cat([lstm.weight_ih, lstm.weight_hh], dim=1).t(), lstm.bias_ih + lstm.bias_hh
        hs, all_reads = [], []
        for x_t in x:
            if lstm is None:
                h, controller = cell.controller(torch.cat([x_t, reads.flatten(1)], dim=1), controller)
            else:
                ((h, c),) = controller
                gates = torch.addmm(lstm_bias, torch.cat([x_t, reads.flatten(1), h], dim=1), lstm_weight)
                h, c = fused.lstm_cell(gates, c)
                controller = ((h, c),)
            memory, reads, w_read, w_write = fused.memory_step(memory, torch.addmm(bias, h, weight), w_write, w_read,
                                                               K, clip)
            hs.append(h)
            all_reads.append(reads)
        return cell.readout(torch.stack(hs), torch.stack(all_reads))

    def _initial_state(self, x, generator):
        """The checks on ``x (T, B, input_size)`` (a ValueError naming it), then the cell's initial state."""
        cell = self.cell
        check_tensor("x", x, 3, "T, B, input_size", (None, None, cell.input_size))
        if x.shape[0] == 0:
            raise ValueError(f"x must hold at least one time step, got shape {tuple(x.shape)}")
        state = cell.initial_state(x.shape[1], generator)
        check_same_device_dtype(x=x, memory=state.memory)
        return state

    def trace(self, x, record=True, generator=None):
        """Run the sequence; return ``(logits (T, B, out), trace)``.

        ``generator``: a CPU ``torch.Generator`` for a ``"random"`` initial memory (default: the memory's own).

        With ``record=True`` the trace maps names to tensors stacked over time:

        - ``read_weights (T, B, R, N)``, ``reads (T, B, R, M)``, ``memory (T, B, N, M)`` (after each step);
        - every read head's addressing parameters: ``read_key (T, B, R, M)``, ``read_beta``, ``read_g``,
          ``read_gamma (T, B, R, 1)`` and ``read_s (T, B, R, K)``;
        - with write heads, ``write_weights (T, B, W, N)``, ``erase`` and ``add (T, B, W, M)``, and
          ``write_key``, ``write_beta``, ``write_g``, ``write_s``, ``write_gamma`` shaped like the read ones.

        With ``record=False`` it is empty.
        """
        cell = self.cell
        state = self._initial_state(x, generator)
        hs, reads, steps = [], [], []
        try:
            for x_t in x:
                h, state, info = cell.step(x_t, state, record)
                hs.append(h)
                reads.append(state.reads)
                if record:
                    steps.append({**info, "memory": state.memory})
        except PieceError as error:
            raise error.with_traceback(None)   # the message names the piece
        logits = cell.readout(torch.stack(hs), torch.stack(reads))     # one matrix product for the whole sequence
        trace = {k: torch.stack([s[k] for s in steps]) for k in steps[0]} if steps else {}
        return logits, trace


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
