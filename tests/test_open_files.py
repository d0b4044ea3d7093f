"""The files every open course carries: a licence for the code and one for the lessons, a citation, a changelog; and
the packages' metadata that repeats them (licence expression, version, classifiers, URLs), kept in step.

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
RELEASE = re.compile(r"^## \[v(\d+\.\d+\.\d+)\] - (\d{4}-\d\d-\d\d)$", flags=re.MULTILINE)
"""A release's heading in CHANGELOG.md: its version (tagged ``vX.Y.Z``) and its date."""


def project(folder=ROOT):
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def releases():
    """``{version: date}`` of the CHANGELOG's release headings."""
    return dict(RELEASE.findall((ROOT / "CHANGELOG.md").read_text()))


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


def test_citation_version_and_date_are_the_packages_release():
    """CITATION.cff's version is pyproject.toml's, and its date-released that version's date in the CHANGELOG."""
    cff, current = citation(), project()["version"]
    assert str(cff["version"]) == current == version("ntm-course")
    assert str(cff["date-released"]) == releases()[current]


def test_citation_names_the_paper_the_course_teaches():
    paper = next(ref for ref in citation()["references"] if ref["title"] == "Neural Turing Machines")
    assert [a["family-names"] for a in paper["authors"]] == ["Graves", "Wayne", "Danihelka"]
    assert paper["year"] == 2014 and paper["url"] == "https://arxiv.org/abs/1410.5401"


def test_licence_covers_the_code_and_the_lessons():
    text = (ROOT / "LICENSE").read_text()
    assert "MIT License" in text and "Permission is hereby granted, free of charge" in text
    assert "Creative Commons Attribution 4.0 International" in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text
    assert "in SPDX terms, MIT AND CC-BY-4.0" in " ".join(text.split())          # what the packages' metadata says
    assert citation()["license"] == "MIT"     # CFF reads a list as a choice (OR): its comment says why only the code's
    for folder in (ROOT, ROOT / "instructor"):  # both wheels carry notebooks' text: the code's licence AND the lessons'
        assert project(folder)["license"] == "MIT AND CC-BY-4.0"
        assert not [c for c in project(folder)["classifiers"] if c.startswith("License ::")]   # PEP 639: not both


def test_changelog_has_unreleased_and_a_tagged_heading_for_the_current_version():
    """Every heading after ``[Unreleased]`` is a release ``[vX.Y.Z] - date``, newest first, linked to its git tag;
    pyproject.toml's version is one of them."""
    text = (ROOT / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\].*$", text, flags=re.MULTILINE)
    assert headings[0] == "Unreleased" and len(headings) == len(releases()) + 1, headings
    current = project()["version"]
    assert current in releases(), f"CHANGELOG.md has no heading ## [v{current}] - YYYY-MM-DD"
    dated = list(releases().items())
    assert [date for _, date in dated] == sorted((date for _, date in dated), reverse=True)
    tags = [f"v{v}" for v, _ in dated]
    assert re.search(rf"^\[Unreleased\]: https://github.com/ntm-course/ntm-course/compare/{tags[0]}\.\.\.HEAD$", text,
                     flags=re.MULTILINE)
    for tag in tags:
        assert re.search(rf"^\[{tag}\]: https://github.com/ntm-course/ntm-course/releases/tag/{tag}$", text,
                         flags=re.MULTILINE), f"CHANGELOG.md: no link to the tag {tag}"


def test_the_instructors_distribution_has_the_learners_version_and_needs_it():
    learners, instructors = project(), project(ROOT / "instructor")
    assert instructors["version"] == learners["version"]
    assert f"ntm-course[lessons]>={learners['version']}" in instructors["dependencies"]


@pytest.mark.parametrize("folder", [ROOT, ROOT / "instructor"], ids=["ntm-course", "ntm-course-instructor"])
def test_classifiers_keywords_and_urls(folder):
    meta = project(folder)
    classifiers = meta["classifiers"]
    assert {"Intended Audience :: Education", "Topic :: Education", "Programming Language :: Python :: 3 :: Only",
            "Topic :: Scientific/Engineering :: Artificial Intelligence"} <= set(classifiers)
    pythons = [c.rsplit(" ", 1)[1] for c in classifiers if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)]
    assert meta["requires-python"] == f">={pythons[0]}" and pythons == sorted(pythons, key=lambda v: int(v[2:]))
    assert meta["keywords"] and "course" in meta["keywords"]
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} <= set(meta["urls"])


def test_the_package_version_is_pyprojects():
    """One version number: ``ntm_course.__version__`` comes from the installed metadata, which pyproject.toml sets."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert ntm_course.__version__ == version("ntm-course") == pyproject["project"]["version"]
