"""The NTM cell (one step), the sequence model with its trace, and the LSTM baseline."""
import pytest
import torch
from torch.autograd import gradcheck
from torch.func import functional_call

from ntm_course import NTM, LSTMBaseline, NTMCell, count_parameters, seed_everything
from ntm_course.ntm import NTMState

SMALL = dict(controller_size=8, N=6, M=4)


def batch(T=5, B=3, width=4, dtype=torch.float32):
    return torch.randn(T, B, width, dtype=dtype)


# ---------------------------------------------------------------- one step

def test_initial_state_shapes_and_focus():
    cell = NTMCell(4, 2, num_read_heads=2, num_write_heads=3, **SMALL)
    state = cell.initial_state(5)
    assert state.memory.shape == (5, 6, 4)
    assert state.reads.shape == (5, 2, 4) and not state.reads.any()
    assert state.read_weights.shape == (5, 2, 6) and state.write_weights.shape == (5, 3, 6)
    # every head starts focused on row 0
    torch.testing.assert_close(state.read_weights[..., 0], torch.ones(5, 2), atol=1e-6, rtol=0)
    torch.testing.assert_close(state.write_weights[..., 0], torch.ones(5, 3), atol=1e-6, rtol=0)
    assert len(state.controller) == 1 and state.controller[0][0].shape == (5, 8)


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_step_shapes_and_info(controller):
    cell = NTMCell(4, 2, controller=controller, num_read_heads=2, num_write_heads=2, **SMALL)
    state = cell.initial_state(3)
    y, new, info = cell(torch.randn(3, 4), state)
    assert y.shape == (3, 2)
    assert new.memory.shape == (3, 6, 4) and new.reads.shape == (3, 2, 4)
    params = {f"{kind}_{name}": (3, 2, size) for kind in ("read", "write")
              for name, size in (("key", 4), ("beta", 1), ("g", 1), ("s", 3), ("gamma", 1))}
    assert {k: tuple(v.shape) for k, v in info.items()} == {
        "write_weights": (3, 2, 6), "erase": (3, 2, 4), "add": (3, 2, 4), "read_weights": (3, 2, 6),
        "reads": (3, 2, 4), **params}
    torch.testing.assert_close(new.read_weights.sum(-1), torch.ones(3, 2))
    assert not torch.equal(new.memory, state.memory)                 # the write heads wrote
    # without recording, only the weightings and vectors the step needs anyway
    _, again, lean = cell(torch.randn(3, 4), state, record=False)
    assert set(lean) == {"write_weights", "erase", "add", "read_weights", "reads"}


def test_step_reads_the_memory_after_this_steps_write():
    cell = NTMCell(4, 2, **SMALL)
    _, new, info = cell(torch.randn(3, 4), cell.initial_state(3))
    expected = torch.bmm(info["read_weights"], new.memory)            # eq. 2 for every read head
    torch.testing.assert_close(info["reads"], expected)


def test_no_write_heads_leaves_memory_as_it_was():
    cell = NTMCell(4, 2, num_write_heads=0, memory_init="random", **SMALL)
    state = cell.initial_state(2)
    _, new, info = cell(torch.randn(2, 4), state)
    assert torch.equal(new.memory, state.memory)
    assert "write_weights" not in info


@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_gradcheck_one_full_step(controller):
    """float64 gradcheck of one step with respect to the input, the carried state and every parameter.

    The full Jacobian is checked for the input and the state; for all ~400 parameters together, fast_mode
    compares random projections of the Jacobian (a full numerical one takes long on a small CPU).
    """
    cell = NTMCell(3, 2, controller=controller, controller_size=4, N=4, M=3, num_read_heads=2,
                   num_write_heads=2).double()
    names = [n for n, _ in cell.named_parameters()]
    _, state, _ = cell(torch.randn(2, 3, dtype=torch.float64), cell.initial_state(2))  # a state off its start
    carried = [t.detach().clone().requires_grad_() for t in (state.memory, state.reads, state.read_weights,
                                                              state.write_weights)]
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    params = [p.detach().clone().requires_grad_() for p in cell.parameters()]

    def step(x, memory, reads, read_weights, write_weights, *params):
        start = NTMState(memory, reads, read_weights, write_weights, state.controller)
        y, new, _ = functional_call(cell, dict(zip(names, params)), (x, start))
        return y, new.memory, new.reads, new.read_weights, new.write_weights

    assert gradcheck(lambda *inputs: step(*inputs, *params), (x, *carried))
    assert gradcheck(step, (x, *carried, *params), fast_mode=True)


