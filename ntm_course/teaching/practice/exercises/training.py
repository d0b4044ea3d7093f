"""The check of lesson 9's stub ``training_step``: one optimisation step (paper section 4) on a loss the caller
computes (``loss_of``), checked by two steps on a tiny NTM, compared by the losses and the parameters they leave.

A case holds recipes for the model, the optimiser and the batch rather than the objects: each call builds fresh
ones (a step changes them), and a report shows a recipe instead of a whole model. The graded exercise
``09_train_step`` asks for more (the loss itself, from the batch) and is not checked here.
"""
from dataclasses import dataclass

import torch

from ....device import rng_isolated
from ....experiments.tasks import bits_per_sequence, copy_batch
from ....ntm import NTM
from ....step import training_step
from .cases import Case, Exercise, Ladder


@dataclass
class TinyNTM:
    """The model of a case, built afresh for every call (float64)."""
    seed: int
    stale_gradients: bool = False

    def build(self):
        with rng_isolated(self.seed):
            model = NTM(4, 3, controller="lstm", controller_size=6, N=5, M=3).double()
        if self.stale_gradients:           # gradients left over from an earlier backward pass
            sum(p.sum() for p in model.parameters()).mul(3.0).backward()
        return model

    def __repr__(self):
        return (f"NTM(4, 3, controller_size=6, N=5, M=3), float64"
                + (", with gradients left from an earlier backward()" if self.stale_gradients else ""))


@dataclass
class Optimiser:
    """The optimiser of a case: ``kind`` is ``"sgd"`` or ``"adam"``."""
    kind: str = "sgd"
    lr: float = 0.3

    def build(self, model):
        make = torch.optim.SGD if self.kind == "sgd" else torch.optim.Adam
        return make(model.parameters(), lr=self.lr)

    def __repr__(self):
        return f"torch.optim.{'SGD' if self.kind == 'sgd' else 'Adam'}(model.parameters(), lr={self.lr})"


@dataclass
class CopyLoss:
    """``loss_of``: the model on a batch of copy episodes, its cost in bits per sequence."""
    seed: int
    batch_size: int = 3

    def build(self, model):
        batch = copy_batch(self.batch_size, 1, 2, width=3, generator=torch.Generator().manual_seed(self.seed))
        inputs, targets, mask = batch.inputs.double(), batch.targets.double(), batch.mask.double()
        return lambda: bits_per_sequence(model(inputs), targets, mask)

    def __repr__(self):
        return f"the cost in bits per sequence of the model on {self.batch_size} copy episodes (lengths 1-2)"


def _two_steps(fn, args):
    """Run ``fn`` twice on one model and optimiser: both losses and the parameters afterwards, by name."""
    model_recipe, optimiser_recipe, loss_recipe, clip = args
    model = model_recipe.build()
    optimiser = optimiser_recipe.build(model)
    loss_of = loss_recipe.build(model)
    losses = [fn(model, optimiser, loss_of, clip) for _ in range(2)]
    return {"loss of step 1": losses[0], "loss of step 2": losses[1],
            **{f"{name} after step 2": p.detach().clone() for name, p in model.named_parameters()}}


def _case(label, seed, clip=10.0, optimiser="sgd", stale=False, hint=""):
    return Case(label, (TinyNTM(seed, stale), Optimiser(optimiser), CopyLoss(seed), clip), hint)


def _build(gen):
    values = [_case("SGD, clip 10", 0), _case("SGD, clip 10, another model and batch", 1),
              _case("Adam, clip 10", 2, optimiser="adam")]
    edge = [_case("clip = 0.001: the clip decides the update", 3, clip=0.001,
                  hint="clip each gradient element to [-clip, clip] after backward() and before step()"),
            _case("gradients left on the parameters from before the call", 4, stale=True,
                  hint="forget the old gradients first: optimizer.zero_grad() before backward()")]
    return {"values": values, "edge cases": edge}


def _wrong(zero_grad="first", clip="value"):
    """A training step with one of the classic slips."""
    def step(model, optimizer, loss_of, clip_value=10.0):
        if zero_grad == "first":
            optimizer.zero_grad()
        loss = loss_of()
        loss.backward()
        if zero_grad == "after backward":
            optimizer.zero_grad()
        if clip == "value":
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value)
        elif clip == "norm":
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip_value)
        optimizer.step()
        if clip == "after step":
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value)
        return loss
    return step


TRAINING_STEP = Exercise(
    name="training_step",
    reference=training_step,
    build=_build,
    call=_two_steps,
    mistakes=[
        ("the gradients pile up from step to step: call optimizer.zero_grad() before backward()",
         _wrong(zero_grad=None)),
        ("the gradients are not clipped before the update: clip between backward() and step()",
         _wrong(clip=None)),
        ("the paper clips each gradient element to [-clip, clip] (torch.nn.utils.clip_grad_value_), not the "
         "gradient's norm", _wrong(clip="norm")),
    ],
    hint="zero_grad, loss = loss_of(), backward, clip every gradient element to [-clip, clip], step, return loss",
    shape_hint="return the loss tensor that loss_of() gave you (one number)",
    edge_note="a clip that decides the update, gradients left from before",
    values_note="two steps of SGD or Adam on a tiny NTM, float64: both losses and the parameters afterwards",
    ladder=Ladder(
        nudge="Training repeats one small step: measure how wrong the model is on a batch (the loss), ask autograd "
              "which way each parameter should move (the gradients), keep any gradient from being huge (the "
              "paper clips each element to [-10, 10]), and let the optimiser move the parameters. Gradients add "
              "up in PyTorch, so the old ones must go first.",
        shapes="model: an nn.Module (your NTM); optimizer: a torch optimiser over its parameters; loss_of(): "
               "runs the model on this step's batch (inputs (T, B, 9): time on dim 0, the episodes on dim 1) and "
               "returns the loss, a 0-dim tensor (bits per sequence, averaged over the B episodes); clip: a "
               "number. Return that loss tensor. The clip works element by element on each parameter's .grad, "
               "which has the parameter's shape: nothing is summed or averaged.",
        steps="forget the gradients of the last step              (optimizer.zero_grad())\n"
              "loss = loss_of()                                   (the forward pass)\n"
              "backpropagate from loss                            (the backward pass)\n"
              "clip every gradient element to [-clip, clip]       (nn.utils.clip_grad_value_)\n"
              "let the optimiser take its step\n"
              "return loss"),
    worker=training_step,
)

CHECKS = (TRAINING_STEP,)
"""This module's checks, found through the syllabus row that names the module."""
