"""`ntm-course render`: executes notebooks to HTML; a broken notebook is reported and the rest still render."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from ntm_course.cli import main
from ntm_course.render import failing_cell, find_notebooks


def save(path, *cells):
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def course(tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    save(lessons / "00_good.ipynb", new_markdown_cell("# Good lesson"), new_code_cell("print(6 * 7)"))
    save(lessons / "01_broken.ipynb", new_code_cell("x = 1"), new_code_cell("1 / 0"),
         new_code_cell("print('never runs')"))
    save(lessons / "02_after.ipynb", new_code_cell("print('still' + ' rendered')"))
    return lessons


def test_broken_notebook_is_reported_and_the_rest_render(course, tmp_path, capsys):
    out = tmp_path / "html"
    assert main(["render", str(course), "-o", str(out)]) == 1
    captured = capsys.readouterr()
    assert "01_broken.ipynb: cell 1 raised ZeroDivisionError" in captured.err
    assert "2 of 3 notebooks rendered" in captured.out
    assert "42" in (out / "00_good.html").read_text()          # executed: the output is in the page
    assert "still rendered" in (out / "02_after.html").read_text()
    broken = (out / "01_broken.html").read_text()               # partial page, up to the error
    assert "ZeroDivisionError" in broken and "never runs" in broken
    index = (out / "index.html").read_text()
    assert 'href="00_good.html"' in index and "failed: cell 1 raised ZeroDivisionError" in index


def test_all_good_returns_zero_and_renders_the_named_file_only(course, tmp_path, capsys):
    out = tmp_path / "site"
    assert main(["render", str(course / "02_after.ipynb"), "--output", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["02_after.html", "index.html"]
    assert "1 of 1 notebooks rendered" in capsys.readouterr().out


def test_unreadable_notebook_is_reported(tmp_path, capsys):
    (tmp_path / "00_bad.ipynb").write_text("{not json")
    assert main(["render", str(tmp_path), "-o", str(tmp_path / "html")]) == 1
    assert "00_bad.ipynb: cannot read it" in capsys.readouterr().err


def test_missing_path_is_a_clear_error(tmp_path, capsys):
    assert main(["render", str(tmp_path / "nope.ipynb"), "-o", str(tmp_path / "html")]) == 2
    assert "nope.ipynb" in capsys.readouterr().err


def test_find_notebooks_sorts_and_failing_cell_finds_the_error(course):
    assert [p.name for p in find_notebooks([course])] == ["00_good.ipynb", "01_broken.ipynb", "02_after.ipynb"]
    nb = new_notebook(cells=[new_code_cell("a"), new_code_cell("b")])
    assert failing_cell(nb) is None
    nb.cells[1].outputs = [nbformat.v4.new_output("error", ename="KeyError", evalue="'k'", traceback=[])]
    assert failing_cell(nb)[0] == 1


def test_a_cell_that_runs_too_long_is_reported(tmp_path, capsys):
    save(tmp_path / "00_slow.ipynb", new_code_cell("import time\ntime.sleep(60)"))
    assert main(["render", str(tmp_path), "-o", str(tmp_path / "html"), "--timeout", "2"]) == 1
    assert "00_slow.ipynb: CellTimeoutError" in capsys.readouterr().err
    assert (tmp_path / "html" / "00_slow.html").exists()
