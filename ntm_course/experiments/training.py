"""Train an NTM (or the LSTM baseline) on one of the paper's tasks; save, load and resume checkpoints.

Python::

    from ntm_course.experiments.training import train
    result = train("copy", steps=2000, checkpoint="copy.pt")      # result.model, result.history

Command line (the same options, spelled ``--batch-size`` and so on)::

    ntm-course train copy --steps 2000 --checkpoint copy.pt --history copy.csv

A training step: draw a batch of fresh episodes, run the model, take the cost in bits per sequence
(:func:`ntm_course.experiments.tasks.bits_per_sequence`, the paper's cost) as the loss, clip the gradients elementwise
to ``grad_clip`` (with ``grad_clip_spikes``, scale down a spike far above the recent global norms,
:class:`SpikeClip`; with ``grad_clip_norm``, bound the global norm) and update at the :class:`LearningRate`
(``lr``, optionally warmed up over ``warmup_steps``, halved every ``lr_halflife`` steps and divided by
``lr_drop_factor`` once the training errors fall below ``lr_drop_below``). Every
``eval_every`` steps the model is scored on a held-out set of episodes made once at the start (from the
task's full, paper-sized distribution), a row is added to the history and the checkpoint is saved. With
``curriculum=True`` the task's size limit (copy: ``max_length``) starts small and grows by one each time the
training batches' bit errors per sequence fall below ``curriculum_threshold``. With ``one_size_per_batch=True``
each batch draws one size (copy: one length) for all its episodes, so a batch runs for ``2L + 1`` steps
rather than for its longest episode's. With ``init_from`` a new model starts from a trained NTM's weights
(:func:`warm_start`): repeat copy, say, from the shipped copy model, which already knows how to write a
sequence and read it back once.

With ``compile=True`` (``--compile``) the NTM's step runs compiled by ``torch.compile``: on a CPU, 1.3 to 2.2
times as many sequences a second once compiled (``benchmarks/README.md``), after 15-35 s of compiling the first
time on a machine (inductor keeps what it compiled on disk); opt-in, for long runs.

Reproducible: the same seed gives the same numbers on CPU (compiled, the same numbers as other compiled runs:
compiled kernels round differently from eager ones), and a run resumed from a checkpoint continues
exactly as the uninterrupted run would (the checkpoint holds the weights, the optimiser, the data
generator's and torch's random states, the curriculum level, the learning-rate drop, the recent gradient norms
and the history).
"""
import argparse
import csv
import inspect
import json
import math
import statistics
import time
from dataclasses import fields
from pathlib import Path
from typing import NamedTuple

import torch

from ..device import get_device, threads
from ..ntm import NTM
from .checkpoints import checkpoint_file, load_checkpoint, save_checkpoint
from .config import COUNT, ModelConfig, TrainConfig, build_model, defaults, make_config
from .tasks import bit_errors, bits_per_sequence, get_task


OPTIMIZERS = {
    "adam": lambda params, lr: torch.optim.Adam(params, lr=lr),
    "rmsprop": lambda params, lr: torch.optim.RMSprop(params, lr=lr, momentum=0.9),
}


class CompileFailed(RuntimeError):
    """``torch.compile`` could not compile the NTM's step (``train(compile=True)``)."""


class TrainingDiverged(RuntimeError):
    """The loss or the gradients stopped being finite; the last good checkpoint was kept."""


