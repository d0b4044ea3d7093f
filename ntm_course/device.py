"""Pick the device and make runs reproducible."""
import random

import torch


def get_device(prefer=None):
    """Return ``torch.device('cuda')`` when a GPU is present, else ``cpu``.

    ``prefer`` ("cpu" or "cuda") overrides the choice; asking for cuda without a GPU is an error.
    """
    if prefer is not None:
        try:
            device = torch.device(prefer)
        except (RuntimeError, TypeError):
            raise ValueError(f"prefer must name a device such as 'cpu' or 'cuda', got {prefer!r}") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError("prefer='cuda' but no CUDA device is available; use 'cpu'")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def seed_everything(seed):
    """Seed Python's and torch's generators (CPU and all GPUs); returns ``seed``."""
    random.seed(seed)
    torch.manual_seed(seed)
    return seed
