"""Exercise 06_find_the_nan: find where the first NaN of any program is born, as ``first_nan(step, x0, T)``: the
step, the phase (the forward values or the backward pass) and the operation, by the name of its autograd node.

A *program* is a function ``step(state, t) -> state`` run for ``t = 0 .. T-1`` from ``x0`` (a leaf that requires
grad), then ``loss = x_T.sum()`` and ``loss.backward()``. The check's programs are built here from plain data
(:data:`PROGRAMS`: a name and a per-step schedule tensor), so its cases cross the grader's process boundary as
plain values; the harness (:func:`run_program`) builds the program, calls the learner's function on it and turns
the answer into numbers the checker compares (:func:`encoded`: the checker compares tensors and numbers only).
"""
import re
import warnings

import torch
from torch.overrides import TorchFunctionMode

from ntm_course.teaching.practice.exercises.cases import DTYPES, Case, Understanding, cast, rand


# --- the reference answer -------------------------------------------------------------------------------

class NaNWatch(TorchFunctionMode):
    """Inside ``with NaNWatch() as watch:``, every torch operation's result is looked at: ``watch.first`` is the
    autograd node name (``grad_fn.name()``) of the first result that holds a NaN (``nonfinite``: a NaN or an
    infinity), None while there is none."""

    def __init__(self, nonfinite=False):
        super().__init__()
        self.first, self.nonfinite = None, nonfinite

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.first is None and isinstance(out, torch.Tensor) and out.is_floating_point():
            bad = ~torch.isfinite(out) if self.nonfinite else torch.isnan(out)
            if bool(bad.any()):
                self.first = out.grad_fn.name() if out.grad_fn is not None else getattr(func, "__name__", "?")
        return out


ANOMALY = re.compile(r"Function '(\w+)' returned nan")


def first_nan(step, x0, T):
    """Where the first NaN of a program is born.

    The program: ``x_0 = x0`` (run as a leaf that requires grad), ``x_{t+1} = step(x_t, t)`` for
    ``t = 0 .. T-1``, then ``loss = x_T.sum()`` and its backward pass. ``step`` is pure: the same state and ``t``
    give the same result, so it may be run again.

    - **forward**: when some ``x_{t+1}`` holds a NaN, for the smallest such ``t``:
      ``{"step": t, "phase": "forward", "operation": name}``, where ``name`` is ``grad_fn.name()`` of the first
      tensor that ``step(x_t, t)`` computes (in the order it computes them) that holds a NaN;
    - **backward**: otherwise, when some gradient ``d loss / d x_t`` holds a NaN, for the largest such ``t`` (the
      backward pass meets the last step first; every step before the birth gets NaN gradients from it):
      ``{"step": t, "phase": "backward", "operation": name}``, where ``name`` is the backward node that
      ``torch.autograd.detect_anomaly`` names, e.g. ``"DivBackward0"`` (RuntimeError when it names none: a NaN
      born where two gradients of one tensor add up, ``inf + -inf``, which no program of the check makes);
    - ``None`` when neither holds a NaN. Infinities are not NaNs.
    """
    return _hunt(step, x0, T)


def _anomaly_name(step, x, t, grad_out, message=False):
    """The backward node that first returns a NaN when ``step(x, t)`` backpropagates ``grad_out``, per
    ``detect_anomaly`` (``message``: the whole text of its error instead)."""
    x = x.detach().requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with torch.autograd.detect_anomaly():
                torch.autograd.backward(step(x, t), grad_out)
        except RuntimeError as error:
            found = ANOMALY.search(str(error))
            return str(error) if message or not found else found.group(1)
    return None


def _hunt(step, x0, T, last=False, forward_only=False, earliest_gradient=False, message=False, output_op=False,
          nonfinite=False):
    """The reference (no option set) and the catalogued mistakes (one option each)."""
    bad = (lambda x: ~torch.isfinite(x)) if nonfinite else torch.isnan
    states, found = [x0.detach().requires_grad_()], None
    for t in range(T):
        with NaNWatch(nonfinite) as watch:
            states.append(step(states[-1], t))
        if bool(bad(states[-1]).any()):
            name = states[-1].grad_fn.name() if output_op else watch.first
            found = {"step": t, "phase": "forward", "operation": name}
            if not last:
                return found
    if found is not None or forward_only:
        return found
    grads = torch.autograd.grad(states[-1].sum(), states, allow_unused=True)
    born = [t for t in range(T) if grads[t] is not None and bool(bad(grads[t]).any())]
    if not born:
        return None
    t = born[0] if earliest_gradient else born[-1]
    name = _anomaly_name(step, states[t], t, grads[t + 1], message)
    if name is None:   # born where two gradients of one tensor add up (inf + -inf): no node returned it
        raise RuntimeError(f"step {t}'s gradient holds a NaN, but detect_anomaly found none in it")
    return {"step": t, "phase": "backward", "operation": name}


