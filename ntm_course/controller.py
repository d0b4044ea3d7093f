"""Controllers: the network that reads the input and the read vectors and drives the heads.

Both controllers map ``x (B, input_size)`` and a state to ``h (B, output_size)`` and a new state.
"""
import torch
from torch import nn


def _check_sizes(input_size, hidden_size, num_layers):
    if input_size < 1 or hidden_size < 1 or num_layers < 1:
        raise ValueError(f"controller sizes must be positive, got input_size={input_size}, "
                         f"hidden_size={hidden_size}, num_layers={num_layers}")


class LSTMController(nn.Module):
    """A stack of LSTM cells. State: a tuple of ``(h, c)`` pairs, each ``(B, hidden_size)``."""

    def __init__(self, input_size, hidden_size=100, num_layers=1):
        super().__init__()
        _check_sizes(input_size, hidden_size, num_layers)
        sizes = [input_size] + [hidden_size] * num_layers
        self.cells = nn.ModuleList(nn.LSTMCell(i, hidden_size) for i in sizes[:-1])
        self.output_size = hidden_size

    def initial_state(self, batch_size, device=None, dtype=None):
        """Zeros for every layer: a tuple of ``((B, H), (B, H))`` pairs."""
        zeros = torch.zeros(batch_size, self.output_size, device=device, dtype=dtype)
        return tuple((zeros, zeros) for _ in self.cells)

    def forward(self, x, state):
        new_state = []
        for cell, hc in zip(self.cells, state):
            h, c = cell(x, hc)
            new_state.append((h, c))
            x = h
        return x, tuple(new_state)


class FeedForwardController(nn.Module):
    """Fully connected layers with ReLU; stateless (its state is ``()``), so all memory is the NTM's."""

    def __init__(self, input_size, hidden_size=100, num_layers=1):
        super().__init__()
        _check_sizes(input_size, hidden_size, num_layers)
        layers = []
        for i in range(num_layers):
            layers += [nn.Linear(input_size if i == 0 else hidden_size, hidden_size), nn.ReLU()]
        self.net = nn.Sequential(*layers)
        self.output_size = hidden_size

    def initial_state(self, batch_size, device=None, dtype=None):
        return ()

    def forward(self, x, state):
        return self.net(x), state


CONTROLLERS = {"lstm": LSTMController, "feedforward": FeedForwardController}


def make_controller(kind, input_size, hidden_size=100, num_layers=1):
    """Build a controller by name: ``"lstm"`` or ``"feedforward"``."""
    if kind not in CONTROLLERS:
        raise ValueError(f"controller must be one of {sorted(CONTROLLERS)}, got {kind!r}")
    return CONTROLLERS[kind](input_size, hidden_size, num_layers)
