"""One configuration for a training run: the model's options and the training options, as two dataclasses.

:class:`ModelConfig`'s fields are the arguments of the model constructors: :class:`~ntm_course.ntm.NTM`
(``controller``, ``controller_size``, ..., ``head_clip``, the clip on the controller's head outputs) and
:class:`~ntm_course.ntm.LSTMBaseline` (``hidden_size``, ``num_layers``). :class:`TrainConfig`'s are the options
of :func:`ntm_course.experiments.training.train` (``grad_clip`` is the clip on the gradients). A run's configuration is
the flat dict :func:`make_config` returns: ``task``, ``task_options`` and every field of both, validated. It is
what a checkpoint saves and what ``ntm-course train`` builds from its options (one per field, ``--num-read-heads``
and so on). Checkpoints saved under the older names (``read_heads``, ``lstm_size``, ``clip`` for the gradient
clip, ...) load under today's names (:data:`ntm_course.experiments.checkpoints.RENAMED`).
"""
import inspect
import math
from dataclasses import asdict, dataclass, field, fields

from ..ntm import NTM, LSTMBaseline, NTMCell
from .checkpoints import RENAMED
from .tasks import get_task


COUNT = (int, lambda v: v >= 1, "an integer >= 1")
POSITIVE = (float, lambda v: 0 < v < math.inf, "a finite number > 0")
FACTOR = (float, lambda v: 1 <= v < math.inf, "a finite number >= 1")


def option(default, check=None, choices=None, doc=""):
    """A config field: its default, its range ``(type, test, what the test asks)`` or its ``choices``, and a
    line of documentation (the command line's help)."""
    return field(default=default, metadata={"check": check, "choices": choices, "doc": doc})


def _validate(config):
    """A ValueError naming the field unless every field of the dataclass ``config`` is in its range."""
    for f in fields(config):
        value, check, choices = getattr(config, f.name), f.metadata["check"], f.metadata["choices"]
        if isinstance(f.default, bool) and not isinstance(value, bool):
            raise ValueError(f"{f.name} must be True or False, got {value!r}")
        if choices is not None and value not in choices:
            raise ValueError(f"{f.name} must be one of {list(choices)}, got {value!r}")
        if check is None or (value is None and f.default is None):
            continue
        kind, test, wanted = check
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (number and (kind is float or isinstance(value, int)) and test(value)):
            raise ValueError(f"{f.name} must be {'None or ' if f.default is None else ''}{wanted}, got {value!r}")


def constructor_defaults(cls):
    """``{argument: default}`` of ``cls``'s constructor: the one home of the model's defaults, which
    :class:`ModelConfig` reads."""
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


_NTM, _LSTM = constructor_defaults(NTMCell), constructor_defaults(LSTMBaseline)


@dataclass(frozen=True)
class ModelConfig:
    """The model: an NTM (its fields are :class:`~ntm_course.ntm.NTMCell`'s arguments) or, with
    ``model="lstm"``, the paper's LSTM baseline (``hidden_size``, ``num_layers``). The defaults are the constructors'
    own (:func:`constructor_defaults`): the paper's copy NTM."""
    model: str = option("ntm", choices=("ntm", "lstm"), doc="the NTM or the paper's LSTM baseline")
    controller: str = option(_NTM["controller"], choices=("lstm", "feedforward"), doc="the NTM's controller")
    controller_size: int = option(_NTM["controller_size"], COUNT)
    controller_layers: int = option(_NTM["controller_layers"], COUNT)
    N: int = option(_NTM["N"], COUNT, doc="memory rows")
    M: int = option(_NTM["M"], COUNT, doc="memory width")
    num_read_heads: int = option(_NTM["num_read_heads"], COUNT)
    num_write_heads: int = option(_NTM["num_write_heads"], (int, lambda v: v >= 0, "an integer >= 0"))
    shift_width: int = option(_NTM["shift_width"], (int, lambda v: v >= 1 and v % 2 == 1, "an odd integer >= 1"))
    memory_init: str = option(_NTM["memory_init"], choices=("constant", "learned", "random"))
    learn_initial_state: bool = option(_NTM["learn_initial_state"],
                                       doc="learn the initial read vectors and weightings")
    head_clip: float = option(_NTM["head_clip"], POSITIVE,
                              doc="the controller's head outputs are clipped to [-head_clip, head_clip]")
    hidden_size: int = option(_LSTM["hidden_size"], COUNT,
                              doc="the LSTM baseline's width (the paper's: 3 x 256 for copy)")
    num_layers: int = option(_LSTM["num_layers"], COUNT, doc="the LSTM baseline's depth")

    def __post_init__(self):
        _validate(self)


