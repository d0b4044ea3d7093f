"""The files every open course carries: a licence for the code and one for the lessons, a citation, a changelog.

``CITATION.cff`` is validated as ``cffconvert --validate`` does it: the Citation File Format 1.2.0 schema
(``tests/cff-schema-1.2.0.json``, the copy cffconvert 2.0.0 ships) with jsonschema's format checks.
cffconvert itself is not a dependency: it pins jsonschema<4, which JupyterLab's server cannot use.
"""
import copy
import json
import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import jsonschema
import pytest
import yaml

import ntm_course

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = json.loads((ROOT / "tests" / "cff-schema-1.2.0.json").read_text())


def citation():
    return yaml.safe_load((ROOT / "CITATION.cff").read_text())


def cff_errors(cff):
    """The schema's complaints about ``cff``, as ``cffconvert --validate`` would raise them."""
    validator = jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(cff)]


def test_citation_is_valid_cff_1_2_0():
    cff = citation()
    assert cff["cff-version"] == "1.2.0"
    assert cff_errors(cff) == []


@pytest.mark.parametrize("break_it", [
    lambda cff: cff.pop("authors"),
    lambda cff: cff.update(license="MIT or so"),
    lambda cff: cff["references"][0].update(doi="not a doi"),
], ids=["no authors", "not an SPDX licence", "bad doi"])
def test_the_validation_catches_a_broken_citation(break_it):
    cff = copy.deepcopy(citation())
    break_it(cff)
    assert cff_errors(cff)


def test_citation_version_is_the_package_version():
    assert str(citation()["version"]) == version("ntm-course")


def test_citation_names_the_paper_the_course_teaches():
    paper = next(ref for ref in citation()["references"] if ref["title"] == "Neural Turing Machines")
    assert [a["family-names"] for a in paper["authors"]] == ["Graves", "Wayne", "Danihelka"]
    assert paper["year"] == 2014 and paper["url"] == "https://arxiv.org/abs/1410.5401"


def test_licence_covers_the_code_and_the_lessons():
    text = (ROOT / "LICENSE").read_text()
    assert "MIT License" in text and "Permission is hereby granted, free of charge" in text
    assert "Creative Commons Attribution 4.0 International" in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text
    assert set(citation()["license"]) == {"MIT", "CC-BY-4.0"}


def test_changelog_has_unreleased_and_the_current_version():
    text = (ROOT / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert releases[0] == "Unreleased"
    assert version("ntm-course") in releases, f"CHANGELOG.md has no entry for {version('ntm-course')}"
    assert re.search(rf"^## \[{re.escape(version('ntm-course'))}\] - \d{{4}}-\d\d-\d\d$", text, flags=re.MULTILINE)
    for release in releases:
        assert re.search(rf"^\[{re.escape(release)}\]: https://github.com/ntm-course/ntm-course/", text,
                         flags=re.MULTILINE), f"CHANGELOG.md: no link for [{release}]"


def test_the_package_version_is_pyprojects():
    """One version number: ``ntm_course.__version__`` comes from the installed metadata, which pyproject.toml sets."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert ntm_course.__version__ == version("ntm-course") == pyproject["project"]["version"]
