"""Shared test set-up: a hypothesis profile sized for a small shared CPU, and a fixed seed per test."""
import os

import pytest
import torch
from hypothesis import settings

# deadline=None: a loaded 2-core machine makes per-example timing meaningless.
settings.register_profile("ntm", deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ntm"))

# The tests use tiny tensors: on a busy machine waking torch's intra-op threads costs far more than the
# work itself (a 2 x 4 softmax went from 0.004 ms to 16 ms on the shared 2-core box), so use one thread.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same torch seed, so a failure reproduces."""
    torch.manual_seed(0)
