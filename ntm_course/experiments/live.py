"""Lesson 9's live run: an NTM made of the learner's pieces and an LSTM, trained one after the other on copy for the
same CPU time, then tested on sequences twice as long as any they saw (the paper's section 4.1, in seconds).

Python::

    from ntm_course.experiments.live import generalisation, live_copy
    run = live_copy(pieces=my_pieces(), seed=9)                   # run.ntm, run.lstm, run.histories
    generalisation(run.ntm, [10, 20], n_sequences=500, seed=9)    # per length: perfect count, rate, interval

The recipe (:data:`RECIPE`, measured over seeds and piece sets by ``benchmarks/live_copy.py``) is
:func:`~ntm_course.experiments.training.train`'s own update (:class:`~ntm_course.experiments.state.TrainState`)
with options chosen for a short run: lengths 1-10, one per batch, a small memory and controller, Adam with a guard
against gradient spikes. The NTM makes the recipe's updates (or fewer, if a learner's slow pieces reach the
``seconds`` limit first); then the LSTM trains for as many CPU seconds of one torch thread as the NTM took, so the
LSTM, whose steps are cheaper, makes more of them in the same time.
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

    ``max_length``: training lengths are 1 to ``max_length``, one length drawn for each batch of ``batch_size``
    (``one_size_per_batch``: a batch runs for ``2L + 1`` steps rather than for its longest episode's); the NTM has
    ``N`` rows of width ``M`` and an LSTM controller of ``controller_size``; the LSTM baseline ``lstm_layers`` of
    ``lstm_size``. ``lr``, ``lr_halflife``, ``grad_clip_spikes``, ``lr_drop_below``: as in :func:`~ntm_course.experiments.training.train`.
    ``steps``: the NTM's updates. ``eval_every``: steps between the history's rows, scored on ``eval_size``
    held-out episodes (outside the clock).

    The controller is small on purpose: a larger one learned lengths 1-10 but not twice them on most seeds; one that
    cannot hold the sequence itself has to use the memory, and a program on the memory does not depend on the
    length (the measurements: ``benchmarks/README.md``).
    """
    max_length: int = 10
    N: int = 32
    M: int = 8
    controller_size: int = 16
    batch_size: int = 64
    lr: float = 5e-3
    lr_halflife: float = None
    grad_clip_spikes: float = 2.0
    lr_drop_below: float = None
    lstm_size: int = 256
    lstm_layers: int = 1
    one_size_per_batch: bool = True
    steps: int = 1200
    eval_every: int = 50
    eval_size: int = 64

    def config(self, model, seed):
        """The :func:`~ntm_course.experiments.config.make_config` of ``model`` (``"ntm"`` or ``"lstm"``)."""
        return make_config("copy", task_options={"max_length": self.max_length}, model=model, seed=seed,
                           N=self.N, M=self.M, controller_size=self.controller_size, hidden_size=self.lstm_size,
                           num_layers=self.lstm_layers, batch_size=self.batch_size, lr=self.lr,
                           lr_halflife=self.lr_halflife, grad_clip_spikes=self.grad_clip_spikes,
                           lr_drop_below=self.lr_drop_below,
                           one_size_per_batch=self.one_size_per_batch,
                           eval_every=self.eval_every, eval_size=self.eval_size)


RECIPE = Recipe()
SECONDS = 60.0
"""The NTM's default limit in CPU seconds: a learner's slower pieces stop there, before the recipe's steps."""


class LiveRun(NamedTuple):
    """What :func:`live_copy` returns: both trained models (in eval mode; ``lstm`` is None without the baseline),
    their histories (``{"NTM": rows, "LSTM": rows}``, rows as in :func:`~ntm_course.experiments.training.train`,
    ``seconds`` being CPU seconds of training) and the run's options (the recipe's, ``steps``, ``seconds``, ``seed``)."""
    ntm: torch.nn.Module
    lstm: torch.nn.Module
    histories: dict
    config: dict


