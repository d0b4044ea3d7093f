"""What a graded exercise is made of (:class:`Exercise`, :class:`Case`) and the helpers that build its cases.

Each case is built in float64 from a fixed seed (an explicit ``torch.Generator``, never the global one) and cast
to each dtype, so every check is deterministic and building its cases leaves the caller's random state alone.
"""
import inspect
from dataclasses import dataclass, field
from typing import Callable

import torch


DTYPES = (torch.float32, torch.float64)
# (B, N, M, K) for the random cases: batch 1 to 4, shift widths 1 to 7, N from 4 to 8
CASE_SIZES = ((1, 5, 3, 3), (2, 6, 4, 3), (3, 7, 2, 5), (4, 4, 5, 1), (2, 8, 3, 7))


@dataclass
class Case:
    """One input to check: a label for the report, the positional arguments and a hint for this case."""
    label: str
    args: tuple
    hint: str = ""


@dataclass(frozen=True)
class Ladder:
    """The first three rungs of a stub's hint ladder (``reveal(name)`` climbs it one rung a call), in words, not
    Python: ``nudge``, the idea in a sentence or two; ``shapes``, each argument's and the result's shape and the
    axis the computation runs over; ``steps``, pseudo-code. The fourth rung, the course's own computation, is read
    from the library (:meth:`Exercise.worked`)."""
    nudge: str
    shapes: str
    steps: str


@dataclass
class Exercise:
    """What a check needs to know about one exercise.

    ``build(gen)`` returns ``{group: [Case, ...]}``; ``mistakes`` is a list of ``(hint, wrong_fn)``;
    ``grad_args`` the positions of the arguments that gradients must reach; ``call(fn, args)`` runs a
    function on a case (by default ``fn(*args)``). ``ladder``: the stub's hints for ``reveal``
    (a :class:`Ladder`); ``worker``: the library function that does the computation, when it is not the
    reference's module's private function of the same name (see :meth:`worked`).
    """
    name: str
    reference: Callable
    build: Callable
    mistakes: list = field(default_factory=list)
    hint: str = ""
    shape_hint: str = ""
    edge_note: str = ""
    values_note: str = "several batch and memory sizes, float32 and float64"
    grad_args: tuple = ()
    call: Callable = staticmethod(lambda fn, args: fn(*args))
    ladder: Ladder = None
    worker: Callable = None
    _cases: dict = None

    @property
    def arg_names(self):
        return list(inspect.signature(self.reference).parameters)

    @property
    def groups(self):
        groups = ("values", "edge cases", "gradients", "inputs untouched")
        return groups if self.grad_args else tuple(g for g in groups if g != "gradients")

    def cases(self, group):
        if self._cases is None:
            self._cases = self.build(torch.Generator().manual_seed(0))
        return self._cases.get(group, [])

    @property
    def group_notes(self):
        return {"values": f"{len(self.cases('values'))} random cases ({self.values_note})",
                "edge cases": self.edge_note, "gradients": "float64, compared with the reference's"}

    def signature(self):
        return f"{self.name}{inspect.signature(self.reference)}"

    def worked(self):
        """The course's own computation of this exercise, the last rung of its hint ladder: the functions whose
        source it shows, the worker first.

        The worker is :attr:`worker` if set, else ``_<name>`` in the reference's module (the public function
        checks its arguments and calls it: ``shift`` -> ``ntm_course.addressing._shift``). After it come the
        private helpers of that module it calls (``_shift`` -> ``_shift_index``), so the rung holds all the
        arithmetic. ``None`` when there is neither.
        """
        module = inspect.getmodule(self.reference)
        worker = self.worker or getattr(module, f"_{self.name}", None)
        if worker is None:
            return None
        helpers = [getattr(module, n) for n in inspect.unwrap(worker).__code__.co_names
                   if n.startswith("_") and callable(getattr(module, n, None))]
        return [worker, *(h for h in helpers if inspect.getmodule(h) is module)]

    def error_hint(self, error):
        """A hint for an exception raised by the learner's code."""
        text = str(error)
        if isinstance(error, TypeError) and "argument" in text:
            return f"your function must take the same arguments as the library's: {self.signature()}"
        if "numpy" in text.lower():
            return "keep everything in torch: gradients cannot flow through NumPy arrays"
        if "in-place" in text or "leaf Variable" in text:
            return "an in-place operation (x.mul_(y), x *= y, x[i] = ...) modified a tensor autograd needs"
        if "dtype" in text or ("Double" in text and "Float" in text):
            return "create new tensors with the inputs' dtype (torch.zeros_like, x.new_zeros, dtype=x.dtype)"
        if any(word in text for word in ("size", "shape", "dimension", "mat1", "broadcast")):
            return self.shape_hint or "print the shapes of your intermediate tensors"
        return self.hint


