"""``check(name, fn)``: compare a learner's function with the library's reference and explain what differs.

A check runs the learner's function on an exercise's cases (see :mod:`.exercises`) and scores four groups,
one point each:

- ``values``: the result matches the reference on ordinary random inputs (several batch sizes, shift widths,
  float32 and float64). The other groups only score once this one passes.
- ``edge cases``: the inputs learners get wrong (zero vectors, one-hot weightings, wrap-around shifts, ...).
- ``gradients``: gradients flow back to the inputs and equal the reference's (no ``.detach()``, no NumPy).
- ``inputs untouched``: the function does not modify its arguments in place.

Nothing the learner's code does makes a check raise: exceptions, wrong types, shapes or devices and NaNs
become a failed case with the input, the expected and the actual result and a hint at the likely mistake.
A check leaves the learner's session as it found it (random number generators, grad mode, default dtype,
thread count).

The scoring is split in two so that the same code serves two callers. *Running* the learner's function on a
case gives an :class:`Outcome` (its result and its arguments afterwards, or the error it raised) or a
:class:`GradOutcome` (the gradients it lets through); *scoring* compares outcomes with the reference's, computed
here. ``check`` (the learner's instant feedback) runs the function in-process (:func:`run_check`);
the instructor's grader (``ntm-course-instructor grade``) runs it in an isolated worker process, gets back only
the outcomes, and scores them in its own process with :func:`score_outcomes`.
"""
import builtins
import contextlib
import copy
import math
import random
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


TOLERANCES = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-7, atol=1e-9)}


class NotImplementedYet(Exception):
    """The learner's function raised NotImplementedError: the exercise stub is still in place."""


@dataclass
class Failure:
    """Why one case failed: what went wrong, on which input, and a hint."""
    case: object
    problem: str
    expected: object = None
    got: object = None
    hint: str = ""
    leaf: tuple = None   # (path, expected, got) of the first differing value in a structured result


@dataclass
class Outcome:
    """What the learner's function did on one case: its result and its arguments after the call, or the
    error it raised (``not_implemented`` when that error is the exercise stub's NotImplementedError)."""
    got: Any = None
    args: Any = None
    error: BaseException = None
    not_implemented: bool = False


@dataclass
class GradOutcome:
    """The gradients the learner's function let through on one case (None: none reach the inputs), or the
    error it raised when its inputs required gradients."""
    grads: Any = None
    error: BaseException = None


@dataclass
class CheckResult:
    """The outcome of :func:`check`: ``passed`` (bool), ``points`` and ``max_points``, and the report text.

    ``pending``: a graded exercise's answer, handed in to be scored by the instructor's grader (this install
    holds no reference for it). ``ready``: the cells after the check may run the learner's function (it passed,
    or it is pending).
    """
    name: str
    points: int
    max_points: int
    groups: dict = field(default_factory=dict)   # group -> True / False / None (not scored)
    report: str = ""
    failures: dict = field(default_factory=dict)   # group -> Failure, for the groups that failed
    pending: bool = False

    @property
    def passed(self):
        return self.points == self.max_points and not self.pending

    @property
    def ready(self):
        return self.passed or self.pending

    def __repr__(self):
        return f"CheckResult({self.name!r}, points={self.points}, max_points={self.max_points})"


def clone(x):
    """A deep copy of a case's inputs, so the learner never touches the originals."""
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, (tuple, list)):
        return type(x)(clone(v) for v in x)
    if isinstance(x, dict):
        return {k: clone(v) for k, v in x.items()}
    return copy.deepcopy(x)


def _leaves(x, path="result"):
    """``[(path, value)]`` for the tensors and numbers in a (nested) tuple, list or dict."""
    if isinstance(x, dict):
        return [leaf for k, v in x.items() for leaf in _leaves(v, f"{path}[{k!r}]")]
    if isinstance(x, (tuple, list)):
        return [leaf for i, v in enumerate(x) for leaf in _leaves(v, f"{path}[{i}]")]
    return [(path, x)]


def _shape(x):
    return "(" + ", ".join(str(s) for s in x.shape) + ")"


