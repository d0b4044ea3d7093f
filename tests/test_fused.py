"""The fast path (ntm_course/fused.py, csrc/memory_step.cpp): the fused memory step agrees with the eager step, the
reference, in values and gradients (float64 to 1e-12 and gradcheck; float32 to 1e-5), for every kind of machine;
the NTM runs it only where it applies; it is built once and cached; without a compiler the eager step runs."""
import os
import subprocess
import sys
import warnings

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from ntm_course import fused
from ntm_course.heads import _split_head_params, head_param_sizes
from ntm_course.ntm import NTM
from ntm_course.pieces import Pieces
from ntm_course.step import memory_step

pytestmark = pytest.mark.skipif(not fused.available()[0], reason="no C++ compiler on this machine")


def eager_step(memory, raw, w_write, w_read, K, clip):
    """The reference: the heads' activations (heads.py), then step.memory_step, on the fused step's inputs."""
    B, W, R, M = memory.shape[0], w_write.shape[1], w_read.shape[1], memory.shape[2]
    write_sizes, read_sizes = head_param_sizes(M, K, write=True), head_param_sizes(M, K)
    Pw = sum(write_sizes.values())
    write = _split_head_params(raw[:, :W * Pw].reshape(B, W, Pw), write_sizes, clip) if W else None
    read = _split_head_params(raw[:, W * Pw:].reshape(B, R, -1), read_sizes, clip)
    return memory_step(memory, write, read, w_write, w_read)


def inputs(B, N, M, K, W, R, dtype, seed, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    raw = torch.randn(B, W * (3 * M + K + 3) + R * (M + K + 3), generator=g, dtype=dtype) * scale
    memory = torch.randn(B, N, M, generator=g, dtype=dtype)
    w_write = torch.softmax(torch.randn(B, W, N, generator=g, dtype=dtype) * 3, -1)
    w_read = torch.softmax(torch.randn(B, R, N, generator=g, dtype=dtype) * 3, -1)
    return [t.requires_grad_() for t in (memory, raw, w_write, w_read)]


def both(shape, dtype, seed, clip=20.0):
    """The fused and the eager step on the same inputs: ``(outputs, gradients)`` of each, the gradients of a random
    weighted sum of every output."""
    B, N, M, K, W, R = shape
    results = []
    for step in (fused.memory_step, eager_step):
        xs = inputs(B, N, M, K, W, R, dtype, seed)
        outs = step(*xs, K, clip)
        g = torch.Generator().manual_seed(seed + 1)
        loss = sum((o * torch.randn(o.shape, generator=g, dtype=dtype)).sum() for o in outs)
        loss.backward()
        results.append(([o.detach() for o in outs], [x.grad if x.grad is not None else torch.zeros_like(x)
                                                     for x in xs]))
    return results


SHAPES = [(3, 7, 5, 3, 1, 1),      # one head of each kind (the copy NTM's form)
          (2, 6, 4, 5, 2, 3),      # several of each, K = 5
          (2, 8, 3, 3, 0, 2),      # no write head
          (1, 4, 3, 7, 3, 1)]      # K > N: the shift wraps around more than once


@pytest.mark.parametrize("shape", SHAPES)
def test_fused_step_matches_the_eager_step_in_float64_and_float32(shape):
    for dtype, tol in ((torch.float64, 1e-12), (torch.float32, 1e-5)):
        (fast_out, fast_grad), (ref_out, ref_grad) = both(shape, dtype, seed=sum(shape))
        for name, a, b in zip(("memory", "reads", "w_read", "w_write"), fast_out, ref_out):
            assert a.shape == b.shape, name
            torch.testing.assert_close(a, b, atol=tol, rtol=tol, msg=f"{name} ({dtype})")
        for name, a, b in zip(("memory", "raw", "w_write_prev", "w_read_prev"), fast_grad, ref_grad):
            torch.testing.assert_close(a, b, atol=tol, rtol=tol, msg=f"d/d {name} ({dtype})")


@given(B=st.integers(1, 3), N=st.integers(1, 9), M=st.integers(1, 6), K=st.sampled_from([1, 3, 5]),
       W=st.integers(0, 2), R=st.integers(1, 2), seed=st.integers(0, 10**6))
def test_fused_step_matches_the_eager_step_on_any_shape(B, N, M, K, W, R, seed):
    (fast_out, fast_grad), (ref_out, ref_grad) = both((B, N, M, K, W, R), torch.float64, seed)
    for a, b in zip(fast_out + fast_grad, ref_out + ref_grad):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10)


