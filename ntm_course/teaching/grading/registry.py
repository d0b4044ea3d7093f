"""``EXERCISES``: every graded check by name.

The checks of the library's own functions live in :mod:`.exercises`, the ones that test understanding beyond
them (the blog's shift rule, NaN debugging, reverse copy, the multi-head NTM step) in :mod:`.understanding`.
"""
from .exercises import LIBRARY
from .understanding import UNDERSTANDING


EXERCISES = {ex.name: ex for ex in LIBRARY + UNDERSTANDING}
