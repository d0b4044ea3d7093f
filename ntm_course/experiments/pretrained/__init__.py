"""Trained models shipped with the package, so the lessons can show a trained NTM without training one.

Each shipped model is ``NAME.pt`` (a checkpoint without optimiser state, see
:func:`ntm_course.experiments.checkpoints.load_checkpoint`) and ``NAME.json``: the command that reproduces it,
its training summary and its evaluation results (:func:`ntm_course.experiments.evaluation.evaluate_generalisation`).
"""
import json
from typing import NamedTuple

import torch

from ...device import get_device
from ..checkpoints import SHIPPED, available, load_checkpoint, shipped_checkpoint
from ..training import model_from_checkpoint


__all__ = ["HERE", "Pretrained", "available", "load_pretrained", "shipped_checkpoint"]
HERE = SHIPPED      # this folder: the lessons read the shipped models' JSON files (and failures.json) from it


class Pretrained(NamedTuple):
    """A shipped model and what is known about it.

    model: ready to call on ``(T, B, in)`` inputs, in eval mode; task: the task name (its module in
    :mod:`ntm_course.experiments.tasks` documents the channel layout); config: the full training configuration;
    results: the recorded evaluation rows (one test seed); command: the command that trained it; pooled: the same
    settings evaluated over several test seeds (``benchmarks/evaluate_pooled.py``: the numbers to quote), each row
    with its ``n``, the perfect rate's interval and the means' intervals.
    """
    model: torch.nn.Module
    task: str
    config: dict
    results: list
    command: str
    pooled: list = []


def load_pretrained(name, device=None):
    """Load the shipped model ``name`` (one of :func:`available`) as a :class:`Pretrained`."""
    path = shipped_checkpoint(name)
    model, config = model_from_checkpoint(load_checkpoint(path), str(path))
    info = json.loads(path.with_suffix(".json").read_text())
    return Pretrained(model.to(device or get_device()).eval(), config["task"], config, info["results"],
                      info["command"], info.get("pooled", {}).get("rows", []))
