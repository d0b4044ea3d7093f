"""Exercise 09_train_step: one training step with the paper's protocol (section 4), checked by two SGD steps on a
tiny NTM, compared by their losses and the parameters they leave.

A case holds recipes for the model and the optimizer rather than the objects: every call builds fresh ones (the
learner's steps change them), and a report shows the recipe instead of a whole model.
"""
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ntm_course.device import rng_isolated
from ntm_course.experiments.tasks import bits_per_sequence, copy_batch
from ntm_course.ntm import NTM
from ntm_course.teaching.practice.exercises.cases import Case, Exercise


# --- the reference answer -------------------------------------------------------------------------------

def train_step(model, optimizer, inputs, targets, mask, clip=10.0):
    """One training step on a batch of episodes, with the paper's protocol (section 4).

    1. forget the previous step's gradients;
    2. run the model on ``inputs (T, B, in)``: logits ``(T, B, out)``;
    3. the loss is the cost in bits per sequence on the scored steps
       (``ntm_course.experiments.tasks.bits_per_sequence``);
    4. backpropagate, clip every gradient element to ``[-clip, clip]``, take the optimizer's step.

    Returns:
        the loss before the step, a Python float (bits per sequence).
    """
    optimizer.zero_grad()
    loss = bits_per_sequence(model(inputs), targets, mask)
    loss.backward()
    torch.nn.utils.clip_grad_value_(model.parameters(), clip)
    optimizer.step()
    return loss.item()


# --- the check -----------------------------------------------------------------------------------------

@dataclass
class ModelRecipe:
    """How a train_step case builds its tiny NTM (shown in reports instead of a whole model)."""
    seed: int
    N: int = 6
    M: int = 4

    def build(self):
        with rng_isolated(self.seed):   # its own draw: the caller's generators, on every device, are left alone
            return NTM(4, 3, controller="feedforward", controller_size=8, N=self.N, M=self.M).double()

    def __repr__(self):
        return f"NTM(4, 3, controller='feedforward', controller_size=8, N={self.N}, M={self.M}), float64"


@dataclass
class OptimizerRecipe:
    """The optimizer a train_step case hands the learner: plain SGD on the model's parameters."""
    lr: float = 0.5

    def build(self, model):
        return torch.optim.SGD(model.parameters(), lr=self.lr)

    def __repr__(self):
        return f"torch.optim.SGD(model.parameters(), lr={self.lr})"


def _two_steps(fn, args):
    """Run ``fn`` twice on one model and optimizer: the two losses and the parameters afterwards, by name."""
    recipe, optimizer_recipe, inputs, targets, mask, clip = args
    model = recipe.build()
    optimizer = optimizer_recipe.build(model)
    losses = [fn(model, optimizer, inputs, targets, mask, clip) for _ in range(2)]
    return {"loss of step 1": losses[0], "loss of step 2": losses[1],
            **{f"{name} after step 2": p.detach().clone() for name, p in model.named_parameters()}}


def _train_case(gen, label, seed, batch_size, clip, max_length=2, hint=""):
    batch = copy_batch(batch_size, 1, max_length, width=3, generator=gen)
    return Case(label, (ModelRecipe(seed), OptimizerRecipe(0.5), batch.inputs.double(), batch.targets.double(),
                        batch.mask.double(), clip), hint)


def _train_build(gen):
    values = [_train_case(gen, f"copy, batch {B}, lengths 1-2, clip 10", seed, B, 10.0)
              for seed, B in ((0, 1), (1, 5))]
    edge = [_train_case(gen, "clip = 0.01: the clipping decides the step", 3, 4, 0.01,
                        hint="clip each gradient element to [-clip, clip] after backward() and before step()"),
            _train_case(gen, "padded batch: lengths 1-4, most steps unscored", 4, 6, 10.0, max_length=4,
                        hint="only the steps where mask is 1 count: use bits_per_sequence(logits, targets, mask)")]
    return {"values": values, "edge cases": edge}


def _train_wrong(zero_grad=True, clip="value", loss="bits"):
    def wrong(model, optimizer, inputs, targets, mask, clip_value=10.0):
        if zero_grad:
            optimizer.zero_grad()
        logits = model(inputs)
        if loss == "bits":
            value = bits_per_sequence(logits, targets, mask)
        elif loss == "unmasked":
            value = bits_per_sequence(logits, targets, torch.ones_like(mask))
        else:
            value = F.binary_cross_entropy_with_logits(logits, targets)
        value.backward()
        if clip == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value)
        elif clip == "norm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_value)
        optimizer.step()
        return value.item()
    return wrong


TRAIN_STEP = Exercise(
    name="train_step",
    reference=train_step,
    build=_train_build,
    call=_two_steps,
    mistakes=[
        ("gradients pile up from step to step: call optimizer.zero_grad() before backward()",
         _train_wrong(zero_grad=False)),
        ("the gradients are not clipped: torch.nn.utils.clip_grad_value_(model.parameters(), clip) between "
         "backward() and step()", _train_wrong(clip=None)),
        ("the paper clips each gradient element to [-clip, clip] (clip_grad_value_), not the gradient's norm",
         _train_wrong(clip="norm")),
        ("the loss counts every step: only the steps where mask is 1 are scored", _train_wrong(loss="unmasked")),
        ("the loss is a mean over every bit: the cost is in bits per sequence -- use "
         "ntm_course.experiments.tasks.bits_per_sequence(logits, targets, mask)", _train_wrong(loss="mean")),
    ],
    hint="zero_grad, logits = model(inputs), loss = bits_per_sequence(logits, targets, mask), backward, "
         "clip_grad_value_, step, return loss.item()",
    shape_hint="return the loss as a Python float (loss.item())",
    edge_note="strong clipping, padded episodes",
    values_note="two steps of SGD on a tiny NTM, float64: the losses and the parameters afterwards",
)

CHECKS = (TRAIN_STEP,)
"""This module's checks, found through the syllabus row that names the module."""
