"""The fast path: the NTM's step fused into a few C++ calls, forward and backward.

The eager step (:func:`ntm_course.step.memory_step` after :func:`ntm_course.heads.split_head_params`, and torch's
LSTM cell) is about a hundred small torch operations per time step, forward and backward, and on a CPU their
dispatch, not their arithmetic, is most of a training step's time. :func:`memory_step` does the memory step's
work (every head's activations, addressing, the write and the reads) in one call of ``csrc/memory_step.cpp``,
with a hand-written backward in another; :func:`lstm_cell` does an LSTM cell's pointwise part.
:class:`~ntm_course.ntm.NTM` runs them when ``model.fast`` is on (``ntm-course train`` and the playground turn it
on). The eager step stays the reference, and the step learners' own pieces run: the two agree to 1e-5 in float32,
values and gradients (``tests/test_fused.py``).

The C++ file needs no torch headers: on first use it is compiled with the system's C++ compiler (``$CXX`` or
``c++``, about 3 seconds) into a cache folder (``$NTM_COURSE_CACHE``, else ``~/.cache/ntm-course``), keyed by
the source, the flags, the compiler and the CPU, and loaded with :mod:`ctypes`. Without a compiler
:func:`available` says why, and the NTM runs the eager step. CPU only (float32 and float64), on one thread; on a
GPU the eager step runs.
"""
import ctypes
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import torch

SOURCE = Path(__file__).with_name("csrc") / "memory_step.cpp"
FLAGS = ("-O3", "-std=c++17", "-shared", "-fPIC")
# Tuned for this machine's CPU (its vector instructions), and sums reassociated so that they vectorize; never
# -ffast-math, which may link code that flushes every denormal in the whole process to zero. Where the compiler
# refuses them (an older one, another architecture), the plain FLAGS build.
TUNED = ("-march=native", "-fno-math-errno", "-fno-trapping-math", "-fassociative-math", "-fno-signed-zeros")
VECTOR_MATH = ("-fopenmp-simd", "-DNTM_VECTOR_MATH")              # glibc's vector exp and log (libmvec)
BUILDS = ((FLAGS + TUNED + VECTOR_MATH, ("-lmvec",)), (FLAGS + TUNED, ()), (FLAGS, ()))
"""The builds tried in turn, ``(flags, libraries)``: the first that compiles is kept."""
EPS2 = 1e-16   # the cosine similarity's eps (1e-8), squared, as ntm_course.addressing uses it
SUFFIX = {torch.float32: "f32", torch.float64: "f64"}

_lock = threading.Lock()
_loaded = {}          # "lib" -> the ctypes library, or "error" -> why it could not be built


class FastPathUnavailable(RuntimeError):
    """The fused step cannot be built or loaded here (no C++ compiler, say); the message says why."""


