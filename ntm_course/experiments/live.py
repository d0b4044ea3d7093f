"""Lesson 9's live run: an NTM made of the learner's pieces and an LSTM, trained one after the other on copy for the
same CPU time, then tested on sequences twice as long as any they saw (the paper's section 4.1, in seconds).

Python::

    from ntm_course.experiments.live import generalisation, live_copy
    run = live_copy(pieces=my_pieces(), seconds=30, seed=9)       # run.ntm, run.lstm, run.histories
    generalisation(run.ntm, [10, 20], n_sequences=500, seed=9)    # per length: perfect count, rate, interval

The recipe (:data:`RECIPE`, measured over seeds and piece sets by ``benchmarks/live_copy.py``) is
:func:`~ntm_course.experiments.training.train`'s own update (:class:`~ntm_course.experiments.state.TrainState`)
with options chosen for a short run: lengths 1-10 in every batch, a small memory and controller, Adam with a guard
against gradient spikes. The budget is CPU time of one torch thread, the same for both models: each trains until
its own clock reaches ``seconds`` (or until ``steps`` updates, whichever comes first), so the LSTM, whose steps
are cheaper, makes more of them in the same time.
"""
import time
from dataclasses import asdict, dataclass
from typing import NamedTuple

import torch

from ..device import get_device, rng_isolated, threads
from .config import make_config
from .evaluation import score
from .state import TrainState, batch_to
from .tasks import get_task


@dataclass(frozen=True)
class Recipe:
    """What :func:`live_copy` trains: the task's lengths, the two models and the options of the update.

    ``max_length``: training lengths are 1 to ``max_length``, mixed in every batch of ``batch_size``; the NTM has
    ``N`` rows of width ``M`` and an LSTM controller of ``controller_size``; the LSTM baseline ``lstm_layers`` of
    ``lstm_size``. ``lr``, ``lr_halflife``, ``grad_clip_spikes``: as in :func:`~ntm_course.experiments.training.train`.
    ``eval_every``: steps between the history's rows, scored on ``eval_size`` held-out episodes (outside the clock).
    """
    max_length: int = 10
    N: int = 32
    M: int = 8
    controller_size: int = 32
    batch_size: int = 64
    lr: float = 5e-3
    lr_halflife: float = None
    grad_clip_spikes: float = 2.0
    lstm_size: int = 256
    lstm_layers: int = 1
    eval_every: int = 50
    eval_size: int = 64

    def config(self, model, seed):
        """The :func:`~ntm_course.experiments.config.make_config` of ``model`` (``"ntm"`` or ``"lstm"``)."""
        return make_config("copy", task_options={"max_length": self.max_length}, model=model, seed=seed,
                           N=self.N, M=self.M, controller_size=self.controller_size, hidden_size=self.lstm_size,
                           num_layers=self.lstm_layers, batch_size=self.batch_size, lr=self.lr,
                           lr_halflife=self.lr_halflife, grad_clip_spikes=self.grad_clip_spikes,
                           eval_every=self.eval_every, eval_size=self.eval_size)


RECIPE = Recipe()
SECONDS = 30.0
"""The default CPU seconds of training for each model."""


class LiveRun(NamedTuple):
    """What :func:`live_copy` returns: both trained models (in eval mode), their histories (``{"NTM": rows,
    "LSTM": rows}``, rows as in :func:`~ntm_course.experiments.training.train`, ``seconds`` being CPU seconds of
    training) and the recipe's options (``recipe``, with ``seconds`` and ``steps``, the budget)."""
    ntm: torch.nn.Module
    lstm: torch.nn.Module
    histories: dict
    config: dict


