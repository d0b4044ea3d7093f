"""Teaching tools: the lessons' helpers (:mod:`.lesson`), grading (:mod:`.grading`), the student release
(:mod:`.release`), the rendered site (:mod:`.render`), ``ntm-course get`` (:mod:`.get`), hosted notebooks
(:mod:`.hosted`) and the command line (:mod:`.cli`)."""
