"""One configuration: the fields are the constructors' argument names, old names still load, NTM shows them."""
import inspect
from dataclasses import asdict, fields

import pytest
import torch

from ntm_course import NTM, LSTMBaseline, NTMCell
from ntm_course.experiments.checkpoints import RENAMED, save_checkpoint
from ntm_course.experiments.config import ModelConfig, TrainConfig, build_model, make_config
from ntm_course.experiments.training import OPTIMIZERS, load_model, train


NOT_THE_NTMS = {"model", "hidden_size", "num_layers"}


def test_every_ntm_argument_is_a_model_field():
    cell = inspect.signature(NTMCell.__init__).parameters
    ntm_fields = {f.name for f in fields(ModelConfig)} - NOT_THE_NTMS
    assert set(cell) - {"self", "input_size", "output_size", "pieces"} == ntm_fields


@pytest.mark.parametrize("model, constructor", [("ntm", NTM), ("lstm", LSTMBaseline)])
def test_the_default_config_builds_the_model_the_constructor_builds_by_default(model, constructor):
    """The same seed gives the same weights, the same buffers and the same outputs: the same defaults."""
    torch.manual_seed(0)
    built = build_model(make_config("copy", model=model))
    torch.manual_seed(0)
    plain = constructor(9, 8)
    shapes = [[(k, v.shape) for k, v in m.state_dict().items()] for m in (built, plain)]
    assert shapes[0] == shapes[1]
    assert all(torch.equal(a, b) for a, b in zip(built.state_dict().values(), plain.state_dict().values()))
    x = torch.rand(6, 2, 9)
    with torch.no_grad():
        assert torch.equal(built(x), plain(x))
    if model == "ntm":      # and what no weight shows: the head clip and the memory's initialisation
        assert _unweighted(built.cell) == _unweighted(plain.cell)


def _unweighted(cell):
    return (cell.read_heads.clip, cell.write_heads.clip, cell.initial_memory.scheme, cell.initial_memory.value,
            type(cell.controller))


def test_train_fields_are_trains_options():
    config = make_config("copy")
    assert set(config) == {"task", "task_options"} | set(asdict(ModelConfig())) | set(asdict(TrainConfig()))


def test_the_optimizer_choices_are_the_optimizers_training_builds():
    choices = next(f.metadata["choices"] for f in fields(TrainConfig) if f.name == "optimizer")
    assert set(choices) == set(OPTIMIZERS)


def test_the_ntm_shows_its_real_signature():
    assert list(inspect.signature(NTM).parameters)[:4] == ["input_size", "output_size", "controller",
                                                            "controller_size"]
    assert inspect.signature(NTM).parameters["num_read_heads"].default == 1


def test_build_model_passes_every_model_field_on():
    config = make_config("copy", num_read_heads=2, num_write_heads=0, N=16, M=5, head_clip=3.0,
                         learn_initial_state=False, controller="feedforward")
    cell = build_model(config).cell
    assert (cell.num_read_heads, cell.num_write_heads, cell.N, cell.M) == (2, 0, 16, 5)
    assert cell.read_heads.clip == 3.0 and "reads0" not in dict(cell.named_parameters())
    lstm = build_model(make_config("copy", model="lstm", hidden_size=12, num_layers=2))
    assert (lstm.lstm.hidden_size, lstm.lstm.num_layers) == (12, 2)


@pytest.mark.parametrize("old, new", sorted(RENAMED.items()))
def test_an_old_name_is_refused_with_its_new_name(old, new):
    with pytest.raises(ValueError, match=rf"{old} is now {new}"):
        make_config("copy", **{old: 1})


def test_a_checkpoint_saved_with_the_old_names_loads(tmp_path):
    torch.manual_seed(0)
    result = train("copy", steps=1, controller_size=8, N=8, M=4, batch_size=2, eval_size=2, grad_clip=5.0,
                   progress=False, device="cpu")
    new_names = {new: old for old, new in RENAMED.items()}
    old_config = {new_names.get(k, k): v for k, v in result.config.items()
                  if k not in ("head_clip", "learn_initial_state")}      # options that did not exist then
    assert old_config["clip"] == 5.0 and "read_heads" in old_config
    save_checkpoint(tmp_path / "old.pt", {"config": old_config, "model": result.model.state_dict()})
    model, config = load_model(tmp_path / "old.pt", device="cpu")
    assert config == result.config
    x = torch.rand(5, 2, 9)
    torch.testing.assert_close(model(x), result.model(x), rtol=0, atol=0)
