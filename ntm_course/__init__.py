"""ntm-course: the reference Neural Turing Machine library behind the course's lessons and exercises.

The folders are the layers; each imports only from those below it (the import-linter contract in
pyproject.toml, checked by the test suite):

- ``teaching/``: lessons' helpers, grading, release, the site and the command line;
- ``presentation/``: figures and widgets;
- ``experiments/``: tasks, configuration, checkpoints, training, evaluation and the shipped models;
- the paper's mechanism, here at the top, in the order the course builds it: :mod:`memory` (eqs. 2-4),
  :mod:`addressing` (eqs. 5-9), :mod:`heads`, :mod:`controller`, :mod:`step`, :mod:`ntm`;
  :mod:`pieces` lets the NTM run on the learner's own functions, :mod:`handcrafted` programs it by hand.
"""
import importlib
from importlib.metadata import PackageNotFoundError, version

from .addressing import address, address_stages, content_addressing, cosine_similarity, interpolate, sharpen, shift
from .device import get_device, seed_everything
from .memory import InitialMemory, read, write
from .ntm import NTM, LSTMBaseline, NTMCell, count_parameters
from .pieces import PieceError, Pieces


try:
    __version__ = version("ntm-course")     # the one version number: pyproject.toml's, through the package metadata
except PackageNotFoundError:                # imported from a folder that was never installed
    __version__ = "unknown"
__all__ = ["read", "write", "InitialMemory", "cosine_similarity", "content_addressing", "interpolate", "shift",
           "sharpen", "address", "address_stages", "NTM", "NTMCell", "LSTMBaseline", "count_parameters",
           "Pieces", "PieceError", "get_device", "seed_everything", "load_pretrained"]


def __getattr__(name):
    """The rest loads on first use (PEP 562): ``import ntm_course`` loads the mechanism alone (what lesson 1
    needs), and ``ntm_course.load_pretrained`` or ``ntm_course.experiments`` load the training stack when
    touched."""
    if name == "load_pretrained":
        return importlib.import_module(".experiments.pretrained", __name__).load_pretrained
    try:
        return importlib.import_module(f".{name}", __name__)
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
