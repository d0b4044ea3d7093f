"""Training: the loss falls, checkpoints round-trip, resuming equals not stopping, the NaN guard fires."""
import json
import statistics
from dataclasses import fields

import pytest
import torch

from ntm_course.experiments import state as state_module, training
from ntm_course.experiments.config import COUNT, ModelConfig, TrainConfig, build_model, make_config
from ntm_course.experiments.tasks import TASKS
from ntm_course.experiments.training import (LearningRate, SpikeClip, TrainingDiverged, TrainResult,
                                             learning_rate, load_checkpoint, load_model, train)
from ntm_course.teaching.cli import main


# a tiny NTM on short copies: a few steps take well under a second
TINY = dict(controller_size=16, N=12, M=6, batch_size=8, eval_every=5, eval_size=16, lr=1e-2,
            task_options={"max_length": 3}, progress=False, device="cpu")


def weights(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


def test_a_few_steps_lower_the_loss():
    result = train("copy", steps=50, curriculum=False, **{**TINY, "task_options": {"max_length": 2}})
    held_out = [row["eval_bits"] for row in result.history]     # the same held-out episodes every time
    assert len(result.history) == 10
    assert held_out[-1] < 0.85 * held_out[0]


@pytest.mark.parametrize("model", ["ntm", "lstm"])
def test_same_seed_same_numbers(model):
    a = train("associative_recall", steps=6, model=model, hidden_size=8, num_layers=1,
              **{**TINY, "task_options": {}})
    b = train("associative_recall", steps=6, model=model, hidden_size=8, num_layers=1,
              **{**TINY, "task_options": {}})
    assert a.history == [{**r, "seconds": a.history[i]["seconds"]} for i, r in enumerate(b.history)]
    assert all(torch.equal(x, y) for x, y in zip(weights(a.model).values(), weights(b.model).values()))


def test_training_leaves_the_callers_random_state_alone(tmp_path):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    train("copy", steps=3, memory_init="random", checkpoint=tmp_path / "run.pt", **TINY)
    train("copy", steps=6, resume=tmp_path / "run.pt", progress=False)
    assert torch.equal(torch.get_rng_state(), before)


def test_training_forks_the_random_state_of_every_cuda_device(fake_gpus):
    """With GPUs present, train's seeding must not reach the caller's CUDA generators either: it forks them all."""
    forked = fake_gpus(2)                                                  # a stand-in for two GPUs
    before = torch.get_rng_state()
    train("copy", steps=1, **TINY)
    assert forked == [[0, 1]] and torch.equal(torch.get_rng_state(), before)


def test_training_leaves_the_thread_count_alone():
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        train("copy", steps=2, **TINY)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_checkpoint_round_trip(tmp_path):
    path = tmp_path / "copy.pt"
    result = train("copy", steps=5, checkpoint=path, **TINY)
    raw = torch.load(path, weights_only=True)                      # plain tensors, numbers and strings
    assert raw["step"] == 5 and raw["config"]["controller_size"] == 16
    model, config = load_model(path, device="cpu")
    assert config == result.config
    x = torch.rand(7, 3, 9)
    assert torch.equal(model(x), result.model(x))


@pytest.mark.parametrize("sizes", [dict(), dict(curriculum=True, curriculum_threshold=3.0, one_size_per_batch=True),
                                   dict(warmup_steps=15, lr_halflife=8, grad_clip_norm=0.5)])
def test_resume_equals_uninterrupted(tmp_path, sizes):
    path = tmp_path / "run.pt"
    whole = train("copy", steps=20, **TINY, **sizes)
    train("copy", steps=10, checkpoint=path, **TINY, **sizes)
    resumed = train("copy", steps=20, resume=path, **{k: v for k, v in TINY.items() if k != "task_options"})
    strip = [{k: v for k, v in row.items() if k != "seconds"} for row in whole.history]
    assert strip == [{k: v for k, v in row.items() if k != "seconds"} for row in resumed.history]
    for (k, a), b in zip(weights(whole.model).items(), weights(resumed.model).values()):
        assert torch.equal(a, b), k


def test_resume_refuses_a_changed_model(tmp_path):
    path = tmp_path / "run.pt"
    train("copy", steps=5, checkpoint=path, **TINY)
    with pytest.raises(ValueError, match="controller_size"):
        train("copy", steps=10, resume=path, **{**TINY, "controller_size": 32})


def test_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "run.pt"

    def poison(step, model):
        if step == 7:  # after the checkpoint of step 5, the weights go bad
            with torch.no_grad():
                next(model.parameters()).fill_(float("nan"))

    with pytest.raises(TrainingDiverged, match="diverged at step 8.*step 5"):
        train("copy", steps=20, checkpoint=path, callback=poison, **TINY)
    state = load_checkpoint(path)
    assert state["step"] == 5
    assert all(torch.isfinite(v).all() for v in state["model"].values())


def test_corrupt_or_mismatched_checkpoints_are_clear_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(ValueError, match="not a readable torch checkpoint"):
        load_model(bad)
    with pytest.raises(ValueError, match="does not exist"):
        load_model(tmp_path / "missing.pt")
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(ValueError, match="not an ntm-course checkpoint"):
        load_model(foreign)
    good = tmp_path / "good.pt"
    train("copy", steps=1, checkpoint=good, **TINY)
    state = torch.load(good, weights_only=True)
    state["config"]["M"] = 7                                        # weights no longer fit the config
    torch.save(state, tmp_path / "mismatch.pt")
    with pytest.raises(ValueError, match="do not match"):
        load_model(tmp_path / "mismatch.pt")
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(good.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a readable"):
        load_model(truncated)


def test_unknown_options_are_named():
    with pytest.raises(ValueError, match="learning_rate"):
        make_config("copy", learning_rate=1e-3)
    with pytest.raises(ValueError, match="optimizer"):
        make_config("copy", optimizer="sgd")


def test_curriculum_grows_to_the_full_task():
    result = train("copy", steps=25, curriculum=True, curriculum_threshold=100.0, **TINY)   # every level passes at once
    levels = [row["level"] for row in result.history]
    assert levels == [2, 3, 3, 3, 3]     # starts at 2; after 10 easy steps grows to max_length, no further


def test_repeat_copy_curriculum_grows_the_repeats_from_one():
    result = train("repeat_copy", steps=25, curriculum=True, curriculum_threshold=1000.0,
                   **{**TINY, "task_options": {"max_length": 2, "max_repeats": 3}})
    # repeats 1 (a plain copy with an end marker), then 2 after 10 easy steps, then 3 after 10 more
    assert [row["level"] for row in result.history] == [1, 2, 2, 3, 3]


def test_build_model_matches_the_papers_parameter_count():
    from ntm_course import count_parameters
    assert count_parameters(build_model(make_config("copy"))) > 60_000
    lstm = build_model(make_config("copy", model="lstm"))
    assert count_parameters(lstm) == 4 * 256 * (9 + 256 + 2) + 2 * 4 * 256 * (256 + 256 + 2) + 257 * 8


def test_cli_trains_and_writes_history(tmp_path, capsys):
    history = tmp_path / "h.json"
    code = main(["train", "copy", "--steps", "5", "--eval-every", "5", "--controller-size", "8", "--N", "8",
                 "--M", "4", "--batch-size", "4", "--eval-size", "8", "--task-option", "max_length=3",
                 "--no-progress", "--device", "cpu", "--checkpoint", str(tmp_path / "c.pt"),
                 "--history", str(history)])
    assert code == 0
    rows = json.loads(history.read_text())
    assert rows[-1]["step"] == 5 and rows[-1]["sequences"] == 20
    assert main(["train", "copy", "--resume", str(tmp_path / "missing.pt"), "--no-progress"]) == 1
    assert "does not exist" in capsys.readouterr().out


def test_lr_halflife_halves_the_learning_rate(tmp_path):
    path = tmp_path / "run.pt"
    train("copy", steps=10, lr_halflife=5, checkpoint=path, **TINY)
    lr = load_checkpoint(path)["optimizer"]["param_groups"][0]["lr"]
    assert lr == pytest.approx(TINY["lr"] * 0.5 ** (9 / 5))        # set before the 10th update (step 9)


def test_warmup_raises_the_learning_rate_linearly(tmp_path):
    path = tmp_path / "run.pt"
    warmed = train("copy", steps=1, warmup_steps=4, checkpoint=path, **TINY)
    assert load_checkpoint(path)["optimizer"]["param_groups"][0]["lr"] == pytest.approx(TINY["lr"] / 4)
    quarter = train("copy", steps=1, **{**TINY, "lr": TINY["lr"] / 4})      # the same first update, constant lr
    for (k, a), b in zip(weights(warmed.model).items(), weights(quarter.model).values()):
        assert torch.allclose(a, b), k
    train("copy", steps=6, warmup_steps=4, lr_halflife=5, checkpoint=path, **TINY)
    last_lr = load_checkpoint(path)["optimizer"]["param_groups"][0]["lr"]
    assert last_lr == pytest.approx(TINY["lr"] * 0.5 ** (5 / 5))            # warmed up, then half-life (step 5)
    config = make_config("copy", lr=1.0, warmup_steps=4)
    assert [learning_rate(config, step) for step in range(6)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0]


def test_the_learning_rate_drops_once_when_the_last_fifty_batches_are_low():
    rate = LearningRate(make_config("copy", lr=1.0, lr_drop_below=2.0, lr_drop_factor=10.0))
    assert rate.scheduled
    for step in range(1, 51):
        rate.observe(3.0, step)
    assert rate.dropped_at is None and rate(50) == 1.0
    for step in range(51, 71):      # k zeros after fifty 3s: the window's mean (50 - k) * 3 / 50 is below 2 at k = 17
        rate.observe(0.0, step)
    assert rate.dropped_at == 67 and rate(67) == pytest.approx(0.1)
    for step in range(71, 200):     # for good: high errors later do not raise it again
        rate.observe(50.0, step)
    assert rate.dropped_at == 67 and rate(199) == pytest.approx(0.1)
    plain = LearningRate(make_config("copy", lr=1.0))
    plain.observe(0.0, 1)
    assert not plain.scheduled and plain.recent == [] and plain(1000) == 1.0


def test_lr_drop_in_training_is_saved_and_a_resumed_run_drops_where_the_whole_one_did(tmp_path):
    path = tmp_path / "run.pt"
    train("copy", steps=49, lr_drop_below=1e9, checkpoint=path, **TINY)      # 49 batches: the window is not full
    state = load_checkpoint(path)
    assert state["lr_dropped_at"] is None and state["optimizer"]["param_groups"][0]["lr"] == TINY["lr"]
    whole = train("copy", steps=52, lr_drop_below=1e9, lr_drop_factor=4, checkpoint=path, **TINY)
    state = load_checkpoint(path)
    assert state["lr_dropped_at"] == 50 and len(state["lr_recent"]) == 50
    assert state["optimizer"]["param_groups"][0]["lr"] == pytest.approx(TINY["lr"] / 4)     # updates 51 and 52
    train("copy", steps=30, lr_drop_below=1e9, lr_drop_factor=4, checkpoint=path, **TINY)
    resumed = train("copy", steps=52, resume=path, **{k: v for k, v in TINY.items() if k != "task_options"})
    for (k, a), b in zip(weights(whole.model).items(), weights(resumed.model).values()):
        assert torch.equal(a, b), k             # the 30 saved batch errors count towards the window
    with pytest.raises(ValueError, match=r"lr_drop_factor must be a finite number >= 1, got 0.5"):
        make_config("copy", lr_drop_factor=0.5)


def grad_norm(model):
    """The global norm of ``model``'s gradients."""
    return torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()])).item()


