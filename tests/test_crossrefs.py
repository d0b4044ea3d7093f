"""The prose's cross-references resolve: every "lesson N", "exercise NN_topic", "section N" or "the section
*Name*", relative link and lesson number in a link's text points at something that exists, in the lessons,
the exercise notebooks, the README and the model cards. Prose never cites a cell by its number (cells move; name the section).

Each lesson also starts with the same header (learning objectives, prerequisites, a time estimate), and
lessons 9 and 10 stay under about 2,000 words of prose: their training provenance lives in the model cards
(``docs/models/<name>.md``), one per shipped model, which these tests hold to the shipped models' records.
"""
import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))
CARDS = sorted((ROOT / "docs" / "models").glob("*.md"))
SOURCES = [*LESSONS, *EXERCISES, ROOT / "README.md", *CARDS]
IDS = [str(p.relative_to(ROOT)) for p in SOURCES]
LESSON_NUMBERS = {int(p.name[:2]): p for p in LESSONS}
EXERCISE_NAMES = {p.stem for p in EXERCISES}
PRETRAINED = ROOT / "ntm_course" / "experiments" / "pretrained"
MODELS = sorted(p.stem for p in PRETRAINED.glob("*.pt"))

MATH = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$", re.S)
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")
NUMBER_LIST = r"\d+(?:(?:\s*(?:-|–|,|,? and|,? or|to)\s*)\d+)*"
LESSON_REF = re.compile(rf"\b[Ll]essons? ({NUMBER_LIST})")
NO_SUCH_PART = re.compile(r"\b[Ll]esson \d+'s (notes|appendix|footnotes?)\b")
EXERCISE_REF = re.compile(r"\b(?:[Ee]xercises?\s+(?:\[)?`?|exercises/)(\d\d[a-z0-9_]*)")
TOPIC_NAME = re.compile(r"`(\d\d_[a-z0-9_]+)(?:\.ipynb)?`")
SECTION_REF = re.compile(r"\b(?:([Ll]esson (\d+)), )?section (\d+)(?![.\d])")
NAMED_SECTION = re.compile(r"\bsection \*([^*]+)\*")
CELL_REF = re.compile(r"\b[Cc]ells? \d+")
HEADING = re.compile(r"^#+\s+(.*)$", re.M)


def prose(path):
    """The markdown of a notebook (without the Colab badge) or of a markdown file, as one string per cell."""
    if path.suffix == ".md":
        return [path.read_text()]
    nb = nbformat.read(path, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "markdown" and c.get("id") != "colab-badge"]


def headings(path):
    return [h.strip() for text in prose(path) for h in HEADING.findall(text)]


def numbers(listed):
    """Every number of "2", "1-6", "2 and 4-6", "7 to 9" (a range counts its ends)."""
    return [int(n) for n in re.findall(r"\d+", listed)]


def sentence_at(text, start):
    """The sentence around position ``start`` (to tell the paper's sections from the lesson's own)."""
    left = max(text.rfind(". ", 0, start), text.rfind("\n\n", 0, start), 0)
    right = min((i for i in (text.find(". ", start), text.find("\n\n", start)) if i >= 0), default=len(text))
    return text[left:right]


