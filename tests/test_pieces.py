"""Your own machine: the NTM, the hand-programmed machines and training run on a learner's pieces."""
import traceback

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck

from ntm_course import NTM, NTMCell, PieceError, Pieces, addressing, heads, memory, step
from ntm_course.experiments.tasks import get_task
from ntm_course.experiments.training import train
from ntm_course.handcrafted import hand_programmed_copy, sort_by_placement
from ntm_course.ntm import NTMState
from ntm_course.pieces import LIBRARY, PIECE_NAMES

SMALL = dict(controller_size=8, N=6, M=4)
LIBRARY_FUNCTIONS = {"read": memory.read, "write": memory.write, "cosine_similarity": addressing.cosine_similarity,
                     "content_addressing": addressing.content_addressing, "interpolate": addressing.interpolate,
                     "shift": addressing.shift, "sharpen": addressing.sharpen}
LATER_FUNCTIONS = {"address": addressing.address, "split_head_params": heads.split_head_params,
                   "memory_step": step.single_head_step, "training_step": step.training_step}


# A learner's re-implementation of every piece, written differently from the library's, single-head only.
def my_read(memory, w):
    return (w.unsqueeze(2) * memory).sum(dim=1)


def my_write(memory, w, e, a):
    assert w.dim() == 2, "a learner's write only knows one head"
    return memory * (1 - w[:, :, None] * e[:, None, :]) + w[:, :, None] * a[:, None, :]


def my_cosine_similarity(memory, key):
    return F.cosine_similarity(memory, key.unsqueeze(1), dim=2, eps=1e-8)


def my_content_addressing(memory, key, beta):
    return torch.softmax(beta * my_cosine_similarity(memory, key), dim=1)


def my_interpolate(w_content, w_prev, g):
    return g * w_content + (1 - g) * w_prev


def my_shift(w, s):
    K = s.shape[1]
    return sum(s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=1) for k in range(K))


def my_sharpen(w, gamma):
    powered = w ** gamma
    return powered / powered.sum(dim=1, keepdim=True)


MINE = Pieces(read=my_read, write=my_write, cosine_similarity=my_cosine_similarity,
              content_addressing=my_content_addressing, interpolate=my_interpolate, shift=my_shift,
              sharpen=my_sharpen)


def through(fn):
    """The library's ``fn`` behind a wrapper: to ``Pieces`` it is the learner's (guarded, single-head write)."""
    return lambda *args: fn(*args)


def episode(T=5, B=3, width=4, dtype=torch.float32):
    return torch.randn(T, B, width, generator=torch.Generator().manual_seed(1)).to(dtype)


def twins(pieces, **kwargs):
    """Two NTMs with the same weights: one on the library's pieces, one on ``pieces``."""
    torch.manual_seed(0)
    default = NTM(4, 2, **SMALL, **kwargs)
    torch.manual_seed(0)
    other = NTM(4, 2, **SMALL, **kwargs, pieces=pieces)
    return default, other


# ---------------------------------------------------------------- the same machine on other pieces

def test_default_pieces_are_the_librarys():
    model = NTM(4, 2, **SMALL)
    assert model.cell.pieces is LIBRARY and model.pieces is LIBRARY and LIBRARY.mine() == []
    assert all(getattr(LIBRARY, name) is fn for name, fn in {**LIBRARY_FUNCTIONS, **LATER_FUNCTIONS}.items()
               if name != "address")     # the library's address is the pipeline on its stages


@pytest.mark.parametrize("heads", [(1, 1), (2, 2)])
def test_pieces_of_library_functions_give_bit_identical_outputs(heads):
    R, W = heads
    default, same = twins(Pieces(**LIBRARY_FUNCTIONS), num_read_heads=R, num_write_heads=W)
    x = episode()
    logits, trace = default.trace(x)
    logits2, trace2 = same.trace(x)
    assert torch.equal(logits, logits2)
    assert all(torch.equal(trace[k], trace2[k]) for k in trace)


def test_wrapped_library_functions_give_identical_outputs_with_one_write_head():
    """Wrapped, every piece counts as the learner's: the guarded, single-head write path, same numbers."""
    pieces = Pieces(**{name: through(fn) for name, fn in {**LIBRARY_FUNCTIONS, **LATER_FUNCTIONS}.items()})
    assert sorted(pieces.mine()) == sorted(PIECE_NAMES)
    default, wrapped = twins(pieces)
    x = episode()
    assert torch.equal(default(x), wrapped(x))


