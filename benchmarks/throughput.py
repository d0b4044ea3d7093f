"""Training-step throughput of the NTM: the eager step and the fast path, next to an earlier revision's and an nn.LSTM.

Measures sequences per second of a full training step (forward, loss, backward, Adam update):

- on copy episodes of length 20 (41 time steps) at batch sizes 1, 32 and 256, for the paper's NTM (LSTM
  controller of 100 units, memory 128 x 20, one read and one write head) and for a one-layer ``nn.LSTM`` of
  100 units with a linear output;
- on priority-sort episodes (20 inputs, 16 outputs: 37 steps) at batch 32 in the paper's priority-sort
  configuration: a feed-forward controller of 512 units with 8 read and 8 write heads.

The NTM runs three ways: as the ``--baseline`` revision built it (``git archive`` of its ``ntm_course`` into a
temporary folder, imported as ``ntm_course_baseline``), as this checkout builds it with the eager step (the
reference), and with this checkout's fast path (``model.fast = True``: the fused memory step of
:mod:`ntm_course.fused`, where it applies). All in one process, the measurements interleaved round by round so
that a busy machine slows every contender alike. On a CPU the clock is the process's CPU time. Prints a table of
the median round of each, with the ratios, and how long the fused step takes to compile into an empty cache (its
first use on a machine; it is then cached on disk).

``--compile`` adds this checkout's NTM with its step compiled (``model.cell.step = torch.compile(model.cell.step)``),
measured in the same rounds, and a second table: its throughput against the eager step and ``nn.LSTM``, and how
long its first step took (compiling; much shorter with inductor's cache on disk from an earlier run).

    python benchmarks/throughput.py [--seconds 6] [--rounds 3] [--threads 1] [--baseline 37c01b6] [--device cpu]
                                    [--compile]
"""
import argparse
import importlib
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import torch
from torch import nn

from ntm_course import fused, get_device
from ntm_course.experiments.checkpoints import RENAMED
from ntm_course.experiments.config import build_model, make_config
from ntm_course.experiments.tasks import bits_per_sequence, copy_batch, priority_sort_batch


ROOT = Path(__file__).resolve().parent.parent
BEFORE = "37c01b6"   # the last revision with one layer and one loop iteration per head, checks at every step


class PlainLSTM(nn.Module):
    def __init__(self, input_size, output_size, hidden_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)
        self.output = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return self.output(self.lstm(x)[0])


def import_revision(revision, folder):
    """``ntm_course`` as it was at ``revision``, imported from ``folder`` as the package ``ntm_course_baseline``.

    ``revision`` is a git revision (read with ``git archive``) or a folder that holds that revision's
    ``ntm_course`` (for a machine with the working tree but no git history: ``git archive REV ntm_course | tar
    -x -C FOLDER`` beforehand).
    """
    if (Path(revision) / "ntm_course").is_dir():
        shutil.copytree(Path(revision) / "ntm_course", Path(folder) / "ntm_course_baseline")
    else:
        try:
            archive = subprocess.run(["git", "archive", revision, "ntm_course"], cwd=ROOT, check=True,
                                     capture_output=True).stdout
        except (OSError, subprocess.CalledProcessError) as error:
            sys.exit(f"--baseline {revision}: not a folder holding ntm_course, and git archive cannot read "
                     f"that revision ({error})")
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        (Path(folder) / "ntm_course").rename(Path(folder) / "ntm_course_baseline")
    sys.path.insert(0, str(folder))
    try:   # build_model and make_config: in experiments.config since the modules were grouped by layer
        return importlib.import_module("ntm_course_baseline.experiments.config")
    except ModuleNotFoundError:
        return importlib.import_module("ntm_course_baseline.training")


def trainer(model, batch):
    """One training step of ``model`` on ``batch`` (forward, loss, backward, Adam), as a function; the wall-clock
    seconds of its first step (which compiles a compiled step) in ``step.first_seconds``."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        loss = bits_per_sequence(model(batch.inputs), batch.targets, batch.mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    start = time.perf_counter()
    step()   # warm-up
    step.first_seconds = time.perf_counter() - start
    return step


def first_build_seconds():
    """Wall-clock seconds to compile the fused step into an empty cache, as on a machine's first use."""
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        fused.build(cache=folder)
        return time.perf_counter() - start


def rate(step, batch_size, seconds, device):
    """Sequences per second of ``step`` over about ``seconds``: per CPU second of this process on a CPU (other
    work on a busy machine then slows it less), per wall-clock second on a GPU."""
    clock = time.perf_counter if device.type == "cuda" else time.process_time
    steps, start = 0, clock()
    while clock() - start < seconds or steps == 0:
        step()
        steps += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch_size / (clock() - start)


