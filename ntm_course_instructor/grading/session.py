"""One grading run's own state: its secret cases, its kits, its uids and its stop.

- **Cases drawn for this run**: every check's cases are built from a seed of this run (:meth:`GradingRun.exercise`),
  not the seed the learner's own ``check`` uses, so an answer that recognises the notebook's inputs and returns
  stored outputs is wrong here. ``--seed`` repeats a run's draw.
- **One kit per assignment** (:mod:`.kit`), built once in a private folder and removed at the end.
- **Its own uids**: a block that no other run holds (:func:`.isolation.claim_uids`), so two runs at once never
  share a worker's user, and one run's clean-up never touches another's workers.
- **A stop** (Ctrl-C): set it and every worker of the run is killed at once (:class:`.runner.Interrupted`).
"""
import ast
import dataclasses
import os
import secrets
import shutil
import tempfile
import threading

import torch

from . import isolation
from .kit import build_kit
from .registry import EXERCISES


GROUPS = ("values", "edge cases", "gradients")


class GradingRun:
    """The state one ``grade`` command shares between its submissions (see the module's docstring)."""

    def __init__(self, sandbox, jobs=1, seed=None):
        self.sandbox = sandbox
        self.seed = secrets.randbits(31) if seed is None else int(seed)
        self.stop = threading.Event()
        self.lock = threading.RLock()   # kit() draws the cases it needs while holding it
        self.folder = None
        self.kits, self.drawn = {}, {}
        self.uid_base, self.uid_lock = None, None
        if sandbox.drop_uid:
            self.uid_base, self.uid_lock = isolation.claim_uids(max(1, jobs))

    def exercise(self, name):
        """The check ``name`` with this run's cases (built once, from this run's seed)."""
        with self.lock:
            if name not in self.drawn:
                exercise = EXERCISES[name]
                drawn = dataclasses.replace(exercise, _cases=None)
                drawn._cases = exercise.build(torch.Generator().manual_seed(self.seed))
                self.drawn[name] = drawn
            return self.drawn[name]

    def cases(self, names):
        """``{name: {group: [args]}}``: the cases the worker runs for the checks ``names``."""
        return {n: {g: [case.args for case in self.exercise(n).cases(g)] for g in GROUPS} for n in names}

    def kit(self, assignment, checks):
        """``(folder, specs)``: the kit of ``assignment`` (a :class:`.assignments.Assignment`), built once."""
        with self.lock:
            if assignment not in self.kits:
                names = [c.name for c in checks if c.name in EXERCISES]
                if self.folder is None:
                    self.folder = tempfile.mkdtemp(prefix="ntm-grade-kits-")
                    os.chmod(self.folder, 0o711)   # the fallback's worker user reads its kit through it
                folder = tempfile.mkdtemp(prefix=f"{assignment}-", dir=self.folder)
                specs = build_kit(folder, [EXERCISES[n] for n in names], self.cases(names),
                                  tools(checks.locked.values()))
                self.kits[assignment] = (folder, specs)
            return self.kits[assignment]

    def close(self):
        if self.folder:
            shutil.rmtree(self.folder, ignore_errors=True)
        if self.uid_lock is not None:
            self.uid_lock.close()
            self.uid_lock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


def tools(sources):
    """The names the course's own cells import from the course: the exercise's tools, never stubbed."""
    found = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ntm_course":
                found |= {a.name for a in node.names}
    return found