@pytest.mark.parametrize("grad_clip_norm", [None, 0.05])
def test_grad_clip_norm_bounds_the_gradients_global_norm(grad_clip_norm):
    norms = []

    def record(step, model):      # the gradients the update just used
        norms.append(grad_norm(model))
    train("copy", steps=5, grad_clip_norm=grad_clip_norm, callback=record, **TINY)
    if grad_clip_norm is None:
        assert min(norms) > 0.1                                     # so the limit below has work to do
    else:
        assert max(norms) <= grad_clip_norm * (1 + 1e-5)


def _gradient(norm):
    """A parameter whose gradient has global norm ``norm`` (3-4-0 scaled)."""
    p = torch.nn.Parameter(torch.zeros(3))
    p.grad = torch.tensor([0.6, 0.8, 0.0]) * norm
    return p


def test_spike_clip_scales_a_spike_down_to_k_times_the_recent_median():
    clip = SpikeClip(make_config("copy", grad_clip_spikes=3.0))
    early = _gradient(50.0)
    clip([early])                                    # no history yet: nothing is a spike
    assert torch.linalg.vector_norm(early.grad).item() == pytest.approx(50.0)
    for norm in [1.0, 2.0] * 9 + [2.0]:              # 20 norms in all; their median is 2
        clip([_gradient(norm)])
    assert len(clip.norms) == SpikeClip.WARMUP and statistics.median(clip.norms) == 2.0
    calm, spike = _gradient(5.9), _gradient(40.0)
    clip([calm])                                     # below 3 x 2: untouched
    assert torch.linalg.vector_norm(calm.grad).item() == pytest.approx(5.9)
    clip([spike])
    assert torch.linalg.vector_norm(spike.grad).item() == pytest.approx(6.0, rel=1e-5)   # 3 x the median
    assert torch.allclose(spike.grad / 6.0, torch.tensor([0.6, 0.8, 0.0]), atol=1e-6)  # same direction
    assert clip.norms[-1] == pytest.approx(40.0)     # the norm before scaling is what is recorded
    for _ in range(200):
        clip([_gradient(1.0)])
    assert len(clip.norms) == SpikeClip.WINDOW       # a window of the last 100
    off = SpikeClip(make_config("copy", grad_clip_spikes=None))     # copy's default (2) turned off
    big = _gradient(1e6)
    off([big])
    assert off.norms == [] and torch.linalg.vector_norm(big.grad).item() == pytest.approx(1e6)


