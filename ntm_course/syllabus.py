"""The course in one table: every stage's lesson, the stubs the learner writes in it, the pieces the machine then
runs on, and its exercises with their checks and points.

Everything that needs the course's structure reads it from here: the lessons' helpers (``your_turn``,
``my_pieces``), ``ntm-course get``, the instructor's release, grader and site, the tests and the README's
course map. Adding a lesson is one :class:`Stage` row plus its notebook and the checks of its stubs; adding an
exercise is one :class:`Assignment` in a row plus its solution notebook (and, for a graded one, its checks in the
instructor's package). CONTRIBUTING.md walks through both. A row names the module of its checks, as a string:
each such module has a tuple ``CHECKS`` of checks, whose names are the stubs or the graded functions.

Pure data and the standard library only: build scripts load this file by path, without torch.
"""
import importlib
from dataclasses import dataclass


PRACTICE, GRADED, TRANSFER = "practice", "graded", "transfer"
"""An assignment's kind. *Practice* re-checks a lesson's own stub (the library holds its reference; low stakes, one
point a check). *Graded* and *transfer* exercises hold answers that live only in the instructor's package; a
*transfer* exercise asks the learner to use an idea of the course on something no lesson shows (a new shift rule,
another machine, a trace to read), and carries most of the points."""
HIDDEN = (GRADED, TRANSFER)
"""The kinds whose checks and answers are only the instructor's."""


@dataclass(frozen=True)
class Assignment:
    """One exercise notebook: ``exercises/<name>.ipynb``, released from ``solutions/<name>.ipynb``.

    ``checks`` maps each graded function's name to its points; the notebook's check cell for ``fn`` has the
    nbgrader ``grade_id`` ``<fn>_check`` and those points. A practice assignment re-checks its stage's stubs, or
    names the learner's ``module`` of its other checks (whose references are the library's own functions); a
    graded or transfer one names ``module``, the instructor's module that holds its checks and answers.
    """
    name: str
    title: str
    checks: dict
    kind: str = PRACTICE
    module: str = ""

    @property
    def notebook(self):
        return f"{self.name}.ipynb"

    @property
    def points(self):
        return sum(self.checks.values())


@dataclass(frozen=True)
class Stage:
    """One lesson, ``notebooks/<lesson>.ipynb``, with what the learner writes in it and what it hands in.

    ``stubs``: the functions the learner writes in the lesson, each checked by ``your_turn(name, fn)`` with the
    check of that name in the module ``checks``. ``pieces``: the stubs the NTM runs on once written
    (``my_pieces()`` loads them), in the order they are built.
    """
    lesson: str
    title: str
    stubs: tuple = ()
    pieces: tuple = ()
    assignments: tuple = ()
    checks: str = ""

    @property
    def notebook(self):
        return f"{self.lesson}.ipynb"


PRACTICE_CHECKS = "ntm_course.teaching.practice.exercises."
GRADED_CHECKS = "ntm_course_instructor.grading."   # a name only: the learner's package never imports it