@pytest.mark.parametrize("heads", [(1, 1), (2, 3), (1, 0)])
def test_a_correct_reimplementation_gives_the_same_outputs(heads):
    R, W = heads
    default, mine = twins(MINE, num_read_heads=R, num_write_heads=W, memory_init="random")
    assert mine.pieces is MINE
    x = episode()
    torch.manual_seed(3)
    logits, trace = default.trace(x)
    torch.manual_seed(3)                                  # the same random initial memory
    logits2, trace2 = mine.trace(x)
    torch.testing.assert_close(logits2, logits)
    for key in trace:
        torch.testing.assert_close(trace2[key], trace[key], msg=key)


def test_several_write_heads_on_a_single_head_write_erase_all_then_add_all():
    """A learner's single-head write is applied head by head: every erase, then every add."""
    g = torch.Generator().manual_seed(0)
    mem = torch.randn(2, 5, 3, generator=g)
    w = torch.softmax(torch.randn(2, 3, 5, generator=g), dim=2)
    e, a = torch.rand(2, 3, 3, generator=g), torch.randn(2, 3, 3, generator=g)
    torch.testing.assert_close(MINE.heads.write(mem, w, e, a), memory.write(mem, w, e, a))
    # one head after another (erase and add together) would differ: the order matters for W > 1
    sequential = mem
    for i in range(3):
        sequential = my_write(sequential, w[:, i], e[:, i], a[:, i])
    assert not torch.allclose(sequential, memory.write(mem, w, e, a))


def test_pieces_are_not_parameters_and_can_be_swapped_on_a_trained_model():
    default, mine = twins(MINE)
    assert default.state_dict().keys() == mine.state_dict().keys()
    assert not any("piece" in k for k in mine.state_dict())
    x = episode()
    before = default(x)
    default.cell.pieces = Pieces(shift=lambda w, s: w)      # a shift that never moves
    assert default.pieces.mine() == ["shift"]
    assert not torch.allclose(default(x), before)
    default.pieces = None                                  # back to the library's
    assert default.cell.pieces is LIBRARY and torch.equal(default(x), before)
    with pytest.raises(ValueError, match="pieces must be a ntm_course.pieces.Pieces"):
        default.cell.pieces = {"shift": my_shift}


def test_the_controller_clip_bounds_beta_and_gamma():
    """Controller outputs are clipped to +-20 before the activations: beta <= softplus(20), gamma <= 1 + that."""
    model = NTM(4, 2, **SMALL)
    with torch.no_grad():
        model.cell.read_heads.fc.bias.fill_(1e4)
        model.cell.write_heads.fc.bias.fill_(1e4)
    _, trace = model.trace(episode())
    bound = F.softplus(torch.tensor(20.0)).item()
    assert bound == pytest.approx(20.0, abs=1e-6)                       # log(1 + e^20) = 20 + 2e-9
    for kind in ("read", "write"):
        torch.testing.assert_close(trace[f"{kind}_beta"], torch.full_like(trace[f"{kind}_beta"], bound))
        torch.testing.assert_close(trace[f"{kind}_gamma"], torch.full_like(trace[f"{kind}_gamma"], 1 + bound))


def test_trace_parameters_are_in_their_ranges():
    _, trace = NTM(4, 2, num_read_heads=2, num_write_heads=2, **SMALL).trace(episode())
    for kind in ("read", "write"):
        assert (trace[f"{kind}_beta"] > 0).all() and (trace[f"{kind}_gamma"] >= 1).all()
        assert ((trace[f"{kind}_g"] > 0) & (trace[f"{kind}_g"] < 1)).all()
        torch.testing.assert_close(trace[f"{kind}_s"].sum(-1), torch.ones(5, 3, 2))


# ---------------------------------------------------------------- a wrong piece names itself

def broken_shift(w, s):
    return w[:, :-1]                                      # one row short


def crashing_sharpen(w, gamma):
    return w ** gamma.squeeze()                           # (B, N) ** (B,): a broadcasting error


@pytest.mark.parametrize("piece, fn, message", [
    ("shift", broken_shift, r"your shift returned \(3, 5\), but the machine needs a tensor of shape \(3, 6\)"),
    ("sharpen", crashing_sharpen, r"your sharpen failed inside the machine: RuntimeError"),
    ("read", lambda memory, w: memory.sum(1, keepdim=True), r"your read returned \(3, 1, 4\)"),
    ("write", lambda memory, w, e, a: memory[0], r"your write returned \(6, 4\)"),
])
def test_a_wrong_piece_raises_piece_error_naming_it(piece, fn, message):
    model = NTM(4, 2, **SMALL, pieces=Pieces(**{piece: fn}))
    with pytest.raises(PieceError, match=message) as caught:
        model(episode())
    assert isinstance(caught.value, ValueError)
    # a short traceback: it stops at the cell, not deep inside the heads and the addressing pipeline
    frames = [f.filename for f in traceback.extract_tb(caught.value.__traceback__)]
    inside = ("ntm_course/heads.py", "ntm_course/pieces.py", "ntm_course/addressing.py")
    assert not any(name.endswith(inside) for name in frames), frames


