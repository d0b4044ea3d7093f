"""The whole machine is the learner's (issue #31): a second, independently written implementation of every stage,
checked and saved with ``your_turn`` as a learner's would be, loaded by ``my_pieces``, and counted call by call
through lessons 7-9's machines: the hand-programmed copy machine, the NTM, and a few training steps, and through
the capstone's playground."""
import importlib.util
import sys
import types
from collections import Counter

import pytest
import torch

from ntm_course import NTM, Pieces
from ntm_course.experiments.training import TrainingDiverged, train
from ntm_course.handcrafted import hand_programmed_copy
from ntm_course.pieces import PIECE_NAMES
from ntm_course.step import single_head_step, training_step
from ntm_course.teaching.lesson import my_pieces, your_turn
from ntm_course.teaching.practice import check

# Every stage written again, differently from the library (and from tests/test_pieces.py), single-head, each
# counting its calls in the module ``piece_calls`` (a global of the saved file, imported when it loads).
SOURCE = '''
import piece_calls
import torch


def read(memory, w):
    piece_calls.COUNT["read"] += 1
    return torch.einsum("bn,bnm->bm", w, memory)


def write(memory, w, erase, add):
    piece_calls.COUNT["write"] += 1
    erased = memory - memory * torch.einsum("bn,bm->bnm", w, erase)
    return erased + torch.einsum("bn,bm->bnm", w, add)


def cosine_similarity(memory, key):
    piece_calls.COUNT["cosine_similarity"] += 1
    dots = torch.einsum("bnm,bm->bn", memory, key)
    lengths = torch.linalg.vector_norm(memory, dim=2) * torch.linalg.vector_norm(key, dim=1).unsqueeze(1)
    return dots / torch.clamp(lengths, min=1e-8)


def content_addressing(memory, key, beta):
    piece_calls.COUNT["content_addressing"] += 1
    score = beta * cosine_similarity(memory, key)
    e = torch.exp(score - score.max(dim=1, keepdim=True).values)
    return e / e.sum(dim=1, keepdim=True)


def interpolate(w_content, w_prev, g):
    piece_calls.COUNT["interpolate"] += 1
    return w_prev + g * (w_content - w_prev)


def shift(w, s):
    piece_calls.COUNT["shift"] += 1
    K = s.shape[1]
    moved = torch.stack([torch.roll(w, k - K // 2, dims=1) for k in range(K)], dim=2)   # (B, N, K)
    return torch.einsum("bnk,bk->bn", moved, s)


def sharpen(w, gamma):
    piece_calls.COUNT["sharpen"] += 1
    scaled = w / w.max(dim=1, keepdim=True).values.clamp_min(1e-30)
    powered = scaled ** gamma
    return powered / powered.sum(dim=1, keepdim=True)


def address(memory, key, beta, g, s, gamma, w_prev):
    piece_calls.COUNT["address"] += 1
    return sharpen(shift(interpolate(content_addressing(memory, key, beta), w_prev, g), s), gamma)


def split_head_params(raw, M, K, write=False, clip=20.0):
    piece_calls.COUNT["split_head_params"] += 1
    if clip is not None:
        raw = torch.clamp(raw, -clip, clip)
    widths = [("key", M), ("beta", 1), ("g", 1), ("s", K), ("gamma", 1)] + ([("erase", M), ("add", M)] if write else [])
    out, start = {}, 0
    for name, width in widths:
        out[name] = raw.narrow(1, start, width)
        start += width
    out["beta"] = torch.nn.functional.softplus(out["beta"])
    out["g"] = torch.sigmoid(out["g"])
    out["s"] = torch.softmax(out["s"], dim=1)
    out["gamma"] = 1 + torch.nn.functional.softplus(out["gamma"])
    if write:
        out["erase"], out["add"] = torch.sigmoid(out["erase"]), torch.tanh(out["add"])
    return out


def memory_step(memory, write_params, read_params, w_write_prev, w_read_prev):
    piece_calls.COUNT["memory_step"] += 1

    def focus(where, head, previous):
        return address(where, head["key"], head["beta"], head["g"], head["s"], head["gamma"], previous)

    written = focus(memory, write_params, w_write_prev)
    memory = write(memory, written, write_params["erase"], write_params["add"])
    looked = focus(memory, read_params, w_read_prev)
    return memory, read(memory, looked), looked, written


def training_step(model, optimizer, loss_of, clip=10.0):
    piece_calls.COUNT["training_step"] += 1
    for p in model.parameters():
        p.grad = None
    loss = loss_of()
    loss.backward()
    for p in model.parameters():
        if p.grad is not None:
            p.grad.clamp_(-clip, clip)
    optimizer.step()
    return loss
'''


