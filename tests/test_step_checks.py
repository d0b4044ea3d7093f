"""The checks of the two stubs that make the machine whole: ``memory_step`` (lesson 8) and ``training_step``
(lesson 9). The course's version and a learner's other correct version pass; each classic mistake fails with its
own hint; the single-head step agrees with the library's multi-head step on one head of each kind."""
import pytest
import torch

from ntm_course.heads import split_head_params
from ntm_course.step import memory_step, single_head_step, training_step
from ntm_course.teaching.practice import check
from ntm_course.teaching.practice.exercises.heads import MEMORY_STEP
from ntm_course.teaching.practice.exercises.training import TRAINING_STEP


def other_memory_step(memory, write_params, read_params, w_write_prev, w_read_prev):
    """A learner's version: the pipeline and the memory written out by hand, not the library's functions."""
    def focus(mem, p, w_prev):
        sim = torch.nn.functional.cosine_similarity(mem, p["key"].unsqueeze(1), dim=2, eps=1e-8)
        w = torch.softmax(p["beta"] * sim, dim=1)
        w = p["g"] * w + (1 - p["g"]) * w_prev
        K = p["s"].shape[1]
        w = sum(p["s"][:, k:k + 1] * torch.roll(w, k - K // 2, dims=1) for k in range(K))
        w = (w / w.max(dim=1, keepdim=True).values) ** p["gamma"]
        return w / w.sum(dim=1, keepdim=True)
    w_write = focus(memory, write_params, w_write_prev)
    memory = (memory * (1 - w_write.unsqueeze(2) * write_params["erase"].unsqueeze(1))
              + w_write.unsqueeze(2) * write_params["add"].unsqueeze(1))
    w_read = focus(memory, read_params, w_read_prev)
    return memory, torch.bmm(w_read.unsqueeze(1), memory).squeeze(1), w_read, w_write


def other_training_step(model, optimizer, loss_of, clip=10.0):
    optimizer.zero_grad(set_to_none=False)
    loss = loss_of()
    grads = torch.autograd.grad(loss, list(model.parameters()), allow_unused=True)
    for p, g in zip(model.parameters(), grads):
        if g is not None:
            p.grad = g.clamp(-clip, clip)
    optimizer.step()
    return loss


@pytest.mark.parametrize("name, fn", [("memory_step", single_head_step), ("memory_step", other_memory_step),
                                      ("training_step", training_step), ("training_step", other_training_step)])
def test_correct_versions_pass(name, fn):
    result = check(name, fn, verbose=False)
    assert result.passed, result.report


@pytest.mark.parametrize("exercise", [MEMORY_STEP, TRAINING_STEP], ids=lambda e: e.name)
def test_every_classic_mistake_fails_with_its_hint(exercise):
    for hint, wrong in exercise.mistakes:
        result = check(exercise.name, wrong, verbose=False)
        assert not result.passed, hint
        assert hint in [f.hint for f in result.failures.values()], (hint, result.report)


def test_the_single_head_step_is_the_librarys_step_on_one_head_of_each_kind():
    gen = torch.Generator().manual_seed(0)
    B, N, M, K = 3, 7, 4, 3
    memory = torch.randn(B, N, M, generator=gen)
    write_params = split_head_params(2 * torch.randn(B, 3 * M + K + 3, generator=gen), M, K, write=True)
    read_params = split_head_params(2 * torch.randn(B, M + K + 3, generator=gen), M, K)
    w_write, w_read = (torch.softmax(torch.randn(B, N, generator=gen), dim=1) for _ in range(2))
    one = single_head_step(memory, write_params, read_params, w_write, w_read)
    heads = memory_step(memory, {k: v.unsqueeze(1) for k, v in write_params.items()},
                        {k: v.unsqueeze(1) for k, v in read_params.items()}, w_write.unsqueeze(1), w_read.unsqueeze(1))
    torch.testing.assert_close(one[0], heads[0])
    for single, stacked in zip(one[1:], heads[1:]):
        torch.testing.assert_close(single, stacked[:, 0])

