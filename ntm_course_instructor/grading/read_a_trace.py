"""Exercise 09_read_a_trace: read what an NTM's first read head does at every step of a recorded trace (the dict
``NTM.trace`` returns): whether its gate takes the content weighting, which shift dominates, which row it is focused
on. Graded on traces the learner has not seen: the shipped trained models on episodes the check builds, and
synthetic traces of other sizes (several heads, batches, shift widths, no write head).
"""
import torch

from ntm_course.experiments.pretrained import load_pretrained
from ntm_course.experiments.tasks import TASKS
from ntm_course.teaching.practice.exercises.cases import Case, Understanding, answer_dict, randn


# --- the reference answer -------------------------------------------------------------------------------

def trace_answers(trace):
    """What the first read head (head 0) of the first example (example 0) does at each step ``t`` of ``trace``.

    ``trace`` is the dict of ``NTM.trace``, time first: ``read_g (T, B, R, 1)``, ``read_s (T, B, R, K)``,
    ``read_weights (T, B, R, N)``, and more. Returns a dict of three lists of ``T`` integers:

    - ``"content"``: 1 where the gate ``g_t > 0.5`` (eq. 7 takes more from the content weighting than from the
      previous weighting: the head looks up by content), else 0;
    - ``"shift"``: the offset that ``s_t`` weights most, ``argmax_k s_t[k] - K//2`` (eq. 8);
    - ``"focus"``: the row ``argmax_i w_t(i)`` where the head is focused (``max_i w_t(i) > 0.5``), else -1.
    """
    g = trace["read_g"][:, 0, 0, 0]
    s = trace["read_s"][:, 0, 0]
    w = trace["read_weights"][:, 0, 0]
    top = w.max(dim=1)
    return {"content": (g > 0.5).long().tolist(),
            "shift": (s.argmax(dim=1) - s.shape[1] // 2).tolist(),
            "focus": torch.where(top.values > 0.5, top.indices, -1).tolist()}


# --- the check -----------------------------------------------------------------------------------------

FIELDS = ("content", "shift", "focus")
MARGIN = 1e-3
"""No case's gate or top weight lies within this of 0.5, and no two largest weights of a shift distribution are
this close: an answer never hangs on a tiny numerical difference (``>`` against ``>=``, float32 against float64)."""
AXIS_HINT = ("the trace's tensors are time first, (T, B, heads, ...): take example 0's first read head with "
             "[:, 0, 0], then the argmax over the last axis (the offsets of s, the rows of w), one answer per step")


def margins_ok(trace, margin=MARGIN):
    """True when no answer of :func:`trace_answers` about ``trace`` sits within ``margin`` of its threshold."""
    g = trace["read_g"][:, 0, 0, 0]
    s = trace["read_s"][:, 0, 0]
    top = trace["read_weights"][:, 0, 0].max(dim=1).values
    two = s.topk(2, dim=1).values if s.shape[1] > 1 else torch.ones(len(s), 2) * torch.tensor([1.0, 0.0])
    return bool(((g - 0.5).abs() >= margin).all() and ((top - 0.5).abs() >= margin).all()
                and (two[:, 0] - two[:, 1] >= margin).all())


def _number(field, t, value):
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int):
        raise ValueError(f"trace_answers(trace)[{field!r}][{t}] must be an integer (a step's answer), got "
                         f"{value!r}")
    return value


def _trace_call(fn, args):
    """The learner's answers about ``args[0]``, checked and made plain: ``{field: [T ints]}``."""
    trace = args[0]
    T = trace["read_g"].shape[0]
    answers = answer_dict(fn(trace), FIELDS, "trace_answers(trace)", list(FIELDS))
    plain = {}
    for field in FIELDS:
        values = answers[field]
        if isinstance(values, torch.Tensor):
            values = values.reshape(-1).tolist() if values.dim() else [values.item()]
        if not isinstance(values, (list, tuple)) or len(values) != T:
            what = f"{len(values)} values" if isinstance(values, (list, tuple)) else type(values).__name__
            raise ValueError(f"trace_answers(trace)[{field!r}] must hold one value per step, T = {T}, got {what}: "
                             f"{AXIS_HINT}")
        plain[field] = [_number(field, t, v) for t, v in enumerate(values)]
    return plain


# --- the traces: the shipped models on episodes built here, and synthetic ones ---------------------------------

