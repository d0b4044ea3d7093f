"""The generalisation harness: score a trained model beyond the sequences it was trained on.

In the paper's spirit (sections 4.1-4.3): copy at lengths 10, 20, 30, 50, 80 and 120; repeat copy at
double length and at double repeats; associative recall from 2 to 20 items. Every task is also scored on
its training distribution, and N-grams against the Bayes-optimal estimator.

Every rate comes with its sample size and a 95% interval (:func:`wilson_interval`): a rate measured on 100
sequences cannot show a 1% failure, so the default is 1,000 fresh sequences per setting.

Command line::

    ntm-course eval copy.pt --out results/      # writes copy-generalisation.csv, .md, .json and .png

The plot is drawn by :func:`plot_errors_by_setting`, which imports matplotlib only when called.
"""
import csv
import json
import math
import operator
from pathlib import Path
from statistics import NormalDist

import torch

from ..extras import needs
from .tasks import bit_errors, bits_per_sequence, get_task
from .training import load_model


SEQUENCES = 1000      # fresh sequences per setting, by default
BATCH_SIZE = 250      # sequences run through the model at once


def _count(name, value, low=0):
    """``value`` as an int of at least ``low``; ValueError naming ``name`` otherwise."""
    try:
        count = operator.index(value)
    except TypeError:
        count = None
    if count is None or isinstance(value, bool) or count < low:
        raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    return count


def wilson_interval(successes, n, confidence=0.95):
    r"""The Wilson score interval for a success rate: ``(low, high)``, a ``confidence`` interval for the
    probability behind ``successes`` out of ``n`` independent trials.

    With :math:`\hat p = k / n` and :math:`z` the standard normal quantile at :math:`(1 + c) / 2`
    (1.959963984540054 for :math:`c = 0.95`):

    .. math:: \frac{\hat p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}} \pm
        \frac{z}{1 + \frac{z^2}{n}} \sqrt{\frac{\hat p (1 - \hat p)}{n} + \frac{z^2}{4 n^2}}

    These are the two rates :math:`p` with :math:`|\hat p - p| = z \sqrt{p (1 - p) / n}`: the rates the
    observation does not reject. Unlike :math:`\hat p \pm z \sqrt{\hat p (1 - \hat p) / n}` it stays inside
    [0, 1] and is not empty at 0 or n successes: 0 of 100 gives (0, 0.037), 100 of 100 gives (0.963, 1).

    Raises ValueError for ``n < 1``, ``successes`` outside ``[0, n]`` or ``confidence`` outside (0, 1).
    """
    n = _count("n", n, low=1)
    successes = _count("successes", successes)
    if successes > n:
        raise ValueError(f"successes must be between 0 and n={n}, got {successes}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")
    z = NormalDist().inv_cdf((1 + confidence) / 2)
    p = successes / n
    shrink = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / shrink
    half = z / shrink * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # at 0 and n successes the formula gives 0 and 1 up to rounding: state them exactly
    return (0.0 if successes == 0 else centre - half), (1.0 if successes == n else centre + half)


def _per_sequence(logits, batch):
    """Bits, bit errors and scored bits of each sequence of ``batch``, three ``(B,)`` tensors on the CPU."""
    targets, mask = batch.targets, batch.mask
    return (bits_per_sequence(logits, targets, mask, reduction="none").cpu(),
            bit_errors(logits, targets, mask, reduction="none").cpu(),
            (mask.sum(0) * targets.shape[2]).cpu())


def _run(model, batch):
    """:func:`_per_sequence` of ``model`` on ``batch``, run on the model's device."""
    device = next(model.parameters(), batch.inputs).device
    batch = type(batch)(*(t.to(device) for t in batch))
    with torch.no_grad():
        return _per_sequence(model(batch.inputs), batch)


