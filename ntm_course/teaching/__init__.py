"""The learner's teaching tools: the lessons' helpers (:mod:`.lesson`: ``your_turn``, ``my_pieces``, the ``reveal``
hint ladder), instant feedback on a stub (:mod:`.practice`), the machines graded exercises run in (:mod:`.harness`),
``ntm-course get`` (:mod:`.get`), ``ntm-course doctor`` (:mod:`.doctor`) and the command line (:mod:`.cli`). The
instructor's tools (grading, release, the website) are the ``ntm_course_instructor`` distribution."""