def test_check_input_of_a_step():
    cell = NTMCell(4, 2, **SMALL)
    state = cell.initial_state(3)
    with pytest.raises(ValueError, match=r"x must have shape \(B, input_size\) = \(3, 4\), got \(2, 4\)"):
        cell(torch.randn(2, 4), state)
    with pytest.raises(ValueError, match=r"x must have shape \(B, input_size\) = \(3, 4\), got \(3, 5\)"):
        cell(torch.randn(3, 5), state)
    with pytest.raises(ValueError, match=r"x: torch.float64 \(3, 4\) on cpu, memory: torch.float32 \(3, 6, 4\)"):
        cell(torch.randn(3, 4, dtype=torch.float64), state)


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_read_heads=0), r"need at least one read head .* num_read_heads=0, num_write_heads=1"),
    (dict(num_write_heads=-1), r"num_read_heads=1, num_write_heads=-1"),
    (dict(controller="rnn"), r"controller must be one of \['feedforward', 'lstm'\], got 'rnn'"),
    (dict(memory_init="ones"), r"scheme must be one of .* got 'ones'"),
    (dict(shift_width=2), r"K must be odd and positive, got K=2"),
])
def test_cell_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        NTMCell(4, 2, **{**SMALL, **kwargs})


# ---------------------------------------------------------------- whole sequences

@pytest.mark.parametrize("controller", ["lstm", "feedforward"])
def test_forward_backward_reaches_every_parameter(controller):
    model = NTM(4, 3, controller=controller, num_read_heads=2, num_write_heads=2, memory_init="learned", **SMALL)
    x = batch()
    logits = model(x)
    assert logits.shape == (5, 3, 3)
    torch.nn.functional.binary_cross_entropy_with_logits(logits, torch.rand(5, 3, 3)).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None, name
        assert torch.isfinite(p.grad).all(), name
        assert p.grad.abs().sum() > 0, name


def test_trace_has_the_documented_shapes():
    T, B, R, W, N, M = 5, 3, 2, 3, 6, 4
    model = NTM(4, 2, num_read_heads=R, num_write_heads=W, **SMALL)
    logits, trace = model.trace(batch(T, B))
    assert logits.shape == (T, B, 2)
    K = 3
    params = {f"{kind}_{name}": (T, B, H, size) for kind, H in (("read", R), ("write", W))
              for name, size in (("key", M), ("beta", 1), ("g", 1), ("s", K), ("gamma", 1))}
    assert {k: tuple(v.shape) for k, v in trace.items()} == {
        "read_weights": (T, B, R, N), "write_weights": (T, B, W, N), "reads": (T, B, R, M),
        "erase": (T, B, W, M), "add": (T, B, W, M), "memory": (T, B, N, M), **params}
    # the memory recorded at each step is the one the read heads read from
    torch.testing.assert_close(trace["reads"], torch.einsum("tbrn,tbnm->tbrm", trace["read_weights"],
                                                            trace["memory"]))


def test_trace_records_without_changing_the_logits():
    model = NTM(4, 2, num_write_heads=2, **SMALL)
    x = batch()
    logits, trace = model.trace(x)
    torch.testing.assert_close(model(x), logits, rtol=0, atol=0)
    plain, empty = model.trace(x, record=False)
    torch.testing.assert_close(plain, logits, rtol=0, atol=0)
    assert empty == {}


def test_every_episode_starts_from_the_initial_state_and_is_causal():
    model = NTM(4, 2, **SMALL)
    x = batch()
    torch.testing.assert_close(model(x), model(x), rtol=0, atol=0)
    torch.testing.assert_close(model(x[:2]), model(x)[:2], rtol=0, atol=0)     # y_t sees only x_1 .. x_t


@pytest.mark.parametrize("b", [0, 1, 2])
def test_batch_elements_never_influence_each_other(b):
    model = NTM(4, 2, num_read_heads=2, num_write_heads=2, **SMALL)
    x = batch(B=3)
    perturbed = x.clone()
    perturbed[:, b] += 1.0
    before, after = model(x), model(perturbed)
    others = [i for i in range(3) if i != b]
    torch.testing.assert_close(after[:, others], before[:, others], rtol=0, atol=0)
    assert not torch.allclose(after[:, b], before[:, b])
    # and a batch of one gives the same numbers as that example inside the batch
    torch.testing.assert_close(model(x[:, b:b + 1]), before[:, b:b + 1])


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("memory_init", ["constant", "learned", "random"])
def test_dtype_follows_the_model_and_inputs(dtype, memory_init):
    model = NTM(4, 2, memory_init=memory_init, **SMALL).to(dtype)
    logits, trace = model.trace(batch(dtype=dtype))
    assert logits.dtype == dtype and trace["memory"].dtype == dtype


def test_same_seed_gives_same_outputs():
    def run():
        seed_everything(123)
        model = NTM(4, 2, memory_init="random", **SMALL)
        return model(batch())
    a, b = run(), run()
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    seed_everything(124)
    assert not torch.allclose(NTM(4, 2, memory_init="random", **SMALL)(batch()), a)


def test_fixed_initial_state_is_not_learned():
    learned = NTM(4, 2, **SMALL)
    fixed = NTM(4, 2, learn_initial_state=False, **SMALL)
    # the learned one adds R x M initial read values and (R + W) x N initial weighting logits
    assert count_parameters(learned) - count_parameters(fixed) == 1 * 4 + 2 * 6
    assert "cell.reads0" in dict(fixed.named_buffers())
    assert fixed(batch()).shape == (5, 3, 2)


