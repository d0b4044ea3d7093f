"""Lesson 9's live run (ntm_course.experiments.live) on tiny settings: what it returns, that a seed fixes it, that
both models get the same budget, and the per-length test. Whether the recipe meets its bar is measured in
benchmarks/live_copy.py, not here (no timing asserts)."""
import pytest
import torch

from ntm_course import NTM, Pieces
from ntm_course.experiments.live import RECIPE, Recipe, add_baseline, generalisation, live_copy
from ntm_course.ntm import LSTMBaseline
from ntm_course.pieces import LIBRARY

TINY = Recipe(max_length=3, N=8, M=4, controller_size=8, batch_size=4, lstm_size=8, eval_every=2, eval_size=4)
HISTORY_KEYS = {"step", "sequences", "seconds", "loss", "train_errors", "eval_bits", "eval_errors", "level"}


def calls(counter, fn):
    def counted(*args):
        counter[fn.__name__] = counter.get(fn.__name__, 0) + 1
        return fn(*args)
    return counted


def test_a_run_returns_both_models_and_their_histories():
    run = live_copy(steps=5, seconds=None, seed=0, recipe=TINY, progress=False)
    assert isinstance(run.ntm, NTM) and isinstance(run.lstm, LSTMBaseline)
    assert not run.ntm.training and not run.lstm.training
    assert run.ntm.cell.N == 8 and run.ntm.cell.M == 4 and run.lstm.lstm.hidden_size == 8
    assert set(run.histories) == {"NTM", "LSTM"}
    rows = run.histories["NTM"]
    assert [row["step"] for row in rows] == [2, 4, 5] and set(rows[-1]) == HISTORY_KEYS
    assert rows[-1]["sequences"] == 5 * TINY.batch_size and rows[-1]["level"] == TINY.max_length
    assert set(run.histories["LSTM"][-1]) == HISTORY_KEYS
    assert run.config["steps"] == 5 and run.config["seconds"] is None and run.config["max_length"] == 3
    with torch.no_grad():
        out = run.ntm(torch.zeros(7, 2, 9))
    assert out.shape == (7, 2, 8)


def test_a_seed_fixes_the_ntms_run_and_another_changes_it():
    first, again, other = (live_copy(steps=4, seconds=None, seed=seed, recipe=TINY, progress=False, baseline=False)
                           for seed in (3, 3, 4))

    def timeless(run):
        return [{k: v for k, v in row.items() if k != "seconds"} for row in run.histories["NTM"]]
    assert timeless(first) == timeless(again) != timeless(other)
    for a, b in zip(first.ntm.state_dict().values(), again.ntm.state_dict().values()):
        assert torch.equal(a, b)


def test_without_the_baseline_only_the_ntm_trains_and_the_lstm_can_follow_in_another_call():
    run = live_copy(steps=3, seconds=None, seed=0, recipe=TINY, progress=False, baseline=False)
    assert run.lstm is None and set(run.histories) == {"NTM"}
    both = add_baseline(run, progress=False)
    assert both.ntm is run.ntm and isinstance(both.lstm, LSTMBaseline) and both.lstm.lstm.hidden_size == 8
    assert both.histories["NTM"] is run.histories["NTM"]
    assert both.histories["LSTM"][-1]["seconds"] >= run.histories["NTM"][-1]["seconds"]


def test_the_caller_keeps_its_thread_count_and_random_state():
    before_threads, before_rng = torch.get_num_threads(), torch.get_rng_state()
    live_copy(steps=2, seconds=None, seed=0, recipe=TINY, progress=False)
    assert torch.get_num_threads() == before_threads and torch.equal(torch.get_rng_state(), before_rng)


def test_the_lstm_trains_for_as_many_cpu_seconds_as_the_ntm_took():
    steps_seen = {"NTM": [], "LSTM": []}
    run = live_copy(steps=6, seconds=None, seed=0, recipe=TINY, progress=False,
                    callback=lambda name, step, model: steps_seen[name].append(step))
    ntm, lstm = run.histories["NTM"][-1], run.histories["LSTM"][-1]
    assert ntm["step"] == 6 and lstm["seconds"] >= ntm["seconds"] > 0
    assert steps_seen["NTM"] == [1, 2, 3, 4, 5, 6] and steps_seen["LSTM"] == list(range(1, lstm["step"] + 1))


