"""The time-scrubber: the episode it records, where the heads are and how they moved, the story of a step, the
figure, and the wiring of its slider and play button, all without a browser."""
import html

import numpy as np
import pytest
import torch

import ntm_course as nc
from ntm_course.experiments.tasks import TASKS
from ntm_course.presentation.captions import caption
from ntm_course.presentation.scrubber import (EpisodeRecord, focus_rows, last_written, moves, phase, plot_step,
                                              record_episode, step_story, target_source, time_scrubber)


def one_hots(rows, N):
    w = np.zeros((len(rows), N))
    w[np.arange(len(rows)), rows] = 1.0
    return w


def hand_made(L=3, N=8):
    """A copy episode of length L played by a perfect machine: write on rows 0..L-1 (and on), the read head waits
    on row 0 while writing, then walks on; every output right."""
    T, width = 2 * L + 1, 2
    bits = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0]][:L], dtype=float)
    inputs = np.zeros((T, width + 1))
    inputs[:L, :width] = bits
    inputs[L, width] = 1
    targets = np.zeros((T, width))
    targets[L + 1:] = bits
    mask = np.r_[np.zeros(L + 1), np.ones(L)]
    reads = [0] * (L + 1) + list(range(1, L + 1))
    memory = np.zeros((T, N, 4))
    return EpisodeRecord(inputs, targets, targets.copy(), mask, memory, one_hots(list(range(T)), N),
                         one_hots(reads, N), "copy")


def test_focus_rows_and_moves_wrap_around_the_memory():
    w = one_hots([6, 7, 0, 1, 5, 5], 8)
    rows, weights = focus_rows(w)
    assert rows.tolist() == [6, 7, 0, 1, 5, 5] and weights.tolist() == [1.0] * 6
    assert moves(w).tolist() == [0, 1, 1, 1, -4, 0]                    # half way round counts as back
    assert moves(one_hots([3, 1], 8)).tolist() == [0, -2]
    with pytest.raises(ValueError, match=r"weighting over time \(T, N\)"):
        focus_rows(np.zeros(5))


def test_phases_sources_and_the_story_of_each_step():
    record = hand_made(L=3)
    assert [phase(record, t) for t in range(7)] == ["input"] * 3 + ["delimiter"] + ["answer"] * 3
    assert [target_source(record, t) for t in range(4, 7)] == [0, 1, 2]
    assert last_written(record, 1, 0) is None and last_written(record, 1, 5) == 1
    first = step_story(record, 0)
    assert first.startswith("Step 0 of 0-6 (input). The write head writes on row 0 (weight 1.00).")
    assert "the read head" not in first                                   # no move into step 0
    delimiter = step_story(record, 3)
    assert "(delimiter)" in delimiter and "the read head stayed" in delimiter
    answer = step_story(record, 5)
    assert "The read head is on row 2 (weight 1.00), which was written at step 2" in answer
    assert "the read head moved on one row" in answer
    assert "The target is the input of step 1, which the read head read at step 4 (row 1)" in answer
    assert answer.endswith("The output has 0 of 2 bits wrong.")
    with pytest.raises(ValueError, match="t must be a step of the episode, 0..6, got 7"):
        phase(record, 7)


def test_a_jump_is_told_as_a_jump():
    record = hand_made(L=3)._replace(read_weights=one_hots([0, 0, 0, 5, 1, 2, 3], 8))
    assert "the read head jumped 4 rows back" in step_story(record, 4)    # from row 5 to row 1 (of 8)


def test_plot_step_draws_the_step_and_carries_its_story_as_caption():
    record = hand_made(L=3)
    fig = plot_step(record, 5)
    assert caption(fig) == step_story(record, 5)
    assert fig.get_suptitle() == "copy: step 5 of 0-6 (answer)"
    titles = [ax.get_title() for ax in fig.axes]
    assert {"memory after step 5", "write weighting $w_t$ (hatched)", "read weighting $w_t$ (solid)"} <= set(titles)
    write_ax = fig.axes[titles.index("write weighting $w_t$ (hatched)")]
    assert all(patch.get_hatch() == "//" for patch in write_ax.patches)  # writes are told apart without colour
    with pytest.raises(ValueError, match="t must be a step"):
        plot_step(record, -1)


def test_the_shipped_copy_model_writes_on_then_reads_on():
    """The paper's story on the shipped model: each input is written one row further on, and during the answer
    the read head walks the same rows in the same order, one row a step."""
    model = nc.load_pretrained("copy", device="cpu").model
    record = record_episode(model, "copy", 8, seed=1)
    T = 2 * 8 + 1
    assert record.memory.shape == (T, 128, 20) and record.write_weights.shape == record.read_weights.shape == (T, 128)
    w_rows, _ = focus_rows(record.write_weights)
    r_rows, _ = focus_rows(record.read_weights)
    assert (moves(record.write_weights)[1:8] == 1).all()
    assert (moves(record.read_weights)[10:] == 1).all()
    for t in range(9, T):                      # the target of step t was read at step t - 1, where it was written
        assert target_source(record, t) == last_written(record, r_rows[t - 1], t - 1)
    assert "0 of 8 bits wrong" in step_story(record, T - 1)


def test_record_episode_needs_an_ntm_with_a_write_head():
    lstm = nc.LSTMBaseline(TASKS["copy"].input_size, TASKS["copy"].output_size, hidden_size=4, num_layers=1)
    with pytest.raises(ValueError, match="needs an NTM"):
        record_episode(lstm, "copy", 3)
    reader = nc.NTM(TASKS["copy"].input_size, TASKS["copy"].output_size, controller_size=8, N=8, M=4,
                    num_write_heads=0)
    with pytest.raises(ValueError, match="write head"):
        record_episode(reader, "copy", 3)


def test_the_slider_and_the_play_button_step_through_the_episode():
    record = hand_made(L=3)
    live = time_scrubber(record)
    step = live.controls["t"]
    assert (step.min, step.max, step.value) == (0, 6, 0) and (live.play.min, live.play.max) == (0, 6)
    assert live.figure.get_suptitle().startswith("copy: step 0 of 0-6")
    live.play.value = 4                                             # what the play button does every interval
    assert step.value == 4 and live.figure.get_suptitle() == "copy: step 4 of 0-6 (answer)"
    assert html.escape(step_story(record, 4)) in live.caption.value
    step.value = 2                                                  # dragging the slider moves the play button too
    assert live.play.value == 2 and "step 2 of 0-6 (input)" in live.figure.get_suptitle()
    assert bytes(live.image.value).startswith(b"\x89PNG")


def test_a_small_untrained_ntm_can_be_scrubbed():
    torch.manual_seed(0)
    model = nc.NTM(TASKS["copy"].input_size, TASKS["copy"].output_size, controller_size=8, N=16, M=4)
    record = record_episode(model, "copy", 4, seed=2)
    live = time_scrubber(record, t=3)
    assert live.controls["t"].max == 8 and "Step 3 of 0-8" in live.caption.value
