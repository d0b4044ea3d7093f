"""Edge paths of small modules: the package's lazy attributes and its version outside an install, the commands
run as ``python -m``, ``render`` without Jupyter Book or with a build that fails, a head-parameters figure drawn
into given axes, a lesson stage whose source cannot be saved, and a few one-line errors and hints."""
import importlib.metadata
import importlib.util
import re
import runpy
import sys
import types
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

import ntm_course
from ntm_course.experiments.config import build_model, make_config
from ntm_course.experiments.tasks import bits_per_sequence
from ntm_course.heads import HeadParams
from ntm_course.pieces import Pieces
from ntm_course.presentation import viz_models
from ntm_course_instructor import render
from ntm_course_instructor.grading import EXERCISES, check, reference
from ntm_course.teaching.lesson import your_turn


ROOT = Path(__file__).resolve().parents[1]


# --- the package -------------------------------------------------------------------------------------------

def test_a_package_never_installed_has_version_unknown(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    # a fresh copy of ntm_course/__init__.py (its submodules are the ones already imported; sys.modules untouched)
    spec = importlib.util.spec_from_file_location("ntm_course", ntm_course.__file__,
                                                  submodule_search_locations=list(ntm_course.__path__))
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.__version__ == "unknown" and fresh is not ntm_course
    assert ntm_course.__version__ == importlib.metadata.distribution("ntm-course").version


def test_load_pretrained_and_the_folders_load_on_first_use():
    from ntm_course.experiments import pretrained
    assert ntm_course.__getattr__("load_pretrained") is pretrained.load_pretrained
    assert ntm_course.__getattr__("experiments") is sys.modules["ntm_course.experiments"]


def test_a_broken_import_inside_a_submodule_is_not_disguised_as_a_missing_attribute(monkeypatch):
    monkeypatch.delitem(sys.modules, "ntm_course.handcrafted", raising=False)   # import it afresh ...
    monkeypatch.setitem(sys.modules, "ntm_course.step", None)           # ... with one of its imports broken
    with pytest.raises(ModuleNotFoundError) as error:
        ntm_course.__getattr__("handcrafted")
    assert error.value.name == "ntm_course.step" and not isinstance(error.value, AttributeError)
    with pytest.raises(AttributeError, match=r"^module 'ntm_course' has no attribute 'no_such_part'$"):
        ntm_course.__getattr__("no_such_part")


# --- the commands as python -m ------------------------------------------------------------------------------

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


# --- ntm-course-instructor render ------------------------------------------------------------------------------------------

def render_args(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "_config.yml").write_text("title: test\n")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    return types.SimpleNamespace(paths=[str(broken)], site=str(site), output=str(tmp_path / "html"), timeout=5)


def test_render_without_jupyter_book_says_which_extra_to_install(tmp_path, monkeypatch, capsys):
    for name in ("jupyter_book", "jupyter_book.sphinx"):        # as if never installed, imported before or not
        monkeypatch.setitem(sys.modules, name, None)
    assert render.run(render_args(tmp_path)) == 2
    assert capsys.readouterr().err.startswith("ntm-course-instructor render: needs the site extra (pip install 'ntm-course-instructor[site]'): ")


def test_render_reports_a_site_that_does_not_build(tmp_path, monkeypatch, capsys):
    calls = []

    def build_sphinx(book, output_dir, **options):
        calls.append(((Path(book) / "_toc.yml").read_text(), Path(output_dir), options))
        return "sphinx failed"
    monkeypatch.setitem(sys.modules, "jupyter_book.sphinx", types.SimpleNamespace(build_sphinx=build_sphinx))
    args = render_args(tmp_path)
    assert render.run(args) == 1
    [(toc, output_dir, options)] = calls
    assert toc == "format: jb-book\nroot: intro\n"          # the only notebook could not be read: no chapters
    assert output_dir == Path(args.output) and options["noconfig"] is True
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"FAILED   {args.paths[0]}: cannot read it: ")
    assert err[-1] == "ntm-course-instructor render: Jupyter Book could not build the site: sphinx failed"
    assert not Path(args.output).exists()                     # no MathJax copied into a site that was not built


# --- figures -------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trace():
    model = build_model(make_config("copy", controller_size=8, N=8, M=4))
    _, recorded = model.trace(torch.rand(5, 1, 9, generator=torch.Generator().manual_seed(0)))
    return recorded


