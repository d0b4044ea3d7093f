"""Active lessons: the learner writes each stage, checks it on the spot, and the machine later runs on it.

In a lesson, after the learner's stub cell::

    shift = your_turn("shift", shift)

runs the course's check on the learner's ``shift`` (a report with hints), and returns it when it passes:
it is then saved (its source, as a small ``.py`` file) so that later lessons can build the machine from it
with :func:`my_pieces`. While the stub is unanswered or still wrong, ``your_turn`` says so once and returns
the course's version, so the lesson still runs from top to bottom.

A learner who is stuck climbs the stub's hint ladder with :func:`reveal`, one rung a call:
``reveal("shift")`` prints hint 1 of 4 (a nudge: the idea), then hint 2 (the shapes, and the axis the computation
runs over), hint 3 (pseudo-code) and hint 4 (the course's own computation: the source of the library's function
that does the arithmetic). ``reveal("shift", rung=3)`` jumps to a rung, ``rung=1`` starts over. Where each stub
stands is kept in :data:`HINTS`, a :class:`HintLadder` you can print. A graded exercise has no ladder (its
reference is only in the instructor's package).

Saved pieces live in ``$NTM_COURSE_MINE`` (default ``~/.ntm_course/mine``), one file per piece.
"""
import inspect
import math
import os
import textwrap
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import syllabus
from ..pieces import LIBRARY, Pieces
from .practice import EXERCISES, check, reference


def mine_dir():
    """The folder that holds the learner's saved pieces (``$NTM_COURSE_MINE`` or ``~/.ntm_course/mine``)."""
    return Path(os.environ.get("NTM_COURSE_MINE") or Path.home() / ".ntm_course" / "mine")


def your_turn(name, fn, save=True):
    """Check the learner's ``fn`` for the stage ``name``; return it if it passes, else the course's version.

    Prints the check's report. A passing function of one of the NTM's pieces (``syllabus.pieces()``) is saved
    for :func:`my_pieces` (unless ``save=False``). Never raises because of ``fn``.
    """
    result = check(name, fn)
    if result.passed:
        note = _save(name, fn) if save and name in syllabus.pieces() else ""
        print(f"-> from here on, the lesson uses your {name}.{note}")
        return fn
    print(f"-> until your {name} passes, the lesson goes on with the course's {name} "
          f"(stuck? reveal({name!r}) gives a hint, one more each time).")
    return reference(name)


def _save(name, fn):
    try:
        source = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return " (its source could not be found, so later lessons will not use it: define it with `def`)"
    if fn.__name__ != name:
        source += f"\n{name} = {fn.__name__}\n"
    path = mine_dir() / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return f" Saved to {path} for the machine you build in lessons 7-9."


class HintLadder:
    """Where a learner stands on each stub's hint ladder: :attr:`shown` maps a stub's name to the last rung
    shown (a stub not in it has shown none).

    The rungs (:data:`RUNGS`): 1, a nudge; 2, the shapes; 3, pseudo-code (written next to each stub's check, its
    :class:`~ntm_course.teaching.practice.exercises.cases.Ladder`); 4, the course's computation: the source of
    the library function that does the stub's arithmetic (its module's private function of the same name, e.g.
    ``ntm_course.addressing._shift``, and that module's private helpers it calls; for ``address`` the pipeline),
    not the public wrapper that checks the arguments.

    ``reveal(name)`` shows the next rung, and the last again once there; ``reveal(name, rung=k)`` shows rung k and
    goes on from there (``rung=1`` starts over); :meth:`reset` forgets every stub's place. The lessons share one
    ladder, :data:`HINTS`, through :func:`reveal`; a new ``HintLadder()`` starts from scratch.
    """

    def __init__(self):
        self.shown = {}

    def reveal(self, name, rung=None):
        """Print the next rung of the stub ``name``'s ladder (``rung``: that rung, 1 to 4, instead).

        ValueError for a graded exercise (its answer is with the instructor), a name that is no lesson's stub
        (naming the stubs) or a rung out of range.
        """
        exercise = _stub(name)
        last = len(RUNGS)
        again = rung is None and self.shown.get(name) == last
        if rung is None:
            rung = min(self.shown.get(name, 0) + 1, last)
        elif isinstance(rung, bool) or not isinstance(rung, int) or not 1 <= rung <= last:
            raise ValueError(f"rung must be a whole number from 1 to {last}, got {rung!r}")
        self.shown[name] = rung
        lines = [f"{name} -- hint {rung} of {last}: {RUNGS[rung - 1]}"]
        if again:
            lines[0] += f" (the last one again; reveal({name!r}, rung=1) starts over)"
        lines += [_rung_text(exercise, rung), ""]
        if rung < last:
            lines.append(f"(stuck still? reveal({name!r}) again gives hint {rung + 1} of {last}: {RUNGS[rung]})")
        else:
            lines.append(f"(that was the last hint: write your own {name} now, then check it with your_turn)")
        print("\n".join(lines))

    def reset(self):
        """Forget where every stub stands: the next ``reveal`` of each shows its rung 1."""
        self.shown.clear()

    def __repr__(self):
        places = ", ".join(f"{name}: {rung} of {len(RUNGS)}" for name, rung in self.shown.items())
        return f"HintLadder({places or 'no hint shown yet'})"


