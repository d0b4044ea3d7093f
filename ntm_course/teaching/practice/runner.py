"""Running the learner's function on an exercise's cases and scoring one case at a time.

*Running* gives an :class:`~.results.Outcome` (the result and the arguments afterwards, or the error raised) or
a :class:`~.results.GradOutcome` (the gradients let through), never an exception: :func:`call_learner` and
:func:`learner_gradients`, in-process for ``check`` (:class:`LocalOutcomes`) and in the instructor's worker, whose
outcomes come back as :class:`RemoteOutcomes`. *Scoring* (:class:`Runner`) compares an outcome with the
reference's, computed in this process, and turns every difference into a :class:`~.results.Failure` with a hint.
"""
import torch

from .results import Failure, GradOutcome, NotImplementedYet, Outcome
from .values import TOLERANCES, clone, first_difference, leaves, same


GENERIC_HINTS = {
    "numpy": "keep everything in torch: gradients cannot flow through NumPy arrays",
    "dtype": "create new tensors with the inputs' dtype (torch.zeros_like(x), x.new_zeros(...), "
             "dtype=x.dtype); never assume float32",
    "device": "the result must be on the inputs' device: create new tensors with torch.zeros_like(x), "
              "x.new_zeros(...) or device=x.device, and don't move anything with .to(...), .cuda() or "
              ".cpu() inside the function",
}
IN_PLACE_HINT = ("use out-of-place operations (x * y, torch.cat, ...) rather than x.mul_(y), x *= y or x[i] = ...: "
                 "callers still need their tensors, and autograd needs the originals to compute gradients")


def brief(error):
    """``Type: the first line of the message`` (at most 200 characters): torch's errors can run to pages."""
    try:
        lines = str(error).strip().splitlines()
    except Exception:
        lines = []
    first = lines[0] if lines else ""
    return f"{type(error).__name__}: {first[:200]}" if first else type(error).__name__


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
    found = [x for _, x in leaves(out) if isinstance(x, torch.Tensor) and x.is_floating_point()]
    if not found or not any(x.requires_grad for x in found):
        return None
    gen = torch.Generator().manual_seed(1)
    loss = sum((x * torch.randn(x.shape, generator=gen, dtype=x.dtype).to(x.device)).sum()
               for x in found if x.requires_grad)
    grads = torch.autograd.grad(loss, inputs, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for x, g in zip(inputs, grads)]


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


# --- scoring one case against the reference -------------------------------------------------------------

def _unchanged(before, now):
    """True when the tensor argument ``now`` (after the call) equals ``before``."""
    try:
        return (isinstance(now, torch.Tensor) and now.shape == before.shape and now.device == before.device
                and torch.equal(before, now))
    except Exception:
        return False


def _same_gradient(e, g):
    try:
        return (isinstance(g, torch.Tensor) and g.shape == e.shape and g.dtype == e.dtype and g.device == e.device
                and torch.allclose(e, g, **TOLERANCES[e.dtype]))
    except Exception:
        return False


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
            problem = first_difference(expected, outcome.got)
        except Exception as error:   # an exotic result: say so rather than raise
            problem = ("type", f"the result could not be compared with the reference ({brief(error)})",
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
        changed = [name for name, before, now in zip(ex.arg_names, case.args, after)
                   if isinstance(before, torch.Tensor) and not _unchanged(before, now)]
        if not changed:
            return None
        return Failure(case, f"your function changed its input {', '.join(changed)} in place", hint=IN_PLACE_HINT)

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
        generic = {**GENERIC_HINTS, "shape": ex.shape_hint, "keys": ex.shape_hint, "type": ex.shape_hint,
                   "nan": case.hint or "a division by zero or the log of 0? Guard denominators with a small eps"}
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
            if not _same_gradient(e, g):
                return Failure(case, f"the gradient with respect to {name} differs from the reference's",
                               e, g, hint="the values match but the gradients don't: is part of the "
                                          "computation detached or replaced by a constant?")
        return None
