"""Experiments: the paper's tasks, one configuration, checkpoints, the training loop, evaluation and the
trained models shipped with the course, and the playground's training sessions (:mod:`.playground`). Built on the
mechanism (the package's top-level modules)."""
