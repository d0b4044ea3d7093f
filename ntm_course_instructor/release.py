"""``ntm-course-instructor release``: generate the learners' ``exercises/`` from the instructors' ``solutions/``.

``solutions/NN_topic.ipynb`` is the single source. Its cells carry nbgrader metadata: solution cells hold the
answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``, graded test cells carry a ``grade_id`` and
``points``, and the other code cells are locked. Releasing runs nbgrader's own preprocessors on each notebook,
in the order nbgrader's ``generate_assignment`` applies them:

- ``ClearSolutions``: each solution region becomes ``# YOUR CODE HERE`` / ``raise NotImplementedError()``;
- ``ClearHiddenTests``: ``### BEGIN HIDDEN TESTS`` regions disappear;
- ``LockCells``: graded and locked cells become undeletable (and read-only);
- ``ClearOutput``: no outputs or execution counts;
- ``ComputeChecksums``: nbgrader can later tell when a learner edited a locked or graded cell.

The solution's Colab install cell (:mod:`ntm_course_instructor.hosted`) is locked like its imports and passes through;
its Colab badge is pointed at the exercise (``exercises/NN_topic.ipynb`` in the course's repository).

``ntm-course-instructor release --check`` writes nothing and fails when ``exercises/`` differs from what it would write.
"""
import copy
import sys
from pathlib import Path

from ntm_course import syllabus
from ntm_course.extras import needs


with needs("grading", __name__):
    import nbformat
    from nbgrader.preprocessors import (ClearHiddenTests, ClearOutput, ClearSolutions, ComputeChecksums,
                                        LockCells)

from . import hosted


PREPROCESSORS = (ClearSolutions, ClearHiddenTests, LockCells, ClearOutput, ComputeChecksums)
EXERCISES = "exercises"
"""The exercises' folder in the course's repository, which their Colab badges open."""


def release_notebook(solution, name):
    """The exercise notebook (a new ``NotebookNode``) generated from a solution notebook; ``name`` is its
    file name (``05_shift.ipynb``), for the Colab badge."""
    nb = copy.deepcopy(solution)
    resources = {}
    for preprocessor in PREPROCESSORS:
        nb, resources = preprocessor().preprocess(nb, resources)
    return hosted.set_badge(nb, f"{EXERCISES}/{name}", hosted.ref_of(nb))


def released_text(solution_path):
    """The exact file content ``release`` writes for one solution notebook."""
    solution = nbformat.read(str(solution_path), as_version=nbformat.NO_CONVERT)
    return nbformat.writes(release_notebook(solution, Path(solution_path).name)) + "\n"


def plan(source, target):
    """``({exercise path: text to write}, [stale exercise paths without a solution])``, in the syllabus's order.

    Every solution notebook in ``source`` must be an exercise of :mod:`ntm_course.syllabus` (ValueError naming
    those that are not); a syllabus exercise missing from ``source`` is simply not released.
    """
    source, target = Path(source), Path(target)
    found = {path.name: path for path in source.glob("*.ipynb")}
    if not found:
        raise ValueError(f"source must be a folder of solution notebooks, found none in {source}")
    known = [a.notebook for a in syllabus.assignments()]
    unknown = sorted(set(found) - set(known))
    if unknown:
        raise ValueError(f"{', '.join(unknown)} in {source} {'is' if len(unknown) == 1 else 'are'} no exercise of "
                         f"the syllabus: add an Assignment to its stage in ntm_course/syllabus.py")
    texts = {target / name: released_text(found[name]) for name in known if name in found}
    stale = sorted(p for p in target.glob("*.ipynb") if p not in texts)
    return texts, stale


def release(source="solutions", target="exercises"):
    """Write one exercise notebook per solution notebook; returns the paths written."""
    texts, stale = plan(source, target)
    Path(target).mkdir(parents=True, exist_ok=True)
    for path, text in texts.items():
        path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"warning: {path} has no solution in {source}; remove it if it is obsolete", file=sys.stderr)
    return list(texts)


def drift(source="solutions", target="exercises"):
    """The exercise paths that are missing, out of date or stale (without a solution)."""
    texts, stale = plan(source, target)
    changed = [p for p, text in texts.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    return changed + stale


def add_arguments(parser):
    parser.add_argument("--source", default="solutions", help="folder of solution notebooks (default: solutions)")
    parser.add_argument("--target", default="exercises", help="folder for the exercises (default: exercises)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if the exercises differ from what release would write")


def run(args):
    try:
        if args.check:
            differing = drift(args.source, args.target)
            for path in differing:
                print(f"out of date: {path}")
            if differing:
                print("run `ntm-course-instructor release` to regenerate the exercises")
                return 1
            print(f"exercises in {args.target} are up to date with {args.source}")
            return 0
        for path in release(args.source, args.target):
            print(f"wrote {path}")
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0
