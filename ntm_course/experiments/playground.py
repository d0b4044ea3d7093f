"""The playground's engine: a training run you can start, pause, resume and stop while the notebook stays free.

A :class:`Session` holds one small NTM, its optimiser and its data, and trains it in chunks of a few updates:
:meth:`Session.run_steps` runs them here and now; :meth:`Session.start` runs chunk after chunk in a background
thread until :meth:`Session.stop` (or ``max_steps``), and :meth:`Session.pause` / :meth:`Session.resume` hold and
release it between two chunks. After every chunk the session appends a row to its ``history`` (the training
cost in bits per sequence, held-out bit errors per sequence and the task's own metric), runs the model on a fixed
*probe* episode (:meth:`Session.probe`: the heads' read and write weightings) and calls its ``listeners`` (the
widget of :mod:`ntm_course.presentation.playground` redraws from them). A run is saved with the library's
checkpoint format (:func:`~ntm_course.experiments.checkpoints.save_checkpoint`) and loaded back, to go on
training (:meth:`Session.load`) or to look at (:func:`load_run`).

Tasks (:func:`playground_task`): the paper's copy, repeat copy and associative recall and the reverse copy of
:mod:`~ntm_course.experiments.tasks.reverse_copy`, at sizes a CPU learns in minutes (:data:`BUILT_IN`), or a task
the learner defines: a function ``make(batch_size, generator) -> (inputs (T, B, in), targets (T, B, out),
mask (T, B))`` that draws its random numbers from ``generator``, checked by :func:`custom_task`.

One update is the library's (:mod:`~ntm_course.experiments.training`): the cost in bits per sequence as the loss,
gradients clipped elementwise to ``grad_clip``, Adam. The same seed gives the same run, whether it ran in one call,
in chunks or in the thread; the caller's random generators are left alone (the model's initialisation draws from
forked ones, the data from the session's own generator).
"""
import math
import threading
import time
from typing import Callable, NamedTuple, Optional

import torch

from ..device import get_device, rng_isolated, threads
from ..ntm import NTM, count_parameters
from .checkpoints import load_checkpoint, save_checkpoint
from .config import make_config
from .state import TrainingDiverged
from .tasks import (TASKS, Batch, associative_recall_batch, bit_errors, bits_per_sequence, copy_batch,
                    repeat_copy_batch)
from .tasks.reverse_copy import reverse_copy_batch


class PlaygroundTask(NamedTuple):
    """A task the playground trains on.

    name: its label; make: ``make(batch_size, generator) -> Batch`` (or any ``(inputs, targets, mask)``);
    input_size, output_size: its channel counts; metric: ``metric(logits, targets, mask) -> number``, scored on
    the held-out episodes beside the bit errors (``None``: bit errors only); paper: the name of the paper task
    (:data:`~ntm_course.experiments.tasks.TASKS`) it is, with ``options`` its generator's arguments, or ``None``.
    """
    name: str
    make: Callable
    input_size: int
    output_size: int
    metric: Optional[Callable] = None
    paper: Optional[str] = None
    options: dict = {}


def _sized(make, options):
    """A built-in task: ``make`` with ``options`` fixed."""
    def sized(batch_size, generator=None):
        return make(batch_size, generator=generator, **options)
    return sized


_SIZES = {   # small enough to learn on a CPU in a few minutes
    "copy": (copy_batch, dict(min_length=1, max_length=6), 9, 8),
    "repeat_copy": (repeat_copy_batch, dict(min_length=1, max_length=4, min_repeats=1, max_repeats=3), 10, 9),
    "associative_recall": (associative_recall_batch, dict(min_items=2, max_items=4, item_size=2), 8, 6),
    "reverse_copy": (reverse_copy_batch, dict(min_length=1, max_length=6), 9, 8),
}
BUILT_IN = {name: PlaygroundTask(name, _sized(make, options), inputs, outputs,
                                 paper=name if name in TASKS else None, options=options)
            for name, (make, options, inputs, outputs) in _SIZES.items()}
"""The built-in tasks, by name, at the playground's sizes (copy and reverse copy: lengths 1-6)."""


def _shape(x):
    return tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__


