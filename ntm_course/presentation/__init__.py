"""Presentation: figures (:mod:`.viz`, :mod:`.viz_models`), widgets (:mod:`.widgets`, the model explorer
:mod:`.widgets_models`, the time-scrubber :mod:`.scrubber` and the training playground :mod:`.playground`) that
the lessons show, the figures' captions and alt text (:mod:`.captions`), and the common-bugs page written from the
checks (:mod:`.common_bugs`). Needs the 'lessons' extra (matplotlib, ipywidgets), except :mod:`.captions` and
:mod:`.common_bugs`."""
