"""The checker: references pass, a catalogue of classic mistakes is caught with a relevant hint, correct
implementations written differently pass, and nothing a learner's function does makes a check raise.
Plus: every solution notebook runs without an error, its answers pass, and nbgrader's Validator gives it full
marks: each is executed once, by the Validator (``conftest.validated``), and these tests share that run. (The
exercises' twin checks are in test_release.py.)
"""
import math
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import ntm_course
from ntm_course.experiments.tasks import bits_per_sequence
from ntm_course.heads import split_head_params as library_split
from ntm_course.teaching.practice.values import compare
from ntm_course.teaching.practice.values import first_differing_example as _first_differing_example
from ntm_course_instructor.grading import EXERCISES, check, reference
from ntm_course_instructor.grading.train_step import ModelRecipe

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def outer(w, v):
    return w[:, :, None] * v[:, None, :]


# --- the mistake catalogue: real wrong implementations, each with words its hint must contain -----------

def shift_reversed(w, s):
    K = s.shape[1]
    return sum(s[:, k:k + 1] * torch.roll(w, -(k - K // 2), dims=1) for k in range(K))


def shift_not_circular(w, s):
    K = s.shape[1]
    padded = F.pad(w, (K // 2, K // 2))                     # zeros beyond the ends
    windows = padded.unfold(1, K, 1)                        # (B, N, K)
    return (windows * s.flip(1)[:, None, :]).sum(dim=2)


def shift_only_k3(w, s):
    return s[:, 0:1] * torch.roll(w, -1, 1) + s[:, 1:2] * w + s[:, 2:3] * torch.roll(w, 1, 1)


def shift_numpy(w, s):
    w_np, s_np = w.numpy(), s.numpy()
    K = s_np.shape[1]
    out = sum(s_np[:, k:k + 1] * np.roll(w_np, k - K // 2, axis=1) for k in range(K))
    return torch.from_numpy(out)


def shift_float32(w, s):
    K = s.shape[1]
    out = torch.zeros(w.shape)                              # float32, whatever the inputs are
    for k in range(K):
        out[:] = out + s[:, k:k + 1] * torch.roll(w, k - K // 2, dims=1)
    return out


def write_add_then_erase(memory, w, erase, add):
    return (memory + outer(w, add)) * (1 - outer(w, erase))


def write_erase_everywhere(memory, w, erase, add):
    return memory * (1 - erase[:, None, :]) + outer(w, add)


def write_in_place(memory, w, erase, add):
    memory *= 1 - outer(w, erase)
    return memory + outer(w, add)


def cosine_dot(memory, key, eps=1e-8):
    return torch.einsum("bnm,bm->bn", memory, key)


def cosine_no_eps(memory, key, eps=1e-8):
    return torch.einsum("bnm,bm->bn", memory, key) / (memory.norm(dim=2) * key.norm(dim=1, keepdim=True))


def cosine_detached(memory, key, eps=1e-8):
    return ntm_course.cosine_similarity(memory.detach(), key.detach())


def content_no_beta(memory, key, beta):
    return torch.softmax(ntm_course.cosine_similarity(memory, key), dim=1)


def content_wrong_axis(memory, key, beta):
    return torch.softmax(beta * ntm_course.cosine_similarity(memory, key), dim=0)


def content_naive_exp(memory, key, beta):
    e = torch.exp(beta * ntm_course.cosine_similarity(memory, key))
    return e / e.sum(dim=1, keepdim=True)


def read_wrong_axis(memory, w):
    return torch.einsum("bnm,bm->bn", memory, w)


def read_unweighted(memory, w):
    return memory.sum(dim=1)


def interpolate_swapped(w_content, w_prev, g):
    return g * w_prev + (1 - g) * w_content


def interpolate_in_place(w_content, w_prev, g):
    w_prev.mul_(1 - g)
    return w_prev + g * w_content


def sharpen_unnormalised(w, gamma):
    return w ** gamma


def sharpen_times_gamma(w, gamma):
    scaled = gamma * w
    return scaled / scaled.sum(dim=1, keepdim=True)


def address_shift_first(memory, key, beta, g, s, gamma, w_prev):
    w = ntm_course.shift(ntm_course.content_addressing(memory, key, beta), s)
    return ntm_course.sharpen(ntm_course.interpolate(w, w_prev, g), gamma)


def address_no_shift(memory, key, beta, g, s, gamma, w_prev):
    w = ntm_course.interpolate(ntm_course.content_addressing(memory, key, beta), w_prev, g)
    return ntm_course.sharpen(w, gamma)


def _split(raw, M, K, write, clip):
    raw = raw if clip is None else raw.clamp(-clip, clip)
    return list(torch.split(raw, [M, 1, 1, K, 1] + ([M, M] if write else []), dim=1))


def params_with(**activations):
    def split(raw, M, K, write=False, clip=20.0):
        parts = _split(raw, M, K, write, clip)
        names = ["key", "beta", "g", "s", "gamma", "erase", "add"]
        act = {"key": lambda x: x, "beta": F.softplus, "g": torch.sigmoid, "s": lambda x: torch.softmax(x, 1),
               "gamma": lambda x: 1 + F.softplus(x), "erase": torch.sigmoid, "add": torch.tanh, **activations}
        return {n: act[n](p) for n, p in zip(names, parts)}
    return split


def params_unclipped(raw, M, K, write=False, clip=20.0):
    return params_with()(raw, M, K, write, None)


def ntm_step_reads_old_memory(memory, read_raws, write_raws, w_read_prev, w_write_prev, K=3):
    M = memory.shape[2]
    keys = ("key", "beta", "g", "s", "gamma")
    wps = [library_split(write_raws[:, i], M, K, write=True) for i in range(write_raws.shape[1])]
    rps = [library_split(read_raws[:, i], M, K) for i in range(read_raws.shape[1])]
    w_write = torch.stack([ntm_course.address(memory, *[p[k] for k in keys], w_write_prev[:, i])
                           for i, p in enumerate(wps)], dim=1)
    w_read = torch.stack([ntm_course.address(memory, *[p[k] for k in keys], w_read_prev[:, i])
                          for i, p in enumerate(rps)], dim=1)
    reads = torch.stack([ntm_course.read(memory, w_read[:, i]) for i in range(len(rps))], dim=1)
    new = ntm_course.write(memory, w_write, torch.stack([p["erase"] for p in wps], 1),
                           torch.stack([p["add"] for p in wps], 1))
    return new, reads, w_read, w_write


def train_step_variant(zero_grad=True, clip=True, masked=True):
    def train_step(model, optimizer, inputs, targets, mask, clip_value=10.0):
        if zero_grad:
            optimizer.zero_grad()
        loss = bits_per_sequence(model(inputs), targets, mask if masked else torch.ones_like(mask))
        loss.backward()
        if clip:
            torch.nn.utils.clip_grad_value_(model.parameters(), clip_value)
        optimizer.step()
        return loss.item()
    return train_step


MISTAKES = [
    ("shift", shift_reversed, "wrong way"),
    ("shift", shift_not_circular, "not circular"),
    ("shift", shift_only_k3, "for each offset"),
    ("shift", shift_numpy, "NumPy"),
    ("shift", shift_float32, "dtype"),
    ("write", write_add_then_erase, "added before erasing"),
    ("write", write_erase_everywhere, "ignores the weighting"),
    ("write", write_in_place, "in place"),
    ("cosine_similarity", cosine_dot, "dot product"),
    ("cosine_similarity", cosine_no_eps, "zero vector"),
    ("cosine_similarity", cosine_detached, "cut off from the graph"),
    ("content_addressing", content_no_beta, "beta is missing"),
    ("content_addressing", content_wrong_axis, "wrong axis"),
    ("content_addressing", content_naive_exp, "overflows"),
    ("read", read_wrong_axis, "N rows"),
    ("read", read_unweighted, "plain sum"),
    ("interpolate", interpolate_swapped, "swapped"),
    ("interpolate", interpolate_in_place, "in place"),
    ("sharpen", sharpen_unnormalised, "renormalise"),
    ("sharpen", sharpen_times_gamma, "multiplies instead"),
    ("address", address_shift_first, "wrong order"),
    ("address", address_no_shift, "shift is missing"),
    ("split_head_params", params_with(s=lambda x: torch.softmax(x, 0)), "wrong axis"),
    ("split_head_params", params_with(gamma=F.softplus), "at least 1"),
    ("split_head_params", params_with(beta=torch.exp), "softplus"),
    ("split_head_params", params_unclipped, "not clipped"),
    ("ntm_step", ntm_step_reads_old_memory, "before the write"),
    ("train_step", train_step_variant(zero_grad=False), "zero_grad"),
    ("train_step", train_step_variant(clip=False), "not clipped"),
    ("train_step", train_step_variant(masked=False), "mask"),
]


@pytest.mark.parametrize("name, fn, hint", MISTAKES, ids=[f"{n}-{f.__name__}" for n, f, _ in MISTAKES])
def test_mistake_is_caught_with_a_relevant_hint(name, fn, hint):
    result = check(name, fn, verbose=False)
    assert not result.passed
    assert result.points < result.max_points
    assert hint in result.report


# --- correct implementations written differently from the library -----------------------------------

def cosine_normalize(memory, key, eps=1e-8):
    return (F.normalize(memory, dim=2, eps=eps) * F.normalize(key, dim=1, eps=eps)[:, None, :]).sum(dim=2)


def cosine_torch(memory, key, eps=1e-8):
    return F.cosine_similarity(memory, key[:, None, :].expand_as(memory), dim=2, eps=eps)


def content_stable_exp(memory, key, beta):
    z = beta * cosine_normalize(memory, key)
    e = torch.exp(z - z.max(dim=1, keepdim=True).values)
    return e / e.sum(dim=1, keepdim=True)


def read_einsum(memory, w):
    return torch.einsum("bn,bnm->bm", w, memory)


def write_einsum(memory, w, erase, add):
    erased = memory - torch.einsum("bn,bm->bnm", w, erase) * memory
    return erased + torch.einsum("bn,bm->bnm", w, add)


def interpolate_lerp(w_content, w_prev, g):
    return torch.lerp(w_prev, w_content, g)


def shift_unfold(w, s):
    K, p = s.shape[1], s.shape[1] // 2
    N = w.shape[1]
    tiled = torch.cat([w] * (2 * math.ceil(p / N) + 1), dim=1)        # enough copies to wrap any K
    start = math.ceil(p / N) * N - p
    windows = tiled[:, start:start + N + 2 * p].unfold(1, K, 1)      # window i holds w[i-p .. i+p]
    return (windows * s.flip(1)[:, None, :]).sum(dim=2)


def sharpen_log_softmax(w, gamma):
    return torch.softmax(gamma * torch.log(w), dim=1)


def address_own_stages(memory, key, beta, g, s, gamma, w_prev):
    w = interpolate_lerp(content_stable_exp(memory, key, beta), w_prev, g)
    return sharpen_log_softmax(shift_unfold(w, s), gamma)


def split_by_index(raw, M, K, write=False, clip=20.0):
    if clip is not None:
        raw = torch.maximum(torch.minimum(raw, torch.tensor(clip, dtype=raw.dtype)), torch.tensor(-clip, dtype=raw.dtype))
    params = {"key": raw[:, :M], "beta": torch.log1p(torch.exp(raw[:, M:M + 1])),
              "g": 1 / (1 + torch.exp(-raw[:, M + 1:M + 2])), "s": torch.softmax(raw[:, M + 2:M + 2 + K], dim=-1),
              "gamma": 1 + F.softplus(raw[:, M + 2 + K:M + 3 + K])}
    if write:
        params.update(erase=torch.sigmoid(raw[:, M + 3 + K:2 * M + 3 + K]), add=torch.tanh(raw[:, 2 * M + 3 + K:]))
    return params


def ntm_step_own(memory, read_raws, write_raws, w_read_prev, w_write_prev, K=3):
    """Written differently: own stages, and the writes as all erases then all adds, head by head."""
    M = memory.shape[2]
    keys = ("key", "beta", "g", "s", "gamma")
    wps = [split_by_index(write_raws[:, i], M, K, True) for i in range(write_raws.shape[1])]
    w_write = [address_own_stages(memory, *[p[k] for k in keys], w_write_prev[:, i]) for i, p in enumerate(wps)]
    for w, p in zip(w_write, wps):
        memory = memory * (1 - torch.einsum("bn,bm->bnm", w, p["erase"]))
    for w, p in zip(w_write, wps):
        memory = memory + torch.einsum("bn,bm->bnm", w, p["add"])
    w_read, reads = [], []
    for i in range(read_raws.shape[1]):
        p = split_by_index(read_raws[:, i], M, K)
        w_read.append(address_own_stages(memory, *[p[k] for k in keys], w_read_prev[:, i]))
        reads.append(read_einsum(memory, w_read[-1]))
    return memory, torch.stack(reads, 1), torch.stack(w_read, 1), torch.stack(w_write, 1)


def train_step_by_hand(model, optimizer, inputs, targets, mask, clip=10.0):
    for p in model.parameters():
        p.grad = None
    logits = model(inputs)
    nats = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").sum(dim=2)
    loss = (nats * mask).sum(dim=0).mean() / math.log(2)
    loss.backward()
    for p in model.parameters():
        p.grad.clamp_(-clip, clip)
    optimizer.step()
    return float(loss)


VARIANTS = [("cosine_similarity", cosine_normalize), ("cosine_similarity", cosine_torch),
            ("content_addressing", content_stable_exp), ("read", read_einsum), ("write", write_einsum),
            ("interpolate", interpolate_lerp), ("shift", shift_unfold), ("sharpen", sharpen_log_softmax),
            ("address", address_own_stages), ("split_head_params", split_by_index), ("ntm_step", ntm_step_own),
            ("train_step", train_step_by_hand)]


@pytest.mark.parametrize("name, fn", VARIANTS, ids=[f.__name__ for _, f in VARIANTS])
def test_correct_variant_passes(name, fn):
    result = check(name, fn, verbose=False)
    assert result.passed, result.report
    assert result.points == result.max_points


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_reference_passes_and_scores_every_group(name):
    result = check(name, reference(name), verbose=False)
    assert result.passed and result.points == result.max_points == len(EXERCISES[name].groups)
    assert all(result.groups.values())


# --- robustness: a check never raises because of the learner's code ---------------------------------

def raises_value_error(w, s):
    raise ValueError("oops")


def returns_none(w, s):
    return None


def returns_transposed(w, s):
    return w.T.contiguous()


def returns_nan(w, s):
    return torch.full_like(w, float("nan"))


def wrong_arguments(w):
    return w


def returns_list(w, s):
    return w.tolist()


def exits(w, s):
    raise SystemExit(1)


@pytest.mark.parametrize("fn, words", [(raises_value_error, "raised ValueError: oops"),
                                       (returns_none, "should be a torch.Tensor, got NoneType"),
                                       (returns_transposed, "has shape"),
                                       (returns_nan, "contains NaN"),
                                       (wrong_arguments, "same arguments as the library's: shift(w, s)"),
                                       (returns_list, "should be a torch.Tensor, got list"),
                                       (exits, "raised SystemExit"),
                                       (42, "expected a function")],
                         ids=["raises", "none", "shape", "nan", "signature", "list", "exit", "not-callable"])
def test_check_never_raises_and_scores_zero(fn, words, capsys):
    result = check("shift", fn)
    assert (result.points, result.passed) == (0, False)
    assert words in capsys.readouterr().out


def test_not_implemented_scores_zero_with_a_friendly_message(capsys):
    def shift(w, s):
        raise NotImplementedError()
    result = check("shift", shift)
    assert (result.points, result.max_points, result.passed) == (0, 4, False)
    assert "not implemented yet" in capsys.readouterr().out


def test_report_shows_case_input_expected_got_and_hint():
    report = check("shift", shift_reversed, verbose=False).report
    for part in ("✗ values", "case: random", "w = ", "s = ", "expected: ", "got: ", "hint: "):
        assert part in report


def test_partial_credit_for_an_in_place_but_correct_answer():
    result = check("interpolate", interpolate_in_place, verbose=False)
    assert result.groups["values"] and not result.groups["inputs untouched"]
    assert 0 < result.points < result.max_points


def test_values_gate_the_other_groups():
    result = check("interpolate", interpolate_swapped, verbose=False)
    assert result.points == 0 and result.groups["values"] is False
    assert result.groups["gradients"] is None and result.groups["inputs untouched"] is None


def test_checks_are_deterministic():
    assert check("shift", shift_reversed, verbose=False).report == check("shift", shift_reversed, verbose=False).report


def test_learner_warnings_are_silenced():
    """A warning would reach stderr, and nbgrader gives a graded cell with stderr output 0 points."""
    def shift(w, s):
        warnings.warn("noisy learner code")
        return ntm_course.shift(w, s)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert check("shift", shift, verbose=False).passed
    assert caught == []


def test_check_leaves_the_thread_count_alone():
    """checker.session_kept: a check never touches the learner's thread count."""
    seen, before = [], torch.get_num_threads()

    def read(memory, w):
        seen.append(torch.get_num_threads())
        return read_einsum(memory, w)

    torch.set_num_threads(2)
    try:
        check("read", read, verbose=False)
        assert torch.get_num_threads() == 2 and set(seen) == {2}
    finally:
        torch.set_num_threads(before)


def test_train_step_models_leave_the_callers_generator_alone():
    """The train_step check seeds each tiny model's initialisation in a fork: building one, or running the whole
    check, leaves torch's global generator as found, and the same recipe builds the same model."""
    torch.manual_seed(7)
    before = torch.get_rng_state()
    first, second = ModelRecipe(3).build(), ModelRecipe(3).build()
    assert torch.equal(torch.get_rng_state(), before)
    assert all(torch.equal(a, b) for a, b in zip(first.parameters(), second.parameters()))
    assert check("train_step", reference("train_step"), verbose=False).passed
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.parametrize("count", [1, 3])
def test_train_step_models_fork_every_cuda_generator(fake_gpus, count):
    """With ``count`` CUDA devices (a stand-in: the fork itself runs on the CPU's generator), building a train_step
    model forks every device's generator, not only the CPU's; so does every check, around the learner's code."""
    forked = fake_gpus(count)
    ModelRecipe(0).build()
    assert forked == [list(range(count))]
    forked.clear()
    assert check("train_step", reference("train_step"), verbose=False).passed
    builds = len(EXERCISES["train_step"].cases("values")) + len(EXERCISES["train_step"].cases("edge cases"))
    assert forked.count(list(range(count))) >= 2 * builds   # the reference's model and the learner's, every case


@given(B=st.integers(2, 5), N=st.integers(1, 6), data=st.data(),
       dtype=st.sampled_from([torch.float32, torch.float64]))
def test_compare_finds_the_first_changed_example(B, N, data, dtype):
    expected = torch.rand(B, N, dtype=dtype)
    b, i = data.draw(st.integers(0, B - 1)), data.draw(st.integers(0, N - 1))
    assert compare(expected, expected * (1 + 1e-9)) is None                 # within tolerance
    got = expected.clone()
    got[b, i] += 1e-2
    assert compare(expected, got)[0] == "values"
    assert _first_differing_example(expected, got) == b
    assert compare(expected, got.to(torch.float64 if dtype == torch.float32 else torch.float32))[0] == "dtype"
    assert compare(expected, got.T if N > 1 and N != B else got[:, :0])[0] == "shape"


def test_unknown_exercise_is_a_value_error():
    with pytest.raises(ValueError, match="name must be one of"):
        check("shfit", shift_reversed)


def test_grading_imports_no_plotting_or_widgets():
    code = ("import sys, ntm_course_instructor.grading, ntm_course_instructor.grading.gradebook, "
            "ntm_course_instructor.release; "
            "bad = [m for m in ('matplotlib', 'ipywidgets') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


# --- the solution notebooks, each executed once by nbgrader's Validator (conftest.validated) ---------------

def graded_cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_every_cell_of_a_solution_runs_without_an_error(validated, path):
    errors = validated(path, invert=False).errors
    assert not errors, f"{path.name}: " + "; ".join(errors)


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_answers_pass_their_checks(validated, path):
    """Each graded cell runs the course's check on the solution's function: full marks, its points the cell's."""
    graded = graded_cells(validated(path, invert=False).notebook)
    assert graded
    for cell in graded:
        meta = cell.metadata.nbgrader
        name = meta["grade_id"].removesuffix("_check")
        assert meta["grade_id"] == f"{name}_check" and name in EXERCISES
        report = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert report.startswith(f"{name}: ") and " points -- well done!" in report.splitlines()[0], report
        (shown,) = [o.data["text/plain"] for o in cell.outputs if o.output_type == "execute_result"]
        assert shown == str(meta["points"])                  # the check's grade, on the cell's (the syllabus's) scale


def test_every_exercise_is_graded_somewhere():
    graded = set()
    for path in SOLUTIONS:
        nb = nbformat.read(str(path), as_version=4)
        graded |= {c.metadata.nbgrader["grade_id"].removesuffix("_check") for c in graded_cells(nb)}
    assert graded == set(EXERCISES)


@pytest.mark.slow
@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_nbgrader_validator_gives_solutions_full_marks(validated, path):
    assert validated(path, invert=False).results == {}


def test_reference_of_an_unknown_exercise_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match=r"^name must be one of \[.*'shift'.*\], got 'shfit'$"):
        reference("shfit")
    assert reference("shift") is EXERCISES["shift"].reference


def learners_train_step(clip_norm=False, mean_loss=False):
    def train_step(model, optimizer, inputs, targets, mask, clip=10.0):
        optimizer.zero_grad()
        logits = model(inputs)
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(logits, targets) if mean_loss
                else bits_per_sequence(logits, targets, mask))
        loss.backward()
        if clip_norm:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        else:
            torch.nn.utils.clip_grad_value_(model.parameters(), clip)
        optimizer.step()
        return loss.item()
    return train_step


@pytest.mark.parametrize("options, group, hint", [
    # clipping the norm instead of each element only shows where clipping bites: the strong-clipping edge case
    (dict(clip_norm=True), "edge cases", "the paper clips each gradient element to [-clip, clip] "
                                         "(clip_grad_value_), not the gradient's norm"),
    (dict(mean_loss=True), "values", "the loss is a mean over every bit: the cost is in bits per sequence"),
])
def test_train_step_mistakes_are_recognised(options, group, hint):
    result = check("train_step", learners_train_step(**options), verbose=False)
    assert result.groups[group] is False and list(result.failures)[0] == group
    assert result.failures[group].hint.startswith(hint)