@pytest.mark.parametrize("kind, panels", [("read", 4), ("write", 6)])
def test_plot_head_params_draws_into_the_axes_it_is_given(trace, kind, panels):
    fig = Figure()
    axes = fig.subplots(panels, 1)
    assert viz_models.plot_head_params(trace, kind=kind, axes=axes) is fig
    assert all(ax.has_data() for ax in axes) and axes[0].get_title() == f"{kind} head weighting $w_t$"
    gate = trace[f"{kind}_g"][:, 0, 0, 0].detach().double().numpy()
    np.testing.assert_allclose(axes[1].get_lines()[0].get_ydata(), gate, rtol=1e-6)
    with pytest.raises(ValueError, match=rf"^a {kind} head needs {panels} axes, got {panels - 1}$"):
        viz_models.plot_head_params(trace, kind=kind, axes=axes[:-1])


# --- lessons ------------------------------------------------------------------------------------------------------

def test_a_passing_stage_without_source_is_used_but_not_saved(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    namespace = {"torch": torch}
    exec("def shift(w, s):\n    K = s.shape[1]\n"              # defined by exec: inspect finds no source file
         "    return sum(s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=1) for k in range(K))\n", namespace)
    fn = namespace["shift"]
    assert your_turn("shift", fn) is fn
    assert capsys.readouterr().out.splitlines()[-1] == (
        "-> from here on, the lesson uses your shift. (its source could not be found, so later lessons will not "
        "use it: define it with `def`)")
    assert not (tmp_path / "mine").exists()


# --- one-line errors and hints ------------------------------------------------------------------------------

def test_reference_of_an_unknown_exercise_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"^name must be one of \[.*'shift'.*\], got 'shfit'$"):
        reference("shfit")
    assert reference("shift") is EXERCISES["shift"].reference


def test_a_piece_that_is_not_a_function_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"^shift must be a function, got int$"):
        Pieces(shift=3)


def test_pieces_replace_gives_a_copy_with_the_learners_piece():
    def shift(w, s):
        return w
    mine = Pieces().replace(shift=shift)
    assert mine.mine() == ["shift"] and Pieces().mine() == []
    assert torch.equal(mine.shift(torch.eye(3)[:2], torch.tensor([[0.0, 0.0, 1.0]] * 2)), torch.eye(3)[:2])


def test_head_params_repr_shows_heads_params_and_clip():
    assert "heads=2, params={'key': 4, 'beta': 1, 'g': 1, 's': 3, 'gamma': 1}, clip=20.0" in repr(HeadParams(8, 2, 4))


def test_a_dtype_mismatch_error_gets_the_dtype_hint():
    hint = EXERCISES["shift"].error_hint(RuntimeError("expected scalar type Double but found Float"))
    assert hint.startswith("create new tensors with the inputs' dtype")


def learners_train_step(clip_norm=False, mean_loss=False):
    def train_step(model, optimizer, inputs, targets, mask, clip=10.0):
        optimizer.zero_grad()
        logits = model(inputs)
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits, targets) if mean_loss
                else bits_per_sequence(logits, targets, mask))
        loss.backward()
        if clip_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        else:
            torch.nn.utils.clip_grad_value_(model.parameters(), clip)
        optimizer.step()
        return loss.item()
    return train_step


@pytest.mark.parametrize("options, group, hint", [
    # clipping the norm instead of each element only shows where clipping bites: the strong-clipping edge case
    (dict(clip_norm=True), "edge cases", "the paper clips each gradient element to [-clip, clip] "
                                         "(clip_grad_value_), not the gradient's norm"),
    (dict(mean_loss=True), "values", "the loss is a mean over every bit: the cost is in bits per sequence"),
])
def test_train_step_mistakes_are_recognised(options, group, hint):
    result = check("train_step", learners_train_step(**options), verbose=False)
    assert result.groups[group] is False and list(result.failures)[0] == group
    assert result.failures[group].hint.startswith(hint)


@pytest.mark.parametrize("name, fn, message", [
    ("blog_rule_s", lambda K: [0.0] * K,
     r"blog_rule_s\(\d+\) must return a torch\.Tensor s of shape \(1, \d+\), got list"),
    ("blog_rule_answers", lambda: [3, (3, 4, 5)],
     r"blog_rule_answers\(\) must return a dict with keys 'K', 'offsets' and 'columns', got list"),
    ("stable_cosine_similarity", lambda memory, key: 0.5, r"the result must be a torch\.Tensor, got float"),
    ("stable_cosine_similarity", lambda memory, key: torch.zeros(memory.shape[:2], dtype=memory.dtype),
     r"no gradient reaches the inputs: the result is cut off from the graph"),
])
def test_an_answer_of_the_wrong_kind_fails_with_what_it_must_be(name, fn, message):
    result = check(name, fn, verbose=False)
    assert result.points == 0
    assert re.match(f"your function raised ValueError: {message}", result.failures["values"].problem)
