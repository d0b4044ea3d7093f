"""The ``ntm-course`` and ``ntm-course-instructor`` commands' dispatch (the subcommands are tested with their own
modules)."""
import runpy
import subprocess
import sys
import types
import warnings

import pytest

from ntm_course.teaching import cli
from ntm_course_instructor import cli as instructor_cli


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: ntm-course")
    assert set(cli.COMMANDS) == {"get", "train", "eval", "doctor"}
    for command in cli.COMMANDS:
        assert command in out


def test_no_command_shows_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main([])
    assert exit_info.value.code == 0
    assert "usage: ntm-course" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["frobnicate"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "usage: ntm-course" in err and "invalid choice: 'frobnicate'" in err


def test_unknown_command_from_the_shell_has_no_traceback():
    done = subprocess.run([sys.executable, "-m", "ntm_course.teaching.cli", "frobnicate"], capture_output=True,
                          text=True,
                          timeout=120)
    assert done.returncode == 2
    assert "usage: ntm-course" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def fake_command(monkeypatch):
    """A stand-in subcommand module, so dispatch is tested without running a real job."""
    module = types.ModuleType("fake_job")
    module.calls = []

    def add_arguments(parser):
        parser.add_argument("name")
        parser.add_argument("--times", type=int, default=1)

    def run(args):
        module.calls.append(args)
        return 3 if args.name == "fail" else None

    module.add_arguments, module.run = add_arguments, run
    monkeypatch.setitem(sys.modules, "fake_job", module)
    monkeypatch.setitem(cli.COMMANDS, "fake", ("fake_job", None, "a fake job"))
    return module


def test_dispatch_passes_the_rest_to_the_command(fake_command):
    assert cli.main(["fake", "copy", "--times", "2"]) == 0            # run() returned None -> 0
    (args,) = fake_command.calls
    assert args.name == "copy" and args.times == 2
    assert cli.main(["fake", "fail"]) == 3                            # the command's exit code comes back


def test_command_usage_error_names_the_command(fake_command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["fake", "--times", "x"])
    assert exit_info.value.code == 2
    assert "usage: ntm-course fake" in capsys.readouterr().err


@pytest.mark.parametrize("command", cli.INSTRUCTORS)
def test_an_instructors_command_asked_of_the_learners_tool_names_the_instructors(command, capsys):
    assert cli.main([command, "x.ipynb"]) == 2
    assert capsys.readouterr().err == (f"ntm-course {command} is one of the instructor's tools: pip install "
                                       f"ntm-course-instructor, then run ntm-course-instructor {command} x.ipynb\n")
    assert set(cli.INSTRUCTORS) == set(instructor_cli.COMMANDS) and not set(cli.COMMANDS) & set(cli.INSTRUCTORS)


def test_the_instructors_tool_lists_its_commands_and_rejects_others(capsys):
    with pytest.raises(SystemExit) as exit_info:
        instructor_cli.main(["--help"])
    out = capsys.readouterr().out
    assert exit_info.value.code == 0 and out.startswith("usage: ntm-course-instructor")
    assert all(command in out for command in instructor_cli.COMMANDS)
    with pytest.raises(SystemExit) as exit_info:
        instructor_cli.main(["train"])
    assert exit_info.value.code == 2 and "invalid choice: 'train'" in capsys.readouterr().err


def test_a_command_whose_extra_is_missing_says_which_in_one_line(monkeypatch, capsys):
    """``ntm-course-instructor release`` without nbgrader."""
    for name in ("nbgrader", "nbgrader.preprocessors"):             # as if it were not installed (another test
        monkeypatch.setitem(sys.modules, name, None)                # in this worker may have imported it)
    monkeypatch.delitem(sys.modules, "ntm_course_instructor.release", raising=False)
    assert instructor_cli.main(["release", "--check"]) == 1
    err = capsys.readouterr().err
    assert err == ("ntm-course-instructor release needs the course's 'grading' extra (no module named "
                   "'nbgrader.preprocessors'): pip install 'ntm-course-instructor'\n")


def test_the_extra_is_named_for_what_the_command_runs_too(fake_command, monkeypatch, capsys):
    def run(args):
        import ntm_course_test_absent_plotting  # noqa: F401         # a plotting library the job imports late
    monkeypatch.setattr(fake_command, "run", run)
    monkeypatch.setitem(cli.COMMANDS, "fake", ("fake_job", "lessons", "a fake job"))
    assert cli.main(["fake", "copy"]) == 1
    assert "ntm-course fake needs the course's 'lessons' extra" in capsys.readouterr().err


def run_as_main(module, argv, monkeypatch):
    """``python -m module argv...`` in this process: the exit code it would give."""
    monkeypatch.setattr(sys, "argv", [module, *argv])
    with warnings.catch_warnings(), pytest.raises(SystemExit) as stop:
        warnings.simplefilter("ignore", RuntimeWarning)     # runpy: the module is already imported (by the tests)
        runpy.run_module(module, run_name="__main__")
    return stop.value.code


def test_python_m_cli_exits_with_the_commands_code(tmp_path, monkeypatch, capsys):
    assert run_as_main("ntm_course_instructor.cli", ["grade", "x.ipynb", "--source", str(tmp_path)], monkeypatch) == 2
    assert capsys.readouterr().err == f"error: source must be the folder of solution notebooks, found none in " \
                                      f"{tmp_path}\n"


def test_python_m_hosted_check_exits_1_for_a_stale_notebook_and_writes_nothing(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "notebooks" / "01_x.ipynb"
    stale.parent.mkdir()
    stale.write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    before = stale.read_text()
    assert run_as_main("ntm_course_instructor.hosted", ["--root", str(tmp_path), "--check"], monkeypatch) == 1
    assert capsys.readouterr().out == "stale: notebooks/01_x.ipynb\n"
    assert stale.read_text() == before