def problems(path):
    """Every cross-reference in ``path``'s prose that does not resolve, as readable strings."""
    found = []
    for text in prose(path):
        text = MATH.sub(" ", text)
        for match in LESSON_REF.finditer(text):
            for n in numbers(match.group(1)):
                if n not in LESSON_NUMBERS:
                    found.append(f"{match.group(0)!r}: there is no lesson {n}")
        for match in NO_SUCH_PART.finditer(text):
            found.append(f"{match.group(0)!r}: lessons have no {match.group(1)}")
        for match in LINK.finditer(text):
            label, target = match.groups()
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            file = (path.parent / target.split("#")[0]).resolve()
            if not file.exists():
                found.append(f"link {match.group(0)!r}: {target} does not exist")
            said = re.fullmatch(r"[Ll]esson (\d+)", label.strip())
            if said and not file.name.startswith(f"{int(said.group(1)):02d}_"):
                found.append(f"link {match.group(0)!r}: the text says lesson {said.group(1)}, the link {file.name}")
        for match in EXERCISE_REF.finditer(text):
            name = match.group(1)
            if name not in EXERCISE_NAMES and not any(e.startswith(f"{name}_") for e in EXERCISE_NAMES):
                found.append(f"{match.group(0)!r}: there is no exercise {name}")
        for match in TOPIC_NAME.finditer(text):
            name = match.group(1)
            if name not in EXERCISE_NAMES and not any(p.stem == name for p in LESSONS):
                found.append(f"{match.group(0)!r}: no exercise or lesson is called {name}")
        for match in SECTION_REF.finditer(text):
            if match.group(1) is None and re.search(r"paper|Graves|README", sentence_at(text, match.start())):
                continue                                     # the paper's sections, or the README's
            target = LESSON_NUMBERS.get(int(match.group(2))) if match.group(1) else path
            if target is None or target.suffix != ".ipynb":
                found.append(f"{match.group(0)!r}: no lesson to look the section up in")
            elif not any(re.match(rf"{match.group(3)}\.\s", h) for h in headings(target)):
                found.append(f"{match.group(0)!r}: {target.name} has no section {match.group(3)}")
        for match in NAMED_SECTION.finditer(text):
            if not any(match.group(1).lower() in h.lower() for h in headings(path)):
                found.append(f"{match.group(0)!r}: {path.name} has no section called that")
        for match in CELL_REF.finditer(text):
            found.append(f"{match.group(0)!r}: name the section, not the cell (cells move)")
    return found


@pytest.mark.parametrize("path", SOURCES, ids=IDS)
def test_cross_references_resolve(path):
    assert not problems(path), f"{path.name}:\n  " + "\n  ".join(problems(path))


def test_the_checker_catches_what_it_should(tmp_path):
    """Each kind of broken reference is caught (on a made-up lesson in a folder of its own)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(text) for text in (
        "# A probe\n\n## 1. Start\n\nAs lesson 14 showed, and lesson 8's notes say, run cell 7 again.",
        "See [lesson 9](10_other_tasks.ipynb), [the missing](../exercises/99_none.ipynb) and exercise `07_nothing`. "
        "Section 1 is here; section 3 is not. So is the section *Nowhere*. The paper's section 4.2 is not ours.")]
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "notebooks" / "10_other_tasks.ipynb").write_text("{}")
    fake = tmp_path / "notebooks" / "12_probe.ipynb"
    nbformat.write(nb, fake)
    found = "\n".join(problems(fake))
    for expected in ("no lesson 14", "lessons have no notes", "cell 7", "the text says lesson 9",
                     "99_none.ipynb does not exist", "07_nothing", "no section 3", "*Nowhere*"):
        assert expected in found
    assert "4.2" not in found and "section 1" not in found


# --- every lesson starts alike: objectives, prerequisites, time ------------------------------------------

HEADER = re.compile(r"^# Lesson (\d+)\b.*\n\n"
                    r"> \*\*Learning objectives\.\*\* [^\n]+\n(?:> - [^\n]+\n)+>\n"
                    r"> \*\*Prerequisites\.\*\* [^\n]+\n>\n"
                    r"> \*\*Time\.\*\* About \d+ minutes[^\n]*(\n|$)")


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_every_lesson_states_objectives_prerequisites_and_time(path):
    title = prose(path)[0]
    match = HEADER.match(title)
    assert match, (f"{path.name}: the title cell should start '# Lesson N ...', then a quoted header: "
                   "'> **Learning objectives.** ...' with a list, '> **Prerequisites.** ...', "
                   "'> **Time.** About N minutes ...'")
    assert int(match.group(1)) == int(path.name[:2])
    assert len(re.findall(r"^> - ", title, re.M)) >= 2


# --- lessons 9 and 10 teach ideas; provenance lives in the model cards ----------------------------------

def words(path):
    """Words of prose: the markdown cells' whitespace-separated words, without the Colab badge."""
    return sum(len(text.split()) for text in prose(path))


@pytest.mark.parametrize("name", ["09_learning_to_copy", "10_other_tasks"])
def test_lessons_9_and_10_stay_short(name):
    assert words(ROOT / "notebooks" / f"{name}.ipynb") <= 2000


def test_a_model_card_for_every_shipped_model():
    cards = ROOT / "docs" / "models"
    assert len(MODELS) == 7
    for name in MODELS:
        card = (cards / f"{name}.md").read_text()
        record = json.loads((PRETRAINED / f"{name}.json").read_text())
        assert card.startswith(f"# Model card: `{name}`"), name
        for stage in record.get("stages") or [record]:          # the command that reproduces it, verbatim
            assert stage["command"] in card, name
        for heading in ("## What it is", "## Reproduce it", "## Data", "## Results", "## Learning curve",
                        "## What failed"):
            assert heading in card, (name, heading)
        assert f"{record['sequences']:,}" in card, name
        for row in record["results"]:                          # every recorded result, with its sample size
            assert f"| {row['setting']} | {row['n']:,} |" in card, (name, row["setting"])


