"""The playground: a dashboard that trains a small NTM live in the notebook and shows what it learns.

Pick a task (the built-ins, or your own generator), the memory's size, the heads, the controller and the learning
rate; press Start, Pause (then Resume) and Stop. The learning curve and the heads' read and write weightings on a
fixed probe episode redraw as it learns, while the notebook stays free: the training runs in a background thread
(:class:`ntm_course.experiments.playground.Session`, where all the logic lives and is tested). Save writes the run
to a checkpoint; Explore loads it into the model explorer
(:func:`ntm_course.presentation.widgets_models.model_explorer`).

This module is wiring: the figures are :func:`plot_curve` and :func:`plot_probe`, pure functions of a session's
history and probe. Needs the ``lessons`` extra, and works with ipywidgets 7.7 and 8.
"""
import html
import threading
import time

from ..experiments.playground import BUILT_IN, Session, load_run, playground_task
from ..experiments.tasks import TASKS
from ..extras import needs


with needs("lessons", __name__):
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    from . import viz_models
    from .captions import figure_png
    from .widgets import slider
    from .widgets_models import model_explorer


CONTROLLERS = {"LSTM": "lstm", "feed-forward": "feedforward"}


# ---- pure functions: what the dashboard draws ---------------------------------------------------------------

def plot_curve(history, title="Learning curve"):
    """The run so far: the training cost (bits per sequence, on a log scale once it spans a factor of 10) and the
    held-out bit errors per sequence against the updates done, from a session's ``history`` rows. An empty history
    draws empty axes."""
    fig = Figure(figsize=(9.0, 2.8), layout="constrained")
    cost, errors = fig.subplots(1, 2)
    steps = [row["step"] for row in history]
    cost.plot(steps, [row["loss"] for row in history], marker=".", label="training batches")
    cost.plot(steps, [row["eval_bits"] for row in history], marker=".", linestyle="--", label="held-out")
    errors.plot(steps, [row["eval_errors"] for row in history], marker=".", color="C2", label="held-out")
    costs = [row[k] for row in history for k in ("loss", "eval_bits")]
    if costs and min(costs) > 0 and max(costs) > 10 * min(costs):      # a log scale once it spans a decade
        cost.set_yscale("log")
    cost.set(title="cost (bits per sequence)", xlabel="updates")
    errors.set(title="bit errors per sequence", xlabel="updates", ylim=(0, None))
    for ax in (cost, errors):
        ax.grid(True, alpha=0.3)
        ax.legend(loc="upper right", fontsize="small")
    if not history:
        cost.text(0.5, 0.5, "press Start", ha="center", va="center", transform=cost.transAxes)
    fig.suptitle(title)
    return fig


def plot_probe(probe, title="The probe episode"):
    """A session's probe (:meth:`~ntm_course.experiments.playground.Session.probe`): inputs, targets and outputs, and
    the first read and write head's weightings over time, every memory row drawn (the picture the learner reads the
    algorithm from)."""
    outputs = probe["outputs"] * probe["mask"].unsqueeze(1)
    return viz_models.plot_episode(probe["inputs"], probe["targets"], outputs, probe["read_weights"],
                                   probe["write_weights"], title=title, rows=None)


def summary(session):
    """One line about a session's model and run, as the dashboard shows it."""
    c, task = session.config, session.task
    heads = f"{c['num_read_heads']} read / {c['num_write_heads']} write head" \
            f"{'s' if c['num_read_heads'] + c['num_write_heads'] > 2 else ''}"
    controller = "LSTM" if c["controller"] == "lstm" else "feed-forward"
    return (f"{task.name}: {task.input_size} inputs, {task.output_size} outputs · memory {c['N']} × {c['M']}, "
            f"{heads}, {controller} controller of {c['controller_size']} · {session.parameters:,} parameters · "
            f"lr {c['lr']:g}")


def progress(session):
    """The run's state in a line: status, updates, sequences, seconds and the latest held-out scores."""
    line = f"{session.status} · step {session.step}"
    if session.history:
        row = session.history[-1]
        line += (f" · {row['sequences']:,} sequences in {row['seconds']:.1f} s · held-out: "
                 f"{row['eval_bits']:.2f} bits, {row['eval_errors']:.2f} bit errors per sequence")
        if "metric" in row:
            line += f", metric {row['metric']:.3g}"
    if session.error is not None:
        line += f" · {type(session.error).__name__}: {session.error}"
    return line


