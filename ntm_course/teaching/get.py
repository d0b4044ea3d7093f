"""``ntm-course get DIR``: copy the course's lessons and exercises into a folder of your own, and bring it up to date.

    pip install 'ntm-course[lessons]'
    ntm-course get my-ntm-course
    jupyter lab my-ntm-course/notebooks/00_welcome.ipynb

``DIR`` gets ``notebooks/`` (the lessons) and ``exercises/`` (the graded exercises), laid out as in the
repository, so the links between them work. Running ``get`` again merges: it adds what is missing (a lesson you
deleted comes back), updates a file you never changed when the course's copy is newer, and keeps every file you
changed, saying which. ``DIR/.ntm-course-get.json`` records what ``get`` wrote, which is how it tells your
changes from the course's; without that record (a folder made by hand) any file that differs counts as yours.

``--force FILE`` (repeatable, a path relative to ``DIR`` such as ``exercises/05_shift.ipynb``) replaces only the
files it names with the course's, and keeps yours beside it first, as ``05_shift.mine.ipynb`` (then
``05_shift.mine-2.ipynb``, ...): nothing you wrote is ever lost.

The files come from the installed package: a wheel carries them in ``ntm_course/course_files/`` (its build,
``setup.py``, copies :data:`COURSE_FILES` there); an editable install or a checkout finds them in the checkout
around the package. This module uses only the standard library: ``setup.py`` loads it by path at build time.
"""
import dataclasses
import hashlib
import json
import shutil
import sys
from pathlib import Path


COURSE_FILES = ("notebooks/*.ipynb", "exercises/*.ipynb")
"""What a learner gets, as globs relative to the repository's root (and to ``DIR``)."""
PACKAGE = Path(__file__).resolve().parents[1]
SHIPPED = PACKAGE / "course_files"
"""Where a wheel's build puts the course files, inside the installed package (``ntm_course/``)."""
RECORD = ".ntm-course-get.json"
"""The file in ``DIR`` that records the digest of each course file as ``get`` last wrote it."""


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


@dataclasses.dataclass
class Merge:
    """What :func:`get` did to each course file (paths relative to ``DIR``, in the course's order)."""
    added: list = dataclasses.field(default_factory=list)       # missing: copied
    updated: list = dataclasses.field(default_factory=list)     # as get last wrote it, and the course's is newer
    unchanged: list = dataclasses.field(default_factory=list)   # already the course's
    kept: list = dataclasses.field(default_factory=list)        # changed by you: left as it is
    replaced: dict = dataclasses.field(default_factory=dict)    # named by force: {file: where yours was kept}


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_record(dest):
    try:
        files = json.loads((dest / RECORD).read_text()).get("files", {})
    except (OSError, ValueError, AttributeError):
        return {}
    return files if isinstance(files, dict) else {}


def backup_name(path):
    """A free name beside ``path`` for the learner's copy: ``NAME.mine.ipynb``, then ``NAME.mine-2.ipynb``, ..."""
    candidate, n = path.with_name(f"{path.stem}.mine{path.suffix}"), 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}.mine-{n}{path.suffix}")
    return candidate


def _forced(dest, names, files):
    """``names`` (``--force``'s files: relative to ``dest``, or paths inside it) as course files; ValueError
    naming one that is not a course file."""
    forced = set()
    for name in names:
        relative = Path(name)
        if relative.is_absolute() or relative not in files:
            try:
                relative = Path(name).resolve().relative_to(dest.resolve())
            except ValueError:
                pass
        if relative not in files:
            raise ValueError(f"--force {name}: not one of the course's files in {dest} (name it as "
                             f"notebooks/NN_topic.ipynb or exercises/NN_topic.ipynb)")
        forced.add(relative)
    return forced


def get(dest, force=(), root=None):
    """Merge the course files into ``dest`` (made if needed); returns a :class:`Merge`.

    A missing file is added; a file ``get`` wrote and nobody changed since is updated to the course's; a file
    that differs otherwise is the learner's and is kept, unless ``force`` (course files, relative to ``dest``)
    names it: then it is moved aside (:func:`backup_name`) and the course's copied. ``root`` is where the files
    come from (default: :func:`course_root`). ValueError when ``dest`` is a file or is ``root`` itself, or when
    ``force`` names something that is not a course file (then nothing is written).
    """
    root = Path(root) if root is not None else course_root()
    dest = Path(dest)
    if dest.exists() and not dest.is_dir():
        raise ValueError(f"DIR must be a folder, got the file {dest}")
    if dest.resolve() == root.resolve():
        raise ValueError(f"DIR is where the course's files come from ({root}); choose another folder")
    files = course_files(root)
    forced = _forced(dest, force, files)
    before = _read_record(dest)
    record, merge = dict(before), Merge()
    for relative in files:
        source, target = root / relative, dest / relative
        theirs = _digest(source)
        if not target.exists():
            merge.added.append(relative)
        elif target.is_file() and _digest(target) == theirs:
            merge.unchanged.append(relative)
            record[relative.as_posix()] = theirs
            continue
        elif relative in forced:
            backup = backup_name(target)
            target.rename(backup)
            merge.replaced[relative] = backup.relative_to(dest)
        elif target.is_file() and _digest(target) == record.get(relative.as_posix()):
            merge.updated.append(relative)
        else:
            merge.kept.append(relative)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        record[relative.as_posix()] = theirs
    if record != before or not (dest / RECORD).exists():
        (dest / RECORD).write_text(json.dumps({"files": dict(sorted(record.items()))}, indent=1) + "\n")
    return merge


def report(dest, merge):
    """The command's lines for ``merge`` of the course into ``dest``."""
    everything = merge.added + merge.updated + merge.unchanged + merge.kept + list(merge.replaced)
    lessons = sum(1 for f in everything if f.parts[0] == "notebooks")
    exercises = len(everything) - lessons
    lines = [f"{dest}: {lessons} lessons in notebooks/, {exercises} exercises in exercises/ ({len(merge.added)} "
             f"added, {len(merge.updated)} updated, {len(merge.unchanged)} already up to date, {len(merge.kept)} "
             f"of yours kept, {len(merge.replaced)} replaced)"]
    if merge.added and len(merge.added) < len(everything):      # a fresh folder gets everything: no list
        lines += [f"added (it was missing): {f}" for f in merge.added]
    lines += [f"updated (you had not changed it): {f}" for f in merge.updated]
    lines += [f"kept (you changed it): {f}" for f in merge.kept]
    lines += [f"replaced by the course's: {f} (yours is now {backup})" for f, backup in merge.replaced.items()]
    if merge.kept:
        lines.append(f"to replace one of yours with the course's (yours kept beside it): "
                     f"ntm-course get {dest} --force {merge.kept[0]}")
    lines.append(f"start with: jupyter lab {dest / 'notebooks' / '00_welcome.ipynb'}  "
                 f"(JupyterLab comes with pip install 'ntm-course[lessons]')")
    return lines


def add_arguments(parser):
    parser.add_argument("dir", help="the folder to copy the lessons and exercises into (made if needed); run again, "
                                    "it adds what is missing and keeps every file you changed")
    parser.add_argument("--force", action="append", default=[], metavar="FILE",
                        help="replace FILE (relative to DIR, e.g. exercises/05_shift.ipynb) with the course's, "
                             "keeping yours beside it as NAME.mine.ipynb; repeat it for several files")


def run(args):
    try:
        merge = get(args.dir, args.force)
    except (OSError, ValueError) as error:
        print(f"ntm-course get: {error}", file=sys.stderr)
        return 1
    print("\n".join(report(Path(args.dir), merge)))
    return 0
