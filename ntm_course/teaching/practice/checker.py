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

The pieces live beside this module, by job: :mod:`.results` (what a check produces and what crosses the worker
boundary), :mod:`.values` (comparing and showing values), :mod:`.runner` (running the learner's function and
scoring one case). This module runs every case and writes the report; it re-exports the names the grader uses.
"""
import contextlib
import random
import warnings

import numpy as np
import torch

from ...device import rng_isolated
from .results import (CheckResult, Failure, Foreign, GradOutcome, NotImplementedYet, Outcome, rebuild_error,
                      type_name)
from .runner import (LocalOutcomes, RemoteOutcomes, Runner, brief, call_learner, learner_gradients,
                     projected_gradients)
from .values import TOLERANCES, WIDTH, clone, compare, format_failure, format_value, same, wrap

__all__ = ["CheckResult", "Failure", "Foreign", "GradOutcome", "NotImplementedYet", "Outcome", "rebuild_error",
           "type_name", "LocalOutcomes", "RemoteOutcomes", "Runner", "call_learner", "learner_gradients",
           "projected_gradients", "TOLERANCES", "clone", "compare", "format_value", "same", "session_kept",
           "run_check", "score_outcomes", "not_callable", "wrap"]

MARKS = {True: "✓", False: "✗", None: "·"}   # a group passed, failed, or was not scored


@contextlib.contextmanager
def session_kept():
    """Leave the learner's session as found: the global random generators (torch's on the CPU and every CUDA
    device, Python's and NumPy's), grad mode and default dtype, whatever the learner's function draws or sets (a
    check never touches the thread count)."""
    dtype, python_rng, numpy_rng = torch.get_default_dtype(), random.getstate(), np.random.get_state()
    with rng_isolated(), torch.enable_grad():
        try:
            yield
        finally:
            torch.set_default_dtype(dtype)
            random.setstate(python_rng)
            np.random.set_state(numpy_rng)


def run_check(exercise, fn, verbose=True, worth=None):
    """Score ``fn`` against ``exercise`` in this process; see :func:`ntm_course.teaching.practice.check`.

    ``worth``: the points the check is worth in its exercise (the report and ``grade`` use that scale; default:
    one point a group)."""
    if not callable(fn):
        return not_callable(exercise, f"expected a function, got {type(fn).__name__}", verbose, worth)
    with session_kept():
        return _score(exercise, Runner(exercise, LocalOutcomes(exercise, fn)), verbose, worth)


def score_outcomes(exercise, outcomes, verbose=False, worth=None):
    """Score outcomes computed elsewhere (``{group: [Outcome or GradOutcome, ...]}``, from the instructor's
    grading worker) against the reference, computed here: the same scoring and report as :func:`run_check`."""
    with session_kept():
        return _score(exercise, Runner(exercise, RemoteOutcomes(outcomes)), verbose, worth)


def not_callable(exercise, what, verbose=False, worth=None):
    """The result of a check whose function is missing or not a function: 0 points, ``what`` says why."""
    result = CheckResult(exercise.name, 0, len(exercise.groups), worth=worth)
    result.report = f"{exercise.name}: 0/{_text(result.worth_or_max)} points -- {what}"
    return _finish(result, verbose)


def _text(x):
    return f"{x:g}"


def _guarded(case, scorer):
    """Run one scoring step; a failure of the comparison itself becomes a Failure, never an exception."""
    try:
        return scorer()
    except NotImplementedYet:
        raise
    except Exception as error:
        return Failure(case, f"the check could not score this case ({brief(error)})",
                       hint="return tensors like the reference's, on the inputs' device")


def _failures(exercise, runner):
    """``{group: the first Failure}`` over every case of every group. Raises NotImplementedYet for a stub."""
    failures = {}
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
    return failures


def _report(exercise, result, failures, width=None):
    """The report: the score (on the check's scale), then one line per group (✓, ✗ with its first failing case,
    or · not scored). ``width``: wrap its words at that width (what is printed), else one line each."""
    groups = result.groups
    lines = [f"{exercise.name}: {_text(result.grade)}/{_text(result.worth_or_max)} points"
             + (" -- well done!" if result.points == result.max_points else "")]
    for group in exercise.groups:
        ok = groups[group]
        note = "(scored once the values are right)" if ok is None else exercise.group_notes.get(group, "")
        line = f"  {MARKS[ok]} {group}" + (f": {note}" if note else "")
        lines.append(line if width is None else wrap(line, width, hang=4))
        if ok is False:
            lines.append(format_failure(failures[group], exercise.arg_names, width))
    return "\n".join(lines)


def _score(exercise, runner, verbose, worth):
    """Run every group of cases, then build the result and its report."""
    max_points = len(exercise.groups)
    try:
        failures = _failures(exercise, runner)
    except NotImplementedYet:
        result = CheckResult(exercise.name, 0, max_points, worth=worth)
        result.report = (f"{exercise.name}: not implemented yet (0/{_text(result.worth_or_max)} points) -- "
                         f"replace `raise NotImplementedError()` in your {exercise.name} with your code, run "
                         f"that cell, then this one again")
        return _finish(result, verbose)
    values_ok = "values" not in failures
    groups = {g: (g not in failures) if (values_ok or g == "values") else None for g in exercise.groups}
    result = CheckResult(exercise.name, sum(1 for ok in groups.values() if ok), max_points, groups,
                         failures=failures, worth=worth)
    result.report = _report(exercise, result, failures)
    result.shown = _report(exercise, result, failures, WIDTH)
    return _finish(result, verbose)


def _finish(result, verbose):
    """Print the report (its words wrapped at :data:`~.values.WIDTH`, never inside a word) when ``verbose``."""
    if verbose:
        print(result.shown or wrap(result.report))
    return result
