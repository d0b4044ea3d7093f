"""The generalisation harness: the Wilson interval, scores on hand-made models, the settings it runs, the
sample sizes it states and the files it writes."""
import inspect
import json
import subprocess
import sys

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import nn

from ntm_course.experiments.evaluation import (describe, evaluate_generalisation, markdown_table,
                                               plot_errors_by_setting, rate, score, wilson_interval)
from ntm_course.experiments.tasks import copy_batch
from ntm_course.experiments.training import train
from ntm_course.teaching.cli import main


Z95 = 1.959963984540054


class CopyOracle(nn.Module):
    """Answers the copy task perfectly by construction: after the delimiter, replay the inputs.

    ``wrong_lengths``: sequences of these lengths get their first answer bit flipped (one bit error each).
    Records the largest batch it was given.
    """

    def __init__(self, wrong_lengths=()):
        super().__init__()
        self.wrong_lengths, self.largest_batch = set(wrong_lengths), 0

    def forward(self, x):
        T, B, _ = x.shape
        self.largest_batch = max(self.largest_batch, B)
        logits = torch.full((T, B, 8), -30.0)
        for b in range(B):
            L = int(x[:, b, 8].argmax())
            logits[L + 1:2 * L + 1, b] = 60 * x[:L, b, :8] - 30
            if L in self.wrong_lengths:
                logits[L + 1, b, 0] *= -1
        return logits


class Constant(nn.Module):
    """Logit 0 everywhere: p = 1/2, so one bit of cost per scored bit, and an error on every target 1."""

    def forward(self, x):
        return torch.zeros(x.shape[0], x.shape[1], 8) + 0 * x.sum()


# ------------------------------------------------------------------------------------------- wilson_interval

# the roots p of (k/n - p)^2 = z^2 p (1 - p) / n, solved with 40-digit decimals
@pytest.mark.parametrize("k, n, low, high", [
    (0, 100, 0.0, 0.036993498206985676),
    (100, 100, 0.963006501793014324, 1.0),
    (50, 100, 0.403831530365995638, 0.596168469634004362),
    (986, 1000, 0.976637965882464343, 0.991642424869576078),
    (1, 10, 0.017876213095072907, 0.404150026795238457),
])
def test_wilson_interval_by_hand(k, n, low, high):
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=1e-12)


def test_wilson_interval_at_other_confidences():
    low95, high95 = wilson_interval(30, 50)
    low99, high99 = wilson_interval(30, 50, confidence=0.99)
    assert low99 < low95 and high95 < high99
    z = 2.5758293035489004                                     # the 99.5% normal quantile
    for p in (low99, high99):
        assert (0.6 - p) ** 2 == pytest.approx(z * z * p * (1 - p) / 50)


counts = st.integers(1, 10**6).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n)))


@given(counts)
def test_wilson_interval_holds_the_estimate_inside_zero_one(kn):
    k, n = kn
    low, high = wilson_interval(k, n)
    assert 0 <= low <= k / n <= high <= 1
    assert (low == 0) == (k == 0) and (high == 1) == (k == n)


@given(counts)
def test_wilson_bounds_are_the_rates_the_observation_does_not_reject(kn):
    k, n = kn
    for p in wilson_interval(k, n):
        assert (k / n - p) ** 2 == pytest.approx(Z95 ** 2 * p * (1 - p) / n, rel=1e-6, abs=1e-15)


@given(counts)
def test_wilson_interval_is_symmetric_in_successes_and_failures(kn):
    k, n = kn
    low, high = wilson_interval(k, n)
    assert wilson_interval(n - k, n) == pytest.approx((1 - high, 1 - low), abs=1e-12)


@given(counts, st.integers(2, 50))
def test_wilson_interval_narrows_as_n_grows_at_a_fixed_rate(kn, factor):
    k, n = kn
    low, high = wilson_interval(k, n)
    more_low, more_high = wilson_interval(k * factor, n * factor)
    assert more_high - more_low < high - low


