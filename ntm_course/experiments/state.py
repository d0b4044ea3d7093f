"""The state of a training run (:class:`TrainState`): what one update changes, what a checkpoint saves and what a
resumed run restores, so that it continues exactly as the uninterrupted run would."""
import math
from dataclasses import dataclass, field

import torch

from ..ntm import NTM
from ..pieces import MachineSignal
from .config import build_model
from .loading import warm_start
from .schedule import Curriculum, LearningRate, SpikeClip
from .tasks import bit_errors, bits_per_sequence, get_task


OPTIMIZERS = {
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr, momentum=0.9),
}


class TrainingDiverged(RuntimeError, MachineSignal):
    """The loss or the gradients stopped being finite; the last good checkpoint was kept."""


def evaluate(model, batch):
    """Score ``model`` on ``batch``: ``{"bits": cost per sequence, "errors": bit errors per sequence}``.

    A random initial memory draws from a fresh generator of its own here, so scoring the model consumes no
    random numbers that training uses: how often training evaluates cannot change its trajectory."""
    with torch.no_grad():
        logits = run_model(model, batch.inputs, torch.Generator().manual_seed(0))
    return {"bits": bits_per_sequence(logits, batch.targets, batch.mask).item(),
            "errors": bit_errors(logits, batch.targets, batch.mask).item()}


def run_model(model, inputs, generator):
    """``model(inputs)``; an NTM's random initial memory (if it has one) draws from ``generator``."""
    return model(inputs, generator=generator) if isinstance(model, NTM) else model(inputs)


def batch_to(batch, device):
    """``batch`` (a task's named tuple of tensors) with every tensor on ``device``."""
    return type(batch)(*(t.to(device) for t in batch))


