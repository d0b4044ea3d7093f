"""Hand-programmed NTMs: head parameters set by hand, no controller and no training. One copies a sequence;
:func:`sort_by_placement` sorts by priority the way the paper guessed its priority-sort NTM does.

It runs the algorithm the paper found its trained NTM using on the copy task (section 4.1): *write each
input and shift the write head by +1; then jump back to the start, read and shift the read head by +1*.
Every step goes through the NTM's own functions -- the addressing pipeline for both heads, then ``write``
and ``read``, in the order :class:`~ntm_course.ntm.NTMCell` uses -- so the only thing missing from a real
NTM is the controller that would emit these parameters. The functions come from ``pieces`` (a
:class:`~ntm_course.pieces.Pieces`, the library's by default): pass the learner's, and the machine runs on
their code; a piece of theirs that fails raises :class:`~ntm_course.pieces.PieceError` naming it.

Layout: the input ``(T, B, W)`` is written during steps ``0 .. T-1``; it is read back during steps
``T .. 2T-1``. Memory has ``M = W + 1`` columns: the last one holds a *start marker*, written only with
the first item, so that content addressing can find the start again. Both heads begin focused on row
``N - 1``, one row before row 0, so the first +1 shift lands on row 0.

Two ways back to the start (``jump``):

- ``"content"``: the read head walks alongside the write head while it writes; at the first read step it
  jumps back by looking up the marker, key ``(0, ..., 0, 1)`` with a large beta and gate g = 1
  (eqs. 5, 7); afterwards g = 0 and location addressing takes over.
- ``"location"``: the read head never uses content; it waits at the start with shift 0 while the write
  head moves, then shifts +1 at every read step.

Either way the walk along the memory is *location-based addressing*: content alone cannot say "the row
after the one I just read", because the rows hold arbitrary data.
"""
import torch

from .addressing import shift_offsets
from .checks import check_tensor
from .heads import check_head_params
from .pieces import LIBRARY, PieceError
from .step import memory_step


JUMPS = ("content", "location")


def shift_distribution(offset, K=3, blur=0.0, batch_size=1, like=None):
    """A ``(B, K)`` shift distribution with mass ``1 - blur`` on ``offset`` and ``blur`` spread evenly on the others.

    ``s[:, k]`` weights offset ``k - K//2`` (the library's convention: +1 moves focus from row i to i+1).
    """
    offsets = shift_offsets(K)
    if offset not in offsets:
        raise ValueError(f"offset must be one of {offsets} for K={K}, got {offset}")
    if not 0.0 <= blur < 1.0 or (blur > 0 and K == 1):
        raise ValueError(f"blur must be in [0, 1) (and K > 1 for a non-zero blur), got blur={blur}, K={K}")
    like = torch.zeros(()) if like is None else like
    s = like.new_full((batch_size, K), blur / max(K - 1, 1))
    s[:, offsets.index(offset)] = 1.0 - blur
    return s


def copy_head_params(step, T, W, batch_size=1, jump="content", blur=0.0, gamma=1.0, beta=100.0,
                     inputs=None, like=None):
    """The hand-set head parameters of the copy machine at one time step.

    Args:
        step: the time step, ``0 .. 2T-1`` (writing while ``step < T``, reading afterwards).
        T: sequence length; W: item width (memory width is ``W + 1``).
        jump: ``"content"`` or ``"location"`` (see the module docstring).
        blur: mass each shift puts on the wrong offsets (0 gives exact shifts).
        gamma: sharpening exponent (eq. 9) for both heads; > 1 undoes the blur.
        beta: key strength of the content jump (eq. 5).
        inputs: ``(B, W)``, the item written at this step (required while writing).
    Returns:
        ``(write_params, read_params)``: dicts with ``key (B, M)``, ``beta``, ``g``, ``gamma (B, 1)``,
        ``s (B, 3)``; the write dict also has ``erase`` and ``add (B, M)``.
    """
    if jump not in JUMPS:
        raise ValueError(f"jump must be one of {JUMPS}, got {jump!r}")
    if not 0 <= step < 2 * T:
        raise ValueError(f"step must be in [0, 2T) = [0, {2 * T}), got {step}")
    like = torch.zeros(()) if like is None else like
    B, M = batch_size, W + 1

    def scalar(value):
        return like.new_full((B, 1), value)

    def head(key, beta_, g, offset):
        return {"key": key, "beta": scalar(beta_), "g": scalar(g), "gamma": scalar(gamma),
                "s": shift_distribution(offset, 3, blur, B, like)}

    no_key = like.new_zeros(B, M)
    writing = step < T
    if writing:
        if inputs is None:
            raise ValueError(f"inputs (B, W) = ({B}, {W}) are required at a write step, got None (step {step})")
        check_tensor("inputs", inputs, 2, "B, W", (B, W))
        marker = like.new_full((B, 1), 1.0 if step == 0 else 0.0)
        write_params = head(no_key, 1.0, 0.0, +1)
        write_params.update(erase=like.new_ones(B, M), add=torch.cat([inputs.to(like), marker], dim=1))
    else:
        write_params = head(no_key, 1.0, 0.0, 0)
        write_params.update(erase=like.new_zeros(B, M), add=like.new_zeros(B, M))

    if jump == "content" and step == T:
        marker_key = like.new_zeros(B, M)
        marker_key[:, -1] = 1.0
        read_params = head(marker_key, beta, 1.0, 0)
    elif writing and jump == "location":
        read_params = head(no_key, 1.0, 0.0, 0)       # wait at the start
    else:
        read_params = head(no_key, 1.0, 0.0, +1)      # walk: alongside the writer, or along the copy
    return write_params, read_params


