"""The package's layers hold: import-linter checks the contract in pyproject.toml ([tool.importlinter]).

The learner's package never imports the instructor's. In the learner's, teaching tools sit over presentation,
presentation over the experiments, the experiments over the paper's mechanism; each module imports only from the
layers below it, so there are no import cycles between layers.
"""
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from importlinter.cli import EXIT_STATUS_SUCCESS, lint_imports


ROOT = Path(__file__).resolve().parents[1]


def test_the_layer_contract_is_kept(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True) == EXIT_STATUS_SUCCESS


def _layers(package):
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    (contract,) = [c for c in contracts if c["type"] == "layers" and c["containers"] == [package]]
    return contract["layers"]


@pytest.mark.parametrize("package, folders", [("ntm_course", {"experiments", "presentation", "teaching"}),
                                              ("ntm_course_instructor", set())])
def test_every_module_has_its_layer(package, folders):
    """A new module must be placed in its package's contract, or import-linter would not check it.

    The contract names the top-level modules and, inside each layer folder (``experiments``, ``presentation``,
    ``teaching`` of the learner's package), its modules and packages; a package's own modules go with it.
    """
    placed = {name.strip() for layer in _layers(package) for name in layer.split(":")}
    assert {name.split(".")[0] for name in placed if "." in name} == folders
    modules = {".".join(p.relative_to(ROOT / package).with_suffix("").parts).removesuffix(".__init__")
               for p in (ROOT / package).rglob("*.py") if "__pycache__" not in p.parts} - {"__init__"}
    unplaced = {m for m in modules - folders if not any(m == p or m.startswith(p + ".") for p in placed)}
    assert not unplaced, f"modules in no layer of the contract: {sorted(unplaced)}"
    assert placed <= modules, f"the contract names modules that don't exist: {sorted(placed - modules)}"


def test_the_learners_package_never_imports_the_instructors():
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    assert {"type": "forbidden", "source_modules": ["ntm_course"], "forbidden_modules": ["ntm_course_instructor"]} \
        .items() <= next(c for c in contracts if c["type"] == "forbidden").items()


def test_a_broken_layer_order_is_reported(tmp_path, monkeypatch):
    """The same contract with the mechanism's order turned upside down must fail: the check has teeth."""
    layers = _layers("ntm_course")
    upside_down = "\n".join(f'    "{layer}",' for layer in reversed(layers))
    (tmp_path / "contract.toml").write_text(
        f'[tool.importlinter]\nroot_package = "ntm_course"\n\n[[tool.importlinter.contracts]]\nname = "reversed"\n'
        f'type = "layers"\ncontainers = ["ntm_course"]\nlayers = [\n{upside_down}\n]\n')
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(tmp_path / "contract.toml"), no_cache=True) != EXIT_STATUS_SUCCESS


def test_importing_the_package_does_not_load_the_training_stack():
    """Lesson 1's ``import ntm_course`` loads the mechanism alone; training loads when first touched."""
    code = ("import sys, ntm_course; loaded = {m for m in sys.modules if m.startswith('ntm_course.')}; "
            "assert not loaded & {'ntm_course.experiments.training', 'ntm_course.experiments.pretrained', "
            "'ntm_course.experiments.tasks', "
            "'ntm_course.experiments.evaluation'}, sorted(loaded); "
            "assert ntm_course.load_pretrained.__module__ == 'ntm_course.experiments.pretrained'; "
            "assert 'ntm_course.experiments.training' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
