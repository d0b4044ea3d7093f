"""The paper's five tasks (section 4): batched, seeded episode generators and the metrics they are scored by.

Every generator takes ``batch_size`` and a ``generator`` (a ``torch.Generator``, for reproducible data) and
returns a :class:`Batch` of ``inputs (T, B, in)``, ``targets (T, B, out)`` and ``mask (T, B)``; each task's
module documents its channel layout and when the answer is read. :data:`TASKS` describes each task for
training and evaluation: its sizes, its paper defaults, what a curriculum grows and the longer tests.
"""
from typing import Callable, NamedTuple

from . import associative_recall as _ar
from . import copy as _copy
from . import ngrams as _ngrams
from . import priority_sort as _ps
from . import repeat_copy as _rc
from .associative_recall import associative_recall
from .common import Batch
from .copy import copy
from .metrics import bit_errors, bits_per_sequence
from .ngrams import bayes_optimal, ngrams
from .priority_sort import priority_sort
from .repeat_copy import repeat_copy


class Task(NamedTuple):
    """How to make a task's episodes and how to test generalisation.

    make: the generator function; input_size, output_size: channel counts;
    size: ``(min_argument, max_argument, start)`` -- the arguments of ``make`` that bound an episode's size
    (copy: ``min_length``, ``max_length``); a curriculum starts the maximum at ``start`` and grows it
    (``None``: the task has no size range);
    generalisation: ``(label, kwargs)`` test settings beyond the training distribution.
    """
    make: Callable
    input_size: int
    output_size: int
    size: tuple = None
    generalisation: tuple = ()


TASKS = {
    "copy": Task(copy, _copy.INPUT_SIZE, _copy.OUTPUT_SIZE, ("min_length", "max_length", 2),
                 tuple((f"length {L}", dict(min_length=L, max_length=L)) for L in (10, 20, 30, 50, 80, 120))),
    # repeat copy's curriculum grows the repeats from 1 (plain copy): the NTM learns to copy once, then to go back
    "repeat_copy": Task(repeat_copy, _rc.INPUT_SIZE, _rc.OUTPUT_SIZE, ("min_repeats", "max_repeats", 1),
                        (("length 10, repeats 10", dict(min_length=10, max_length=10, min_repeats=10,
                                                        max_repeats=10)),
                         ("length 20, repeats 10", dict(min_length=20, max_length=20, min_repeats=10,
                                                        max_repeats=10)),
                         ("length 10, repeats 20", dict(min_length=10, max_length=10, min_repeats=20,
                                                        max_repeats=20)))),
    "associative_recall": Task(associative_recall, _ar.INPUT_SIZE, _ar.OUTPUT_SIZE, ("min_items", "max_items", 2),
                               tuple((f"{n} items", dict(min_items=n, max_items=n)) for n in range(2, 21))),
    "ngrams": Task(ngrams, _ngrams.INPUT_SIZE, _ngrams.OUTPUT_SIZE),
    "priority_sort": Task(priority_sort, _ps.INPUT_SIZE, _ps.OUTPUT_SIZE),
}


def get_task(name):
    """The :class:`Task` called ``name`` (one of :data:`TASKS`)."""
    if name not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {name!r}")
    return TASKS[name]


__all__ = ["Batch", "Task", "TASKS", "get_task", "copy", "repeat_copy", "associative_recall", "ngrams",
           "priority_sort", "bayes_optimal", "bits_per_sequence", "bit_errors"]
