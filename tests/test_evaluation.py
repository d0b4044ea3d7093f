"""The generalisation harness: scores on hand-made models, the settings it runs, the files it writes."""
import json
import subprocess
import sys

import pytest
import torch
from torch import nn

from ntm_course.cli import main
from ntm_course.evaluation import evaluate_generalisation, markdown_table, plot_generalisation, score
from ntm_course.tasks import copy
from ntm_course.training import train


class CopyOracle(nn.Module):
    """Answers the copy task perfectly by construction: after the delimiter, replay the inputs."""

    def forward(self, x):
        T, B, _ = x.shape
        logits = torch.full((T, B, 8), -30.0)
        for b in range(B):
            L = int(x[:, b, 8].argmax())
            logits[L + 1:2 * L + 1, b] = 60 * x[:L, b, :8] - 30
        return logits


class Constant(nn.Module):
    """Logit 0 everywhere: p = 1/2, so one bit of cost per scored bit, and an error on every target 1."""

    def forward(self, x):
        return torch.zeros(x.shape[0], x.shape[1], 8) + 0 * x.sum()


def test_score_of_a_perfect_and_of_a_coin_flipping_model():
    batch = copy(30, 1, 12, generator=torch.Generator().manual_seed(0))
    perfect = score(CopyOracle(), batch, chunk=7)
    assert perfect["errors"] == 0 and perfect["perfect"] == 1.0 and perfect["bits"] < 1e-3
    coin = score(Constant(), batch, chunk=7)
    scored = (batch.mask.sum(0) * 8).mean().item()
    assert coin["scored_bits"] == pytest.approx(scored)
    assert coin["bits"] == pytest.approx(scored, rel=1e-5)
    ones = (batch.targets.sum((0, 2))).mean().item()             # thresholding 1/2 gives 0: every 1 is wrong
    assert coin["errors"] == pytest.approx(ones)


def test_copy_settings_are_the_papers_lengths():
    rows = evaluate_generalisation(CopyOracle(), "copy", sequences=3)
    assert [r["setting"] for r in rows] == ["training distribution"] + [f"length {L}" for L in
                                                                        (10, 20, 30, 50, 80, 120)]
    assert all(r["errors"] == 0 for r in rows)
    assert rows[-1]["scored_bits"] == 120 * 8


def test_ngrams_rows_include_the_bayes_floor():
    class Half(nn.Module):
        def forward(self, x):
            return torch.zeros_like(x)

    rows = evaluate_generalisation(Half(), "ngrams", sequences=4)
    assert rows[0]["bits"] == pytest.approx(199)                   # one bit per prediction
    assert rows[1]["setting"].startswith("Bayes") and rows[1]["bits"] < rows[0]["bits"]


def test_table_and_plot():
    rows = evaluate_generalisation(CopyOracle(), "copy", sequences=2)
    table = markdown_table(rows)
    assert table.count("\n") == len(rows) + 2 and "| length 120 |" in table
    fig = plot_generalisation(rows, "oracle")
    ax = fig.axes[0]
    assert ax.get_title() == "oracle" and ax.get_ylabel() and ax.get_xlabel()


def test_layers_below_presentation_do_not_import_matplotlib():
    code = "import sys, ntm_course, ntm_course.evaluation, ntm_course.training; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_cli_writes_table_and_plot(tmp_path, capsys):
    torch.set_num_threads(1)
    ckpt = tmp_path / "tiny.pt"
    train("associative_recall", steps=2, controller_size=8, N=10, M=4, batch_size=4, eval_every=2, eval_size=4,
          checkpoint=ckpt, progress=False, device="cpu")
    assert main(["eval", str(ckpt), "--out", str(tmp_path), "--sequences", "3", "--device", "cpu"]) == 0
    rows = json.loads((tmp_path / "tiny-generalisation.json").read_text())
    assert [r["setting"] for r in rows][1:] == [f"{n} items" for n in range(2, 21)]
    assert (tmp_path / "tiny-generalisation.png").stat().st_size > 1000
    assert (tmp_path / "tiny-generalisation.csv").read_text().startswith("setting,bits")
    bad = tmp_path / "bad.pt"
    bad.write_text("nope")
    assert main(["eval", str(bad)]) == 1
    assert "not a readable" in capsys.readouterr().out