def hand_programmed_copy(sequence, N=None, jump="content", blur=0.0, gamma=1.0, beta=100.0, pieces=None):
    """Copy ``sequence`` with an NTM whose head parameters are set by hand (no training).

    Args:
        sequence: ``(T, B, W)``, the items to copy (any real values; the copy task uses bits).
        N: memory rows (at least T; default T + 1 so one row stays free).
        jump, blur, gamma, beta: see :func:`copy_head_params`.
        pieces: the :class:`~ntm_course.pieces.Pieces` to run on (default: the library's).
    Returns:
        ``(outputs, trace)``. ``outputs`` ``(T, B, W)``: what the read head returns at steps ``T .. 2T-1``
        (the item part of each read vector). ``trace`` maps, over all ``2T`` steps,
        ``write_weights`` and ``read_weights`` ``(2T, B, N)``, ``reads`` ``(2T, B, M)``,
        ``memory`` ``(2T, B, N, M)`` (after each step's write) and ``params`` (a list of
        ``(write_params, read_params)`` per step).

    With ``blur = 0`` the copy is exact. With a blurred shift, ``gamma = 1`` lets the focus spread a little
    more at every step, so the copy fades; a larger ``gamma`` sharpens it back (eq. 9) for the location
    jump. The content jump stays fooled: the blurred first write leaves faint copies of the marker on the
    rows around row 0, and cosine similarity, blind to magnitude, matches them as well as row 0.
    """
    def params_at(step, inputs):   # called once run_steps has checked that sequence is (T, B, W)
        T, B, W = sequence.shape
        return copy_head_params(step, T, W, B, jump, blur, gamma, beta, inputs, like=sequence)
    return run_steps(params_at, sequence, N, pieces)


def run_steps(params_at, sequence, N=None, pieces=None):
    """Run a hand-programmed NTM over ``sequence``: ``params_at(step, inputs)`` sets both heads at every step.

    Memory ``(B, N, W + 1)`` starts at zero; both heads start on row ``N - 1``, one row before row 0. At steps
    ``0 .. 2T-1``, in the order of :class:`~ntm_course.ntm.NTMCell`, the write head addresses the memory and
    writes, then the read head addresses the new memory and reads. ``inputs`` is ``sequence[step]`` ``(B, W)``
    while ``step < T``, else ``None``; ``params_at`` returns the pair ``(write_params, read_params)`` of head
    parameter dicts (``key``, ``beta``, ``g``, ``s``, ``gamma``; ``erase`` and ``add`` for the write head).

    Returns ``(outputs, trace)`` as :func:`hand_programmed_copy` describes.
    """
    check_tensor("sequence", sequence, 3, "T, B, W")
    T, B, W = sequence.shape
    if T == 0:
        raise ValueError(f"sequence must hold at least one item, got shape {tuple(sequence.shape)}")
    N = T + 1 if N is None else N
    if N < T:
        raise ValueError(f"N must be at least the sequence length T to hold it, got N={N} for sequence "
                         f"of shape {tuple(sequence.shape)}")
    memory = sequence.new_zeros(B, N, W + 1)     # zeros: empty rows have cosine 0 to the marker key
    w_write = sequence.new_zeros(B, 1, N)
    w_write[:, :, -1] = 1.0                       # one row before row 0
    w_read = w_write.clone()
    pieces = LIBRARY if pieces is None else pieces
    trace = {"write_weights": [], "read_weights": [], "reads": [], "memory": [], "params": []}
    for step in range(2 * T):
        write_params, read_params = params_at(step, sequence[step] if step < T else None)
        check_head_params("write_params", write_params, B, W + 1, write=True)
        check_head_params("read_params", read_params, B, W + 1)
        try:
            memory, r, w_read, w_write = memory_step(memory, _one_head(write_params), _one_head(read_params),
                                                     w_write, w_read, pieces)
        except PieceError as error:
            raise error.with_traceback(None)   # the message names the piece
        for name, value in (("write_weights", w_write[:, 0]), ("read_weights", w_read[:, 0]), ("reads", r[:, 0]),
                            ("memory", memory), ("params", (write_params, read_params))):
            trace[name].append(value)
    params = trace.pop("params")
    trace = {name: torch.stack(values) for name, values in trace.items()}
    trace["params"] = params
    return trace["reads"][T:, :, :W], trace


