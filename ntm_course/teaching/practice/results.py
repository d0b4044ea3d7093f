"""What a check produces and what crosses the grader's process boundary: a learner's :class:`Outcome` and
:class:`GradOutcome` on one case, a :class:`Failure`, the :class:`CheckResult`, and the stand-ins a worker's report
is rebuilt into (:class:`Foreign` values, :func:`rebuild_error` exceptions)."""
import builtins
from dataclasses import dataclass, field
from typing import Any


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
    or it is pending). ``worth``: the points the check is worth in its exercise (the syllabus's); ``grade`` is
    the score on that scale, what an exercise's check cell shows and nbgrader reads.
    """
    name: str
    points: int
    max_points: int
    groups: dict = field(default_factory=dict)   # group -> True / False / None (not scored)
    report: str = ""
    failures: dict = field(default_factory=dict)   # group -> Failure, for the groups that failed
    pending: bool = False
    worth: float = None
    shown: str = ""        # the report as printed: its words wrapped (empty: the report, wrapped when printed)

    @property
    def worth_or_max(self):
        """What a full score is on the check's scale: :attr:`worth`, or one point a group."""
        return self.max_points if self.worth is None else self.worth

    @property
    def grade(self):
        """``points`` scaled to :attr:`worth` (``points`` itself when the check is worth no set amount)."""
        if self.worth is None or not self.max_points:
            return self.points
        grade = round(self.worth * self.points / self.max_points, 2)
        return int(grade) if float(grade).is_integer() else grade

    @property
    def passed(self):
        return self.points == self.max_points and not self.pending

    @property
    def ready(self):
        return self.passed or self.pending

    def __repr__(self):
        return f"CheckResult({self.name!r}, points={self.points}, max_points={self.max_points})"


class Foreign:
    """Stands for a value of a type the grader does not accept back from a worker (only its type name)."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:60]

    def __repr__(self):
        return f"<{self.type_name}>"


def type_name(x):
    """The name of ``x``'s type, or of the type a :class:`Foreign` stands for."""
    return x.type_name if isinstance(x, Foreign) else type(x).__name__


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
