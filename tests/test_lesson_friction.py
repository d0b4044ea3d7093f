"""The friction a learner met in the lessons (issue #31, item 5), each fixed and kept fixed: an untouched stub is
never saved as theirs, a fallback's reason names the failure, pieces that use other cells' helpers load again (or
are refused at once), a PieceError is short and first, hints wrap between words, and a slow piece is timed."""
import importlib.util
import re
import traceback

import pytest
import torch

from ntm_course import NTM, PieceError, Pieces, addressing
from ntm_course.pieces import LIBRARY
from ntm_course.teaching import lesson
from ntm_course.teaching.lesson import my_pieces, your_turn
from ntm_course.teaching.practice import reference
from ntm_course.teaching.practice.values import WIDTH

NOTEBOOK = '''
import math

import numpy as np
import torch

SHARPNESS = 1.0
OFFSETS = (-1, 0, 1)
table = torch.ones(3)


def _moved(w, offset):
    return torch.roll(w, offset, dims=1)


def _weighted(w, s, k):
    return s[:, k:k + 1] * _moved(w, k - s.shape[1] // 2)


def shift(w, s):
    return SHARPNESS * sum(_weighted(w, s, k) for k in range(s.shape[1]))


def sharpen(w, gamma):
    powered = (w / w.max(dim=1, keepdim=True).values.clamp_min(1e-30)) ** gamma
    return powered / powered.sum(dim=1, keepdim=True) * float(np.ones(1)[0]) * math.cos(0.0)


def read(memory, w):
    return (w.unsqueeze(2) * memory).sum(dim=1) * table[0]


def slow_shift(w, s):
    B, N = w.shape
    K = s.shape[1]
    rows = []
    for b in range(B):
        row = []
        for i in range(N):
            row.append(sum(s[b, k] * w[b, (i - (k - K // 2)) % N] for k in range(K)))
        rows.append(torch.stack(row))
    return torch.stack(rows)


def unanswered_shift(w, s):
    raise NotImplementedError()


def crashing_sharpen(w, gamma):
    return w ** gamma.squeeze()
'''


def flat(text):
    return " ".join(text.split())


