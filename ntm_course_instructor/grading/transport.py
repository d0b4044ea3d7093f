"""Values across the process boundary: what the worker sends back and how the grader loads it, as data only.

The worker saves each check's result with :func:`pack`: plain CPU tensors, numbers, strings, tuples, lists and
str-keyed dicts (anything else becomes a marker naming its type). The grader loads the file with
:func:`load_results` (``torch.load(..., weights_only=True)``, no links, size-capped) and rejects anything but
those plain values (:class:`Rejected`); :func:`outcomes_from` turns them back into the checker's outcomes. The
worker's answers are data, never code.
"""
import os
import stat


MAX_LEAVES = 2000
MAX_ELEMENTS = 4_000_000
FOREIGN, DEVICE = "__foreign__", "__device__"


def pack(x, depth=0, count=None):
    """A plain copy of a learner's value: CPU tensors, numbers, strings, tuples, lists and str-keyed dicts;
    anything else becomes ``{FOREIGN: type name}``."""
    import torch
    count = [0] if count is None else count
    count[0] += 1
    if count[0] > MAX_LEAVES or depth > 8:
        return {FOREIGN: "too large a result"}
    if isinstance(x, torch.Tensor):
        if x.layout != torch.strided:
            return {FOREIGN: f"{x.layout} tensor"}
        if x.numel() > MAX_ELEMENTS:
            return {FOREIGN: "too large a tensor"}
        if x.device.type != "cpu":
            return {DEVICE: str(x.device), "shape": list(x.shape), "dtype": str(x.dtype).replace("torch.", "")}
        return x.detach().clone().as_subclass(torch.Tensor)
    if isinstance(x, bool):
        return bool(x)
    if isinstance(x, int):
        return int(x)
    if isinstance(x, float):
        return float(x)
    if isinstance(x, str):
        return str.__str__(x)[:10000]
    if x is None:
        return None
    if isinstance(x, tuple):
        return tuple(pack(v, depth + 1, count) for v in x)
    if isinstance(x, list):
        return [pack(v, depth + 1, count) for v in x]
    if isinstance(x, dict) and all(isinstance(k, str) for k in x):
        return {str(k): pack(v, depth + 1, count) for k, v in x.items()}
    try:
        name = type(x).__name__
    except Exception:
        name = "object"
    return {FOREIGN: str(name)[:60]}


def _error(error):
    try:
        message = str(error)
    except Exception:
        message = "(its message could not be read)"
    return [type(error).__name__[:60], message[:1000]]


def pack_outcome(outcome):
    import torch
    return {"got": pack(outcome.got),
            "args": [pack(a) if isinstance(a, torch.Tensor) else None for a in (outcome.args or ())],
            "error": None if outcome.error is None else _error(outcome.error),
            "notimpl": bool(outcome.not_implemented)}


def pack_gradient(outcome):
    return {"grads": None if outcome.grads is None else [pack(g) for g in outcome.grads],
            "error": None if outcome.error is None else _error(outcome.error)}


class Rejected(Exception):
    """A worker sent back something other than plain values."""


def _check_plain(x, depth=0):
    import torch
    if depth > 16:   # pack stops at depth 8, and its marker can sit at depth 13 of a result
        raise Rejected("nested too deeply")
    if type(x) is torch.Tensor:
        if x.layout != torch.strided or x.device.type != "cpu":
            raise Rejected("a tensor of an unusual kind")
        return
    if x is None or type(x) in (bool, int, float, str):
        return
    if type(x) in (tuple, list):
        for v in x:
            _check_plain(v, depth + 1)
        return
    if type(x) is dict:
        for k, v in x.items():
            if type(k) is not str:
                raise Rejected("a dict key that is not a string")
            _check_plain(v, depth + 1)
        return
    raise Rejected(f"a value of type {type(x).__name__}")


def unpack(x):
    """The grader's side of :func:`pack`: markers become :class:`.checker.Foreign` or meta tensors."""
    import torch

    from ntm_course.teaching.practice.checker import Foreign
    if isinstance(x, dict):
        if FOREIGN in x and len(x) == 1:
            return Foreign(x[FOREIGN])
        if DEVICE in x:
            try:   # stands for a tensor left on another device: same shape and dtype, on "meta"
                return torch.empty(x["shape"], dtype=getattr(torch, x["dtype"]), device="meta")
            except Exception:
                return Foreign(f"tensor on {x[DEVICE]}")
        return {k: unpack(v) for k, v in x.items()}
    if isinstance(x, tuple):
        return tuple(unpack(v) for v in x)
    if isinstance(x, list):
        return [unpack(v) for v in x]
    return x


def load_results(path, max_bytes=256 * 2 ** 20):
    """Load and check one result file written by a worker: a dict of plain values. Raises :class:`Rejected`
    for anything else (never runs code from the file: ``weights_only=True``, no symlinks, size-capped, and a FIFO
    or a folder that a submission put in its place is rejected without blocking)."""
    import torch
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as error:
        raise Rejected(f"unreadable ({error.strerror})")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Rejected("not a file")
        if info.st_size > max_bytes:
            raise Rejected("too large")
        f = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with f:
        try:
            data = torch.load(f, weights_only=True, map_location="cpu")
        except Exception as error:
            raise Rejected(f"not a valid result file ({type(error).__name__})")
    _check_plain(data)
    if not isinstance(data, dict):
        raise Rejected("not a dict")
    return data


def outcomes_from(data):
    """``{group: [Outcome or GradOutcome]}`` from a loaded result's ``"outcomes"``."""
    from ntm_course.teaching.practice.checker import GradOutcome, Outcome, rebuild_error
    found = {}
    for group, items in (data.get("outcomes") or {}).items():
        if not isinstance(items, list):
            continue
        outs = []
        for item in items:
            if not isinstance(item, dict):
                outs.append(None)
                continue
            err = item.get("error")
            error = rebuild_error(*err[:2]) if isinstance(err, list) and len(err) >= 2 else None
            if group == "gradients":
                grads = item.get("grads")
                outs.append(GradOutcome(grads=None if grads is None else unpack(grads), error=error))
            else:
                args = item.get("args")
                outs.append(Outcome(got=unpack(item.get("got")), args=unpack(args) if isinstance(args, list) else None,
                                    error=error, not_implemented=bool(item.get("notimpl"))))
        found[group] = outs
    return found
