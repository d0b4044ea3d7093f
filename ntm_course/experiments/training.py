"""Train an NTM (or the LSTM baseline) on one of the paper's tasks; save, load and resume checkpoints.

Python::

    from ntm_course.experiments.training import train
    result = train("copy", steps=2000, checkpoint="copy.pt")      # result.model, result.history

Command line (the same options, spelled ``--batch-size`` and so on)::

    ntm-course train copy --steps 2000 --checkpoint copy.pt --history copy.csv

This module is the loop (:func:`train`, one screen) and the command (:func:`run`); the parts it runs live beside it
and their public names are importable from here too: :mod:`~ntm_course.experiments.state` (:class:`TrainState`, one
update and a checkpoint's contents), :mod:`~ntm_course.experiments.schedule` (:class:`LearningRate`,
:class:`SpikeClip`, :class:`Curriculum`), :mod:`~ntm_course.experiments.loading` (:func:`load_model`,
:func:`warm_start`) and :mod:`~ntm_course.experiments.cli_train` (the command's options).

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

On a CPU the NTM trains on the fast path (``fast=True``, the default; ``--no-fast`` for the eager step, the
reference): its memory step fused into one C++ call forward and one backward (:mod:`ntm_course.fused`, compiled
on first use in about 3 seconds and cached), about 3x the eager step's speed. Where there is no C++ compiler, a
GPU or the learner's own pieces, the eager step runs.

With ``compile=True`` (``--compile``) the NTM's step runs compiled by ``torch.compile``: faster once compiled,
after a compilation the first time on a machine (inductor keeps what it compiled on disk); opt-in, for long runs
(its speed-up: ``benchmarks/README.md``).

Reproducible: the same seed gives the same numbers on CPU (fast or eager, the same numbers as other such runs;
compiled, the same numbers as other compiled runs:
compiled kernels round differently from eager ones), and a run resumed from a checkpoint continues
exactly as the uninterrupted run would (the checkpoint holds the weights, the optimiser, the data
generator's and torch's random states, the curriculum level, the learning-rate drop, the recent gradient norms
and the history).
"""
import csv
import json
import time
from pathlib import Path
from types import SimpleNamespace
from typing import NamedTuple

import torch

from ..device import get_device, rng_isolated, threads
from ..ntm import NTM
from .checkpoints import load_checkpoint, save_checkpoint
from .cli_train import add_arguments, train_options
from .config import make_config
from .loading import load_model, model_from_checkpoint, warm_start
from .schedule import Curriculum, LearningRate, SpikeClip, learning_rate
from .state import OPTIMIZERS, TrainingDiverged, TrainState, batch_to, evaluate, run_model
from .tasks import get_task

__all__ = ["train", "TrainResult", "TrainingDiverged", "CompileFailed", "load_model", "model_from_checkpoint",
           "warm_start", "evaluate", "run_model", "write_history", "add_arguments", "run", "OPTIMIZERS",
           "TrainState", "Curriculum", "LearningRate", "SpikeClip", "learning_rate", "load_checkpoint",
           "save_checkpoint"]


class CompileFailed(RuntimeError):
    """``torch.compile`` could not compile the NTM's step (``train(compile=True)``)."""


class TrainResult(NamedTuple):
    """What :func:`train` returns: the trained model, the history rows and the full configuration."""
    model: torch.nn.Module
    history: list
    config: dict


