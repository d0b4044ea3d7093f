"""Active lessons: the learner writes each stage, checks it on the spot, and the machine later runs on it.

In a lesson, after the learner's stub cell::

    shift = your_turn("shift", shift)

runs the course's check on the learner's ``shift`` (a report with hints), and returns it when it passes:
it is then saved (its source, as a small ``.py`` file) so that later lessons can build the machine from it
with :func:`my_pieces`. While the stub is unanswered or still wrong, ``your_turn`` says so once and returns
the course's version, so the lesson still runs from top to bottom.

:func:`reveal` prints the library's version of a stage, for a learner who is stuck; a graded exercise has no
answer to reveal (its reference is only in the instructor's package).

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
from .practice import check, reference


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
          f"(reveal({name!r}) shows it).")
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


def reveal(name):
    """Print the library's version of ``name`` (read it after you have tried!).

    ValueError for a graded exercise, whose answer is not in the course's library.
    """
    fn = reference(name)
    print(f"# {fn.__module__}.{fn.__name__}\n" + textwrap.dedent(inspect.getsource(fn)))


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
