"""Evaluate the shipped models over several test seeds and pool the results: the numbers the README and the
lessons quote.

    python benchmarks/evaluate_pooled.py [--models repeat_copy copy] [--seeds 1234 1235 ...] [--sequences 1000]
                                         [--out benchmarks/results/shipped_pooled] [--markdown-only]

One seed's 1,000 sequences is one draw: the repeat-copy model's 987 of 1,000 perfect (seed 1234) is a lucky one.
For each shipped model (:func:`ntm_course.experiments.pretrained.available`) and each seed, this runs
:func:`ntm_course.experiments.evaluation.evaluate_generalisation` on ``--sequences`` fresh sequences per setting,
then pools the seeds setting by setting (:func:`pool`): the perfect count over all the sequences with its Wilson
95% interval, and the mean bit errors and bits per sequence with a 95% interval over the seeds' means (Student's t,
one value per seed). A task with a floor (N-grams) also gets the model's distance above the floor, seed by seed on
the same sequences, with its interval. Writes ``OUT.json`` (every seed's rows and the pooled ones) and ``OUT.md``
(the pooled tables) and leaves the shipped models' JSON alone (``evaluate_shipped.py`` rewrites that). Torch runs
on one thread by default; all seven models, ten seeds of 1,000 took about 15 minutes of one CPU thread.
"""
import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path
from statistics import mean, stdev

import torch

from ntm_course.experiments.evaluation import BATCH_SIZE, evaluate_generalisation, wilson_interval
from ntm_course.experiments.pretrained import HERE, available, load_pretrained


SEEDS = tuple(range(1234, 1244))      # ten seeds; the first is the shipped JSON's seed
OUT = Path(__file__).resolve().parent / "results" / "shipped_pooled"


def positive(text):
    """An argparse type: a whole number of at least 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive whole number, got {value}")
    return value


def _t_cdf(t, df):
    """Student's t distribution function at ``t`` for a whole number ``df`` of degrees of freedom (the finite
    series for integer df, Abramowitz & Stegun 26.7.3-4)."""
    theta = math.atan(t / math.sqrt(df))
    c, s = math.cos(theta), math.sin(theta)
    if df % 2:                                       # odd: 2/pi (theta + sin cos (1 + 2/3 cos^2 + ...))
        total, term = 0.0, c
        for k in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c * c * (2 * k) / (2 * k + 1)
        area = 2 / math.pi * (theta + s * total) if df > 1 else 2 / math.pi * theta
    else:                                            # even: sin (1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ...)
        total, term = 0.0, 1.0
        for k in range(1, df // 2 + 1):
            total += term
            term *= c * c * (2 * k - 1) / (2 * k)
        area = s * total
    return 0.5 + area / 2


def t_quantile(p, df):
    """The ``p`` quantile of Student's t with ``df`` (a whole number >= 1) degrees of freedom, by bisection."""
    if not 0.5 <= p < 1 or df < 1:
        raise ValueError(f"t_quantile needs 0.5 <= p < 1 and df >= 1, got p={p}, df={df}")
    low, high = 0.0, 1.0
    while _t_cdf(high, df) < p:
        high *= 2
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if _t_cdf(middle, df) < p else (low, middle)
    return (low + high) / 2


