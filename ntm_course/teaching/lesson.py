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
import builtins
import dis
import importlib
import inspect
import math
import os
import sys
import textwrap
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from .. import syllabus
from ..extras import ipython_shell
from ..heads import split_head_params
from ..pieces import LIBRARY, PieceError, Pieces
from .practice import EXERCISES, check, reference
from .practice.values import WIDTH, wrap


def mine_dir():
    """The folder that holds the learner's saved pieces (``$NTM_COURSE_MINE`` or ``~/.ntm_course/mine``)."""
    return Path(os.environ.get("NTM_COURSE_MINE") or Path.home() / ".ntm_course" / "mine")


def say(text):
    """Print ``text`` with each line wrapped at :data:`~ntm_course.teaching.practice.values.WIDTH`, between
    words only (a browser that wraps a long line breaks it anywhere, mid-word included)."""
    print(wrap(text))


def your_turn(name, fn, save=True):
    """Check the learner's ``fn`` for the stage ``name``; return it if it passes, else the course's version.

    Prints the check's report. A passing function of one of the NTM's pieces (``syllabus.pieces()``) is saved
    for :func:`my_pieces` (unless ``save=False``). Never raises because of ``fn``.

    The course's own function (what this returned the last time, when the stub was still unanswered) is never
    checked nor saved as the learner's: it says so and returns it.
    """
    if _is_courses(name, fn):
        say(f"-> this {name} is the course's, not yours: the last run of this cell handed it back (your {name} was "
            f"unanswered or did not pass yet), so it is neither checked nor saved as yours. Write your {name} in "
            f"the stub cell above, run that cell, then run this one again. Until then the lesson goes on with the "
            f"course's {name}.")
        return reference(name)
    result = check(name, fn)
    if result.passed:
        note = _save(name, fn) if save and name in syllabus.pieces() else ""
        say(f"-> from here on, the lesson uses your {name}.{note}")
        return fn
    say(f"-> until your {name} passes, the lesson goes on with the course's {name} "
        f"(stuck? reveal({name!r}) gives a hint, one more each time).")
    return reference(name)


def _is_courses(name, fn):
    """True when ``fn`` is the course's own code: the reference of ``name``, a library piece, or a guard around one."""
    seen = set()
    while fn is not None and id(fn) not in seen:
        seen.add(id(fn))
        if name in EXERCISES and fn is reference(name):
            return True
        inner = getattr(fn, "func", None)            # a functools.partial: the library's address
        module = getattr(inner if inner is not None else fn, "__module__", None) or ""
        if module == "ntm_course" or module.startswith("ntm_course."):
            return getattr(fn, "__wrapped__", None) is None or _is_courses(name, fn.__wrapped__)
        fn = getattr(fn, "__wrapped__", None)
    return False


class CannotSave(Exception):
    """A piece whose source cannot be saved so that it loads again: the message says why and what to do."""


def _save(name, fn):
    try:
        source = piece_source(name, fn)
    except CannotSave as error:
        return f" But it is not saved for later lessons: {error}"
    path = mine_dir() / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    return f" Saved to {path} for the machine you build in lessons 7-9."


def _load_globals(code):
    """The global names ``code`` (and the functions and comprehensions inside it) reads."""
    names = set()
    for ins in dis.get_instructions(code):
        if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            names.add(ins.argval)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _load_globals(const)
    return names


def _namespace():
    """What every saved piece finds when it is loaded: torch, ``F``, ``math`` and the pieces (the library's
    until the learner's are loaded)."""
    return {"torch": torch, "F": F, "math": math, **{n: getattr(LIBRARY, n) for n in syllabus.pieces()}}


def _plain(value):
    return value is None or isinstance(value, (bool, int, float, complex, str)) or (
        isinstance(value, tuple) and all(_plain(v) for v in value))


def piece_source(name, fn):
    """The source of the learner's piece ``fn`` as a file that loads on its own: the function, the functions of
    theirs it calls (from other cells), the modules and library functions it uses (as imports) and the plain
    constants (numbers, strings) it reads. :class:`CannotSave` saying why for a lambda, a function defined inside
    another, one without a source file, or one that reads a value that cannot be written down (a tensor, say)."""
    given = set(_namespace()) | set(vars(builtins))
    parts, imports, done = [], [], set()

    def add(f, label):
        if getattr(f, "__name__", "") == "<lambda>":
            raise CannotSave(f"{label} is a lambda, whose source cannot be saved on its own. Define it with "
                             f"`def` instead, run its cell, then this one again.")
        if f.__closure__:
            raise CannotSave(f"{label} is defined inside another function and uses its variables. Define it "
                             f"at the top level of a cell, with `def`.")
        try:
            text = textwrap.dedent(inspect.getsource(f))
        except (OSError, TypeError):
            raise CannotSave(f"the source of {label} could not be found: define it with `def` in a cell") from None
        done.add(f.__name__)
        for var in sorted(_load_globals(f.__code__) - given - done - {name}):
            if var not in f.__globals__:
                continue
            value = f.__globals__[var]
            if inspect.ismodule(value):
                imports.append(f"import {value.__name__}" + ("" if value.__name__ == var else f" as {var}"))
            elif inspect.isfunction(value) and (value.__module__ in (f.__module__, "__main__")
                                                 or value.__module__ is None):
                add(value, f"{var}, which your {name} calls,")
            elif callable(value) and _importable(value):
                imports.append(f"from {value.__module__} import {value.__qualname__}"
                               + ("" if value.__qualname__ == var else f" as {var}"))
            elif _plain(value):
                imports.append(f"{var} = {value!r}")
            else:
                raise CannotSave(f"your {name} reads {var}, a {type(value).__name__} from another cell, which "
                                 f"cannot be saved with it. Compute it inside your function (or pass it in), "
                                 f"run that cell, then this one again.")
            done.add(var)
        parts.append(text)

    add(fn, f"your {name}")
    source = "\n".join(sorted(set(imports)) + [""] * bool(imports) + parts[::-1])
    if fn.__name__ != name:
        source += f"\n{name} = {fn.__name__}\n"
    _loads(name, source)
    return source


