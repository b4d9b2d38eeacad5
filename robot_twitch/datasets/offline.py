"""Learners fitted offline on a recorded stream, as the live run fitted them.

The live run hands each batch either to every learner or, with probability
``evaluation.heldout_fraction``, to the held-out set that scores the forward model (the latest
``heldout_batches_kept`` of them). A stream records each step's batch and that choice, so feeding
its batches in order rebuilds exactly the learner the run had, and scoring it against the
stream's truth gives the run's final scores.

The stream holds what the sensors read. A run with reafference gating (``learners.gate``,
experiment 5) showed its learners every batch minus the part its efference copy predicts; the
gate is deterministic, so :func:`fit` applies the run's gate to the recorded batches in the same
order, with the recorded sleep states, and the learners see what they saw live.
"""

from __future__ import annotations

from dataclasses import replace

from robot_twitch.config import ExperimentConfig
from robot_twitch.datasets.stream import RunStream
from robot_twitch.evaluation import score_all
from robot_twitch.learn.base import Learner, TransitionBatch, concat_batches
from robot_twitch.learn.gate import ReafferenceGate
from robot_twitch.learn.registry import make_learners
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


def fit(stream: RunStream, learner: Learner, gated: bool = True) -> list[TransitionBatch]:
    """Feed the learner the stream's batches the run gave its learners; return the held-out ones.

    gated: apply the run's reafference gate, if it had one (False: the raw afferent stream).
    """
    gate_config = stream_config(stream).learners.gate
    gate = ReafferenceGate(gate_config, stream.control_dt_s) if gated and gate_config.mode != "none" else None
    states = stream.rows["sleep_state"][1:]
    heldout = []
    step = 0
    for batch, held_out in stream.batches():
        if gate is not None:
            batch = gate.apply(batch, states[step:step + len(batch)])
        step += len(batch)
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