def live_copy(pieces=None, steps=None, seconds=SECONDS, seed=0, recipe=RECIPE, progress=True, device=None,
              baseline=True, callback=None):
    """Train an NTM made of ``pieces`` on copy, then the LSTM baseline for the same CPU time; a :class:`LiveRun`.

    Args:
        pieces: the :class:`~ntm_course.pieces.Pieces` the NTM runs on (e.g. ``my_pieces()``; default the library's).
        steps: the NTM's updates (default the recipe's ``steps``) ...
        seconds: ... or fewer, if it has used this many CPU seconds of training first (``None``: no time limit).
        seed: seeds both models' initialisation and their batches (the same batches, in the same order).
        recipe: a :class:`Recipe` (default :data:`RECIPE`).
        progress: a progress bar per model (tqdm, the notebook kind inside Jupyter).
        device: where to train (default :func:`ntm_course.get_device`).
        baseline: also train the LSTM, for as many CPU seconds as the NTM took (its steps are cheaper, so it
            makes more of them).
        callback: ``callback(name, step, model)`` after every update of either model (``name``: "NTM" or "LSTM").

    The clock is the CPU time of the training updates on one torch thread (evaluations for the history not
    counted); the caller's thread count and random states are the same afterwards as before. The NTM's run is
    reproducible (the same seed and steps give the same model, unless ``seconds`` cut it short); the LSTM's
    length depends on the machine's speed.
    """
    steps = recipe.steps if steps is None else steps
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
    if seconds is not None and (not isinstance(seconds, (int, float)) or isinstance(seconds, bool)
                                or not seconds > 0):
        raise ValueError(f"seconds must be a number > 0 or None, got {seconds!r}")
    device = torch.device(device) if device is not None else get_device()
    config = {**asdict(recipe), "steps": steps, "seconds": seconds, "seed": seed}
    ntm, history = _run("ntm", recipe, seed, pieces, seconds, steps, device, progress, callback)
    run = LiveRun(ntm, None, {"NTM": history}, config)
    return add_baseline(run, progress, device, callback) if baseline else run


def add_baseline(run, progress=True, device=None, callback=None):
    """``run`` (a :class:`LiveRun` made with ``baseline=False``) with the LSTM baseline trained for as many CPU
    seconds as its NTM took, on the same batches; the arguments as in :func:`live_copy`.

    :func:`live_copy` calls it; a lesson may call it in a cell of its own, after the NTM's.
    """
    device = torch.device(device) if device is not None else next(run.ntm.parameters()).device
    recipe = Recipe(**{name: run.config[name] for name in Recipe.__dataclass_fields__})
    seconds = run.histories["NTM"][-1]["seconds"]            # however many steps they buy the LSTM
    lstm, history = _run("lstm", recipe, run.config["seed"], None, seconds, None, device, progress, callback)
    return run._replace(lstm=lstm, histories={**run.histories, "LSTM": history})


def _run(model, recipe, seed, pieces, seconds, steps, device, progress, callback):
    """Train a fresh ``model`` ("ntm" or "lstm") of ``recipe`` on one thread and forked random generators; return
    it in eval mode and its history."""
    with threads(1), rng_isolated(seed):
        state = TrainState.start(recipe.config(model, seed), device, pieces)
        _train(state, seconds, steps, device, model.upper(), progress, callback)
    state.model.eval()
    return state.model, state.history


def _train(state, seconds, steps, device, name, progress, callback):
    """Update ``state`` until its CPU clock reaches ``seconds`` or it has made ``steps`` updates (``None``: no such
    limit); a history row every ``eval_every`` updates and at the end."""
    from tqdm.auto import tqdm
    c = state.config
    spec = get_task("copy")
    held_out = batch_to(spec.make(c["eval_size"], **c["task_options"],
                                  generator=torch.Generator().manual_seed(c["seed"] + 1_000_000)), device)
    by_steps = steps is not None
    bar = tqdm(total=steps if by_steps else round(seconds, 1), disable=not progress, desc=name,
               unit="step" if by_steps else "s", bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total} "
                                                            "{unit} [{elapsed}] {postfix}")
    try:
        while (seconds is None or state.elapsed < seconds) and (steps is None or state.step < steps):
            started = time.thread_time()
            state.update(state.batch(spec, device))
            spent = time.thread_time() - started
            state.elapsed += spent
            bar.update(1 if by_steps else min(spent, bar.total - bar.n))
            if callback is not None:
                callback(name, state.step, state.model)
            done = (seconds is not None and state.elapsed >= seconds) or (by_steps and state.step >= steps)
            if state.step % c["eval_every"] == 0 or done:
                scores = state.record(held_out)
                bar.set_postfix_str(f"{state.step} steps, {state.elapsed:.1f} CPU s, held-out "
                                    f"{scores['errors']:.2f} bit errors/seq")
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
