"""Draw docs/figures/copy_episode.png: the shipped copy NTM copying a sequence of 30 random 8-bit vectors, longer
than any it saw in training (lengths 1-20), with its write and read heads' weightings over time.

    python docs/figures/copy_episode.py        # from the repository root, with the course's 'lessons' extra
"""
from pathlib import Path

import torch

import ntm_course
from ntm_course.experiments.tasks.copy import copy_batch
from ntm_course.presentation.viz_models import plot_episode

LENGTH = 30
OUT = Path(__file__).with_suffix(".png")


def main(out=OUT):
    """Draw the figure into ``out`` (a PNG)."""
    shipped = ntm_course.load_pretrained("copy", device="cpu")
    batch = copy_batch(1, LENGTH, LENGTH, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        logits, trace = shipped.model.trace(batch.inputs)
    answer = torch.sigmoid(logits) * batch.mask.unsqueeze(-1)      # the outputs that are scored: after the delimiter
    fig = plot_episode(batch.inputs, batch.targets, answer, trace["read_weights"],
                       trace["write_weights"], title=f"The shipped copy NTM copying {LENGTH} vectors "
                                                     "(trained on 1-20)")
    fig.savefig(out, dpi=80)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
