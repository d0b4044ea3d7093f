"""Train a model with ``ntm-course train`` and ship it in ``ntm_course/experiments/pretrained/`` with its results.

    python benchmarks/pretrain.py NAME [--half] [--sequences 1000] [--work DIR] [--out-dir DIR] \
        -- TASK [train options]

Runs ``ntm-course train TASK [train options] --checkpoint DIR/NAME-full.pt`` (continuing from that file
when it exists: a resumed run equals an uninterrupted one), then writes, into ``--out-dir`` (by default
``ntm_course/experiments/pretrained/``, where the shipped models are):

- ``NAME.pt``: the weights (float16 with ``--half``) and configuration (no optimiser state), and
- ``NAME.json``: this command, the training summary and history, and the results of
  :func:`ntm_course.experiments.evaluation.evaluate_generalisation` on ``--sequences`` fresh episodes per setting.
"""
import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from ntm_course.experiments.evaluation import BATCH_SIZE, evaluate_generalisation, markdown_table
from ntm_course.experiments.pretrained import HERE
from ntm_course.experiments.training import load_checkpoint, load_model, save_checkpoint
from ntm_course.ntm import count_parameters
from ntm_course.teaching.cli import main as cli


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the shipped model's name, e.g. copy or copy_lstm")
    parser.add_argument("--sequences", type=int, default=1000, help="fresh episodes per evaluation setting")
    parser.add_argument("--work", default="runs/pretrain", help="folder for the full training checkpoint")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--out-dir", type=Path, default=HERE,
                        help="where to write NAME.pt and NAME.json (default: the shipped models' folder)")
    parser.add_argument("--half", action="store_true",
                        help="store the weights as float16 (half the size; loading converts them back)")
    argv = sys.argv[1:]
    if "--" not in argv:
        parser.error("give the training command after --: NAME [options] -- TASK [train options]")
    split = argv.index("--")
    args, train_args = parser.parse_args(argv[:split]), argv[split + 1:]
    torch.set_num_threads(args.threads)
    full = Path(args.work) / f"{args.name}-full.pt"
    resume = ["--resume", str(full)] if full.exists() else []
    code = cli(["train", *train_args, "--checkpoint", str(full), *resume])
    if code:
        sys.exit(code)
    state = load_checkpoint(full)
    weights = {k: v.half() if args.half and v.is_floating_point() else v for k, v in state["model"].items()}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    save_checkpoint(args.out_dir / f"{args.name}.pt", {"config": state["config"], "model": weights,
                                               "step": state["step"]})
    model, config = load_model(args.out_dir / f"{args.name}.pt", device="cpu")
    rows = evaluate_generalisation(model, config["task"], args.sequences, seed=1234,
                                   task_options=config["task_options"])
    command = "python benchmarks/pretrain.py " + shlex.join([args.name, *(["--half"] if args.half else []),
                                                             "--", *train_args])
    info = {"name": args.name, "task": config["task"], "model": config["model"], "command": command,
            "steps": state["step"], "sequences": state["step"] * config["batch_size"],
            "training_seconds": round(state["seconds"], 1), "parameters": count_parameters(model),
            "evaluation": {"sequences_per_setting": args.sequences, "seed": 1234, "batch_size": BATCH_SIZE,
                           "perfect_interval": "Wilson score, 95%"},
            "results": rows, "history": state["history"]}
    (args.out_dir / f"{args.name}.json").write_text(json.dumps(info, indent=1))
    print(markdown_table(rows))


if __name__ == "__main__":
    main()