def _one_head(params):
    """A head's ``(B, ...)`` parameters as the ``(B, 1, ...)`` heads form of :func:`~ntm_course.step.memory_step`."""
    return {name: value.unsqueeze(1) for name, value in params.items()}


def sort_by_placement(inputs, N=128, n_inputs=20, n_outputs=16, pieces=None):
    """Priority sort by hand: write each vector at a row set by its priority, then read the occupied rows in order.

    The paper's hypothesis about its priority-sort NTM (section 4.5): it writes each vector to a place
    given by its priority, then reads the places in order. Here vector ``i`` with priority ``p_i`` in
    [-1, 1] is written with a one-hot weighting on row ``round((1 - p_i) / 2 * (N - 1))`` (the highest
    priority at the top), erasing the row first (eqs. 3-4); a column beside the data marks the row as
    used. The read head then stops at the used rows from the top down, one per output step (eq. 2).
    Two priorities that round to the same row *collide*: the later write erases the earlier one, and the
    sorted output loses a vector -- the price of sorting by placement in a finite memory.

    Args:
        inputs: ``(T, B, W + 2)`` priority-sort inputs (:mod:`ntm_course.experiments.tasks.priority_sort`: data
            channels, then the priority, then the delimiter); the first ``n_inputs`` steps hold the vectors.
        N: memory rows; n_outputs: how many vectors to read back.
        pieces: the :class:`~ntm_course.pieces.Pieces` whose ``write`` and ``read`` it uses (default: the
            library's; the rows are chosen by hand, so no addressing piece is involved).
    Returns:
        ``(outputs, memory, rows)``: ``outputs (n_outputs, B, W)`` the vectors read, ``memory (B, N, W + 1)``
        after the writes, ``rows (n_inputs, B)`` the row each vector was written to.
    """
    check_tensor("inputs", inputs, 3, "T, B, W + 2")
    T, B, C = inputs.shape
    if not 0 < n_outputs <= n_inputs <= T or C < 3 or N < 1:
        raise ValueError(f"need 0 < n_outputs <= n_inputs <= T, a channel of data and N >= 1; got "
                         f"n_outputs={n_outputs}, n_inputs={n_inputs}, N={N}, inputs {tuple(inputs.shape)}")
    W = C - 2
    vectors, priority = inputs[:n_inputs, :, :W], inputs[:n_inputs, :, W]
    rows = ((1 - priority) / 2 * (N - 1)).round().long().clamp(0, N - 1)            # (n_inputs, B)
    pieces = LIBRARY if pieces is None else pieces
    one_hot = torch.nn.functional.one_hot
    memory = inputs.new_zeros(B, N, W + 1)
    try:
        for vector, row in zip(vectors, rows):
            memory = pieces.write(memory, one_hot(row, N).to(inputs), inputs.new_ones(B, W + 1),
                                  torch.cat([vector, inputs.new_ones(B, 1)], dim=1))
        used = memory[:, :, W] > 0.5                                                 # (B, N)
        # the used rows first, top down
        stops = (~used * N + torch.arange(N, device=inputs.device)).argsort(dim=1)[:, :n_outputs]
        outputs = torch.stack([pieces.read(memory, one_hot(stops[:, k], N).to(inputs))[:, :W]
                               for k in range(n_outputs)])
    except PieceError as error:
        raise error.with_traceback(None)   # the message names the piece
    return outputs, memory, rows
