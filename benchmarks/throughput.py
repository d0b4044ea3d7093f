"""Training-step throughput of the NTM on the copy task, next to an nn.LSTM of the same hidden size.

Measures sequences per second of a full training step (forward, loss, backward, Adam update) at batch
sizes 1 and 32 on copy episodes of length 20 (41 time steps), for the paper's NTM (LSTM controller of 100
units, memory 128 x 20, one read and one write head) and for a one-layer ``nn.LSTM`` of 100 units with a
linear output, both measured here in the same process, and prints their ratio.

    python benchmarks/throughput.py [--seconds 10] [--threads N]
"""
import argparse
import time

import torch
from torch import nn

from ntm_course.tasks import bits_per_sequence, copy
from ntm_course.training import build_model, make_config


class PlainLSTM(nn.Module):
    def __init__(self, input_size, output_size, hidden_size):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size)
        self.output = nn.Linear(hidden_size, output_size)

    def forward(self, x):
        return self.output(self.lstm(x)[0])


def sequences_per_second(model, batch, seconds):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step():
        loss = bits_per_sequence(model(batch.inputs), batch.targets, batch.mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()  # warm-up
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        steps += 1
    return steps * batch.inputs.shape[1] / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="time per measurement")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, length 20 (41 steps)")
    print("| batch | NTM sequences/s | nn.LSTM(100) sequences/s | NTM / LSTM |")
    print("|---|---|---|---|")
    for batch_size in (1, 32):
        batch = copy(batch_size, 20, 20, generator=torch.Generator().manual_seed(0))
        ntm = build_model(make_config("copy"))
        lstm = PlainLSTM(batch.inputs.shape[2], batch.targets.shape[2], 100)
        a = sequences_per_second(ntm, batch, args.seconds)
        b = sequences_per_second(lstm, batch, args.seconds)
        print(f"| {batch_size} | {a:.1f} | {b:.1f} | {a / b:.3f} |", flush=True)


if __name__ == "__main__":
    main()
