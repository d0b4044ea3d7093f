"""``check(name, fn)``: compare a learner's function with the library's reference and explain what differs.

A check runs the learner's function on an exercise's cases (see :mod:`.exercises`) and scores four groups,
one point each:

- ``values``: the result matches the reference on ordinary random inputs (several batch sizes, shift widths,
  float32 and float64). The other groups only score once this one passes.
- ``edge cases``: the inputs learners get wrong (zero vectors, one-hot weightings, wrap-around shifts, ...).
- ``gradients``: gradients flow back to the inputs and equal the reference's (no ``.detach()``, no NumPy).
- ``inputs untouched``: the function does not modify its arguments in place.

Nothing the learner's code does makes a check raise: exceptions, wrong types or shapes and NaNs become a
failed case with the input, the expected and the actual result and a hint at the likely mistake.
"""
import copy
import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

GROUPS = ("values", "edge cases", "gradients", "inputs untouched")
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


@dataclass
class CheckResult:
    """The outcome of :func:`check`: ``passed`` (bool), ``points`` and ``max_points``, and the report text."""
    name: str
    points: int
    max_points: int
    groups: dict = field(default_factory=dict)   # group -> True / False / None (not scored)
    report: str = ""

    @property
    def passed(self):
        return self.points == self.max_points

    def __repr__(self):
        return f"CheckResult({self.name!r}, points={self.points}, max_points={self.max_points})"


def _clone(x):
    """A deep copy of a case's inputs, so the learner never touches the originals."""
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, (tuple, list)):
        return type(x)(_clone(v) for v in x)
    if isinstance(x, dict):
        return {k: _clone(v) for k, v in x.items()}
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


def _compare_leaf(path, expected, got):
    """None when ``got`` matches ``expected`` (a tensor or a number), else ``(kind, message)``."""
    if isinstance(expected, (int, float)):
        if isinstance(got, torch.Tensor) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, (int, float)):
            return "type", f"{path} should be a number, got {type(got).__name__}"
        if not math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-7):
            return "values", f"{path} is {got:.6g}, expected {expected:.6g}"
        return None
    if isinstance(got, np.ndarray):
        return "numpy", f"{path} is a NumPy array; return a torch.Tensor"
    if not isinstance(got, torch.Tensor):
        return "type", f"{path} should be a torch.Tensor, got {type(got).__name__}"
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
    if not isinstance(expected, (dict, tuple)):
        return _compare_leaf("result", expected, got)
    exp_leaves = _leaves(expected)
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return "type", f"result should be a dict with keys {list(expected)}, got {type(got).__name__}"
        if set(got) != set(expected):
            return "keys", f"result has keys {sorted(got)}, expected {sorted(expected)}"
        got = {k: got[k] for k in expected}
    elif isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return "type", (f"result should be a tuple of {len(expected)} values, got "
                            f"{type(got).__name__}" + (f" of {len(got)}" if isinstance(got, (tuple, list)) else ""))
    got_leaves = _leaves(got)
    if len(got_leaves) != len(exp_leaves):
        return "type", f"result should hold {len(exp_leaves)} values, got {len(got_leaves)}"
    for (path, e), (_, g) in zip(exp_leaves, got_leaves):
        problem = _compare_leaf(path, e, g)
        if problem:
            return problem
    return None


def same(a, b):
    """True when two results match (used to recognise a known mistake)."""
    try:
        return compare(a, b) is None
    except Exception:  # a mistake's output of another structure simply does not match
        return False


def format_value(x):
    """A short printable form of a tensor or number."""
    if isinstance(x, torch.Tensor):
        text = np.array2string(x.detach().cpu().numpy(), precision=4, suppress_small=True, threshold=40,
                               edgeitems=2, max_line_width=100)
        return f"{text}  {_shape(x)} {str(x.dtype).replace('torch.', '')}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {format_value(v)}" for k, v in x.items()) + "}"
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(format_value(v) for v in x) + ")"
    return repr(x)


def _indent(text, prefix):
    return "\n".join(prefix + line for line in str(text).splitlines())