def contenders(baseline, batch, options, device, lstm=True, compiled=False):
    """name -> training step: the baseline revision's NTM, this checkout's NTM eager and fast, (for copy) an nn.LSTM
    and (with ``compiled``) this checkout's NTM with its step compiled."""
    steps = {}
    models = [("before", baseline), ("eager", None), ("fast", None)] + ([("compiled", None)] if compiled else [])
    for name, training in models:
        torch.manual_seed(0)
        if training is None:
            model = build_model(make_config(**options))
            model.fast = name == "fast"
            if name == "compiled":
                model.cell.step = torch.compile(model.cell.step)
        else:
            old_names = ({} if training.__name__.endswith("config")      # the baseline's option names
                         else {new: old for old, new in RENAMED.items()})
            model = training.build_model(training.make_config(**{old_names.get(k, k): v for k, v in options.items()}))
        steps[name] = trainer(model.to(device), batch)
    if lstm:
        torch.manual_seed(0)
        steps["nn.LSTM"] = trainer(PlainLSTM(batch.inputs.shape[2], batch.targets.shape[2], 100).to(device), batch)
    return steps


def measure(steps, batch_size, seconds, rounds, device):
    """Interleaved rounds; the median round of each contender."""
    rates = {name: [] for name in steps}
    for _ in range(rounds):
        for name, step in steps.items():
            rates[name].append(rate(step, batch_size, seconds / rounds, device))
    return {name: statistics.median(values) for name, values in rates.items()}


def per_lstm(rates, name):
    """The table's cell for ``rates[name]`` as a fraction of the LSTM's rate; empty for a setting without one."""
    return f"{rates[name] / rates['nn.LSTM']:.3f}" if "nn.LSTM" in rates else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0, help="time per contender and setting (default 6)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as in every benchmark)")
    parser.add_argument("--baseline", default=BEFORE, help=f"the git revision to compare with, or a folder holding its ntm_course (default {BEFORE})")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 32, 256])
    parser.add_argument("--device", help="cpu or cuda (default: ntm_course.get_device())")
    parser.add_argument("--compile", action="store_true", help="also measure this checkout's NTM with its step "
                                                               "compiled by torch.compile")
    args = parser.parse_args()
    if args.seconds <= 0 or args.rounds < 1 or args.threads < 1 or min(args.batch_sizes) < 1:
        parser.error("--seconds, --rounds, --threads and every batch size must be positive")
    torch.set_num_threads(args.threads)
    device = torch.device(args.device) if args.device else get_device()
    built = fused.available()
    build_seconds = first_build_seconds() if built[0] else None
    with tempfile.TemporaryDirectory() as folder:
        baseline = import_revision(args.baseline, folder)
        print(f"torch {torch.__version__}, {device}, {torch.get_num_threads()} thread(s); 'before' is revision "
              f"{args.baseline}; sequences per {'second' if device.type == 'cuda' else 'CPU second'}, the median of "
              f"{args.rounds} interleaved rounds")
        fast = (f"the fused step, {build_seconds:.1f} s (wall clock) to compile it on a machine's first use, then "
                f"loaded from the cache" if built[0] else f"not available ({built[1]}): the eager step runs")
        print(f"fast path: {fast}{'' if device.type == 'cpu' else ' (CPU only: here the eager step runs)'}\n")
        print("| setting | batch | NTM before | NTM eager | NTM fast | nn.LSTM(100) | eager / before | fast / eager "
              "| eager / LSTM | fast / LSTM |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        compiled_rows = []
        seeded = torch.Generator().manual_seed
        settings = [("copy, length 20", batch_size, copy_batch(batch_size, 20, 20, generator=seeded(0)),
                     dict(task="copy")) for batch_size in args.batch_sizes]
        settings.append(("priority sort, feed-forward 512, 8 + 8 heads", 32,
                         priority_sort_batch(32, generator=seeded(0)),
                         dict(task="priority_sort", controller="feedforward", controller_size=512, num_read_heads=8,
                              num_write_heads=8)))
        for setting, batch_size, batch, options in settings:
            batch = type(batch)(*(t.to(device) for t in batch))
            lstm = options["task"] == "copy"
            steps = contenders(baseline, batch, options, device, lstm, args.compile)
            r = measure(steps, batch_size, args.seconds, args.rounds, device)
            print(f"| {setting} | {batch_size} | {r['before']:.1f} | {r['eager']:.1f} | {r['fast']:.1f} | "
                  f"{format(r['nn.LSTM'], '.1f') if lstm else ''} | {r['eager'] / r['before']:.2f} | "
                  f"{r['fast'] / r['eager']:.2f} | {per_lstm(r, 'eager')} | {per_lstm(r, 'fast')} |", flush=True)
            if args.compile:
                compiled_rows.append(f"| {setting} | {batch_size} | {r['eager']:.1f} | {r['compiled']:.1f} | "
                                     f"{r['compiled'] / r['eager']:.2f} | {per_lstm(r, 'compiled')} | "
                                     f"{steps['compiled'].first_seconds:.1f} |")
        if compiled_rows:
            print("\n| setting | batch | NTM eager | NTM compiled | compiled / eager | compiled / LSTM "
                  "| first step (s) |")
            print("|---|---|---|---|---|---|---|")
            print("\n".join(compiled_rows))


if __name__ == "__main__":
    main()
