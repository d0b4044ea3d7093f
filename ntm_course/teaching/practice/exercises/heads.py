"""The check of the heads layer (``ntm_course.heads``): a controller's raw output cut into a head's parameters,
each through its activation."""
import torch
import torch.nn.functional as F

from ....heads import head_param_sizes, split_head_params
from .cases import Case, Exercise, Ladder, both, randn, random_cases


def _params_wrong(change):
    """split_head_params with one activation replaced: ``change(params, raw_parts) -> params``."""
    def wrong(raw, M, K, write=False, clip=20.0):
        params = split_head_params(raw, M, K, write, clip)
        raw = raw if clip is None else raw.clamp(-clip, clip)
        sizes = head_param_sizes(M, K, write)
        return {**params, **change(dict(zip(sizes, torch.split(raw, list(sizes.values()), dim=1))))}
    return wrong


def _raw_args(g, B, N, M, K, write):
    return (3 * randn(g, B, sum(head_param_sizes(M, K, write).values())), M, K, write, 20.0)


def _params_build(gen):
    values = [c for write in (False, True)
              for c in random_cases(gen, lambda g, B, N, M, K: _raw_args(g, B, N, M, K, write), repeats=1,
                                    uses_k=True)]
    edge = (both("raw values beyond the clip (+-50), write head", (50 * torch.sign(randn(gen, 2, 3 * 3 + 3 + 3)),
                                                                    3, 3, True, 20.0),
                 "clamp the raw vector to [-clip, clip] before the activations")
            + both("clip = 2", (5 * randn(gen, 3, 2 + 5 + 3), 2, 5, False, 2.0),
                   "clamp the raw vector to [-clip, clip] before the activations")
            + both("K = 1, batch 4", (randn(gen, 4, 3 + 1 + 3), 3, 1, False, 20.0)))
    grads = [Case("gradients, write head, batch 3, M=3, K=3, float64", _raw_args(gen, 3, 0, 3, 3, True)),
             Case("gradients, read head, batch 2, M=4, K=5, float64", _raw_args(gen, 2, 0, 4, 5, False))]
    return {"values": values, "edge cases": edge, "gradients": grads}


SPLIT_HEAD_PARAMS = Exercise(
    name="split_head_params",
    reference=split_head_params,
    build=_params_build,
    mistakes=[
        ("s: the softmax runs over the wrong axis -- normalise over the K shift weights (dim=1), not the batch",
         _params_wrong(lambda p: {"s": torch.softmax(p["s"], dim=0)})),
        ("gamma must be at least 1 (eq. 9 only sharpens): use 1 + softplus, not softplus alone",
         _params_wrong(lambda p: {"gamma": F.softplus(p["gamma"])})),
        ("beta: use softplus, which is positive and grows linearly; exp explodes, sigmoid caps beta at 1",
         _params_wrong(lambda p: {"beta": torch.exp(p["beta"])})),
        ("beta: use softplus, which is positive and grows linearly; exp explodes, sigmoid caps beta at 1",
         _params_wrong(lambda p: {"beta": torch.sigmoid(p["beta"])})),
        ("g and the erase vector lie in (0, 1): use a sigmoid",
         _params_wrong(lambda p: {"g": F.softplus(p["g"])})),
        ("the raw vector is not clipped: clamp it to [-clip, clip] before the activations",
         lambda raw, M, K, write=False, clip=20.0: split_head_params(raw, M, K, write, None)),
    ],
    hint="cut raw into key (M), beta (1), g (1), s (K), gamma (1) [, erase (M), add (M)] in that order, then "
         "apply: identity, softplus, sigmoid, softmax, 1 + softplus [, sigmoid, tanh]",
    shape_hint="return a dict with key (B, M), beta (B, 1), g (B, 1), s (B, K), gamma (B, 1), and for a write "
               "head erase (B, M) and add (B, M)",
    edge_note="clipping, K = 1",
    values_note="read and write heads, several batch sizes, M and K, float32 and float64",
    grad_args=(0,),
    ladder=Ladder(
        nudge="The controller emits one long raw vector per head. Clip it, cut it into the head's parameters in a "
              "fixed order, and pass each through the activation that puts it in its range: beta > 0, g in "
              "(0, 1), s a distribution over the offsets, gamma >= 1, and for a write head erase in (0, 1) and "
              "add in (-1, 1).",
        shapes="raw (B, P): P = M + 1 + 1 + K + 1 for a read head, 3M + K + 3 for a write head "
               "(heads.head_param_sizes(M, K, write) gives each part's width, in order). The result is a dict: "
               "key (B, M), beta (B, 1), g (B, 1), s (B, K), gamma (B, 1), and for a write head erase (B, M) and "
               "add (B, M). The cuts run along dim 1, and so does the softmax of s (over its K entries, not over "
               "the batch).",
        steps="unless clip is None: clamp raw to [-clip, clip]\n"
              "cut raw along dim 1 into consecutive parts of widths M, 1, 1, K, 1 (then M, M if write)\n"
              "key = the first part as it is\n"
              "beta = softplus(its part);  g = sigmoid(its part);  s = softmax of its part over the K entries\n"
              "gamma = 1 + softplus(its part)\n"
              "if write: erase = sigmoid(its part);  add = tanh(its part)\n"
              "return them in a dict, by name"),
)

CHECKS = (SPLIT_HEAD_PARAMS,)
"""This module's checks, found through the syllabus row that names the module."""
