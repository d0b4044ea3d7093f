"""The shipped models load, and on fresh episodes they do what their recorded results say."""
import json

import pytest
import torch

from ntm_course import load_pretrained
from ntm_course.experiments.evaluation import rate, score
from ntm_course.experiments.pretrained import HERE, available
from ntm_course.experiments.tasks import bayes_optimal, bits_per_sequence, get_task


REQUIRED = {"copy", "repeat_copy", "associative_recall", "ngrams", "priority_sort", "copy_lstm", "ngrams_lstm"}  # 9-10


def fresh(task, options, n=20, seed=99):
    return get_task(task).make(n, **options, generator=torch.Generator().manual_seed(seed))


def test_the_lessons_models_are_shipped_and_small():
    assert REQUIRED <= set(available())
    assert sum(p.stat().st_size for p in HERE.glob("*.pt")) < 6e6        # seven models, float16


@pytest.mark.parametrize("name", available())
def test_shipped_model_meets_its_recorded_result(name):
    shipped = load_pretrained(name, device="cpu")
    info = json.loads((HERE / f"{name}.json").read_text())
    assert shipped.task == info["task"] and shipped.command.startswith("python benchmarks/pretrain.py")
    assert shipped.command == info["command"] and not shipped.model.training
    recorded = shipped.results[0]
    assert recorded["setting"] == "training distribution"
    now = score(shipped.model, fresh(shipped.task, shipped.config["task_options"]))
    assert now["errors"] <= 1.5 * recorded["errors"] + 0.5
    assert now["bits"] <= 1.5 * recorded["bits"] + 1.0


def test_shipped_lstm_baseline_learned_its_training_distribution():
    """The comparison in lesson 9 is between two models that both solved lengths 1-20 (the paper's LSTM did)."""
    shipped = load_pretrained("copy_lstm", device="cpu")
    recorded = {r["setting"]: r for r in shipped.results}
    assert recorded["training distribution"]["n"] >= 1000 and recorded["training distribution"]["errors"] < 0.05
    assert score(shipped.model, fresh("copy", {}, n=200))["errors"] < 0.05
    assert recorded["length 30"]["perfect"] == 0                       # and it does not carry over


def test_shipped_ngrams_baseline_is_near_the_floor():
    """The N-gram LSTM beside the NTM in lesson 10 learned its task: within 3 bits per sequence of the Bayes-optimal
    floor on its 1,000 recorded sequences, and on a fresh sample (against the floor on the same sequences)."""
    shipped = load_pretrained("ngrams_lstm", device="cpu")
    recorded = {r["setting"]: r for r in shipped.results}
    lstm, floor = recorded["training distribution"], recorded["Bayes-optimal estimator (the floor)"]
    assert lstm["n"] == floor["n"] >= 1000 and lstm["bits"] - floor["bits"] < 3
    batch = fresh("ngrams", {}, n=100)
    best = bits_per_sequence(torch.logit(bayes_optimal(batch.inputs, batch.targets)), batch.targets, batch.mask)
    with torch.no_grad():
        found = bits_per_sequence(shipped.model(batch.inputs), batch.targets, batch.mask)
    assert 0 < found.item() - best.item() < 5


def test_shipped_copy_ntm_generalises_to_longer_sequences():
    shipped = load_pretrained("copy", device="cpu")
    recorded = {r["setting"]: r for r in shipped.results}
    # the bar it was trained to: at least 99.9% perfect on 10,000 sequences of lengths 1-20, and 99.5% on at
    # least 1,000 at each longer length
    assert recorded["training distribution"]["n"] >= 10_000 and recorded["training distribution"]["perfect"] >= 0.999
    for L in (30, 50, 80, 120):
        assert recorded[f"length {L}"]["n"] >= 1000 and recorded[f"length {L}"]["perfect"] >= 0.995
    # and a fresh sample: every sequence of 200 from the training distribution and of 20 at length 120 is perfect
    assert score(shipped.model, fresh("copy", {}, n=200))["perfect"] == 1
    assert score(shipped.model, fresh("copy", dict(min_length=120, max_length=120), n=20))["perfect"] == 1


def test_unknown_name_lists_the_shipped_models():
    with pytest.raises(ValueError, match="available"):
        load_pretrained("sorting")


def _results_tables():
    """The tables of docs/results.md's results section: ``[(header cells, [row cells])]``, rows naming a model."""
    page = (HERE.parents[2] / "docs" / "results.md").read_text()
    section = page.split("\n## Results\n", 1)[1].split("\n## ", 1)[0]
    tables = []
    for block in section.split("\n\n"):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if lines:
            cells = [[c.strip(" `") for c in line.strip("|").split("|")] for line in lines]
            tables.append((cells[0], [row for row in cells[2:] if row[0]]))
    return tables