EPISODES = (   # (label, shipped model, the task generator's options)
    ("the shipped copy NTM, a sequence of 6", "copy", dict(min_length=6, max_length=6)),
    ("the shipped repeat-copy NTM, 3 items repeated twice", "repeat_copy",
     dict(min_length=3, max_length=3, min_repeats=2, max_repeats=2)),
    ("the shipped associative-recall NTM, 3 items", "associative_recall", dict(min_items=3, max_items=3)),
    ("the shipped copy NTM, a batch of 2 sequences of 4, float64", "copy", dict(min_length=4, max_length=4)),
)


def recorded_trace(name, options, batch_size=1, seed=0):
    """The trace of the shipped model ``name`` on an episode of its task (``options``), on the CPU: the first seed
    from ``seed`` on whose trace :func:`margins_ok` holds. A dict of float32 tensors."""
    model = load_pretrained(name, device="cpu").model
    for attempt in range(seed, seed + 50):
        batch = TASKS[name].make(batch_size, generator=torch.Generator().manual_seed(attempt), **options)
        with torch.no_grad():
            _, trace = model.trace(batch.inputs, generator=torch.Generator().manual_seed(attempt))
        if margins_ok(trace):
            return trace
    raise RuntimeError(f"no episode of {name} with {options} keeps its answers away from the thresholds")


def _away(gen, n, low=0.0, high=1.0):
    """``n`` values uniform in ``[low, high]`` but at least 0.05 from 0.5."""
    u = low + (high - low) * torch.rand(n, generator=gen, dtype=torch.float64)
    return torch.where((u - 0.5).abs() < 0.05, u + torch.where(u < 0.5, -0.05, 0.05), u)


def _distribution(gen, shape, focused):
    """Weights over the last axis (at least 2 long): each row either focused (top weight in [0.6, 1), at least
    0.2 above the next) or spread (at most about 0.45), per ``focused``, a bool tensor of the leading shape."""
    *lead, n = shape
    if n == 1:
        return torch.ones(shape, dtype=torch.float64)
    w = torch.softmax(0.3 * randn(gen, *shape), dim=-1)
    mass = 0.6 + 0.39 * torch.rand(*lead, generator=gen, dtype=torch.float64)
    peak = torch.randint(0, n, tuple(lead), generator=gen)
    one_hot = torch.nn.functional.one_hot(peak, n).to(torch.float64)
    sharp = mass[..., None] * one_hot + (1 - mass[..., None]) * w
    flat = 0.5 * w + 0.5 / n
    return torch.where(focused[..., None], sharp, flat)


def synthetic_trace(gen, T, B, R, N, M, K, W=1, focused=0.6):
    """A trace shaped like ``NTM.trace``'s for ``R`` read and ``W`` write heads (``W = 0``: no write head), with
    random values whose answers are never near a threshold. ``focused``: the share of focused steps."""
    def head(prefix, H):
        s = _distribution(gen, (T, B, H, K), torch.ones(T, B, H, dtype=torch.bool))   # no near-tie
        weights = _distribution(gen, (T, B, H, N), torch.rand(T, B, H, generator=gen) < focused)
        return {f"{prefix}_key": randn(gen, T, B, H, M), f"{prefix}_beta": 5 * torch.rand(T, B, H, 1, generator=gen,
                                                                                           dtype=torch.float64),
                f"{prefix}_g": _away(gen, T * B * H).reshape(T, B, H, 1), f"{prefix}_s": s,
                f"{prefix}_gamma": 1 + 4 * torch.rand(T, B, H, 1, generator=gen, dtype=torch.float64),
                f"{prefix}_weights": weights}
    trace = {**head("read", R), "reads": randn(gen, T, B, R, M), "memory": randn(gen, T, B, N, M)}
    if W:
        trace.update(head("write", W), erase=torch.rand(T, B, W, M, generator=gen, dtype=torch.float64),
                     add=randn(gen, T, B, W, M))
    if not margins_ok(trace):
        raise RuntimeError("a synthetic trace came out with an answer near a threshold")
    return trace


def _dtype(trace, dtype):
    return {k: v.to(dtype) for k, v in trace.items()}


def _synthetic_case(gen, label, dtype, hint="", **sizes):
    T, B, R, N, K = (sizes[k] for k in ("T", "B", "R", "N", "K"))
    trace = _dtype(synthetic_trace(gen, M=4, **sizes), dtype)
    text = f"{label}: T={T}, batch {B}, {R} read head{'s' if R > 1 else ''}, N={N}, K={K}, {str(dtype)[6:]}"
    return Case(text, (trace,), hint)