def live_copy(pieces=None, seconds=SECONDS, steps=None, seed=0, recipe=RECIPE, progress=True, device=None):
    """Train an NTM made of ``pieces`` and the LSTM baseline on copy, each for the same budget; a :class:`LiveRun`.

    Args:
        pieces: the :class:`~ntm_course.pieces.Pieces` the NTM runs on (e.g. ``my_pieces()``; default the library's).
        seconds: each model trains until it has used this many CPU seconds of training (evaluations not
            counted), or ``None`` for no time limit.
        steps: ... or until this many updates (``None``: no limit); at least one of the two must be given. With
            ``steps`` alone the run is reproducible exactly: the same seed gives the same models.
        seed: seeds both models' initialisation and their batches (the same batches for both).
        recipe: a :class:`Recipe` (default :data:`RECIPE`).
        progress: a progress bar per model (tqdm, the notebook kind inside Jupyter), over seconds or steps.
        device: where to train (default :func:`ntm_course.get_device`).

    Trains on one torch thread (the caller's count restored afterwards) and on forked random generators: the
    caller's thread count and random states are the same afterwards as before.
    """
    if seconds is None and steps is None:
        raise ValueError("give seconds or steps (or both): the budget of each model")
    if seconds is not None and not (isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
                                    and seconds > 0):
        raise ValueError(f"seconds must be a number > 0 or None, got {seconds!r}")
    if steps is not None and (not isinstance(steps, int) or isinstance(steps, bool) or steps < 1):
        raise ValueError(f"steps must be a whole number >= 1 or None, got {steps!r}")
    device = torch.device(device) if device is not None else get_device()
    histories, models = {}, {}
    with threads(1):
        for name, model in (("NTM", "ntm"), ("LSTM", "lstm")):
            with rng_isolated(seed):
                state = TrainState.start(recipe.config(model, seed), device, pieces if model == "ntm" else None)
                _train(state, seconds, steps, device, name, progress)
            state.model.eval()
            models[name], histories[name] = state.model, state.history
    return LiveRun(models["NTM"], models["LSTM"], histories,
                   {**asdict(recipe), "seconds": seconds, "steps": steps, "seed": seed})


def _train(state, seconds, steps, device, name, progress):
    """Update ``state`` until its CPU clock reaches ``seconds`` or it has made ``steps`` updates; a history row
    every ``eval_every`` updates and at the end."""
    from tqdm.auto import tqdm
    c = state.config
    spec = get_task("copy")
    held_out = batch_to(spec.make(c["eval_size"], **c["task_options"],
                                  generator=torch.Generator().manual_seed(c["seed"] + 1_000_000)), device)
    by_time = seconds is not None
    bar = tqdm(total=float(seconds) if by_time else steps, disable=not progress, desc=f"{name}",
               unit="s" if by_time else "step", bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} {unit} {postfix}")
    try:
        while (seconds is None or state.elapsed < seconds) and (steps is None or state.step < steps):
            started = time.thread_time()
            state.update(state.batch(spec, device))
            spent = time.thread_time() - started
            state.elapsed += spent
            bar.update(min(spent, seconds - bar.n) if by_time else 1)
            done = (seconds is not None and state.elapsed >= seconds) or (steps is not None and state.step >= steps)
            if state.step % c["eval_every"] == 0 or done:
                scores = state.record(held_out)
                bar.set_postfix(steps=state.step, bits=f"{scores['bits']:.3g}", errors=f"{scores['errors']:.3g}")
    finally:
        bar.close()


def generalisation(model, lengths, n_sequences=500, seed=0):
    """Score ``model`` on ``n_sequences`` fresh copy sequences of each length in ``lengths``.

    The sequences come from one generator seeded with ``seed``, length after length. Returns one
    row per length: ``{"length", "n", "perfect_count", "perfect", "perfect_low", "perfect_high", "errors",
    "bits", "scored_bits"}`` (the perfect fraction's Wilson 95% interval, mean bit errors and bits per sequence:
    :func:`~ntm_course.experiments.evaluation.score`).
    """
    if not isinstance(n_sequences, int) or isinstance(n_sequences, bool) or n_sequences < 1:
        raise ValueError(f"n_sequences must be a whole number >= 1, got {n_sequences!r}")
    spec, generator = get_task("copy"), torch.Generator().manual_seed(seed)
    return [{"length": length, **score(model, spec.make(n_sequences, min_length=length, max_length=length,
                                                         generator=generator), chunk=250)}
            for length in lengths]