@pytest.mark.parametrize("name", ["09_learning_to_copy", "10_other_tasks"])
def test_lessons_link_their_models_cards(name):
    text = "\n".join(prose(ROOT / "notebooks" / f"{name}.ipynb"))
    linked = set(re.findall(r"\.\./docs/models/([a-z_]+)\.md", text))
    shown = {"09_learning_to_copy": {"copy", "copy_lstm"},
             "10_other_tasks": {"repeat_copy", "associative_recall", "ngrams", "ngrams_lstm", "priority_sort"}}
    assert shown[name] <= linked


# --- every number the prose takes from data is computed and asserted beside it ------------------------

NUM = r"\d{1,3}(?:,\d{3})+|\d+\.\d+|\d+"
DATA_NUMBER = re.compile(
    rf"(?<![\w.$-])({NUM})(?:(?:-|–| to )({NUM}))?(%| ?(?:bits?|bit errors|wrong bits|sequences|episodes)\b)?")
EXEMPT = re.compile(r"paper|Graves|figure \d|eq\.|eqs\.|arXiv", re.I)
WINDOW = 3
"""A number in a markdown cell must appear in one of the WINDOW code cells before or after it: in an ``assert``
(a result), or as a setting the code uses (an input it chose); a number that code only prints, plots or labels
does not count. Constants of a definition (a threshold of 0.5, p = 0.5) go in math, which is not data."""
DRAWN = re.compile(r"axhline|axvline|title=|label=|set_title|set_xlabel|set_ylabel|print\(")


def stated_numbers(text):
    """The numbers a markdown cell states that come from data: decimals, percentages, numbers with thousands
    separators, and whole numbers of bits, sequences or episodes; not in math, code, links or headings, and not
    in a sentence that quotes the paper."""
    text = MATH.sub(" ", text)
    text = re.sub(r"`[^`]*`|\]\([^)]*\)|^#+ .*$", " ", text, flags=re.M)
    found = []
    for match in DATA_NUMBER.finditer(text):
        first, last, unit = match.groups()
        for number in (first, last) if last else (first,):
            if not ("," in number or "." in number or unit):
                continue
            if re.search(r"sections? $", text[:match.start()]):
                continue                                    # the paper's section 4.2, not a number
            if re.match(r"%? ?(interval|\(Wilson)", text[match.end() - (unit == "%"):]):
                continue                                    # "95% interval": the interval's level, not a result
            if EXEMPT.search(sentence_at(text, match.start())):
                continue
            found.append(number)
    return found


def spellings(number):
    """How code may write a number the prose states: 64,000 as 64000 or 64_000; 54.3 (a percentage) as 0.543."""
    plain = number.replace(",", "")
    forms = {plain, number.replace(",", "_")}
    if "." in plain:
        forms |= {f"{float(plain) / 100:.6g}", repr(float(plain))}
    else:
        forms.add(f"{int(plain) / 100:.6g}")
    return forms


def unasserted(path):
    cells = nbformat.read(path, as_version=4).cells
    code = [i for i, c in enumerate(cells) if c.cell_type == "code"]
    missing = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "markdown" or cell.get("id") == "colab-badge":
            continue
        before = [j for j in code if j < i][-WINDOW:]
        after = [j for j in code if j > i][:WINDOW]
        asserts = "\n".join(line.split("#")[0] for j in before + after for line in cells[j].source.splitlines()
                            if "assert" in line or not DRAWN.search(line))
        for number in stated_numbers(cell.source):
            if not any(re.search(rf"(?<![\d.]){re.escape(form)}(?![\d])", asserts) for form in spellings(number)):
                missing.append(f"{number} (in the markdown cell {cell.get('id')})")
    return missing


@pytest.mark.parametrize("path", LESSONS, ids=[p.name for p in LESSONS])
def test_numbers_from_data_are_asserted_beside_the_prose(path):
    missing = unasserted(path)
    assert not missing, f"{path.name}: numbers the prose states that no nearby code computes or asserts:\n  " + "\n  ".join(missing)