@pytest.fixture
def learner(tmp_path, monkeypatch):
    """The learner's notebook, as a module with a source file (so its functions' source can be found), and the
    call counter it reports to."""
    calls = types.ModuleType("piece_calls")
    calls.COUNT = Counter()
    monkeypatch.setitem(sys.modules, "piece_calls", calls)
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    path = tmp_path / "learners_notebook.py"
    path.write_text(SOURCE)
    spec = importlib.util.spec_from_file_location("learners_notebook", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, calls.COUNT


def test_every_stage_written_again_passes_its_check_and_is_saved(learner, capsys):
    module, _ = learner
    for name in PIECE_NAMES:
        assert your_turn(name, getattr(module, name)) is getattr(module, name)
    out = " ".join(capsys.readouterr().out.split())
    assert out.count("from here on, the lesson uses your") == len(PIECE_NAMES)
    assert "not saved" not in out


def test_lessons_7_to_9_run_on_the_learners_code_and_call_every_piece(learner, capsys):
    module, count = learner
    for name in PIECE_NAMES:
        your_turn(name, getattr(module, name))
    capsys.readouterr()
    pieces = my_pieces(timing=False)
    out = " ".join(capsys.readouterr().out.split())
    assert pieces.mine() == list(PIECE_NAMES), out
    assert "the course's" not in out                     # no stage left that is not theirs
    count.clear()

    # lesson 7: the hand-programmed copy machine
    x = (torch.rand(4, 1, 3, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    copied, _ = hand_programmed_copy(x, N=8, pieces=pieces)
    torch.testing.assert_close(copied, x, atol=1e-4, rtol=0)
    lesson_7 = Counter(count)
    assert all(lesson_7[name] > 0 for name in ("memory_step", "address", "read", "write", "shift", "sharpen"))

    # lesson 8: an NTM made of the learner's pieces gives the library's outputs, with the same weights
    torch.manual_seed(0)
    ours = NTM(9, 8, controller_size=16, N=12, M=6)
    theirs = NTM(9, 8, controller_size=16, N=12, M=6, pieces=pieces)
    theirs.load_state_dict(ours.state_dict())
    count.clear()
    episode = torch.rand(7, 3, 9, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(theirs(episode), ours(episode), atol=1e-5, rtol=1e-4)
    T = 7
    assert count["split_head_params"] == 2 * T and count["memory_step"] == T and count["address"] == 2 * T
    for name in ("read", "write", "cosine_similarity", "content_addressing", "interpolate", "shift", "sharpen"):
        assert count[name] >= T, (name, count)

    # lesson 9: a few training steps, every update through the learner's training_step
    count.clear()
    run = train("copy", steps=3, controller_size=16, N=12, M=6, batch_size=4, eval_every=3, eval_size=8,
                task_options={"max_length": 3}, progress=False, device="cpu", pieces=pieces)
    assert run.model.pieces is pieces and count["training_step"] == 3
    assert all(count[name] > 0 for name in PIECE_NAMES), count


def test_the_capstones_playground_trains_the_learners_machine(learner, capsys):
    """Lesson 12's playground, on a task of the learner's own making (reverse copy), runs on every piece of theirs:
    the NTM's stages and their training step."""
    from ntm_course.experiments.playground import Session
    module, count = learner
    for name in PIECE_NAMES:
        your_turn(name, getattr(module, name))
    pieces = my_pieces(timing=False)
    capsys.readouterr()
    count.clear()
    session = Session("reverse_copy", N=8, M=4, controller_size=8, batch_size=4, eval_size=4, chunk=3, seed=0,
                      device="cpu", pieces=pieces)
    session.run_steps(3)
    assert session.step == 3 and count["training_step"] == 3
    assert all(count[name] > 0 for name in PIECE_NAMES), count


@pytest.mark.parametrize("guards", [{}, {"grad_clip_spikes": 2.0, "grad_clip_norm": 1.0}])
def test_the_learners_training_step_trains_as_the_courses_does(guards):
    """The run's spike and norm clips still apply (inside the optimiser's step the learner calls): the same numbers."""
    calls = []

    def counted(model, optimizer, loss_of, clip=10.0):
        calls.append(clip)
        return training_step(model, optimizer, loss_of, clip)

    options = dict(steps=4, controller_size=16, N=12, M=6, batch_size=4, eval_every=2, eval_size=8, lr=1e-2,
                   task_options={"max_length": 3}, progress=False, device="cpu", **guards)
    ours = train("copy", **options)
    theirs = train("copy", pieces=Pieces(training_step=counted), **options)
    assert calls == [10.0] * 4
    assert [r["eval_bits"] for r in theirs.history] == pytest.approx([r["eval_bits"] for r in ours.history], rel=1e-6)


def test_a_training_step_that_never_steps_is_named():
    def lazy(model, optimizer, loss_of, clip=10.0):
        return loss_of()
    with pytest.raises(TrainingDiverged, match="your training_step never called optimizer.step()"):
        train("copy", steps=1, controller_size=8, N=6, M=4, batch_size=2, eval_every=1, eval_size=2,
              progress=False, device="cpu", pieces=Pieces(training_step=lazy))


@pytest.mark.parametrize("heads", [(1, 1), (2, 1), (1, 2)])
def test_the_learners_memory_step_runs_one_head_of_each_kind_and_the_rest_on_their_other_pieces(heads):
    R, W = heads
    calls = []

    def step(*args):
        calls.append(1)
        return single_head_step(*args)

    torch.manual_seed(0)
    ours = NTM(4, 2, controller_size=8, N=6, M=4, num_read_heads=R, num_write_heads=W)
    theirs = NTM(4, 2, controller_size=8, N=6, M=4, num_read_heads=R, num_write_heads=W,
                 pieces=Pieces(memory_step=step))
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(5, 3, 4, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(theirs(x), ours(x))
    assert len(calls) == (5 if heads == (1, 1) else 0)


def test_the_lessons_training_step_is_not_the_graded_exercises_answer():
    """09_train_step (graded) computes the loss from the batch and returns a float; the lesson's stub gets
    ``loss_of``: the answer to one fails the other's check."""
    grading = pytest.importorskip("ntm_course_instructor.grading.train_step")
    from ntm_course.teaching.practice.checker import run_check
    assert run_check(grading.TRAIN_STEP, training_step, verbose=False).points == 0
    assert check("training_step", grading.train_step, verbose=False).points == 0


def test_a_run_that_diverges_inside_the_learners_training_step_says_so_not_blaming_the_step():
    def poison(step, model):
        if step == 2:
            with torch.no_grad():
                model.cell.output.weight[0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="training diverged at step 3"):
        train("copy", steps=5, controller_size=8, N=6, M=4, batch_size=2, eval_every=5, eval_size=2,
              progress=False, device="cpu", pieces=Pieces(training_step=training_step), callback=poison)
