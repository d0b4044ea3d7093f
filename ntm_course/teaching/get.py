"""``ntm-course get DIR``: copy the course's lessons and exercises into a folder of your own.

    pip install 'ntm-course[lessons]'
    ntm-course get my-ntm-course
    jupyter lab my-ntm-course/notebooks/00_welcome.ipynb

``DIR`` gets ``notebooks/`` (the lessons), ``exercises/`` (the graded exercises) and the recorded training runs
that lesson 9 reads, laid out as in the repository, so the links between them work. A file already in
``DIR`` that differs from the course's (your work) is never overwritten unless you pass ``--force``; files
equal to the course's are left as they are, so running ``get`` again is safe.

The files come from the installed package: a wheel carries them in ``ntm_course/course_files/`` (its build,
``setup.py``, copies :data:`COURSE_FILES` there); an editable install or a checkout finds them in the checkout
around the package. This module uses only the standard library: ``setup.py`` loads it by path at build time.
"""
import filecmp
import shutil
import sys
from pathlib import Path


COURSE_FILES = ("notebooks/*.ipynb", "exercises/*.ipynb")
"""What a learner gets, as globs relative to the repository's root (and to ``DIR``)."""
PACKAGE = Path(__file__).resolve().parents[1]
SHIPPED = PACKAGE / "course_files"
"""Where a wheel's build puts the course files, inside the installed package (``ntm_course/``)."""


def course_files(root):
    """The course files under ``root`` (a checkout or a wheel's ``course_files``), relative to it, sorted.

    Raises FileNotFoundError naming a pattern of :data:`COURSE_FILES` that matches nothing under ``root``.
    """
    found = []
    for pattern in COURSE_FILES:
        matches = sorted(path.relative_to(root) for path in Path(root).glob(pattern) if path.is_file())
        if not matches:
            raise FileNotFoundError(f"no course file {pattern} under {root}")
        found += matches
    return found


def course_root(package=PACKAGE):
    """Where this install of the course keeps its course files: the wheel's copy or the checkout's."""
    shipped, checkout = package / SHIPPED.name, package.parent
    if shipped.is_dir():
        return shipped
    if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir():
        return checkout
    raise FileNotFoundError(f"this install of ntm_course ({package}) holds no lessons: it is neither a wheel "
                            f"with {SHIPPED.name}/ nor a checkout; reinstall it with pip install ntm-course")


def get(dest, force=False, root=None):
    """Copy the course files into ``dest`` (made if needed); returns ``(copied, unchanged)``, relative paths.

    ``root`` is where the files come from (default: :func:`course_root`). Raises FileExistsError, copying
    nothing, when ``dest`` holds a course file with other content and ``force`` is false; ValueError when
    ``dest`` is a file or is ``root`` itself.
    """
    root = Path(root) if root is not None else course_root()
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"DIR must be a folder, got the file {dest}")
    if dest.resolve() == root.resolve():
        raise ValueError(f"DIR is where the course's files come from ({root}); choose another folder")
    files = course_files(root)
    existing = [f for f in files if (dest / f).exists()]
    unchanged = [f for f in existing if (dest / f).is_file() and filecmp.cmp(root / f, dest / f, shallow=False)]
    differing = [f for f in existing if f not in unchanged]
    if differing and not force:
        shown = ", ".join(str(f) for f in differing[:3]) + (", ..." if len(differing) > 3 else "")
        raise FileExistsError(f"{dest} already has {len(differing)} of the course's files with other content "
                              f"({shown}): your work, perhaps. Nothing was copied; use --force to overwrite "
                              f"them, or choose another folder")
    copied = [f for f in files if f not in unchanged]
    for relative in copied:
        (dest / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(root / relative, dest / relative)
    return copied, unchanged


def add_arguments(parser):
    parser.add_argument("dir", help="the folder to copy the lessons and exercises into (made if needed)")
    parser.add_argument("--force", action="store_true",
                        help="overwrite course files in DIR that differ from the course's (your changes are lost)")


def run(args):
    try:
        copied, unchanged = get(args.dir, args.force)
    except (OSError, ValueError) as error:
        print(f"ntm-course get: {error}", file=sys.stderr)
        return 1
    dest = Path(args.dir)
    lessons = sum(1 for f in copied + unchanged if f.parts[0] == "notebooks")
    exercises = sum(1 for f in copied + unchanged if f.parts[0] == "exercises")
    print(f"{dest}: {lessons} lessons in notebooks/, {exercises} exercises in exercises/ "
          f"({len(copied)} files copied, {len(unchanged)} already there)")
    print(f"start with: jupyter lab {dest / 'notebooks' / '00_welcome.ipynb'}  "
          f"(JupyterLab comes with pip install 'ntm-course[lessons]')")
    return 0
