"""Record short training runs that fail, for lesson 9's "When training fails" section.

    python benchmarks/failures.py [--minutes 2] [--device cuda] [--out ntm_course/experiments/pretrained/failures.json]

Runs, in parallel (one process each, one thread each), for at most ``--minutes`` of training each:

- ``copy-constant-1e-2-seed*``: the copy task, paper configuration, Adam at a constant learning rate of
  1e-2, to see whether and when a run that has learned collapses (at the default 3e-3 that takes longer
  than a short recording: ``benchmarks/README.md``);
- ``repeat_copy-scratch-3e-3-seed0``: repeat copy from random weights at 3e-3, to see the plateau; at the end it
  records the read head's weighting over one episode (5 vectors, 3 repeats) and how sharp it is.

Writes one JSON file: for each run its options, its history (``ntm_course.experiments.training.train``'s rows), how it
ended (finished, out of time, or ``TrainingDiverged`` with its message) and, for repeat copy, the read head.
Numbers depend on the machine (and GPU numerics differ from CPU ones); the file records which. The shipped
``ntm_course/experiments/pretrained/failures.json`` (package data, read by lesson 9) came from ``--minutes 3.5``
on one H200 GPU, the three
runs sharing it: about 570 steps for each copy run, 243 for repeat copy.
"""
import argparse
import json
import multiprocessing as mp
import platform
import tempfile
import time
from pathlib import Path


# Recorded before copy's recipe became its default (lr 5e-3, a spike clip of 2): the runs turn the spike clip off
# and train on the eager step, as they did then.
RUNS = {
    "copy-constant-1e-2-seed0": dict(task="copy", lr=1e-2, seed=0, grad_clip_spikes=None),
    "copy-constant-1e-2-seed1": dict(task="copy", lr=1e-2, seed=1, grad_clip_spikes=None),
    "repeat_copy-scratch-3e-3-seed0": dict(task="repeat_copy", lr=3e-3, seed=0),
}


def read_head_summary(model, device):
    """The read head over one repeat-copy episode (5 vectors, 3 repeats): its weighting and its sharpness."""
    import torch

    from ntm_course.experiments.tasks import TASKS
    batch = TASKS["repeat_copy"].make(1, min_length=5, max_length=5, min_repeats=3, max_repeats=3,
                                      generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits, trace = model.trace(batch.inputs.to(device))
    w = trace["read_weights"][:, 0, 0].cpu()                        # (T, N)
    answer = batch.mask[:, 0].bool()
    wrong = ((logits.cpu() > 0) != (batch.targets > 0.5))[answer].float().mean().item()
    return {"read_weights": [[round(v, 4) for v in row] for row in w.tolist()],
            "answer_steps": answer.nonzero()[:, 0].tolist(),
            "mean_max_read_weight_in_answer": w[answer].max(dim=1).values.mean().item(),
            "wrong_bit_fraction": wrong}


def one_run(name, options, minutes, device, history_dir):
    import torch

    from ntm_course.experiments.training import TrainingDiverged, train
    torch.set_num_threads(1)
    options = dict(options)
    task = options.pop("task")
    history_path = Path(history_dir) / f"{name}.json"
    record = {"name": name, "task": task, "options": options, "minutes": minutes}
    started = time.perf_counter()
    try:
        result = train(task, steps=100_000, eval_every=50, max_minutes=minutes, progress=False, device=device,
                       history_path=history_path, fast=False, **options)
        record["ended"] = "out of time"
        record["history"] = result.history
        if task == "repeat_copy":
            record["read_head"] = read_head_summary(result.model, device)
    except TrainingDiverged as error:
        record["ended"] = f"TrainingDiverged: {error}"
        record["history"] = json.loads(history_path.read_text()) if history_path.exists() else []
    record["wall_seconds"] = round(time.perf_counter() - started, 1)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=2.0, help="training time per run")
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--out", default="ntm_course/experiments/pretrained/failures.json")
    parser.add_argument("--only", nargs="*", help="run only these runs (names in RUNS)")
    args = parser.parse_args()
    import torch
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    runs = {k: v for k, v in RUNS.items() if not args.only or k in args.only}
    with tempfile.TemporaryDirectory() as tmp, mp.get_context("spawn").Pool(len(runs)) as pool:
        jobs = [pool.apply_async(one_run, (name, options, args.minutes, device, tmp)) for name, options in runs.items()]
        records = [job.get() for job in jobs]
        pool.close()   # let the workers end on their own: terminate(), on leaving the block, leaks a semaphore
        pool.join()
    only = f" --only {' '.join(runs)}" if args.only else ""
    out = {"command": f"python benchmarks/failures.py --minutes {args.minutes}{only}", "device": device,
           "gpu": torch.cuda.get_device_name() if device == "cuda" else None, "machine": platform.processor(),
           "torch": torch.__version__, "runs": records}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1))
    for r in records:
        h = r["history"]
        best = min((row["eval_errors"] for row in h), default=float("nan"))
        last = h[-1]["eval_errors"] if h else float("nan")
        print(f"{r['name']:>32}: {len(h)} rows, {h[-1]['step'] if h else 0} steps, best {best:.3f}, last {last:.3f} "
              f"errors/seq; {r['ended'][:80]}")


if __name__ == "__main__":
    main()