def test_a_piece_error_from_the_cell_alone_is_short_too():
    cell = NTMCell(4, 2, **SMALL, pieces=Pieces(shift=broken_shift))
    with pytest.raises(PieceError, match="your shift") as caught:
        cell(torch.randn(3, 4), cell.initial_state(3))
    frames = [f.filename for f in traceback.extract_tb(caught.value.__traceback__)]
    assert not any(name.endswith("ntm_course/heads.py") for name in frames), frames


# ---------------------------------------------------------------- gradients flow through the learner's code

def test_gradcheck_one_step_on_the_learners_pieces():
    cell = NTMCell(3, 2, controller_size=4, N=4, M=3, num_read_heads=2, num_write_heads=2,
                   pieces=MINE).double()
    _, state, _ = cell(torch.randn(2, 3, dtype=torch.float64), cell.initial_state(2))   # a state off its start
    carried = [t.detach().clone().requires_grad_() for t in (state.memory, state.reads, state.read_weights,
                                                              state.write_weights)]
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)

    def step(x, memory, reads, read_weights, write_weights):
        y, new, _ = cell(x, NTMState(memory, reads, read_weights, write_weights, state.controller))
        return y, new.memory, new.reads, new.read_weights, new.write_weights

    assert gradcheck(step, (x, *carried))


# ---------------------------------------------------------------- the hand-programmed machines and training

@pytest.mark.parametrize("jump", ["content", "location"])
def test_the_copy_machine_runs_on_the_learners_pieces(jump):
    x = (torch.rand(4, 2, 3, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    ours, trace = hand_programmed_copy(x, N=8, jump=jump)
    theirs, trace2 = hand_programmed_copy(x, N=8, jump=jump, pieces=MINE)
    torch.testing.assert_close(theirs, ours)
    torch.testing.assert_close(theirs, x, atol=1e-4, rtol=0)
    torch.testing.assert_close(trace2["read_weights"], trace["read_weights"])


def test_the_copy_machine_names_a_wrong_piece():
    x = torch.ones(3, 1, 2)
    with pytest.raises(PieceError, match="your shift") as caught:
        hand_programmed_copy(x, pieces=Pieces(shift=broken_shift))
    frames = [f.filename for f in traceback.extract_tb(caught.value.__traceback__)]
    assert not any(name.endswith(("ntm_course/heads.py", "ntm_course/pieces.py")) for name in frames), frames


def test_sort_by_placement_runs_on_the_learners_pieces():
    batch = get_task("priority_sort").make(4, generator=torch.Generator().manual_seed(0))
    ours = sort_by_placement(batch.inputs, N=1000)
    theirs = sort_by_placement(batch.inputs, N=1000, pieces=MINE)
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(b, a)
    with pytest.raises(PieceError, match="your read"):
        sort_by_placement(batch.inputs, pieces=Pieces(read=lambda memory, w: w))


TINY = dict(controller_size=16, N=12, M=6, batch_size=4, eval_every=2, eval_size=8, lr=1e-2,
            task_options={"max_length": 3}, progress=False, device="cpu")


def test_train_runs_an_ntm_made_of_the_learners_pieces(tmp_path):
    ours = train("copy", steps=4, **TINY)
    theirs = train("copy", steps=4, pieces=MINE, checkpoint=tmp_path / "mine.pt", **TINY)
    assert theirs.model.pieces is MINE and "pieces" not in theirs.config
    assert [r["eval_bits"] for r in theirs.history] == pytest.approx([r["eval_bits"] for r in ours.history],
                                                                     rel=1e-3)
    saved = torch.load(tmp_path / "mine.pt", weights_only=True)          # plain tensors: no functions saved
    assert "pieces" not in saved["config"]


def test_train_with_pieces_names_a_wrong_piece_and_refuses_the_lstm():
    with pytest.raises(PieceError, match="your sharpen"):
        train("copy", steps=2, pieces=Pieces(sharpen=crashing_sharpen), **TINY)
    with pytest.raises(ValueError, match="LSTM baseline"):
        train("copy", steps=2, model="lstm", pieces=MINE, **TINY)


def test_a_piece_that_is_not_a_function_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"^shift must be a function, got int$"):
        Pieces(shift=3)


def test_pieces_replace_gives_a_copy_with_the_learners_piece():
    def shift(w, s):
        return w
    mine = Pieces().replace(shift=shift)
    assert mine.mine() == ["shift"] and Pieces().mine() == []
    assert torch.equal(mine.shift(torch.eye(3)[:2], torch.tensor([[0.0, 0.0, 1.0]] * 2)), torch.eye(3)[:2])