def cache_dir():
    """Where the compiled step is kept: ``$NTM_COURSE_CACHE``, else ``$XDG_CACHE_HOME/ntm-course``, else
    ``~/.cache/ntm-course``."""
    if os.environ.get("NTM_COURSE_CACHE"):
        return Path(os.environ["NTM_COURSE_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ntm-course"


def _compiler():
    compiler = os.environ.get("CXX") or "c++"
    if shutil.which(compiler) is None:
        raise FastPathUnavailable(f"no C++ compiler: {compiler!r} is not on PATH (set CXX, or install g++ or clang)")
    try:
        version = subprocess.run([compiler, "--version"], capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.SubprocessError) as error:
        raise FastPathUnavailable(f"the C++ compiler {compiler!r} does not run: {error}") from None
    return compiler, version


def _cpu():
    """What identifies this CPU's instruction set (the tuned build runs only on such a CPU): Linux's CPU flags."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return platform.machine() + platform.processor()
    return platform.machine() + next((line for line in text.splitlines() if line.startswith(("flags", "Features"))),
                                     "")


def build(force=False, cache=None):
    """Compile ``csrc/memory_step.cpp`` into the cache (``cache``, default :func:`cache_dir`), unless it is there
    already or ``force``; return the library's path. Raises :class:`FastPathUnavailable` with the compiler's
    message when it cannot.

    The file's name is a hash of the source, the flags, the compiler's version and the CPU's instruction set, so
    a changed source, compiler or machine (a home folder shared by several) builds its own.
    """
    compiler, version = _compiler()
    recipe = [SOURCE.read_text(), *(" ".join(flags + libraries) for flags, libraries in BUILDS), version, _cpu()]
    key = hashlib.sha256("\0".join(recipe).encode()).hexdigest()[:16]
    target = Path(cache or cache_dir()) / f"memory_step-{key}.so"
    if target.exists() and not force:
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as folder:     # compile aside, then rename: atomic
            built = Path(folder) / target.name
            for flags, libraries in BUILDS:
                done = subprocess.run([compiler, *flags, str(SOURCE), *libraries, "-o", str(built)],
                                      capture_output=True, text=True, timeout=300)
                if done.returncode == 0:
                    break
            else:
                raise FastPathUnavailable(f"compiling {SOURCE.name} failed:\n{done.stderr.strip()[-2000:]}")
            os.replace(built, target)
    except (OSError, subprocess.SubprocessError) as error:
        raise FastPathUnavailable(f"cannot build the fused step in {target.parent}: {error}") from None
    return target


def _load(path):
    """The library at ``path``, its functions' argument types declared; ``lib.path`` says where it is."""
    lib = ctypes.CDLL(str(path))
    lib.path = path
    i64, f64, ptr = ctypes.c_int64, ctypes.c_double, ctypes.c_void_p
    lib.ntm_work_size.argtypes, lib.ntm_work_size.restype = [i64] * 5, i64
    for suffix in SUFFIX.values():
        getattr(lib, f"ntm_forward_{suffix}").argtypes = [i64] * 6 + [f64] * 2 + [ptr] * 9
        getattr(lib, f"ntm_backward_{suffix}").argtypes = [i64] * 6 + [f64] * 2 + [ptr] * 16
        getattr(lib, f"ntm_lstm_forward_{suffix}").argtypes = [i64] * 2 + [ptr] * 4
        getattr(lib, f"ntm_lstm_backward_{suffix}").argtypes = [i64] * 2 + [ptr] * 7
    return lib


def library():
    """The loaded library (built on first use; its file is ``library().path``); :class:`FastPathUnavailable` when it
    cannot be."""
    with _lock:
        if "lib" not in _loaded and "error" not in _loaded:
            try:
                _loaded["lib"] = _load(build())
            except (FastPathUnavailable, OSError) as error:
                _loaded["error"] = str(error)
    if "error" in _loaded:
        raise FastPathUnavailable(_loaded["error"])
    return _loaded["lib"]


def available():
    """``(True, "")`` when the fused step is built and loaded (building it if needed), else ``(False, why)``."""
    try:
        library()
    except FastPathUnavailable as error:
        return False, str(error)
    return True, ""


def supports(memory):
    """Whether :func:`memory_step` can run on tensors like ``memory``: a CPU tensor of float32 or float64."""
    return memory.device.type == "cpu" and memory.dtype in SUFFIX


def _ptrs(*tensors):
    return [t.data_ptr() for t in tensors]


class _MemoryStep(torch.autograd.Function):
    @staticmethod
    def forward(ctx, memory, raw, ww_prev, wr_prev, dims):
        lib, (N, M, K, W, R, clip) = library(), dims
        B = memory.shape[0]
        memory, raw, ww_prev, wr_prev = (t.contiguous() for t in (memory, raw, ww_prev, wr_prev))
        new = torch.empty_like(memory)
        reads, wr, ww = memory.new_empty(B, R, M), memory.new_empty(B, R, N), memory.new_empty(B, W, N)
        work = memory.new_empty(B, lib.ntm_work_size(N, M, K, W, R))
        getattr(lib, f"ntm_forward_{SUFFIX[memory.dtype]}")(
            B, N, M, K, W, R, clip, EPS2, *_ptrs(memory, raw, ww_prev, wr_prev, new, reads, wr, ww, work))
        ctx.save_for_backward(memory, new, raw, ww_prev, wr_prev, wr, ww, work)
        ctx.dims = dims
        return new, reads, wr, ww

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g_memory, g_reads, g_wr, g_ww):
        memory, new, raw, ww_prev, wr_prev, wr, ww, work = ctx.saved_tensors
        N, M, K, W, R, clip = ctx.dims
        g_memory, g_reads, g_wr, g_ww = (g.contiguous() for g in (g_memory, g_reads, g_wr, g_ww))
        outs = [torch.empty_like(t) for t in (memory, raw, ww_prev, wr_prev)]
        getattr(library(), f"ntm_backward_{SUFFIX[memory.dtype]}")(
            memory.shape[0], N, M, K, W, R, clip, EPS2,
            *_ptrs(memory, new, raw, ww_prev, wr_prev, wr, ww, work, g_memory, g_reads, g_wr, g_ww, *outs))
        return (*outs, None)


class _LSTMCell(torch.autograd.Function):
    @staticmethod
    def forward(ctx, gates, c_prev):
        gates, c_prev = gates.contiguous(), c_prev.contiguous()
        h, c = torch.empty_like(c_prev), torch.empty_like(c_prev)
        getattr(library(), f"ntm_lstm_forward_{SUFFIX[gates.dtype]}")(*c.shape, *_ptrs(gates, c_prev, h, c))
        ctx.save_for_backward(gates, c_prev, c)
        return h, c

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, g_h, g_c):
        gates, c_prev, c = ctx.saved_tensors
        g_gates, g_c_prev = torch.empty_like(gates), torch.empty_like(c_prev)
        getattr(library(), f"ntm_lstm_backward_{SUFFIX[gates.dtype]}")(
            *c.shape, *_ptrs(gates, c_prev, c, g_h.contiguous(), g_c.contiguous(), g_gates, g_c_prev))
        return g_gates, g_c_prev


