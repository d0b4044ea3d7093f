"""Exercise 09_credit_assignment: ``write_influence``'s reference against a closed form and finite differences,
the machine's gradients (float64 gradcheck), causality and erases, and the check's cases and messages."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm_course_instructor.grading import check
from ntm_course.teaching.harness import run_episode
from ntm_course_instructor.grading import credit_assignment as ca


def episode(seed, B=2, T=5, N=4, M=3, dtype=torch.float64):
    return tuple(x.to(dtype) for x in ca._random_episode(torch.Generator().manual_seed(seed), B, T, N, M))


def closed_form(w_write, erase, add, w_read, target):
    """d r_t' / d a_t is diagonal: sum_i w_read[t'](i) w_write[t](i) prod_{t < s <= t'} (1 - w_write[s](i) e_s),
    per feature; so G[b, t, t'] = || 2 (r_t' - target_t') * that ||."""
    reads, _ = run_episode(w_write, erase, add, w_read, target)
    T, B, M = add.shape
    G = torch.zeros(B, T, T, dtype=add.dtype)
    for t in range(T):
        kept = w_write[t].unsqueeze(-1).expand(B, -1, M).clone()           # (B, N, M): what is left of a_t
        for later in range(t, T):
            if later > t:
                kept = kept * (1 - w_write[later].unsqueeze(-1) * erase[later].unsqueeze(1))
            reach = (w_read[later].unsqueeze(-1) * kept).sum(dim=1)         # (B, M)
            G[:, t, later] = (2 * (reads[later] - target[later]) * reach).norm(dim=1)
    return G


# --- the reference --------------------------------------------------------------------------------------

@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000), B=st.integers(1, 3), T=st.integers(1, 6), N=st.integers(2, 6),
       M=st.integers(1, 4))
def test_the_reference_is_the_closed_form(seed, B, T, N, M):
    args = episode(seed, B, T, N, M)
    torch.testing.assert_close(ca.write_influence(*args), closed_form(*args))


def test_a_hand_computed_episode():
    """One row, M = 1: write a0 = 2 at step 0, erase half of it at step 1 (and add a1 = 1), read the row each time,
    targets 0. r0 = 2, r1 = 2 * 0.5 + 1 = 2; loss_t = r_t ** 2, so d loss_1 / d a0 = 2 r1 * 0.5 = 2,
    d loss_1 / d a1 = 2 r1 = 4, d loss_0 / d a0 = 2 r0 = 4."""
    one = torch.ones(2, 1, 1, dtype=torch.float64)
    erase = torch.tensor([1.0, 0.5], dtype=torch.float64).view(2, 1, 1)
    add = torch.tensor([2.0, 1.0], dtype=torch.float64).view(2, 1, 1)
    G = ca.write_influence(one, erase, add, one, torch.zeros(2, 1, 1, dtype=torch.float64))
    torch.testing.assert_close(G, torch.tensor([[[4.0, 2.0], [0.0, 4.0]]], dtype=torch.float64))


def test_the_gradients_the_reference_takes_pass_gradcheck_in_float64():
    w_write, erase, add, w_read, target = episode(1, B=2, T=4)

    def losses(add):
        return run_episode(w_write, erase, add, w_read, target)[1]
    assert torch.autograd.gradcheck(losses, (add.clone().requires_grad_(),))


def test_one_entry_against_finite_differences():
    args = list(episode(2, B=1, T=4))
    G = ca.write_influence(*args)
    t, later, h = 1, 3, 1e-6
    slope = []
    for m in range(args[2].shape[2]):
        plus, minus = args[2].clone(), args[2].clone()
        plus[t, 0, m] += h
        minus[t, 0, m] -= h
        loss = [run_episode(args[0], args[1], a, args[3], args[4])[1][later, 0] for a in (plus, minus)]
        slope.append((loss[0] - loss[1]) / (2 * h))
    torch.testing.assert_close(G[0, t, later], torch.stack(slope).norm(), rtol=1e-6, atol=1e-8)


def test_causality_and_batch_independence():
    args = episode(3, B=3, T=6)
    G = ca.write_influence(*args)
    assert torch.equal(torch.tril(G, diagonal=-1), torch.zeros_like(G))
    alone = ca.write_influence(*(x[:, 1:2] for x in args))
    torch.testing.assert_close(G[1:2], alone)


def test_a_full_erase_cuts_the_influence_and_no_erase_makes_the_shortcut_right():
    w_write, erase, add, w_read, target = episode(4, T=5)
    w_write = ca._one_hot(5, 2, 4, [0, 1, 0, 2, 3])       # row 0 written at step 0, rewritten with a full erase at 2
    w_read = ca._one_hot(5, 2, 4, [0] * 5)
    G = ca.write_influence(w_write, torch.ones_like(erase), add, w_read, target)
    assert (G[:, 0, :2] > 0).all() and (G[:, 0, 2:] == 0).all()
    no_erase = episode(5)
    no_erase = (no_erase[0], torch.zeros_like(no_erase[1]), *no_erase[2:])
    torch.testing.assert_close(ca._overlap_only(*no_erase), ca.write_influence(*no_erase))


def test_inputs_untouched_dtype_and_device_followed_and_no_grad_mode_harmless():
    args = episode(6, dtype=torch.float32)
    before = [x.clone() for x in args]
    with torch.no_grad():
        G = ca.write_influence(*args)
    assert G.dtype == torch.float32 and G.device == args[0].device and not G.requires_grad
    assert all(torch.equal(a, b) for a, b in zip(args, before)) and not args[2].requires_grad


# --- the check's cases, and its messages ------------------------------------------------------------------

def test_the_edge_cases_are_what_their_labels_say():
    cases = {c.label: c.args for c in ca.WRITE_INFLUENCE.cases("edge cases") if c.label.endswith("float64")}
    G = {label.split(",")[0]: ca.write_influence(*args) for label, args in cases.items()}
    assert (G["row 0 written at step 0"][:, 0, 2:] == 0).all()
    overwrite = G["an overwrite: row 2 written with a full erase at every step and read"]
    assert torch.equal(overwrite, torch.diag_embed(torch.diagonal(overwrite, dim1=1, dim2=2)))
    assert (G["no write at step 0 (a zero write weighting): add[0] moves nothing"][:, 0] == 0).all()
    assert G["the read at step 2 equals its target: a loss at its minimum has a zero gradient"][:, :, 2].abs().max() \
        < 1e-12
    copy = [c for c in ca.WRITE_INFLUENCE.cases("values") if c.label.startswith("a copy episode")][1]
    nonzero = (ca.write_influence(*copy.args)[0] > 0).nonzero().tolist()
    assert sorted(nonzero) == sorted([[t, t] for t in range(3)] + [[t, t + 3] for t in range(3)])


@pytest.mark.parametrize("wrong, words", [
    (lambda *args: ca.write_influence(*args)[:, :, :1], "has shape"),
    (lambda *args: ca.write_influence(*args).tolist(), "should be a torch.Tensor, got list"),
    (lambda w_write, erase, add: add, "same arguments"),
])
def test_wrong_shapes_types_and_signatures_are_clear(wrong, words):
    result = check("write_influence", wrong, verbose=False)
    assert result.points == 0 and words in result.report, result.report
