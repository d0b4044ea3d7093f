"""The checks of the lessons' stubs: for each, the library's function it is compared with, the cases a check
runs and the mistakes it recognises.

A *mistake* is a known wrong implementation: when a learner's result on a failing case equals a mistake's
result, the check shows that mistake's hint. One module per library layer it checks, each with a tuple
``CHECKS`` that the syllabus's rows point to:

- :mod:`.cases`: what an exercise is (:class:`Exercise`, :class:`Case`) and the helpers that build its cases;
- :mod:`.memory`: ``READ``, ``WRITE`` (eqs. 2-4);
- :mod:`.addressing`: ``COSINE``, ``CONTENT``, ``INTERPOLATE``, ``SHIFT``, ``SHARPEN``, ``ADDRESS`` (eqs. 5-9);
- :mod:`.heads`: ``SPLIT_HEAD_PARAMS``.

The graded exercises' checks are the instructor's (``ntm_course_instructor.grading``).
"""
