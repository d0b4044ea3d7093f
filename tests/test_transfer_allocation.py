"""Exercise 11_allocation (ntm_course_instructor.grading.allocation): the DNC's usage update and allocation weighting
(Graves et al. 2016, Methods) computed by hand, their properties, their gradients, and the checks' messages."""
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ntm_course_instructor.grading import allocation as module, check
from ntm_course_instructor.grading.allocation import allocation, usage_update

D = torch.float64


def usage(seed, B=2, N=6, low=0.0, high=1.0):
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(B, N, generator=gen, dtype=D)


def weightings(seed, *shape):
    gen = torch.Generator().manual_seed(seed)
    return torch.softmax(2 * torch.randn(*shape, generator=gen, dtype=D), dim=-1)


# --- usage_update ---------------------------------------------------------------------------------------

def test_usage_update_by_hand():
    u_prev = torch.tensor([[0.5, 0.0, 1.0, 0.2]], dtype=D)
    w_write = torch.tensor([[0.5, 0.5, 0.0, 0.0]], dtype=D)
    free = torch.tensor([[1.0, 0.5]], dtype=D)
    w_read = torch.tensor([[[0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]], dtype=D)
    # written: (0.5 + 0.5 - 0.25, 0 + 0.5, 1, 0.2) = (0.75, 0.5, 1, 0.2); psi = (1, 1, 1 - 1, 1 - 0.5) = (1, 1, 0, 0.5)
    assert torch.allclose(usage_update(u_prev, w_write, free, w_read), torch.tensor([[0.75, 0.5, 0.0, 0.1]], dtype=D))


@given(st.integers(0, 10_000), st.integers(1, 3), st.integers(2, 8), st.integers(1, 4))
def test_usage_stays_in_0_1_and_only_falls_by_freeing(seed, B, N, R):
    u_prev, w_write = usage(seed, B, N), weightings(seed, B, N)
    free, w_read = usage(seed + 1, B, R), weightings(seed + 2, B, R, N)
    u = usage_update(u_prev, w_write, free, w_read)
    assert ((u >= 0) & (u <= 1)).all()
    kept = usage_update(u_prev, w_write, torch.zeros_like(free), w_read)
    assert (kept >= u_prev - 1e-12).all() and (u <= kept + 1e-12).all()


def test_usage_update_gradcheck_and_inputs_untouched():
    args = (usage(0, 2, 5), weightings(1, 2, 5), usage(2, 2, 3), weightings(3, 2, 3, 5))
    assert torch.autograd.gradcheck(usage_update, [x.clone().requires_grad_() for x in args])
    before = [x.clone() for x in args]
    usage_update(*args)
    assert all(torch.equal(a, b) for a, b in zip(before, args))


def test_usage_update_names_the_argument_with_a_wrong_shape():
    u, w = usage(0, 2, 5), weightings(1, 2, 5)
    with pytest.raises(ValueError, match=r"w_read_prev must have shape \(B, R, N\) = \(2, 3, 5\), got \(2, 2, 5\)"):
        usage_update(u, w, usage(2, 2, 3), weightings(3, 2, 2, 5))
    with pytest.raises(ValueError, match=r"free_gates must have shape \(B, R\)"):
        usage_update(u, w, usage(2, 2, 3)[0], weightings(3, 2, 3, 5))


# --- allocation -----------------------------------------------------------------------------------------

def test_allocation_by_hand():
    u = torch.tensor([[0.5, 0.25, 1.0, 0.75]], dtype=D)
    # phi = (1, 0, 3, 2): a[1] = 0.75, a[0] = 0.5 * 0.25, a[3] = 0.25 * 0.25 * 0.5, a[2] = 0
    assert torch.allclose(allocation(u), torch.tensor([[0.125, 0.75, 0.0, 0.03125]], dtype=D))


def test_allocation_of_the_edge_cases():
    assert allocation(torch.zeros(1, 4, dtype=D)).tolist() == [[1.0, 0.0, 0.0, 0.0]]     # all free: the first row
    assert allocation(torch.ones(1, 4, dtype=D)).tolist() == [[0.0, 0.0, 0.0, 0.0]]      # all full: nothing
    row2 = torch.zeros(1, 5, dtype=D)
    row2[0, 2] = 1.0
    assert allocation(row2).tolist() == [[1.0, 0.0, 0.0, 0.0, 0.0]]                      # the Predict question
    tied = torch.tensor([[0.5, 0.2, 0.5, 0.2]], dtype=D)                                 # ties: the lower row first
    assert torch.allclose(allocation(tied), torch.tensor([[0.5 * 0.04, 0.8, 0.5 * 0.02, 0.8 * 0.2]], dtype=D))


@given(st.integers(0, 10_000), st.integers(1, 3), st.integers(1, 10))
def test_allocation_is_a_subdistribution_that_favours_free_rows(seed, B, N):
    u = usage(seed, B, N)
    a = allocation(u)
    assert (a >= 0).all() and torch.allclose(a.sum(1), 1 - u.prod(1))       # the weights sum to 1 - prod u
    order = u.argsort(dim=1)
    assert (a.gather(1, order).diff(dim=1) <= 1e-12).all()                    # freer rows get more


@given(st.integers(0, 10_000), st.integers(2, 8))
def test_allocation_follows_its_rows(seed, N):
    u = usage(seed, 1, N)
    perm = torch.randperm(N, generator=torch.Generator().manual_seed(seed))
    assert torch.allclose(allocation(u[:, perm]), allocation(u)[:, perm])


def test_allocation_gradcheck_with_the_order_fixed():
    u = usage(4, 2, 6, low=0.05, high=0.95).requires_grad_()
    assert torch.autograd.gradcheck(allocation, [u])
    (grad,) = torch.autograd.grad(allocation(u)[0, int(u[0].argmin())], u)
    assert grad[0, int(u[0].argmin())].item() == pytest.approx(-1.0) and grad[1].abs().sum() == 0


def test_allocation_in_float32_follows_its_input():
    a = allocation(usage(0).float())
    assert a.dtype == torch.float32 and torch.allclose(a.double(), allocation(usage(0)), atol=1e-6)


# --- the checks ----------------------------------------------------------------------------------------

def test_the_references_score_full_marks():
    for exercise in module.CHECKS:
        result = check(exercise.name, exercise.reference, verbose=False)
        assert result.passed and result.grade == 4, result.report


def test_a_python_loop_passes_and_division_by_usage_is_a_nan_with_a_hint():
    def loop(u):
        order = torch.sort(u, dim=1, stable=True).indices
        rows = []
        for b in range(u.shape[0]):
            a, left = [None] * u.shape[1], u.new_ones(())
            for i in order[b].tolist():
                a[i], left = (1 - u[b, i]) * left, left * u[b, i]
            rows.append(torch.stack(a))
        return torch.stack(rows)

    def divided(u):
        s, order = torch.sort(u, dim=1, stable=True)
        return torch.zeros_like(u).scatter(1, order, (1 - s) * torch.cumprod(s, dim=1) / s)

    assert check("allocation", loop, verbose=False).passed
    result = check("allocation", divided, verbose=False)
    assert not result.passed and "contains NaN" in result.report and "0 / 0" in result.report


def test_a_wrong_shape_is_explained():
    result = check("allocation", lambda u: allocation(u)[:, :-1], verbose=False)
    assert not result.passed and "return a (B, N) like u" in result.report
    result = check("usage_update", lambda u, w, f, r: (u + w - u * w) * (1 - f * r), verbose=False)
    assert not result.passed and "free_gates.unsqueeze(2) * w_read_prev" in result.report
