"""Every notebook is committed clean and starts the same way; nbval (pytest's addopts) executes them.

Covers every ``.ipynb`` under notebooks/, exercises/ and solutions/: no outputs, no execution counts, the
``python3`` kernelspec, an ``NN_topic`` name, an "Open in Colab" badge for that very notebook before its
title, the Colab install cell (``ntm_course_instructor.hosted``, a no-op off Colab) as the first code cell, and a
second code cell that seeds the generators and picks the device.
"""
import re
from pathlib import Path

import nbformat
import pytest

from ntm_course_instructor import hosted


ROOT = Path(__file__).resolve().parent.parent
FOLDERS = ("notebooks", "exercises", "solutions")
NOTEBOOKS = sorted(p for folder in FOLDERS for p in (ROOT / folder).glob("*.ipynb"))
IDS = [str(p.relative_to(ROOT)) for p in NOTEBOOKS]
NAME = re.compile(r"^\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb$")
SEED = re.compile(r"\b(seed_everything|manual_seed)\(")
DEVICE = re.compile(r"\bget_device\(")


def load(path):
    return nbformat.read(path, as_version=4)


def test_the_lessons_are_there():
    lessons = [p.name for p in NOTEBOOKS if p.parent.name == "notebooks"]
    assert lessons[:7] == ["00_welcome.ipynb", "01_memory.ipynb", "02_content_addressing.ipynb",
                           "03_writing.ipynb", "04_interpolation.ipynb", "05_shift.ipynb",
                           "06_sharpening.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_committed_without_outputs(path):
    dirty = [i for i, cell in enumerate(load(path).cells)
             if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} have outputs or execution counts; clear them"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_python3_kernelspec_and_valid(path):
    nb = load(path)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_named_nn_topic(path):
    assert NAME.match(path.name), f"{path.name} should be named NN_topic.ipynb (two digits, lower case)"


def code_cells(path):
    return [cell for cell in load(path).cells if cell.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_colab_badge_opens_this_notebook_before_its_title(path):
    first, second = load(path).cells[:2]
    assert first.cell_type == "markdown" and hosted.role(first) == "badge", f"{path.name}: no Colab badge first"
    assert first.source == hosted.colab_badge(path.relative_to(ROOT).as_posix(), hosted.release_ref(ROOT))
    assert second.cell_type == "markdown" and second.source.startswith("# "), f"{path.name}: the title follows"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_first_code_cell_is_the_colab_install_cell(path):
    first = code_cells(path)[0]
    assert hosted.role(first) == "install" and first.source == hosted.install_source(hosted.release_ref(ROOT)), \
        f"{path.name}: the first code cell must be hosted.INSTALL_CELL; run `python -m ntm_course_instructor.hosted`"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=IDS)
def test_second_code_cell_sets_seed_and_device(path):
    second = code_cells(path)[1].source
    assert SEED.search(second), f"{path.name}: the second code cell should seed the generators"
    assert DEVICE.search(second), f"{path.name}: the second code cell should pick the device (get_device())"
    if path.parent.name == "notebooks":   # a lesson: every figure with its caption and alt text
        assert "captions.enable()" in second, f"{path.name}: the set-up cell should caption every figure"
