"""The benchmark scripts run end to end on a tiny setting. Their numbers are not checked here: the benchmarks
measure, the tests do not time."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_throughput_compares_a_baseline_folder_with_this_checkout(tmp_path):
    """``--baseline FOLDER`` (a machine without git history) imports that folder's ``ntm_course``, here this
    checkout's own, beside this checkout's, and prints one row per setting with every figure measured."""
    shutil.copytree(ROOT / "ntm_course", tmp_path / "ntm_course", ignore=shutil.ignore_patterns("__pycache__"))
    command = [sys.executable, "benchmarks/throughput.py", "--baseline", str(tmp_path), "--seconds", "0.01",
               "--rounds", "1", "--batch-sizes", "2"]
    run = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in run.stdout.splitlines()
            if line.startswith(("| copy", "| priority"))]
    settings = [row[:2] for row in rows]
    assert settings == [["copy, length 20", "2"], ["priority sort, feed-forward 512, 8 + 8 heads", "32"]]
    figures = [float(cell) for row in rows for cell in row[2:] if cell]
    assert len(figures) == 6 + 3 and all(f > 0 for f in figures)
