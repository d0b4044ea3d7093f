"""Shared test set-up: a hypothesis profile sized for a small shared CPU, and a fixed seed per test."""
import os

import pytest
import torch
from hypothesis import settings

# deadline=None: a loaded 2-core machine makes per-example timing meaningless.
settings.register_profile("ntm", deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ntm"))


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same torch seed, so a failure reproduces."""
    torch.manual_seed(0)