@pytest.mark.parametrize("shape", [(2, 5, 3, 3, 1, 1), (1, 4, 2, 3, 2, 2)])
def test_fused_backward_passes_gradcheck(shape):
    B, N, M, K, W, R = shape
    xs = inputs(B, N, M, K, W, R, torch.float64, seed=7, scale=1.0)
    assert torch.autograd.gradcheck(lambda *a: fused.memory_step(*a, K, 2.5), xs, eps=1e-6, atol=1e-6)


def test_the_clip_bounds_the_raw_outputs_as_the_eager_step_does():
    """Raw values beyond the clip (here 1.5) are clamped and get no gradient; without a clip (None) they act in
    full."""
    for clip in (1.5, None):
        (fast_out, fast_grad), (ref_out, ref_grad) = both((2, 6, 4, 3, 1, 1), torch.float64, seed=3, clip=clip)
        for a, b in zip(fast_out + fast_grad, ref_out + ref_grad):
            torch.testing.assert_close(a, b, atol=1e-12, rtol=1e-12)
    (_, clipped), _ = both((2, 6, 4, 3, 1, 1), torch.float64, seed=3, clip=1.5)
    raw = inputs(2, 6, 4, 3, 1, 1, torch.float64, seed=3)[1]
    assert (clipped[1][raw.abs() > 1.5] == 0).all() and (clipped[1][raw.abs() < 1.5] != 0).any()


def models(**options):
    torch.manual_seed(0)
    eager = NTM(9, 8, **options)
    fast = NTM(9, 8, **options)
    fast.load_state_dict(eager.state_dict())
    fast.fast = True
    return eager, fast


@pytest.mark.parametrize("options", [
    {},                                                                          # the paper's copy NTM
    {"controller": "feedforward", "num_read_heads": 3, "num_write_heads": 2, "N": 16, "M": 6},
    {"num_write_heads": 0, "N": 16, "M": 6, "shift_width": 5, "memory_init": "learned"},
    {"controller_layers": 2, "memory_init": "random", "learn_initial_state": False},
])
def test_the_fast_ntm_matches_the_eager_ntm_in_logits_and_every_gradient(options):
    eager, fast = models(**options)
    x = torch.rand(12, 4, 9, generator=torch.Generator().manual_seed(1))
    outs = []
    for model in (eager, fast):
        logits = model(x, generator=torch.Generator().manual_seed(2))
        (logits.sin().sum()).backward()
        outs.append((logits.detach(), {n: p.grad for n, p in model.named_parameters()}))
    torch.testing.assert_close(outs[1][0], outs[0][0], atol=1e-5, rtol=1e-5)
    assert outs[0][1].keys() == outs[1][1].keys()
    for name, grad in outs[0][1].items():
        torch.testing.assert_close(outs[1][1][name], grad, atol=1e-5, rtol=1e-4, msg=name)


def test_the_fast_ntm_runs_the_fused_step_and_only_where_it_applies(monkeypatch):
    calls = []
    real = fused.memory_step
    monkeypatch.setattr(fused, "memory_step", lambda *a, **k: calls.append(1) or real(*a, **k))
    eager, fast = models(N=8, M=4)
    x = torch.rand(5, 2, 9)
    fast(x)
    assert len(calls) == 5                                   # once per time step
    eager(x)
    fast.trace(x)                                            # a trace records every stage: the eager step
    fast.pieces = Pieces(shift=lambda w, s: torch.roll(w, 1, dims=-1))   # a learner's piece: theirs must run
    fast(x)
    fast.pieces = Pieces()
    fast.double()(x.double())                                # float64: fused
    assert len(calls) == 10
    assert fast.half()(x.half()).dtype == torch.float16       # float16 is not fused: the eager step runs it
    assert len(calls) == 10


def test_a_learners_training_step_alone_keeps_the_fast_path(monkeypatch):
    calls = []
    real = fused.memory_step
    monkeypatch.setattr(fused, "memory_step", lambda *a, **k: calls.append(1) or real(*a, **k))
    _, fast = models(N=8, M=4)
    fast.pieces = Pieces(training_step=lambda model, optimizer, loss_of, clip=10.0: loss_of())
    fast(torch.rand(3, 2, 9))
    assert len(calls) == 3


def test_the_fast_ntm_checks_its_input_as_the_eager_one_does():
    _, fast = models(N=8, M=4)
    for bad, message in (([[0.0] * 9], "x must be a torch.Tensor"), (torch.zeros(3, 2, 7), "x must have shape"),
                         (torch.zeros(0, 2, 9), "x must hold at least one time step")):
        with pytest.raises(ValueError, match=message):
            fast(bad)