class Runner:
    """Calls the learner's function on one case, turning everything that can go wrong into a Failure."""

    def __init__(self, exercise, fn):
        self.exercise, self.fn = exercise, fn

    def call(self, fn, args):
        return self.exercise.call(fn, args)

    def run(self, case):
        """Run one case: ``(Failure or None for the values, Failure or None for the inputs)``."""
        ex = self.exercise
        expected = self.call(ex.reference, _clone(case.args))
        args = _clone(case.args)
        try:
            got = self.call(self.fn, args)
        except NotImplementedError:
            raise NotImplementedYet
        except (Exception, SystemExit) as error:   # the learner's code failed: report it, never raise
            return Failure(case, f"your function raised {type(error).__name__}: {error}",
                           hint=ex.error_hint(error)), None
        problem = compare(expected, got)
        failure = None
        if problem:
            kind, message = problem
            failure = Failure(case, message, expected, got, self.hint(kind, case, got))
        changed = [name for name, before, after in zip(ex.arg_names, case.args, args)
                   if isinstance(before, torch.Tensor) and not torch.equal(before, after)]
        touched = None
        if changed:
            touched = Failure(case, f"your function changed its input {', '.join(changed)} in place",
                              hint="use out-of-place operations (x * y, torch.cat, ...) rather than x.mul_(y), "
                                   "x *= y or x[i] = ...: callers still need their tensors, and autograd "
                                   "needs the originals to compute gradients")
        return failure, touched

    def hint(self, kind, case, got):
        """The most specific hint: a recognised mistake, then the kind of problem, then the case's own hint."""
        ex = self.exercise
        if kind == "values":
            for mistake_hint, mistake in ex.mistakes:
                try:
                    wrong = self.call(mistake, _clone(case.args))
                except Exception:
                    continue
                if same(wrong, got):
                    return mistake_hint
        generic = {
            "numpy": "keep everything in torch: gradients cannot flow through NumPy arrays",
            "dtype": "create new tensors with the inputs' dtype (torch.zeros_like(x), x.new_zeros(...), "
                     "dtype=x.dtype); never assume float32",
            "shape": ex.shape_hint,
            "nan": case.hint or "a division by zero or the log of 0? Guard denominators with a small eps",
            "keys": ex.shape_hint,
            "type": ex.shape_hint,
        }
        return generic.get(kind) or case.hint or ex.hint

    def gradients(self, case):
        """Failure or None: gradients of a fixed projection of the result must equal the reference's."""
        ex = self.exercise

        def grads(fn):
            args = _clone(case.args)
            inputs = [args[i].requires_grad_() for i in ex.grad_args]
            out = self.call(fn, args)
            leaves = [x for _, x in _leaves(out) if isinstance(x, torch.Tensor) and x.is_floating_point()]
            if not leaves or not any(x.requires_grad for x in leaves):
                return None
            gen = torch.Generator().manual_seed(1)
            loss = sum((x * torch.randn(x.shape, generator=gen, dtype=x.dtype)).sum()
                       for x in leaves if x.requires_grad)
            found = torch.autograd.grad(loss, inputs, allow_unused=True)
            return [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, found)]

        expected = grads(ex.reference)
        try:
            got = grads(self.fn)
        except (Exception, SystemExit) as error:
            return Failure(case, f"your function raised {type(error).__name__} when its inputs require "
                                 f"gradients: {error}", hint=ex.error_hint(error))
        if got is None:
            return Failure(case, "no gradient reaches the inputs: the result is cut off from the graph",
                           hint="don't call .detach(), .item(), .numpy(), .tolist() or torch.tensor(...) on "
                                "values computed from the inputs; stay with torch operations end to end")
        names = [ex.arg_names[i] for i in ex.grad_args]
        for name, e, g in zip(names, expected, got):
            if not torch.allclose(e, g, **TOLERANCES[e.dtype]):
                return Failure(case, f"the gradient with respect to {name} differs from the reference's",
                               e, g, hint="the values match but the gradients don't: is part of the "
                                          "computation detached or replaced by a constant?")
        return None


def _first_differing_example(expected, got):
    """The batch index of the first example where two same-shaped batched tensors differ, else None."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.dim() < 2 \
            or got.shape != expected.shape or expected.shape[0] < 2:
        return None
    e, g = expected.detach().double(), got.detach().double()
    close = torch.isclose(g, e, equal_nan=True, **TOLERANCES[expected.dtype]).flatten(1).all(dim=1)
    return int((~close).nonzero()[0]) if not bool(close.all()) else None


def _format_failure(failure, arg_names):
    lines = [f"case: {failure.case.label}", failure.problem]
    if failure.expected is not None:
        args, expected, got = failure.case.args, failure.expected, failure.got
        b = _first_differing_example(expected, got)
        if b is not None:   # show one example of the batch: the first that differs
            B = expected.shape[0]
            lines.append(f"example {b} of the batch of {B}:")
            args = [a[b:b + 1] if isinstance(a, torch.Tensor) and a.dim() and a.shape[0] == B else a for a in args]
            expected, got = expected[b:b + 1], got[b:b + 1]
        for name, value in zip(arg_names, args):
            lines.append(f"{name} = {format_value(value)}")
        lines.append(f"expected: {format_value(expected)}")
        lines.append(f"got:      {format_value(got)}")
    if failure.hint:
        lines.append(f"hint: {failure.hint}")
    return _indent("\n".join(lines), "      ")


def run_check(exercise, fn, verbose=True):
    """Score ``fn`` against ``exercise``; see :func:`ntm_course.grading.check`."""
    max_points = len(exercise.groups)
    if not callable(fn):
        report = f"{exercise.name}: 0/{max_points} points -- expected a function, got {type(fn).__name__}"
        return _finish(CheckResult(exercise.name, 0, max_points, report=report), verbose)
    runner = Runner(exercise, fn)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # tiny tensors: threads only add overhead (and contention on shared machines)
    try:
        return _score(exercise, runner, verbose)
    finally:
        torch.set_num_threads(threads)


def _score(exercise, runner, verbose):
    """Run every group of cases, then build the result and its report."""
    max_points = len(exercise.groups)
    failures = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # a warning on stderr would make nbgrader give the cell 0 points
            for group in ("values", "edge cases"):
                for case in exercise.cases(group):
                    failure, touched = runner.run(case)
                    if failure and group not in failures:
                        failures[group] = failure
                    if touched and "inputs untouched" not in failures:
                        failures["inputs untouched"] = touched
            if "gradients" in exercise.groups:
                for case in exercise.cases("gradients"):
                    failure = runner.gradients(case)
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
    return _finish(CheckResult(exercise.name, points, max_points, groups, "\n".join(lines)), verbose)


def _finish(result, verbose):
    if verbose:
        print(result.report)
    return result