def test_spike_clip_in_training_bounds_the_norm_and_a_resumed_run_continues_exactly(tmp_path):
    norms = []

    def record(step, model):      # the gradients the update just used
        norms.append(grad_norm(model))
    path = tmp_path / "run.pt"
    whole = train("copy", steps=30, grad_clip_spikes=1.0, checkpoint=path, callback=record, **TINY)
    state = load_checkpoint(path)
    assert len(state["spike_norms"]) == 30
    seen = state["spike_norms"]
    for step in range(SpikeClip.WARMUP, 30):      # k = 1: no update's norm above the median of the ones before
        assert norms[step] <= statistics.median(seen[max(0, step - SpikeClip.WINDOW):step]) * (1 + 1e-5)
    assert any(n > m * 1.01 for n, m in zip(seen[SpikeClip.WARMUP:], norms[SpikeClip.WARMUP:]))  # it did clip
    train("copy", steps=15, grad_clip_spikes=1.0, checkpoint=path, **TINY)
    resumed = train("copy", steps=30, resume=path, **{k: v for k, v in TINY.items() if k != "task_options"})
    for (k, a), b in zip(weights(whole.model).items(), weights(resumed.model).values()):
        assert torch.equal(a, b), k             # the 15 saved norms count towards the median
    with pytest.raises(ValueError, match=r"grad_clip_spikes must be None or a finite number >= 1, got 0.5"):
        make_config("copy", grad_clip_spikes=0.5)


