"""Where the solution notebooks are: the wheel's copy inside this package, or the checkout's ``solutions/``.

The instructor's wheel carries them (its build copies ``solutions/*.ipynb`` into ``ntm_course_instructor/solutions/``),
so grading works from a plain ``pip install ntm-course-instructor``; an editable install reads the checkout's.
"""
from pathlib import Path


PACKAGE = Path(__file__).resolve().parent
SHIPPED = PACKAGE / "solutions"


def solutions_dir(package=PACKAGE):
    """The folder of solution notebooks of this install; FileNotFoundError when it has none."""
    for folder in (package / SHIPPED.name, package.parent / "solutions"):
        if folder.is_dir() and any(folder.glob("*.ipynb")):
            return folder
    raise FileNotFoundError(f"this install of ntm_course_instructor ({package}) holds no solution notebooks; "
                            f"reinstall it (pip install ntm-course-instructor) or pass --source")