# ---- the dashboard ----------------------------------------------------------------------------------------------

class Playground(widgets.VBox):
    """The dashboard; :func:`playground` makes one. ``session`` is the run it shows (a new one whenever a control
    changes before Start or after Stop); ``controls``, the buttons (``start``, ``pause``, ``stop``, ``save``,
    ``explore``), ``status``, ``about``, and the images ``curve`` and ``heads`` are its widgets; ``figures`` the
    latest ``(curve, probe)`` matplotlib figures."""

    def __init__(self, tasks=None, path="playground.pt", redraw_every=0.5, n_threads=1, **session_options):
        self.tasks = {**dict(tasks or {}), **{name: name for name in BUILT_IN}}
        self.options = dict(session_options)
        self.redraw_every, self.n_threads = redraw_every, n_threads
        first = next(iter(tasks)) if tasks else "copy"
        o = {**dict(controller="lstm", controller_size=32, N=16, M=8, num_read_heads=1, num_write_heads=1,
                    lr=3e-3, seed=0), **self.options}
        self.controls = {
            "task": widgets.Dropdown(options=list(self.tasks), value=first, description="task"),
            "N": slider(widgets.IntSlider, "memory rows N", o["N"], min=4, max=64),
            "M": slider(widgets.IntSlider, "row width M", o["M"], min=2, max=32),
            "num_read_heads": slider(widgets.IntSlider, "read heads", o["num_read_heads"], min=1, max=4),
            "num_write_heads": slider(widgets.IntSlider, "write heads", o["num_write_heads"], min=0, max=4),
            "controller": widgets.Dropdown(options=list(CONTROLLERS), description="controller",
                                           value=next(k for k, v in CONTROLLERS.items() if v == o["controller"])),
            "controller_size": slider(widgets.IntSlider, "controller size", o["controller_size"], min=4, max=128),
            "lr": slider(widgets.FloatLogSlider, "learning rate", o["lr"], base=10, min=-4, max=-1, step=0.1),
            "seed": widgets.IntText(value=o["seed"], description="seed"),
        }
        for control in self.controls.values():
            control.continuous_update = False
            control.observe(self._settings_changed, names="value")
        self.start = widgets.Button(description="Start", button_style="success", icon="play")
        self.pause = widgets.Button(description="Pause", icon="pause", disabled=True)
        self.stop = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.path = widgets.Text(value=str(path), description="checkpoint")
        self.save = widgets.Button(description="Save", icon="save", disabled=True)
        self.explore = widgets.Button(description="Explore", icon="search", disabled=True)
        self.start.on_click(lambda _: self.on_start())
        self.pause.on_click(lambda _: self.on_pause())
        self.stop.on_click(lambda _: self.on_stop())
        self.save.on_click(lambda _: self.on_save())
        self.explore.on_click(lambda _: self.on_explore())
        self.about, self.status, self.message = widgets.HTML(), widgets.HTML(), widgets.HTML()
        self.curve = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.heads = widgets.Image(format="png", layout=widgets.Layout(max_width="100%"))
        self.explorer = widgets.VBox()
        self.figures = (None, None)
        self._drawn, self._draw_lock = 0.0, threading.Lock()
        self.session = None
        self._new_session()
        buttons = widgets.HBox([self.start, self.pause, self.stop])
        files = widgets.HBox([self.path, self.save, self.explore])
        super().__init__([*self.controls.values(), self.about, buttons, self.status, self.message, self.curve,
                          self.heads, files, self.explorer])

    # what the controls build
    def settings(self):
        """The session options the controls describe."""
        values = {name: control.value for name, control in self.controls.items()}
        values["controller"] = CONTROLLERS[values["controller"]]
        return values

    def _new_session(self):
        values = self.settings()
        task = self.tasks[values.pop("task")]
        metric = None
        if isinstance(task, tuple):
            task, metric = task
        name = self.controls["task"].value
        try:
            task = playground_task(task, metric)._replace(name=name) if not isinstance(task, str) \
                else playground_task(task)
            session = Session(task, **{**self.options, **values})
        except ValueError as error:
            self._say(str(error), error=True)
            return
        self.session = session
        session.listeners.append(self._chunk_done)
        session.probe()
        self._say("")
        self.about.value = html.escape(summary(session))
        self._show(force=True)

    def _settings_changed(self, change=None):
        if self.session is not None and self.session.running:
            return                                     # the controls are locked while it trains
        self._new_session()
        self._buttons()

    # what the buttons do
    def on_start(self):
        if self.session is None or self.session.running:
            return
        self.session.start(threads=self.n_threads)
        self._buttons()
        self._show(force=True)

    def on_pause(self):
        s = self.session
        if s.status == "running":
            s.pause()
        elif s.status == "paused":
            s.resume()
        self._buttons()
        self._show(force=True)

    def on_stop(self):
        self.session.stop()
        self._buttons()
        self._show(force=True)

    def on_save(self):
        try:
            self.session.save(self.path.value)
        except (OSError, RuntimeError, ValueError) as error:
            self._say(f"could not save: {error}", error=True)
            return
        self._say(f"saved step {self.session.step} to {html.escape(self.path.value)}")
        self._buttons()

    def on_explore(self):
        """Load the saved checkpoint into the model explorer, shown under the dashboard."""
        try:
            self.explorer.children = (explore(self.path.value),)
        except ValueError as error:
            self._say(str(error), error=True)

    # drawing
    def _chunk_done(self, session):
        """A session's listener: called in the training thread after every chunk."""
        self._show(force=not session.running)
        if not session.running:
            self._buttons()

    def _show(self, force=False):
        """Redraw the status line always, the figures at most every ``redraw_every`` seconds (or when ``force``)."""
        s = self.session
        self.status.value = f"<b>{html.escape(progress(s))}</b>"
        if not force and time.monotonic() - self._drawn < self.redraw_every:
            return
        with self._draw_lock:
            self._drawn = time.monotonic()
            probe = s.last_probe
            curve = plot_curve(s.history, title=f"{s.task.name}, step {s.step}")
            heads = plot_probe(probe, title=f"the probe episode at step {s.step}")
            self.curve.value, self.heads.value = figure_png(curve), figure_png(heads)
            self.figures = (curve, heads)

    def _buttons(self):
        s = self.session
        training = s is not None and s.running
        for control in self.controls.values():
            control.disabled = training
        self.start.disabled = s is None or training or s.status == "failed"
        self.start.description = "Start" if s is None or s.step == 0 else "Continue"
        self.pause.disabled = not training
        self.pause.description = "Resume" if s is not None and s.status == "paused" else "Pause"
        self.stop.disabled = not training
        self.save.disabled = s is None or s.step == 0 or (training and s.status == "running")
        self.explore.disabled = s is None or s.step == 0

    def _say(self, text, error=False):
        self.message.value = f"<b style='color:#b00'>{html.escape(text)}</b>" if error else text

    def close_session(self):
        """Stop the training thread, if any (a notebook that is done with the dashboard)."""
        if self.session is not None:
            self.session.stop()
            self._buttons()


