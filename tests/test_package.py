"""The package itself (``ntm_course/__init__.py``): its version outside an install, and the parts that load on first
use."""
import importlib.metadata
import importlib.util
import sys

import pytest

import ntm_course


def test_a_package_never_installed_has_version_unknown(monkeypatch):
    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)
    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    # a fresh copy of ntm_course/__init__.py (its submodules are the ones already imported; sys.modules untouched)
    spec = importlib.util.spec_from_file_location("ntm_course", ntm_course.__file__,
                                                  submodule_search_locations=list(ntm_course.__path__))
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.__version__ == "unknown" and fresh is not ntm_course
    assert ntm_course.__version__ == importlib.metadata.distribution("ntm-course").version


def test_load_pretrained_and_the_folders_load_on_first_use():
    from ntm_course.experiments import pretrained
    assert ntm_course.__getattr__("load_pretrained") is pretrained.load_pretrained
    assert ntm_course.__getattr__("experiments") is sys.modules["ntm_course.experiments"]


def test_a_broken_import_inside_a_submodule_is_not_disguised_as_a_missing_attribute(monkeypatch):
    monkeypatch.delitem(sys.modules, "ntm_course.handcrafted", raising=False)   # import it afresh ...
    monkeypatch.setitem(sys.modules, "ntm_course.step", None)           # ... with one of its imports broken
    with pytest.raises(ModuleNotFoundError) as error:
        ntm_course.__getattr__("handcrafted")
    assert error.value.name == "ntm_course.step" and not isinstance(error.value, AttributeError)
    with pytest.raises(AttributeError, match=r"^module 'ntm_course' has no attribute 'no_such_part'$"):
        ntm_course.__getattr__("no_such_part")