class Foreign:
    """Stands for a value of a type the grader does not accept back from a worker (only its type name)."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:60]

    def __repr__(self):
        return f"<{self.type_name}>"


def type_name(x):
    return x.type_name if isinstance(x, Foreign) else type(x).__name__


def _is_numpy(x):
    return isinstance(x, np.ndarray) or (isinstance(x, Foreign) and x.type_name == "ndarray")


def _compare_leaf(path, expected, got):
    """None when ``got`` matches ``expected`` (a tensor or a number), else ``(kind, message)``."""
    if isinstance(expected, (int, float)):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.detach().cpu().item() if got.device.type != "meta" else got
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            return "type", f"{path} should be a number, got {type_name(got)}"
        if not math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-7):
            return "values", f"{path} is {got:.6g}, expected {expected:.6g}"
        return None
    if _is_numpy(got):
        return "numpy", f"{path} is a NumPy array; return a torch.Tensor"
    if not isinstance(got, torch.Tensor):
        return "type", f"{path} should be a torch.Tensor, got {type_name(got)}"
    if got.device != expected.device:
        return "device", f"{path} is on {got.device}, expected on {expected.device} like the inputs"
    if got.shape != expected.shape:
        return "shape", f"{path} has shape {_shape(got)}, expected {_shape(expected)}"
    if got.dtype != expected.dtype:
        return "dtype", f"{path} is {got.dtype}, expected {expected.dtype} like the inputs"
    got, expected = got.detach(), expected.detach()
    if bool((torch.isnan(got) & ~torch.isnan(expected)).any()):
        return "nan", f"{path} contains NaN"
    if not torch.allclose(got, expected, equal_nan=True, **TOLERANCES[expected.dtype]):
        diff = (got - expected).abs().nan_to_num(nan=float("inf")).max().item()
        return "values", f"{path} differs from the expected values (largest difference {diff:.3g})"
    return None


def compare(expected, got):
    """None when the structures and all leaves match, else ``(kind, message)`` for the first difference."""
    found = _first_difference(expected, got)
    return found and found[:2]


def _first_difference(expected, got):
    """None, or ``(kind, message, path, expected leaf, got leaf)`` for the first difference."""
    if not isinstance(expected, (dict, tuple)):
        problem = _compare_leaf("result", expected, got)
        return problem and (*problem, "result", expected, got)
    exp_leaves = _leaves(expected)
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return ("type", f"result should be a dict with keys {list(expected)}, got {type_name(got)}",
                    None, None, None)
        if set(got) != set(expected):
            return "keys", f"result has keys {sorted(map(str, got))}, expected {sorted(expected)}", None, None, None
        got = {k: got[k] for k in expected}
    elif isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return ("type", (f"result should be a tuple of {len(expected)} values, got {type_name(got)}"
                             + (f" of {len(got)}" if isinstance(got, (tuple, list)) else "")), None, None, None)
    got_leaves = _leaves(got)
    if len(got_leaves) != len(exp_leaves):
        return "type", f"result should hold {len(exp_leaves)} values, got {len(got_leaves)}", None, None, None
    for (path, e), (_, g) in zip(exp_leaves, got_leaves):
        problem = _compare_leaf(path, e, g)
        if problem:
            return (*problem, path, e, g)
    return None


def same(a, b):
    """True when two results match (used to recognise a known mistake)."""
    try:
        return compare(a, b) is None
    except Exception:  # a mistake's output of another structure simply does not match
        return False


BRIEF_ELEMENTS = 24     # in a long report, tensors with more elements are summarised


def format_value(x, brief=False):
    """A short printable form of a tensor or number; ``brief``: summarise tensors of many elements."""
    if isinstance(x, torch.Tensor):
        kind = f"{_shape(x)} {str(x.dtype).replace('torch.', '')}" + (
            "" if x.device.type == "cpu" else f" on {x.device}")
        if brief and x.numel() > BRIEF_ELEMENTS:
            return f"tensor {kind}"
        try:
            text = np.array2string(x.detach().cpu().numpy(), precision=4, suppress_small=True, threshold=40,
                                   edgeitems=2, max_line_width=100)
        except Exception:   # a meta tensor, an unusual dtype: its kind is all there is to show
            return f"tensor {kind}"
        return f"{text}  {kind}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {format_value(v, brief)}" for k, v in x.items()) + "}"
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(format_value(v, brief) for v in x) + ")"
    return repr(x)


def _indent(text, prefix):
    return "\n".join(prefix + line for line in str(text).splitlines())


# --- running the learner's function (in-process for check, in the worker for the gradebook) -----------

def call_learner(exercise, fn, args):
    """Run ``fn`` on one case's (cloned) ``args``: an :class:`Outcome`, never an exception."""
    try:
        got = exercise.call(fn, args)
    except NotImplementedError:
        return Outcome(args=args, not_implemented=True)
    except (Exception, SystemExit) as error:   # the learner's code failed: report it, never raise
        return Outcome(args=args, error=error)
    return Outcome(got=got, args=args)


