"""Presentation: figures (:mod:`.viz`, :mod:`.viz_models`) and widgets (:mod:`.widgets`, and the model
explorer :mod:`.widgets_models`) that the lessons show. Needs the 'lessons' extra (matplotlib, ipywidgets)."""