def test_fast_is_a_plain_attribute_not_in_the_state_dict():
    eager, fast = models(N=8, M=4)
    assert eager.fast is False and fast.fast is True
    assert fast.state_dict().keys() == eager.state_dict().keys()


def test_the_build_is_cached_and_a_changed_machine_or_source_builds_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_COURSE_CACHE", str(tmp_path))
    first = fused.build()
    assert first.parent == tmp_path and first.exists()
    stamp = first.stat().st_mtime_ns
    assert fused.build() == first and first.stat().st_mtime_ns == stamp       # cached: not compiled again
    monkeypatch.setattr(fused, "_cpu", lambda: "another cpu")
    assert fused.build() != first                                             # another instruction set
    assert list(tmp_path.iterdir()) and not [p for p in tmp_path.iterdir() if p.is_dir()]   # no temp folder left
    elsewhere = fused.build(cache=tmp_path / "elsewhere")                     # an explicit cache folder
    assert elsewhere.parent == tmp_path / "elsewhere" and elsewhere.name == fused.build().name


def test_without_a_compiler_the_fast_ntm_warns_once_and_runs_the_eager_step(tmp_path):
    """In a fresh process whose compiler does not exist and whose cache is empty."""
    code = ("import warnings, torch\n"
            "from ntm_course import fused\n"
            "from ntm_course.ntm import NTM\n"
            "ok, why = fused.available(); print(ok, why)\n"
            "torch.manual_seed(0); m = NTM(9, 8, N=8, M=4); ref = m(torch.ones(3, 2, 9))\n"
            "m.fast = True\n"
            "with warnings.catch_warnings(record=True) as caught:\n"
            "    warnings.simplefilter('always')\n"
            "    out = m(torch.ones(3, 2, 9)); m(torch.ones(3, 2, 9))\n"
            "print(len(caught), str(caught[0].message))\n"
            "print(torch.equal(out, ref))\n")
    env = {**os.environ, "CXX": "no-such-compiler", "NTM_COURSE_CACHE": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stderr
    assert lines[0] == "False no C++ compiler: 'no-such-compiler' is not on PATH (set CXX, or install g++ or clang)"
    assert lines[1].startswith("1 model.fast: the fused step is not available, running the eager step (no C++ comp")
    assert lines[2] == "True"


def test_a_failing_compile_says_what_the_compiler_said(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_COURSE_CACHE", str(tmp_path))
    broken = tmp_path / "broken.cpp"
    broken.write_text("this is not C++\n")
    monkeypatch.setattr(fused, "SOURCE", broken)
    with pytest.raises(fused.FastPathUnavailable, match="compiling broken.cpp failed:\n.*error"):
        fused.build()
    assert not any(tmp_path.glob("*.so"))


def test_supports_only_cpu_float32_and_float64():
    assert fused.supports(torch.zeros(1)) and fused.supports(torch.zeros(1, dtype=torch.float64))
    assert not fused.supports(torch.zeros(1, dtype=torch.float16))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert not fused.supports(torch.zeros(1, device="meta"))


@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-6)])
def test_the_fused_lstm_cell_is_torchs_lstm_cell(dtype, tol):
    """The gates from one product of [x, h] with [W_ih W_hh], then fused.lstm_cell: torch's LSTMCell, values and
    gradients (of the weights, x and both states)."""
    torch.manual_seed(3)
    cell = torch.nn.LSTMCell(7, 5).to(dtype)
    x, h0, c0 = (torch.randn(3, n, dtype=dtype, requires_grad=True) for n in (7, 5, 5))
    results = []
    for run in ("torch", "fused"):
        if run == "torch":
            h, c = cell(x, (h0, c0))
        else:
            gates = torch.addmm(cell.bias_ih + cell.bias_hh, torch.cat([x, h0], 1),
                                torch.cat([cell.weight_ih, cell.weight_hh], 1).t())
            h, c = fused.lstm_cell(gates, c0)
        (h.sin().sum() + (c * c).sum()).backward()
        results.append([h.detach(), c.detach()] + [t.grad.clone() for t in (x, h0, c0, *cell.parameters())])
        for t in (x, h0, c0, *cell.parameters()):
            t.grad = None
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, atol=tol, rtol=tol)


def test_the_fused_lstm_cell_passes_gradcheck():
    g = torch.Generator().manual_seed(4)
    gates, c = (torch.randn(2, n, generator=g, dtype=torch.float64, requires_grad=True) for n in (12, 3))
    assert torch.autograd.gradcheck(fused.lstm_cell, (gates, c))