def _recorded(name):
    """The shipped model's task and its pooled rows (several test seeds) by setting."""
    info = json.loads((HERE / f"{name}.json").read_text())
    return info["task"], {r["setting"]: r for r in info["pooled"]["rows"]}


PERFECT_TABLE = ("model", "setting", "perfect", "95% interval", "bit errors per sequence")
FLOOR_TABLE = ("model", "setting", "bits per sequence", "the floor", "above the floor")   # N-grams


def test_the_results_pages_tables_match_the_recorded_results():
    """Every row of docs/results.md's results tables is the pooled evaluation, formatted: no number quoted there
    rests on fewer than 5,000 sequences."""
    tables = {tuple(header): rows for header, rows in _results_tables()}
    assert set(tables) == {PERFECT_TABLE, FLOOR_TABLE}
    perfect_rows = tables[PERFECT_TABLE]
    assert len(perfect_rows) >= 10
    for name, setting, perfect, interval, errors in perfect_rows:
        r = _recorded(name)[1][setting]
        assert (perfect, interval) == rate(r) and r["n"] >= 5000
        assert errors == f"{r['errors']:.3g}"
    floor_rows = tables[FLOOR_TABLE]
    assert floor_rows
    for name, setting, bits, floor, above in floor_rows:
        task, recorded = _recorded(name)
        found, best = recorded[setting], recorded[f"{get_task(task).floor[0]} (the floor)"]
        assert found["n"] == best["n"] >= 5000
        assert (bits, floor, above) == (f"{found['bits']:.1f}", f"{best['bits']:.1f}",
                                        f"{found['bits'] - best['bits']:.1f}")


@pytest.mark.parametrize("name", available())
def test_every_shipped_model_has_its_pooled_evaluation(name):
    """The records carry the evaluation over several test seeds, every setting of the single-seed one included."""
    shipped = load_pretrained(name, device="cpu")
    info = json.loads((HERE / f"{name}.json").read_text())
    assert len(info["pooled"]["seeds"]) >= 5 and shipped.pooled == info["pooled"]["rows"]
    assert {r["setting"] for r in shipped.results} <= {r["setting"] for r in shipped.pooled}
    for row in shipped.pooled:
        assert row["n"] == len(info["pooled"]["seeds"]) * info["pooled"]["sequences_per_seed"] >= 5000


def test_loading_a_model_leaves_the_callers_generator_alone():
    before = torch.get_rng_state()
    load_pretrained("copy", device="cpu")
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("name", sorted(set(available()) - {"failures"}))
def test_every_recorded_command_runs_with_todays_options_and_its_last_stage_gives_the_shipped_config(name):
    """The records are the way to reproduce a model: every stage's command must parse with today's ``ntm-course
    train`` (its options spell out what changed since: copy's old defaults, ``--no-fast``), and the options of the
    last stage, with today's defaults, must be the shipped model's configuration (a default changed under a recorded
    command would show here)."""
    import argparse
    import shlex

    from ntm_course.experiments.cli_train import add_arguments, train_options
    from ntm_course.experiments.config import make_config

    info = json.loads((HERE / f"{name}.json").read_text())
    stages = [stage["command"] for stage in info.get("stages") or [info]]
    assert " && ".join(stages) == info["command"]
    parser = argparse.ArgumentParser(exit_on_error=False)
    add_arguments(parser)
    parsed = [parser.parse_args(shlex.split(command)[shlex.split(command).index("--") + 1:]) for command in stages]
    last = parsed[-1]
    options = {k: v for k, v in train_options(last).items() if k != "init_from"}
    config = make_config(last.task, **options)
    shipped = load_pretrained(name, device="cpu").config
    # a time limit that did not stop the run (it made all its steps) does not change the model
    unbound = {"init_from"} | ({"max_minutes"} if info["steps"] == shipped["steps"] else set())
    differ = {k: (config[k], shipped[k]) for k in config
              if k in shipped and k not in unbound and config[k] != shipped[k]}
    assert not differ, f"{name}: the recorded command gives {differ} (config, shipped)"
    fast = info.get("fast", False)       # the record says when it trained on the fast path
    assert all(args.fast is fast for args in parsed if args.device != "cuda" and args.model != "lstm"), \
        f"{name}: a CPU stage must say --no-fast unless the record says it trained on the fast path"
