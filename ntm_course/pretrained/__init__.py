"""Trained models shipped with the package, so the lessons can show a trained NTM without training one.

Each shipped model is ``NAME.pt`` (a checkpoint without optimiser state, see
:func:`ntm_course.training.load_checkpoint`) and ``NAME.json``: the command that reproduces it, its training
summary and its evaluation results (:func:`ntm_course.evaluation.evaluate_generalisation`).
"""
import json
from pathlib import Path
from typing import NamedTuple

import torch

from ..device import get_device
from ..training import load_checkpoint, model_from_checkpoint

HERE = Path(__file__).parent


class Pretrained(NamedTuple):
    """A shipped model and what is known about it.

    model: ready to call on ``(T, B, in)`` inputs, in eval mode; task: the task name (its module in
    :mod:`ntm_course.tasks` documents the channel layout); config: the full training configuration;
    results: the recorded evaluation rows; command: the command that trained it.
    """
    model: torch.nn.Module
    task: str
    config: dict
    results: list
    command: str


def available():
    """The names of the shipped models."""
    return sorted(p.stem for p in HERE.glob("*.pt"))


def shipped_checkpoint(name):
    """The checkpoint file of the shipped model ``name``; ValueError listing :func:`available` if there is none."""
    path = HERE / f"{name}.pt"
    if not path.is_file():
        raise ValueError(f"no shipped model {name!r}; available: {available()}")
    return path


def load_pretrained(name, device=None):
    """Load the shipped model ``name`` (one of :func:`available`) as a :class:`Pretrained`."""
    path = shipped_checkpoint(name)
    model, config = model_from_checkpoint(load_checkpoint(path), str(path))
    info = json.loads((HERE / f"{name}.json").read_text())
    return Pretrained(model.to(device or get_device()).eval(), config["task"], config, info["results"],
                      info["command"])