STAGES = (
    Stage("00_welcome", "Welcome: a neural network with a memory"),
    Stage("01_memory", "Memory and the differentiable read", ("read",), ("read",),
          (Assignment("01_read", "Reading memory (eq. 2)", {"read": 1}),), PRACTICE_CHECKS + "memory"),
    Stage("02_content_addressing", "Content addressing", ("cosine_similarity", "content_addressing"),
          ("cosine_similarity", "content_addressing"),
          (Assignment("02_content_addressing", "Content addressing (eqs. 5-6)",
                      {"cosine_similarity": 1, "content_addressing": 1}),), PRACTICE_CHECKS + "addressing"),
    Stage("03_writing", "Writing: erase, then add", ("write",), ("write",),
          (Assignment("03_write", "Writing memory, erase then add (eqs. 3-4)", {"write": 1}),),
          PRACTICE_CHECKS + "memory"),
    Stage("04_interpolation", "Interpolation", ("interpolate",), ("interpolate",),
          (Assignment("04_interpolate", "The interpolation gate (eq. 7)", {"interpolate": 1}),),
          PRACTICE_CHECKS + "addressing"),
    Stage("05_shift", "Convolutional shift", ("shift",), ("shift",),
          (Assignment("05_shift", "The convolutional shift (eq. 8)", {"shift": 1}),
           Assignment("05_blog_shift", "A blog's shift rule, in this course's convention",
                      {"blog_rule_answers": 2, "blog_rule_s": 2}, TRANSFER, GRADED_CHECKS + "blog_shift"),
           Assignment("05_scalar_shift", "The paper's other shift: one scalar, a width-one uniform distribution",
                      {"scalar_shift": 4}, TRANSFER, GRADED_CHECKS + "scalar_shift")),
          PRACTICE_CHECKS + "addressing"),
    Stage("06_sharpening", "Sharpening", ("sharpen",), ("sharpen",),
          (Assignment("06_sharpen", "Sharpening (eq. 9)", {"sharpen": 1}),
           Assignment("06_debug_nans", "Find and fix the NaNs",
                      {"stable_cosine_similarity": 1, "stable_sharpen": 1}, PRACTICE, PRACTICE_CHECKS + "debug_nans"),
           Assignment("06_find_the_nan", "Find the first NaN of any program: the operation and the step",
                      {"first_nan": 4}, TRANSFER, GRADED_CHECKS + "find_the_nan")),
          PRACTICE_CHECKS + "addressing"),
    Stage("07_addressing_pipeline", "The addressing pipeline, and a copy machine programmed by hand", ("address",),
          ("address",), (Assignment("07_address", "The addressing pipeline (fig. 2)", {"address": 1}),
               Assignment("07_reverse_copy", "Hand-program a machine that copies in reverse",
                          {"reverse_copy_head_params": 3}, TRANSFER, GRADED_CHECKS + "reverse_copy"),
               Assignment("07_associative_recall", "Hand-program associative recall: a content jump, then a shift",
                          {"recall_head_params": 4}, TRANSFER, GRADED_CHECKS + "associative_recall")),
          PRACTICE_CHECKS + "addressing"),
    Stage("08_controller", "The controller, and the whole NTM cell", ("split_head_params", "memory_step"),
          ("split_head_params", "memory_step"),
          (Assignment("08_head_params", "From the controller's output to head parameters", {"split_head_params": 1}),
           Assignment("08_memory_step", "One memory step: a write head writes, then a read head reads",
                      {"memory_step": 1}),
           Assignment("08_ntm_step", "A whole NTM memory step, several read and write heads", {"ntm_step": 4},
                      GRADED, GRADED_CHECKS + "ntm_step"),
           Assignment("08_param_count", "An NTM's parameter count as a formula of its sizes",
                      {"ntm_parameter_count": 4}, TRANSFER, GRADED_CHECKS + "param_count"),
           Assignment("08_multi_write", "Several write heads: all erase then all add, or head by head?",
                      {"write_in_turn": 4, "order_matters": 4}, TRANSFER, GRADED_CHECKS + "multi_write")),
          PRACTICE_CHECKS + "heads"),
    Stage("09_learning_to_copy", "Learning to copy", ("training_step",), ("training_step",),
          (Assignment("09_training_step", "One optimisation step, on a loss you are given", {"training_step": 1}),
           Assignment("09_train_step", "One training step, then a short training run", {"train_step": 3}, GRADED,
                      GRADED_CHECKS + "train_step"),
           Assignment("09_read_a_trace", "Read a trained machine's trace: which steps jump, which shift",
                      {"trace_answers": 4}, TRANSFER, GRADED_CHECKS + "read_a_trace"),
           Assignment("09_credit_assignment", "Credit assignment through memory: which write moves which loss",
                      {"write_influence": 4}, TRANSFER, GRADED_CHECKS + "credit_assignment")),
          PRACTICE_CHECKS + "training"),
    Stage("10_other_tasks", "The other tasks"),
    Stage("11_where_next", "Where next", (), (),
          (Assignment("11_allocation", "DNC-style allocation: usage, then the allocation weighting",
                      {"usage_update": 4, "allocation": 4}, TRANSFER, GRADED_CHECKS + "allocation"),)),
    Stage("12_capstone", "Capstone: design a task, train an NTM on it, read its algorithm", (), (),
          (Assignment("12_sort_by_key", "Design a task: sort-by-key episodes and a whole-sequence metric",
                      {"sort_by_key_episode": 4, "sequence_accuracy": 3}, TRANSFER,
                      GRADED_CHECKS + "sort_by_key"),)),
)


def lessons():
    """Every lesson's file stem, in course order."""
    return [stage.lesson for stage in STAGES]


def assignments(kind=None):
    """Every exercise, in course order; only those of ``kind`` (:data:`PRACTICE`, :data:`GRADED` or
    :data:`TRANSFER`) if given."""
    return [a for stage in STAGES for a in stage.assignments if kind is None or a.kind == kind]


def stubs():
    """Every stub a lesson checks with ``your_turn``, in course order."""
    return [name for stage in STAGES for name in stage.stubs]


def pieces():
    """The pieces the learner's machine runs on, in the order the course builds them."""
    return tuple(name for stage in STAGES for name in stage.pieces)


def hidden_assignments():
    """The exercises whose checks and answers only the instructor's package holds, in course order."""
    return [a for a in assignments() if a.kind in HIDDEN]


def graded_checks():
    """The names of the checks whose reference only the instructor's package holds."""
    return [name for a in hidden_assignments() for name in a.checks]


def points_of(name):
    """The points the check ``name`` is worth in its exercise; None for a stub no exercise grades."""
    return next((a.checks[name] for a in assignments() if name in a.checks), None)


def stage_of(name):
    """The stage whose lesson or assignment is named ``name``; ValueError naming the known ones otherwise."""
    for stage in STAGES:
        if name == stage.lesson or name in [a.name for a in stage.assignments]:
            return stage
    known = lessons() + [a.name for a in assignments()]
    raise ValueError(f"name must be a lesson or an exercise of the syllabus ({', '.join(known)}), got {name!r}")


def load_checks(rows):
    """``{name: check}`` for ``rows`` of ``(module, names)``: each module's ``CHECKS`` of those names.

    Imports the modules. RuntimeError naming the module when it has no check of one of the names.
    """
    found = {}
    for module, names in rows:
        checks = {check.name: check for check in importlib.import_module(module).CHECKS}
        missing = [name for name in names if name not in checks]
        if missing:
            raise RuntimeError(f"the syllabus names {module} for the checks {missing}, which its CHECKS lacks")
        found.update({name: checks[name] for name in names})
    return found