def _importable(value):
    module = getattr(value, "__module__", None)
    if not module or module == "__main__" or "<" in getattr(value, "__qualname__", "<"):
        return False
    try:
        found = importlib.import_module(module)
        for part in value.__qualname__.split("."):
            found = getattr(found, part)
        return found is value
    except Exception:
        return False


def _loads(name, source):
    """:class:`CannotSave` unless ``source`` runs on its own and defines a function ``name`` whose global names
    all exist."""
    namespace = _namespace()
    try:
        exec(compile(source, f"<your saved {name}>", "exec"), namespace)
    except Exception as error:
        raise CannotSave(f"saved on its own, it would not load ({type(error).__name__}: {error})") from None
    fn = namespace.get(name)
    if not callable(fn):
        raise CannotSave(f"saved on its own, it defines no function {name}")
    missing = sorted(var for var in _load_globals(fn.__code__) if var not in namespace and var not in vars(builtins))
    if missing:
        raise CannotSave(f"it reads {', '.join(missing)}, which it would not find once saved")


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
            lines.append(wrap(f"(stuck still? reveal({name!r}) again gives hint {rung + 1} of {last}: {RUNGS[rung]})"))
        else:
            lines.append(wrap(f"(that was the last hint: write your own {name} now, then check it with your_turn)"))
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
    return "\n".join(textwrap.fill(line, WIDTH, subsequent_indent=" " * (len(line) - len(line.lstrip()) + hang),
                                   break_long_words=False, break_on_hyphens=False)
                     for line in text.splitlines())


def _course_computation(exercise):
    """Rung 4: the source of the library functions that compute ``exercise``'s stub (``Exercise.worked``)."""
    public = exercise.reference
    functions = exercise.worked()
    if not functions or functions == [public]:   # no private worker: the public function is the computation
        return f"# {public.__module__}.{public.__name__}\n" + textwrap.dedent(inspect.getsource(public))
    note = (f"# The course's {exercise.name}: {public.__module__}.{public.__name__} checks its arguments, then "
            f"calls the code below.\n# It also takes a heads axis, (B, H, ...), which is why it may branch or count "
            f"dimensions from the end;\n# your single-head version needs none of that.\n")
    return note + "\n".join(f"# {fn.__module__}.{fn.__name__}\n" + textwrap.dedent(inspect.getsource(fn))
                            for fn in functions)


def _load(name, namespace):
    """The learner's saved piece ``name``, run in its own copy of ``namespace``, and ``""``; or ``(None, reason)``.

    ``namespace`` holds torch, ``F``, ``math`` and the pieces loaded so far (the library's for the others), so
    a saved ``content_addressing`` may call the learner's own ``cosine_similarity``.
    """
    path = mine_dir() / f"{name}.py"
    if not path.exists():
        return None, "not written yet"
    own = dict(namespace)
    try:
        exec(compile(path.read_text(), str(path), "exec"), own)
        fn = own[name]
    except Exception as error:
        return None, f"{path} could not be loaded ({type(error).__name__}: {error})"
    result = check(name, fn, verbose=False)
    if not result.passed:
        return None, f"{path} no longer passes its check ({result.points}/{result.max_points}: {_why(result)})"
    return fn, ""


def _why(result):
    """What the first failing case of a check says (the exception, when the piece raised one), in a line."""
    if not result.failures:
        return "it raises NotImplementedError" if "not implemented" in result.report else "see check()"
    group, failure = next(iter(result.failures.items()))
    problem = failure.problem.splitlines()[0] if failure.problem else ""
    return f"{group}, case {failure.case.label!r}: {problem[:300]}"


