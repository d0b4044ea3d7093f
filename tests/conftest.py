"""Shared test set-up: a hypothesis profile sized for a small shared CPU, and a fixed seed per test."""
import os
import tempfile

import pytest
import torch
from hypothesis import settings

# deadline=None: a loaded 2-core machine makes per-example timing meaningless.
settings.register_profile("ntm", deadline=None, max_examples=50)
settings.register_profile("thorough", deadline=None, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ntm"))

# Pieces a learner saves in the lessons (ntm_course.lesson) go to a fresh folder per test run, never to the
# user's own ~/.ntm_course: every untouched lesson then runs on the course's pieces. Kernels inherit it.
os.environ["NTM_COURSE_MINE"] = tempfile.mkdtemp(prefix="ntm-course-mine-")

# The tests use tiny tensors: on a busy machine waking torch's intra-op threads costs far more than the
# work itself (a 2 x 4 softmax went from 0.004 ms to 16 ms on the shared 2-core box), so use one thread.
torch.set_num_threads(1)


@pytest.fixture(autouse=True)
def _seed():
    """Every test starts from the same torch seed, so a failure reproduces."""
    torch.manual_seed(0)