def _summary(parts):
    """One result row (without its setting) from the per-sequence parts of several batches.

    ``n``: sequences scored; ``perfect_count``: those without a bit error; ``perfect``: their fraction, with
    ``perfect_low`` and ``perfect_high`` its Wilson 95% interval; ``errors``, ``bits``: mean bit errors and
    bits per sequence; ``scored_bits``: mean number of target bits scored per sequence.
    """
    bits, errors, scored = (torch.cat(column) for column in zip(*parts))
    n, perfect = len(errors), int((errors == 0).sum())
    low, high = wilson_interval(perfect, n)
    return {"n": n, "perfect_count": perfect, "perfect": perfect / n, "perfect_low": low, "perfect_high": high,
            "errors": errors.mean().item(), "bits": bits.mean().item(), "scored_bits": scored.float().mean().item()}


def score(model, batch, chunk=100):
    """Score ``model`` on ``batch``, run ``chunk`` sequences at a time: a row as in
    :func:`evaluate_generalisation` (without ``setting``)."""
    chunk = _count("chunk", chunk, low=1)
    parts = [_run(model, type(batch)(*(t[:, i:i + chunk] for t in batch)))
             for i in range(0, batch.inputs.shape[1], chunk)]
    return _summary(parts)


def evaluate_generalisation(model, task, sequences=SEQUENCES, seed=1234, task_options=None,
                            batch_size=BATCH_SIZE):
    """Score ``model`` on ``task``'s training distribution and on each of its generalisation settings.

    Args:
        model: maps ``(T, B, in)`` to logits ``(T, B, out)``; it runs on its own device.
        task: a task name (see :data:`ntm_course.experiments.tasks.TASKS`).
        sequences: fresh sequences per setting (a positive whole number).
        seed: seeds one generator that makes every setting's sequences, in order, ``batch_size`` at a time
            (the sequences depend on ``seed``, ``sequences`` and ``batch_size``).
        task_options: the generator arguments the model was trained with (the first row uses them).
        batch_size: sequences made and scored at once (a positive whole number): memory stays bounded.
    Returns:
        a list of rows ``{"setting", "n", "perfect_count", "perfect", "perfect_low", "perfect_high", "errors",
        "bits", "scored_bits"}``: the number of sequences, how many have no bit error, their fraction and its
        Wilson 95% interval, the mean bit errors and bits per sequence, and the bits scored per sequence.
        For a task with a floor (:attr:`~ntm_course.experiments.tasks.Task.floor`; N-grams: the Bayes-optimal
        estimator) each setting is followed by the floor's row on the same sequences.
    """
    sequences = _count("sequences", sequences, low=1)
    batch_size = _count("batch_size", batch_size, low=1)
    spec = get_task(task)
    generator = torch.Generator().manual_seed(seed)
    settings = (("training distribution", dict(task_options or {})),) + tuple(spec.generalisation)
    rows = []
    for label, options in settings:
        found, floor = [], []
        for start in range(0, sequences, batch_size):
            batch = spec.make(min(batch_size, sequences - start), **options, generator=generator)
            found.append(_run(model, batch))
            if spec.floor is not None:
                floor.append(_per_sequence(torch.logit(spec.floor[1](batch.inputs, batch.targets)), batch))
        rows.append({"setting": label, **_summary(found)})
        if floor:
            rows.append({"setting": f"{spec.floor[0]} (the floor)", **_summary(floor)})
    return rows


def _percent(x, n, rounding=round):
    """``x`` as a percentage with one decimal up to 9,999 sequences and two from 10,000, rounded by ``rounding``
    (``math.floor`` and ``math.ceil`` round an interval outwards: 10,000 perfect of 10,000 has the lower bound
    99.96%, which one decimal would round up to 100.0%)."""
    digits = max(1, len(str(n)) - 3)
    nudge = {math.floor: 1e-6, math.ceil: -1e-6}.get(rounding, 0)    # float noise must not cross a boundary
    return f"{rounding(100 * x * 10 ** digits + nudge) / 10 ** digits:.{digits}f}%"


