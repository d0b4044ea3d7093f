"""``benchmarks/grading_class.py`` runs end to end on a class of three (its numbers are not checked: the benchmark
measures, the test does not time)."""
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_grading_class_times_both_settings_and_writes_its_table(tmp_path):
    done = subprocess.run([sys.executable, "benchmarks/grading_class.py", "--size", "3", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in (tmp_path / "grading_class.md").read_text().splitlines() if line.startswith("| ")]
    assert [r.split("|")[1].strip() for r in rows[1:]] == ["sandboxed", "baseline (--no-isolation)"]
    assert all(float(r.split("|")[2]) > 0 for r in rows[1:]) and rows[2].split("|")[4].strip() == "1.00"
    assert done.stdout.startswith("A class of 3 submissions, --jobs 2")