def test_the_seconds_limit_stops_the_ntm_before_its_steps():
    run = live_copy(steps=10 ** 6, seconds=0.3, seed=0, recipe=TINY, progress=False)
    ntm = run.histories["NTM"][-1]
    assert 0.3 <= ntm["seconds"] and 1 <= ntm["step"] < 10 ** 6
    assert run.histories["LSTM"][-1]["seconds"] >= ntm["seconds"]


def test_the_ntm_runs_on_the_pieces_given():
    counter = {}
    mine = Pieces(read=calls(counter, lambda memory, w: LIBRARY.read(memory, w)))
    run = live_copy(pieces=mine, steps=2, seconds=None, seed=0, recipe=TINY, progress=False, baseline=False)
    assert run.ntm.pieces is mine and counter["<lambda>"] > 0


def test_a_progress_bar_per_model(capsys):
    live_copy(steps=3, seconds=None, seed=0, recipe=TINY, progress=True)
    err = capsys.readouterr().err
    assert "NTM" in err and "LSTM" in err and "3/3 step" in err


@pytest.mark.parametrize("bad", [dict(seconds=0), dict(seconds=-1.0), dict(seconds="30"), dict(seconds=True),
                                 dict(steps=0), dict(steps=2.5), dict(steps=True)])
def test_a_bad_budget_is_a_value_error(bad):
    with pytest.raises(ValueError, match="seconds|steps"):
        live_copy(recipe=TINY, progress=False, **{"seconds": None, "steps": 2, **bad})


def test_generalisation_counts_perfect_sequences_per_length():
    run = live_copy(steps=2, seconds=None, seed=0, recipe=TINY, progress=False)
    rows = generalisation(run.ntm, [2, 4], n_sequences=30, seed=1)
    assert [row["length"] for row in rows] == [2, 4] and all(row["n"] == 30 for row in rows)
    for row in rows:
        assert 0 <= row["perfect_count"] <= 30 and row["perfect"] == row["perfect_count"] / 30
        assert row["perfect_low"] <= row["perfect"] <= row["perfect_high"]
    assert generalisation(run.ntm, [2, 4], n_sequences=30, seed=1) == rows
    with pytest.raises(ValueError, match="n_sequences"):
        generalisation(run.ntm, [2], n_sequences=0)


def test_generalisation_scores_a_perfect_copier_as_perfect():
    class Oracle(torch.nn.Module):        # outputs the input delayed by L + 1 steps: a perfect copier
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            L = (x.shape[0] - 1) // 2
            out = torch.full((x.shape[0], x.shape[1], 8), -10.0)
            out[L + 1:] = (x[:L, :, :8] * 20 - 10)
            return out
    rows = generalisation(Oracle(), [5, 12], n_sequences=50, seed=0)
    assert [row["perfect_count"] for row in rows] == [50, 50]


def test_the_recipe_trains_lengths_up_to_half_the_memory():
    assert 2 * RECIPE.max_length <= RECIPE.N     # twice the training length still fits in the memory


@pytest.mark.slow
def test_the_benchmark_writes_a_row_per_set_and_seed(tmp_path):
    """benchmarks/live_copy.py end to end on a tiny budget (3 steps): its three piece sets pass the lessons' checks,
    and it writes the JSON and the markdown it promises."""
    import json
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "benchmarks/live_copy.py", "--seeds", "0", "--set-seeds", "1",
                           "--steps", "3", "--checkpoints", "2", "--sequences", "8", "--out", str(tmp_path)],
                          cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "live_copy.json").read_text())
    assert [(r["set"], r["seed"]) for r in result["rows"]] == [("course", 0), ("einsum", 1), ("rolls", 1),
                                                                ("matrix", 1)]
    course, *others = result["rows"]
    assert course["ntm_steps"] == 3 and course["lstm_seconds"] >= course["ntm_seconds"]
    assert course["ntm_at_20"]["n"] == 8 and set(course["ntm_early"]) == {"2"}
    assert all("lstm_steps" not in r for r in others)
    assert "| course | 0 |" in (tmp_path / "live_copy.md").read_text()