def custom_task(make, name="my task", metric=None, batch_size=2):
    """A :class:`PlaygroundTask` from the learner's generator ``make(batch_size, generator)``, checked.

    ``make`` must return ``(inputs (T, B, in), targets (T, B, out), mask (T, B))`` (a tuple or a
    :class:`~ntm_course.experiments.tasks.Batch`): float tensors of the same ``T`` and ``B = batch_size``, targets
    in [0, 1] (they are scored with the cross-entropy), a mask of 0s and 1s with at least one 1, and the same
    episodes for the same generator state (every random number drawn from ``generator``). ``metric``, if given,
    is called as ``metric(logits, targets, mask)`` and must return one number. Any other result is a ValueError
    naming the argument (``task`` or ``metric``) and the shapes it got.
    """
    if not callable(make):
        raise ValueError(f"task must be a built-in task's name ({', '.join(BUILT_IN)}) or a function "
                         f"make(batch_size, generator) -> (inputs, targets, mask), got {type(make).__name__}")
    label = getattr(make, "__name__", "task")

    def draw(seed):
        try:
            out = make(batch_size, generator=torch.Generator().manual_seed(seed))
        except Exception as error:
            raise ValueError(f"task: {label}(batch_size={batch_size}, generator=...) raised "
                             f"{type(error).__name__}: {error}") from error
        if not isinstance(out, (tuple, list)) or len(out) != 3:
            raise ValueError(f"task: {label} must return (inputs, targets, mask), got "
                             f"{type(out).__name__}{' of ' + str(len(out)) if isinstance(out, (tuple, list)) else ''}")
        return Batch(*out)

    first = draw(0)
    inputs, targets, mask = first
    got = f"got inputs {_shape(inputs)}, targets {_shape(targets)}, mask {_shape(mask)}"
    if not all(isinstance(x, torch.Tensor) for x in first):
        raise ValueError(f"task: {label} must return three torch tensors, {got}")
    if inputs.dim() != 3 or targets.dim() != 3 or mask.dim() != 2:
        raise ValueError(f"task: {label} must return inputs (T, B, in), targets (T, B, out) and mask (T, B), {got}")
    if inputs.shape[:2] != (inputs.shape[0], batch_size) or targets.shape[:2] != inputs.shape[:2] \
            or mask.shape != inputs.shape[:2] or inputs.shape[0] == 0:
        raise ValueError(f"task: {label}(batch_size={batch_size}) must return T >= 1 steps and B = {batch_size} "
                         f"in every tensor, the same T and B in all three, {got}")
    if not all(x.is_floating_point() for x in first):
        raise ValueError(f"task: {label} must return float tensors (torch.zeros(...) is float), got "
                         f"{inputs.dtype}, {targets.dtype}, {mask.dtype}")
    if not all(bool(torch.isfinite(x).all()) for x in first):
        raise ValueError(f"task: {label} returned a NaN or an infinity")
    if bool(((targets < 0) | (targets > 1)).any()):
        raise ValueError(f"task: {label}'s targets must lie in [0, 1] (bits or probabilities), got values from "
                         f"{targets.min().item():g} to {targets.max().item():g}")
    if bool(((mask != 0) & (mask != 1)).any()) or not bool(mask.any()):
        raise ValueError(f"task: {label}'s mask must hold 0s and 1s, with a 1 at every step whose output is "
                         f"scored, got {int(mask.count_nonzero())} nonzero of {mask.numel()}")
    again = draw(0)
    if any(a.shape != b.shape or not torch.equal(a, b) for a, b in zip(first, again)):
        raise ValueError(f"task: {label} gave different episodes for the same generator state: draw every random "
                         f"number from its generator argument (torch.randint(..., generator=generator))")
    other = draw(1)
    if (other.inputs.shape[2], other.targets.shape[2]) != (inputs.shape[2], targets.shape[2]):
        raise ValueError(f"task: {label} must give every batch the same channel counts: inputs {inputs.shape[2]} "
                         f"and targets {targets.shape[2]} wide once, {other.inputs.shape[2]} and "
                         f"{other.targets.shape[2]} another time")
    if metric is not None:
        _score(metric, targets * 10 - 5, first)
    return PlaygroundTask(name, make, inputs.shape[2], targets.shape[2], metric)


def _score(metric, logits, batch):
    """``metric(logits, targets, mask)`` as a float; ValueError when it is not one number."""
    if not callable(metric):
        raise ValueError(f"metric must be a function metric(logits, targets, mask) -> number, got "
                         f"{type(metric).__name__}")
    value = metric(logits, batch.targets, batch.mask)
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"metric must return one number for logits {_shape(logits)}, targets "
                         f"{_shape(batch.targets)} and mask {_shape(batch.mask)}, got {_shape(value)}")
    return float(value)


