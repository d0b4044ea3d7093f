"""Grading leaves the caller's random generators alone: torch's, Python's and NumPy's global state is the same
before and after grading each exercise, whether the learner checks in the notebook (``check``) or the gradebook's
worker runs the cases (``worker.run_cases``), even when the learner's function draws from those generators.
Building the cases, and train_step's tiny model, never touches them either."""
import random
import types

import numpy as np
import pytest
import torch

from ntm_course_instructor.grading import EXERCISES, check, worker


def rng_states():
    """The global random generators' states, in a form ``==`` compares (a failure names the generator)."""
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"torch": torch.get_rng_state().tolist(), "python": random.getstate(),
            "numpy": (name, keys.tolist(), pos, has_gauss, cached)}


def drawing(reference):
    """A right answer that also draws from every global generator, as a learner's function may. It runs the
    reference's code from a copy (in the worker's kit the reference itself is a stub)."""
    own = types.FunctionType(reference.__code__, reference.__globals__, reference.__name__, reference.__defaults__,
                             reference.__closure__)
    own.__kwdefaults__ = reference.__kwdefaults__

    def learner(*args, **kwargs):
        torch.rand(1), random.random(), np.random.rand()
        return own(*args, **kwargs)
    return learner


@pytest.fixture
def seeded():
    """Every global generator seeded, so the states compared are the same in every run."""
    torch.manual_seed(123)
    random.seed(123)
    np.random.seed(123)


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_check_leaves_the_callers_generators_as_found(name, seeded):
    ex = EXERCISES[name]
    before = rng_states()
    result = check(name, drawing(ex.reference), verbose=False)
    assert rng_states() == before
    assert result.passed, result.report


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_the_workers_cases_leave_the_submissions_generators_as_found(name, seeded):
    """In the worker the submission's later cells run after a check cell: they must see the generators as the
    learner's own notebook (where ``check`` keeps them) would."""
    ex = EXERCISES[name]
    cases = {group: [case.args for case in ex.cases(group)] for group in ("values", "edge cases", "gradients")}
    before = rng_states()
    result = worker.run_cases(ex, drawing(ex.reference), cases, progress=lambda message: None)
    assert rng_states() == before
    errors = [item["error"] for items in result["outcomes"].values() for item in items if item["error"]]
    assert not errors


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_building_the_cases_never_touches_the_global_generators(name, seeded):
    ex = EXERCISES[name]
    before = rng_states()
    first = ex.build(torch.Generator().manual_seed(0))
    assert rng_states() == before
    assert {group: [case.label for case in cases] for group, cases in first.items()} == \
        {group: [case.label for case in ex.cases(group)] for group in first}


def test_train_steps_model_is_seeded_by_its_recipe_not_by_the_caller(seeded):
    recipe = EXERCISES["train_step"].cases("values")[1].args[0]
    before = rng_states()
    model = recipe.build()
    assert rng_states() == before
    torch.manual_seed(7)
    again = recipe.build()
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), again.parameters()))
