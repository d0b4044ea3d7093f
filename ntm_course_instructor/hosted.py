"""Open the course anywhere: the Colab badge and install cell every notebook starts with, and Binder's link.

Every notebook in ``notebooks/``, ``solutions/`` and ``exercises/`` holds two cells made here, the single
source of their text:

- a markdown cell with an "Open in Colab" badge linking that notebook on GitHub (:func:`badge_cell`), before
  the title;
- before the notebook's first code cell, the install cell (:data:`INSTALL_CELL`): on Google Colab it installs
  the course, anywhere else it does nothing. On Colab the course is not installed yet when it runs, so the cell
  is self-contained Python (no ``%pip``, nothing from ``ntm_course``). It installs the course with
  ``--no-deps`` (Colab's own torch, ipywidgets and ipykernel stay as they are), then only the requirements
  of the ``lessons`` extra that are missing, with every installed distribution held at its version; a second
  run finds everything there and installs nothing. JupyterLab is left out: Colab serves the notebooks with
  its own server, which JupyterLab 4 could not be installed beside without replacing it.
  ``$NTM_COURSE_SOURCE`` (a pip requirement: a git URL or a folder) replaces the default GitHub source, which
  is how the tests install a local checkout.

``python -m ntm_course_instructor.hosted`` rewrites the cells of ``notebooks/`` and ``solutions/`` after this module
changed (``--check`` only lists the stale ones); ``ntm-course-instructor release`` then carries them into
``exercises/``, with the badge pointing at the exercise.
"""
import argparse
import re
import sys
from pathlib import Path

import nbformat


REPOSITORY = "ntm-course/ntm-course"
BRANCH = "main"
SOURCE_VARIABLE = "NTM_COURSE_SOURCE"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"
FOLDERS = ("notebooks", "solutions")
"""The folders whose notebooks ``python -m ntm_course_instructor.hosted`` rewrites (``exercises/`` comes from
release)."""

_INSTALL_TEMPLATE = r'''
# @title On Google Colab, install the course first (about a minute); anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    def install_course(source, extra="lessons", served=("jupyterlab",)):
        """pip-install ntm-course without touching what Colab already has (torch, ipywidgets, ipykernel),
        and without ``served``: Colab serves the notebooks itself."""
        import importlib, re, subprocess, tempfile
        from importlib import metadata

        def key(name):
            return re.sub(r"[-_.]+", "-", name).lower()

        def installed():  # {name: version}; where a name is installed twice, the one imported
            dists = [d for d in metadata.distributions() if d.metadata["Name"] and d.version][::-1]
            return {key(d.metadata["Name"]): d.version for d in dists}

        def pip_install(*args):  # quietly; when pip fails, its message goes into the error
            run = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", *args],
                                 capture_output=True, text=True)
            if run.returncode:
                raise RuntimeError(f"pip install {' '.join(args)} failed:\n{(run.stdout + run.stderr)[-3000:]}")
            importlib.invalidate_caches()

        fresh = "ntm-course" not in installed()
        if fresh:  # the course alone, without its dependencies
            pip_install("--no-deps", source)
        have = installed()
        missing = [r.split(";")[0] for r in metadata.requires("ntm-course") or []
                   if (";" not in r or f'extra == "{extra}"' in r)
                   and key(re.match(r"[\w.-]+", r)[0]) not in (*have, *served)]
        if missing:  # only what is missing, with every installed distribution held at its version
            with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as pins:
                pins.write("".join(f"{name}==={v}\n" for name, v in have.items()))
            pip_install("-c", pins.name, *missing)
        print(f"ntm-course {metadata.version('ntm-course')}", "installed" if fresh else "already installed",
              *(["with", ", ".join(missing)] if missing else []))

    import os
    install_course(os.environ.get("@VARIABLE@", "@SOURCE@"))
'''
_SOURCE = re.compile(r'"git\+https://github\.com/' + re.escape(REPOSITORY) + r'@([\w.\-/]+)"')


def install_source(ref=BRANCH):
    """The install cell's source (see the module's docstring), installing the course at the git ``ref``."""
    return (_INSTALL_TEMPLATE.strip("\n").replace("@VARIABLE@", SOURCE_VARIABLE)
            .replace("@SOURCE@", f"git+https://github.com/{REPOSITORY}@{ref}"))


INSTALL_CELL = install_source()
"""The install cell of a notebook on the default branch."""