class TrainResult(NamedTuple):
    """What :func:`train` returns: the trained model, the history rows and the full configuration."""
    model: torch.nn.Module
    history: list
    config: dict


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

    A constant rate fast enough to learn the copy task can knock a nearly converged model back to chance; on ten
    copy seeds, dropping it below one bit per sequence stopped two such collapses and slowed one other seed
    (``benchmarks/README.md``). ``recent``
    (the last batches' errors) and ``dropped_at`` (the number of updates done when it dropped) are saved in
    checkpoints.
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
    learns to use its memory; spikes of 10-50 times the running median come just before a collapse. With
    ``grad_clip_spikes=2`` the copy task converged on 19 of 20 seeds within 3 CPU-minutes, against 6 of 10 at the
    defaults; with ``grad_clip_spikes=2, lr=5e-3`` on 20 of 20, in a median of 57 CPU-seconds
    (``benchmarks/README.md``). ``norms`` (the recorded norms, before scaling) is saved in checkpoints.
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


# ------------------------------------------------------------------------------------------- saved models

def model_from_checkpoint(state, path="checkpoint"):
    """Build the model a checkpoint describes and load its weights; mismatches are a ValueError."""
    try:
        config = make_config(**state["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: its config is not a valid training configuration ({error})") from None
    model = build_model(config)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise ValueError(f"{path}: the weights do not match the model its config describes: "
                         f"{str(error).splitlines()[0][:300]}") from None
    return model, config


def load_model(path, device=None):
    """Load a trained model from a checkpoint file or a shipped model's name (:func:`checkpoints.checkpoint_file`):
    returns ``(model in eval mode, config)``."""
    path = checkpoint_file(path)
    model, config = model_from_checkpoint(load_checkpoint(path), str(path))
    return model.to(device or get_device()).eval(), config


def warm_start(model, source, config):
    """Copy a trained NTM's weights into ``model``, an NTM for ``config``'s task, wherever they fit.

    ``source``: a checkpoint path or a shipped model's name (:func:`ntm_course.experiments.pretrained.available`).
    The two must share every model option (controller, sizes, memory, heads); only the tasks' input and output widths
    may differ. Same-shaped tensors are copied whole. The controller's first layer reads ``[x_t, reads]``: the
    columns of the input channels both tasks have (the first ``min(in)``) and of the reads are copied. The
    output layer: the rows of the shared output channels. A channel only the new task has keeps its fresh
    initialisation. Raises ValueError when the models differ in anything else.
    """
    try:
        state = load_checkpoint(checkpoint_file(source))
    except ValueError as error:
        raise ValueError(f"init_from: {error}") from None
    saved = {**defaults(ModelConfig), **state["config"]}     # options newer than the checkpoint: their defaults
    different = sorted(k for k in defaults(ModelConfig) if saved[k] != config[k])
    if config["model"] != "ntm" or different:
        raise ValueError(f"init_from={source!r}: only an NTM with the same model options can start this one; "
                         f"they differ in {different or ['model']}")
    old_task, new_task = get_task(state["config"]["task"]), get_task(config["task"])
    shared_in = min(old_task.input_size, new_task.input_size)
    shared_out = min(old_task.output_size, new_task.output_size)
    reads = config["num_read_heads"] * config["M"]
    merged = {name: new.clone() for name, new in model.state_dict().items()}   # model untouched until all fit
    for name, new in merged.items():
        if name not in state["model"]:
            raise ValueError(f"init_from={source!r}: the checkpoint has no {name}")
        old = state["model"][name]
        if old.shape == new.shape:
            new.copy_(old)
        elif name.startswith("cell.output."):
            new[:shared_out] = old[:shared_out]
        elif name.startswith("cell.controller.") and new.dim() == 2 and old.shape[0] == new.shape[0]:
            new[:, :shared_in] = old[:, :shared_in]
            new[:, -reads:] = old[:, -reads:]
        else:
            raise ValueError(f"init_from={source!r}: cannot map {name} of shape {tuple(old.shape)} "
                             f"onto shape {tuple(new.shape)}")
    model.load_state_dict(merged)


# ------------------------------------------------------------------------------------------------- training

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


def _to(batch, device):
    return type(batch)(*(t.to(device) for t in batch))


def write_history(path, history):
    """Write the history rows to ``path``: JSON when it ends in ``.json``, else CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".json":
        path.write_text(json.dumps(history, indent=1))
        return
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(history[0]) if history else ["step"])
        writer.writeheader()
        writer.writerows(history)


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


def train(task="copy", checkpoint=None, resume=None, history_path=None, progress=True, device=None,
          callback=None, pieces=None, compile=False, **options):
    """Train a model on ``task``; return a :class:`TrainResult` ``(model, history, config)``.

    Args:
        task: one of :data:`ntm_course.experiments.tasks.TASKS` (ignored when resuming: the checkpoint's task is used).
        checkpoint: save here (weights, optimiser, random states, config, history) at every evaluation.
        resume: a checkpoint to continue from; ``options`` may change only ``steps``, ``target_errors``,
            ``max_minutes`` and ``eval_every``.
        history_path: write the history as CSV (or JSON for ``.json``) at every evaluation.
        progress: show a tqdm progress bar (the notebook kind inside Jupyter).
        device: where to train (default :func:`ntm_course.get_device`).
        callback: ``callback(step, model)`` after every optimiser step (live plots, tests).
        pieces: a :class:`~ntm_course.pieces.Pieces` (e.g. ``my_pieces()``): train an NTM made of the
            learner's own functions. Not saved in the checkpoint or the config (a resumed or reloaded model
            runs on the library's unless given them again); a ValueError for ``model="lstm"``.
        compile: run the NTM's step (:meth:`~ntm_course.ntm.NTMCell.step`) compiled by ``torch.compile`` during
            training and evaluation; the model returned runs it uncompiled again. Not saved in the checkpoint
            (a run may resume with or without it). A ValueError for ``model="lstm"``; :class:`CompileFailed`
            when ``torch.compile`` cannot compile it (no C++ compiler, say).
        options: any field of :class:`~ntm_course.experiments.config.ModelConfig` (the model's constructor
            arguments) and :class:`~ntm_course.experiments.config.TrainConfig`, and ``task_options`` (a dict of
            arguments for the task's generator, e.g. ``{"max_length": 10}``). ``warmup_steps=W`` raises the
            learning rate linearly from ``lr / W`` (the first update) to ``lr`` (update W on);
            ``grad_clip_spikes=k`` scales a gradient, after the elementwise ``grad_clip``, down to ``k`` times the
            median global norm of the last 100 updates when it is above that (:class:`SpikeClip`);
            ``grad_clip_norm=c`` then scales the gradients down to a global norm of at most ``c``;
            ``lr_drop_below=e`` divides the learning rate by ``lr_drop_factor`` (default 10) for the rest of the
            run once the last 50 training batches average fewer than ``e`` bit errors per sequence
            (:class:`LearningRate`).

    Each history row: ``step``, ``sequences`` seen, ``seconds`` of training, the mean training ``loss``
    (bits per sequence) and bit ``train_errors`` since the last row, the held-out ``eval_bits`` and
    ``eval_errors`` per sequence, and the curriculum ``level``.

    Training seeds its own random numbers (``seed``): the caller's global torch random state is the same
    afterwards as before.

    Raises :class:`TrainingDiverged` when the loss or a gradient is not finite; the checkpoint file then
    still holds the last good state.
    """
    with torch.random.fork_rng(devices=[]):   # the model's initialisation draws from a forked CPU generator
        return _train(task, checkpoint, resume, history_path, progress, device, callback, pieces, compile,
                      **options)


def snapshot(config, model, optimizer, data, step, elapsed, history, curriculum, rate, spikes):
    """Everything a run needs to continue exactly (a checkpoint's contents): the config, the weights, the
    optimiser, the data generator and torch's generator, the step, the training time, the history, the
    :class:`Curriculum`'s level and streak, the :class:`LearningRate`'s recent errors and drop and the
    :class:`SpikeClip`'s recent norms."""
    return {"config": config, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "generator": data.get_state(), "torch_rng": torch.get_rng_state(), "step": step, "seconds": elapsed,
            "history": history, "level": curriculum.level, "streak": curriculum.streak,
            "lr_recent": rate.recent, "lr_dropped_at": rate.dropped_at, "spike_norms": spikes.norms}


def _train(task, checkpoint, resume, history_path, progress, device, callback, pieces, compile, **options):
    """The body of :func:`train`, run inside a forked random state."""
    device = torch.device(device) if device is not None else get_device()
    state = load_checkpoint(resume) if resume is not None else None
    if state is not None:
        changeable = {"steps", "target_errors", "max_minutes", "eval_every"}
        changed = {k for k in options if options[k] != state["config"].get(k)} - changeable
        if changed:
            raise ValueError(f"cannot change {sorted(changed)} when resuming; only {sorted(changeable)}")
        config = make_config(**{**state["config"], **options})
    else:
        config = make_config(task, **options)
    spec = get_task(config["task"])

    torch.manual_seed(config["seed"])
    model = build_model(config, pieces)
    if config["init_from"] is not None and state is None:
        warm_start(model, config["init_from"], config)
    model = model.to(device)
    failures = _compile_step(model, config) if compile else ()   # the exceptions that mean it failed
    optimizer = OPTIMIZERS[config["optimizer"]](model.parameters(), config["lr"])
    data = torch.Generator().manual_seed(config["seed"])
    held_out = _to(spec.make(config["eval_size"], **config["task_options"],
                             generator=torch.Generator().manual_seed(config["seed"] + 1_000_000)), device)
    curriculum, rate, spikes = Curriculum(spec, config), LearningRate(config), SpikeClip(config)
    step, elapsed, history = 0, 0.0, []
    if state is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        data.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        step, elapsed, history = state["step"], state["seconds"], state["history"]
        curriculum.level, curriculum.streak = state["level"], state["streak"]
        # checkpoints saved before the drop and the spike guard existed lack their keys: nothing seen yet
        rate.recent, rate.dropped_at = state.get("lr_recent", []), state.get("lr_dropped_at")
        spikes.norms = state.get("spike_norms", [])

    good = None
    if checkpoint is not None:
        good = snapshot(config, model, optimizer, data, step, elapsed, history, curriculum, rate, spikes)
        save_checkpoint(checkpoint, good)
    from tqdm.auto import tqdm
    bar = tqdm(total=config["steps"], initial=step, disable=not progress, desc=f"train {config['task']}")
    losses, errors = [], []
    started = time.perf_counter() - elapsed
    try:
        while step < config["steps"]:
            batch = _to(spec.make(config["batch_size"], **curriculum.options(data), generator=data), device)
            model.train()
            logits = run_model(model, batch.inputs, data)   # a random initial memory draws from the data generator
            loss = bits_per_sequence(logits, batch.targets, batch.mask)
            optimizer.zero_grad()
            loss.backward()
            grads_finite = all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
            if not (torch.isfinite(loss) and grads_finite):
                where = f"; the last good checkpoint (step {good['step']}) is kept in {checkpoint}" \
                    if checkpoint is not None else ""
                raise TrainingDiverged(f"training diverged at step {step + 1}: the loss is {loss.item()} and "
                                       f"the gradients are {'finite' if grads_finite else 'not finite'}"
                                       f"{where}. Try a lower lr (now {config['lr']}) or a smaller grad_clip.")
            torch.nn.utils.clip_grad_value_(model.parameters(), config["grad_clip"])
            spikes(model.parameters())
            if config["grad_clip_norm"] is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config["grad_clip_norm"])
            if rate.scheduled:
                for group in optimizer.param_groups:
                    group["lr"] = rate(step)
            optimizer.step()
            step += 1
            batch_errors = bit_errors(logits.detach(), batch.targets, batch.mask).item()
            losses.append(loss.item())
            errors.append(batch_errors)
            curriculum.observe(batch_errors)
            rate.observe(batch_errors, step)
            bar.update(1)
            if callback is not None:
                callback(step, model)
            elapsed = time.perf_counter() - started
            out_of_time = config["max_minutes"] is not None and elapsed >= 60 * config["max_minutes"]
            if step % config["eval_every"] == 0 or step == config["steps"] or out_of_time:
                model.eval()
                scores = evaluate(model, held_out)
                if not math.isfinite(scores["bits"]):
                    raise TrainingDiverged(f"the held-out cost is {scores['bits']} at step {step}")
                history.append({"step": step, "sequences": step * config["batch_size"],
                                "seconds": round(elapsed, 3),
                                "loss": sum(losses) / len(losses), "train_errors": sum(errors) / len(errors),
                                "eval_bits": scores["bits"], "eval_errors": scores["errors"],
                                "level": curriculum.level})
                losses, errors = [], []
                bar.set_postfix(bits=f"{scores['bits']:.3g}", errors=f"{scores['errors']:.3g}",
                                **curriculum.postfix())
                elapsed = time.perf_counter() - started
                if checkpoint is not None:
                    good = snapshot(config, model, optimizer, data, step, elapsed, history, curriculum, rate,
                                    spikes)
                    save_checkpoint(checkpoint, good)
                if history_path is not None:
                    write_history(history_path, history)
                target = config["target_errors"]
                if (target is not None and scores["errors"] < target) or out_of_time:
                    break
    except failures as error:
        raise CompileFailed(f"torch.compile could not compile the NTM's step ({str(error).splitlines()[0]}); "
                            f"train without compile=True (--compile)") from None
    finally:
        bar.close()
        if compile:
            del model.cell.step          # the instance's compiled step: the class's own runs again
    model.eval()
    return TrainResult(model, history, config)


def _compile_step(model, config):
    """Give ``model.cell`` a ``step`` compiled by ``torch.compile``; return the exceptions that say it failed."""
    if not isinstance(model, NTM):
        raise ValueError(f"compile=True compiles the NTM's step; model={config['model']!r} has none "
                         f"(nn.LSTM already runs a whole sequence in one call)")
    import torch._dynamo.exc
    import torch._inductor.exc
    model.cell.step = torch.compile(model.cell.step)
    return torch._dynamo.exc.TorchDynamoException, torch._inductor.exc.InductorError


# ---------------------------------------------------------------------------------------------- command line

#: The spellings a boolean option accepts (any case).
BOOLEAN_WORDS = {"true": True, "yes": True, "on": True, "1": True,
                 "false": False, "no": False, "off": False, "0": False}


def _number(name, check):
    """An argparse ``type`` for option ``name``: its value, or a usage error saying what it must be.

    ``check``: ``(type, test, what the test asks)``, the field's range
    (:func:`ntm_course.experiments.config.option`)."""
    kind, test, wanted = check

    def convert(text):
        error = argparse.ArgumentTypeError(f"must be {wanted}, got {text!r}")
        try:
            value = kind(text)
        except ValueError:
            raise error from None
        if not test(value):
            raise error
        return value
    convert.__name__ = name      # argparse names the type in some messages
    return convert


def _boolean(text):
    """An argparse ``type`` for a yes/no option: one of :data:`BOOLEAN_WORDS`, or a usage error."""
    try:
        return BOOLEAN_WORDS[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"must be true/false, yes/no, on/off or 1/0, got {text!r}") from None


def _options():
    """Every field of :class:`~ntm_course.experiments.config.ModelConfig` and
    :class:`~ntm_course.experiments.config.TrainConfig`."""
    return [*fields(ModelConfig), *fields(TrainConfig)]


def add_arguments(parser):
    """``ntm-course train TASK``: one option per field of the two config classes (``--num-read-heads``, ...).

    A numeric option outside its field's range, a choice that is not one of the field's choices, or a yes/no
    option that is not one of :data:`BOOLEAN_WORDS`, is a usage error (exit code 2) naming the option and what
    it accepts.
    """
    from .tasks import TASKS
    parser.usage = "%(prog)s TASK [options]"          # not all 30 options again above every usage error
    parser.add_argument("task", choices=sorted(TASKS), help="the paper task to train on")
    parser.add_argument("--checkpoint", help="save the checkpoint here at every evaluation")
    parser.add_argument("--resume", help="continue from this checkpoint")
    parser.add_argument("--history", dest="history_path", help="write the history here (.csv or .json)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    parser.add_argument("--compile", action="store_true",
                        help="run the NTM's step compiled by torch.compile (faster once compiled; opt-in)")
    parser.add_argument("--threads", type=_number("threads", COUNT),
                        help="torch CPU threads for this run (1 is fastest for small models; restored afterwards)")
    parser.add_argument("--task-option", action="append", default=[], metavar="NAME=INT",
                        help="an argument of the task's generator, e.g. max_length=10 (repeatable)")
    for f in _options():
        flag, doc = "--" + f.name.replace("_", "-"), f.metadata["doc"]
        about = f"{doc + '; ' if doc else ''}default {f.default}"
        if isinstance(f.default, bool):
            parser.add_argument(flag, type=_boolean, default=None, metavar="BOOL", help=about)
        elif f.metadata["choices"]:
            parser.add_argument(flag, choices=f.metadata["choices"], default=None, help=about)
        elif f.metadata["check"]:
            parser.add_argument(flag, type=_number(f.name, f.metadata["check"]), default=None,
                                help=f"{f.metadata['check'][2]}: {about}")
        else:
            parser.add_argument(flag, default=None, help=about)


def run(args):
    with threads(args.threads or None):
        return _run(args)


def _run(args):
    options = {f.name: getattr(args, f.name) for f in _options() if getattr(args, f.name) is not None}
    if args.task_option:
        try:
            options["task_options"] = {k: int(v) for k, v in (o.split("=", 1) for o in args.task_option)}
        except ValueError:
            raise SystemExit(f"--task-option takes NAME=INT, got {args.task_option}") from None
    try:
        result = train(args.task, checkpoint=args.checkpoint, resume=args.resume,
                       history_path=args.history_path, progress=args.progress, device=args.device,
                       compile=args.compile, **options)
    except (TrainingDiverged, CompileFailed, ValueError) as error:
        print(f"error: {error}")
        return 1
    last = result.history[-1] if result.history else {}
    print(json.dumps(last))
    return 0