@dataclass
class Understanding(Exercise):
    """An :class:`Exercise` whose groups, argument names and group notes can be set.

    ``only_groups``: the groups scored (default: the usual ones); ``inputs``: the names of a case's arguments
    when the check runs the learner's function inside a harness (``call``); ``notes``: notes for the report's
    groups.
    """
    only_groups: tuple = ()
    inputs: tuple = ()
    notes: dict = None

    @property
    def arg_names(self):
        return list(self.inputs) if self.inputs else super().arg_names

    @property
    def groups(self):
        return self.only_groups or super().groups

    @property
    def group_notes(self):
        return {**super().group_notes, **(self.notes or {})}


def answer_dict(answers, keys, call, listed):
    """``answers`` (a harness's learner's answer), checked to be a dict that holds every one of ``keys``; else a
    ValueError saying that ``call`` must return a dict with the keys ``listed``."""
    if not isinstance(answers, dict):
        raise ValueError(f"{call} must return a dict with keys {listed}, got {type(answers).__name__}")
    missing = [k for k in keys if k not in answers]
    if missing:
        raise ValueError(f"{call} must return a dict with keys {listed}: {missing[0]!r} is missing")
    return answers


# --- random inputs, built in float64 -----------------------------------------------------------------

def randn(gen, *shape):
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def rand(gen, *shape, low=0.0, high=1.0):
    return low + (high - low) * torch.rand(*shape, generator=gen, dtype=torch.float64)


def weighting(gen, B, N, sharpness=2.0):
    """A random, non-uniform distribution over N rows."""
    return torch.softmax(sharpness * randn(gen, B, N), dim=1)


def one_hot(B, N, index):
    w = torch.zeros(B, N, dtype=torch.float64)
    w[:, index] = 1.0
    return w


def cast(args, dtype):
    return tuple(a.to(dtype) if isinstance(a, torch.Tensor) else a for a in args)


def sizes_label(B, N, M, K, uses_k):
    return f"batch {B}, N={N}, M={M}" + (f", K={K}" if uses_k else "")


def random_cases(gen, make, repeats=2, sizes=CASE_SIZES, uses_k=False):
    """Cases from ``make(gen, B, N, M, K) -> args`` for every size, float32 and float64."""
    cases = []
    for _ in range(repeats):
        for B, N, M, K in sizes:
            args = make(gen, B, N, M, K)
            for dtype in DTYPES:
                cases.append(Case(f"random, {sizes_label(B, N, M, K, uses_k)}, {str(dtype)[6:]}",
                                  cast(args, dtype)))
    return cases


def grad_cases(gen, make, uses_k=False):
    return [Case(f"gradients, {sizes_label(B, N, M, K, uses_k)}, float64", make(gen, B, N, M, K))
            for B, N, M, K in ((2, 6, 4, 3), (3, 5, 3, 5))]


def build_groups(make, edge, uses_k=False):
    """``build(gen)`` for an exercise: random and gradient cases from ``make``, edge cases from ``edge(gen)``.
    ``uses_k``: the shift width K matters (it is then named in the cases' labels)."""
    def build(gen):
        return {"values": random_cases(gen, make, uses_k=uses_k), "edge cases": edge(gen),
                "gradients": grad_cases(gen, make, uses_k)}
    return build


def both(label, args, hint=""):
    """The same edge case in float32 and float64."""
    return [Case(f"{label}, {str(d)[6:]}", cast(args, d), hint) for d in DTYPES]