def train(task="copy", checkpoint=None, resume=None, history_path=None, progress=True, device=None,
          callback=None, pieces=None, compile=False, fast=True, **options):
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
        fast: run the NTM on the fused memory step (``model.fast``, :mod:`ntm_course.fused`) where it applies: the
            library's pieces on a CPU (not with ``compile``, which compiles the eager step). On by default; its
            numbers agree with the eager step's to rounding, so a seed gives the same numbers with the same
            ``fast``. Not saved in the checkpoint (a run may resume either way); the model returned has it off.
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

    Training seeds its own random numbers (``seed``) on forked generators (:func:`ntm_course.device.rng_isolated`):
    the caller's global torch random states, the CPU's and every GPU's, are the same afterwards as before.

    Raises :class:`TrainingDiverged` when the loss or a gradient is not finite; the checkpoint file then
    still holds the last good state.
    """
    saved = load_checkpoint(resume) if resume is not None else None
    config = _run_config(task, saved, options)
    with rng_isolated(config["seed"]):      # the model's initialisation draws from forked, seeded generators
        return _train(config, saved, checkpoint, history_path, progress, device, callback, pieces, compile,
                      fast and not compile)


def _run_config(task, saved, options):
    """The configuration of a new run, or of the ``saved`` run resumed with the few ``options`` that may change."""
    if saved is None:
        return make_config(task, **options)
    changeable = {"steps", "target_errors", "max_minutes", "eval_every"}
    changed = {k for k in options if options[k] != saved["config"].get(k)} - changeable
    if changed:
        raise ValueError(f"cannot change {sorted(changed)} when resuming; only {sorted(changeable)}")
    return make_config(**{**saved["config"], **options})


def _train(config, saved, checkpoint, history_path, progress, device, callback, pieces, compile, fast):
    """The loop of :func:`train`, run inside isolated random states: update, evaluate every ``eval_every``
    steps (a history row, the checkpoint), stop at ``steps``, ``target_errors`` or ``max_minutes``."""
    c = SimpleNamespace(**config)
    device = torch.device(device) if device is not None else get_device()
    spec = get_task(c.task)
    state = TrainState.start(config, device, pieces, warm=saved is None)
    state.model.fast = fast and isinstance(state.model, NTM)
    failures = _compile_step(state.model, config) if compile else ()   # the exceptions that mean it failed
    held_out = batch_to(spec.make(c.eval_size, **c.task_options,
                                  generator=torch.Generator().manual_seed(c.seed + 1_000_000)), device)
    if saved is not None:
        state.load_state_dict(saved)
    kept = _save(checkpoint, state)
    from tqdm.auto import tqdm
    bar = tqdm(total=c.steps, initial=state.step, disable=not progress, desc=f"train {c.task}")
    started = time.perf_counter() - state.elapsed
    try:
        while state.step < c.steps:
            state.update(state.batch(spec, device))
            bar.update(1)
            if callback is not None:
                callback(state.step, state.model)
            state.elapsed = time.perf_counter() - started
            out_of_time = c.max_minutes is not None and state.elapsed >= 60 * c.max_minutes
            if state.step % c.eval_every == 0 or state.step == c.steps or out_of_time:
                scores = state.record(held_out)
                bar.set_postfix(bits=f"{scores['bits']:.3g}", errors=f"{scores['errors']:.3g}",
                                **state.curriculum.postfix())
                state.elapsed = time.perf_counter() - started
                kept = _save(checkpoint, state, kept)
                if history_path is not None:
                    write_history(history_path, state.history)
                if (c.target_errors is not None and scores["errors"] < c.target_errors) or out_of_time:
                    break
    except TrainingDiverged as error:
        if checkpoint is None:
            raise
        raise TrainingDiverged(f"{error}; the last good checkpoint (step {kept}) is kept in {checkpoint}") from None
    except failures as error:
        raise CompileFailed(f"torch.compile could not compile the NTM's step ({str(error).splitlines()[0]}); "
                            f"train without compile=True (--compile)") from None
    finally:
        bar.close()
        if compile:
            del state.model.cell.step          # the instance's compiled step: the class's own runs again
    state.model.fast = False
    state.model.eval()
    return TrainResult(state.model, state.history, config)


def _save(checkpoint, state, kept=None):
    """Save ``state`` to ``checkpoint`` (if not None); return the step the checkpoint now holds (else ``kept``)."""
    if checkpoint is None:
        return kept
    save_checkpoint(checkpoint, state.state_dict())
    return state.step


def _compile_step(model, config):
    """Give ``model.cell`` a ``step`` compiled by ``torch.compile``; return the exceptions that say it failed."""
    if not isinstance(model, NTM):
        raise ValueError(f"compile=True compiles the NTM's step; model={config['model']!r} has none "
                         f"(nn.LSTM already runs a whole sequence in one call)")
    import torch._dynamo.exc
    import torch._inductor.exc
    model.cell.step = torch.compile(model.cell.step)
    return torch._dynamo.exc.TorchDynamoException, torch._inductor.exc.InductorError


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


def run(args):
    """``ntm-course train TASK ...`` (:func:`~ntm_course.experiments.cli_train.add_arguments`): train on
    ``--threads`` threads (the caller's count restored), print the last history row as JSON; exit code 1 with a
    one-line error when the run diverges, fails to compile or is given a bad option."""
    options = train_options(args)
    with threads(args.threads or None):
        try:
            result = train(args.task, checkpoint=args.checkpoint, resume=args.resume,
                           history_path=args.history_path, progress=args.progress, device=args.device,
                           compile=args.compile, fast=args.fast, **options)
        except (TrainingDiverged, CompileFailed, ValueError) as error:
            print(f"error: {error}")
            return 1
    print(json.dumps(result.history[-1] if result.history else {}))
    return 0
