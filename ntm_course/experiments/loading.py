"""Trained models from checkpoints: load one (:func:`load_model`), or start a new run from its weights
(:func:`warm_start`)."""
from ..device import get_device, rng_isolated
from .checkpoints import checkpoint_file, load_checkpoint
from .config import ModelConfig, build_model, defaults, make_config
from .tasks import get_task


def model_from_checkpoint(state, path="checkpoint"):
    """Build the model a checkpoint describes and load its weights; mismatches are a ValueError. The caller's random
    generators are left as they were (the initial weights drawn and overwritten here come from a fork)."""
    try:
        config = make_config(**state["config"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: its config is not a valid training configuration ({error})") from None
    with rng_isolated():
        model = build_model(config)
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise ValueError(f"{path}: the weights do not match the model its config describes: "
                         f"{str(error).splitlines()[0][:300]}") from None
    return model, config


def load_model(path, device=None):
    """Load a trained model from a checkpoint file or a shipped model's name (:func:`checkpoints.checkpoint_file`):
    returns ``(model in eval mode, config)``."""
    path = checkpoint_file(path)
    model, config = model_from_checkpoint(load_checkpoint(path), str(path))
    return model.to(device or get_device()).eval(), config


def warm_start(model, source, config):
    """Copy a trained NTM's weights into ``model``, an NTM for ``config``'s task, wherever they fit.

    ``source``: a checkpoint path or a shipped model's name (:func:`ntm_course.experiments.pretrained.available`).
    The two must share every model option (controller, sizes, memory, heads); only the tasks' input and output widths
    may differ. Same-shaped tensors are copied whole. The controller's first layer reads ``[x_t, reads]``: the
    columns of the input channels both tasks have (the first ``min(in)``) and of the reads are copied. The
    output layer: the rows of the shared output channels. A channel only the new task has keeps its fresh
    initialisation. Raises ValueError when the models differ in anything else.
    """
    try:
        state = load_checkpoint(checkpoint_file(source))
    except ValueError as error:
        raise ValueError(f"init_from: {error}") from None
    saved = {**defaults(ModelConfig), **state["config"]}     # options newer than the checkpoint: their defaults
    different = sorted(k for k in defaults(ModelConfig) if saved[k] != config[k])
    if config["model"] != "ntm" or different:
        raise ValueError(f"init_from={source!r}: only an NTM with the same model options can start this one; "
                         f"they differ in {different or ['model']}")
    old_task, new_task = get_task(state["config"]["task"]), get_task(config["task"])
    shared_in = min(old_task.input_size, new_task.input_size)
    shared_out = min(old_task.output_size, new_task.output_size)
    reads = config["num_read_heads"] * config["M"]
    merged = {name: new.clone() for name, new in model.state_dict().items()}   # model untouched until all fit
    for name, new in merged.items():
        if name not in state["model"]:
            raise ValueError(f"init_from={source!r}: the checkpoint has no {name}")
        old = state["model"][name]
        if old.shape == new.shape:
            new.copy_(old)
        elif name.startswith("cell.output."):
            new[:shared_out] = old[:shared_out]
        elif name.startswith("cell.controller.") and new.dim() == 2 and old.shape[0] == new.shape[0]:
            new[:, :shared_in] = old[:, :shared_in]
            new[:, -reads:] = old[:, -reads:]
        else:
            raise ValueError(f"init_from={source!r}: cannot map {name} of shape {tuple(old.shape)} "
                             f"onto shape {tuple(new.shape)}")
    model.load_state_dict(merged)
