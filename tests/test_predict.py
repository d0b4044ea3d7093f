"""Predict, then run (:mod:`ntm_course.teaching.predict`): a guess is locked in before the answer, kept beside the
learner's pieces, compared once, and never changed afterwards; the widget records what the learner chose."""
import json

import pytest

from ntm_course.teaching import predict as p


@pytest.fixture(autouse=True)
def mine(tmp_path, monkeypatch):
    monkeypatch.setenv("NTM_COURSE_MINE", str(tmp_path / "mine"))
    return tmp_path / "mine"


def test_a_locked_in_guess_is_kept_beside_the_pieces_and_compared(mine, capsys):
    assert p.record("q", " narrower ", "wider or narrower?", choices=("wider", "narrower")) == "narrower"
    saved = json.loads((mine / "predictions.json").read_text())
    assert saved["q"]["guess"] == "narrower" and saved["q"]["choices"] == ["wider", "narrower"]
    assert p.compare("q", "Narrower", why="w ** gamma favours the largest.") is True
    assert capsys.readouterr().out == ("You predicted: narrower. The answer: Narrower (you called it). "
                                       "w ** gamma favours the largest.\n")
    with pytest.raises(ValueError, match="already compared with its answer"):
        p.record("q", "wider")
    assert p.guess_of("q") == "narrower"


def test_a_wrong_guess_and_a_guess_in_words(capsys):
    p.record("choice", "row 1", choices=("row 1", "row 3"))
    assert p.compare("choice", "row 3") is False
    assert "(not what you predicted)" in capsys.readouterr().out
    p.record("words", "it blurs")
    assert p.compare("words", "it moves one row") is None          # words: the learner compares
    assert capsys.readouterr().out == "You predicted: it blurs. The answer: it moves one row.\n"


def test_without_a_guess_the_answer_is_shown_and_nothing_is_saved(mine, capsys):
    assert p.compare("never", "unchanged") is None
    assert capsys.readouterr().out == "No prediction was locked in for this question. The answer: unchanged.\n"
    assert not (mine / "predictions.json").exists()


@pytest.mark.parametrize("key, guess, match", [("", "x", "key must be a non-empty string"),
                                               ("k", "  ", "guess must say something")])
def test_bad_keys_and_empty_guesses_are_value_errors(key, guess, match):
    with pytest.raises(ValueError, match=match):
        p.record(key, guess)


def test_a_corrupt_predictions_file_is_started_afresh(mine):
    mine.mkdir(parents=True)
    (mine / "predictions.json").write_text("[not a dict")
    assert p.guess_of("q") is None
    p.record("q", "yes")
    assert p.guess_of("q") == "yes"


def test_the_widget_locks_in_the_choice_and_then_shows_it(capsys):
    box = p.predict("w", "Which row?", choices=("row 1", "row 3"))
    label, entry, button, status = box.children
    button.click()                                       # nothing chosen yet: a message, nothing saved
    assert "guess must say something" in status.value and p.guess_of("w") is None
    entry.value = "row 3"
    button.click()
    assert p.guess_of("w") == "row 3" and entry.disabled and button.disabled
    assert "Locked in: <b>row 3</b>" in status.value
    again = p.predict("w", "Which row?", choices=("row 1", "row 3"))
    assert len(again.children) == 2 and "row 3" in again.children[1].value
    text = p.predict("t", "In a sentence?")
    text.children[1].value = "it blurs"
    text.children[2].click()
    assert p.guess_of("t") == "it blurs"
