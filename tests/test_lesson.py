"""ntm_course.teaching.lesson: a learner's stage is checked, used when right, saved, and loaded back into a machine."""
import pytest
import torch

from ntm_course import addressing
from ntm_course.pieces import LIBRARY
from ntm_course.teaching.lesson import my_pieces, reveal, your_turn

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


@pytest.fixture(autouse=True)
def mine(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    return tmp_path / "mine"


def test_a_passing_stage_is_used_and_saved(mine, capsys):
    assert your_turn("shift", shift) is shift
    out = capsys.readouterr().out
    assert "shift: 4/4 points" in out and "the lesson uses your shift" in out
    assert (mine / "shift.py").read_text().startswith("def shift(w, s):")


@pytest.mark.parametrize("fn, says", [(unanswered_shift, "not implemented yet"), (wrong_shift, "hint:")])
def test_an_unanswered_or_wrong_stage_falls_back_to_the_course_once(fn, says, mine, capsys):
    assert your_turn("shift", fn) is addressing.shift
    out = capsys.readouterr().out
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
    out = capsys.readouterr().out
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
    out = capsys.readouterr().out
    assert "Your pieces: none yet." in out
    assert "no longer passes its check" in out and "could not be loaded (SyntaxError" in out
    assert pieces.mine() == []


def test_reveal_prints_the_library_version(capsys):
    reveal("sharpen")
    out = capsys.readouterr().out
    assert out.startswith("# ntm_course.addressing.sharpen\ndef sharpen(")


def test_a_passing_stage_without_source_is_used_but_not_saved(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    namespace = {"torch": torch}
    exec("def shift(w, s):\n    K = s.shape[1]\n"              # defined by exec: inspect finds no source file
         "    return sum(s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=1) for k in range(K))\n", namespace)
    fn = namespace["shift"]
    assert your_turn("shift", fn) is fn
    assert capsys.readouterr().out.splitlines()[-1] == (
        "-> from here on, the lesson uses your shift. (its source could not be found, so later lessons will not "
        "use it: define it with `def`)")
    assert not (tmp_path / "mine").exists()