def rate(row):
    """``(perfect, interval)`` of a row as text, e.g. ``("986/1000 = 98.6%", "97.6-99.2%")``: the count of
    perfect sequences, their fraction, and its 95% interval with the bounds rounded outwards."""
    n = row["n"]
    return (f"{row['perfect_count']}/{n} = {_percent(row['perfect'], n)}",
            f"{_percent(row['perfect_low'], n, math.floor)[:-1]}-{_percent(row['perfect_high'], n, math.ceil)}")


def caption(sequences, seed):
    """What the rows of one evaluation are measured on, for the line above them."""
    return (f"{sequences} fresh sequences per setting (seed {seed}); perfect = no bit error; "
            f"95% CI = Wilson score interval")


def describe(row):
    """One row in words, e.g. ``length 120: 986/1000 perfect = 98.6% (95% CI 97.6-99.2%), 1.9 bit errors and
    3.4 bits per sequence``."""
    n = row["n"]
    return (f"{row['setting']}: {row['perfect_count']}/{n} perfect = {_percent(row['perfect'], n)} "
            f"(95% CI {rate(row)[1]}), {row['errors']:.3g} bit errors and {row['bits']:.3g} bits per sequence")


def markdown_table(rows):
    """The rows as a markdown table: each rate with its count, its sample size and its 95% interval."""
    lines = ["| setting | perfect sequences (of n) | 95% CI (Wilson) | bit errors per sequence | "
             "bits per sequence | bits scored |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        perfect, interval = rate(r)
        lines.append(f"| {r['setting']} | {perfect} | {interval} | {r['errors']:.3f} | {r['bits']:.3f} | "
                     f"{r['scored_bits']:.0f} |")
    return "\n".join(lines) + "\n"


def plot_errors_by_setting(rows, title="Generalisation"):
    """A bar chart of bit errors per sequence for each setting; returns the matplotlib figure."""
    with needs("lessons", "ntm_course.experiments.evaluation.plot_errors_by_setting"):
        from matplotlib.figure import Figure  # no pyplot: works without a display, shows in Jupyter
    fig = Figure(figsize=(max(5, 0.6 * len(rows)), 3.5))
    ax = fig.add_subplot()
    labels = [r["setting"] for r in rows]
    ax.bar(range(len(rows)), [r["errors"] for r in rows], color="tab:blue")
    ax.set_xticks(range(len(rows)), labels, rotation=45, ha="right")
    ax.set_ylabel("bit errors per sequence")
    sizes = sorted({r["n"] for r in rows})
    ax.set_xlabel(f"test setting ({'/'.join(map(str, sizes))} sequences each)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def add_arguments(parser):
    parser.add_argument("checkpoint", help="a checkpoint written by ntm-course train, or a shipped model's name "
                                           "(copy, ngrams, ...)")
    parser.add_argument("--out", default=".", help="folder for the table (CSV, markdown, JSON) and the plot")
    parser.add_argument("--sequences", type=int, default=SEQUENCES, help="fresh sequences per setting")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help="sequences scored at once")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the test sequences")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when present)")


def run(args):
    for flag, value in (("--sequences", args.sequences), ("--batch-size", args.batch_size)):
        if value < 1:
            print(f"error: {flag} must be a positive whole number, got {value}")
            return 1
    try:
        model, config = load_model(args.checkpoint, args.device)
    except ValueError as error:
        print(f"error: {error}")
        return 1
    rows = evaluate_generalisation(model, config["task"], args.sequences, args.seed, config["task_options"],
                                   args.batch_size)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / (Path(args.checkpoint).stem + "-generalisation")
    with open(f"{stem}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    Path(f"{stem}.md").write_text(markdown_table(rows))
    Path(f"{stem}.json").write_text(json.dumps(rows, indent=1))
    fig = plot_errors_by_setting(rows, f"{config['model'].upper()} on {config['task']}: generalisation")
    fig.savefig(f"{stem}.png", dpi=100)
    print(f"{Path(args.checkpoint).name} ({config['model'].upper()} on {config['task']}): "
          f"{caption(args.sequences, args.seed)}")
    for row in rows:
        print("  " + describe(row))
    print(f"wrote {stem}.csv, .md, .json and .png")
    return 0
