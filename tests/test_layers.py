"""The package's layers hold: import-linter checks the contract in pyproject.toml ([tool.importlinter]).

Teaching tools sit over presentation, presentation over the experiments, the experiments over the paper's
mechanism; each module imports only from the layers below it, so there are no import cycles between layers.
"""
import subprocess
import sys
from pathlib import Path

import tomllib
from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports

ROOT = Path(__file__).resolve().parents[1]


def test_the_layer_contract_is_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == EXIT_STATUS_SUCCESS


def test_every_module_has_its_layer():
    """A new module must be placed in the contract, or import-linter would not check it."""
    layers = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"][0]["layers"]
    placed = {name.strip() for layer in layers for name in layer.split(":")}
    modules = {p.stem for p in (ROOT / "ntm_course").glob("*.py") if p.stem != "__init__"}
    packages = {p.parent.name for p in (ROOT / "ntm_course").glob("*/__init__.py")}
    assert placed == modules | packages


def test_a_broken_layer_order_is_reported(tmp_path, monkeypatch):
    """The same contract with the mechanism's order turned upside down must fail: the check has teeth."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = config["contracts"][0]["layers"]
    upside_down = "\n".join(f'    "{layer}",' for layer in reversed(layers))
    (tmp_path / "contract.toml").write_text(
        f'[tool.importlinter]\nroot_package = "ntm_course"\n\n[[tool.importlinter.contracts]]\nname = "reversed"\n'
        f'type = "layers"\ncontainers = ["ntm_course"]\nlayers = [\n{upside_down}\n]\n')
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(tmp_path / "contract.toml"), no_cache=True) != EXIT_STATUS_SUCCESS


def test_importing_the_package_does_not_load_the_training_stack():
    """Lesson 1's ``import ntm_course`` loads the mechanism alone; training loads when first touched."""
    code = ("import sys, ntm_course; loaded = {m for m in sys.modules if m.startswith('ntm_course.')}; "
            "assert not loaded & {'ntm_course.training', 'ntm_course.pretrained', 'ntm_course.tasks', "
            "'ntm_course.evaluation'}, sorted(loaded); "
            "assert ntm_course.load_pretrained.__module__ == 'ntm_course.pretrained'; "
            "assert 'ntm_course.training' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