def mean_interval(values, confidence=0.95):
    """``(mean, low, high)``: the mean of ``values`` (one per seed) and its Student-t ``confidence`` interval;
    the interval is the mean itself for a single value."""
    values = [float(v) for v in values]
    centre = mean(values)
    if len(values) < 2:
        return centre, centre, centre
    half = t_quantile((1 + confidence) / 2, len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return centre, centre - half, centre + half


def pool(rows_by_seed):
    """Pool ``{seed: rows}`` (rows as :func:`evaluate_generalisation` returns them, the same settings in the same
    order for every seed) setting by setting.

    Returns a list of rows ``{"setting", "n", "seeds", "perfect_count", "perfect", "perfect_low", "perfect_high",
    "perfect_by_seed", "errors", "errors_low", "errors_high", "bits", "bits_low", "bits_high"}``: ``n`` sequences
    over all the seeds; the perfect fraction with its Wilson 95% interval; mean bit errors and bits per sequence
    (weighted by each seed's ``n``) with the Student-t 95% interval over the seeds' means. A floor's row (its
    setting ends with ``"(the floor)"``) gives the row before it ``above_floor`` (bits above the floor on the same
    sequences) with ``above_floor_low`` and ``above_floor_high``.
    """
    seeds = list(rows_by_seed)
    if not seeds:
        raise ValueError("rows_by_seed must hold at least one seed's rows, got none")
    settings = [row["setting"] for row in rows_by_seed[seeds[0]]]
    for seed in seeds:
        if [row["setting"] for row in rows_by_seed[seed]] != settings:
            raise ValueError(f"seed {seed}'s settings differ from seed {seeds[0]}'s: {settings}")
    pooled = []
    for i, setting in enumerate(settings):
        rows = [rows_by_seed[seed][i] for seed in seeds]
        n = sum(row["n"] for row in rows)
        perfect = sum(row["perfect_count"] for row in rows)
        low, high = wilson_interval(perfect, n)
        out = {"setting": setting, "n": n, "seeds": len(seeds), "perfect_count": perfect, "perfect": perfect / n,
               "perfect_low": low, "perfect_high": high, "perfect_by_seed": [row["perfect_count"] for row in rows]}
        for key in ("errors", "bits"):
            _, out[f"{key}_low"], out[f"{key}_high"] = mean_interval([row[key] for row in rows])
            out[key] = sum(row[key] * row["n"] for row in rows) / n
        if setting.endswith("(the floor)") and pooled:
            above = [model["bits"] - row["bits"] for model, row in zip([r[i - 1] for r in rows_by_seed.values()],
                                                                        rows)]
            model = pooled[-1]
            model["above_floor"], model["above_floor_low"], model["above_floor_high"] = mean_interval(above)
        pooled.append(out)
    return pooled


def _percents(*xs):
    """Fractions as percentages, all with two decimals when any is within 1% of 0 or 100%, else one."""
    digits = 2 if any(x < 0.01 or x > 0.99 for x in xs) else 1
    return [f"{100 * x:.{digits}f}" for x in xs]


def _number(x):
    """A mean with three significant figures (0 stays 0)."""
    return "0" if x == 0 else f"{x:,.0f}" if abs(x) >= 1000 else f"{x:.3g}"


def markdown(record):
    """The pooled tables of ``record`` (as :func:`main` writes it) in Markdown."""
    seeds, per_seed = record["seeds"], record["sequences_per_seed"]
    lines = [f"# The shipped models, pooled over {len(seeds)} test seeds",
             "",
             f"Written by `{record['command'].strip()}` ({record['torch']}, {record['device']}, {record['threads']} "
             f"thread(s), {record['seconds']:.0f} s). Each setting: {per_seed:,} fresh sequences from each of the "
             f"seeds {seeds[0]}-{seeds[-1]} ({len(seeds) * per_seed:,} in all; seed {seeds[0]}'s are the ones "
             f"`evaluate_shipped.py` scores with `--sequences {per_seed}`). *perfect* = no bit error in the whole "
             "sequence, with its Wilson 95% interval over all the sequences; bit errors and bits per sequence are "
             "means with a Student-t 95% interval over the seeds' means; *by seed* is the range of the seeds' "
             "perfect counts.",
             ""]
    for name, entry in record["models"].items():
        lines += [f"## `{name}` ({entry['model'].upper()} on {entry['task']})", ""]
        rows = entry["pooled"]
        if any("above_floor" in row for row in rows):
            lines += ["| setting | n | bits per sequence (95% interval) | above the floor (95% interval) |",
                      "|---|---|---|---|"]
            for row in rows:
                above = (f"{row['above_floor']:.2f} ({row['above_floor_low']:.2f}-{row['above_floor_high']:.2f})"
                         if "above_floor" in row else "")
                lines.append(f"| {row['setting']} | {row['n']:,} | {row['bits']:.2f} ({row['bits_low']:.2f}-"
                             f"{row['bits_high']:.2f}) | {above} |")
        else:
            lines += ["| setting | n | perfect | 95% interval | by seed (of "
                      f"{per_seed:,}) | bit errors per sequence (95% interval) |",
                      "|---|---|---|---|---|---|"]
            for row in rows:
                by_seed = row["perfect_by_seed"]
                rate, low, high = _percents(row["perfect"], row["perfect_low"], row["perfect_high"])
                lines.append(
                    f"| {row['setting']} | {row['n']:,} | {row['perfect_count']:,}/{row['n']:,} = "
                    f"{rate}% | {low}-{high}% | {min(by_seed):,}-{max(by_seed):,} | {_number(row['errors'])} "
                    f"({_number(max(row['errors_low'], 0))}-{_number(row['errors_high'])}) |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", choices=available(), default=available(), metavar="NAME",
                        help=f"the shipped models to evaluate (default: all of {', '.join(available())})")
    parser.add_argument("--seeds", nargs="+", type=int, default=list(SEEDS), help="seeds of the test sequences")
    parser.add_argument("--sequences", type=positive, default=1000, help="fresh sequences per setting and seed")
    parser.add_argument("--batch-size", type=positive, default=BATCH_SIZE, help="sequences scored at once")
    parser.add_argument("--threads", type=positive, default=1, help="torch.set_num_threads")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--out", type=Path, default=OUT, help="writes OUT.json and OUT.md (default: "
                                                              "benchmarks/results/shipped_pooled)")
    parser.add_argument("--markdown-only", action="store_true", help="evaluate nothing: rewrite OUT.md from OUT.json")
    parser.add_argument("--records", action="store_true",
                        help="also copy each model's pooled rows into its record, ntm_course/experiments/pretrained/"
                             "NAME.json (key \"pooled\"), where the lessons, the results page and its test read them")
    args = parser.parse_args(argv)
    if args.markdown_only:
        record = json.loads(args.out.with_suffix(".json").read_text())
        args.out.with_suffix(".md").write_text(markdown(record))
        print(f"wrote {args.out.with_suffix('.md')}")
        if args.records:
            write_records(record)
        return
    if len(set(args.seeds)) != len(args.seeds):
        parser.error(f"--seeds must be different seeds, got {args.seeds}")
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    models = {}
    for name in args.models:
        shipped = load_pretrained(name, device=args.device)
        by_seed = {}
        for seed in args.seeds:
            by_seed[seed] = evaluate_generalisation(shipped.model, shipped.task, args.sequences, seed,
                                                    shipped.config["task_options"], args.batch_size)
            print(f"{name} seed {seed}: " + ", ".join(f"{row['setting']} {row['perfect_count']}"
                                                      for row in by_seed[seed]), flush=True)
        models[name] = {"task": shipped.task, "model": shipped.config.get("model", "ntm"),
                        "pooled": pool(by_seed), "by_seed": {str(seed): rows for seed, rows in by_seed.items()}}
    given = sys.argv[1:] if argv is None else list(argv)
    record = {"command": " ".join(["python benchmarks/evaluate_pooled.py", *given]),
              "seeds": args.seeds, "sequences_per_seed": args.sequences, "batch_size": args.batch_size,
              "device": args.device, "threads": args.threads, "torch": f"torch {torch.__version__}",
              "machine": platform.machine(), "seconds": time.perf_counter() - start,
              "perfect_interval": "Wilson score, 95%", "mean_interval": "Student t over the seeds' means, 95%",
              "models": models}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1))
    args.out.with_suffix(".md").write_text(markdown(record))
    print(f"wrote {args.out.with_suffix('.json')} and .md in {record['seconds']:.0f} s")
    if args.records:
        write_records(record)


def write_records(record, folder=HERE):
    """Put each evaluated model's pooled rows into its record ``folder/NAME.json`` (key ``"pooled"``: the command,
    the seeds, the sequences per seed and the rows); the rest of the record is left as it was."""
    for name, found in record["models"].items():
        path = folder / f"{name}.json"
        info = json.loads(path.read_text())
        info["pooled"] = {"command": record["command"], "seeds": record["seeds"],
                          "sequences_per_seed": record["sequences_per_seed"], "rows": found["pooled"]}
        path.write_text(json.dumps(info, indent=1))
        print(f"wrote the pooled rows into {path}")


if __name__ == "__main__":
    main()
