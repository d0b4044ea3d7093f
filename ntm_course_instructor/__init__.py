"""ntm-course-instructor: the course's tools for instructors, a distribution of its own beside the learner's library.

- :mod:`.grading`: the graded exercises' checks and reference answers (one module each, named by the syllabus),
  and the gradebook that grades a class outside the submissions (:mod:`.grading.gradebook`; one submission in
  :mod:`.grading.submission`, its worker process in :mod:`.grading.runner` and :mod:`.grading.worker`, sandboxed
  by :mod:`.grading.isolation`);
- :mod:`.release`: the learners' ``exercises/`` from ``solutions/``;
- :mod:`.render`: the course website; :mod:`.hosted`: the Colab and Binder cells of every notebook;
- :mod:`.cli`: the ``ntm-course-instructor`` command.

It imports the learner's package (``ntm_course``); the learner's package never imports it. The course's structure
comes from one table, :mod:`ntm_course.syllabus`.
"""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ntm-course-instructor")
except PackageNotFoundError:   # imported from a folder that was never installed
    __version__ = "unknown"
