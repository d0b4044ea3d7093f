"""ntm_course.teaching.lesson: a learner's stage is checked, used when right, saved, and loaded back into a machine."""
import re

import pytest
import torch

from ntm_course import addressing, syllabus
from ntm_course.pieces import LIBRARY
from ntm_course.teaching.lesson import HINTS, RUNGS, HintLadder, my_pieces, reveal, your_turn

# Written at module level (not in a test function) so that inspect.getsource finds them as a learner's cell.


def cosine_similarity(memory, key):
    dots = (memory * key.unsqueeze(1)).sum(dim=2)
    norms = memory.norm(dim=2) * key.norm(dim=1, keepdim=True)
    return dots / norms.clamp_min(1e-8)


def content_addressing(memory, key, beta):
    return torch.softmax(beta * cosine_similarity(memory, key), dim=1)   # calls the learner's own cosine


def shift(w, s):
    K = s.shape[1]
    return sum(s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=1) for k in range(K))


def roll_shift(w, s):
    return torch.stack([sum(s[b, k] * torch.roll(w[b], k - s.shape[1] // 2) for k in range(s.shape[1]))
                        for b in range(w.shape[0])])


def wrong_shift(w, s):
    K = s.shape[1]
    return sum(s[:, k:k + 1] * torch.roll(w, K // 2 - k, dims=1) for k in range(K))   # the other direction


def unanswered_shift(w, s):
    raise NotImplementedError()


def flat(text):
    """Printed text with its line breaks undone (the helpers wrap their lines between words)."""
    return " ".join(text.split())


@pytest.fixture(autouse=True)
def mine(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    return tmp_path / "mine"


def test_a_passing_stage_is_used_and_saved(mine, capsys):
    assert your_turn("shift", shift) is shift
    out = capsys.readouterr().out
    assert "shift: 1/1 points" in out and "the lesson uses your shift" in out
    assert (mine / "shift.py").read_text().startswith("def shift(w, s):")


@pytest.mark.parametrize("fn, says", [(unanswered_shift, "not implemented yet"), (wrong_shift, "hint:")])
def test_an_unanswered_or_wrong_stage_falls_back_to_the_course_once(fn, says, mine, capsys):
    assert your_turn("shift", fn) is addressing.shift
    out = flat(capsys.readouterr().out)
    assert says in out
    assert out.count("goes on with the course's shift") == 1
    assert not mine.exists()


def test_a_piece_named_otherwise_is_saved_under_the_pieces_name(mine, capsys):
    your_turn("shift", roll_shift)
    assert (mine / "shift.py").read_text().endswith("\nshift = roll_shift\n")
    assert my_pieces().mine() == ["shift"]


def test_my_pieces_loads_the_learners_pieces_and_they_may_call_each_other(mine, capsys):
    your_turn("cosine_similarity", cosine_similarity)
    your_turn("content_addressing", content_addressing)
    your_turn("shift", shift)
    capsys.readouterr()
    pieces = my_pieces()
    out = flat(capsys.readouterr().out)
    assert "Your pieces: cosine_similarity, content_addressing, shift." in out
    assert "the course's read (not written yet)" in out
    assert sorted(pieces.mine()) == ["content_addressing", "cosine_similarity", "shift"]
    assert pieces.read is LIBRARY.read
    memory, key, beta = torch.randn(2, 6, 4), torch.randn(2, 4), torch.rand(2, 1) * 5
    torch.testing.assert_close(pieces.content_addressing(memory, key, beta),
                               addressing.content_addressing(memory, key, beta))


def test_my_pieces_replaces_a_broken_or_no_longer_passing_file_with_the_course_piece(mine, capsys):
    mine.mkdir(parents=True)
    (mine / "shift.py").write_text("def shift(w, s):\n    return w\n")          # edited by hand: wrong now
    (mine / "sharpen.py").write_text("def sharpen(w, gamma:\n")                  # not Python
    pieces = my_pieces()
    out = flat(capsys.readouterr().out)
    assert "Your pieces: none yet." in out
    assert "no longer passes its check" in out and "could not be loaded (SyntaxError" in out
    assert pieces.mine() == []


# --- reveal: the hint ladder ----------------------------------------------------------------------------

@pytest.fixture
def ladder():
    """A fresh ladder, so that no test depends on where another left the lessons' shared one."""
    return HintLadder()


@pytest.mark.parametrize("name", syllabus.stubs())
def test_reveal_climbs_the_four_rungs_in_order_then_repeats_the_last(name, ladder, capsys):
    texts = []
    for rung in range(1, 6):
        ladder.reveal(name)
        texts.append(capsys.readouterr().out)
        assert ladder.shown[name] == min(rung, 4)
    for rung, (text, title) in enumerate(zip(texts, RUNGS), start=1):
        assert text.startswith(f"{name} -- hint {rung} of 4: {title}\n"), text
    assert "(the last one again" in texts[4] and texts[4].split("\n", 1)[1] == texts[3].split("\n", 1)[1]
    nudge, shapes, steps = (t.split("\n", 1)[1] for t in texts[:3])
    assert ("(B, " in shapes or "(T, B, " in shapes) and re.search(r"\bdim\s\d", shapes)   # shapes, axes
    assert "def " not in nudge + shapes + steps and "torch." not in steps   # words and pseudo-code, not Python
    assert "\ndef _" in texts[3] or "\ndef pipeline(" in texts[3] or name in ("memory_step", "training_step")


@pytest.mark.parametrize("name, arithmetic", [
    ("read", ("sum(", "bmm(")), ("write", ("memory - w", "addcmul")), ("cosine_similarity", ("rsqrt", "clamp_min")),
    ("content_addressing", ("softmax(beta",)), ("interpolate", ("lerp",)), ("shift", ("roll(", "% N")),
    ("sharpen", ("softmax(gamma",)), ("address", ("stages.shift(gated, s)",)),
    ("split_head_params", ("F.softplus", "torch.sigmoid", "torch.tanh")),
])
def test_the_last_rung_is_the_courses_arithmetic_not_the_public_wrapper(name, arithmetic, ladder, capsys):
    ladder.reveal(name, rung=4)
    out = capsys.readouterr().out
    assert all(piece in out for piece in arithmetic), out
    assert f"return _{name}(" not in out and "check_" not in out          # not the wrapper that checks and calls
    assert f"def {name}(" not in out


def test_the_shift_ladder_states_the_papers_direction(ladder, capsys):
    for _ in range(3):
        ladder.reveal("shift")
    out = flat(capsys.readouterr().out)
    assert "Offset +1 moves the focus from row i to row i+1" in out and "k - K//2" in out
    assert "(i - offset) mod N" in out


def test_a_rung_can_be_asked_for_and_the_ladder_goes_on_from_there(ladder, capsys):
    ladder.reveal("shift", rung=3)
    assert capsys.readouterr().out.startswith("shift -- hint 3 of 4: pseudo-code")
    ladder.reveal("shift")
    assert capsys.readouterr().out.startswith("shift -- hint 4 of 4")
    ladder.reveal("shift", rung=1)                      # starts over
    ladder.reveal("shift")
    heads = [line for line in capsys.readouterr().out.splitlines() if line.startswith("shift -- hint")]
    assert heads == ["shift -- hint 1 of 4: a nudge", "shift -- hint 2 of 4: the shapes"]
    assert ladder.shown == {"shift": 2}
    ladder.reveal("sharpen")                            # each stub has its own place
    assert capsys.readouterr().out.startswith("sharpen -- hint 1 of 4")
    assert ladder.shown == {"shift": 2, "sharpen": 1}
    assert repr(ladder) == "HintLadder(shift: 2 of 4, sharpen: 1 of 4)"
    ladder.reset()
    assert ladder.shown == {} and repr(ladder) == "HintLadder(no hint shown yet)"


@pytest.mark.parametrize("rung", [0, 5, 2.0, True, "2"])
def test_a_rung_out_of_range_is_a_value_error(rung, ladder):
    with pytest.raises(ValueError, match="rung must be a whole number from 1 to 4"):
        ladder.reveal("shift", rung=rung)
    assert ladder.shown == {}


def test_reveal_climbs_the_lessons_shared_ladder(monkeypatch, capsys):
    monkeypatch.setattr(HINTS, "shown", {})
    reveal("sharpen")
    reveal("sharpen")
    assert HINTS.shown == {"sharpen": 2}
    assert capsys.readouterr().out.count("sharpen -- hint") == 2
    reveal("sharpen", rung=1)
    assert HINTS.shown == {"sharpen": 1}


@pytest.mark.parametrize("name", syllabus.graded_checks())
def test_reveal_refuses_a_graded_exercise(name, ladder):
    with pytest.raises(ValueError, match="is a graded exercise: its answer is with your instructor"):
        reveal(name)
    with pytest.raises(ValueError, match="is a graded exercise"):
        ladder.reveal(name, rung=4)
    assert ladder.shown == {}


def test_reveal_of_an_unknown_name_lists_the_stubs():
    with pytest.raises(ValueError) as error:
        reveal("shfit")
    assert str(error.value) == f"name must be one of the lessons' stubs ({', '.join(syllabus.stubs())}), got 'shfit'"


def test_a_passing_stage_without_source_is_used_but_not_saved(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    namespace = {"torch": torch}
    exec("def shift(w, s):\n    K = s.shape[1]\n"              # defined by exec: inspect finds no source file
         "    return sum(s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=1) for k in range(K))\n", namespace)
    fn = namespace["shift"]
    assert your_turn("shift", fn) is fn
    assert flat(capsys.readouterr().out).endswith(
        "-> from here on, the lesson uses your shift. But it is not saved for later lessons: the source of your "
        "shift could not be found: define it with `def` in a cell")
    assert not (tmp_path / "mine").exists()
