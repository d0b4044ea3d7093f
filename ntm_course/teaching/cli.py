"""The ``ntm-course`` command: the course's command-line jobs.

    ntm-course get DIR               copy the lessons and exercises into DIR, to work on them; again: add what
                                     is missing, keep what you changed (--force FILE replaces one, keeps yours)
    ntm-course train TASK ...        train an NTM or LSTM on one of the paper's tasks
    ntm-course eval CHECKPOINT ...   the generalisation harness for a trained model
    ntm-course doctor                what this install is made of (Python, torch's build, the device, the
                                     extras, the Jupyter kernel, your saved pieces) and what to fix

The instructor's jobs (release, grade, render) are another distribution's command, ``ntm-course-instructor``
(``pip install ntm-course-instructor``); asked of ``ntm-course``, they stop with one line that says so.

Each job lives in its own module and adds its own options; this file only dispatches. A job whose extra is
not installed (see :mod:`ntm_course.extras`) stops with one line naming it, e.g.
``ntm-course eval needs the course's 'lessons' extra (...): pip install 'ntm-course[lessons]'``.
"""
import argparse
import contextlib
import importlib
import sys

from ..extras import MissingExtra, needs


# command -> (module, extra it needs or None, help); each module defines add_arguments(parser) and run(args)
COMMANDS = {
    "get": ("ntm_course.teaching.get", None, "copy the lessons and exercises into a folder, or add what it misses"),
    "train": ("ntm_course.experiments.training", None, "train a model on one of the paper's tasks"),
    "eval": ("ntm_course.experiments.evaluation", "lessons",
             "evaluate a checkpoint on longer sequences (generalisation)"),
    "doctor": ("ntm_course.teaching.doctor", None, "what this install is made of, and what to fix"),
}
INSTRUCTORS = ("release", "grade", "render")
"""The instructor's commands, which live in the ``ntm-course-instructor`` distribution."""


def build_parser(prog="ntm-course", commands=COMMANDS, description="Neural Turing Machine course tools."):
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, _, help_text) in commands.items():
        sub.add_parser(name, help=help_text).set_defaults(module=module)
    return parser


def dispatch(argv, prog, commands, description):
    """Run the command ``argv[0]`` of ``commands`` with the rest of ``argv``; its exit code. A command's module is
    imported only when asked for; one whose extra is missing stops with one line naming it (exit code 1)."""
    known, _ = build_parser(prog, commands, description).parse_known_args(argv[:1] or ["--help"])
    module_name, extra, help_text = commands[known.command]
    sub_parser = argparse.ArgumentParser(prog=f"{prog} {known.command}", description=help_text)
    try:
        with needs(extra, f"{prog} {known.command}") if extra else contextlib.nullcontext():
            module = importlib.import_module(module_name)
            module.add_arguments(sub_parser)
            return module.run(sub_parser.parse_args(argv[1:])) or 0
    except MissingExtra as error:
        print(error, file=sys.stderr)
        return 1


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] and argv[0] in INSTRUCTORS:
        print(f"ntm-course {argv[0]} is one of the instructor's tools: pip install ntm-course-instructor, then run "
              f"ntm-course-instructor {' '.join(argv)}", file=sys.stderr)
        return 2
    return dispatch(argv, "ntm-course", COMMANDS, "Neural Turing Machine course tools.")


if __name__ == "__main__":
    sys.exit(main())
