"""How long ``ntm-course-instructor grade`` takes for a class, sandboxed, against the same class graded without
isolation in the same run (the baseline: no bubblewrap, no uid switch, no cgroup, no kit).

    python benchmarks/grading_class.py                      # a class of 40, --jobs 2, one round each
    python benchmarks/grading_class.py --size 8 --rounds 3 --out benchmarks/results

The class cycles through right, wrong and unanswered hand-ins of three exercises (05_shift, 01_read,
04_interpolate), built from the solution and exercise notebooks. Rounds alternate the two settings; the table
gives each setting's median wall time, the time per submission and the ratio sandboxed / baseline.
"""
import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from ntm_course_instructor import cli

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = ("05_shift", "01_read", "04_interpolate")
WRONG = "def {name}(*args):\n    return args[0].clone()\n"


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def build_class(folder, size):
    """``size`` hand-ins in ``folder``: right, wrong and unanswered in turn, over :data:`EXERCISES`."""
    paths = []
    for i in range(size):
        exercise = EXERCISES[i % len(EXERCISES)]
        kind = ("right", "wrong", "unanswered")[(i // len(EXERCISES)) % 3]
        source = ROOT / ("exercises" if kind == "unanswered" else "solutions") / f"{exercise}.ipynb"
        nb = nbformat.read(str(source), as_version=4)
        if kind == "wrong":
            for cell in nb.cells:
                name = grade_id(cell)
                if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and name:
                    cell.source = WRONG.format(name=name)
        path = Path(folder) / f"student{i:03d}_{kind}_{exercise}.ipynb"
        nbformat.write(nb, str(path))
        paths.append(path)
    return paths


def grade_once(paths, jobs, isolated, folder):
    """Seconds of wall clock for one ``grade`` of ``paths`` into a new gradebook."""
    book = Path(tempfile.mkdtemp(dir=folder)) / "gradebook.csv"
    argv = ["grade", *map(str, paths), "--csv", str(book), "--jobs", str(jobs)] + ([] if isolated else
                                                                                     ["--no-isolation"])
    began = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = cli.main(argv)
    seconds = time.perf_counter() - began
    if code != 0:
        sys.exit(f"grade exited with {code}: {err.getvalue()[-2000:]}")
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40, help="submissions in the class (default: 40)")
    parser.add_argument("--jobs", type=int, default=2, help="grade --jobs (default: 2)")
    parser.add_argument("--rounds", type=int, default=1, help="rounds of each setting, interleaved (default: 1)")
    parser.add_argument("--out", type=Path, help="also write grading_class.md into this folder")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        paths = build_class(folder, args.size)
        times = {"sandboxed": [], "baseline (--no-isolation)": []}
        for _ in range(args.rounds):
            times["sandboxed"].append(grade_once(paths, args.jobs, True, folder))
            times["baseline (--no-isolation)"].append(grade_once(paths, args.jobs, False, folder))
    medians = {k: statistics.median(v) for k, v in times.items()}
    lines = [f"A class of {args.size} submissions, --jobs {args.jobs}, median of {args.rounds} round(s):", "",
             "| setting | wall s | s per submission | ratio to baseline |", "|---|---|---|---|"]
    base = medians["baseline (--no-isolation)"]
    lines += [f"| {k} | {m:.1f} | {m / args.size:.2f} | {m / base:.2f} |" for k, m in medians.items()]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "grading_class.md").write_text(text)


if __name__ == "__main__":
    main()
