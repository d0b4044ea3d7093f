"""The paper's five tasks (section 4): batched, seeded episode generators and the metrics they are scored by.

Each task has a module of its name (``ntm_course.experiments.tasks.copy``, ``.repeat_copy``, ``.associative_recall``,
``.ngrams``, ``.priority_sort``) that documents its channel layout and when the answer is read, and a generator
named after it: :func:`copy_batch`, :func:`repeat_copy_batch`, :func:`associative_recall_batch`,
:func:`ngrams_batch`, :func:`priority_sort_batch`. Every generator takes ``batch_size`` and a ``generator`` (a
``torch.Generator``, for reproducible data) and returns a :class:`Batch` of ``inputs (T, B, in)``,
``targets (T, B, out)`` and ``mask (T, B)``. :data:`TASKS` describes each task for training, evaluation and
the model explorer: its sizes, its paper defaults, what a curriculum grows, the longer tests and the explorer's
size slider.
"""
from typing import Callable, NamedTuple

from . import associative_recall, copy, ngrams, priority_sort, repeat_copy
from .associative_recall import associative_recall_batch
from .common import Batch
from .copy import copy_batch
from .metrics import bit_errors, bits_per_sequence
from .ngrams import bayes_optimal, ngrams_batch
from .priority_sort import priority_sort_batch
from .repeat_copy import repeat_copy_batch


class ExplorerSize(NamedTuple):
    """One number ``n`` that sizes a task's episodes, as the model explorer's slider offers it
    (:mod:`ntm_course.presentation.widgets_models`).

    label: what ``n`` counts (``"sequence length"``); low, high: its range; default: the slider's start;
    options: ``n`` -> the keyword arguments of the task's generator for episodes of size ``n``.
    """
    label: str
    low: int
    high: int
    default: int
    options: Callable


class Task(NamedTuple):
    """How to make a task's episodes, how to test generalisation and how the explorer sizes them.

    make: the generator function; input_size, output_size: channel counts;
    explore: an :class:`ExplorerSize`, the explorer's size slider for this task;
    size: ``(min_argument, max_argument, start)`` -- the arguments of ``make`` that bound an episode's size
    (copy: ``min_length``, ``max_length``); a curriculum starts the maximum at ``start`` and grows it
    (``None``: the task has no size range);
    generalisation: ``(label, kwargs)`` test settings beyond the training distribution;
    floor: ``(label, estimator)``, an estimator ``(inputs, targets) -> probabilities`` that no model can beat
    on average, scored beside the model (N-grams: the Bayes-optimal estimator), or ``None``;
    train_defaults: the training options whose best-known value for this task differs from
    :class:`~ntm_course.experiments.config.TrainConfig`'s default (copy: the recipe that converged on 20 of 20
    seeds, ``benchmarks/README.md``); :func:`~ntm_course.experiments.config.make_config` starts from them.
    """
    make: Callable
    input_size: int
    output_size: int
    explore: ExplorerSize
    size: tuple = None
    generalisation: tuple = ()
    floor: tuple = None
    train_defaults: dict = {}


TASKS = {
    "copy": Task(
        copy_batch, copy.INPUT_SIZE, copy.OUTPUT_SIZE,
        ExplorerSize("sequence length", 1, 120, 20, lambda n: dict(min_length=n, max_length=n)),
        ("min_length", "max_length", 2),
        tuple((f"length {L}", dict(min_length=L, max_length=L)) for L in (10, 20, 30, 50, 80, 120)),
        train_defaults={"lr": 5e-3, "grad_clip_spikes": 2.0}),
    # repeat copy's curriculum grows the repeats from 1 (plain copy): the NTM learns to copy once, then to go back
    "repeat_copy": Task(
        repeat_copy_batch, repeat_copy.INPUT_SIZE, repeat_copy.OUTPUT_SIZE,
        ExplorerSize("sequence length", 1, 20, 5,
                     lambda n: dict(min_length=n, max_length=n, min_repeats=3, max_repeats=3)),
        ("min_repeats", "max_repeats", 1),
        (("length 10, repeats 10", dict(min_length=10, max_length=10, min_repeats=10, max_repeats=10)),
         ("length 20, repeats 10", dict(min_length=20, max_length=20, min_repeats=10, max_repeats=10)),
         ("length 10, repeats 20", dict(min_length=10, max_length=10, min_repeats=20, max_repeats=20)))),
    "associative_recall": Task(
        associative_recall_batch, associative_recall.INPUT_SIZE, associative_recall.OUTPUT_SIZE,
        ExplorerSize("number of items", 2, 20, 6, lambda n: dict(min_items=n, max_items=n)),
        ("min_items", "max_items", 2),
        tuple((f"{n} items", dict(min_items=n, max_items=n)) for n in range(2, 21))),
    "ngrams": Task(
        ngrams_batch, ngrams.INPUT_SIZE, ngrams.OUTPUT_SIZE,
        ExplorerSize("sequence length", 10, 400, 200, lambda n: dict(length=n)), floor=("Bayes-optimal estimator", bayes_optimal)),
    "priority_sort": Task(
        priority_sort_batch, priority_sort.INPUT_SIZE, priority_sort.OUTPUT_SIZE,
        # the explorer starts at the shipped model's 10 inputs (the paper's 20 is on the slider)
        ExplorerSize("number of inputs", 1, 40, 10, priority_sort.paper_proportion),
        generalisation=tuple((f"{o['n_inputs']} inputs, {o['n_outputs']} sorted", o)
                             for o in map(priority_sort.paper_proportion, (5, 10, 15, 20)))),
}


def get_task(name):
    """The :class:`Task` called ``name`` (one of :data:`TASKS`)."""
    if name not in TASKS:
        raise ValueError(f"task must be one of {sorted(TASKS)}, got {name!r}")
    return TASKS[name]


__all__ = ["Batch", "ExplorerSize", "Task", "TASKS", "get_task", "copy_batch", "repeat_copy_batch",
           "associative_recall_batch", "ngrams_batch", "priority_sort_batch", "bayes_optimal", "bits_per_sequence",
           "bit_errors"]
