"""The hand-programmed copy machine: exact copies, where each head looks at each step, and its failure modes."""
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ntm_course.handcrafted import copy_head_params, hand_programmed_copy, shift_distribution, sort_by_placement


def bits(T, B, W, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(T, B, W, generator=g) < 0.5).to(dtype)


def focus(w):
    """Row index of the largest weight, per example: ``(..., N) -> (...)``."""
    return w.argmax(dim=-1)


@pytest.mark.parametrize("jump", ["content", "location"])
def test_copies_bits_exactly(jump):
    x = bits(20, 3, 8)
    y, _ = hand_programmed_copy(x, N=128, jump=jump)
    torch.testing.assert_close(y, x, atol=1e-9, rtol=0)


@settings(max_examples=25, deadline=None)
@given(T=st.integers(1, 12), B=st.integers(1, 3), W=st.integers(1, 5), extra=st.integers(0, 4),
       seed=st.integers(0, 10_000), jump=st.sampled_from(["content", "location"]))
def test_copies_any_real_sequence(T, B, W, extra, seed, jump):
    x = torch.randn(T, B, W, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    y, trace = hand_programmed_copy(x, N=T + extra, jump=jump)
    torch.testing.assert_close(y, x, atol=1e-8, rtol=0)
    assert trace["read_weights"].shape == (2 * T, B, T + extra)


def test_write_head_walks_one_row_per_step_and_memory_holds_the_items():
    T, N = 6, 10
    x = bits(T, 2, 4, seed=1)
    _, trace = hand_programmed_copy(x, N=N)
    w = trace["write_weights"]
    # hand-computed: start on row N-1, +1 at each write step -> row t; then it stays on row T-1
    assert focus(w[:T]).tolist() == [[t, t] for t in range(T)]
    assert focus(w[T:]).tolist() == [[T - 1, T - 1]] * T
    torch.testing.assert_close(w[:T].max(dim=-1).values, torch.ones(T, 2, dtype=x.dtype))
    memory = trace["memory"][-1]                                      # (B, N, W + 1)
    torch.testing.assert_close(memory[:, :T, :4], x.transpose(0, 1))
    expected_marker = torch.zeros(2, N, dtype=x.dtype)
    expected_marker[:, 0] = 1.0
    torch.testing.assert_close(memory[:, :, 4], expected_marker)
    assert memory[:, T:].abs().max() == 0                             # rows never written stay empty


def test_content_jump_moves_the_read_head_back_to_the_start():
    T, N = 5, 9
    _, trace = hand_programmed_copy(bits(T, 1, 3), N=N, jump="content")
    rows = focus(trace["read_weights"][:, 0]).tolist()
    assert rows == list(range(T)) + list(range(T))  # follows the writer, then jumps from row T-1 to 0


def test_location_jump_waits_at_the_start():
    T, N = 5, 9
    _, trace = hand_programmed_copy(bits(T, 1, 3), N=N, jump="location")
    rows = focus(trace["read_weights"][:, 0]).tolist()
    assert rows == [N - 1] * T + list(range(T))


def test_blurred_shift_fades_the_copy_and_sharpening_restores_it():
    x = bits(20, 2, 8, seed=3)
    blurred, trace = hand_programmed_copy(x, N=64, jump="location", blur=0.2, gamma=1.0)
    sharpened, _ = hand_programmed_copy(x, N=64, jump="location", blur=0.2, gamma=5.0)
    blurred_errors = ((blurred > 0.5) != (x > 0.5)).sum()
    assert blurred_errors > 10
    assert (sharpened - x).abs().max() < 1e-2
    # while reading, the read focus spreads further at every step
    peak = trace["read_weights"][20:].max(dim=-1).values                # (T, B)
    assert (peak[1:] < peak[:-1]).all()


def test_a_blurred_write_leaves_faint_markers_that_fool_the_content_jump():
    # cosine similarity ignores magnitude: a faint smear of [x_0, marker] on the rows around row 0 matches
    # the marker key as well as row 0 itself, so the content jump no longer lands on row 0 alone
    x = bits(12, 1, 8, seed=4)
    _, trace = hand_programmed_copy(x, N=32, jump="content", blur=0.2, gamma=5.0)
    jump = trace["read_weights"][12, 0]
    assert jump[0] < 0.9 and jump[[30, 31]].sum() > 0.1


def test_follows_dtype_and_gradients_flow():
    x = torch.randn(3, 2, 2, dtype=torch.float64, requires_grad=True)
    torch.autograd.gradcheck(lambda seq: hand_programmed_copy(seq, N=4, blur=0.1, gamma=2.0)[0], (x,))
    y, _ = hand_programmed_copy(bits(3, 1, 2, dtype=torch.float32))
    assert y.dtype == torch.float32


def test_head_params_have_the_library_shapes_and_ranges():
    inputs = torch.ones(4, 3)
    write_p, read_p = copy_head_params(0, T=2, W=3, batch_size=4, inputs=inputs)
    assert write_p["key"].shape == (4, 4) and write_p["add"].shape == (4, 4) and write_p["s"].shape == (4, 3)
    for p in (write_p, read_p):
        assert p["beta"].shape == p["g"].shape == p["gamma"].shape == (4, 1)
        torch.testing.assert_close(p["s"].sum(dim=1), torch.ones(4))
    torch.testing.assert_close(write_p["add"][0], torch.tensor([1.0, 1.0, 1.0, 1.0]))  # item + start marker
    torch.testing.assert_close(write_p["s"][0], torch.tensor([0.0, 0.0, 1.0]))         # offset +1


def test_shift_distribution_puts_the_blur_on_the_other_offsets():
    s = shift_distribution(-1, K=5, blur=0.4, batch_size=2)
    torch.testing.assert_close(s, torch.tensor([[0.1, 0.6, 0.1, 0.1, 0.1]] * 2))


@pytest.mark.parametrize("call, match", [
    (lambda: hand_programmed_copy(bits(5, 1, 2), N=4), "N must be at least"),
    (lambda: hand_programmed_copy(bits(5, 1, 2), jump="teleport"), "jump must be one of"),
    (lambda: hand_programmed_copy(torch.zeros(5, 2)), r"sequence must have shape \(T, B, W\)"),
    (lambda: hand_programmed_copy(torch.zeros(0, 1, 2)), "at least one item"),
    (lambda: hand_programmed_copy(bits(2, 1, 2), blur=1.0), "blur must be in"),
    (lambda: shift_distribution(2, K=3), "offset must be one of"),
    (lambda: copy_head_params(4, T=2, W=1), r"step must be in \[0, 2T\)"),
    (lambda: copy_head_params(0, T=2, W=3, batch_size=1), "inputs .* required"),
    (lambda: copy_head_params(0, T=2, W=3, batch_size=1, inputs=torch.ones(1, 2)), r"inputs must have shape"),
])
def test_bad_input_raises_a_readable_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_sort_by_placement_sorts_when_no_priorities_collide():
    from ntm_course.experiments.tasks import priority_sort_batch
    batch = priority_sort_batch(16, generator=torch.Generator().manual_seed(0))
    outputs, memory, rows = sort_by_placement(batch.inputs, N=100_000)
    assert all(len(set(r.tolist())) == 20 for r in rows.T)                          # no two share a row
    assert torch.equal(outputs, batch.targets[21:])                                  # exactly the sorted top 16
    assert memory[:, :, 8].sum(1).eq(20).all()


def test_sort_by_placement_rows_and_collisions():
    inputs = torch.zeros(4, 1, 4)                                                    # W = 2: data, priority, delimiter
    inputs[:3, 0, :2] = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    inputs[:3, 0, 2] = torch.tensor([1.0, 0.5, 0.5])                                 # the last two collide
    outputs, memory, rows = sort_by_placement(inputs, N=5, n_inputs=3, n_outputs=3)
    assert rows[:, 0].tolist() == [0, 1, 1]                                          # (1 - p) / 2 * 4, rounded
    assert outputs[:, 0].tolist() == [[1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]           # the later write won; then empty
    with pytest.raises(ValueError, match="n_outputs <= n_inputs"):
        sort_by_placement(inputs, n_inputs=3, n_outputs=4)