# --- the programs the check runs: a name and a schedule (T, B, ...) --------------------------------------

def _cosine(flags):
    """Memory ``(B, N, M)``: erase the rows flagged at step t, address by content with a hand-written cosine
    similarity (0 / 0 on an empty row), write the key where the weighting points."""
    def step(memory, t):
        memory = memory * (1 - flags[t].unsqueeze(-1))
        key = torch.tanh(memory.sum(dim=1))
        similarity = (memory * key.unsqueeze(1)).sum(dim=-1) / (memory.norm(dim=-1) * key.norm(dim=-1, keepdim=True))
        w = torch.softmax(5 * similarity, dim=1)
        return memory + w.unsqueeze(-1) * key.unsqueeze(1)
    return step


def _sharpen(gamma):
    """Weighting ``(B, N)``: blur it (a shift of -1, 0, +1), then sharpen it with gamma[t] ``(B, 1)``, by hand."""
    def step(w, t):
        blurred = 0.5 * w + 0.25 * torch.roll(w, 1, dims=1) + 0.25 * torch.roll(w, -1, dims=1)
        powered = blurred ** gamma[t]
        return powered / powered.sum(dim=1, keepdim=True)
    return step


def _sqrt(drift):
    """``x (B, D)``: ``sqrt(x) - drift[t]``."""
    def step(x, t):
        return torch.sqrt(x) - drift[t]
    return step


def _entropy(mask):
    """``x (B, N)`` in (0, 1): keep the entries of mask[t], then ``x - 0.1 x log x`` (0 * log 0 = 0 * -inf)."""
    def step(x, t):
        x = x * mask[t]
        return x - 0.1 * (x * torch.log(x))
    return step


def _safe_log(mask):
    """``x (B, N)``: keep the entries of mask[t], then ``sigmoid(log x)`` with ``torch.where`` guarding log 0: the
    values stay finite, the backward pass of log at 0 is 0 / 0."""
    def step(x, t):
        x = x * mask[t]
        return torch.sigmoid(torch.where(x > 0, torch.log(x), torch.zeros_like(x)))
    return step


def _norm(flags):
    """Memory ``(B, N, M)``: erase the rows flagged at step t, then add a tenth of each row's length, computed by
    hand as ``sqrt(sum(x ** 2))`` (an infinite slope at an empty row)."""
    def step(memory, t):
        memory = memory * (1 - flags[t].unsqueeze(-1))
        lengths = torch.sqrt((memory ** 2).sum(dim=-1, keepdim=True))
        return 0.5 * memory + 0.1 * lengths + 0.1
    return step


def _exp(scale):
    """``x (B, D)``: ``exp(scale[t] x)``, which overflows to inf (and stays there) without ever making a NaN."""
    def step(x, t):
        return torch.exp(scale[t] * x)
    return step


PROGRAMS = {"cosine": _cosine, "sharpen": _sharpen, "sqrt": _sqrt, "entropy": _entropy, "safe_log": _safe_log,
            "norm": _norm, "exp": _exp}
"""Each program's name and its maker: ``PROGRAMS[name](schedule) -> step``."""

OPERATIONS = ("AddBackward0", "DivBackward0", "ExpBackward0", "LinalgVectorNormBackward0", "LogBackward0",
              "MulBackward0", "PowBackward0", "PowBackward1", "RsubBackward1", "SigmoidBackward0", "SoftmaxBackward0",
              "SqrtBackward0", "SubBackward0", "SumBackward1", "WhereBackward0")
"""The node names the check compares one by one (``"operation is <name>"``); any other counts as another name."""
KEYS = ("step", "phase", "operation")


def _step_number(value):
    if isinstance(value, torch.Tensor) and value.numel() == 1 and not value.is_floating_point():
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"first_nan's 'step' must be an int (the step t), got {type(value).__name__}")
    return value