def lstm_cell(gates, c_prev):
    """The pointwise part of an LSTM cell, fused: ``gates (B, 4H)`` (``x W_ih^T + b_ih + h W_hh^T + b_hh``, in
    torch's order: input, forget, cell, output) and ``c_prev (B, H)`` -> ``(h, c)``, each ``(B, H)``::

        c = sigmoid(f) * c_prev + sigmoid(i) * tanh(g),    h = sigmoid(o) * tanh(c)

    what :class:`torch.nn.LSTMCell` computes after its two matrix products (a CPU tensor, float32 or float64)."""
    return _LSTMCell.apply(gates, c_prev)


def memory_step(memory, raw, ww_prev, wr_prev, K, clip=20.0):
    """One memory step of every head, from the heads' raw controller outputs, fused (forward and backward).

    The same step as :func:`ntm_course.heads.split_head_params` on each kind of head, then
    :func:`ntm_course.step.memory_step`: the write heads address :math:`M_{t-1}` (eqs. 5-9), erase and add (eqs.
    3-4), then the read heads address :math:`M_t` and read (eq. 2). Unchecked, like the eager step.

    Args:
        memory: ``(B, N, M)``, :math:`M_{t-1}`: a CPU tensor, float32 or float64.
        raw: ``(B, W * (3M + K + 3) + R * (M + K + 3))``: the W write heads' raw outputs, then the R read heads',
            each in the layout of :func:`~ntm_course.heads.head_param_sizes`, before the clip.
        ww_prev: ``(B, W, N)`` and wr_prev ``(B, R, N)``: the heads' previous weightings.
        K: the shift width (odd); clip: the clip on the raw outputs (None for none).
    Returns:
        ``(memory, reads, w_read, w_write)``: ``(B, N, M)``, ``(B, R, M)``, ``(B, R, N)``, ``(B, W, N)``, as
        :func:`ntm_course.step.memory_step` returns them.
    """
    B, N, M = memory.shape
    W, R = ww_prev.shape[1], wr_prev.shape[1]
    return _MemoryStep.apply(memory, raw, ww_prev, wr_prev, (N, M, K, W, R, float("inf") if clip is None else clip))
