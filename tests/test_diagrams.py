"""The course's SVG diagrams (docs/figures/diagrams.py): accessible, well formed, and what the script draws."""
import importlib.util
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

FIGURES = Path(__file__).resolve().parents[1] / "docs" / "figures"
SVG = "{http://www.w3.org/2000/svg}"


def diagrams():
    spec = importlib.util.spec_from_file_location("diagrams", FIGURES / "diagrams.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name, draw", [("ntm_machine.svg", "machine"), ("addressing_pipeline.svg", "pipeline")])
def test_each_diagram_is_up_to_date_and_has_a_title_and_a_description(name, draw):
    committed = (FIGURES / name).read_text()
    assert committed == getattr(diagrams(), draw)(), f"docs/figures/{name} is stale: python docs/figures/diagrams.py"
    root = ET.fromstring(committed)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "title desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert "figure" in title.text and len(desc.text) > 300


def test_the_pipeline_bars_are_the_librarys_weightings():
    weightings = diagrams().example_weightings()
    assert list(weightings) == ["previous", "content", "gated", "shifted", "sharpened"]
    for w in weightings.values():
        assert abs(sum(w) - 1) < 1e-6 and min(w) >= 0
    # the shift (0.1, 0.2, 0.7 on offsets -1, 0, +1) moves the content focus on row 3 to row 4
    assert max(range(10), key=weightings["content"].__getitem__) == 3
    assert max(range(10), key=weightings["sharpened"].__getitem__) == 4


def test_no_red_green_pair_and_no_meaning_by_colour_alone():
    machine = (FIGURES / "ntm_machine.svg").read_text()
    assert "stroke-dasharray" in machine and 'url(#hatch)' in machine        # writes dashed and hatched
    for page in (machine, (FIGURES / "addressing_pipeline.svg").read_text()):
        assert "#FF0000" not in page.upper() and "#00FF00" not in page.upper()
