"""Learners fitted offline on a recorded stream, as the live run fitted them.

The live run hands each batch either to every learner or, with probability
``evaluation.heldout_fraction``, to the held-out set that scores the forward model (the latest
``heldout_batches_kept`` of them). A stream records each step's batch and that choice, so feeding
its batches in order rebuilds exactly the learner the run had, and scoring it against the
stream's truth gives the run's final scores.
"""

from __future__ import annotations

from dataclasses import replace

from robot_twitch.config import ExperimentConfig
from robot_twitch.datasets.stream import RunStream
from robot_twitch.evaluate import score_all
from robot_twitch.experiment import make_learners
from robot_twitch.learn.base import Learner, TransitionBatch, concat_batches
from robot_twitch.typed import build


def stream_config(stream: RunStream) -> ExperimentConfig:
    """The resolved config of the run that recorded the stream."""
    return build(ExperimentConfig, stream.meta["config"])


def make_learner(stream: RunStream, name: str) -> Learner:
    """A new learner `name` (one of robot_twitch.config.LEARNER_NAMES) with the parameters the run
    gave it (or the defaults, if the run did not use it)."""
    config = stream_config(stream)
    only = replace(config, learners=replace(config.learners, names=(name,)))
    return make_learners(only, stream.control_dt_s)[name]


def fit(stream: RunStream, learner: Learner) -> list[TransitionBatch]:
    """Feed the learner the stream's batches the run gave its learners; return the held-out ones."""
    heldout = []
    for batch, held_out in stream.batches():
        if held_out:
            heldout.append(batch)
        else:
            learner.observe(batch)
    return heldout


def fit_and_score(stream: RunStream, name: str) -> dict[str, float]:
    """Fit learner `name` on the stream and score it against the stream's truth (the run's metrics)."""
    learner = make_learner(stream, name)
    heldout = fit(stream, learner)[-int(stream.meta["heldout_batches_kept"]):]
    return score_all(learner, stream.truth(), heldout_batch=concat_batches(heldout) if heldout else None)