@dataclass
class TrainState:
    """A run between two updates: the model, its optimiser, the generator the batches draw from (``data``), the
    :class:`~ntm_course.experiments.schedule.Curriculum`, :class:`~ntm_course.experiments.schedule.LearningRate`
    and :class:`~ntm_course.experiments.schedule.SpikeClip`, the updates done (``step``), the seconds of training
    (``elapsed``) and the history rows. ``losses`` and ``errors`` are the training batches' since the last row
    (empty whenever a checkpoint is saved, so not saved)."""
    config: dict
    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    data: torch.Generator
    curriculum: Curriculum
    rate: LearningRate
    spikes: SpikeClip
    step: int = 0
    elapsed: float = 0.0
    history: list = field(default_factory=list)
    losses: list = field(default_factory=list)
    errors: list = field(default_factory=list)

    @classmethod
    def start(cls, config, device, pieces=None, warm=True):
        """A fresh run of ``config`` on ``device``. The model's initialisation draws from torch's global generator
        (:func:`~ntm_course.experiments.training.train` seeds it); with ``warm`` and ``init_from`` it then starts
        from a trained model's weights (:func:`~ntm_course.experiments.loading.warm_start`)."""
        model = build_model(config, pieces)
        if warm and config["init_from"] is not None:
            warm_start(model, config["init_from"], config)
        model = model.to(device)
        optimizer = OPTIMIZERS[config["optimizer"]](model.parameters(), config["lr"])
        return cls(config, model, optimizer, torch.Generator().manual_seed(config["seed"]),
                   Curriculum(get_task(config["task"]), config), LearningRate(config), SpikeClip(config))

    def state_dict(self):
        """Everything the run needs to continue exactly (a checkpoint's contents), torch's CPU generator included."""
        return {"config": self.config, "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "generator": self.data.get_state(), "torch_rng": torch.get_rng_state(), "step": self.step,
                "seconds": self.elapsed, "history": self.history, "level": self.curriculum.level,
                "streak": self.curriculum.streak, "lr_recent": self.rate.recent,
                "lr_dropped_at": self.rate.dropped_at, "spike_norms": self.spikes.norms}

    def load_state_dict(self, state):
        """Continue from ``state`` (a :meth:`state_dict`, e.g. a checkpoint's contents); sets torch's CPU generator."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.data.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        self.step, self.elapsed, self.history = state["step"], state["seconds"], state["history"]
        self.curriculum.level, self.curriculum.streak = state["level"], state["streak"]
        # checkpoints saved before the drop and the spike guard existed lack their keys: nothing seen yet
        self.rate.recent, self.rate.dropped_at = state.get("lr_recent", []), state.get("lr_dropped_at")
        self.spikes.norms = state.get("spike_norms", [])

    def batch(self, spec, device):
        """The next training batch of the task ``spec``, drawn from ``data`` at the curriculum's size, on ``device``."""
        options = self.curriculum.options(self.data)
        return batch_to(spec.make(self.config["batch_size"], **options, generator=self.data), device)

    def update(self, batch):
        """One optimiser step on ``batch``: the cost in bits per sequence as the loss, the gradients clipped
        elementwise to ``grad_clip``, then spikes (:class:`~ntm_course.experiments.schedule.SpikeClip`), then to
        the global norm ``grad_clip_norm``, at the learning rate of this update. :class:`TrainingDiverged`, before
        anything changes, when the loss or a gradient is not finite."""
        model, config = self.model, self.config
        model.train()
        if isinstance(model, NTM) and "training_step" in model.pieces.mine():
            return self._learners_update(batch)
        logits = run_model(model, batch.inputs, self.data)   # a random initial memory draws from the data generator
        loss = bits_per_sequence(logits, batch.targets, batch.mask)
        self.optimizer.zero_grad()
        loss.backward()
        grads_finite = all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
        if not (torch.isfinite(loss) and grads_finite):
            raise TrainingDiverged(f"training diverged at step {self.step + 1}: the loss is {loss.item()} and the "
                                   f"gradients are {'finite' if grads_finite else 'not finite'}. Try a lower lr "
                                   f"(now {config['lr']}) or a smaller grad_clip")
        torch.nn.utils.clip_grad_value_(model.parameters(), config["grad_clip"])
        self.spikes(model.parameters())
        if config["grad_clip_norm"] is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), config["grad_clip_norm"])
        if self.rate.scheduled:
            for group in self.optimizer.param_groups:
                group["lr"] = self.rate(self.step)
        self.optimizer.step()
        self._observe(loss, logits, batch)

    def _learners_update(self, batch):
        """:meth:`update` through the learner's ``training_step`` (``model.pieces.training_step``): their step runs
        the forward pass (``loss_of``), the backward pass, the clip to ``grad_clip`` and the optimiser's step. The
        optimiser they get is this run's behind :class:`_Guarded`, whose ``step()`` first does what the course's
        update does between its clip and its step (the finite check, the spike and norm clips), so a correct step
        of theirs gives the course's numbers."""
        model, config, seen = self.model, self.config, []

        def loss_of():
            logits = run_model(model, batch.inputs, self.data)
            loss = bits_per_sequence(logits, batch.targets, batch.mask)
            seen.append((loss, logits))
            return loss

        if self.rate.scheduled:
            for group in self.optimizer.param_groups:
                group["lr"] = self.rate(self.step)
        guarded = _Guarded(self, seen)
        model.pieces.training_step(model, guarded, loss_of, config["grad_clip"])
        if not seen or not guarded.stepped:
            raise TrainingDiverged(f"your training_step {'never called loss_of()' if not seen else 'never called optimizer.step()'}"
                                   f": the model was not trained on this batch")
        loss, logits = seen[-1]
        self._observe(loss.detach(), logits, batch)

    def _observe(self, loss, logits, batch):
        """After an update: count it, and note the batch's loss and bit errors (curriculum, learning rate)."""
        self.step += 1
        errors = bit_errors(logits.detach(), batch.targets, batch.mask).item()
        self.losses.append(loss.item())
        self.errors.append(errors)
        self.curriculum.observe(errors)
        self.rate.observe(errors, self.step)

    def record(self, held_out):
        """Score the model on the ``held_out`` batch and add a history row; returns the scores
        (:func:`evaluate`). :class:`TrainingDiverged` when the held-out cost is not finite."""
        self.model.eval()
        scores = evaluate(self.model, held_out)
        if not math.isfinite(scores["bits"]):
            raise TrainingDiverged(f"the held-out cost is {scores['bits']} at step {self.step}")
        self.history.append({"step": self.step, "sequences": self.step * self.config["batch_size"],
                             "seconds": round(self.elapsed, 3), "loss": sum(self.losses) / len(self.losses),
                             "train_errors": sum(self.errors) / len(self.errors), "eval_bits": scores["bits"],
                             "eval_errors": scores["errors"], "level": self.curriculum.level})
        self.losses, self.errors = [], []
        return scores


class _Guarded:
    """The optimiser a learner's ``training_step`` is handed: the run's own, whose ``step()`` first checks that the
    loss and the gradients are finite (:class:`TrainingDiverged` before anything changes) and applies the run's
    spike and norm clips, as the course's update does after its elementwise clip; everything else is the
    optimiser's."""

    def __init__(self, state, seen):
        self._state, self._seen, self.stepped = state, seen, False

    def __getattr__(self, name):
        return getattr(self._state.optimizer, name)

    def step(self, closure=None):
        state = self._state
        params = list(state.model.parameters())
        loss = self._seen[-1][0] if self._seen else torch.tensor(0.0)
        grads_finite = all(torch.isfinite(p.grad).all() for p in params if p.grad is not None)
        if not (torch.isfinite(loss).all() and grads_finite):
            raise TrainingDiverged(f"training diverged at step {state.step + 1}: the loss is {loss.item()} and the "
                                   f"gradients are {'finite' if grads_finite else 'not finite'}. Try a lower lr "
                                   f"(now {state.config['lr']}) or a smaller grad_clip")
        state.spikes(params)
        if state.config["grad_clip_norm"] is not None:
            torch.nn.utils.clip_grad_norm_(params, state.config["grad_clip_norm"])
        self.stepped = True
        return state.optimizer.step(closure)