def my_pieces(verbose=True, timing=True):
    """A :class:`~ntm_course.pieces.Pieces` made of the learner's saved pieces, the library's for the rest.

    Each saved piece is loaded and checked again; one that fails to load or to pass is replaced by the
    library's, with the reason printed. Then (``timing``) each of the learner's pieces is timed against the
    course's on a machine's sizes, and a piece much slower than the course's gets a warning with its measured
    slowdown, before a long run pays for it (:func:`slow_pieces`).
    """
    found, missing = {}, {}
    names = syllabus.pieces()   # in the order the course builds them: later pieces may call earlier ones
    namespace = _namespace()
    for name in names:
        fn, reason = _load(name, namespace)
        if fn is None:
            missing[name] = reason
        else:
            found[name] = namespace[name] = fn
    pieces = Pieces(**found)
    if verbose:
        say(f"Your pieces: {', '.join(found) or 'none yet'}.")
        for name, reason in missing.items():
            say(f"  the course's {name} ({reason})")
        if timing:
            for name, (theirs, ours) in slow_pieces(pieces).items():
                say(f"  warning: your {name} is {theirs / ours:.0f} times slower than the course's "
                    f"({1e3 * theirs:.2f} ms a call against {1e3 * ours:.3f} ms, measured on a batch of 32 in "
                    f"a memory of 128 x 20). A machine calls it at every step of every sequence, so a training "
                    f"run on it takes that much longer. A Python loop over rows or examples? Whole-tensor "
                    f"operations do it in one go (reveal({name!r}) shows the shapes).")
    return pieces


SLOW = 5.0
"""A piece this many times slower than the course's (and at least :data:`SLOW_MS` a call slower) is slow."""
SLOW_MS = 0.2


def slow_pieces(pieces, ratio=SLOW, B=32, N=128, M=20, K=3):
    """``{name: (seconds a call of the learner's, of the course's)}`` for each of the learner's pieces in
    ``pieces`` that is at least ``ratio`` times slower than the course's (and :data:`SLOW_MS` slower), timed on
    the arguments a machine gives it (batch ``B``, memory ``N`` x ``M``, ``K`` shifts). The training step is
    not timed (the model's own passes dominate it)."""
    slow = {}
    args = _timing_args(B, N, M, K)
    for name in pieces.mine():
        if name not in args:
            continue
        for _ in range(2):                     # a slowdown must show twice: a busy machine can stall one call
            times = _seconds(getattr(pieces, name), getattr(LIBRARY, name), args[name])
            if times is None or not (times[0] > ratio * times[1] and times[0] - times[1] > SLOW_MS / 1e3):
                break
        else:
            slow[name] = times
    return slow


def _seconds(theirs, ours, args, budget=0.1):
    """The fastest of several calls of ``theirs(*args)`` and of ``ours(*args)``, taken in turns without gradients
    (the fastest, because a busy machine only ever adds time); None when ``theirs`` raises."""
    best = [float("inf"), float("inf")]
    spent = 0.0
    try:
        with torch.no_grad():
            theirs(*args), ours(*args)
            for i in range(20):
                for j, fn in enumerate((theirs, ours)):
                    start = time.perf_counter()
                    fn(*args)
                    took = time.perf_counter() - start
                    best[j], spent = min(best[j], took), spent + took
                if i >= 2 and spent > budget:
                    break
    except Exception:
        return None
    return tuple(best)


def _timing_args(B, N, M, K):
    """The arguments each piece gets inside a machine of these sizes (one head of each kind)."""
    gen = torch.Generator().manual_seed(0)
    memory = torch.randn(B, N, M, generator=gen)
    w = torch.softmax(torch.randn(B, N, generator=gen), dim=1)
    key, scalar, s = torch.randn(B, M, generator=gen), torch.rand(B, 1, generator=gen) + 1, torch.softmax(
        torch.randn(B, K, generator=gen), dim=1)
    write_params = split_head_params(torch.randn(B, 3 * M + K + 3, generator=gen), M, K, write=True)
    read_params = split_head_params(torch.randn(B, M + K + 3, generator=gen), M, K)
    return {"read": (memory, w), "write": (memory, w, torch.rand(B, M, generator=gen), key),
            "cosine_similarity": (memory, key), "content_addressing": (memory, key, scalar),
            "interpolate": (w, w.flip(1), scalar / 2), "shift": (w, s), "sharpen": (w, scalar),
            "address": (memory, key, scalar, scalar / 2, s, scalar, w),
            "split_head_params": (torch.randn(B, 3 * M + K + 3, generator=gen), M, K, True),
            "memory_step": (memory, write_params, read_params, w, w.flip(1))}


def show_piece_errors_short(shell=None):
    """In IPython (Jupyter), show a :class:`~ntm_course.pieces.PieceError` as its message alone, first and
    short, instead of at the bottom of a long traceback (``%tb`` still prints the whole traceback). Done when
    this module is imported in a notebook; returns True when a shell was found."""
    shell = ipython_shell() if shell is None else shell
    if shell is None:
        return False
    shell.set_custom_exc((PieceError,), _short)
    return True


def _short(shell, etype, value, tb, tb_offset=None):
    """IPython's display of a PieceError: its message, wrapped, and how to see the rest (shown as the cell's
    error, so the cell still counts as failed)."""
    stb = (wrap(f"{etype.__name__}: {value}") + "\n" + wrap(
        "(the message names what failed; %tb prints the whole traceback)")).splitlines()
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb      # what %tb shows
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    shell._showtraceback(etype, value, stb)
    return stb


show_piece_errors_short()                      # in a notebook: PieceErrors short from the start
