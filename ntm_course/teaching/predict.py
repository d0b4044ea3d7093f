"""Predict, then run: the learner writes down a guess before the answer is computed, and the cell after it compares.

    predict("sharpen_wider", "With gamma = 3, does the weighting get wider or narrower?",
            choices=("wider", "narrower", "unchanged"))
    ...                                             # the experiment
    compare("sharpen_wider", "narrower", why="w ** gamma grows the largest weights most")

:func:`predict` shows the question with a choice (or a text box) and a *Lock in* button; the guess is kept in
``predictions.json`` beside the learner's saved pieces (:func:`~ntm_course.teaching.lesson.mine_dir`), with the
time it was locked in, and cannot be changed once the answer has been compared. :func:`compare` prints the guess
next to the answer, and what to take from it. Run without a guess (as the course's tests run the lessons), it says
that no guess was recorded and shows the answer. :func:`record` locks a guess in without a widget.
"""
import json
import time

from ntm_course.extras import needs

from .lesson import mine_dir


def _path():
    return mine_dir() / "predictions.json"


def _load():
    try:
        data = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record(key, guess, question="", choices=None):
    """Lock in ``guess`` for the prediction ``key`` (a name unique in the course); returns it. A guess whose answer
    was already compared stays as it was (ValueError): predictions are made before the answer is seen."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"key must be a non-empty string naming the prediction, got {key!r}")
    guess = str(guess).strip()
    if not guess:
        raise ValueError("guess must say something: write your prediction before locking it in")
    data = _load()
    if data.get(key, {}).get("compared"):
        raise ValueError(f"the prediction {key!r} was already compared with its answer ({data[key]['guess']!r}); "
                         "it stays as you made it")
    data[key] = {"question": question, "guess": guess, "choices": list(choices) if choices else None,
                 "locked": time.strftime("%Y-%m-%d %H:%M:%S")}
    folder = _path().parent
    folder.mkdir(parents=True, exist_ok=True)
    _path().write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    return guess


def guess_of(key):
    """The guess locked in for ``key``, or None."""
    return _load().get(key, {}).get("guess")


def predict(key, question, choices=None):
    """Show ``question`` with ``choices`` (radio buttons) or a text box, and a *Lock in* button that records the
    guess (:func:`record`). Returns the widget box; a guess already locked in is shown instead of the inputs."""
    with needs("lessons", __name__):
        import ipywidgets as widgets
    from IPython.display import display
    label = widgets.HTML(f"<b>Predict before you run the next cells:</b> {question}")
    status = widgets.HTML()
    earlier = guess_of(key)
    if earlier is not None:
        status.value = f"Your prediction, locked in: <b>{earlier}</b>"
        box = widgets.VBox([label, status])
        display(box)
        return box
    entry = (widgets.RadioButtons(options=list(choices), value=None) if choices
             else widgets.Textarea(placeholder="your prediction, in a sentence"))
    button = widgets.Button(description="Lock in", button_style="primary")

    def lock(_):
        try:
            guess = record(key, entry.value or "", question, choices)
        except ValueError as error:
            status.value = f"<span>{error}</span>"
            return
        entry.disabled = button.disabled = True
        status.value = f"Locked in: <b>{guess}</b>. Now run the next cells."
    button.on_click(lock)
    box = widgets.VBox([label, entry, button, status])
    display(box)
    return box


def compare(key, answer, why=""):
    """Print the guess locked in for ``key`` beside ``answer`` (and ``why``); returns whether a chosen guess was
    right, None for a guess in words (compare them yourself) or when none was recorded. The guess is then final."""
    data = _load()
    entry = data.get(key)
    answer = str(answer)
    if entry is None:
        print(f"No prediction was locked in for this question. The answer: {answer}." + (f" {why}" if why else ""))
        return None
    right = entry["guess"].strip().lower() == answer.strip().lower() if entry.get("choices") else None
    verdict = {True: " (you called it)", False: " (not what you predicted)", None: ""}[right]
    print(f"You predicted: {entry['guess']}. The answer: {answer}{verdict}." + (f" {why}" if why else ""))
    entry["compared"] = True
    _path().write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
    return right
