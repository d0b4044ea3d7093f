"""Lesson 9's live run over seeds and piece sets: does the NTM trained by the recipe copy sequences twice as long
as any it saw, and does the LSTM trained after it for the same CPU time fail there?

    python benchmarks/live_copy.py [--seeds 0 1 ... 9] [--sets course einsum rolls matrix] [--set-seeds 0 1 2]
                                   [--steps S] [--seconds 60] [--checkpoints 800 1000] [--sequences 500]
                                   [--no-baseline] [--out benchmarks/results]

For each piece set and seed: :func:`ntm_course.experiments.live.live_copy` (the NTM on those pieces for the recipe's
steps or ``--seconds`` CPU seconds, whichever comes first; then, for the course's pieces, the LSTM for as many CPU
seconds of one thread: it does not depend on the pieces), then :func:`~ntm_course.experiments.live.generalisation` on
``--sequences`` fresh sequences at the longest training length and at twice it. The course's pieces run on every
seed of ``--seeds``; every other set on ``--set-seeds``. Each row: the CPU and wall seconds each model trained,
its updates, and the perfect rates with their Wilson 95% intervals. Writes ``live_copy.json`` and ``live_copy.md``
into ``--out``.

The other piece sets are independent, correct re-implementations of the seven pieces (single-head forms, as a
learner writes them), each passing the lessons' checks before it is used:

- ``einsum``: reads, writes and similarities by ``torch.einsum``; the shift as a product with a circulant matrix;
- ``rolls``: broadcast products; the shift as a sum of ``torch.roll``; sharpening by powers, as the paper writes it;
- ``matrix``: batched matrix products; similarity by normalising first; the shift by gathering rows with an index;
  sharpening in log space.
"""
import argparse
import json
import platform
import statistics
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from ntm_course.experiments.live import RECIPE, generalisation, live_copy
from ntm_course.pieces import LIBRARY, Pieces


# ------------------------------------------------------------------ three independent sets of pieces

def einsum_read(memory, w):
    return torch.einsum("bn,bnm->bm", w, memory)


def einsum_write(memory, w, e, a):
    return memory - torch.einsum("bn,bm->bnm", w, e) * memory + torch.einsum("bn,bm->bnm", w, a)


def einsum_cosine_similarity(memory, key):
    dot = torch.einsum("bnm,bm->bn", memory, key)
    norms = memory.norm(dim=2) * key.norm(dim=1, keepdim=True)
    return dot / norms.clamp_min(1e-8)


def einsum_content_addressing(memory, key, beta):
    scores = beta * einsum_cosine_similarity(memory, key)
    return torch.exp(scores - scores.max(dim=1, keepdim=True).values).div(
        torch.exp(scores - scores.max(dim=1, keepdim=True).values).sum(dim=1, keepdim=True))


def einsum_interpolate(w_content, w_prev, g):
    return w_prev + g * (w_content - w_prev)