def playground_task(task, metric=None):
    """``task`` as a :class:`PlaygroundTask`: a built-in's name (:data:`BUILT_IN`), a :class:`PlaygroundTask`, or the
    learner's generator function (:func:`custom_task`, with ``metric``)."""
    if isinstance(task, PlaygroundTask):
        return task
    if isinstance(task, str):
        if task not in BUILT_IN:
            raise ValueError(f"task must be one of {list(BUILT_IN)} or a function make(batch_size, generator), "
                             f"got {task!r}")
        return BUILT_IN[task]._replace(metric=metric)
    return custom_task(task, getattr(task, "__name__", "my task"), metric)


PROBE_SEED, HELD_OUT_SEED = 12345, 54321


def probe_episode(task, candidates=16):
    """The probe: of ``candidates`` episodes of ``task`` drawn from a fixed seed, the one with the most scored steps
    (the longest answer, where a head's walk shows best), as a batch of one, up to its last scored step."""
    batch = Batch(*task.make(candidates, generator=torch.Generator().manual_seed(PROBE_SEED)))
    b = int(batch.mask.sum(dim=0).argmax())
    end = int(batch.mask[:, b].nonzero().max()) + 1
    return Batch(*(t[:end, b:b + 1] for t in batch))


MODEL_OPTIONS = ("controller", "controller_size", "N", "M", "num_read_heads", "num_write_heads")