def projected_gradients(exercise, fn, args):
    """Gradients, with respect to the arguments in ``exercise.grad_args``, of a fixed random projection of
    ``fn``'s result; None when no gradient reaches the inputs. Raises what ``fn`` raises."""
    inputs = [args[i].requires_grad_() for i in exercise.grad_args]
    out = exercise.call(fn, args)
    leaves = [x for _, x in _leaves(out) if isinstance(x, torch.Tensor) and x.is_floating_point()]
    if not leaves or not any(x.requires_grad for x in leaves):
        return None
    gen = torch.Generator().manual_seed(1)
    loss = sum((x * torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)).sum()
               for x in leaves if x.requires_grad)
    found = torch.autograd.grad(loss, inputs, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, found)]


def learner_gradients(exercise, fn, args):
    """:func:`projected_gradients` of ``fn`` as a :class:`GradOutcome`, never an exception."""
    try:
        return GradOutcome(grads=projected_gradients(exercise, fn, args))
    except (Exception, SystemExit) as error:
        return GradOutcome(error=error)


class LocalOutcomes:
    """Outcomes computed here, by calling the learner's function (what ``check`` does)."""

    def __init__(self, exercise, fn):
        self.exercise, self.fn = exercise, fn

    def outcome(self, group, index, case):
        return call_learner(self.exercise, self.fn, clone(case.args))

    def gradient(self, index, case):
        return learner_gradients(self.exercise, self.fn, clone(case.args))


class RemoteOutcomes:
    """Outcomes computed elsewhere (the gradebook's worker): ``{group: [Outcome or GradOutcome, ...]}``,
    in the order of ``exercise.cases(group)``. A missing outcome counts as an error."""

    def __init__(self, outcomes):
        self.outcomes = outcomes

    def _get(self, group, index):
        found = self.outcomes.get(group, [])
        return found[index] if index < len(found) else None

    def outcome(self, group, index, case):
        return self._get(group, index) or Outcome(error=RuntimeError("no result came back for this case"))

    def gradient(self, index, case):
        return self._get("gradients", index) or GradOutcome(error=RuntimeError("no result came back"))


class Runner:
    """Scores the learner's outcomes on the cases, turning everything that can go wrong into a Failure."""

    def __init__(self, exercise, outcomes):
        self.exercise, self.outcomes = exercise, outcomes

    def call(self, fn, args):
        return self.exercise.call(fn, args)

    def run(self, case, group="values", index=0):
        """Score one case: ``(Failure or None for the values, Failure or None for the inputs)``."""
        ex = self.exercise
        expected = self.call(ex.reference, clone(case.args))
        outcome = self.outcomes.outcome(group, index, case)
        if outcome.not_implemented:
            raise NotImplementedYet
        if outcome.error is not None:
            error = outcome.error
            return Failure(case, f"your function raised {type(error).__name__}: {error}",
                           hint=ex.error_hint(error)), None
        try:
            problem = _first_difference(expected, outcome.got)
        except Exception as error:   # an exotic result: say so rather than raise
            problem = ("type", f"the result could not be compared with the reference ({_brief(error)})",
                       None, None, None)
        failure = None
        if problem:
            kind, message, path, e, g = problem
            failure = Failure(case, message, expected, outcome.got, self.hint(kind, case, outcome.got),
                              (path, e, g))
        return failure, self.touched(case, outcome.args)

    def touched(self, case, after):
        """A Failure when the function changed a tensor argument in place, else None."""
        ex = self.exercise
        if not isinstance(after, (tuple, list)) or len(after) != len(case.args):   # every runner sends them back
            return Failure(case, "the arguments did not come back after the call, so the check cannot tell "
                                 "whether your function changed them", hint="run the check again")
        changed = []
        for name, before, now in zip(ex.arg_names, case.args, after):
            if isinstance(before, torch.Tensor):
                try:
                    same_ = (isinstance(now, torch.Tensor) and now.shape == before.shape
                             and now.device == before.device and torch.equal(before, now))
                except Exception:
                    same_ = False
                if not same_:
                    changed.append(name)
        if not changed:
            return None
        return Failure(case, f"your function changed its input {', '.join(changed)} in place",
                       hint="use out-of-place operations (x * y, torch.cat, ...) rather than x.mul_(y), "
                            "x *= y or x[i] = ...: callers still need their tensors, and autograd "
                            "needs the originals to compute gradients")

    def hint(self, kind, case, got):
        """The most specific hint: a recognised mistake, then the kind of problem, then the case's own hint."""
        ex = self.exercise
        if kind == "values":
            for mistake_hint, mistake in ex.mistakes:
                try:
                    wrong = self.call(mistake, clone(case.args))
                except Exception:
                    continue
                if same(wrong, got):
                    return mistake_hint
        generic = {
            "numpy": "keep everything in torch: gradients cannot flow through NumPy arrays",
            "dtype": "create new tensors with the inputs' dtype (torch.zeros_like(x), x.new_zeros(...), "
                     "dtype=x.dtype); never assume float32",
            "device": "the result must be on the inputs' device: create new tensors with torch.zeros_like(x), "
                      "x.new_zeros(...) or device=x.device, and don't move anything with .to(...), .cuda() or "
                      ".cpu() inside the function",
            "shape": ex.shape_hint,
            "nan": case.hint or "a division by zero or the log of 0? Guard denominators with a small eps",
            "keys": ex.shape_hint,
            "type": ex.shape_hint,
        }
        return generic.get(kind) or case.hint or ex.hint

    def gradients(self, case, index=0):
        """Failure or None: gradients of a fixed projection of the result must equal the reference's."""
        ex = self.exercise
        expected = projected_gradients(ex, ex.reference, clone(case.args))
        outcome = self.outcomes.gradient(index, case)
        if outcome.error is not None:
            error = outcome.error
            return Failure(case, f"your function raised {type(error).__name__} when its inputs require "
                                 f"gradients: {error}", hint=ex.error_hint(error))
        got = outcome.grads
        if got is None:
            return Failure(case, "no gradient reaches the inputs: the result is cut off from the graph",
                           hint="don't call .detach(), .item(), .numpy(), .tolist() or torch.tensor(...) on "
                                "values computed from the inputs; stay with torch operations end to end")
        names = [ex.arg_names[i] for i in ex.grad_args]
        if not isinstance(got, (list, tuple)) or len(got) != len(expected):
            return Failure(case, "the gradients could not be computed", hint=ex.hint)
        for name, e, g in zip(names, expected, got):
            try:
                ok = (isinstance(g, torch.Tensor) and g.shape == e.shape and g.dtype == e.dtype
                      and g.device == e.device and torch.allclose(e, g, **TOLERANCES[e.dtype]))
            except Exception:
                ok = False
            if not ok:
                return Failure(case, f"the gradient with respect to {name} differs from the reference's",
                               e, g, hint="the values match but the gradients don't: is part of the "
                                          "computation detached or replaced by a constant?")
        return None


