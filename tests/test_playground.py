"""The playground (ntm_course.experiments.playground, ntm_course.presentation.playground) and the reverse-copy task:
a run is reproducible from its seed whether it trains in one call, in chunks or in its thread; pause holds it, stop
ends its thread; a learner's task is checked with errors that name the argument and the shapes; a saved run loads
back and goes on exactly; the dashboard's controls and buttons drive the session (headless, as test_widgets does;
tests/test_browser_playground.py clicks them in JupyterLab)."""
import threading
import time

import pytest
import torch

from ntm_course.experiments.playground import BUILT_IN, Session, custom_task, load_run, playground_task
from ntm_course.experiments.tasks import copy_batch
from ntm_course.experiments.tasks.reverse_copy import reverse_copy_batch
from ntm_course.experiments.training import load_model
from ntm_course.presentation.playground import (Playground, explore, playground, plot_curve, plot_probe, progress,
                                                summary)
from ntm_course.presentation.widgets import LiveFigure


SMALL = dict(N=8, M=4, controller_size=8, batch_size=4, eval_size=8, chunk=3, device="cpu")   # CPU: bit-for-bit


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


def weights(session):
    return {k: v.clone() for k, v in session.model.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def wait_for(condition, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def sort_by_key(batch_size, generator=None, length=3, width=3):
    """A learner's task: vectors with a key each; answer them in the order of their keys."""
    keys = torch.rand(length, batch_size, generator=generator)
    bits = torch.randint(0, 2, (length, batch_size, width), generator=generator).float()
    T = 2 * length + 1
    inputs, targets, mask = torch.zeros(T, batch_size, width + 2), torch.zeros(T, batch_size, width), \
        torch.zeros(T, batch_size)
    inputs[:length, :, :width], inputs[:length, :, width] = bits, keys
    inputs[length, :, width + 1] = 1.0
    order = keys.argsort(dim=0)
    targets[length + 1:] = bits.gather(0, order.unsqueeze(2).expand(-1, -1, width))
    mask[length + 1:] = 1.0
    return inputs, targets, mask


def whole_sequences(logits, targets, mask):
    """A learner's metric: the share of sequences without a wrong bit."""
    wrong = (((logits > 0).float() != targets).any(dim=2).float() * mask).sum(dim=0)
    return (wrong == 0).float().mean()


# --- the reverse-copy task ---------------------------------------------------------------------------------

def test_reverse_copy_is_copy_with_the_answer_reversed():
    rev, ref = reverse_copy_batch(6, 1, 7, generator=gen(3)), copy_batch(6, 1, 7, generator=gen(3))
    assert torch.equal(rev.inputs, ref.inputs) and torch.equal(rev.mask, ref.mask)
    for b in range(6):
        L = int(ref.mask[:, b].sum())
        assert torch.equal(rev.targets[L + 1:2 * L + 1, b], ref.targets[L + 1:2 * L + 1, b].flip(0))
        assert torch.equal(rev.targets[L + 1, b], rev.inputs[L - 1, b, :8])   # the last input answers first
    assert not rev.targets[rev.mask == 0].any()
    with pytest.raises(ValueError, match="min_length"):
        reverse_copy_batch(2, 5, 3)


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_each_built_in_task_makes_batches_of_its_sizes(name):
    task = BUILT_IN[name]
    inputs, targets, mask = task.make(5, generator=gen())
    assert inputs.shape[1:] == (5, task.input_size) and targets.shape[1:] == (5, task.output_size)
    assert mask.shape == inputs.shape[:2] and mask.sum() > 0
    assert playground_task(name) == task


# --- determinism ---------------------------------------------------------------------------------------------

def test_the_same_seed_gives_the_same_run_in_one_call_in_chunks_and_in_the_thread():
    whole = Session("copy", seed=3, **{**SMALL, "chunk": 12}).run_steps(12)
    chunks = Session("copy", seed=3, **SMALL).run_steps(6).run_steps(6)
    thread = Session("copy", seed=3, max_steps=12, **SMALL).start(threads=1).wait(60)
    assert thread.status == "finished" and thread.step == 12 and not thread.running
    assert same_weights(weights(whole), weights(chunks)) and same_weights(weights(whole), weights(thread))
    assert [r["eval_bits"] for r in chunks.history] == [r["eval_bits"] for r in thread.history]
    other = Session("copy", seed=4, **SMALL).run_steps(6)
    assert not same_weights(weights(other), weights(chunks))


def test_a_session_leaves_the_callers_random_state_alone():
    before = torch.get_rng_state()
    Session("reverse_copy", seed=1, **SMALL).run_steps(3)
    assert torch.equal(torch.get_rng_state(), before)


def test_history_rows_after_every_chunk_and_the_probe_follows_the_model():
    session = Session("copy", **SMALL)
    untrained = session.probe()
    session.run_steps(7)
    assert [r["step"] for r in session.history] == [3, 6, 7]
    assert {"step", "sequences", "seconds", "loss", "train_errors", "eval_bits", "eval_errors"} <= set(
        session.history[-1])
    assert session.history[-1]["sequences"] == 7 * SMALL["batch_size"]
    probe = session.last_probe
    T = probe["inputs"].shape[0]
    assert probe["read_weights"].shape == (T, 1, 8) and probe["write_weights"].shape == (T, 1, 8)
    assert torch.equal(probe["inputs"], untrained["inputs"]) and not torch.equal(probe["outputs"],
                                                                                untrained["outputs"])
    assert torch.allclose(probe["read_weights"].sum(-1), torch.ones(T, 1))
    reader = Session("associative_recall", num_read_heads=2, num_write_heads=0, **SMALL).probe()
    assert reader["write_weights"] is None and reader["read_weights"].shape[1] == 2


# --- the thread: start, pause, resume, stop ----------------------------------------------------------------

def test_pause_really_pauses_and_resume_goes_on():
    session = Session("copy", **SMALL).start(threads=1)
    try:
        wait_for(lambda: session.step > 0)
        session.pause()
        held = session.step
        assert session.status == "paused" and session.running
        time.sleep(0.4)
        assert session.step == held and len(session.history) == held // SMALL["chunk"]
        with pytest.raises(RuntimeError, match="pause"):
            session.run_steps(1)
        session.resume()
        assert session.status == "running"
        wait_for(lambda: session.step > held)
    finally:
        session.stop()
    assert session.status == "stopped"


def test_stop_ends_the_thread_and_a_stopped_run_can_go_on():
    session = Session("copy", **SMALL).start(threads=1)
    wait_for(lambda: session.step > 0)
    with pytest.raises(RuntimeError, match="already training"):
        session.start()
    session.stop()
    assert not session.running and not session._thread.is_alive() and session.status == "stopped"
    assert not [t for t in threading.enumerate() if t.name == "ntm-playground"]
    stopped = session.step
    time.sleep(0.2)
    assert session.step == stopped
    session.run_steps(3)                          # a stopped run trains on where it stopped
    assert session.step == stopped + 3


def test_the_thread_restores_the_thread_count_and_reports_its_failure():
    before = torch.get_num_threads()
    calls = []

    def flaky(batch_size, generator=None):
        if calls:
            raise RuntimeError("the generator broke")
        return sort_by_key(batch_size, generator)

    session = Session(flaky, **SMALL)
    calls.append(1)
    seen = []
    session.listeners.append(lambda s: seen.append(s.status))
    session.start(threads=1).wait(30)
    assert session.status == "failed" and "the generator broke" in str(session.error)
    assert seen == ["failed"] and torch.get_num_threads() == before
    assert "RuntimeError: the generator broke" in progress(session)


# --- the learner's task --------------------------------------------------------------------------------------

def test_a_learners_task_and_metric_train_and_are_recorded():
    task = custom_task(sort_by_key, "sort by key", whole_sequences)
    assert (task.input_size, task.output_size, task.paper) == (5, 3, None)
    session = Session(task, **SMALL).run_steps(3)
    assert 0 <= session.history[-1]["metric"] <= 1
    assert session.config["task"] == "sort by key"
    assert "sort by key: 5 inputs, 3 outputs" in summary(session) and "metric" in progress(session)


def _wrong(**change):
    """sort_by_key with one thing broken."""
    def make(batch_size, generator=None):
        inputs, targets, mask = sort_by_key(batch_size, generator)
        if "batch" in change:
            inputs = inputs[:, :1]
        if "steps" in change:
            targets = targets[:-1]
        if "mask3d" in change:
            mask = mask.unsqueeze(2)
        if "ints" in change:
            inputs = inputs.long()
        if "range" in change:
            targets = targets * 2
        if "nomask" in change:
            mask = mask * 0
        if "global" in change:
            inputs = inputs + torch.rand(()).round()
        if "widths" in change and generator.initial_seed() == 1:
            inputs = torch.cat([inputs, inputs], dim=2)
        if "nan" in change:
            targets = targets * float("nan")
        if "two" in change:
            return inputs, targets
        return inputs, targets, mask
    return make


@pytest.mark.parametrize("make, message", [
    (42, r"task must be a built-in task's name .* or a function make\(batch_size, generator\).*got int"),
    ("sort", r"task must be one of \['copy', 'repeat_copy', 'associative_recall', 'reverse_copy'\]"),
    (_wrong(two=True), r"task: make must return \(inputs, targets, mask\), got tuple of 2"),
    (_wrong(batch=True), r"task: make\(batch_size=2\) must return .* B = 2 .*got inputs \(7, 1, 5\), targets "
                         r"\(7, 2, 3\), mask \(7, 2\)"),
    (_wrong(steps=True), r"the same T and B in all three, got inputs \(7, 2, 5\), targets \(6, 2, 3\)"),
    (_wrong(mask3d=True), r"mask \(T, B\), got inputs \(7, 2, 5\), targets \(7, 2, 3\), mask \(7, 2, 1\)"),
    (_wrong(ints=True), r"task: make must return float tensors .*torch.int64"),
    (_wrong(range=True), r"targets must lie in \[0, 1\].*from 0 to 2"),
    (_wrong(nomask=True), r"mask must hold 0s and 1s, with a 1 at every step whose output is scored, got 0 nonzero"),
    (_wrong(nan=True), r"task: make returned a NaN"),
    (_wrong(widths=True), r"the same channel counts: inputs 5 and targets 3 wide once, 10 and 3 another time"),
    (lambda batch_size: None, r"task: <lambda>\(batch_size=2, generator=...\) raised TypeError"),
])
def test_a_wrong_task_is_a_value_error_naming_the_argument_and_the_shapes(make, message):
    with pytest.raises(ValueError, match=message):
        Session(make, **SMALL)


def test_a_task_that_draws_from_the_global_generator_is_refused():
    with pytest.raises(ValueError, match="different episodes for the same generator state: draw every random"):
        custom_task(_wrong(**{"global": True}))


def test_a_metric_that_is_not_one_number_is_a_value_error():
    with pytest.raises(ValueError, match=r"metric must return one number for logits \(7, 2, 3\).*got \(2,\)"):
        custom_task(sort_by_key, metric=lambda logits, targets, mask: mask.sum(0))
    with pytest.raises(ValueError, match="metric must be a function"):
        custom_task(sort_by_key, metric="accuracy")


@pytest.mark.parametrize("option, value, message", [("chunk", 0, "chunk must be an integer >= 1"),
                                                    ("lr", -1.0, "lr must be a finite number > 0"),
                                                    ("max_steps", 0, "max_steps must be None or"),
                                                    ("N", 0, "N must be an integer >= 1"),
                                                    ("controller", "gru", "controller must be one of")])
def test_bad_options_are_value_errors_naming_them(option, value, message):
    with pytest.raises(ValueError, match=message):
        Session("copy", **{**SMALL, option: value})


# --- saving and loading --------------------------------------------------------------------------------------

def test_a_saved_run_goes_on_exactly_as_the_uninterrupted_one(tmp_path):
    first = Session("reverse_copy", seed=2, **SMALL).run_steps(6)
    path = first.save(tmp_path / "run.pt")
    resumed = Session.load(path).run_steps(6)
    straight = Session("reverse_copy", seed=2, **SMALL).run_steps(12)
    assert resumed.step == 12 and resumed.task.name == "reverse_copy"
    assert same_weights(weights(resumed), weights(straight))
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in straight.history]
    run = load_run(path, device="cpu")
    assert run.task == "reverse_copy" and run.history == first.history and not run.model.training
    x = first.probe_batch.inputs
    first.model.eval()
    first.model.fast = False                 # load_run's model is the reference, the eager step: the same weights
    assert torch.equal(run.model(x), first.model(x))


def test_a_paper_tasks_run_loads_with_the_library_and_in_the_explorer(tmp_path):
    session = Session("copy", **SMALL).run_steps(3)
    path = session.save(tmp_path / "copy.pt")
    model, config = load_model(path, device="cpu")
    assert config["task"] == "copy" and config["task_options"] == {"min_length": 1, "max_length": 6}
    x = session.probe_batch.inputs
    assert torch.equal(model(x), load_run(path, device="cpu").model(x))
    assert isinstance(explore(path), LiveFigure)
    Session("reverse_copy", **SMALL).run_steps(3).save(tmp_path / "rev.pt")
    with pytest.raises(ValueError, match="the model explorer shows the paper's tasks .*'reverse_copy'"):
        explore(tmp_path / "rev.pt")


def test_a_learners_run_needs_its_generator_again_to_go_on(tmp_path):
    path = Session(sort_by_key, **SMALL).run_steps(3).save(tmp_path / "mine.pt")
    with pytest.raises(ValueError, match=r"task: .* was trained on 'sort_by_key'.*Session.load\(path, task=make\)"):
        Session.load(path)
    with pytest.raises(ValueError, match="has 5 inputs and 3 outputs, the task given 9 and 8"):
        Session.load(path, task="copy")
    assert Session.load(path, task=sort_by_key).run_steps(3).step == 6
    with pytest.raises(ValueError, match="not a playground run"):
        from ntm_course.experiments.checkpoints import save_checkpoint
        save_checkpoint(tmp_path / "other.pt", {"config": {}, "model": {}})
        load_run(tmp_path / "other.pt")


# --- the dashboard, headless -----------------------------------------------------------------------------------

def test_the_figures_draw_an_empty_and_a_growing_history():
    session = Session("copy", **SMALL)
    empty = plot_curve([])
    assert len(empty.axes) == 2 and "press Start" in [t.get_text() for t in empty.axes[0].texts]
    session.run_steps(6)
    curve = plot_curve(session.history)
    assert len(curve.axes[0].lines[0].get_xdata()) == 2
    titles = [ax.get_title() for ax in plot_probe(session.last_probe).axes if ax.get_title()]
    assert titles == ["inputs", "targets", "outputs", "write head weighting $w_t$", "read head weighting $w_t$"]


def test_the_controls_build_the_session_they_describe():
    pg = playground(tasks={"sort by key": (sort_by_key, whole_sequences)}, **SMALL)
    assert isinstance(pg, Playground)
    assert list(pg.controls["task"].options) == ["sort by key", "copy", "repeat_copy", "associative_recall",
                                                 "reverse_copy"]
    assert pg.session.task.name == "sort by key" and pg.session.task.metric is whole_sequences
    assert "sort by key: 5 inputs" in pg.about.value and "memory 8 × 4" in pg.about.value
    pg.controls["N"].value = 12
    pg.controls["controller"].value = "feed-forward"
    pg.controls["num_read_heads"].value = 2
    pg.controls["task"].value = "copy"
    c = pg.session.config
    assert (c["N"], c["controller"], c["num_read_heads"], pg.session.task.name) == (12, "feedforward", 2, "copy")
    assert "copy: 9 inputs" in pg.about.value and "feed-forward" in pg.about.value
    assert pg.heads.value and pg.curve.value and "ready · step 0" in pg.status.value


def test_a_wrong_task_in_the_dashboard_is_shown_not_raised():
    pg = playground(tasks={"broken": _wrong(two=True)}, **SMALL)
    assert pg.session is None and "must return (inputs, targets, mask)" in pg.message.value
    pg.on_start()                                  # nothing to start, nothing raised
    pg.controls["task"].value = "copy"
    assert pg.session.task.name == "copy" and pg.message.value == ""


def test_start_pause_resume_stop_save_and_explore_drive_the_session(tmp_path):
    pg = playground(path=str(tmp_path / "pg.pt"), redraw_every=0.0, **SMALL)
    assert pg.pause.disabled and pg.stop.disabled and pg.save.disabled and not pg.start.disabled
    pg.start.click()
    session = pg.session
    try:
        assert session.running and pg.controls["N"].disabled and not pg.stop.disabled and pg.start.disabled
        wait_for(lambda: len(session.history) >= 2)
        assert "running · step" in pg.status.value
        pg.controls["N"].value = 20                     # locked while it trains: the run is kept
        assert pg.session is session
        pg.pause.click()
        assert session.status == "paused" and pg.pause.description == "Resume" and not pg.save.disabled
        pg.save.click()
        assert (tmp_path / "pg.pt").is_file() and f"saved step {session.step}" in pg.message.value
        pg.pause.click()
        assert session.status == "running" and pg.pause.description == "Pause"
    finally:
        pg.stop.click()
    assert not session.running and session.status == "stopped" and not pg.controls["N"].disabled
    wait_for(lambda: f"stopped · step {session.step}" in pg.status.value)
    assert pg.start.description == "Continue" and pg.pause.disabled
    pg.explore.click()
    assert isinstance(pg.explorer.children[0], LiveFigure)
    pg.controls["M"].value = 6                           # after Stop, a new setting is a new run
    assert pg.session is not session and pg.session.step == 0


def test_a_run_with_max_steps_finishes_and_the_buttons_follow():
    pg = playground(redraw_every=0.0, max_steps=6, **SMALL)
    pg.start.click()
    pg.session.wait(60)
    wait_for(lambda: pg.stop.disabled)
    assert pg.session.status == "finished" and pg.session.step == 6
    assert "finished · step 6" in pg.status.value and pg.figures[0].get_suptitle() == "copy, step 6"


def test_head_path_reads_a_heads_walk_and_its_runs():
    from ntm_course.experiments.playground import head_path
    rows = [0, 1, 2, 3, 3, 3, 2, 1, 0, 7]
    w = torch.full((len(rows), 8), 0.02)
    w[torch.arange(len(rows)), rows] = 0.86
    path = head_path(w)
    assert path.rows == rows and path.moves == [1, 1, 1, 0, 0, -1, -1, -1, -1]   # 0 -> 7 is one step back
    assert path.runs == [(1, 3), (0, 2), (-1, 4)] and path.focus[0] == pytest.approx(0.86)
    assert head_path(torch.stack([w, w.roll(1, dims=1)], dim=1), head=1).rows == [(r + 1) % 8 for r in rows]
    with pytest.raises(ValueError, match=r"weights must be \(T, N\) or \(T, H, N\) with T >= 1, got shape \(3,\)"):
        head_path(torch.ones(3))


@pytest.mark.parametrize("name", sorted(BUILT_IN))
def test_the_probe_is_the_longest_answer_of_a_fixed_draw(name):
    from ntm_course.experiments.playground import probe_episode
    probe = probe_episode(BUILT_IN[name])
    many = BUILT_IN[name].make(16, generator=gen(12345))
    assert probe.inputs.shape[1] == 1 and probe.mask.sum() == many.mask.sum(dim=0).max()
    assert probe.mask[-1, 0] == 1                                 # it ends at its last scored step
    assert torch.equal(Session(name, **SMALL).probe()["inputs"], probe.inputs[:, 0])
