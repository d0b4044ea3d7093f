"""Values across the process boundary: what the worker sends back and how the grader loads it, as data only.

The worker copies each check's result with :func:`pack`: plain CPU tensors, numbers, strings, tuples, lists and
str-keyed dicts (anything else becomes a marker naming its type), and writes it on its channel to the grader, a
pipe, as one frame (:func:`frame`, :func:`encode`: JSON and raw tensor bytes; no pickle, no compression). The
grader reads frames as they come (:class:`Frames`: a frame larger than its cap is refused before it is read),
rebuilds each value with every size checked (:func:`decode`) and rejects anything but those plain values
(:class:`Rejected`); :func:`outcomes_from` turns them back into the checker's outcomes. The worker's answers are
data, never code.
"""
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


# --- the wire: what the worker writes on its channel and the grader reads ------------------------------------

MAGIC = b"NTMG"
HEADER = 13   # MAGIC, the frame's kind (one byte: b"p" progress, b"r" result), its length (8 bytes, big-endian)
MAX_FRAME = 64 * 2 ** 20
"""The most one frame may hold (a result: its JSON and its tensors' bytes); a larger one is refused unread."""
DTYPES = ("float32", "float64", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool",
          "complex64", "complex128")


def encode(value):
    """``value`` (plain: what :func:`pack` makes) as bytes: a JSON tree in which each tensor is
    ``{"__tensor__": [index, dtype, shape]}``, then each tensor's raw bytes. No pickle, no compression: what
    the grader reads is exactly as large as it looks."""
    import json

    import torch
    blobs = []

    def tree(x):
        if isinstance(x, torch.Tensor):
            t = x.detach().contiguous()
            blobs.append(t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
            return {"__tensor__": [len(blobs) - 1, str(t.dtype).replace("torch.", ""), list(t.shape)]}
        if isinstance(x, tuple):
            return {"__tuple__": [tree(v) for v in x]}
        if isinstance(x, list):
            return [tree(v) for v in x]
        if isinstance(x, dict):
            return {"__dict__": [[k, tree(v)] for k, v in x.items()]}
        if isinstance(x, float) and x != x:
            return {"__float__": "nan"}
        if isinstance(x, float) and x in (float("inf"), float("-inf")):
            return {"__float__": "inf" if x > 0 else "-inf"}
        return x

    head = json.dumps({"tree": tree(value), "sizes": [len(b) for b in blobs]}).encode()
    return len(head).to_bytes(8, "big") + head + b"".join(blobs)


def decode(data):
    """The value :func:`encode` wrote, checked as it is rebuilt: every size is validated against the bytes
    that are there before anything is allocated. Raises :class:`Rejected` for anything else."""
    import json

    import torch
    try:
        n = int.from_bytes(data[:8], "big")
        if n > len(data) - 8:
            raise Rejected("a truncated result")
        head = json.loads(data[8:8 + n].decode())
        sizes = head["sizes"]
        if not isinstance(sizes, list) or not all(type(k) is int and k >= 0 for k in sizes) or \
                sum(sizes) != len(data) - 8 - n:
            raise Rejected("sizes that do not add up")
    except Rejected:
        raise
    except Exception as error:
        raise Rejected(f"not a valid result ({type(error).__name__})")
    offsets = [8 + n]
    for k in sizes:
        offsets.append(offsets[-1] + k)
    count = [0]

    def tensor(spec):
        if not (isinstance(spec, list) and len(spec) == 3 and type(spec[0]) is int and spec[1] in DTYPES
                and isinstance(spec[2], list) and all(type(d) is int and d >= 0 for d in spec[2])
                and 0 <= spec[0] < len(sizes)):
            raise Rejected("a malformed tensor")
        index, dtype, shape = spec
        dtype = getattr(torch, dtype)
        numel = 1
        for d in shape:
            numel *= d
        itemsize = torch.empty((), dtype=dtype).element_size()
        if numel > MAX_ELEMENTS or numel * itemsize != sizes[index]:
            raise Rejected("a tensor whose size does not match its bytes")
        if numel == 0:
            return torch.empty(shape, dtype=dtype)
        raw = bytearray(data[offsets[index]:offsets[index + 1]])
        return torch.frombuffer(raw, dtype=torch.uint8).view(dtype).reshape(shape).clone()

    def rebuild(x, depth=0):
        count[0] += 1
        if depth > 32 or count[0] > 20 * MAX_LEAVES:
            raise Rejected("nested too deeply or too large")
        if isinstance(x, dict):
            if set(x) == {"__tensor__"}:
                return tensor(x["__tensor__"])
            if set(x) == {"__tuple__"} and isinstance(x["__tuple__"], list):
                return tuple(rebuild(v, depth + 1) for v in x["__tuple__"])
            if set(x) == {"__float__"} and x["__float__"] in ("nan", "inf", "-inf"):
                return float(x["__float__"])
            if set(x) == {"__dict__"} and isinstance(x["__dict__"], list):
                out = {}
                for item in x["__dict__"]:
                    if not (isinstance(item, list) and len(item) == 2 and type(item[0]) is str):
                        raise Rejected("a dict key that is not a string")
                    out[item[0]] = rebuild(item[1], depth + 1)
                return out
            raise Rejected("an unknown value")
        if isinstance(x, list):
            return [rebuild(v, depth + 1) for v in x]
        if x is None or type(x) in (bool, int, float, str):
            return x
        raise Rejected(f"a value of type {type(x).__name__}")

    value = rebuild(head.get("tree"))
    _check_plain(value)
    return value


def frame(kind, payload):
    """One frame of the worker's channel: ``kind`` (``b"p"`` or ``b"r"``) and its payload."""
    return MAGIC + kind + len(payload).to_bytes(8, "big") + payload


class Frames:
    """The grader's reader of a worker's channel: feed it bytes as they come, take whole frames out. A frame
    that is malformed or larger than ``max_frame`` ends the stream (``broken`` says why): nothing after it is
    read, and nothing of it is kept."""

    def __init__(self, max_frame=MAX_FRAME):
        self.buffer, self.max_frame, self.broken = bytearray(), max_frame, None

    def feed(self, chunk):
        """``[(kind, payload)]``: the frames that ``chunk`` completes."""
        if self.broken:
            return []
        self.buffer += chunk
        frames = []
        while len(self.buffer) >= HEADER:
            if bytes(self.buffer[:4]) != MAGIC or self.buffer[4:5] not in (b"p", b"r"):
                self.broken = "the worker's channel carried something other than frames"
                break
            size = int.from_bytes(self.buffer[5:HEADER], "big")
            if size > self.max_frame:
                self.broken = f"a result larger than {self.max_frame // 2 ** 20} MiB"
                break
            if len(self.buffer) < HEADER + size:
                break
            frames.append((bytes(self.buffer[4:5]), bytes(self.buffer[HEADER:HEADER + size])))
            del self.buffer[:HEADER + size]
        if self.broken:
            self.buffer = bytearray()
        return frames


def result_message(name, value):
    """A result frame's payload: the check's name and its value."""
    return encode({"check": name, "result": value})


def read_result(payload):
    """``(check name, result dict)`` from a result frame's payload; :class:`Rejected` for anything else."""
    data = decode(payload)
    if not (isinstance(data, dict) and type(data.get("check")) is str and isinstance(data.get("result"), dict)):
        raise Rejected("not a check's result")
    return data["check"], data["result"]


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