@pytest.mark.parametrize("options, message", [
    (dict(warmup_steps=0), "warmup_steps must be None or an integer >= 1, got 0"),
    (dict(warmup_steps=2.5), "warmup_steps must be None or an integer >= 1, got 2.5"),
    (dict(warmup_steps=True), "warmup_steps must be None or an integer >= 1, got True"),
    (dict(grad_clip_norm=0), "grad_clip_norm must be None or a finite number > 0, got 0"),
    (dict(grad_clip_norm=float("nan")), "grad_clip_norm must be None or a finite number > 0, got nan"),
    (dict(grad_clip_norm="1"), "grad_clip_norm must be None or a finite number > 0, got '1'"),
    (dict(num_read_heads=0), "num_read_heads must be an integer >= 1, got 0"),
    (dict(head_clip=-1.0), "head_clip must be a finite number > 0, got -1.0"),
    (dict(controller="gru"), "controller must be one of ['lstm', 'feedforward'], got 'gru'"),
    (dict(curriculum="yes"), "curriculum must be True or False, got 'yes'"),
    (dict(read_heads=2), "unknown training options ['read_heads'] (read_heads is now num_read_heads); known: "),
])
def test_a_bad_option_is_a_one_line_error_naming_it(options, message):
    with pytest.raises(ValueError) as error:
        make_config("copy", **options)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_warm_start_copies_the_weights_that_fit(tmp_path):
    path = tmp_path / "copy.pt"
    source = train("copy", steps=2, checkpoint=path, **TINY).model.state_dict()        # copy: 9 in, 8 out
    options = {k: v for k, v in TINY.items() if k not in ("task_options", "progress", "device")}
    config = make_config("repeat_copy", **options)                                        # 10 in, 9 out
    torch.manual_seed(config["seed"])                                                     # as train() does
    fresh = build_model(config).state_dict()
    torch.manual_seed(config["seed"])
    model = build_model(config)
    training.warm_start(model, str(path), config)
    started = model.state_dict()
    weight_ih = "cell.controller.cells.0.weight_ih"                                         # columns [x (9|10), reads (6)]
    assert torch.equal(started[weight_ih][:, :9], source[weight_ih][:, :9])               # data bits, delimiter
    assert torch.equal(started[weight_ih][:, 10:], source[weight_ih][:, 9:])              # the read vector
    assert torch.equal(started[weight_ih][:, 9], fresh[weight_ih][:, 9])                  # repeat count: new
    assert torch.equal(started["cell.output.weight"][:8], source["cell.output.weight"])
    assert torch.equal(started["cell.output.bias"][8], fresh["cell.output.bias"][8])      # end marker: new
    assert torch.equal(started["cell.write_heads.fc.weight"], source["cell.write_heads.fc.weight"])


