"""``EXERCISES``: the checks of the lessons' stubs by name, each graded against the library's own function."""
from .exercises import PRACTICE


EXERCISES = {ex.name: ex for ex in PRACTICE}
