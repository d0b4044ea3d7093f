"""Device choice, seeding, and the same numbers on CPU and GPU."""
import copy
import random

import pytest
import torch

from ntm_course import NTM, address, get_device, seed_everything
from ntm_course.device import rng_isolated, threads


def test_get_device_picks_cuda_only_when_present(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


def test_prefer_overrides_the_choice(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device("cpu") == torch.device("cpu")
    assert get_device("cuda") == torch.device("cuda")


def test_prefer_cuda_without_a_gpu_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="prefer='cuda' but no CUDA device is available; use 'cpu'"):
        get_device("cuda")


@pytest.mark.parametrize("prefer", ["gpu", "", 3.5])
def test_prefer_must_name_a_device(prefer):
    with pytest.raises(ValueError, match=r"prefer must name a device such as 'cpu' or 'cuda', got"):
        get_device(prefer)


def test_seed_everything_repeats_python_and_torch_draws():
    assert seed_everything(7) == 7
    first = (random.random(), torch.rand(3))
    seed_everything(7)
    second = (random.random(), torch.rand(3))
    assert first[0] == second[0] and torch.equal(first[1], second[1])
    seed_everything(8)
    assert random.random() != first[0]


def test_rng_isolated_seeds_inside_and_gives_the_callers_state_back():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    with rng_isolated(3) as seed:
        inside = torch.rand(4)
        torch.manual_seed(99)                     # whatever the block does to the generator stays in the block
    assert seed == 3 and torch.equal(torch.get_rng_state(), before)
    with rng_isolated(3):
        assert torch.equal(torch.rand(4), inside)
    with rng_isolated():                          # no seed: the caller's state, forked
        assert torch.equal(torch.rand(4), torch.rand(4, generator=torch.Generator().manual_seed(5)))
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_rng_isolated_forks_every_cuda_device(fake_gpus, count):
    forked = fake_gpus(count)
    with rng_isolated(0):
        pass
    assert forked == [list(range(count))]


def _ntm_run(model, x, device):
    """Logits, trace and parameter gradients of one forward/backward pass on ``device``."""
    model = copy.deepcopy(model).to(device)
    logits, trace = model.trace(x.to(device))
    logits.sum().backward()
    grads = {n: p.grad.cpu() for n, p in model.named_parameters()}
    return logits.detach().cpu(), {k: v.detach().cpu() for k, v in trace.items()}, grads


def _parity(device, dtype, tol):
    seed_everything(0)
    model = NTM(4, 3, controller="lstm", controller_size=16, N=8, M=5, num_read_heads=2, num_write_heads=2,
                memory_init="learned").to(dtype)
    x = torch.randn(6, 3, 4, dtype=dtype)
    cpu, other = _ntm_run(model, x, "cpu"), _ntm_run(model, x, device)
    for a, b in zip(cpu[:2], other[:2]):
        torch.testing.assert_close(b, a, atol=tol, rtol=tol)
    for name in cpu[2]:
        torch.testing.assert_close(other[2][name], cpu[2][name], atol=tol, rtol=tol, msg=name)

    args = [torch.randn(3, 8, 5), torch.randn(3, 5), torch.rand(3, 1) * 5, torch.rand(3, 1),
            torch.softmax(torch.randn(3, 3), 1), 1 + torch.rand(3, 1) * 5, torch.softmax(torch.randn(3, 8), 1)]
    args = [a.to(dtype) for a in args]
    torch.testing.assert_close(address(*[a.to(device) for a in args]).cpu(), address(*args), atol=tol, rtol=tol)


def test_parity_harness_on_cpu():
    """The harness below, run CPU against CPU, so it is exercised on machines without a GPU too."""
    _parity("cpu", torch.float64, 0.0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-9), (torch.float32, 1e-4)])
def test_cpu_and_cuda_give_the_same_numbers(dtype, tol):
    _parity("cuda", dtype, tol)


def test_threads_sets_the_count_inside_the_block_and_restores_it():
    torch.set_num_threads(2)
    try:
        with threads(1) as n:
            assert n == 1 and torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with threads(None) as n:
            assert n == 2 and torch.get_num_threads() == 2
        with pytest.raises(RuntimeError), threads(1):
            raise RuntimeError("the block failed")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)


@pytest.mark.parametrize("n", [0, -1, 1.5, True, "2"])
def test_threads_rejects_anything_but_a_positive_integer(n):
    with pytest.raises(ValueError, match=r"threads must be an integer >= 1 or None, got"):
        with threads(n):
            pass


def test_ntm_course_train_from_python_leaves_the_thread_count_alone(tmp_path, capsys):
    """``--threads`` applies to the command's own run; called from Python, the caller's count comes back."""
    from ntm_course.teaching.cli import main
    torch.set_num_threads(2)
    try:
        assert main(["train", "copy", "--steps", "1", "--batch-size", "2", "--controller-size", "8", "--N", "8",
                     "--M", "4", "--eval-size", "2", "--threads", "1", "--no-progress",
                     "--device", "cpu"]) == 0
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(1)
