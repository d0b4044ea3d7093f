"""How a training run changes as it goes: the learning rate (:class:`LearningRate`), the guard against gradient
spikes (:class:`SpikeClip`) and the size of the episodes (:class:`Curriculum`). Each reads its options from a run's
configuration (:func:`ntm_course.experiments.config.make_config`) and keeps what it has seen in a few plain
attributes, which :class:`ntm_course.experiments.state.TrainState` saves in checkpoints.
"""
import inspect
import math
import statistics

import torch


def learning_rate(config, step):
    """The learning rate of update ``step + 1`` (``step`` updates done): ``lr``, raised linearly over the first
    ``warmup_steps`` updates (the first uses ``lr / warmup_steps``) and halved every ``lr_halflife`` steps."""
    lr = config["lr"]
    if config["warmup_steps"]:
        lr *= min(1.0, (step + 1) / config["warmup_steps"])
    if config["lr_halflife"]:
        lr *= 0.5 ** (step / config["lr_halflife"])
    return lr


class LearningRate:
    """The learning rate of each update: :func:`learning_rate`, divided by ``lr_drop_factor`` from the update after
    the last :attr:`WINDOW` training batches first averaged fewer than ``lr_drop_below`` bit errors per sequence.

    A constant rate fast enough to learn the copy task can knock a nearly converged model back to chance; dropping
    it once the model is nearly there guards against that (its effect over seeds: ``benchmarks/README.md``).
    ``recent`` (the last batches' errors) and ``dropped_at`` (the number of updates done when it dropped) are saved
    in checkpoints.
    """
    WINDOW = 50

    def __init__(self, config):
        self.config = config
        self.recent, self.dropped_at = [], None
        self.scheduled = bool(config["lr_halflife"] or config["warmup_steps"] or config["lr_drop_below"])

    def observe(self, batch_errors, step):
        """Record a training batch's bit errors per sequence, ``step`` updates done; drop when the window is low."""
        if self.config["lr_drop_below"] is None or self.dropped_at is not None:
            return
        self.recent = (self.recent + [batch_errors])[-self.WINDOW:]
        if len(self.recent) == self.WINDOW and sum(self.recent) / self.WINDOW < self.config["lr_drop_below"]:
            self.dropped_at = step

    def __call__(self, step):
        """The learning rate of update ``step + 1``."""
        lr = learning_rate(self.config, step)
        return lr if self.dropped_at is None else lr / self.config["lr_drop_factor"]


class SpikeClip:
    """Scale down a gradient whose global norm is far above the recent ones (``grad_clip_spikes``; off when None).

    After the elementwise clip, a gradient whose global norm exceeds ``grad_clip_spikes`` times the median of the
    last :attr:`WINDOW` updates' norms is scaled down to that bound, once :attr:`WARMUP` norms have been seen. A
    fixed norm bound cannot tell a spike from learning, since the norms grow a hundredfold while the copy NTM
    learns to use its memory, while a spike far above the running median comes just before a collapse (its effect
    on the copy task's convergence over seeds: ``benchmarks/README.md``). ``norms`` (the recorded norms, before
    scaling) is saved in checkpoints.
    """
    WINDOW, WARMUP = 100, 20

    def __init__(self, config):
        self.factor = config["grad_clip_spikes"]
        self.norms = []

    def __call__(self, parameters):
        """Clip the gradients of ``parameters`` in place; record their global norm before clipping."""
        if self.factor is None:
            return
        limit = math.inf
        if len(self.norms) >= self.WARMUP:
            limit = self.factor * statistics.median(self.norms)
        norm = torch.nn.utils.clip_grad_norm_(parameters, limit)
        self.norms = (self.norms + [norm.item()])[-self.WINDOW:]


class Curriculum:
    """The size of the episodes a run trains on (the task's :attr:`~ntm_course.experiments.tasks.Task.size` range).

    Without ``curriculum`` the size limit (copy: ``max_length``) is the task's full one from the start; with it,
    the limit starts at the task's start value and grows by one whenever the last 10 training batches averaged
    fewer than ``curriculum_threshold`` bit errors per sequence. With ``one_size_per_batch`` every batch draws
    one size below the limit for all its episodes. ``level`` (the limit) and ``streak`` (the batches' errors
    since it last grew) are saved in checkpoints.
    """

    def __init__(self, spec, config):
        self.base = dict(config["task_options"])
        self.grows, self.threshold = config["curriculum"], config["curriculum_threshold"]
        self.one_size = config["one_size_per_batch"]
        self.level, self.streak = None, []
        self.keys = spec.size[:2] if spec.size else None
        if self.keys:
            low_key, key, start = spec.size
            defaults = inspect.signature(spec.make).parameters
            self.low = self.base.get(low_key, defaults[low_key].default)
            self.full = self.base.get(key, defaults[key].default)
            self.level = max(self.low, min(start, self.full)) if self.grows else self.full

    def options(self, generator):
        """The task generator's keyword arguments for the next batch (``generator`` draws one size, if asked)."""
        if not self.keys:
            return self.base
        low_key, key = self.keys
        if not self.one_size:
            return {**self.base, key: self.level}
        size = int(torch.randint(self.low, self.level + 1, (1,), generator=generator))
        return {**self.base, low_key: size, key: size}

    def observe(self, batch_errors):
        """Record a training batch's bit errors per sequence; grow the limit when the last 10 were low enough."""
        if self.grows and self.keys and self.level < self.full:
            self.streak.append(batch_errors)
            if len(self.streak) >= 10 and sum(self.streak[-10:]) / 10 < self.threshold:
                self.level, self.streak = self.level + 1, []

    def postfix(self):
        """``{size argument: level}`` for the progress bar (empty for a task without a size)."""
        return {self.keys[1]: self.level} if self.keys else {}
