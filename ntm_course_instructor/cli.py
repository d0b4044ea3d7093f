"""The ``ntm-course-instructor`` command: the instructor's jobs.

    ntm-course-instructor release ...           generate exercises/ from solutions/
    ntm-course-instructor grade NB.ipynb ...    grade submitted exercise notebooks into a gradebook
    ntm-course-instructor render ...            build the course website (Jupyter Book) from the executed lessons

Each job lives in its own module and adds its own options; this file only dispatches. ``render`` needs the
``site`` extra (``pip install 'ntm-course-instructor[site]'``) and says so in one line when it is missing.
"""
import sys

from ntm_course.teaching.cli import dispatch


# command -> (module, extra it needs, help); each module defines add_arguments(parser) and run(args)
COMMANDS = {
    "release": ("ntm_course_instructor.release", "grading", "generate exercises/ from solutions/"),
    "grade": ("ntm_course_instructor.grading.gradebook", "grading", "grade submitted exercise notebooks"),
    "render": ("ntm_course_instructor.render", "site",
               "build the course website (Jupyter Book) from the executed lessons"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    return dispatch(argv, "ntm-course-instructor", COMMANDS, "The NTM course's instructor tools.")


if __name__ == "__main__":
    sys.exit(main())
