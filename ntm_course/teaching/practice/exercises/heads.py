"""The checks of the heads layer and the memory step (``ntm_course.heads``, ``ntm_course.step``): a controller's
raw output cut into a head's parameters, each through its activation; one write head writing, then one read head
reading (lesson 8's stubs)."""
import torch
import torch.nn.functional as F

from ....addressing import address
from ....heads import HEAD_PARAMS, head_param_sizes, split_head_params
from ....memory import read, write
from ....step import single_head_step
from .cases import Case, Exercise, Ladder, both, randn, random_cases, weighting


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



# --- the memory step: one write head writes, then one read head reads --------------------------------

def _params(gen, B, M, K, write, g=None):
    """A head's parameters in their ranges, from a random raw vector (float64)."""
    raw = 2 * randn(gen, B, sum(head_param_sizes(M, K, write).values()))
    params = split_head_params(raw, M, K, write)
    if g is not None:
        params["g"] = torch.full((B, 1), g, dtype=torch.float64)
    return params


def _cast_all(args, dtype):
    """``args`` with every tensor, also inside a dict, cast to ``dtype``."""
    return tuple({k: v.to(dtype) for k, v in a.items()} if isinstance(a, dict)
                 else a.to(dtype) if isinstance(a, torch.Tensor) else a for a in args)


def _step_args(gen, B, N, M, K):
    return (randn(gen, B, N, M), _params(gen, B, M, K, True), _params(gen, B, M, K, False),
            weighting(gen, B, N), weighting(gen, B, N))