def playground(tasks=None, path="playground.pt", redraw_every=0.5, threads=1, **session_options):
    """The playground dashboard.

    Args:
        tasks: your own tasks, ``{name: make}`` or ``{name: (make, metric)}`` (see
            :func:`ntm_course.experiments.playground.custom_task`), offered before the built-in ones.
        path: where Save writes the run (and Explore reads it).
        redraw_every: seconds between two redraws of the figures while it trains (the status line follows every
            chunk).
        threads: torch's CPU thread count while it trains (the caller's count comes back when it stops); models
            this small run fastest on one. ``None`` leaves it alone.
        session_options: defaults for :class:`~ntm_course.experiments.playground.Session` (``chunk``, ``batch_size``,
            ``max_steps``, ``controller_size``, ...).
    """
    return Playground(tasks, path, redraw_every, threads, **session_options)


def explore(path):
    """A saved playground run in the model explorer: ``model_explorer({label: (model, task)})``. A ValueError when
    the run's task is not one of the paper's (the explorer sizes episodes by the paper tasks' own settings)."""
    run = load_run(path)
    if run.task not in TASKS:
        raise ValueError(f"the model explorer shows the paper's tasks ({', '.join(sorted(TASKS))}); this run is on "
                         f"{run.task!r}: look at it in the playground's probe instead")
    return model_explorer({f"playground: {run.task}, step {run.history[-1]['step'] if run.history else 0}":
                           (run.model, run.task)})


__all__ = ["playground", "Playground", "plot_curve", "plot_probe", "summary", "progress", "explore"]