def _first_differing_example(expected, got):
    """The batch index of the first example where two same-shaped batched tensors differ, else None."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.dim() < 2 \
            or got.shape != expected.shape or expected.shape[0] < 2 or got.device != expected.device \
            or got.dtype != expected.dtype:
        return None
    try:
        e, g = expected.detach().double(), got.detach().double()
        close = torch.isclose(g, e, equal_nan=True, **TOLERANCES[expected.dtype]).flatten(1).all(dim=1)
    except Exception:   # a sparse or otherwise unusual tensor: no example to single out
        return None
    return int((~close).nonzero()[0]) if not bool(close.all()) else None


def _format_failure(failure, arg_names):
    lines = [f"case: {failure.case.label}", failure.problem]
    if failure.expected is not None:
        args, expected, got = failure.case.args, failure.expected, failure.got
        leaf = failure.leaf
        many = len(_leaves(expected)) > 4
        if many and leaf and leaf[0]:   # a big structure (train_step: losses and parameters): the leaf that differs
            expected, got = leaf[1], leaf[2]
            lines.append(f"(showing {leaf[0]}, the first value that differs)")
        b = _first_differing_example(expected, got)
        if b is not None:   # show one example of the batch: the first that differs
            B = expected.shape[0]
            lines.append(f"example {b} of the batch of {B}:")
            args = [a[b:b + 1] if isinstance(a, torch.Tensor) and a.dim() and a.shape[0] == B else a for a in args]
            expected, got = expected[b:b + 1], got[b:b + 1]
        brief = many or sum(a.numel() for a in args if isinstance(a, torch.Tensor)) > 200
        for name, value in zip(arg_names, args):
            lines.append(f"{name} = {format_value(value, brief)}")
        lines.append(f"expected: {format_value(expected, brief)}")
        lines.append(f"got:      {format_value(got, brief)}")
    if failure.hint:
        lines.append(f"hint: {failure.hint}")
    return _indent("\n".join(lines), "      ")


@contextlib.contextmanager
def session_kept():
    """Leave the learner's session as found: the global random generators (torch's on the CPU, Python's and
    NumPy's), grad mode and default dtype, whatever the learner's function draws or sets (a check never touches
    the thread count)."""
    dtype, python_rng, numpy_rng = torch.get_default_dtype(), random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=[]), torch.enable_grad():
        try:
            yield
        finally:
            torch.set_default_dtype(dtype)
            random.setstate(python_rng)
            np.random.set_state(numpy_rng)


def run_check(exercise, fn, verbose=True):
    """Score ``fn`` against ``exercise`` in this process; see :func:`ntm_course.teaching.practice.check`."""
    max_points = len(exercise.groups)
    if not callable(fn):
        report = f"{exercise.name}: 0/{max_points} points -- expected a function, got {type(fn).__name__}"
        return _finish(CheckResult(exercise.name, 0, max_points, report=report), verbose)
    with session_kept():
        return _score(exercise, Runner(exercise, LocalOutcomes(exercise, fn)), verbose)


def score_outcomes(exercise, outcomes, verbose=False):
    """Score outcomes computed elsewhere (``{group: [Outcome or GradOutcome, ...]}``, from the instructor's grading worker)
    against the reference, computed here: the same scoring and report as :func:`run_check`."""
    with session_kept():
        return _score(exercise, Runner(exercise, RemoteOutcomes(outcomes)), verbose)


def not_callable(exercise, what, verbose=False):
    """The result of a check whose function is missing or not a function: 0 points, ``what`` says why."""
    max_points = len(exercise.groups)
    report = f"{exercise.name}: 0/{max_points} points -- {what}"
    return _finish(CheckResult(exercise.name, 0, max_points, report=report), verbose)


def _brief(error):
    """``Type: the first line of the message`` (at most 200 characters): torch's errors can run to pages."""
    try:
        lines = str(error).strip().splitlines()
    except Exception:
        lines = []
    first = lines[0] if lines else ""
    return f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__


def _guarded(case, scorer):
    """Run one scoring step; a failure of the comparison itself becomes a Failure, never an exception."""
    try:
        return scorer()
    except NotImplementedYet:
        raise
    except Exception as error:
        return Failure(case, f"the check could not score this case ({_brief(error)})",
                       hint="return tensors like the reference's, on the inputs' device")


def _score(exercise, runner, verbose):
    """Run every group of cases, then build the result and its report."""
    max_points = len(exercise.groups)
    failures = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # a warning on stderr would make nbgrader give the cell 0 points
            for group in ("values", "edge cases"):
                for index, case in enumerate(exercise.cases(group)):
                    found = _guarded(case, lambda: runner.run(case, group, index))
                    failure, touched = found if isinstance(found, tuple) else (found, None)
                    if failure and group not in failures:
                        failures[group] = failure
                    if touched and "inputs untouched" not in failures:
                        failures["inputs untouched"] = touched
            if "gradients" in exercise.groups:
                for index, case in enumerate(exercise.cases("gradients")):
                    failure = _guarded(case, lambda: runner.gradients(case, index))
                    if failure:
                        failures["gradients"] = failure
                        break
    except NotImplementedYet:
        report = (f"{exercise.name}: not implemented yet (0/{max_points} points) -- replace "
                  f"`raise NotImplementedError()` with your code, then run this cell again")
        return _finish(CheckResult(exercise.name, 0, max_points, report=report), verbose)
    values_ok = "values" not in failures
    groups = {g: (g not in failures) if (values_ok or g == "values") else None for g in exercise.groups}
    points = sum(1 for ok in groups.values() if ok)
    lines = [f"{exercise.name}: {points}/{max_points} points" + (" -- well done!" if points == max_points else "")]
    for group in exercise.groups:
        ok = groups[group]
        mark = {True: "✓", False: "✗", None: "·"}[ok]
        note = exercise.group_notes.get(group, "")
        if ok is None:
            note = "(scored once the values are right)"
        lines.append(f"  {mark} {group}" + (f": {note}" if note else ""))
        if ok is False:
            lines.append(_format_failure(failures[group], exercise.arg_names))
    return _finish(CheckResult(exercise.name, points, max_points, groups, "\n".join(lines), failures), verbose)


def _finish(result, verbose):
    if verbose:
        print(result.report)
    return result


def rebuild_error(type_name_, message):
    """An exception standing for one a worker reported: the builtin class of that name, else a new class
    of that name (only ever used for its name and message)."""
    name = type_name_ if isinstance(type_name_, str) and type_name_.isidentifier() else "Exception"
    name, message = name[:60], str(message)[:2000]
    cls = getattr(builtins, name, None)
    if not (isinstance(cls, type) and issubclass(cls, BaseException)):
        cls = type(name, (Exception,), {})
    try:
        return cls(message)
    except Exception:
        return type(name, (Exception,), {})(message)