def encoded(answer):
    """The learner's answer as numbers the checker compares: ``step`` (-1 when the answer is None), one 0/1 per
    phase, one 0/1 per name of :data:`OPERATIONS` and one for any other name. ValueError for a malformed answer."""
    if answer is None:
        step, phase, operation = -1, None, None
    else:
        if not isinstance(answer, dict):
            raise ValueError(f"first_nan must return None or a dict with keys 'step', 'phase' and 'operation', "
                             f"got {type(answer).__name__}")
        if set(answer) != set(KEYS):
            raise ValueError(f"first_nan's dict must have exactly the keys 'step', 'phase' and 'operation', got "
                             f"{sorted(map(str, answer))}")
        step, phase, operation = _step_number(answer["step"]), answer["phase"], answer["operation"]
        if phase not in ("forward", "backward"):
            raise ValueError(f"first_nan's 'phase' must be 'forward' or 'backward', got {phase!r}")
        if not isinstance(operation, str):
            raise ValueError(f"first_nan's 'operation' must be a str, the autograd node's name such as "
                             f"'DivBackward0', got {type(operation).__name__}")
    found = {"step": step, "phase is forward": int(phase == "forward"), "phase is backward": int(phase == "backward")}
    found.update({f"operation is {name}": int(operation == name) for name in OPERATIONS})
    found["operation is another name"] = int(operation is not None and operation not in OPERATIONS)
    return found


def run_program(fn, args):
    """The harness: build the program ``(name, T, x0, schedule)``, run ``fn(step, x0, T)`` with ``x0`` a fresh leaf
    that requires grad (anomaly mode left as found) and encode its answer (:func:`encoded`)."""
    name, T, x0, schedule = args
    step = PROGRAMS[name](schedule)
    with torch.autograd.set_detect_anomaly(torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()):
        answer = fn(step, x0.detach().clone().requires_grad_(), T)
    return encoded(answer)


# --- the cases -------------------------------------------------------------------------------------------

def _flags(T, B, N, at=(), row=1, example=0):
    """Erase flags ``(T, B, N)``: row ``row`` of example ``example`` at each step of ``at``."""
    flags = torch.zeros(T, B, N, dtype=torch.float64)
    for t in at:
        flags[t, example, row] = 1.0
    return flags


def _mask(T, B, N, at=(), entry=2, example=0):
    """A mask ``(T, B, N)`` of ones, with a zero at ``entry`` of ``example`` at each step of ``at``."""
    mask = torch.ones(T, B, N, dtype=torch.float64)
    for t in at:
        mask[t, example, entry] = 0.0
    return mask


def _program(gen, name, T, B=2, at=(), **options):
    """``(name, T, x0, schedule)`` for the program ``name``, its trouble at the steps ``at``."""
    if name in ("cosine", "norm"):
        N, M = options.get("N", 5), options.get("M", 3)
        return name, T, rand(gen, B, N, M, low=-1.0, high=1.0), _flags(T, B, N, at, example=B - 1)
    if name == "sharpen":
        N = options.get("N", 64)
        gamma = torch.ones(T, B, 1, dtype=torch.float64)
        for t in at:
            gamma[t] = 400.0     # (about 1/64) ** 400 underflows to 0 in float64 and float32 alike
        return name, T, torch.softmax(0.1 * rand(gen, B, N), dim=1), gamma
    if name == "sqrt":
        D = options.get("D", 4)
        x0, drift = rand(gen, B, D, low=0.5, high=2.0), torch.zeros(T, B, D, dtype=torch.float64)
        for t in at:
            if t == 0:
                x0[B - 1, 1] = -0.5
            else:
                drift[t - 1, B - 1, 1] = 3.0   # x_t goes below zero: the sqrt of step t is NaN
        return name, T, x0, drift
    if name in ("entropy", "safe_log"):
        N = options.get("N", 6)
        return name, T, rand(gen, B, N, low=0.2, high=0.9), _mask(T, B, N, at, example=B - 1)
    if name == "exp":
        D = options.get("D", 3)
        return name, T, rand(gen, B, D, low=0.5, high=1.5), torch.full((T, B, D), 2.0, dtype=torch.float64)
    raise ValueError(f"program must be one of {sorted(PROGRAMS)}, got {name!r}")


def _both(label, args, hint=""):
    return [Case(f"{label}, {str(d)[6:]}", cast(args, d), hint) for d in DTYPES]


SPREAD_HINT = ("a NaN spreads: every later state holds one too, so report the first step whose state holds a NaN, "
               "and there the first tensor that holds one")
BACKWARD_HINT = ("every value is finite here, yet a gradient is NaN: run loss = x_T.sum() backwards and find the "
                 "last step t whose gradient d loss / d x_t holds a NaN (torch.autograd.grad on the states, or "
                 "retain_grad), then name its node with torch.autograd.detect_anomaly")
INFINITY_HINT = "an infinity is not a NaN: inf + 1, exp(inf) and inf * 2 are infinities; return None when no NaN"