def _trace_build(gen):
    values = []
    for index, (label, name, options) in enumerate(EPISODES):
        float64 = "float64" in label
        trace = recorded_trace(name, options, batch_size=2 if float64 else 1, seed=10 * index)
        values.append(Case(label, (_dtype(trace, torch.float64) if float64 else trace,)))
    for T, B, R, N, K, dtype in ((7, 1, 1, 10, 3, torch.float32), (9, 2, 1, 12, 3, torch.float64),
                                 (6, 3, 2, 8, 5, torch.float32), (10, 1, 2, 16, 3, torch.float64)):
        values.append(_synthetic_case(gen, "a synthetic trace", dtype, T=T, B=B, R=R, N=N, K=K))
    first = ("answer about example 0's first read head: index [:, 0, 0], the batch is the second axis and the "
             "heads the third")
    edge = [_synthetic_case(gen, "a single step", torch.float32, T=1, B=1, R=1, N=6, K=3),
            _synthetic_case(gen, "K = 1: the only offset is 0", torch.float64, T=5, B=1, R=1, N=6, K=1),
            _synthetic_case(gen, "K = 7: offsets -3 .. +3", torch.float32, T=8, B=2, R=1, N=9, K=7,
                            hint="the offset of column k is k - K//2: for K = 7, column 0 is offset -3"),
            _synthetic_case(gen, "three examples and three read heads", torch.float64, T=6, B=3, R=3, N=8, K=3,
                            hint=first),
            _synthetic_case(gen, "no write head", torch.float32, T=6, B=1, R=1, N=8, K=3, W=0),
            _synthetic_case(gen, "a head never focused", torch.float64, T=5, B=1, R=1, N=20, K=3, focused=0.0),
            _synthetic_case(gen, "a head always focused", torch.float32, T=5, B=2, R=1, N=7, K=5, focused=1.0)]
    return {"values": values, "edge cases": edge}


# --- the mistakes --------------------------------------------------------------------------------------------

def _variant(prefix="read", centred=True, gate_reversed=False, time_axis=False):
    """A wrong ``trace_answers``: another head, the column instead of the offset, the gate read backwards, or the
    argmax over the time axis."""
    def answers(trace):
        g = trace[f"{prefix}_g"][:, 0, 0, 0]
        s = trace[f"{prefix}_s"][:, 0, 0]
        w = trace[f"{prefix}_weights"][:, 0, 0]
        axis = 0 if time_axis else 1
        top = w.max(dim=axis)
        return {"content": ((g < 0.5) if gate_reversed else (g > 0.5)).long().tolist(),
                "shift": (s.argmax(dim=axis) - (s.shape[1] // 2 if centred else 0)).tolist(),
                "focus": torch.where(top.values > 0.5, top.indices, -1).tolist()}
    return answers


TRACE = Understanding(
    name="trace_answers",
    reference=trace_answers,
    build=_trace_build,
    call=_trace_call,
    only_groups=("values", "edge cases"),
    notes={"values": f"{len(EPISODES)} traces of the shipped copy, repeat-copy and associative-recall NTMs on "
                     "episodes you have not seen, 4 synthetic traces; no gate or top weight within 0.001 of 0.5, no "
                     "near-tie in s",
           "edge cases": "one step, K = 1 and K = 7, several examples and read heads, no write head, a head never "
                         "and always focused"},
    mistakes=[
        ("the offset of column k of s is k - K//2 (s[:, k] weights offset k - K//2), not k: for K = 3, column 0 "
         "is offset -1 and column 2 is +1", _variant(centred=False)),
        ("the gate reads the other way: eq. 7 is w^g = g w^c + (1 - g) w_{t-1}, so g near 1 takes the content "
         "weighting and g near 0 keeps the previous one", _variant(gate_reversed=True)),
        ("those are the write head's values: the questions are about the read head (read_g, read_s, "
         "read_weights)", _variant(prefix="write")),
        (AXIS_HINT, _variant(time_axis=True)),
    ],
    hint="for each step t: content is g_t > 0.5, shift is argmax s_t - K//2, focus is argmax w_t where max w_t > 0.5 "
         "(else -1), all for trace[...][:, 0, 0]",
    shape_hint="return {'content': T ints, 'shift': T ints, 'focus': T ints}, one per step of the trace",
)

CHECKS = (TRACE,)
"""This module's checks, found through the syllabus row that names the module."""
