"""The README's Python example runs as written: the guide to the NTM as a layer of your own model cannot rot.

Each ```python block of README.md is executed in a fresh namespace; the checks below hold what the prose
around the NTM guide claims beyond the block's own asserts."""
import re
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
BLOCKS = re.findall(r"^```python\n(.*?)^```$", (ROOT / "README.md").read_text(), re.S | re.M)


def run(block):
    torch.manual_seed(0)
    namespace = {"__name__": "readme"}
    exec(compile(block, "README.md", "exec"), namespace)
    return namespace


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_python_blocks_run(block):
    run(block)


def test_the_ntm_layer_guide_does_what_its_prose_says():
    guide = [block for block in BLOCKS if "ntm_course.NTM(" in block]
    assert len(guide) == 1, "README.md holds one guide to the NTM as a layer"
    ns = run(guide[0])
    model, tokens, cell, device = ns["model"], ns["tokens"], ns["cell"], ns["device"]
    # it trained one step: Adam holds a step for every parameter, the NTM's included
    assert all(ns["optimizer"].state[p]["step"] == 1 for p in model.parameters())
    with torch.no_grad():
        x = model.embed(tokens)
        assert torch.equal(model(tokens), model(tokens))                           # each call starts afresh
        torch.testing.assert_close(ns["y_t"], model.ntm(x)[-1])                    # stepping the cell = a call
        assert cell.initial_state(2).memory.device.type == device.type             # the state follows .to()
    trace = ns["trace"]
    assert {"read_weights", "write_weights", "reads", "erase", "add", "memory", "read_key", "read_beta"} <= set(trace)
    assert all(v.shape[:2] == (10, 4) for v in trace.values())                    # every step, every example
