"""The generalisation harness: score a trained model beyond the sequences it was trained on.

In the paper's spirit (sections 4.1-4.3): copy at lengths 10, 20, 30, 50, 80 and 120; repeat copy at
double length and at double repeats; associative recall from 2 to 20 items. Every task is also scored on
its training distribution, and N-grams against the Bayes-optimal estimator.

Command line::

    ntm-course eval copy.pt --out results/      # writes copy-generalisation.csv, .md and .png

The plot is drawn by :func:`plot_generalisation`, which imports matplotlib only when called.
"""
import csv
import json
from pathlib import Path

import torch

from .extras import needs
from .tasks import bayes_optimal, bit_errors, bits_per_sequence, get_task
from .training import load_model


def score(model, batch, chunk=100):
    """Bits and bit errors per sequence of ``model`` on ``batch``, run ``chunk`` sequences at a time."""
    device = next(model.parameters(), batch.inputs).device
    bits, errors = [], []
    with torch.no_grad():
        for i in range(0, batch.inputs.shape[1], chunk):
            inputs, targets, mask = (t[:, i:i + chunk].to(device) for t in batch)
            logits = model(inputs)
            bits.append(bits_per_sequence(logits, targets, mask, reduction="none"))
            errors.append(bit_errors(logits, targets, mask, reduction="none"))
    bits, errors = torch.cat(bits), torch.cat(errors)
    return {"bits": bits.mean().item(), "errors": errors.mean().item(),
            "perfect": (errors == 0).float().mean().item(),
            "scored_bits": (batch.mask.sum(0) * batch.targets.shape[2]).mean().item()}


def evaluate_generalisation(model, task, sequences=100, seed=1234, task_options=None):
    """Score ``model`` on ``task``'s training distribution and on each of its generalisation settings.

    Args:
        model: maps ``(T, B, in)`` to logits ``(T, B, out)``.
        task: a task name (see :data:`ntm_course.tasks.TASKS`).
        sequences: fresh episodes per setting; seed: seeds their generator.
        task_options: the generator arguments the model was trained with (the first row uses them).
    Returns:
        a list of rows ``{"setting", "bits", "errors", "perfect", "scored_bits"}``: bits and bit errors per
        sequence, the fraction of sequences with no bit error, and the number of bits scored per sequence.
    """
    spec = get_task(task)
    generator = torch.Generator().manual_seed(seed)
    settings = (("training distribution", dict(task_options or {})),) + tuple(spec.generalisation)
    rows = []
    for label, options in settings:
        batch = spec.make(sequences, **options, generator=generator)
        rows.append({"setting": label, **score(model, batch)})
        if task == "ngrams":
            p = bayes_optimal(batch.inputs, batch.targets)
            floor = bits_per_sequence(torch.logit(p), batch.targets, batch.mask).item()
            rows.append({"setting": "Bayes-optimal estimator (the floor)", "bits": floor,
                         "errors": bit_errors(torch.logit(p), batch.targets, batch.mask).item(),
                         "perfect": float("nan"), "scored_bits": rows[-1]["scored_bits"]})
    return rows


def markdown_table(rows):
    """The rows as a markdown table."""
    lines = ["| setting | bits per sequence | bit errors per sequence | perfect sequences | bits scored |",
             "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['setting']} | {r['bits']:.3f} | {r['errors']:.3f} | {r['perfect']:.0%} | "
                     f"{r['scored_bits']:.0f} |")
    return "\n".join(lines) + "\n"


def plot_generalisation(rows, title="Generalisation"):
    """A bar chart of bit errors per sequence for each setting; returns the matplotlib figure."""
    with needs("lessons", "ntm_course.evaluation.plot_generalisation"):
        from matplotlib.figure import Figure  # no pyplot: works without a display, shows in Jupyter
    fig = Figure(figsize=(max(5, 0.6 * len(rows)), 3.5))
    ax = fig.add_subplot()
    labels = [r["setting"] for r in rows]
    ax.bar(range(len(rows)), [r["errors"] for r in rows], color="tab:blue")
    ax.set_xticks(range(len(rows)), labels, rotation=45, ha="right")
    ax.set_ylabel("bit errors per sequence")
    ax.set_xlabel("test setting")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def add_arguments(parser):
    parser.add_argument("checkpoint", help="a checkpoint written by ntm-course train")
    parser.add_argument("--out", default=".", help="folder for the table (CSV, markdown, JSON) and the plot")
    parser.add_argument("--sequences", type=int, default=100, help="fresh episodes per setting")
    parser.add_argument("--seed", type=int, default=1234, help="seed of the test episodes")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when present)")


def run(args):
    try:
        model, config = load_model(args.checkpoint, args.device)
    except ValueError as error:
        print(f"error: {error}")
        return 1
    rows = evaluate_generalisation(model, config["task"], args.sequences, args.seed, config["task_options"])
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / (Path(args.checkpoint).stem + "-generalisation")
    with open(f"{stem}.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    Path(f"{stem}.md").write_text(markdown_table(rows))
    Path(f"{stem}.json").write_text(json.dumps(rows, indent=1))
    fig = plot_generalisation(rows, f"{config['model'].upper()} on {config['task']}: generalisation")
    fig.savefig(f"{stem}.png", dpi=100)
    print(markdown_table(rows))
    print(f"wrote {stem}.csv, .md, .json and .png")
    return 0
