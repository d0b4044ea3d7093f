"""What the exercises that test understanding share: each asks for something no lesson cell shows, so its check
may score other groups than a library function's, name the arguments of a harness, and note its groups in its
own words (:class:`Understanding`).

The exercises, one module each, with the reference answer beside its check: :mod:`.blog_shift` (05),
:mod:`.debug_nans` (06), :mod:`.reverse_copy` (07), :mod:`.ntm_step` (08) and :mod:`.train_step` (09). They reuse
:mod:`ntm_course.teaching.practice.exercises.cases`: cases, mistakes with hints, the report.
"""
from dataclasses import dataclass

from ntm_course.teaching.practice.exercises.cases import Exercise


@dataclass
class Understanding(Exercise):
    """An :class:`Exercise` whose groups, argument names and group notes can be set.

    ``only_groups``: the groups scored (default: the usual ones); ``inputs``: the names of a case's arguments
    when the check runs the learner's function inside a harness (``call``); ``notes``: notes for the report's
    groups.
    """
    only_groups: tuple = ()
    inputs: tuple = ()
    notes: dict = None

    @property
    def arg_names(self):
        return list(self.inputs) if self.inputs else super().arg_names

    @property
    def groups(self):
        return self.only_groups or super().groups

    @property
    def group_notes(self):
        return {**super().group_notes, **(self.notes or {})}
