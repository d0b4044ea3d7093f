"""Comparing a learner's result with the reference's, and showing both: :func:`compare` finds the first value
that differs (and what kind of difference it is), :func:`format_failure` writes a failed case for the report."""
import copy
import math
import textwrap

import numpy as np
import torch

from .results import Foreign, type_name


TOLERANCES = {torch.float32: dict(rtol=1e-4, atol=1e-5), torch.float64: dict(rtol=1e-7, atol=1e-9)}
BRIEF_ELEMENTS = 24     # in a long report, tensors with more elements are summarised


def clone(x):
    """A deep copy of a case's inputs, so the learner never touches the originals."""
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, (tuple, list)):
        return type(x)(clone(v) for v in x)
    if isinstance(x, dict):
        return {k: clone(v) for k, v in x.items()}
    return copy.deepcopy(x)


def leaves(x, path="result"):
    """``[(path, value)]`` for the tensors and numbers in a (nested) tuple, list or dict."""
    if isinstance(x, dict):
        return [leaf for k, v in x.items() for leaf in leaves(v, f"{path}[{k!r}]")]
    if isinstance(x, (tuple, list)):
        return [leaf for i, v in enumerate(x) for leaf in leaves(v, f"{path}[{i}]")]
    return [(path, x)]


def _shape(x):
    return "(" + ", ".join(str(s) for s in x.shape) + ")"


def _is_numpy(x):
    return isinstance(x, np.ndarray) or (isinstance(x, Foreign) and x.type_name == "ndarray")


def _compare_number(path, expected, got):
    if isinstance(got, torch.Tensor) and got.numel() == 1:
        got = got.detach().cpu().item() if got.device.type != "meta" else got
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return "type", f"{path} should be a number, got {type_name(got)}"
    if not math.isclose(got, expected, rel_tol=1e-5, abs_tol=1e-7):
        return "values", f"{path} is {got:.6g}, expected {expected:.6g}"
    return None


def _compare_leaf(path, expected, got):
    """None when ``got`` matches ``expected`` (a tensor or a number), else ``(kind, message)``."""
    if isinstance(expected, (int, float)):
        return _compare_number(path, expected, got)
    if _is_numpy(got):
        return "numpy", f"{path} is a NumPy array; return a torch.Tensor"
    if not isinstance(got, torch.Tensor):
        return "type", f"{path} should be a torch.Tensor, got {type_name(got)}"
    if got.device != expected.device:
        return "device", f"{path} is on {got.device}, expected on {expected.device} like the inputs"
    if got.shape != expected.shape:
        return "shape", f"{path} has shape {_shape(got)}, expected {_shape(expected)}"
    if got.dtype != expected.dtype:
        return "dtype", f"{path} is {got.dtype}, expected {expected.dtype} like the inputs"
    got, expected = got.detach(), expected.detach()
    if bool((torch.isnan(got) & ~torch.isnan(expected)).any()):
        return "nan", f"{path} contains NaN"
    if not torch.allclose(got, expected, equal_nan=True, **TOLERANCES[expected.dtype]):
        diff = (got - expected).abs().nan_to_num(nan=float("inf")).max().item()
        return "values", f"{path} differs from the expected values (largest difference {diff:.3g})"
    return None


def compare(expected, got):
    """None when the structures and all leaves match, else ``(kind, message)`` for the first difference."""
    found = first_difference(expected, got)
    return found and found[:2]