class Session:
    """One playground run: a small NTM learning ``task``, trained in chunks here or in a background thread.

    Args:
        task: a built-in task's name (``"copy"``, ``"repeat_copy"``, ``"associative_recall"``,
            ``"reverse_copy"``), a :class:`PlaygroundTask`, or a generator function (see :func:`custom_task`).
        metric: the task's own ``metric(logits, targets, mask) -> number`` (optional), recorded in the history.
        controller ("lstm" or "feedforward"), controller_size, N, M, num_read_heads, num_write_heads: the NTM.
        lr: Adam's learning rate; batch_size: episodes per update; grad_clip: the elementwise gradient clip.
        seed: the model's initialisation and the data; the same seed gives the same run.
        chunk: updates per chunk (one history row, one probe, the listeners called, after each).
        max_steps: the thread stops by itself after this many updates (``None``: when stopped).
        eval_size: held-out episodes scored after each chunk. device: default :func:`ntm_course.get_device`.
        pieces: a :class:`~ntm_course.pieces.Pieces` (``my_pieces()``): the NTM runs on the learner's functions.
        fast: train on the fused memory step (``model.fast``, :mod:`ntm_course.fused`) where it applies: the
            library's pieces, on a CPU (about 3x the eager step's speed; the learner's own pieces run eagerly).

    ``status`` is ``"ready"``, ``"running"``, ``"paused"``, ``"stopped"``, ``"finished"`` (``max_steps`` reached) or
    ``"failed"`` (``error`` holds the exception, e.g. :class:`~ntm_course.experiments.state.TrainingDiverged`).
    """

    def __init__(self, task="copy", metric=None, controller="lstm", controller_size=32, N=16, M=8, num_read_heads=1,
                 num_write_heads=1, lr=3e-3, batch_size=16, grad_clip=10.0, seed=0, chunk=10, max_steps=None,
                 eval_size=64, device=None, pieces=None, fast=True):
        self.task = playground_task(task, metric)
        for name, value in (("chunk", chunk), ("batch_size", batch_size), ("eval_size", eval_size)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
        if max_steps is not None and (isinstance(max_steps, bool) or not isinstance(max_steps, int) or max_steps < 1):
            raise ValueError(f"max_steps must be None or an integer >= 1, got {max_steps!r}")
        if not (isinstance(lr, (int, float)) and 0 < lr < math.inf):
            raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
        # the run's configuration, in the library's form (make_config checks every model option's range)
        options = dict(controller=controller, controller_size=controller_size, N=N, M=M,
                       num_read_heads=num_read_heads, num_write_heads=num_write_heads, lr=float(lr),
                       batch_size=batch_size, grad_clip=float(grad_clip), seed=seed)
        paper = self.task.paper
        self.config = {**make_config(paper or "copy", self.task.options if paper else None, **options),
                       "task": paper or self.task.name}
        if not paper:
            self.config["task_options"] = {}
        self.chunk, self.max_steps, self.seed = chunk, max_steps, seed
        self.device = torch.device(device) if device is not None else get_device()
        with rng_isolated(seed):
            model = NTM(self.task.input_size, self.task.output_size, pieces=pieces,
                        **{k: self.config[k] for k in MODEL_OPTIONS})
        self.model = model.to(self.device)
        self.model.fast = fast
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=float(lr))
        self.data = torch.Generator().manual_seed(seed)
        self.held_out = Batch(*self.task.make(eval_size, generator=torch.Generator().manual_seed(HELD_OUT_SEED)))
        self.probe_batch = probe_episode(self.task)
        self.step, self.seconds, self.history = 0, 0.0, []
        self.status, self.error, self.last_probe = "ready", None, None
        self.listeners = []
        self._lock = threading.Lock()
        self._go, self._stop = threading.Event(), threading.Event()
        self._thread, self._active = None, False

    # ---- training ---------------------------------------------------------------------------------------

    @property
    def parameters(self):
        """The model's number of trainable parameters."""
        return count_parameters(self.model)

    def _update(self):
        """One optimiser step on a fresh batch, through the model's ``training_step`` piece (the learner's own when
        they wrote one, else :func:`ntm_course.step.training_step`); returns ``(loss, bit errors)`` per sequence."""
        inputs, targets, mask = (t.to(self.device) for t in self.task.make(self.config["batch_size"],
                                                                            generator=self.data))
        self.model.train()
        seen = {}

        def loss_of():
            seen["logits"] = self.model(inputs)
            loss = bits_per_sequence(seen["logits"], targets, mask)
            if not torch.isfinite(loss):
                raise TrainingDiverged(f"the loss is {loss.item()} at step {self.step + 1}; try a smaller lr")
            return loss
        loss = self.model.pieces.training_step(self.model, self.optimizer, loss_of, self.config["grad_clip"])
        self.step += 1
        loss = loss.detach() if isinstance(loss, torch.Tensor) else loss
        return float(loss), bit_errors(seen["logits"].detach(), targets, mask).item()

    def _chunk(self, n):
        """``n`` updates, then a history row and a fresh probe (the caller then calls the listeners, without the
        lock: pause() never waits for a redraw)."""
        started, losses, errors = time.perf_counter(), [], []
        for _ in range(n):
            loss, wrong = self._update()
            losses.append(loss)
            errors.append(wrong)
        self.seconds += time.perf_counter() - started
        row = {"step": self.step, "sequences": self.step * self.config["batch_size"], "seconds": self.seconds,
               "loss": sum(losses) / n, "train_errors": sum(errors) / n, **self.evaluate()}
        self.history.append(row)
        self.last_probe = self._probe()

    def _notify(self):
        for listener in list(self.listeners):
            listener(self)

    def evaluate(self):
        """The model on the held-out episodes: ``{"eval_bits", "eval_errors"}`` per sequence, and ``"metric"`` (the
        task's own) when it has one."""
        batch = Batch(*(t.to(self.device) for t in self.held_out))
        self.model.eval()
        with torch.no_grad():
            logits = self.model(batch.inputs)
        scores = {"eval_bits": bits_per_sequence(logits, batch.targets, batch.mask).item(),
                  "eval_errors": bit_errors(logits, batch.targets, batch.mask).item()}
        if self.task.metric is not None:
            scores["metric"] = _score(self.task.metric, logits.cpu(), self.held_out)
        return scores

    def run_steps(self, n):
        """Train ``n`` updates now, in this thread, in chunks of ``chunk`` (a history row after each); returns the
        session. A RuntimeError while the background thread runs."""
        if self.running:
            raise RuntimeError("the session is training in its thread: pause() or stop() it first")
        while n > 0:
            size = min(n, self.chunk)
            with self._lock:
                self._chunk(size)
            self._notify()
            n -= size
        return self

    # ---- the background thread ----------------------------------------------------------------------------

    @property
    def running(self):
        """True while the background thread trains or is paused (listeners called after it ended see False)."""
        return self._active

    def start(self, threads=None):
        """Train in a background thread, chunk after chunk, until :meth:`stop` or ``max_steps``; returns at once.
        ``threads``: torch's CPU thread count while it trains (the count before comes back when the thread ends;
        models this small train fastest on one); ``None`` leaves it alone. A RuntimeError when it already runs."""
        if self.running:
            raise RuntimeError("the session is already training: pause(), resume() or stop() it")
        self._stop.clear()
        self._go.set()
        self.status, self.error, self._active = "running", None, True
        self._thread = threading.Thread(target=self._loop, args=(threads,), name="ntm-playground", daemon=True)
        self._thread.start()
        return self

    def _loop(self, n_threads):
        try:
            with threads(n_threads):
                self._chunks()
        except Exception as error:  # the thread's failure is the session's to report, not a lost traceback
            self.error, self.status = error, "failed"
        finally:
            self._active = False
            try:
                self._notify()                      # once more: the run has ended
            except Exception as error:              # a listener's failure must not hide the run's own
                self.error = self.error or error

    def _chunks(self):
        while not self._stop.is_set():
            if not self._go.wait(0.05):
                continue
            with self._lock:      # pause() takes the lock: once it has, no chunk runs until resume()
                if self._stop.is_set() or not self._go.is_set():
                    continue
                left = self.chunk if self.max_steps is None else min(self.chunk, self.max_steps - self.step)
                if left <= 0:
                    self.status = "finished"
                    return
                self._chunk(left)
            self._notify()
        self.status = "stopped"

    def pause(self):
        """Hold the thread after its current chunk; when this returns, no update runs until :meth:`resume`."""
        if self.running:
            self._go.clear()
            with self._lock:
                if self.status == "running":
                    self.status = "paused"
        return self

    def resume(self):
        """Let a paused thread train again."""
        if self.running and self.status == "paused":
            self.status = "running"
            self._go.set()
        return self

    def stop(self, timeout=30.0):
        """End the thread after its current chunk and wait for it (``timeout`` seconds at most); returns the session.
        A stopped session can :meth:`start` again and goes on where it stopped."""
        self._stop.set()
        self._go.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                raise RuntimeError(f"the training thread did not stop within {timeout} s")
        if self.status in ("running", "paused"):
            self.status = "stopped"
        return self

    def wait(self, timeout=None):
        """Wait until the thread ends by itself (``max_steps``); returns the session."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    # ---- what the heads do ------------------------------------------------------------------------------

    def _probe(self):
        inputs = self.probe_batch.inputs.to(self.device)
        self.model.eval()
        with torch.no_grad():
            logits, trace = self.model.trace(inputs)
        return {"inputs": self.probe_batch.inputs[:, 0], "targets": self.probe_batch.targets[:, 0],
                "mask": self.probe_batch.mask[:, 0], "outputs": torch.sigmoid(logits.cpu()[:, 0]),
                "read_weights": trace["read_weights"].cpu()[:, 0],
                "write_weights": trace["write_weights"].cpu()[:, 0] if "write_weights" in trace else None}

    def probe(self):
        """The model on the fixed probe episode (the same one all run long): ``inputs (T, in)``, ``targets`` and
        ``outputs (T, out)`` (probabilities), ``mask (T,)``, ``read_weights (T, R, N)`` and ``write_weights
        (T, W, N)`` (``None`` without write heads)."""
        with self._lock:
            self.last_probe = self._probe()
        return self.last_probe

    # ---- saving and loading ------------------------------------------------------------------------------

    def state_dict(self):
        return {"config": dict(self.config), "model": {k: v.cpu() for k, v in self.model.state_dict().items()},
                "optimizer": self.optimizer.state_dict(), "data": self.data.get_state(),
                "history": [dict(row) for row in self.history],
                "playground": {"task": self.task.name, "input_size": self.task.input_size,
                               "output_size": self.task.output_size, "step": self.step, "seconds": self.seconds,
                               "chunk": self.chunk}}

    def save(self, path):
        """Save the run (weights, optimiser, data generator, history, configuration) to ``path`` with
        :func:`~ntm_course.experiments.checkpoints.save_checkpoint`; returns the path. A paper task's checkpoint also
        loads with :func:`ntm_course.experiments.training.load_model`. Not while the thread trains (pause first)."""
        if self.running and self.status == "running":
            raise RuntimeError("pause() or stop() the session before saving it")
        with self._lock:
            save_checkpoint(path, self.state_dict())
        return path

    @classmethod
    def load(cls, path, task=None, metric=None, device=None, pieces=None, fast=True):
        """A session that goes on from a saved one exactly as the saved one would have (same weights, optimiser,
        data and history; with the same ``fast``). ``task``: needed when the run was on the learner's own generator
        (functions are not saved): the same generator again."""
        run = _read(path)
        saved = run["playground"]
        if task is None:
            if saved["task"] not in BUILT_IN:
                raise ValueError(f"task: {path} was trained on {saved['task']!r}, not a built-in task; pass its "
                                 f"generator again: Session.load(path, task=make)")
            task = saved["task"]
        task = playground_task(task, metric)
        if (task.input_size, task.output_size) != (saved["input_size"], saved["output_size"]):
            raise ValueError(f"task: {path} has {saved['input_size']} inputs and {saved['output_size']} outputs, "
                             f"the task given {task.input_size} and {task.output_size}")
        c = run["config"]
        session = cls(task._replace(name=saved["task"]), controller=c["controller"],
                      controller_size=c["controller_size"], N=c["N"], M=c["M"], num_read_heads=c["num_read_heads"],
                      num_write_heads=c["num_write_heads"], lr=c["lr"], batch_size=c["batch_size"],
                      grad_clip=c["grad_clip"], seed=c["seed"], chunk=saved.get("chunk", 10), device=device,
                      pieces=pieces, fast=fast)
        session.model.load_state_dict(run["model"])
        session.optimizer.load_state_dict(run["optimizer"])
        session.data.set_state(run["data"])
        session.history, session.step, session.seconds = run["history"], saved["step"], saved["seconds"]
        session.last_probe = session._probe()
        return session


def _read(path):
    state = load_checkpoint(path)
    if "playground" not in state:
        raise ValueError(f"checkpoint {str(path)!r} is not a playground run (no 'playground' entry); "
                         f"load it with ntm_course.experiments.training.load_model")
    return state


class SavedRun(NamedTuple):
    """A saved playground run, to look at: the model (eval mode), its task's name, configuration and history."""
    model: torch.nn.Module
    task: str
    config: dict
    history: list