@pytest.mark.parametrize("x, message", [
    (torch.randn(5, 3), r"x must have shape \(T, B, input_size\), got 2 dimensions \(5, 3\)"),
    (torch.randn(5, 3, 7), r"x must have shape \(T, B, input_size\) = \(\?, \?, 4\), got \(5, 3, 7\)"),
    (torch.zeros(5, 3, 4, dtype=torch.long), r"x must be a floating-point tensor .* torch.int64 \(5, 3, 4\)"),
    (torch.randn(0, 3, 4), r"x must hold at least one time step, got shape \(0, 3, 4\)"),
    (torch.randn(5, 3, 4, dtype=torch.float64), r"x: torch.float64 \(5, 3, 4\) on cpu, memory: torch.float32"),
    ([[0.0]], r"x must be a torch.Tensor"),
    (torch.randn(5, 3, 4, device="meta"), r"x: torch.float32 \(5, 3, 4\) on meta, memory: torch.float32 \(3, 6, 4\)"),
])
def test_ntm_bad_input(x, message):
    with pytest.raises(ValueError, match=message):
        NTM(4, 2, **SMALL)(x)


# ---------------------------------------------------------------- baseline and sizes

def test_lstm_baseline_forward_backward():
    model = LSTMBaseline(4, 2, hidden_size=8, num_layers=3)
    logits = model(batch())
    assert logits.shape == (5, 3, 2)
    logits.square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    with pytest.raises(ValueError, match=r"x must have shape \(T, B, input_size\) = \(\?, \?, 4\), got \(5, 3, 3\)"):
        model(torch.randn(5, 3, 3))
    with pytest.raises(ValueError, match=r"x: torch.float64 \(5, 3, 4\) on cpu, output_weight: torch.float32"):
        model(batch(dtype=torch.float64))


def test_parameter_counts_by_hand():
    # the paper's copy task sizes: 8 bits + delimiter in, 8 bits out, memory 128 x 20, K = 3, controller 100
    ff = NTM(9, 8, controller="feedforward", controller_size=100, N=128, M=20)
    controller = (9 + 20) * 100 + 100            # [x, r] -> 100
    read_head = 100 * (20 + 3 + 3) + (20 + 3 + 3)           # key, beta, g, s (3), gamma
    write_head = 100 * (3 * 20 + 3 + 3) + (3 * 20 + 3 + 3)  # ... and erase, add
    output = (100 + 20) * 8 + 8                  # [h, r] -> y
    initial = 20 + 2 * 128                       # initial read vector and two weighting logits
    assert count_parameters(ff) == controller + read_head + write_head + output + initial == 13_536

    lstm = NTM(9, 8, controller="lstm", controller_size=100, N=128, M=20)
    assert count_parameters(lstm) == 4 * 100 * (29 + 100 + 2) + read_head + write_head + output + initial

    # 3 x 256 LSTM baseline: 4 gates x 256 x (inputs + 256 recurrent + 2 biases) per layer
    baseline = LSTMBaseline(9, 8, hidden_size=256, num_layers=3)
    assert count_parameters(baseline) == 4 * 256 * (9 + 256 + 2) + 2 * 4 * 256 * (512 + 2) + 256 * 8 + 8


def test_count_parameters_skips_frozen_ones():
    model = LSTMBaseline(4, 2, hidden_size=8, num_layers=1)
    total = count_parameters(model)
    model.output.weight.requires_grad_(False)
    assert count_parameters(model) == total - 2 * 8


def test_a_sequence_equals_the_cell_run_step_by_step():
    """NTM.trace checks once and applies the output layer to the whole sequence: the same numbers as the cell."""
    seed_everything(0)
    model = NTM(4, 2, num_read_heads=2, num_write_heads=2, **SMALL).double()
    x = torch.randn(5, 3, 4, dtype=torch.float64)
    logits, trace = model.trace(x)
    state = model.cell.initial_state(3)
    for t in range(5):
        y, state, info = model.cell(x[t], state)
        torch.testing.assert_close(y, logits[t])
        for name, value in info.items():
            torch.testing.assert_close(value, trace[name][t], msg=name)


def test_the_cell_checks_the_state_it_is_given():
    cell = NTMCell(4, 2, num_read_heads=2, **SMALL)
    state = cell.initial_state(3)
    with pytest.raises(ValueError, match=r"state.read_weights must have shape \(B, R, N\) = \(3, 2, 6\), got \(3, 1, 6\)"):
        cell(torch.randn(3, 4), state._replace(read_weights=state.read_weights[:, :1]))
    with pytest.raises(ValueError, match=r"state must be an NTMState"):
        cell(torch.randn(3, 4), tuple(state))


def test_an_ntm_with_random_memory_is_reproducible_and_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    model = NTM(3, 2, controller_size=8, N=6, M=4, memory_init="random")
    x = torch.randn(5, 2, 3)
    state = torch.get_rng_state()
    y1 = model(x, generator=torch.Generator().manual_seed(1))
    y2 = model(x, generator=torch.Generator().manual_seed(1))
    assert torch.equal(torch.get_rng_state(), state)
    torch.testing.assert_close(y1, y2, rtol=0, atol=0)
    assert not torch.equal(model(x), y1)
