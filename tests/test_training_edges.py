"""Training's edge paths: runs that stop early (a target reached, the time up, a held-out cost gone bad),
the CSV history, checkpoints that are incomplete or whose weights do not fit their own config, and a bad
``--task-option``. Each run here is a tiny NTM for a few steps."""
import csv

import pytest
import torch

from ntm_course.experiments import training
from ntm_course.experiments.checkpoints import load_checkpoint, save_checkpoint
from ntm_course.experiments.config import build_model, make_config
from ntm_course.experiments.training import TrainingDiverged, TrainResult, load_model, train, warm_start
from ntm_course.teaching.cli import main


TINY = dict(controller_size=16, N=12, M=6, batch_size=8, eval_every=5, eval_size=16, lr=1e-2,
            task_options={"max_length": 3}, progress=False, device="cpu")
MODEL_OPTIONS = {k: v for k, v in TINY.items() if k not in ("task_options", "progress", "device")}


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --- runs that stop early ---------------------------------------------------------------------------------

def test_a_run_stops_at_the_first_evaluation_below_target_errors(tmp_path):
    history = tmp_path / "runs" / "h.csv"
    result = train("copy", steps=20, target_errors=1000.0, history_path=history, **TINY)   # any score is below
    assert [row["step"] for row in result.history] == [5]
    assert not result.model.training                          # returned ready to evaluate, as after a full run
    rows = read_csv(history)                                  # CSV, its folder made, one row per evaluation
    assert [row["step"] for row in rows] == ["5"]
    assert list(rows[0]) == list(result.history[0])
    assert float(rows[0]["eval_bits"]) == pytest.approx(result.history[0]["eval_bits"])


def test_a_run_out_of_time_evaluates_once_and_stops():
    result = train("copy", steps=20, max_minutes=1e-9, **TINY)   # the time is up after the first update
    assert [(row["step"], row["sequences"]) for row in result.history] == [(1, TINY["batch_size"])]


def test_a_held_out_cost_gone_bad_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    path = tmp_path / "run.pt"

    def poison(step, model):
        if step == 5:   # after the update of step 5, just before its evaluation: the update itself was finite
            with torch.no_grad():
                next(model.parameters()).fill_(float("nan"))

    kept = r"; the last good checkpoint \(step 0\) is kept in "
    with pytest.raises(TrainingDiverged, match=r"^the held-out cost is nan at step 5" + kept):
        train("copy", steps=20, checkpoint=path, callback=poison, **TINY)
    state = load_checkpoint(path)
    assert state["step"] == 0 and state["history"] == []
    assert all(torch.isfinite(v).all() for v in state["model"].values())


# --- the history file -------------------------------------------------------------------------------------------

def test_write_history_as_csv_and_json(tmp_path):
    rows = [{"step": 1, "loss": 0.5}, {"step": 2, "loss": 0.25}]
    training.write_history(tmp_path / "a" / "h.csv", rows)
    assert read_csv(tmp_path / "a" / "h.csv") == [{"step": "1", "loss": "0.5"}, {"step": "2", "loss": "0.25"}]
    training.write_history(tmp_path / "h.json", rows)
    assert (tmp_path / "h.json").read_text().startswith("[\n {\n  \"step\": 1,")


def test_an_empty_history_is_a_csv_with_its_step_column_only(tmp_path):
    training.write_history(tmp_path / "h.csv", [])
    assert (tmp_path / "h.csv").read_text().splitlines() == ["step"]


# --- checkpoints that cannot be used -----------------------------------------------------------------------

@pytest.mark.parametrize("state, missing", [({"config": {"task": "copy"}}, "['model']"),
                                            ({}, "['config', 'model']")])
def test_a_checkpoint_without_its_config_or_weights_is_a_one_line_error(tmp_path, state, missing):
    path = tmp_path / "part.pt"
    save_checkpoint(path, state)
    with pytest.raises(ValueError) as error:
        load_checkpoint(path)
    assert str(error.value) == f"checkpoint {str(path)!r} lacks {missing}"


def test_a_checkpoint_whose_config_names_no_task_is_a_one_line_error_naming_the_file(tmp_path):
    path = tmp_path / "no_task.pt"
    model = build_model(make_config("copy", **MODEL_OPTIONS))
    save_checkpoint(path, {"config": MODEL_OPTIONS, "model": model.state_dict()})
    with pytest.raises(ValueError) as error:
        load_model(path, device="cpu")
    message = str(error.value)
    assert message.startswith(f"{path}: its config is not a valid training configuration (")
    assert "'task'" in message and "\n" not in message


def test_a_checkpoint_whose_config_has_a_bad_value_names_the_file(tmp_path):
    path = tmp_path / "bad_value.pt"
    config = make_config("copy", **MODEL_OPTIONS)
    model = build_model(config)
    save_checkpoint(path, {"config": {**config, "shift_width": 4}, "model": model.state_dict()})
    with pytest.raises(ValueError) as error:
        load_model(path, device="cpu")
    assert str(error.value).startswith(f"{path}: its config is not a valid training configuration (")
    assert "shift_width" in str(error.value)


def test_warm_start_refuses_weights_that_do_not_fit_their_own_config(tmp_path):
    config = make_config("copy", **MODEL_OPTIONS)
    weights = build_model(config).state_dict()
    weights["cell.write_heads.fc.bias"] = torch.zeros(23)      # the config says 4 * M = 24 write parameters
    path = tmp_path / "odd.pt"
    save_checkpoint(path, {"config": config, "model": weights})
    model = build_model(make_config("repeat_copy", **MODEL_OPTIONS))
    with pytest.raises(ValueError) as error:
        warm_start(model, str(path), make_config("repeat_copy", **MODEL_OPTIONS))
    assert str(error.value) == (f"init_from={str(path)!r}: cannot map cell.write_heads.fc.bias of shape (23,) "
                                "onto shape (24,)")


def test_a_refused_warm_start_leaves_the_model_as_it_was(tmp_path):
    config = make_config("copy", **MODEL_OPTIONS)
    weights = build_model(config).state_dict()
    del weights["cell.write_heads.fc.bias"]
    path = tmp_path / "short.pt"
    save_checkpoint(path, {"config": config, "model": weights})
    model = build_model(make_config("repeat_copy", **MODEL_OPTIONS))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"the checkpoint has no cell\.write_heads\.fc\.bias$"):
        warm_start(model, str(path), make_config("repeat_copy", **MODEL_OPTIONS))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


# --- the command line -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("option", ["max_length", "max_length=three"])
def test_a_bad_task_option_stops_the_command_naming_it(monkeypatch, option):
    calls = []
    monkeypatch.setattr(training, "train", lambda task, **options: calls.append(options) or TrainResult(None, [], {}))
    with pytest.raises(SystemExit) as stop:
        main(["train", "copy", "--task-option", "min_length=1", "--task-option", option])
    assert stop.value.code == f"--task-option takes NAME=INT, got ['min_length=1', {option!r}]"
    assert calls == []