@pytest.mark.parametrize("args, kwargs, name", [
    ((0, 0), {}, "n"), ((0, -5), {}, "n"), ((1, 2.5), {}, "n"),
    ((-1, 10), {}, "successes"), ((11, 10), {}, "successes"), ((0.5, 10), {}, "successes"),
    ((True, 10), {}, "successes"),
    ((1, 10), {"confidence": 1.0}, "confidence"), ((1, 10), {"confidence": 0}, "confidence"),
])
def test_wilson_interval_rejects_bad_input_naming_it(args, kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        wilson_interval(*args, **kwargs)


# ------------------------------------------------------------------------------------------------ scores

def test_score_of_a_perfect_and_of_a_coin_flipping_model():
    batch = copy_batch(30, 1, 12, generator=torch.Generator().manual_seed(0))
    perfect = score(CopyOracle(), batch, chunk=7)
    assert perfect["errors"] == 0 and perfect["bits"] < 1e-3
    assert (perfect["n"], perfect["perfect_count"], perfect["perfect"]) == (30, 30, 1.0)
    assert (perfect["perfect_low"], perfect["perfect_high"]) == wilson_interval(30, 30)
    coin = score(Constant(), batch, chunk=7)
    scored = (batch.mask.sum(0) * 8).mean().item()
    assert coin["scored_bits"] == pytest.approx(scored)
    assert coin["bits"] == pytest.approx(scored, rel=1e-5)
    ones = (batch.targets.sum((0, 2))).mean().item()             # thresholding 1/2 gives 0: every 1 is wrong
    assert coin["errors"] == pytest.approx(ones)


def test_score_counts_the_sequences_without_an_error():
    batch = copy_batch(40, 1, 6, generator=torch.Generator().manual_seed(1))
    lengths = batch.inputs[:, :, 8].argmax(0)
    model = CopyOracle(wrong_lengths=(2, 5))
    wrong = int(((lengths == 2) | (lengths == 5)).sum())
    assert 0 < wrong < 40
    result = score(model, batch, chunk=6)
    assert model.largest_batch == 6
    assert (result["n"], result["perfect_count"]) == (40, 40 - wrong)
    assert result["perfect"] == (40 - wrong) / 40 and result["errors"] == pytest.approx(wrong / 40)
    assert (result["perfect_low"], result["perfect_high"]) == wilson_interval(40 - wrong, 40)


def test_evaluate_generalisation_scores_a_thousand_sequences_by_default():
    defaults = inspect.signature(evaluate_generalisation).parameters
    assert defaults["sequences"].default >= 1000


def test_copy_settings_are_the_papers_lengths_scored_in_bounded_batches():
    model = CopyOracle(wrong_lengths=(80,))
    rows = evaluate_generalisation(model, "copy", sequences=7, batch_size=3)
    assert [r["setting"] for r in rows] == ["training distribution"] + [f"length {L}" for L in
                                                                        (10, 20, 30, 50, 80, 120)]
    assert model.largest_batch == 3 and all(r["n"] == 7 for r in rows)
    assert all(r["errors"] == 0 and r["perfect_count"] == 7 for r in rows if r["setting"] != "length 80")
    length80 = rows[-2]
    assert (length80["perfect_count"], length80["errors"]) == (0, 1.0)
    assert (length80["perfect_low"], length80["perfect_high"]) == wilson_interval(0, 7)
    assert rows[-1]["scored_bits"] == 120 * 8


def test_fresh_sequences_come_from_the_seed():
    first = evaluate_generalisation(Constant(), "copy", sequences=5, seed=3, batch_size=2)
    assert evaluate_generalisation(Constant(), "copy", sequences=5, seed=3, batch_size=2) == first
    other = evaluate_generalisation(Constant(), "copy", sequences=5, seed=4, batch_size=2)
    assert other[0]["bits"] != first[0]["bits"]                 # other lengths in the training distribution


@pytest.mark.parametrize("kwargs, name", [({"sequences": 0}, "sequences"), ({"batch_size": -1}, "batch_size"),
                                          ({"sequences": 2.5}, "sequences")])
def test_evaluate_generalisation_rejects_bad_counts(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must be"):
        evaluate_generalisation(Constant(), "copy", **kwargs)
    with pytest.raises(ValueError, match="^chunk must be"):
        score(Constant(), copy_batch(2, 1, 3), chunk=0)


def test_ngrams_rows_include_the_bayes_floor():
    class Half(nn.Module):
        def forward(self, x):
            return torch.zeros_like(x)

    rows = evaluate_generalisation(Half(), "ngrams", sequences=5, batch_size=2)
    assert rows[0]["bits"] == pytest.approx(199)                   # one bit per prediction
    assert rows[1]["setting"].startswith("Bayes") and rows[1]["bits"] < rows[0]["bits"]
    assert rows[1]["n"] == 5 and 0 <= rows[1]["perfect_low"] <= rows[1]["perfect"] <= rows[1]["perfect_high"]


# ------------------------------------------------------------------------------------------- presentation

ROW = {"setting": "length 120", "n": 1000, "perfect_count": 986, "perfect": 0.986, "errors": 1.9, "bits": 3.4,
       "scored_bits": 960.0, **dict(zip(("perfect_low", "perfect_high"), wilson_interval(986, 1000)))}


def test_describe_states_the_count_the_sample_size_and_the_interval():
    assert describe(ROW) == ("length 120: 986/1000 perfect = 98.6% (95% CI 97.6-99.2%), 1.9 bit errors and "
                             "3.4 bits per sequence")


def test_rates_from_10000_sequences_get_two_decimals_and_intervals_round_outwards():
    """One decimal would print 10,000 perfect of 10,000 as "95% CI 100.0-100.0%": a certainty no sample gives."""
    def row(count, n):
        low, high = wilson_interval(count, n)
        return {"n": n, "perfect_count": count, "perfect": count / n, "perfect_low": low, "perfect_high": high}
    assert rate(row(10_000, 10_000)) == ("10000/10000 = 100.00%", "99.96-100.00%")
    assert rate(row(9_996, 10_000)) == ("9996/10000 = 99.96%", "99.89-99.99%")      # 0.99898.., 0.99984..
    assert rate(row(1_000, 1_000)) == ("1000/1000 = 100.0%", "99.6-100.0%")           # 0.99616..
    assert rate(row(0, 1_000)) == ("0/1000 = 0.0%", "0.0-0.4%")                       # 0.0038..: up, not 0.3
    assert rate(row(987, 1_000)) == ("987/1000 = 98.7%", "97.7-99.3%")                # 0.97785.., 0.99238..


def test_table_and_plot():
    rows = evaluate_generalisation(CopyOracle(), "copy", sequences=2)
    table = markdown_table(rows)
    assert table.count("\n") == len(rows) + 2 and "| length 120 | 2/2 = 100.0% | 34.2-100.0% |" in table
    assert "(of n)" in table.splitlines()[0] and "95% CI" in table.splitlines()[0]
    assert "| 986/1000 = 98.6% | 97.6-99.2% | 1.900 | 3.400 | 960 |" in markdown_table([ROW])
    fig = plot_errors_by_setting(rows, "oracle")
    ax = fig.axes[0]
    assert ax.get_title() == "oracle" and ax.get_ylabel() and "2 sequences each" in ax.get_xlabel()


def test_layers_below_presentation_do_not_import_matplotlib():
    code = ("import sys, ntm_course, ntm_course.experiments.evaluation, ntm_course.experiments.training; "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_cli_writes_table_and_plot(tmp_path, capsys):
    torch.set_num_threads(1)
    ckpt = tmp_path / "tiny.pt"
    train("associative_recall", steps=2, controller_size=8, N=10, M=4, batch_size=4, eval_every=2, eval_size=4,
          checkpoint=ckpt, progress=False, device="cpu")
    capsys.readouterr()
    assert main(["eval", str(ckpt), "--out", str(tmp_path), "--sequences", "3", "--batch-size", "2",
                 "--device", "cpu"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert "3 fresh sequences per setting (seed 1234)" in printed[0] and "Wilson" in printed[0]
    assert printed[2].startswith("  2 items: ") and "/3 perfect = " in printed[2] and "95% CI" in printed[2]
    rows = json.loads((tmp_path / "tiny-generalisation.json").read_text())
    assert [r["setting"] for r in rows][1:] == [f"{n} items" for n in range(2, 21)]
    assert all(r["n"] == 3 for r in rows)
    assert (tmp_path / "tiny-generalisation.png").stat().st_size > 1000
    assert (tmp_path / "tiny-generalisation.csv").read_text().startswith(
        "setting,n,perfect_count,perfect,perfect_low,perfect_high,errors,bits,scored_bits\n")
    bad = tmp_path / "bad.pt"
    bad.write_text("nope")
    assert main(["eval", str(bad)]) == 1
    assert "not a readable" in capsys.readouterr().out


def test_cli_scores_a_shipped_model_by_its_name(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)                      # no file called "repeat_copy" here: the shipped model
    assert main(["eval", "repeat_copy", "--out", str(tmp_path), "--sequences", "2", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("repeat_copy (NTM on repeat_copy): 2 fresh sequences per setting")
    rows = json.loads((tmp_path / "repeat_copy-generalisation.json").read_text())
    assert rows[0]["setting"] == "training distribution" and all(r["n"] == 2 for r in rows)
    assert main(["eval", "no_such_model"]) == 1
    out = capsys.readouterr().out
    assert "'no_such_model' is neither a checkpoint file nor a shipped model" in out and "'copy'" in out
    assert main(["eval", "missing.pt"]) == 1                   # a path stays a path
    assert "does not exist" in capsys.readouterr().out


@pytest.mark.parametrize("flag", ["--sequences", "--batch-size"])
def test_cli_checks_the_counts_before_loading(tmp_path, capsys, flag):
    assert main(["eval", str(tmp_path / "missing.pt"), flag, "0"]) == 1
    assert capsys.readouterr().out == f"error: {flag} must be a positive whole number, got 0\n"


def test_100_sequences_cannot_show_a_1_percent_failure_and_1000_can():
    assert wilson_interval(100, 100)[0] < 0.99 < wilson_interval(1000, 1000)[0]


def test_a_tasks_floor_is_scored_beside_the_model_and_only_where_the_task_has_one(monkeypatch):
    """The floor is the Task's (``Task.floor``), not a special case of the harness."""
    from ntm_course.experiments import tasks

    class Zero(nn.Module):
        def forward(self, x):
            return torch.zeros(*x.shape[:2], 8)

    assert tasks.TASKS["copy"].floor is None
    assert [row["setting"] for row in evaluate_generalisation(Zero(), "copy", sequences=2)][:2] == [
        "training distribution", "length 10"]
    half = ("always one half", lambda inputs, targets: torch.full_like(targets, 0.5))
    monkeypatch.setitem(tasks.TASKS, "copy", tasks.TASKS["copy"]._replace(floor=half))
    rows = evaluate_generalisation(Zero(), "copy", sequences=2)
    assert rows[1]["setting"] == "always one half (the floor)" and rows[1]["bits"] == rows[0]["bits"]