def test_warm_start_from_the_shipped_copy_model_already_copies_once():
    torch.manual_seed(0)
    config = make_config("repeat_copy", init_from="copy")
    model = build_model(config)
    from ntm_course.experiments.tasks import repeat_copy_batch
    from ntm_course.experiments.training import warm_start
    batch = repeat_copy_batch(32, min_repeats=1, max_repeats=1, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = (model(batch.inputs) > 0) != (batch.targets > 0.5)
        warm_start(model, "copy", config)
        after = (model(batch.inputs) > 0) != (batch.targets > 0.5)
    data = batch.mask.bool().unsqueeze(2) & (torch.arange(9) < 8)                 # the copied bits, not the marker
    assert after[data].float().mean() < 0.05 < 0.3 < before[data].float().mean()


def test_warm_start_refuses_a_different_model(tmp_path):
    path = tmp_path / "copy.pt"
    train("copy", steps=1, checkpoint=path, **TINY)
    with pytest.raises(ValueError, match=r"differ in \['M'\]"):
        train("repeat_copy", steps=1, init_from=str(path), **{**TINY, "M": 7, "task_options": {}})
    with pytest.raises(ValueError, match="neither a checkpoint file nor a shipped model"):
        train("copy", steps=1, init_from="no_such_model", **TINY)


@pytest.fixture
def no_training(monkeypatch):
    """``ntm-course train`` with train() replaced: the options it would get are recorded, nothing is built."""
    calls = []

    def fake_train(task, **options):
        calls.append(options)
        return TrainResult(None, [], {})
    monkeypatch.setattr(training, "train", fake_train)
    return calls


def usage_error(capsys, argv):
    """``ntm-course train`` on ``argv``: its exit code must be 2; returns the lines it wrote to stderr."""
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "copy", *argv])
    assert exit_info.value.code == 2
    return capsys.readouterr().err.splitlines()