@pytest.fixture
def mine(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    return tmp_path / "mine"


@pytest.fixture
def notebook(tmp_path):
    """The learner's cells, as a module whose functions have a source file (as a notebook's cells do)."""
    path = tmp_path / "cells.py"
    path.write_text(NOTEBOOK)
    spec = importlib.util.spec_from_file_location("cells", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- (a) re-running a check cell on an untouched stub -------------------------------------------------

def test_rerunning_the_check_cell_of_an_untouched_stub_saves_nothing(mine, notebook, capsys):
    shift = your_turn("shift", notebook.unanswered_shift)
    assert shift is addressing.shift                       # the course's, handed back
    assert "run that cell, then this one again" in flat(capsys.readouterr().out)
    again = your_turn("shift", shift)                      # the check cell alone, run again
    out = flat(capsys.readouterr().out)
    assert again is addressing.shift and "this shift is the course's, not yours" in out
    assert "uses your shift" not in out and not mine.exists()
    assert my_pieces(verbose=False).mine() == []


@pytest.mark.parametrize("name", ["address", "shift", "split_head_params", "memory_step", "training_step"])
def test_no_form_of_the_courses_piece_is_saved_as_the_learners(name, mine, capsys):
    for fn in {getattr(LIBRARY, name), getattr(Pieces(), name), reference(name)}:
        your_turn(name, fn)
    assert "uses your" not in capsys.readouterr().out and not mine.exists()


# --- (b) a fallback names the exception ----------------------------------------------------------------

def test_a_saved_piece_that_raises_falls_back_naming_the_exception(mine, capsys):
    mine.mkdir(parents=True)
    (mine / "shift.py").write_text("def shift(w, s):\n    raise KeyError('offsets table is empty')\n")
    (mine / "read.py").write_text("def read(memory, w):\n    raise NotImplementedError()\n")
    pieces = my_pieces(timing=False)
    out = flat(capsys.readouterr().out)
    assert pieces.mine() == []
    assert "no longer passes its check (0/4: values" in out and "KeyError: 'offsets table is empty'" in out
    assert "it raises NotImplementedError" in out


# --- (c) helpers from other cells, constants, modules, lambdas ------------------------------------------

def test_a_piece_that_calls_helpers_of_other_cells_is_saved_with_them_and_loads(mine, notebook, capsys):
    for name in ("shift", "sharpen", "read"):
        your_turn(name, getattr(notebook, name))
    out = flat(capsys.readouterr().out)
    assert out.count("Saved to") == 2 and "not saved for later lessons" in out
    saved = (mine / "shift.py").read_text()
    assert "def _moved(" in saved and "def _weighted(" in saved and "SHARPNESS = 1.0" in saved
    assert "import numpy as np" in (mine / "sharpen.py").read_text()
    # read uses `table`, a tensor of another cell: refused at once, with what to do
    assert "reads table, a Tensor from another cell, which cannot be saved with it" in out
    assert not (mine / "read.py").exists()
    pieces = my_pieces(timing=False)                           # a fresh session: only the files
    assert pieces.mine() == ["shift", "sharpen"]
    w, s = torch.softmax(torch.randn(2, 5), dim=1), torch.softmax(torch.randn(2, 3), dim=1)
    torch.testing.assert_close(pieces.shift(w, s), addressing.shift(w, s))


def test_a_lambda_is_used_but_refused_for_saving_at_once(mine, capsys):
    fn = lambda w, s: sum(s[:, k:k + 1] * torch.roll(w, k - s.shape[1] // 2, dims=1)   # noqa: E731
                          for k in range(s.shape[1]))
    assert your_turn("shift", fn) is fn
    out = flat(capsys.readouterr().out)
    assert "the lesson uses your shift. But it is not saved for later lessons: your shift is a lambda" in out
    assert "Define it with `def` instead" in out and not mine.exists()


def test_a_piece_defined_inside_a_function_is_refused_with_a_reason(mine, capsys):
    def make():
        step = 1

        def shift(w, s):
            return sum(s[:, k:k + 1] * torch.roll(w, step * (k - s.shape[1] // 2), dims=1)
                       for k in range(s.shape[1]))
        return shift
    your_turn("shift", make())
    assert "defined inside another function" in flat(capsys.readouterr().out) and not mine.exists()


# --- (d) a PieceError: first and short ------------------------------------------------------------------

def test_a_piece_error_names_the_learners_line_and_hides_the_chain(notebook):
    model = NTM(4, 2, controller_size=8, N=6, M=4, pieces=Pieces(sharpen=notebook.crashing_sharpen))
    with pytest.raises(PieceError) as caught:
        model(torch.randn(3, 2, 4))
    error = caught.value
    assert "your sharpen failed inside the machine: RuntimeError" in str(error)
    assert re.search(r"at line \d+ of your crashing_sharpen: `return w \*\* gamma.squeeze\(\)`", str(error))
    assert error.__cause__ is None and error.__suppress_context__          # no torch traceback above it
    assert isinstance(error.original, RuntimeError)
    text = "".join(traceback.format_exception(error))
    assert "The above exception" not in text and "During handling" not in text


def test_ipython_shows_a_piece_error_alone(notebook, capsys):
    interactiveshell = pytest.importorskip("IPython.core.interactiveshell")
    shell = interactiveshell.InteractiveShell.instance()
    assert lesson.show_piece_errors_short(shell)
    shell.user_ns.update(NTM=NTM, Pieces=Pieces, torch=torch, bad=notebook.crashing_sharpen)
    shell.run_cell("NTM(4, 2, controller_size=8, N=6, M=4, pieces=Pieces(sharpen=bad))(torch.randn(3, 2, 4))")
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert lines[0].startswith("PieceError: your sharpen failed inside the machine"), out
    assert "Traceback" not in out and "%tb prints the whole traceback" in flat(out)
    assert all(len(line) <= WIDTH for line in lines)
    shell.run_line_magic("tb", "")                              # the whole traceback, on request
    assert "PieceError" in capsys.readouterr().out


# --- (e) hints wrap at words -------------------------------------------------------------------------------

def test_reports_and_messages_wrap_between_words(mine, capsys):
    def wrong_shift(w, s):
        return addressing.shift(w, s.flip(1))                  # the classic mistake: the other direction
    your_turn("shift", wrong_shift)
    my_pieces(timing=False)
    out = capsys.readouterr().out
    words = [line for line in out.splitlines() if not re.match(r"\s*(\[|expected|got|w =|s =|example)", line)]
    assert all(len(line) <= WIDTH for line in words), [line for line in words if len(line) > WIDTH]
    hint = ("your shift goes the wrong way: s[:, k] weights offset k - K//2, and offset +1 must move the focus "
            "from row i to row i+1 (w~(i) = sum_j w(j) s(i - j))")
    assert hint in flat(out)                                  # every word whole, in order
    assert any(len(line) > 80 for line in words)              # and the lines are really filled, not one word each


# --- (f) a slow piece is timed before a long run ----------------------------------------------------------

def test_a_correct_but_slow_piece_gets_a_warning_with_its_slowdown(mine, notebook, capsys):
    assert your_turn("shift", notebook.slow_shift) is notebook.slow_shift      # correct: it passes
    capsys.readouterr()
    pieces = my_pieces()
    out = flat(capsys.readouterr().out)
    found = re.search(r"warning: your shift is (\d+) times slower than the course's \(([\d.]+) ms a call against "
                      r"([\d.]+) ms", out)
    assert found, out
    ratio, theirs, ours = int(found[1]), float(found[2]), float(found[3])
    assert ratio >= lesson.SLOW and theirs > ours
    assert set(lesson.slow_pieces(pieces)) == {"shift"}
    assert lesson.slow_pieces(Pieces(shift=notebook.shift)) == {}             # a vectorised one is not slow
