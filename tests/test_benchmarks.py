"""The benchmark scripts run end to end on a tiny setting, writing into a temporary folder. Their numbers are not
checked here: the benchmarks measure, the tests do not time."""
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from ntm_course.experiments.pretrained import HERE
from ntm_course.experiments.training import load_model

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(script, *args):
    """``python benchmarks/SCRIPT args`` from the repository root; its standard output (fails on an error)."""
    done = subprocess.run([sys.executable, f"benchmarks/{script}", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, check=False, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_throughput_compares_a_baseline_folder_with_this_checkout(tmp_path):
    """``--baseline FOLDER`` (a machine without git history) imports that folder's ``ntm_course``, here this
    checkout's own, beside this checkout's, and prints one row per setting with every figure measured."""
    shutil.copytree(ROOT / "ntm_course", tmp_path / "ntm_course", ignore=shutil.ignore_patterns("__pycache__"))
    out = run("throughput.py", "--baseline", tmp_path, "--seconds", 0.01, "--rounds", 1, "--batch-sizes", 2)
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in out.splitlines()
            if line.startswith(("| copy", "| priority"))]
    settings = [row[:2] for row in rows]
    assert settings == [["copy, length 20", "2"], ["priority sort, feed-forward 512, 8 + 8 heads", "32"]]
    figures = [float(cell) for row in rows for cell in row[2:] if cell]
    assert len(figures) == 8 + 5 and all(f > 0 for f in figures)     # before, eager, fast (, nn.LSTM), ratios
    assert re.search(r"fast path: the fused step, \d+\.\d s \(wall clock\) to compile it on a machine's first use",
                     out)


def test_copy_convergence_records_every_seed_and_a_median_only_when_reached(tmp_path):
    """Two seeds with a few seconds each cannot converge: the JSON, the table and the histories say so, and the
    median is JSON's null (not reached), not an infinity that strict JSON readers reject."""
    run("copy_convergence.py", "--seeds", 0, 1, "--minutes", 0.01, "--clock", "cpu", "--out", tmp_path)
    summary = json.loads((tmp_path / "copy_convergence.json").read_text(), parse_constant=pytest.fail)
    assert [(r["seed"], r["converged"]) for r in summary["rows"]] == [(0, False), (1, False)]
    assert summary["converged"] == 0 and summary["median_sequences"] is None
    table = (tmp_path / "copy_convergence.md").read_text().splitlines()
    assert table[-1] == "| median | 0/2 | not reached | not reached | not reached | |"
    for seed in (0, 1):
        header = (tmp_path / f"history_seed{seed}.csv").read_text().splitlines()[0]
        assert header.startswith("step,sequences,seconds,loss")


def test_pretrain_writes_a_model_that_loads_with_its_command_and_results(tmp_path):
    """``--out-dir`` keeps the shipped models' folder untouched; the model there loads, and its JSON holds the
    command and one evaluated row of ``--sequences`` sequences per setting."""
    shipped = sorted(p.name for p in HERE.iterdir())
    run("pretrain.py", "tiny", "--out-dir", tmp_path / "out", "--work", tmp_path / "work", "--sequences", 20, "--",
        "copy", "--steps", 3, "--batch-size", 2, "--eval-every", 3, "--eval-size", 4, "--no-progress",
        "--controller-size", 8, "--N", 8, "--M", 4)
    assert sorted(p.name for p in HERE.iterdir()) == shipped
    info = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert info["command"].startswith("python benchmarks/pretrain.py tiny -- copy --steps 3")
    assert info["steps"] == 3 and info["sequences"] == 6
    assert info["results"] and all(row["n"] == 20 for row in info["results"])
    model, config = load_model(tmp_path / "out" / "tiny.pt", device="cpu")
    assert config["task"] == "copy" and (model.cell.N, model.cell.M) == (8, 4)


def test_evaluate_shipped_rewrites_the_results_and_keeps_the_rest(tmp_path):
    run("evaluate_shipped.py", "--models", "copy_lstm", "--sequences", 20, "--out-dir", tmp_path)
    shipped = json.loads((HERE / "copy_lstm.json").read_text())
    written = json.loads((tmp_path / "copy_lstm.json").read_text())
    assert [row["setting"] for row in written["results"]] == [row["setting"] for row in shipped["results"]]
    assert all(row["n"] == 20 for row in written["results"])
    assert written["evaluation"]["sequences_per_setting"] == 20
    assert written["command"] == shipped["command"] and written["history"] == shipped["history"]


def test_failures_records_the_runs_asked_for(tmp_path):
    name = "repeat_copy-scratch-3e-3-seed0"
    run("failures.py", "--minutes", 0.01, "--device", "cpu", "--only", name, "--out", tmp_path / "failures.json")
    record = json.loads((tmp_path / "failures.json").read_text())
    assert record["command"] == f"python benchmarks/failures.py --minutes 0.01 --only {name}"
    assert record["device"] == "cpu" and record["torch"] == torch.__version__
    (only,) = record["runs"]
    assert only["name"] == name and only["history"] and only["ended"] == "out of time"
    head = only["read_head"]   # the read head over one episode: a weighting per time step, answer steps among them
    assert head["answer_steps"] and max(head["answer_steps"]) < len(head["read_weights"])


def test_evaluate_pooled_pools_every_seed_and_leaves_the_shipped_results_alone(tmp_path):
    """Two seeds of 6 sequences: each pooled row counts 12 sequences, its perfect count is the seeds' sum with a
    Wilson interval around it, and the shipped JSON is untouched; ``--markdown-only`` rewrites the table from it."""
    shipped = (HERE / "repeat_copy.json").read_text()
    run("evaluate_pooled.py", "--models", "repeat_copy", "ngrams", "--seeds", 3, 4, "--sequences", 6, "--out",
        tmp_path / "pooled")
    assert (HERE / "repeat_copy.json").read_text() == shipped
    record = json.loads((tmp_path / "pooled.json").read_text())
    assert record["seeds"] == [3, 4] and record["sequences_per_seed"] == 6
    repeat = record["models"]["repeat_copy"]
    assert list(repeat["by_seed"]) == ["3", "4"]
    for i, row in enumerate(repeat["pooled"]):
        seeds = [repeat["by_seed"][s][i] for s in ("3", "4")]
        assert row["n"] == 12 and row["perfect_by_seed"] == [s["perfect_count"] for s in seeds]
        assert row["perfect_count"] == sum(row["perfect_by_seed"])
        assert row["perfect_low"] <= row["perfect"] <= row["perfect_high"]
        assert row["errors_low"] <= row["errors"] <= row["errors_high"]
    (model, floor) = record["models"]["ngrams"]["pooled"]
    assert floor["setting"].endswith("(the floor)") and "above_floor" not in floor
    assert model["above_floor"] == pytest.approx(model["bits"] - floor["bits"])
    assert model["above_floor_low"] <= model["above_floor"] <= model["above_floor_high"]
    table = (tmp_path / "pooled.md").read_text()
    assert "| training distribution | 12 |" in table and "above the floor (95% interval)" in table
    (tmp_path / "pooled.md").unlink()
    run("evaluate_pooled.py", "--out", tmp_path / "pooled", "--markdown-only")
    assert (tmp_path / "pooled.md").read_text() == table


def test_the_pooled_intervals():
    """Student's t quantiles against the tables, and a mean's interval over seeds."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("evaluate_pooled", ROOT / "benchmarks" / "evaluate_pooled.py")
    pooled = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pooled)
    for df, quantile in ((1, 12.706), (2, 4.303), (4, 2.776), (9, 2.262), (30, 2.042)):
        assert pooled.t_quantile(0.975, df) == pytest.approx(quantile, abs=1e-3)
    centre, low, high = pooled.mean_interval([1.0, 2.0, 3.0])
    assert centre == 2.0 and (low, high) == pytest.approx((2 - 4.303 / 3 ** 0.5, 2 + 4.303 / 3 ** 0.5), abs=1e-3)
    assert pooled.mean_interval([5.0]) == (5.0, 5.0, 5.0)
    with pytest.raises(ValueError, match="settings differ"):
        pooled.pool({1: [{"setting": "a"}], 2: [{"setting": "b"}]})