NUMERIC = {f.name: f.metadata["check"] for f in (*fields(ModelConfig), *fields(TrainConfig)) if f.metadata["check"]}


def test_every_option_but_a_path_has_a_range_or_choices():
    for f in (*fields(ModelConfig), *fields(TrainConfig)):
        assert (f.metadata["check"] or f.metadata["choices"] or isinstance(f.default, bool)
                or f.name == "init_from"), f.name


@pytest.mark.parametrize("name", sorted({*NUMERIC, "threads"}))
@pytest.mark.parametrize("bad", ["-1", "nan", "x"])
def test_cli_rejects_a_bad_number_in_one_line_naming_the_option(name, bad, no_training, capsys):
    flag = "--" + name.replace("_", "-")
    # an option that may be None (by default, or turning off a task's default) also takes "off"
    off = " or off" if name in OPTIONAL else ""
    assert usage_error(capsys, [flag, bad]) == [
        "usage: ntm-course train TASK [options]",
        f"ntm-course train: error: argument {flag}: must be {NUMERIC.get(name, COUNT)[2]}{off}, got '{bad}'"]
    assert no_training == []


OPTIONAL = {f.name for f in fields(TrainConfig) if f.default is None}


def test_every_task_default_is_in_its_options_range():
    for name, task in TASKS.items():
        make_config(name)                                   # a ValueError if a default were out of range
        assert set(task.train_defaults) <= {f.name for f in fields(TrainConfig)}, name


@pytest.mark.parametrize("name", sorted(OPTIONAL - {"init_from"}))
def test_cli_off_turns_an_optional_number_off(name, no_training):
    """``off`` is None: copy's default spike clip (2) is turned off so; the lr default is copy's own unless given."""
    assert main(["train", "copy", "--" + name.replace("_", "-"), "OFF"]) == 0
    assert no_training[0][name] is None
    if name == "grad_clip_spikes":
        assert make_config("copy", **{k: v for k, v in no_training[0].items() if k in NUMERIC})[name] is None
        assert make_config("copy")[name] == 2.0 and make_config("ngrams")[name] is None


@pytest.mark.parametrize("argv, message", [
    (["--steps", "-5"], "argument --steps: must be an integer >= 1, got '-5'"),
    (["--batch-size", "0"], "argument --batch-size: must be an integer >= 1, got '0'"),
    (["--steps", "2.5"], "argument --steps: must be an integer >= 1, got '2.5'"),
    (["--lr", "inf"], "argument --lr: must be a finite number > 0, got 'inf'"),
    (["--lr", "off"], "argument --lr: must be a finite number > 0, got 'off'"),
    (["--grad-clip", "0"], "argument --grad-clip: must be a finite number > 0, got '0'"),
    (["--shift-width", "4"], "argument --shift-width: must be an odd integer >= 1, got '4'"),
    (["--num-read-heads", "0"], "argument --num-read-heads: must be an integer >= 1, got '0'"),
    (["--controller", "gru"], "argument --controller: invalid choice: 'gru' (choose from 'lstm', 'feedforward')"),
    (["--seed", str(2 ** 32)], "argument --seed: must be an integer from 0 to 2**32 - 1, got '4294967296'"),
])
def test_cli_range_edges(argv, message, no_training, capsys):
    assert usage_error(capsys, argv)[-1] == f"ntm-course train: error: {message}"
    assert no_training == []