def _structure_difference(expected, got):
    """None when ``got`` has ``expected``'s structure (a dict's keys, a tuple's length), else ``(kind, message)``."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return "type", f"result should be a dict with keys {list(expected)}, got {type_name(got)}"
        if set(got) != set(expected):
            return "keys", f"result has keys {sorted(map(str, got))}, expected {sorted(expected)}"
    elif not isinstance(got, (tuple, list)) or len(got) != len(expected):
        return "type", (f"result should be a tuple of {len(expected)} values, got {type_name(got)}"
                        + (f" of {len(got)}" if isinstance(got, (tuple, list)) else ""))
    return None


def first_difference(expected, got):
    """None, or ``(kind, message, path, expected leaf, got leaf)`` for the first difference."""
    if not isinstance(expected, (dict, tuple)):
        problem = _compare_leaf("result", expected, got)
        return problem and (*problem, "result", expected, got)
    problem = _structure_difference(expected, got)
    if problem:
        return (*problem, None, None, None)
    if isinstance(expected, dict):
        got = {k: got[k] for k in expected}
    exp_leaves, got_leaves = leaves(expected), leaves(got)
    if len(got_leaves) != len(exp_leaves):
        return "type", f"result should hold {len(exp_leaves)} values, got {len(got_leaves)}", None, None, None
    for (path, e), (_, g) in zip(exp_leaves, got_leaves):
        problem = _compare_leaf(path, e, g)
        if problem:
            return (*problem, path, e, g)
    return None


def same(a, b):
    """True when two results match (used to recognise a known mistake)."""
    try:
        return compare(a, b) is None
    except Exception:  # a mistake's output of another structure simply does not match
        return False


def format_value(x, brief=False):
    """A short printable form of a tensor or number; ``brief``: summarise tensors of many elements."""
    if isinstance(x, torch.Tensor):
        kind = f"{_shape(x)} {str(x.dtype).replace('torch.', '')}" + (
            "" if x.device.type == "cpu" else f" on {x.device}")
        if brief and x.numel() > BRIEF_ELEMENTS:
            return f"tensor {kind}"
        try:
            text = np.array2string(x.detach().cpu().numpy(), precision=4, suppress_small=True, threshold=40,
                                   edgeitems=2, max_line_width=100)
        except Exception:   # a meta tensor, an unusual dtype: its kind is all there is to show
            return f"tensor {kind}"
        return f"{text}  {kind}"
    if isinstance(x, dict):
        return "{" + ", ".join(f"{k}: {format_value(v, brief)}" for k, v in x.items()) + "}"
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(format_value(v, brief) for v in x) + ")"
    return repr(x)


def first_differing_example(expected, got):
    """The batch index of the first example where two same-shaped batched tensors differ, else None."""
    if not (isinstance(expected, torch.Tensor) and isinstance(got, torch.Tensor)) or expected.dim() < 2 \
            or got.shape != expected.shape or expected.shape[0] < 2 or got.device != expected.device \
            or got.dtype != expected.dtype:
        return None
    try:
        e, g = expected.detach().double(), got.detach().double()
        close = torch.isclose(g, e, equal_nan=True, **TOLERANCES[expected.dtype]).flatten(1).all(dim=1)
    except Exception:   # a sparse or otherwise unusual tensor: no example to single out
        return None
    return int((~close).nonzero()[0]) if not bool(close.all()) else None


def _values_shown(failure, arg_names):
    """The lines of a failed case that show its arguments, the expected and the actual result."""
    lines, args, expected, got, leaf = [], failure.case.args, failure.expected, failure.got, failure.leaf
    many = len(leaves(expected)) > 4
    if many and leaf and leaf[0]:   # a big structure (train_step: losses and parameters): the leaf that differs
        expected, got = leaf[1], leaf[2]
        lines.append(f"(showing {leaf[0]}, the first value that differs)")
    b = first_differing_example(expected, got)
    if b is not None:   # show one example of the batch: the first that differs
        B = expected.shape[0]
        lines.append(f"example {b} of the batch of {B}:")
        args = [a[b:b + 1] if isinstance(a, torch.Tensor) and a.dim() and a.shape[0] == B else a for a in args]
        expected, got = expected[b:b + 1], got[b:b + 1]
    brief = many or sum(a.numel() for a in args if isinstance(a, torch.Tensor)) > 200
    lines += [f"{name} = {format_value(value, brief)}" for name, value in zip(arg_names, args)]
    return lines + [f"expected: {format_value(expected, brief)}", f"got:      {format_value(got, brief)}"]


WIDTH = 100
"""A report's lines are at most this wide (values aside), broken between words, never inside one."""


def wrap(text, width=WIDTH, hang=2):
    """``text`` with each line wrapped at ``width`` between words (never inside a word, nor at a hyphen); a
    wrapped line hangs ``hang`` spaces under its own."""
    out = []
    for line in str(text).splitlines() or [""]:
        lead = " " * (len(line) - len(line.lstrip()))
        out.append(textwrap.fill(line.strip(), width, initial_indent=lead, subsequent_indent=lead + " " * hang,
                                 break_long_words=False, break_on_hyphens=False) if line.strip() else "")
    return "\n".join(out)


def format_failure(failure, arg_names, width=None):
    """A failed case for the report: its label, the problem, the values (if any) and the hint, indented.
    ``width``: wrap the words at that width (the values stay as they are), else one line each."""
    indent = "      "

    def words(text, hang=2):
        return indent + text if width is None else wrap(indent + text, width, hang)
    lines = [words(f"case: {failure.case.label}"), words(failure.problem)]
    if failure.expected is not None:
        lines += [indent + line for line in "\n".join(_values_shown(failure, arg_names)).splitlines()]
    if failure.hint:
        lines.append(words(f"hint: {failure.hint}", hang=6))
    return "\n".join(lines)