def einsum_shift(w, s):
    N, K = w.shape[1], s.shape[1]
    i, j = torch.arange(N, device=w.device).unsqueeze(1), torch.arange(N, device=w.device).unsqueeze(0)
    offsets = (i - j) % N                                    # the offset that moves row j to row i
    kernel = torch.zeros(s.shape[0], N, dtype=s.dtype, device=s.device)   # s spread over all N offsets (mod N)
    kernel = kernel.index_add(1, torch.arange(-(K // 2), K // 2 + 1, device=s.device) % N, s)
    return torch.einsum("bij,bj->bi", kernel[:, offsets], w)


def einsum_sharpen(w, gamma):
    relative = w / w.max(dim=1, keepdim=True).values      # the largest is 1: no power underflows to all zeros
    powered = torch.exp(gamma * torch.log(relative.clamp_min(1e-30)))
    return powered / powered.sum(dim=1, keepdim=True)


def rolls_read(memory, w):
    return (memory * w[:, :, None]).sum(1)


def rolls_write(memory, w, e, a):
    erased = memory * (1 - w.unsqueeze(-1) * e.unsqueeze(1))
    return erased + w.unsqueeze(-1) * a.unsqueeze(1)


def rolls_cosine_similarity(memory, key):
    return F.cosine_similarity(memory, key[:, None, :].expand_as(memory), dim=-1, eps=1e-8)


def rolls_content_addressing(memory, key, beta):
    return F.softmax(beta * rolls_cosine_similarity(memory, key), dim=-1)


def rolls_interpolate(w_content, w_prev, g):
    return g * w_content + (1 - g) * w_prev


def rolls_shift(w, s):
    K = s.shape[1]
    out = torch.zeros_like(w)
    for k in range(K):
        out = out + s[:, k:k + 1] * torch.roll(w, shifts=k - K // 2, dims=1)
    return out


def rolls_sharpen(w, gamma):
    powered = (w / w.max(dim=1, keepdim=True).values) ** gamma
    return powered / powered.sum(dim=1, keepdim=True)


def matrix_read(memory, w):
    return torch.bmm(w.unsqueeze(1), memory).squeeze(1)


def matrix_write(memory, w, e, a):
    w = w.unsqueeze(2)
    return memory * (1 - torch.bmm(w, e.unsqueeze(1))) + torch.bmm(w, a.unsqueeze(1))


def matrix_cosine_similarity(memory, key):
    unit_rows = memory / memory.norm(dim=2, keepdim=True).clamp_min(1e-8)
    unit_key = key / key.norm(dim=1, keepdim=True).clamp_min(1e-8)
    return torch.bmm(unit_rows, unit_key.unsqueeze(2)).squeeze(2)


def matrix_content_addressing(memory, key, beta):
    return torch.log_softmax(beta * matrix_cosine_similarity(memory, key), dim=1).exp()


def matrix_interpolate(w_content, w_prev, g):
    return torch.addcmul(w_prev * (1 - g), g, w_content)


def matrix_shift(w, s):
    N, K = w.shape[1], s.shape[1]
    offsets = torch.arange(-(K // 2), K // 2 + 1, device=w.device)
    rows = (torch.arange(N, device=w.device).unsqueeze(1) - offsets.unsqueeze(0)) % N   # (N, K)
    return (w[:, rows] * s.unsqueeze(1)).sum(dim=2)


def matrix_sharpen(w, gamma):
    logits = gamma * torch.log(w.clamp_min(1e-30))
    return torch.exp(logits - torch.logsumexp(logits, dim=1, keepdim=True))


NAMES = ("read", "write", "cosine_similarity", "content_addressing", "interpolate", "shift", "sharpen")
SETS = {"course": lambda: LIBRARY,
        **{prefix: (lambda prefix=prefix: Pieces(**{name: globals()[f"{prefix}_{name}"] for name in NAMES}))
           for prefix in ("einsum", "rolls", "matrix")}}


def check_set(name):
    """The piece set ``name``; a RuntimeError unless each of its pieces passes the lesson's check."""
    from ntm_course.teaching.practice import check
    pieces = SETS[name]()
    failing = [piece for piece in pieces.mine() if not check(piece, getattr(pieces, piece).__wrapped__,
                                                            verbose=False).passed]
    if failing:
        raise RuntimeError(f"piece set {name}: {failing} fail the lessons' checks")
    return pieces


# ------------------------------------------------------------------ the measurement

def measure(set_name, seed, sequences, steps=None, seconds=None, checkpoints=(), baseline=True, recipe=RECIPE):
    """One live run and its test: a result row. ``checkpoints``: earlier step counts at which the NTM is also
    tested at twice the training length (outside its clock), to see how many steps the recipe needs."""
    pieces = check_set(set_name)
    L = RECIPE.max_length
    early = {}

    def test_early(name, step, model):
        if name == "NTM" and step in checkpoints:
            model.eval()
            early[step] = generalisation(model, [2 * L], n_sequences=sequences, seed=10_000 + seed)[0]
            model.train()

    wall = time.perf_counter()
    run = live_copy(pieces=None if set_name == "course" else pieces, steps=steps, seconds=seconds, seed=seed,
                    progress=False, baseline=baseline, callback=test_early, recipe=recipe)
    wall = time.perf_counter() - wall
    row = {"set": set_name, "seed": seed, "wall_seconds": round(wall, 1)}
    for name, model in (("ntm", run.ntm), ("lstm", run.lstm)):
        if model is None:
            continue
        history = run.histories[name.upper()]
        row[f"{name}_seconds"], row[f"{name}_steps"] = history[-1]["seconds"], history[-1]["step"]
        for test in generalisation(model, [L, 2 * L], n_sequences=sequences, seed=10_000 + seed):
            row[f"{name}_at_{test['length']}"] = {k: test[k] for k in KEYS}
    seconds_at = {r["step"]: r["seconds"] for r in run.histories["NTM"]}
    row["ntm_early"] = {str(step): {"seconds": seconds_at.get(step), **{k: test[k] for k in KEYS}}
                        for step, test in sorted(early.items())}
    row["passed"] = row[f"ntm_at_{2 * L}"]["perfect"] >= 0.95
    if baseline:
        row["lstm_failed"] = row[f"lstm_at_{2 * L}"]["perfect"] < 0.05
    return row


KEYS = ("n", "perfect_count", "perfect", "perfect_low", "perfect_high", "errors")


def _rate(cell):
    return (f"{cell['perfect_count']}/{cell['n']} = {cell['perfect']:.1%} "
            f"({cell['perfect_low']:.1%}-{cell['perfect_high']:.1%})")


def markdown(result):
    L = result["recipe"]["max_length"]
    lines = [f"# Lesson 9's live run: the NTM {result['steps']} steps (at most {result['seconds']:.0f} CPU s), "
             f"the LSTM for as long; lengths 1-{L}, tested at {L} and {2 * L}",
             "", f"`{result['command']}` on {result['machine']}, torch {result['torch']}, one thread; "
             f"{result['sequences']} fresh sequences per length; rates with Wilson 95% intervals. "
             "Passed: the NTM copies at least 95% of the sequences at twice the training length perfectly.", "",
             f"| set | seed | NTM s (steps) | NTM at {L} | NTM at {2 * L} | LSTM s (steps) | LSTM at {L} | "
             f"LSTM at {2 * L} | passed |", "|---|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lstm = (f"{r['lstm_seconds']:.1f} ({r['lstm_steps']}) | {_rate(r[f'lstm_at_{L}'])} | "
                f"{_rate(r[f'lstm_at_{2 * L}'])}" if "lstm_steps" in r else "not trained (the same as the course's) | | ")
        lines.append(f"| {r['set']} | {r['seed']} | {r['ntm_seconds']:.1f} ({r['ntm_steps']}) | "
                     f"{_rate(r[f'ntm_at_{L}'])} | {_rate(r[f'ntm_at_{2 * L}'])} | {lstm} | "
                     f"{'yes' if r['passed'] else 'no'} |")
    early = [(r, step, cell) for r in result["rows"] for step, cell in r["ntm_early"].items()]
    if early:
        lines += ["", f"The NTM at twice the training length after fewer steps (the same runs):", "",
                  "| set | seed | steps (CPU s) | NTM at twice the length |", "|---|---|---|---|"]
        lines += [f"| {r['set']} | {r['seed']} | {step} ({cell['seconds']}) | {_rate(cell)} |" for r, step, cell in early]
    lines += ["", "| set | passed | seeds | median NTM rate at twice the length |", "|---|---|---|---|"]
    for name, summary in result["summary"].items():
        lines.append(f"| {name} | {summary['passed']} of {summary['seeds']} | {summary['seed_list']} | "
                     f"{summary['median_perfect']:.1%} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(10)))
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--set-seeds", type=int, nargs="+", default=[0, 1, 2],
                        help="seeds for the piece sets other than the course's")
    parser.add_argument("--steps", type=int, default=None, help="the NTM's updates (default the recipe's)")
    parser.add_argument("--seconds", type=float, default=None,
                        help="stop the NTM sooner once it has used this many CPU seconds (default the lesson's limit)")
    parser.add_argument("--checkpoints", type=int, nargs="*", default=[],
                        help="also test the NTM at twice the length after these many steps")
    parser.add_argument("--sequences", type=int, default=500)
    parser.add_argument("--recipe", type=json.loads, default={},
                        help="JSON: fields of the recipe to change, e.g. '{\"lr_drop_below\": 0.1}'")
    parser.add_argument("--no-baseline", action="store_true", help="train no LSTM, not even beside the course's pieces")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    from ntm_course.experiments.live import SECONDS
    recipe = replace(RECIPE, **args.recipe)
    seconds = args.seconds if args.seconds is not None else SECONDS
    rows = []
    for set_name in args.sets:
        for seed in (args.seeds if set_name == "course" else args.set_seeds):
            row = measure(set_name, seed, args.sequences, args.steps, seconds, set(args.checkpoints),
                          baseline=set_name == "course" and not args.no_baseline, recipe=recipe)
            rows.append(row)
            print(json.dumps(row), flush=True)
    L = RECIPE.max_length
    summary = {}
    for set_name in args.sets:
        mine = [r for r in rows if r["set"] == set_name]
        summary[set_name] = {"passed": sum(r["passed"] for r in mine), "seeds": len(mine),
                             "seed_list": [r["seed"] for r in mine],
                             "median_perfect": statistics.median(r[f"ntm_at_{2 * L}"]["perfect"] for r in mine),
                             "lstm_failed": sum(r.get("lstm_failed", False) for r in mine)}
    result = {"command": "python benchmarks/live_copy.py " + " ".join(argv if argv is not None else []),
              "machine": f"{platform.machine()}, {platform.processor() or platform.system()}",
              "torch": torch.__version__, "seconds": seconds, "steps": args.steps or recipe.steps,
              "sequences": args.sequences,
              "recipe": asdict(recipe), "rows": rows, "summary": summary}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "live_copy.json").write_text(json.dumps(result, indent=1))
    (args.out / "live_copy.md").write_text(markdown(result))
    print(markdown(result))
    return result


if __name__ == "__main__":
    import sys
    main(sys.argv[1:])