def test_cli_passes_values_at_the_ends_of_their_ranges_on(no_training, capsys):
    assert main(["train", "copy", "--steps", "1", "--num-write-heads", "0", "--shift-width", "1", "--lr", "1e-3",
                 "--seed", str(2 ** 32 - 1), "--curriculum", "ON", "--one-size-per-batch", "no", "--model", "lstm",
                 "--no-progress"]) == 0
    assert main(["train", "copy", "--seed", "0"]) == 0
    assert no_training == [
        dict(checkpoint=None, resume=None, history_path=None, progress=False, device=None, compile=False, fast=True,
             steps=1, num_write_heads=0, shift_width=1, seed=2 ** 32 - 1, lr=1e-3, curriculum=True,
             one_size_per_batch=False, model="lstm"),
        dict(checkpoint=None, resume=None, history_path=None, progress=True, device=None, compile=False, fast=True,
             seed=0)]
    assert capsys.readouterr().out == "{}\n{}\n"


@pytest.mark.parametrize("word, value", [(w, True) for w in ("true", "Yes", "ON", "1")] +
                                        [(w, False) for w in ("FALSE", "no", "Off", "0")])
def test_cli_booleans_take_the_usual_words_in_any_case(word, value, no_training):
    assert main(["train", "copy", "--curriculum", word, "--one-size-per-batch", word]) == 0
    assert no_training[0]["curriculum"] is value and no_training[0]["one_size_per_batch"] is value


@pytest.mark.parametrize("flag", ["--curriculum", "--one-size-per-batch"])
@pytest.mark.parametrize("word", ["maybe", "y", "2", "", "onn"])
def test_cli_booleans_reject_anything_else_naming_the_option(flag, word, no_training, capsys):
    assert usage_error(capsys, [flag, word])[-1] == (
        f"ntm-course train: error: argument {flag}: must be true/false, yes/no, on/off or 1/0, got '{word}'")
    assert no_training == []


def test_how_often_training_evaluates_cannot_change_its_trajectory():
    """Even with a random initial memory, whose noise the evaluations also need: they draw from their own."""
    runs = [train("copy", steps=10, memory_init="random", **{**TINY, "eval_every": every}) for every in (2, 5, 10)]
    for other in runs[1:]:
        for (k, a), b in zip(weights(runs[0].model).items(), weights(other.model).values()):
            assert torch.equal(a, b), k


def test_resume_equals_uninterrupted_with_a_random_initial_memory(tmp_path):
    """The random memories come from the data generator, which the checkpoint saves."""
    path = tmp_path / "run.pt"
    whole = train("copy", steps=12, memory_init="random", **TINY)
    train("copy", steps=6, memory_init="random", checkpoint=path, **TINY)
    resumed = train("copy", steps=12, resume=path, **{k: v for k, v in TINY.items() if k != "task_options"})
    for (k, a), b in zip(weights(whole.model).items(), weights(resumed.model).values()):
        assert torch.equal(a, b), k


