"""Exercise 07_associative_recall: the reference machine answers with the item that followed the query (episodes
built by hand and by hypothesis), the harness ``run_recall_machine`` runs steps 0 .. T + 1 with the documented
inputs and names what is wrong, the check's episodes keep their items apart, and other right machines pass."""
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ntm_course.handcrafted import shift_distribution
from ntm_course.teaching.harness import run_recall_machine
from ntm_course_instructor.grading import EXERCISES, associative_recall, check, reference

RECALL = reference("recall_head_params")


def bits(rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_a_hand_made_episode_answers_the_next_item():
    items = bits([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0]])           # T = 4, W = 3
    for q in range(3):
        answer = run_recall_machine(RECALL, items.unsqueeze(1), items[q:q + 1])
        assert torch.allclose(answer, items[q + 1:q + 2], atol=1e-12), q


def test_each_example_of_a_batch_is_answered_on_its_own_query():
    gen = torch.Generator().manual_seed(3)
    sequence, query, positions = associative_recall.episode(gen, 6, 4, 5, queries=[4, 0, 2, 1])
    answer = run_recall_machine(RECALL, sequence, query)
    assert torch.allclose(answer, associative_recall.expected_answer(sequence, positions), atol=1e-9)
    assert torch.equal(associative_recall.expected_answer(sequence, positions)[0], sequence[5, 0])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(T=st.integers(2, 7), B=st.integers(1, 3), W=st.integers(5, 8), extra=st.integers(0, 4), seed=st.integers(0, 99),
       dtype=st.sampled_from([torch.float32, torch.float64]))
def test_the_reference_answers_every_episode_of_far_apart_items(T, B, W, extra, seed, dtype):
    gen = torch.Generator().manual_seed(seed)
    sequence, query, positions = associative_recall.episode(gen, T, B, W)
    sequence, query = sequence.to(dtype), query.to(dtype)
    answer, trace = run_recall_machine(RECALL, sequence, query, N=T + 1 + extra, trace=True)
    assert answer.dtype == dtype
    assert torch.allclose(answer, associative_recall.expected_answer(sequence, positions), atol=1e-4)
    rows = trace["read_weights"][T].argmax(dim=1)                     # the jump lands on the query's row
    assert rows.tolist() == positions


def test_the_trace_covers_steps_0_to_T_plus_1():
    sequence = bits([[1, 0], [0, 1], [1, 1]]).unsqueeze(1)
    answer, trace = run_recall_machine(RECALL, sequence, sequence[0], N=6, trace=True)
    assert trace["read_weights"].shape == (5, 1, 6) and trace["memory"].shape == (5, 1, 6, 3)
    assert trace["write_weights"][:3, 0].argmax(dim=1).tolist() == [0, 1, 2]
    assert torch.equal(trace["memory"][-1, 0, :3, :2], sequence[:, 0])      # the query was not written
    assert trace["read_weights"][3:, 0].argmax(dim=1).tolist() == [0, 1]


def test_the_harness_passes_the_items_then_the_query_then_none():
    seen = []

    def head_params(step, T, W, inputs=None, batch_size=1):
        seen.append((step, T, W, batch_size, None if inputs is None else inputs.tolist()))
        return RECALL(step, T, W, inputs, batch_size)

    items = bits([[1, 0], [0, 1], [1, 1]]).unsqueeze(1)
    run_recall_machine(head_params, items, items[1])
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4] and {s[1:4] for s in seen} == {(3, 2, 1)}
    assert [s[4] for s in seen] == [[[1, 0]], [[0, 1]], [[1, 1]], [[0, 1]], None]


@pytest.mark.parametrize("args, words", [
    ((torch.zeros(3, 2), torch.zeros(2, 2)), "sequence must have shape (T, B, W)"),
    ((torch.zeros(0, 1, 2), torch.zeros(1, 2)), "at least one item"),
    ((torch.zeros(3, 1, 2), torch.zeros(2, 2)), "query"),
    ((torch.zeros(3, 1, 2), torch.zeros(1, 2, dtype=torch.float64)), "share one dtype"),
    ((torch.zeros(3, 1, 2), torch.zeros(1, 2), 3), "N must be at least T + 1 = 4"),
])
def test_the_harness_names_a_wrong_episode(args, words):
    with pytest.raises(ValueError) as error:
        run_recall_machine(RECALL, *args)
    assert words in str(error.value)


@pytest.mark.parametrize("params, words", [
    (lambda step, T, W, inputs, B: None, "a pair of dicts"),
    (lambda step, T, W, inputs, B: ({}, {}), "write_params is missing"),
    (lambda step, T, W, inputs, B: tuple(dict(p, s=p["s"][0]) for p in RECALL(step, T, W, inputs, B)),
     "['s'] has shape (3,), expected (B, K)"),
])
def test_the_harness_names_what_is_wrong_with_the_learners_params(params, words):
    with pytest.raises(ValueError) as error:
        run_recall_machine(params, torch.eye(3).unsqueeze(1), torch.eye(3)[:1])
    assert words in str(error.value) and "step 0" in str(error.value)


def test_the_checks_episodes_keep_their_items_apart_and_query_the_first_t_minus_1():
    for group in ("values", "edge cases"):
        for case in EXERCISES["recall_head_params"].cases(group):
            sequence, query, N = case.args
            T, B, W = sequence.shape
            assert N >= T + 1
            for b in range(B):
                items = sequence[:, b].double()
                assert associative_recall._cosines(items, 0).max() <= 1 - associative_recall.GAP
                matches = [t for t in range(T) if torch.equal(sequence[t, b], query[b])]
                assert len(matches) == 1 and matches[0] < T - 1


def jump_and_shift_at_once(step, T, W, inputs=None, batch_size=1):
    """Another right machine: a marker column on every stored row, and the jump and the +1 shift in one step."""
    B, M = batch_size, W + 1

    def head(offset, key=None, g=0.0, beta=1.0):
        return {"key": torch.zeros(B, M) if key is None else key, "beta": torch.full((B, 1), beta),
                "g": torch.full((B, 1), g), "s": shift_distribution(offset, 3, batch_size=B), "gamma": torch.ones(B, 1)}

    rest = dict(head(0), erase=torch.zeros(B, M), add=torch.zeros(B, M))
    if step < T:
        return dict(head(+1), erase=torch.ones(B, M), add=torch.cat([inputs, torch.ones(B, 1)], 1)), head(0)
    if step == T:
        return rest, head(+1, key=torch.cat([inputs, torch.ones(B, 1)], 1), g=1.0, beta=500.0)
    return rest, head(0)


@pytest.mark.parametrize("fn", [jump_and_shift_at_once, associative_recall._recall_variant(beta=1000.0)])
def test_other_right_machines_pass(fn):
    result = check("recall_head_params", fn, verbose=False)
    assert result.passed and result.grade == 4, result.report


def test_a_wrong_answer_shows_the_episode_and_the_answer_expected():
    report = check("recall_head_params", associative_recall._recall_variant(answer_shift=0), verbose=False).report
    assert "queried items [1]" in report and "expected:" in report and "answers with the query itself" in report