def _stay(B, M, K, row_key=None):
    """Parameters that keep a head where it was: gate ~0, all the shift on offset 0, gamma 20."""
    s = torch.zeros(B, K, dtype=torch.float64)
    s[:, K // 2] = 1.0
    key = row_key if row_key is not None else torch.ones(B, M, dtype=torch.float64)
    return {"key": key, "beta": torch.ones(B, 1, dtype=torch.float64), "g": torch.zeros(B, 1, dtype=torch.float64),
            "s": s, "gamma": torch.full((B, 1), 20.0, dtype=torch.float64)}


def _one_hot(B, N, i):
    w = torch.zeros(B, N, dtype=torch.float64)
    w[:, i] = 1.0
    return w


def _step_edge(gen):
    B, N, M, K = 2, 5, 3, 3
    add = torch.tanh(randn(gen, B, M))
    full = {**_stay(B, M, K), "erase": torch.ones(B, M, dtype=torch.float64), "add": add}
    same_row = (randn(gen, B, N, M), full, _stay(B, M, K), _one_hot(B, N, 2), _one_hot(B, N, 2))
    memory_ = randn(gen, B, N, M)
    jump = {**_stay(B, M, K, memory_[:, 4] * 3), "beta": torch.full((B, 1), 50.0, dtype=torch.float64),
            "g": torch.ones(B, 1, dtype=torch.float64)}
    content = (memory_, {**_stay(B, M, K), "erase": torch.zeros(B, M, dtype=torch.float64),
                         "add": torch.zeros(B, M, dtype=torch.float64)}, jump, _one_hot(B, N, 0), _one_hot(B, N, 1))
    cases = [("the write head replaces row 2 and the read head, on row 2 too, reads it back at the same step",
              same_row, "write first, then address and read the *new* memory: what is written at step t can be "
                        "read at step t"),
             ("a write that changes nothing, then a content jump of the read head to row 4", content, ""),
             ("batch 1, M = 1, K = 1", _step_args(gen, 1, 4, 1, 1), ""),
             ("K = 5, N = 3", _step_args(gen, 2, 3, 2, 5), "")]
    return [Case(f"{label}, {str(d)[6:]}", _cast_all(args, d), hint) for label, args, hint in cases
            for d in (torch.float32, torch.float64)]


def _step_build(gen):
    values = []
    for B, N, M, K in ((1, 5, 3, 3), (2, 6, 4, 3), (3, 7, 2, 5), (4, 4, 5, 1), (2, 8, 3, 3)):
        args = _step_args(gen, B, N, M, K)
        values += [Case(f"random, batch {B}, N={N}, M={M}, K={K}, {str(d)[6:]}", _cast_all(args, d))
                   for d in (torch.float32, torch.float64)]
    grads = [Case(f"gradients, batch {B}, N={N}, M={M}, K={K}, float64", _step_args(gen, B, N, M, K))
             for B, N, M, K in ((2, 6, 4, 3), (3, 5, 3, 5))]
    return {"values": values, "edge cases": _step_edge(gen), "gradients": grads}


def _heads_address(memory_, params, w_prev):
    return address(memory_, *(params[name] for name in HEAD_PARAMS), w_prev)


def _step_wrong(read_old=False, swap_prev=False, old_memory=False, swap_out=False, swap_erase=False):
    """A wrong memory step: one of the classic slips."""
    def memory_step(memory_, write_params, read_params, w_write_prev, w_read_prev):
        if swap_prev:
            w_write_prev, w_read_prev = w_read_prev, w_write_prev
        w_write = _heads_address(memory_, write_params, w_write_prev)
        e, a = write_params["erase"], write_params["add"]
        new = write(memory_, w_write, *((a, e) if swap_erase else (e, a)))
        source = memory_ if read_old else new
        w_read = _heads_address(source, read_params, w_read_prev)
        out = (memory_ if old_memory else new, read(source, w_read), w_read, w_write)
        return (out[0], out[1], out[3], out[2]) if swap_out else out
    return memory_step


MEMORY_STEP = Exercise(
    name="memory_step",
    reference=single_head_step,
    build=_step_build,
    mistakes=[
        ("the read head used the memory from before the write: write first, then address and read the new "
         "memory M_t", _step_wrong(read_old=True)),
        ("each head starts from its own previous weighting: the write head from w_write_prev, the read head from "
         "w_read_prev", _step_wrong(swap_prev=True)),
        ("you returned the memory from before the write: return M_t, the memory after erase and add",
         _step_wrong(old_memory=True)),
        ("return the weightings in the order (memory, r, w_read, w_write): the read head's first",
         _step_wrong(swap_out=True)),
        ("erase and add are swapped: write(memory, w, write_params['erase'], write_params['add'])",
         _step_wrong(swap_erase=True)),
    ],
    hint="w_write = address(memory, write head's key, beta, g, s, gamma, w_write_prev); memory = write(memory, "
         "w_write, erase, add); w_read = address(new memory, read head's parameters, w_read_prev); r = read(new "
         "memory, w_read)",
    shape_hint="return (memory (B, N, M), r (B, M), w_read (B, N), w_write (B, N)); the parameters are dicts of "
               "(B, ...) tensors: key (B, M), beta, g, gamma (B, 1), s (B, K), and for the write head erase, add (B, M)",
    edge_note="reading back at the same step what was written, a content jump, K = 1, K wider than N",
    values_note="several batch and memory sizes and shift widths K, float32 and float64",
    grad_args=(0, 3, 4),
    ladder=Ladder(
        nudge="One tick of the machine's memory, in the course's order: the write head finds its row and writes "
              "there, then the read head finds its row in the memory *as it is now* and reads it. Each head "
              "addresses with its own parameters, starting from its own previous weighting; you wrote every "
              "function this needs: address, write and read.",
        shapes="memory (B, N, M); write_params: a dict, key (B, M), beta, g, gamma (B, 1), s (B, K), erase and "
               "add (B, M); read_params: the same without erase and add; w_write_prev and w_read_prev (B, N). "
               "Return a tuple: the new memory (B, N, M), the read vector r (B, M), then the read head's new "
               "weighting (B, N) and the write head's (B, N). Each weighting runs over the N rows (dim 1); "
               "address, write and read already keep to their axes, so the step itself only passes tensors on.",
        steps="w_write = address(memory, the write head's key, beta, g, s, gamma, w_write_prev)   (eqs. 5-9)\n"
              "new = write(memory, w_write, the write head's erase, its add)                     (eqs. 3-4)\n"
              "w_read = address(new, the read head's key, beta, g, s, gamma, w_read_prev)\n"
              "r = read(new, w_read)                                                           (eq. 2)\n"
              "return new, r, w_read, w_write"),
    worker=single_head_step,
)

CHECKS = (SPLIT_HEAD_PARAMS, MEMORY_STEP)
"""This module's checks, found through the syllabus row that names the module."""