def test_the_curriculum_starts_small_grows_after_ten_good_batches_and_stops_at_the_full_size():
    from ntm_course.experiments.tasks import get_task
    from ntm_course.experiments.training import Curriculum
    config = make_config("copy", curriculum=True, curriculum_threshold=1.0, task_options={"max_length": 4})
    curriculum = Curriculum(get_task("copy"), config)
    assert curriculum.options(None) == {"max_length": 2} and curriculum.postfix() == {"max_length": 2}
    for errors in [0.5] * 9 + [5.0]:                 # ten batches averaging 0.95 < 1.0
        curriculum.observe(errors)
    assert curriculum.level == 3 and curriculum.streak == []
    for _ in range(30):
        curriculum.observe(0.0)
    assert curriculum.level == 4                     # the full size, no further
    flat = Curriculum(get_task("copy"), make_config("copy", task_options={"max_length": 4}))
    assert flat.options(None) == {"max_length": 4}
    one = Curriculum(get_task("copy"), make_config("copy", one_size_per_batch=True))
    generator = torch.Generator().manual_seed(0)
    sizes = {tuple(one.options(generator).items()) for _ in range(400)}
    assert {dict(o)["min_length"] for o in sizes} == set(range(1, 21))
    assert all(dict(o)["min_length"] == dict(o)["max_length"] for o in sizes)
    assert Curriculum(get_task("ngrams"), make_config("ngrams")).options(None) == {}


# ---- compile=True ------------------------------------------------------------------------------------------

@pytest.fixture
def compiled(monkeypatch):
    """``torch.compile`` with dynamo's eager backend (it traces the step as inductor would, in a second rather
    than half a minute, and runs the same kernels); records every call of a compiled step."""
    calls, compile = [], torch.compile

    def fake_compile(fn):
        step = compile(fn, backend="eager")

        def counted(*args, **kwargs):
            calls.append(torch.is_grad_enabled())
            return step(*args, **kwargs)
        return counted
    monkeypatch.setattr(torch, "compile", fake_compile)
    return calls


def test_compile_traces_the_step_with_the_same_numbers_and_gives_back_an_uncompiled_model(compiled):
    plain = train("copy", steps=6, fast=False, **TINY)       # the eager step, which compile compiles
    fast = train("copy", steps=6, compile=True, **TINY)
    assert fast.history == [{**r, "seconds": fast.history[i]["seconds"]} for i, r in enumerate(plain.history)]
    assert all(torch.equal(x, y) for x, y in zip(weights(plain.model).values(), weights(fast.model).values()))
    assert True in compiled and False in compiled    # training steps, and the evaluations' (without gradients)
    assert "step" not in vars(fast.model.cell)       # the class's own step again
    calls = len(compiled)
    fast.model(torch.rand(4, 2, 9))
    assert len(compiled) == calls


def test_compile_of_an_lstm_or_a_failing_compile_is_a_clear_error(monkeypatch, capsys):
    with pytest.raises(ValueError, match="compile=True compiles the NTM's step; model='lstm'"):
        train("copy", steps=1, model="lstm", compile=True, **TINY)

    def cannot_compile(fn):
        def step(*args, **kwargs):
            raise torch._dynamo.exc.TorchDynamoException("no working C++ compiler\n(a long report)")
        return step
    monkeypatch.setattr(torch, "compile", cannot_compile)
    model = build_model(make_config("copy", **{k: TINY[k] for k in ("controller_size", "N", "M")}))
    monkeypatch.setattr(state_module, "build_model", lambda config, pieces=None: model)
    with pytest.raises(training.CompileFailed) as error:
        train("copy", steps=1, compile=True, **TINY)
    assert str(error.value) == ("torch.compile could not compile the NTM's step (no working C++ compiler); train "
                                "without compile=True (--compile)")
    assert "step" not in vars(model.cell)
    assert main(["train", "copy", "--compile", "--steps", "1", "--no-progress", "--device", "cpu"]) == 1
    assert capsys.readouterr().out.startswith("error: torch.compile could not compile the NTM's step")


def test_cli_compile_flag(no_training):
    main(["train", "copy", "--compile"])
    main(["train", "copy"])
    assert [call["compile"] for call in no_training] == [True, False]