def load_run(path, device=None):
    """The model, task name, configuration and history saved by :meth:`Session.save` (no generator needed): a
    :class:`SavedRun`. For the model explorer: ``model_explorer({"mine": (run.model, run.task)})`` when
    ``run.task`` is one of the paper's tasks."""
    state = _read(path)
    saved, config = state["playground"], state["config"]
    with rng_isolated():
        model = NTM(saved["input_size"], saved["output_size"], **{k: config[k] for k in MODEL_OPTIONS})
    model.load_state_dict(state["model"])
    return SavedRun(model.to(device or get_device()).eval(), saved["task"], config, state["history"])


class HeadPath(NamedTuple):
    """Where one head looks at each step: ``rows`` (the row of its largest weight, ``T`` ints), ``moves`` (how far
    that row moved from the step before, ``T - 1`` ints, circular: in ``[-N//2, N//2)``), ``focus`` (that largest
    weight, ``T`` floats: near 1 when the head looks at one row) and ``runs``: the moves run-length encoded,
    ``[(move, how many steps in a row), ...]``, the head's algorithm in a line."""
    rows: list
    moves: list
    focus: list
    runs: list


def head_path(weights, head=0):
    """Read a head's walk over the memory from its weightings ``(T, N)`` (or ``(T, H, N)``, taking ``head``), e.g.
    a probe's ``read_weights``. A trained copy NTM's write head moves +1 at every input step; its read head waits,
    then walks the same rows +1 at every answer step."""
    w = weights.detach().cpu()
    if w.dim() == 3:
        w = w[:, head]
    if w.dim() != 2 or w.shape[0] == 0:
        raise ValueError(f"weights must be (T, N) or (T, H, N) with T >= 1, got shape {tuple(weights.shape)}")
    N = w.shape[1]
    focus, rows = w.max(dim=1)
    rows = rows.tolist()
    moves = [(b - a + N // 2) % N - N // 2 for a, b in zip(rows, rows[1:])]
    runs = []
    for move in moves:
        if runs and runs[-1][0] == move:
            runs[-1] = (move, runs[-1][1] + 1)
        else:
            runs.append((move, 1))
    return HeadPath(rows, moves, focus.tolist(), runs)
