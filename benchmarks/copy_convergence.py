"""How long the copy task takes to converge, over several seeds, in the paper's configuration.

Paper configuration: LSTM controller of 100 units, memory 128 x 20, one read and one write head, lengths
1-20 (the defaults of :mod:`ntm_course.experiments.training`). Converged means fewer than 0.05 bit errors per
sequence on 1,000 fresh sequences of lengths 1-20. Each seed trains with ``train(..., target_errors=...)``
until its held-out set is below the gate (``--gate``, default the threshold), then the 1,000-sequence test
decides; if it fails, training resumes from the checkpoint. The clock counts everything: training,
evaluations and the test.

    python benchmarks/copy_convergence.py --seeds 0 1 2 3 4 [--minutes 10] [--out benchmarks/results]
                                          [--stop-after-failures K] [--clock cpu] [--gate G]

Prints and writes (JSON and markdown) sequences seen, wall time and process CPU time per seed, and the
medians; each seed's training history goes to ``history_seed<N>.csv`` in the same folder. With
``--stop-after-failures K`` the run stops after the K-th seed that does not converge (a quick screen). With
``--clock cpu`` the time limit counts the process's CPU time, not wall time (fair on a busy machine). With
``--gate G`` the 1,000-sequence test runs as soon as the held-out errors fall below G (default: the threshold):
a fixed held-out set can keep one hard episode wrong while the model already passes the test.
Options after ``--`` are passed to :func:`ntm_course.experiments.training.train` as JSON, e.g. ``-- '{"lr": 3e-3}'``.
"""
import argparse
import json
import math
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ntm_course.experiments.evaluation import score
from ntm_course.experiments.tasks import copy_batch
from ntm_course.experiments.training import train


THRESHOLD = 0.05


def converge(seed, minutes, options, workdir, history_path=None, clock="wall", gate=THRESHOLD):
    """Train one seed until converged or out of ``minutes`` of ``clock`` ("wall" or "cpu") time; return its
    row (its history to ``history_path``)."""
    checkpoint = Path(workdir) / f"seed{seed}.pt"
    wall, cpu = time.perf_counter(), time.process_time()
    now = time.process_time if clock == "cpu" else time.perf_counter
    start = now()
    test = copy_batch(1000, 1, 20, generator=torch.Generator().manual_seed(10_000 + seed))
    steps, resume, result = 0, None, None
    while True:
        # train's max_minutes is wall time, never less than CPU time: with clock="cpu" it stops early on a
        # busy machine and the loop resumes it until the CPU minutes are spent
        left = minutes - (now() - start) / 60
        if left <= 0:
            break
        if result is None or result.history[-1]["step"] >= steps:
            steps += options.get("steps", 20000)
        # train's max_minutes counts the training time the checkpoint already holds: add it to what is left
        trained = result.history[-1]["seconds"] / 60 if result is not None else 0.0
        result = train("copy", seed=seed, checkpoint=checkpoint, resume=resume, progress=False,
                       history_path=history_path,
                       target_errors=gate, max_minutes=trained + left, **{**options, "steps": steps})
        resume = checkpoint
        last = result.history[-1]
        if last["eval_errors"] < gate and score(result.model, test)["errors"] < THRESHOLD:
            break
    final = score(result.model, test)
    return {"seed": seed, "converged": final["errors"] < THRESHOLD,
            "sequences": result.history[-1]["sequences"], "test_errors": round(final["errors"], 4),
            "wall_seconds": round(time.perf_counter() - wall, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1)}


def cpu_name():
    """The processor's model name (from /proc/cpuinfo on Linux), for the record."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--minutes", type=float, default=10.0, help="time limit per seed")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--out", default="benchmarks/results", help="folder for the JSON and markdown")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="what --minutes counts: wall time or this process's CPU time")
    parser.add_argument("--gate", type=float, default=THRESHOLD,
                        help="run the 1,000-sequence test once the held-out errors are below this")
    parser.add_argument("--stop-after-failures", type=int, default=None, metavar="K",
                        help="stop after the K-th seed that does not converge")
    parser.add_argument("options", nargs="?", default="{}", help="JSON of extra train() options")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = json.loads(args.options)
    if args.stop_after_failures is not None and args.stop_after_failures < 1:
        parser.error(f"--stop-after-failures must be an integer >= 1, got {args.stop_after_failures}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for seed in args.seeds:
            rows.append(converge(seed, args.minutes, options, workdir, out / f"history_seed{seed}.csv",
                                 args.clock, args.gate))
            print(json.dumps(rows[-1]), flush=True)
            if sum(not r["converged"] for r in rows) == args.stop_after_failures:
                break
    done = [r for r in rows if r["converged"]]

    def median(key):
        """The median over every seed, a seed that did not converge counting as infinite: ``None`` (JSON null)
        when that is where the median lands, for fewer than half the seeds converged."""
        value = statistics.median(r[key] if r["converged"] else math.inf for r in rows)
        return None if math.isinf(value) else value

    summary = {
        "seeds": len(rows), "converged": len(done), "threads": args.threads, "options": options,
        "minutes": args.minutes, "clock": args.clock, "gate": args.gate,
        "median_wall_seconds": median("wall_seconds"), "median_sequences": median("sequences"),
        "median_cpu_seconds": median("cpu_seconds"),
        "load_average": list(os.getloadavg()), "torch": torch.__version__, "cpu": cpu_name(),
        "cores": os.cpu_count(), "rows": rows,
    }
    (out / "copy_convergence.json").write_text(json.dumps(summary, indent=1))
    lines = ["| seed | converged | sequences | wall time (s) | CPU time (s) | test bit errors / seq |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['seed']} | {'yes' if r['converged'] else 'no'} | {r['sequences']} | {r['wall_seconds']} | "
              f"{r['cpu_seconds']} | {r['test_errors']} |" for r in rows]
    medians = ["not reached" if summary[key] is None else summary[key]
               for key in ("median_sequences", "median_wall_seconds", "median_cpu_seconds")]
    lines.append(f"| median | {len(done)}/{len(rows)} | {' | '.join(map(str, medians))} | |")
    (out / "copy_convergence.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