RUNGS = ("a nudge", "the shapes", "pseudo-code", "the course's computation")
"""The rungs of a hint ladder, in order: what ``reveal(name)`` shows on its first, second, ... call."""

HINTS = HintLadder()
"""The hint ladder of this session's lessons, which :func:`reveal` climbs: ``HINTS.shown`` says where each stub
stands, ``HINTS.reset()`` starts them all over."""


def reveal(name, rung=None):
    """Show the next hint for the lesson stub ``name``, one rung of its ladder a call (see :class:`HintLadder`):
    1 a nudge, 2 the shapes, 3 pseudo-code, 4 the course's own computation; then rung 4 again.

    ``rung``: show that rung (1 to 4) instead, and go on from there; ``reveal(name, rung=1)`` starts over.
    Where each stub stands is kept in :data:`HINTS`.

    ValueError for a graded exercise, whose answer is not in the course's library, and for a name that is no
    lesson's stub (naming the stubs).
    """
    HINTS.reveal(name, rung)


def _stub(name):
    """The check of the lesson stub ``name``; ValueError for a graded exercise or an unknown name."""
    if name in syllabus.graded_checks():
        reference(name)                  # raises: the answer is with the instructor
    if name not in syllabus.stubs():
        raise ValueError(f"name must be one of the lessons' stubs ({', '.join(syllabus.stubs())}), got {name!r}")
    return EXERCISES[name]


def _rung_text(exercise, rung):
    """The text of rung ``rung`` (1 to 4) of ``exercise``'s hint ladder."""
    if rung == len(RUNGS):
        return _course_computation(exercise)
    ladder = exercise.ladder
    if ladder is None:                    # a stub whose check has no ladder yet: its check's hints instead
        text = (exercise.hint, exercise.shape_hint, exercise.hint)[rung - 1] or "(no hint written for this rung)"
    else:
        text = (ladder.nudge, ladder.shapes, ladder.steps)[rung - 1]
    hang = 4 if rung == 3 else 0          # pseudo-code: a wrapped line hangs under its own
    return "\n".join(textwrap.fill(line, 110, subsequent_indent=" " * (len(line) - len(line.lstrip()) + hang))
                     for line in text.splitlines())


def _course_computation(exercise):
    """Rung 4: the source of the library functions that compute ``exercise``'s stub (``Exercise.worked``)."""
    public = exercise.reference
    functions = exercise.worked()
    if not functions:                     # no private worker: the public function is the computation
        return f"# {public.__module__}.{public.__name__}\n" + textwrap.dedent(inspect.getsource(public))
    note = (f"# The course's {exercise.name}: {public.__module__}.{public.__name__} checks its arguments, then "
            f"calls the code below.\n# It also takes a heads axis, (B, H, ...), which is why it may branch or count "
            f"dimensions from the end;\n# your single-head version needs none of that.\n")
    return note + "\n".join(f"# {fn.__module__}.{fn.__name__}\n" + textwrap.dedent(inspect.getsource(fn))
                            for fn in functions)


def _load(name, namespace):
    """The learner's saved piece ``name``, run in ``namespace``, and ``""``; or ``(None, reason)``.

    ``namespace`` holds torch, ``F``, ``math`` and the pieces loaded so far (the library's for the others), so
    a saved ``content_addressing`` may call the learner's own ``cosine_similarity``.
    """
    path = mine_dir() / f"{name}.py"
    if not path.exists():
        return None, "not written yet"
    try:
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        fn = namespace[name]
    except Exception as error:
        return None, f"{path} could not be loaded ({type(error).__name__}: {error})"
    result = check(name, fn, verbose=False)
    if not result.passed:
        return None, f"{path} no longer passes its check ({result.points}/{result.max_points})"
    return fn, ""


def my_pieces(verbose=True):
    """A :class:`~ntm_course.pieces.Pieces` made of the learner's saved pieces, the library's for the rest.

    Each saved piece is loaded and checked again; one that fails to load or to pass is replaced by the
    library's, with the reason printed.
    """
    found, missing = {}, {}
    names = syllabus.pieces()   # in the order the course builds them: later pieces may call earlier ones
    namespace = {"torch": torch, "F": F, "math": math, **{name: getattr(LIBRARY, name) for name in names}}
    for name in names:
        fn, reason = _load(name, namespace)
        if fn is None:
            missing[name] = reason
            namespace[name] = getattr(LIBRARY, name)
        else:
            found[name] = fn
    if verbose:
        print(f"Your pieces: {', '.join(found) or 'none yet'}.")
        for name, reason in missing.items():
            print(f"  the course's {name} ({reason})")
    return Pieces(**found)
