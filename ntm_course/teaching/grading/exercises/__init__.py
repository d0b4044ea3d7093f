"""The graded exercises on the library's own functions: for each, the reference answer, the cases a check runs
and the mistakes it recognises.

A *mistake* is a known wrong implementation: when a learner's result on a failing case equals a mistake's
result, the check shows that mistake's hint. One module per library layer it grades:

- :mod:`.cases`: what an exercise is (:class:`Exercise`, :class:`Case`) and the helpers that build its cases;
- :mod:`.memory`: ``READ``, ``WRITE`` (eqs. 2-4);
- :mod:`.addressing`: ``COSINE``, ``CONTENT``, ``INTERPOLATE``, ``SHIFT``, ``SHARPEN``, ``ADDRESS`` (eqs. 5-9);
- :mod:`.heads`: ``SPLIT_HEAD_PARAMS``;
- :mod:`.training`: ``TRAIN_STEP``.

:data:`LIBRARY` lists them in course order; :mod:`..registry` adds the checks of :mod:`..understanding`.
"""
from .addressing import ADDRESS, CONTENT, COSINE, INTERPOLATE, SHARPEN, SHIFT
from .heads import SPLIT_HEAD_PARAMS
from .memory import READ, WRITE
from .training import TRAIN_STEP


LIBRARY = (COSINE, CONTENT, READ, WRITE, INTERPOLATE, SHIFT, SHARPEN, ADDRESS, SPLIT_HEAD_PARAMS, TRAIN_STEP)

__all__ = ["LIBRARY", "COSINE", "CONTENT", "READ", "WRITE", "INTERPOLATE", "SHIFT", "SHARPEN", "ADDRESS",
           "SPLIT_HEAD_PARAMS", "TRAIN_STEP"]
