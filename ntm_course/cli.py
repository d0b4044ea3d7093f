"""The ``ntm-course`` command: the course's command-line jobs.

    ntm-course train TASK ...        train an NTM or LSTM on one of the paper's tasks
    ntm-course eval CHECKPOINT ...   the generalisation harness for a trained model
    ntm-course release ...           generate exercises/ from solutions/
    ntm-course grade NB.ipynb ...    grade submitted exercise notebooks into a gradebook
    ntm-course render ...            render the executed lessons to HTML

Each job lives in its own module and adds its own options; this file only dispatches.
"""
import argparse
import importlib
import sys

# command -> (module, help); each module defines add_arguments(parser) and run(args) -> exit code
COMMANDS = {
    "train": ("ntm_course.training", "train a model on one of the paper's tasks"),
    "eval": ("ntm_course.evaluation", "evaluate a checkpoint on longer sequences (generalisation)"),
    "release": ("ntm_course.release", "generate exercises/ from solutions/"),
    "grade": ("ntm_course.grading.gradebook", "grade submitted exercise notebooks"),
    "render": ("ntm_course.render", "render the executed lessons to HTML"),
}


def build_parser():
    parser = argparse.ArgumentParser(prog="ntm-course", description="Neural Turing Machine course tools.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text).set_defaults(module=module)
    return parser


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    known, _ = parser.parse_known_args(argv[:1] or ["--help"])
    module = importlib.import_module(known.module)
    sub_parser = argparse.ArgumentParser(prog=f"ntm-course {known.command}",
                                         description=COMMANDS[known.command][1])
    module.add_arguments(sub_parser)
    return module.run(sub_parser.parse_args(argv[1:])) or 0


if __name__ == "__main__":
    sys.exit(main())