def release_ref(root):
    """The git ref the notebooks of the checkout at ``root`` belong to: :data:`BRANCH` while CHANGELOG.md's
    ``[Unreleased]`` section lists changes (or there is no CHANGELOG.md), else the tag of the release
    pyproject.toml names (``v0.2.0``). A notebook's install cell and badges point there: a notebook of a release
    installs that release's library."""
    path = Path(root) / "CHANGELOG.md"
    if not path.is_file():   # no release history (a folder of notebooks): the default branch
        return BRANCH
    changelog = path.read_text(encoding="utf-8")
    unreleased = changelog.partition("## [Unreleased]")[2].split("\n## [", 1)[0]
    if re.search(r"^\s*[-*] ", unreleased, re.M):
        return BRANCH
    version = re.search(r'^version = "([^"]+)"', (Path(root) / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    return f"v{version.group(1)}"


def ref_of(nb):
    """The git ref a notebook's install cell installs from (:data:`BRANCH` when it has none)."""
    found = next((_SOURCE.search(c.source) for c in nb.cells if role(c) == "install"), None)
    return found.group(1) if found else BRANCH


def colab_url(path, ref=BRANCH):
    """The Colab page that opens ``path`` (a notebook's path in the repository) from GitHub, at ``ref``."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{ref}/{path}"


def binder_url(path, ref=BRANCH):
    """The Binder link that builds the repository at ``ref`` and opens ``path`` in JupyterLab."""
    return f"https://mybinder.org/v2/gh/{REPOSITORY}/{ref}?urlpath=lab/tree/{path}"


def colab_badge(path, ref=BRANCH):
    """The markdown of an "Open in Colab" badge for ``path``."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(path, ref)})"


def binder_badge(path, ref=BRANCH):
    """The markdown of a "Launch Binder" badge opening ``path``."""
    return f"[![Binder]({BINDER_BADGE_IMAGE})]({binder_url(path, ref)})"


def role(cell):
    """``"badge"``, ``"install"`` or ``None``: which of this module's cells ``cell`` is."""
    return cell.get("metadata", {}).get("ntm_course", {}).get("hosted")


def badge_cell(path, ref=BRANCH):
    """The markdown cell with the Colab badge of the notebook at ``path``."""
    cell = nbformat.v4.new_markdown_cell(colab_badge(path, ref), id="colab-badge")
    cell.metadata["ntm_course"] = {"hosted": "badge"}
    return cell


def install_cell(nbgrader=False, ref=BRANCH):
    """The install cell; in an nbgrader notebook (``nbgrader=True``) a locked cell, ``grade_id`` ``colab``."""
    cell = nbformat.v4.new_code_cell(install_source(ref), id="colab-install")
    cell.metadata.update(cellView="form", ntm_course={"hosted": "install"})   # Colab shows the title only
    if nbgrader:
        cell.metadata["nbgrader"] = {"grade": False, "grade_id": "colab", "locked": True, "schema_version": 3,
                                     "solution": False, "task": False}
    return cell


def set_badge(nb, path, ref=BRANCH):
    """Make ``nb``'s first cell the Colab badge for ``path`` at ``ref``, replacing an earlier badge. Returns ``nb``."""
    nb.cells = [badge_cell(path, ref)] + [c for c in nb.cells if role(c) != "badge"]
    return nb


def add_hosted_cells(nb, path, ref=BRANCH):
    """The badge for ``path`` first, and the install cell just before the first other code cell, both at the git
    ``ref``, replacing earlier ones (in place). Returns ``nb``."""
    nbgrader = any("nbgrader" in c.get("metadata", {}) for c in nb.cells)
    cells = [c for c in set_badge(nb, path, ref).cells if role(c) != "install"]
    first_code = next((i for i, c in enumerate(cells) if c.cell_type == "code"), len(cells))
    nb.cells = cells[:first_code] + [install_cell(nbgrader, ref)] + cells[first_code:]
    return nb


def updated_text(path, root):
    """The text of the notebook at ``path`` with its hosted cells up to date (its repository path taken
    relative to ``root``, the git ref from :func:`release_ref`)."""
    nb = nbformat.read(str(path), as_version=nbformat.NO_CONVERT)
    return nbformat.writes(add_hosted_cells(nb, Path(path).relative_to(root).as_posix(), release_ref(root))) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ntm_course_instructor.hosted",
                                     description="Put the Colab badge and install cell into the notebooks.")
    parser.add_argument("--root", default=".", help="the repository's root (default: the current folder)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a notebook is stale")
    args = parser.parse_args(argv)
    root = Path(args.root).resolve()
    paths = sorted(p for folder in FOLDERS for p in (root / folder).glob("*.ipynb"))
    if not paths:
        parser.error(f"--root must be the course's repository, found no notebooks in {root}/{{{','.join(FOLDERS)}}}")
    stale = []
    for path in paths:
        text = updated_text(path, root)
        if path.read_text(encoding="utf-8") != text:
            stale.append(path)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if args.check else 'updated'}: {path.relative_to(root)}")
    if stale and not args.check:
        print("now run `ntm-course-instructor release` to carry the cells into exercises/")
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
