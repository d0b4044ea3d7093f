"""Controllers: a stack of LSTM cells or of ReLU layers, one step at a time."""
import pytest
import torch
from torch import nn

from ntm_course.controller import FeedForwardController, LSTMController, make_controller


def test_lstm_controller_is_a_stack_of_lstm_cells():
    ctrl = LSTMController(input_size=3, hidden_size=4, num_layers=2)
    x = torch.randn(2, 3)
    state = ctrl.initial_state(2)
    assert len(state) == 2 and all(h.shape == c.shape == (2, 4) and not h.any() for h, c in state)
    out, new_state = ctrl(x, state)
    # the same computation by hand: layer 1 on x, layer 2 on layer 1's h
    h1, c1 = ctrl.cells[0](x, state[0])
    h2, c2 = ctrl.cells[1](h1, state[1])
    torch.testing.assert_close(out, h2)
    for got, want in zip(new_state, ((h1, c1), (h2, c2))):
        torch.testing.assert_close(got[0], want[0])
        torch.testing.assert_close(got[1], want[1])
    assert ctrl.output_size == 4


def test_lstm_controller_state_carries_over():
    ctrl = LSTMController(3, 4)
    x = torch.randn(2, 3)
    out1, state = ctrl(x, ctrl.initial_state(2))
    out2, _ = ctrl(x, state)
    assert not torch.allclose(out1, out2)


def test_feedforward_controller_is_stateless_relu_layers():
    ctrl = FeedForwardController(input_size=3, hidden_size=4, num_layers=2)
    assert ctrl.initial_state(2) == ()
    x = torch.randn(5, 3)
    out, state = ctrl(x, ())
    lin1, lin2 = [m for m in ctrl.net if isinstance(m, nn.Linear)]
    torch.testing.assert_close(out, torch.relu(lin2(torch.relu(lin1(x)))))
    assert state == () and ctrl.output_size == 4


@pytest.mark.parametrize("kind", ["lstm", "feedforward"])
def test_make_controller_and_dtype(kind):
    ctrl = make_controller(kind, 3, 4).double()
    state = ctrl.initial_state(2, dtype=torch.float64)
    out, _ = ctrl(torch.randn(2, 3, dtype=torch.float64), state)
    assert out.shape == (2, 4) and out.dtype == torch.float64


def test_lstm_initial_state_follows_dtype():
    h, c = LSTMController(3, 4).initial_state(2, dtype=torch.float64)[0]
    assert h.dtype == c.dtype == torch.float64


def test_unknown_controller():
    with pytest.raises(ValueError, match=r"controller must be one of \['feedforward', 'lstm'\], got 'gru'"):
        make_controller("gru", 3, 4)


@pytest.mark.parametrize("cls", [LSTMController, FeedForwardController])
@pytest.mark.parametrize("sizes", [(3, 4, 0), (3, 0, 1), (0, 4, 1)])
def test_sizes_must_be_positive(cls, sizes):
    with pytest.raises(ValueError, match=r"controller sizes must be positive, got input_size=\d+, "
                                         r"hidden_size=\d+, num_layers=\d+"):
        cls(*sizes)
