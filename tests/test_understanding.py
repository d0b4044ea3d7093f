"""The exercises that test understanding (the instructor's blog_shift, reverse_copy and ntm_step, and the practice
debug_nans, whose answers are lessons 2 and 6's stub contracts): each reference is right (checked against the rule, the machine's output or NTMCell) and scores full
marks, the machine harness runs and names what is wrong, correct answers written differently pass, and wrong
answers beyond each exercise's catalogue of mistakes score less with the hint that names the mistake.

What every graded exercise gets alike (its solution notebook scores full marks, its released exercise 0, each
catalogued mistake less with its hint) is tests/test_graded_exercises.py's."""
import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

import ntm_course
from ntm_course.handcrafted import copy_head_params, shift_distribution
from ntm_course.ntm import NTMCell
from ntm_course.teaching.harness import run_machine
from ntm_course.teaching.practice.exercises import debug_nans
from ntm_course_instructor.grading import EXERCISES, blog_shift, check, reference

ROOT = Path(__file__).resolve().parents[1]
NEW = ("blog_rule_s", "blog_rule_answers", "stable_cosine_similarity", "stable_sharpen", "reverse_copy_head_params",
       "ntm_step")


@pytest.mark.parametrize("name", NEW)
def test_reference_scores_full_marks(name):
    assert name in EXERCISES
    result = check(name, reference(name), verbose=False)
    assert result.passed and result.points == result.max_points == len(EXERCISES[name].groups), result.report


# --- the references are right ---------------------------------------------------------------------------

@pytest.mark.parametrize("K, N", [(11, 6), (11, 12), (13, 4), (15, 20), (21, 8), (23, 3)])
def test_blog_rule_s_applies_the_rule(K, N):
    w = torch.rand(3, N, generator=torch.Generator().manual_seed(K * N), dtype=torch.float64)
    s = reference("blog_rule_s")(K)
    assert s.shape == (1, K) and s.sum().item() == pytest.approx(1.0)
    rolled = 0.3 * torch.roll(w, -3, 1) + 0.5 * torch.roll(w, -4, 1) + 0.2 * torch.roll(w, -5, 1)
    by_hand = torch.stack([0.3 * w[:, (i + 3) % N] + 0.5 * w[:, (i + 4) % N] + 0.2 * w[:, (i + 5) % N]
                           for i in range(N)], dim=1)
    assert torch.allclose(rolled, by_hand)
    assert torch.allclose(ntm_course.shift(w, s.double().expand(3, K)), by_hand)
    assert torch.allclose(blog_shift.blog_rule_directly(w), by_hand)


