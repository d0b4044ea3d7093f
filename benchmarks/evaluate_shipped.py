"""Re-evaluate the shipped models and record the results, with sample sizes and 95% intervals, in their JSON.

    python benchmarks/evaluate_shipped.py [--models copy copy_lstm] [--sequences 1000] [--out-dir DIR]

For each shipped model (:func:`ntm_course.experiments.pretrained.available`; ``failures.json`` is not a model) runs
:func:`ntm_course.experiments.evaluation.evaluate_generalisation` on ``--sequences`` fresh sequences per setting (seed
``--seed``) and writes the rows into ``NAME.json``'s ``"results"`` and how they were made into its
``"evaluation"``, keeping every other key; prints each model's table. ``--out-dir`` writes the updated
``NAME.json`` files there instead of into ``ntm_course/experiments/pretrained/``. Torch runs on one thread by default.
"""
import argparse
import json
import time
from pathlib import Path

import torch

from ntm_course.experiments.evaluation import BATCH_SIZE, caption, describe, evaluate_generalisation
from ntm_course.experiments.pretrained import HERE, available, load_pretrained


def positive(text):
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value}")
    return value


def evaluate(name, sequences, seed, batch_size, device):
    """The shipped model ``name``'s JSON record with fresh ``results`` and ``evaluation``."""
    shipped = load_pretrained(name, device=device)
    rows = evaluate_generalisation(shipped.model, shipped.task, sequences, seed, shipped.config["task_options"],
                                   batch_size)
    info = json.loads((HERE / f"{name}.json").read_text())
    info["evaluation"] = {"sequences_per_setting": sequences, "seed": seed, "batch_size": batch_size,
                          "perfect_interval": "Wilson score, 95%"}
    info["results"] = rows
    return info


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=available(), default=available(), metavar="NAME",
                        help=f"the shipped models to evaluate (default: all of {', '.join(available())})")
    parser.add_argument("--sequences", type=positive, default=1000, help="fresh sequences per setting")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the test sequences")
    parser.add_argument("--batch-size", type=positive, default=BATCH_SIZE, help="sequences scored at once")
    parser.add_argument("--threads", type=positive, default=1, help="torch.set_num_threads")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out-dir", type=Path, default=HERE, help="where to write NAME.json (default: the "
                                                                    "shipped models' folder)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.models:
        start = time.perf_counter()
        info = evaluate(name, args.sequences, args.seed, args.batch_size, args.device)
        path = args.out_dir / f"{name}.json"
        path.write_text(json.dumps(info, indent=1))
        print(f"{name} ({info['model'].upper()} on {info['task']}): {caption(args.sequences, args.seed)}")
        for row in info["results"]:
            print("  " + describe(row))
        print(f"  {time.perf_counter() - start:.0f} s on {args.device}, {args.threads} thread(s); wrote {path}")


if __name__ == "__main__":
    main()
