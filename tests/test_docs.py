"""The README, CONTRIBUTING.md and the guides in ``docs/`` keep working: every link resolves and every Python block
runs.

- A relative link (``[text](docs/library.md)``, an image, ``../notebooks/05_shift.ipynb``) names a file or folder
  of the repository, and its anchor (``#the-exercises``) is a heading of the page it names, slugged as GitHub
  slugs headings (the course website slugs them the same way: ``myst_heading_anchors`` in ``site/_config.yml``).
  Links to the web are not fetched.
- Each ```python block runs in a fresh namespace, from the repository's root. A block that cannot run in the tests
  (it needs a GPU, the network, minutes) is marked by the line ``<!-- not run: why -->`` just above its fence,
  and says why; keep them rare.
- Every page of ``docs/`` can be reached from the README by following links, and the README stays a front door.
"""
import os
import re
import runpy
from pathlib import Path

import nbformat
import pytest
import torch

from ntm_course.experiments.checkpoints import available

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PAGES = [README, ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
NOT_RUN = "<!-- not run:"

FENCE = re.compile(r"^```.*?^```[ \t]*$", re.S | re.M)
PYTHON = re.compile(r"^```python\n(.*?)^```[ \t]*$", re.S | re.M)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")   # [text](target "title"), images too


def name(path):
    return str(path.relative_to(ROOT))


def prose(text):
    """``text`` without its fenced code blocks (their lines kept, empty, so that line numbers stay)."""
    return FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def links(page):
    """``[(line number, target)]`` of every link and image of ``page`` outside code."""
    found = []
    for number, line in enumerate(prose(page.read_text(encoding="utf-8")).splitlines(), 1):
        found += [(number, target) for target in LINK.findall(INLINE_CODE.sub("``", line))]
    return found


def slug(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped (but ``-`` and ``_``), spaces to ``-``."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)     # a link in a heading: its text
    return re.sub(r"[^\w\- ]", "", text.replace("`", "").strip().lower()).replace(" ", "-")


def anchors(path):
    """The anchors of a Markdown page's or a notebook's headings (a repeated heading gets ``-1``, ``-2``, ...)."""
    if path.suffix == ".ipynb":
        nb = nbformat.read(path, as_version=4)
        text = "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    seen, found = {}, set()
    for heading in re.findall(r"^#{1,6}[ \t]+(.+?)[ \t#]*$", prose(text), re.M):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if base in seen else base)
        seen[base] = seen.get(base, 0) + 1
    return found


def broken(page, target):
    """Why ``target``, a link of ``page``, does not resolve; ``None`` when it does or leaves the repository."""
    if re.match(r"[a-z][a-z0-9+.-]*:", target, re.I):             # https:, mailto:: not fetched
        return None
    path, _, anchor = target.partition("#")
    resolved = (page.parent / path).resolve() if path else page
    if not resolved.is_relative_to(ROOT):
        return "leaves the repository"
    if not resolved.exists():
        return "no such file"
    if anchor and (resolved.suffix not in (".md", ".ipynb") or anchor not in anchors(resolved)):
        return f"no heading #{anchor} in {name(resolved)}"
    return None


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_every_link_resolves(page):
    problems = [f"{name(page)}:{number}: ({target}) {why}" for number, target in links(page)
                if (why := broken(page, target))]
    assert not problems, "\n".join(problems)


def python_blocks():
    """``(page, index, code, marker)`` of every ```python block; ``marker``: the line above its fence."""
    blocks = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for i, match in enumerate(PYTHON.finditer(text)):
            above = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
            blocks.append((page, i, match.group(1), above if above.startswith(NOT_RUN) else None))
    return blocks


BLOCKS = python_blocks()


def run(page, code):
    torch.manual_seed(0)
    namespace = {"__name__": "docs"}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        exec(compile(code, name(page), "exec"), namespace)
    finally:
        os.chdir(cwd)
    return namespace


@pytest.mark.parametrize("page, index, code, marker", BLOCKS, ids=[f"{name(p)}-{i}" for p, i, _, _ in BLOCKS])
def test_every_python_block_runs(page, index, code, marker):
    if marker:
        assert marker.removeprefix(NOT_RUN).strip(" ->"), f"{name(page)}: say why the block is not run"
        pytest.skip(f"{name(page)} block {index}: {marker}")
    run(page, code)


def test_the_ntm_layer_guide_does_what_its_prose_says():
    guide = [(page, code) for page, _, code, _ in BLOCKS if "ntm_course.NTM(" in code and "SequenceClassifier" in code]
    assert [name(page) for page, _ in guide] == ["docs/library.md"], "one guide to the NTM as a layer"
    ns = run(*guide[0])
    model, tokens, cell, device = ns["model"], ns["tokens"], ns["cell"], ns["device"]
    # it trained one step: Adam holds a step for every parameter, the NTM's included
    assert all(ns["optimizer"].state[p]["step"] == 1 for p in model.parameters())
    with torch.no_grad():
        x = model.embed(tokens)
        assert torch.equal(model(tokens), model(tokens))                           # each call starts afresh
        torch.testing.assert_close(ns["y_t"], model.ntm(x)[-1])                    # stepping the cell = a call
        assert cell.initial_state(2).memory.device.type == device.type             # the state follows .to()
    trace = ns["trace"]
    assert {"read_weights", "write_weights", "reads", "erase", "add", "memory", "read_key", "read_beta"} <= set(trace)
    assert all(v.shape[:2] == (10, 4) for v in trace.values())                    # every step, every example


def test_every_docs_page_is_reached_from_the_readme():
    reached, todo = set(), [README]
    while todo:
        page = todo.pop()
        if page in reached:
            continue
        reached.add(page)
        for _, target in links(page):
            path = target.partition("#")[0]
            if path.endswith(".md") and not broken(page, target):
                todo.append((page.parent / path).resolve())
    assert not [name(page) for page in PAGES if page not in reached]


def test_the_readme_is_a_front_door():
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < 150, "about two screens: the rest belongs in docs/"
    assert "python3 course.py lab" in text and "python3 course.py test" in text
    assert "](docs/figures/" in text                                              # a picture


def test_the_results_page_links_a_model_card_for_every_shipped_model():
    targets = {target for _, target in links(ROOT / "docs" / "results.md")}
    assert available() and not [name for name in available() if f"models/{name}.md" not in targets]


def test_the_readmes_figure_is_drawn_by_its_script(tmp_path):
    script = runpy.run_path(str(ROOT / "docs" / "figures" / "copy_episode.py"))
    script["main"](tmp_path / "copy_episode.png")
    assert (tmp_path / "copy_episode.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize("markdown, expected", [
    ("## The map of the course", "the-map-of-the-course"),
    ("## Grading: `ntm-course-instructor grade`", "grading-ntm-course-instructor-grade"),
    ("### 1. What's [new](x.md)?", "1-whats-new"),
])
def test_slug_follows_github(markdown, expected):
    assert slug(markdown.lstrip("# ")) == expected


def test_a_broken_link_or_anchor_is_found(tmp_path, monkeypatch):
    page = ROOT / "docs" / "installing.md"
    assert broken(page, "library.md#the-layers") is None and broken(page, "#troubleshooting") is None
    assert broken(page, "https://example.org/nowhere") is None
    assert broken(page, "nope.md") == "no such file"
    assert broken(page, "library.md#nope") == "no heading #nope in docs/library.md"
    assert broken(page, "../../outside.md") == "leaves the repository"
    assert broken(page, "../notebooks/05_shift.ipynb") is None
