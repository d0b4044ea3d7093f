"""The ``ntm-course-instructor`` command: the instructor's jobs.

    ntm-course-instructor release ...           generate exercises/ from solutions/
    ntm-course-instructor grade NB.ipynb ...    grade submitted exercise notebooks into a gradebook
    ntm-course-instructor render ...            build the course website (Jupyter Book) from the executed lessons

Each job lives in its own module and adds its own options; this file only dispatches. ``render`` needs the
``site`` extra (``pip install 'ntm-course-instructor[site]'``) and says so in one line when it is missing.
"""
import argparse
import importlib
import sys

from ntm_course.extras import MissingExtra, needs


# command -> (module, extra it needs, help); each module defines add_arguments(parser) and run(args)
COMMANDS = {
    "release": ("ntm_course_instructor.release", "grading", "generate exercises/ from solutions/"),
    "grade": ("ntm_course_instructor.grading.gradebook", "grading", "grade submitted exercise notebooks"),
    "render": ("ntm_course_instructor.render", "site",
               "build the course website (Jupyter Book) from the executed lessons"),
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = argparse.ArgumentParser(prog="ntm-course-instructor", description="The NTM course's instructor tools.")
    parser.add_argument("command", choices=COMMANDS)
    known = parser.parse_args(argv[:1] or ["--help"])
    module_name, extra, help_text = COMMANDS[known.command]
    sub_parser = argparse.ArgumentParser(prog=f"ntm-course-instructor {known.command}", description=help_text)
    try:
        with needs(extra, f"ntm-course-instructor {known.command}"):
            module = importlib.import_module(module_name)
            module.add_arguments(sub_parser)
            return module.run(sub_parser.parse_args(argv[1:])) or 0
    except MissingExtra as error:
        print(error, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