@dataclass(frozen=True)
class TrainConfig:
    """How to train (defaults: converge the copy task fast on a CPU): the options of
    :func:`~ntm_course.experiments.training.train`."""
    seed: int = option(0, (int, lambda v: 0 <= v < 2 ** 32, "an integer from 0 to 2**32 - 1"))
    steps: int = option(4000, COUNT, doc="optimiser steps (batches)")
    batch_size: int = option(32, COUNT)
    optimizer: str = option("adam", choices=("adam", "rmsprop"), doc="rmsprop has momentum 0.9, as in the paper")
    lr: float = option(3e-3, POSITIVE)
    lr_halflife: float = option(None, POSITIVE, doc="halve the learning rate every this many steps")
    warmup_steps: int = option(None, COUNT, doc="raise the learning rate linearly over the first this many steps")
    lr_drop_below: float = option(None, POSITIVE, doc="divide the learning rate by lr_drop_factor, once and for good, "
                                                      "when the last 50 training batches average fewer bit errors "
                                                      "per sequence than this")
    lr_drop_factor: float = option(10.0, FACTOR, doc="what lr_drop_below divides the learning rate by")
    grad_clip: float = option(10.0, POSITIVE, doc="gradients clipped elementwise to [-grad_clip, grad_clip] "
                                                  "(the paper's 10)")
    grad_clip_norm: float = option(None, POSITIVE, doc="then scaled down to this global norm at most")
    grad_clip_spikes: float = option(None, FACTOR, doc="scale a gradient whose global norm is more than this many "
                                                       "times the median of the last 100 updates' down to that")
    curriculum: bool = option(False, doc="start with short episodes and grow them (slower on copy)")
    curriculum_threshold: float = option(0.5, POSITIVE, doc="grow below this many bit errors per sequence")
    one_size_per_batch: bool = option(False, doc="all episodes of a batch share one size: cheaper, noisier")
    eval_every: int = option(100, COUNT)
    eval_size: int = option(256, COUNT, doc="held-out episodes")
    target_errors: float = option(None, POSITIVE, doc="stop below this many held-out bit errors per sequence")
    max_minutes: float = option(None, POSITIVE, doc="stop after this much training time")
    init_from: str = option(None, doc="start from a trained NTM's weights: a checkpoint or a shipped model's name")

    def __post_init__(self):
        _validate(self)


def defaults(config_class):
    """``{field: default}`` of :class:`ModelConfig` or :class:`TrainConfig`."""
    return {f.name: f.default for f in fields(config_class)}   # every field has one (:func:`option`)


def make_config(task, task_options=None, **options):
    """The full configuration of a run: ``task``, ``task_options`` and every field of :class:`ModelConfig` and
    :class:`TrainConfig`, defaults overridden by the task's best-known options (its
    :attr:`~ntm_course.experiments.tasks.Task.train_defaults`: copy's ``lr=5e-3, grad_clip_spikes=2``), then by
    ``options`` (``grad_clip_spikes=None`` turns copy's off). An unknown option (or an old name, see
    :data:`~ntm_course.experiments.checkpoints.RENAMED`) or a value out of range is a ValueError naming it."""
    options = {**get_task(task).train_defaults, **options}
    model_names, train_names = defaults(ModelConfig), defaults(TrainConfig)
    unknown = sorted(set(options) - set(model_names) - set(train_names))
    if unknown:
        hints = [f"{name} is now {RENAMED[name]}" for name in unknown if name in RENAMED]
        raise ValueError(f"unknown training options {unknown}{' (' + '; '.join(hints) + ')' if hints else ''}; "
                         f"known: {sorted(model_names) + sorted(train_names) + ['task_options']}")
    model = ModelConfig(**{k: v for k, v in options.items() if k in model_names})
    training = TrainConfig(**{k: v for k, v in options.items() if k in train_names})
    return {"task": task, **asdict(model), **asdict(training), "task_options": dict(task_options or {})}


def build_model(config, pieces=None):
    """A freshly initialised model for the run ``config`` (from :func:`make_config`).

    ``pieces``: the :class:`~ntm_course.pieces.Pieces` an NTM runs on (default: the library's); a
    ValueError for the LSTM baseline, which has no memory to run them on.
    """
    task = get_task(config["task"])
    if config["model"] == "lstm":
        if pieces is not None:
            raise ValueError("pieces are the NTM's memory and addressing functions: the LSTM baseline "
                             "(model='lstm') has none, pass pieces=None")
        return LSTMBaseline(task.input_size, task.output_size, config["hidden_size"], config["num_layers"])
    ntm_options = {name: config[name] for name in defaults(ModelConfig)
                   if name not in ("model", "hidden_size", "num_layers")}
    return NTM(task.input_size, task.output_size, pieces=pieces, **ntm_options)