def test_blog_rule_answers_agree_with_blog_rule_s():
    answers = reference("blog_rule_answers")()
    s = reference("blog_rule_s")(answers["K"])
    assert [s[0, c].item() for c in answers["columns"]] == pytest.approx([0.3, 0.5, 0.2])
    assert [c - answers["K"] // 2 for c in answers["columns"]] == list(answers["offsets"])


def test_stable_references_are_finite_where_the_first_attempts_are_not():
    memory, key = torch.randn(2, 4, 3), torch.randn(2, 3)
    memory[:, 1] = 0
    assert torch.isnan(debug_nans.buggy_cosine_similarity(memory, key)).any()
    assert torch.isfinite(reference("stable_cosine_similarity")(memory, key)).all()
    w, gamma = torch.softmax(0.1 * torch.randn(1, 512), dim=1), torch.tensor([[20.0]])
    assert torch.isnan(debug_nans.buggy_sharpen(w, gamma)).all()
    sharpened = reference("stable_sharpen")(w, gamma)
    assert torch.isfinite(sharpened).all() and sharpened.sum().item() == pytest.approx(1.0)


@pytest.mark.parametrize("T, B, W, N", [(1, 1, 3, None), (3, 2, 4, None), (7, 3, 2, None), (4, 2, 5, 11)])
def test_reverse_copy_reference_reverses(T, B, W, N):
    sequence = torch.randn(T, B, W, generator=torch.Generator().manual_seed(T))
    output, trace = run_machine(reference("reverse_copy_head_params"), sequence, N, trace=True)
    assert torch.allclose(output, sequence.flip(0), atol=1e-6)
    assert trace["read_weights"].shape == (2 * T, B, N or T + 1)


def test_run_machine_runs_the_copy_machine_forward():
    sequence = (torch.rand(5, 2, 3, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    forward = run_machine(lambda step, T, W, inputs, B: copy_head_params(step, T, W, B, "location", inputs=inputs),
                            sequence)
    assert torch.equal(forward, sequence)


@pytest.mark.parametrize("params, words", [
    (lambda step, T, W, inputs, B: None, "a pair of dicts"),
    (lambda step, T, W, inputs, B: ({}, {}), "write_params is missing"),
    (lambda step, T, W, inputs, B: tuple(dict(p, s=p["s"][0]) for p in
                                         reference("reverse_copy_head_params")(step, T, W, inputs, B)),
     "['s'] has shape (3,), expected (B, K)"),
])
def test_run_machine_names_what_is_wrong(params, words):
    with pytest.raises(ValueError) as error:
        run_machine(params, torch.zeros(2, 1, 3))
    assert words in str(error.value) and "step 0" in str(error.value)


@pytest.mark.parametrize("R, W, K, controller", [(1, 1, 3, "lstm"), (2, 2, 3, "feedforward"), (3, 2, 5, "lstm")])
def test_ntm_step_reference_equals_ntm_cell(R, W, K, controller):
    """Every write head addresses M_{t-1}, all erase then all add, then the read heads address M_t: as NTMCell."""
    torch.manual_seed(R * 10 + W)
    B, N, M = 3, 7, 4
    cell = NTMCell(5, 2, controller=controller, controller_size=16, N=N, M=M, num_read_heads=R,
                   num_write_heads=W, shift_width=K).double()
    state = cell.initial_state(B)
    state = state._replace(memory=torch.randn(B, N, M, dtype=torch.float64),
                           read_weights=torch.softmax(torch.randn(B, R, N, dtype=torch.float64), 2),
                           write_weights=torch.softmax(torch.randn(B, W, N, dtype=torch.float64), 2))
    x = torch.randn(B, 5, dtype=torch.float64)
    with torch.no_grad():
        _, new, info = cell(x, state)
        h, _ = cell.controller(torch.cat([x, state.reads.flatten(1)], dim=1), state.controller)
        read_raws = cell.read_heads.fc(h).view(B, R, -1)                     # the heads' raw vectors, in order
        write_raws = cell.write_heads.fc(h).view(B, W, -1)
        memory, reads, w_read, w_write = reference("ntm_step")(state.memory, read_raws, write_raws,
                                                               state.read_weights, state.write_weights, K)
    for ours, cells in ((memory, new.memory), (reads, info["reads"]), (w_read, info["read_weights"]),
                        (w_write, info["write_weights"])):
        assert torch.allclose(ours, cells, atol=1e-12)


# --- correct answers written differently pass -------------------------------------------------------------

def blog_rule_s_by_offsets(K):
    offsets = torch.arange(K) - K // 2
    return (0.3 * (offsets == -3) + 0.5 * (offsets == -4) + 0.2 * (offsets == -5)).double().unsqueeze(0)


def cosine_clamp_each(memory, key, eps=1e-8):
    lengths = memory.norm(dim=2).clamp_min(eps) * key.norm(dim=1, keepdim=True).clamp_min(eps)
    return (memory * key[:, None]).sum(-1) / lengths


def cosine_torch(memory, key, eps=1e-8):
    return F.cosine_similarity(memory, key[:, None].expand_as(memory), dim=2, eps=eps)


def sharpen_max_not_detached(w, gamma):
    p = (w / w.max(dim=1, keepdim=True).values) ** gamma
    return p / p.sum(dim=1, keepdim=True)


def reverse_copy_with_content_jump(step, T, W, inputs=None, batch_size=1):
    """Another machine: the read head waits, then finds the last item by a marker written with it."""
    B, M = batch_size, W + 1

    def head(offset, key=None, beta=1.0, g=0.0):
        return {"key": torch.zeros(B, M) if key is None else key, "beta": torch.full((B, 1), beta),
                "g": torch.full((B, 1), g), "s": shift_distribution(offset, 3, batch_size=B), "gamma": torch.ones(B, 1)}

    if step < T:
        marker = torch.full((B, 1), 1.0 if step == T - 1 else 0.0)
        return dict(head(+1), erase=torch.ones(B, M), add=torch.cat([inputs, marker], dim=1)), head(0)
    writer = dict(head(0), erase=torch.zeros(B, M), add=torch.zeros(B, M))
    if step == T:
        key = torch.zeros(B, M)
        key[:, -1] = 1.0
        return writer, head(0, key, beta=100.0, g=1.0)
    return writer, head(-1)


def ntm_step_one_write_call_per_head_kind(memory, read_raws, write_raws, w_read_prev, w_write_prev, K=3):
    """The solution notebook's approach, with ntm_course.heads.address_with_params."""
    from ntm_course.heads import address_with_params, split_head_params
    M = memory.shape[2]
    wps = [split_head_params(write_raws[:, i], M, K, write=True) for i in range(write_raws.shape[1])]
    w_write = torch.stack([address_with_params(memory, p, w_write_prev[:, i]) for i, p in enumerate(wps)], 1)
    memory = ntm_course.write(memory, w_write, torch.stack([p["erase"] for p in wps], 1),
                              torch.stack([p["add"] for p in wps], 1))
    rps = [split_head_params(read_raws[:, i], M, K) for i in range(read_raws.shape[1])]
    w_read = torch.stack([address_with_params(memory, p, w_read_prev[:, i]) for i, p in enumerate(rps)], 1)
    return memory, torch.einsum("brn,bnm->brm", w_read, memory), w_read, w_write


VARIANTS = [("blog_rule_s", blog_rule_s_by_offsets), ("stable_cosine_similarity", cosine_clamp_each),
            ("stable_cosine_similarity", cosine_torch), ("stable_sharpen", sharpen_max_not_detached),
            ("reverse_copy_head_params", reverse_copy_with_content_jump),
            ("ntm_step", ntm_step_one_write_call_per_head_kind),
            ("blog_rule_answers", lambda: {"K": 11, "offsets": [-3, -4, -5], "columns": [2, 1, 0], "note": "lists"})]


@pytest.mark.parametrize("name, fn", VARIANTS, ids=[f"{n}-{f.__name__}" for n, f in VARIANTS])
def test_correct_variant_passes(name, fn):
    result = check(name, fn, verbose=False)
    assert result.passed, result.report


# --- wrong answers beyond the catalogue: fewer points, and the hint that names the mistake ---------------------
# (the catalogued mistakes themselves: tests/test_graded_exercises.py)

def cosine_sqrt(memory, key, eps=1e-8):
    lengths = ((memory ** 2).sum(2) * (key ** 2).sum(1, keepdim=True)).sqrt()
    return (memory * key[:, None]).sum(-1) / lengths.clamp_min(eps)


def sharpen_plus_eps(w, gamma):
    p = w ** gamma
    return p / (p.sum(dim=1, keepdim=True) + 1e-12)


def sharpen_log_softmax(w, gamma):
    return torch.softmax(gamma * torch.log(w), dim=1)


def ntm_step_head_by_head(memory, read_raws, write_raws, w_read_prev, w_write_prev, K=3):
    """The catalogue's heads-writing-in-turn mistake, written the way a learner would (not the catalogue's function)."""
    from ntm_course.heads import address_with_params, split_head_params
    M = memory.shape[2]
    old, w_write = memory, []
    for i in range(write_raws.shape[1]):
        p = split_head_params(write_raws[:, i], M, K, write=True)
        w_write.append(address_with_params(old, p, w_write_prev[:, i]))
        memory = ntm_course.write(memory, w_write[-1], p["erase"], p["add"])
    rps = [split_head_params(read_raws[:, i], M, K) for i in range(read_raws.shape[1])]
    w_read = torch.stack([address_with_params(memory, p, w_read_prev[:, i]) for i, p in enumerate(rps)], 1)
    reads = torch.stack([ntm_course.read(memory, w_read[:, i]) for i in range(len(rps))], 1)
    return memory, reads, w_read, torch.stack(w_write, 1)


def ntm_step_unstacked(memory, read_raws, write_raws, w_read_prev, w_write_prev, K=3):
    new, reads, w_read, w_write = reference("ntm_step")(memory, read_raws, write_raws, w_read_prev, w_write_prev, K)
    return new, reads[:, 0], w_read[:, 0], w_write[:, 0]


MISTAKES = [
    ("blog_rule_s", lambda K: torch.tensor([0.2, 0.5, 0.3] + [0.0] * (K - 3)), "shape (1, K)"),
    ("blog_rule_answers", lambda: {"K": 11}, "'offsets' is missing"),
    ("stable_cosine_similarity", lambda m, k, eps=1e-8: debug_nans.buggy_cosine_similarity(m, k), "0 / 0 = NaN"),
    ("stable_cosine_similarity", cosine_sqrt, "infinite slope at 0"),
    ("stable_sharpen", debug_nans.buggy_sharpen, "underflowed"),
    ("stable_sharpen", sharpen_plus_eps, "eps"),
    ("stable_sharpen", sharpen_log_softmax, "log(0)"),
    ("stable_sharpen", lambda w, gamma: w.detach() ** gamma / (w.detach() ** gamma).sum(1, keepdim=True),
     "cut off from the graph"),
    ("ntm_step", ntm_step_head_by_head, "every head erases, then every head adds"),
    ("ntm_step", ntm_step_unstacked, "stacked on dim 1"),
]


@pytest.mark.parametrize("name, fn, hint", MISTAKES, ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(MISTAKES)])
def test_mistake_scores_less_with_the_right_hint(name, fn, hint):
    result = check(name, fn, verbose=False)
    assert result.points < result.max_points
    assert hint in result.report, result.report


def test_at_least_twelve_graded_checks_and_thirteen_exercise_notebooks():
    assert len(EXERCISES) >= 12
    assert len(list((ROOT / "exercises").glob("*.ipynb"))) >= 13


@pytest.mark.parametrize("name, fn, message", [
    ("blog_rule_s", lambda K: [0.0] * K,
     r"blog_rule_s\(\d+\) must return a torch\.Tensor s of shape \(1, \d+\), got list"),
    ("blog_rule_answers", lambda: [3, (3, 4, 5)],
     r"blog_rule_answers\(\) must return a dict with keys 'K', 'offsets' and 'columns', got list"),
    ("stable_cosine_similarity", lambda memory, key: 0.5, r"the result must be a torch\.Tensor, got float"),
    ("stable_cosine_similarity", lambda memory, key: torch.zeros(memory.shape[:2], dtype=memory.dtype),
     r"no gradient reaches the inputs: the result is cut off from the graph"),
])
def test_an_answer_of_the_wrong_kind_fails_with_what_it_must_be(name, fn, message):
    result = check(name, fn, verbose=False)
    assert result.points == 0
    assert re.match(f"your function raised ValueError: {message}", result.failures["values"].problem)
