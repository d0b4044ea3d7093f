"""The options of ``ntm-course train TASK``: one per field of the two config classes, each checked as argparse
reads it (:func:`add_arguments`), and back from the parsed arguments to :func:`~ntm_course.experiments.training.train`'s
keyword arguments (:func:`train_options`). :func:`ntm_course.experiments.training.run` runs the command."""
import argparse
from dataclasses import fields

from .config import COUNT, ModelConfig, TrainConfig
from .tasks import TASKS


#: The spellings a boolean option accepts (any case).
BOOLEAN_WORDS = {"true": True, "yes": True, "on": True, "1": True,
                 "false": False, "no": False, "off": False, "0": False}


OFF = "off"
"""What an option that may be None (``--grad-clip-spikes``, ``--lr-halflife``, ...) takes to be None: ``off``, to
turn off a task's default (copy's ``grad_clip_spikes=2``)."""


def _number(name, check, optional=False):
    """An argparse ``type`` for option ``name``: its value, or a usage error saying what it must be.

    ``check``: ``(type, test, what the test asks)``, the field's range
    (:func:`ntm_course.experiments.config.option`); ``optional``: the field may be None, which ``off`` gives."""
    kind, test, wanted = check

    def convert(text):
        if optional and text.lower() == OFF:
            return OFF
        error = argparse.ArgumentTypeError(f"must be {wanted}{' or off' if optional else ''}, got {text!r}")
        try:
            value = kind(text)
        except ValueError:
            raise error from None
        if not test(value):
            raise error
        return value
    convert.__name__ = name      # argparse names the type in some messages
    return convert


def _boolean(text):
    """An argparse ``type`` for a yes/no option: one of :data:`BOOLEAN_WORDS`, or a usage error."""
    try:
        return BOOLEAN_WORDS[text.lower()]
    except KeyError:
        raise argparse.ArgumentTypeError(f"must be true/false, yes/no, on/off or 1/0, got {text!r}") from None


def _options():
    """Every field of :class:`~ntm_course.experiments.config.ModelConfig` and
    :class:`~ntm_course.experiments.config.TrainConfig`."""
    return [*fields(ModelConfig), *fields(TrainConfig)]


def add_arguments(parser):
    """``ntm-course train TASK``: one option per field of the two config classes (``--num-read-heads``, ...).

    A numeric option outside its field's range, a choice that is not one of the field's choices, or a yes/no
    option that is not one of :data:`BOOLEAN_WORDS`, is a usage error (exit code 2) naming the option and what
    it accepts.
    """
    parser.usage = "%(prog)s TASK [options]"          # not all 30 options again above every usage error
    parser.add_argument("task", choices=sorted(TASKS), help="the paper task to train on")
    parser.add_argument("--checkpoint", help="save the checkpoint here at every evaluation")
    parser.add_argument("--resume", help="continue from this checkpoint")
    parser.add_argument("--history", dest="history_path", help="write the history here (.csv or .json)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    parser.add_argument("--compile", action="store_true",
                        help="run the NTM's step compiled by torch.compile (faster once compiled; opt-in)")
    parser.add_argument("--no-fast", dest="fast", action="store_false",
                        help="run the eager step, the reference, not the fused one (the fast path, on a CPU; "
                             "the two agree to rounding, so a seed's numbers differ between them)")
    parser.add_argument("--threads", type=_number("threads", COUNT),
                        help="torch CPU threads for this run (1 is fastest for small models; restored afterwards)")
    parser.add_argument("--task-option", action="append", default=[], metavar="NAME=INT",
                        help="an argument of the task's generator, e.g. max_length=10 (repeatable)")
    for f in _options():
        flag, doc = "--" + f.name.replace("_", "-"), f.metadata["doc"]
        by_task = "".join(f", {task}: {spec.train_defaults[f.name]}" for task, spec in sorted(TASKS.items())
                          if f.name in spec.train_defaults)
        about = f"{doc + '; ' if doc else ''}default {f.default}{by_task}"
        if isinstance(f.default, bool):
            parser.add_argument(flag, type=_boolean, default=None, metavar="BOOL", help=about)
        elif f.metadata["choices"]:
            parser.add_argument(flag, choices=f.metadata["choices"], default=None, help=about)
        elif f.metadata["check"]:
            optional = f.default is None          # None (off) is in its range: off turns a task's default off
            parser.add_argument(flag, type=_number(f.name, f.metadata["check"], optional), default=None,
                                help=f"{f.metadata['check'][2]}{' or off' if optional else ''}: {about}")
        else:
            parser.add_argument(flag, default=None, help=about)


def train_options(args):
    """The keyword arguments of :func:`~ntm_course.experiments.training.train` the command line set: the config
    fields given and ``task_options`` from ``--task-option NAME=INT``; a SystemExit naming a bad one."""
    options = {f.name: None if getattr(args, f.name) == OFF else getattr(args, f.name) for f in _options()
               if getattr(args, f.name) is not None}
    if args.task_option:
        try:
            options["task_options"] = {k: int(v) for k, v in (o.split("=", 1) for o in args.task_option)}
        except ValueError:
            raise SystemExit(f"--task-option takes NAME=INT, got {args.task_option}") from None
    return options
