"""Input checks shared by every public function.

Each check raises a ``ValueError`` that names the argument, the expected shape and the shape it got,
so a learner sees ``w must have shape (B, N) = (2, 8), got (2, 7)`` rather than a broadcasting error
from deep inside torch.
"""
import torch


def _fmt(shape):
    return "(" + ", ".join(str(s) for s in shape) + ")"


def check_tensor(name, x, ndim, dims="", expected=None):
    """Check that ``x`` is a floating tensor with ``ndim`` dimensions and, optionally, an expected shape.

    ``dims`` names the dimensions (e.g. ``"B, N, M"``) for the message; ``expected`` holds the expected
    size of each dimension, ``None`` where any size will do.
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor of shape ({dims}), got {type(x).__name__}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor (float32 or float64) of shape ({dims}), "
                         f"got {x.dtype} {_fmt(x.shape)}")
    if x.dim() != ndim:
        raise ValueError(f"{name} must have shape ({dims}), got {x.dim()} dimensions {_fmt(x.shape)}")
    if expected is not None and any(e is not None and e != s for e, s in zip(expected, x.shape)):
        want = _fmt("?" if e is None else e for e in expected)
        raise ValueError(f"{name} must have shape ({dims}) = {want}, got {_fmt(x.shape)}")
    return x


def check_memory(memory):
    """Memory must be ``(B, N, M)``. Returns ``(B, N, M)``."""
    check_tensor("memory", memory, 3, "B, N, M")
    return tuple(memory.shape)


def check_same_device_dtype(**tensors):
    """All tensors share one device and dtype; the message lists what each argument has."""
    items = list(tensors.items())
    first = items[0][1]
    if any(t.device != first.device or t.dtype != first.dtype for _, t in items[1:]):
        got = ", ".join(f"{n}: {t.dtype} {_fmt(t.shape)} on {t.device}" for n, t in items)
        raise ValueError(f"arguments must share one dtype and device, got {got}")


def check_lead(name, x, dims):
    """A per-head tensor in the single-head form ``(B, dims)`` or the heads form ``(B, H, dims)``.

    Returns the leading sizes, ``(B,)`` or ``(B, H)``, that the other arguments of the call must share.
    """
    if isinstance(x, torch.Tensor) and x.dim() == 3:
        return tuple(check_tensor(name, x, 3, f"B, H, {dims}").shape[:2])
    return tuple(check_tensor(name, x, 2, f"B, {dims}").shape[:1])


def check_heads(name, x, lead, dims, size=None):
    """``x`` must be ``(*lead, size)``: the leading sizes from :func:`check_lead`, then ``size`` (any if None)."""
    prefix = "B, H, " if len(lead) == 2 else "B, "
    return check_tensor(name, x, len(lead) + 1, prefix + dims, (*lead, size))
