"""Checkpoint files: writing and reading them, and finding the trained models shipped with the package.

A checkpoint is a ``torch.save`` of a dict marked ``format="ntm-course-checkpoint"``: the training ``config``
and the ``model`` weights, and, while training, the optimiser and data state
(:func:`ntm_course.experiments.training.train` writes them). The shipped models are such files without
optimiser state, ``ntm_course/experiments/pretrained/NAME.pt``, found through :mod:`importlib.resources`, so
they load from a checkout, a wheel or a zip alike.
"""
from importlib import resources
from pathlib import Path

import torch


FORMAT = "ntm-course-checkpoint"
VERSION = 1
SHIPPED = Path(str(resources.files(__package__) / "pretrained"))
"""The folder of the shipped models, ``NAME.pt`` with ``NAME.json`` beside each (package data)."""

#: The names configuration options had before they were named after the constructors' arguments
#: (:mod:`ntm_course.experiments.config`); a checkpoint saved with them loads under today's names.
RENAMED = {"read_heads": "num_read_heads", "write_heads": "num_write_heads", "lstm_size": "hidden_size",
           "lstm_layers": "num_layers", "clip": "grad_clip", "clip_norm": "grad_clip_norm"}


def save_checkpoint(path, state):
    """Write ``state`` (a dict of tensors, numbers, strings, lists and dicts) atomically to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "version": VERSION, **state}, tmp)
    tmp.replace(path)


def load_checkpoint(path, map_location="cpu"):
    """Read a checkpoint written by :func:`save_checkpoint` with ``torch.load(weights_only=True)``.

    Raises ValueError when the file is missing, unreadable, not one of ours, or lacks weights or config.
    A checkpoint saved with older option names loads under today's names (:data:`RENAMED`).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"checkpoint {str(path)!r} does not exist")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as error:  # torch raises many kinds for truncated or foreign files
        raise ValueError(f"checkpoint {str(path)!r} is not a readable torch checkpoint "
                         f"({type(error).__name__}: {str(error).splitlines()[0][:200]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"checkpoint {str(path)!r} is not an ntm-course checkpoint (no format={FORMAT!r})")
    missing = {"config", "model"} - set(state)
    if missing:
        raise ValueError(f"checkpoint {str(path)!r} lacks {sorted(missing)}")
    state["config"] = {RENAMED.get(name, name): value for name, value in state["config"].items()}
    return state


def available():
    """The names of the shipped models."""
    return sorted(path.stem for path in SHIPPED.glob("*.pt"))


def checkpoint_file(source):
    """``source`` as a checkpoint file: a path, or the name of a shipped model (``"copy"``; :func:`available`).

    A name with a suffix or a folder in it is a path (a missing one is reported by :func:`load_checkpoint`);
    a bare name that is neither a file nor shipped is a ValueError listing the shipped models.
    """
    path = Path(source)
    if path.is_file() or path.suffix or len(path.parts) > 1:
        return path
    try:
        return shipped_checkpoint(str(source))
    except ValueError as error:
        raise ValueError(f"{str(source)!r} is neither a checkpoint file nor a shipped model ({error})") from None


def shipped_checkpoint(name):
    """The checkpoint file of the shipped model ``name``; ValueError listing :func:`available` if there is none."""
    path = SHIPPED / f"{name}.pt"
    if not path.is_file():
        raise ValueError(f"no shipped model {name!r}; available: {available()}")
    return path
