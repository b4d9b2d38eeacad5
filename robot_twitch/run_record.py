"""A finished run as plain data: everything robot_twitch.outputs writes, nothing it must compute.

The run (robot_twitch.experiment) builds the record once it is done and scored (the reach check
and re-alignment included, robot_twitch.evaluation); outputs.write_outputs turns it into files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from robot_twitch.body.spec import Body
    from robot_twitch.config import ExperimentConfig
    from robot_twitch.motor.events import TwitchEvent


@dataclass(frozen=True)
class RunRecord:
    """A finished run.

    Attributes:
        config: the run's config.
        body: the body at the end of the run (after its body changes).
        run_dir: the run directory the files go into (still named *.incomplete).
        metrics_rows: one row per scoring time (time_s, twitches, energy, the scores).
        metrics: summary.json's "metrics": the last row's scores, reach.*, realign.*
            (infinite re-alignment times written as "not within the run").
        undefined: score family -> why its scores are NaN (summary.json "undefined").
        events: the twitch events that reached the muscles.
        maps: every learner's exported maps, "learner/map" -> array.
        true_moment_arms: (M, J) the truth the maps are scored against [m].
        learner_states: learner name -> its state_dict (learners/NAME.npz).
        simulated_s, energy, wall_s: the run's budget (energy: sum of u^2 dt over the run).
        pushes: a passive drive's pushes, None for other drives.
        selftouch: summary.json "selftouch", None when the hands cannot touch the body.
    """

    config: ExperimentConfig
    body: Body
    run_dir: Path
    metrics_rows: list[dict[str, float]]
    metrics: dict[str, float | str]
    undefined: dict[str, str]
    events: list[TwitchEvent]
    maps: dict[str, np.ndarray]
    true_moment_arms: np.ndarray
    learner_states: dict[str, dict[str, Any]]
    simulated_s: float
    energy: float
    wall_s: float
    pushes: int | None = None
    selftouch: dict[str, Any] | None = None