def _build(gen):
    values = (_both("content addressing with a hand-written cosine similarity; a memory row erased at step 3, "
                    "T = 6", _program(gen, "cosine", 6, at=(3,)))
              + _both("a where that guards log(0); an entry set to 0 at step 3, T = 6",
                      _program(gen, "safe_log", 6, at=(3,)), BACKWARD_HINT)
              + _both("sharpening by hand, 64 rows, gamma = 400 at step 5, T = 8", _program(gen, "sharpen", 8, at=(5,)))
              + _both("x <- sqrt(x) - drift, a large drift at step 1, T = 5", _program(gen, "sqrt", 5, at=(2,)))
              + _both("x <- x - 0.1 x log x, an entry set to 0 at step 4, T = 7", _program(gen, "entropy", 7, at=(4,)))
              + _both("a row length by hand, sqrt(sum(x ** 2)); a row erased at step 2, T = 5",
                      _program(gen, "norm", 5, B=3, at=(2,)), BACKWARD_HINT))
    edge = (_both("a NaN at step 0: x0 holds a negative entry, x <- sqrt(x) - drift, T = 4",
                  _program(gen, "sqrt", 4, at=(0,)), SPREAD_HINT)
            + _both("a backward-only NaN at step 0, T = 3", _program(gen, "safe_log", 3, at=(0,)), BACKWARD_HINT)
            + _both("no NaN at all: content addressing, no row erased, T = 5", _program(gen, "cosine", 5),
                    "this program has no NaN, forward or backward: return None")
            + _both("infinities but no NaN: x <- exp(2 x) overflows at step 2, T = 4", _program(gen, "exp", 4),
                    INFINITY_HINT)
            + _both("a NaN at the last step: a row erased at step 4, T = 5", _program(gen, "cosine", 5, at=(4,)))
            + _both("a single step, T = 1: gamma = 400", _program(gen, "sharpen", 1, N=32, at=(0,)))
            + _both("two backward NaNs, rows erased at steps 1 and 3, T = 5: the backward pass meets step 3 first",
                    _program(gen, "norm", 5, at=(1, 3)), BACKWARD_HINT))
    return {"values": values, "edge cases": edge}


def _mistake(**option):
    def first_nan(step, x0, T):
        return _hunt(step, x0, T, **option)
    return first_nan


FIRST_NAN = Understanding(
    name="first_nan",
    reference=first_nan,
    build=_build,
    call=run_program,
    inputs=("program", "T", "x0", "schedule"),
    only_groups=("values", "edge cases"),
    notes={"values": "12 programs: forward NaNs (0 / 0, sqrt of a negative, 0 * log 0, underflow) and "
                     "backward-only NaNs, float32 and float64",
           "edge cases": "a NaN at step 0, forward and backward; no NaN; infinities only; the last step; T = 1; "
                         "two backward NaNs"},
    mistakes=[
        ("a NaN spreads to every later state: report the *first* step whose state holds a NaN, not the last",
         _mistake(last=True)),
        ("this NaN is born in the backward pass only: every value is finite (a where hides log(0), a sqrt sits at "
         "0), so when the forward pass is clean, backpropagate x_T.sum() and look at the gradients",
         _mistake(forward_only=True)),
        ("gradients flow from the last step back to the first, and a NaN flows with them: every step before its "
         "birth gets a NaN gradient too, so the birth is the *last* step t whose gradient d loss / d x_t holds a NaN",
         _mistake(earliest_gradient=True)),
        ("'operation' is the node's name only, such as 'DivBackward0', not the whole text of detect_anomaly's "
         "error: take the name out of \"Function 'DivBackward0' returned nan values in its 0th output.\"",
         _mistake(message=True)),
        ("the NaN spreads through the rest of the step: name the first tensor the step computes that holds a NaN "
         "(watch every operation), not the step's result", _mistake(output_op=True)),
        ("an infinity is not a NaN: log(0) = -inf is a value; the NaN is born where the infinity meets 0 or another "
         "infinity (0 * inf, inf - inf, inf / inf): test with torch.isnan, not torch.isfinite",
         _mistake(nonfinite=True)),
    ],
    hint="run the steps one at a time and test each state with torch.isnan (watching every operation of the first "
         "bad step); if none holds a NaN, backpropagate and find the last step with a NaN gradient, then name its "
         "node with torch.autograd.detect_anomaly",
    shape_hint="return None, or {'step': an int, 'phase': 'forward' or 'backward', 'operation': a node name such as "
               "'DivBackward0'}",
)

CHECKS = (FIRST_NAN,)
"""This module's checks, found through the syllabus row that names the module."""
