"""Energy of a closed-loop drive, measured on the simulator, and its energy matching.

An open-loop baseline's energy is a property of its excitation train alone
(robot_twitch.motor.energy). A closed-loop drive such as DEP (robot_twitch.motor.dep) answers
the body's movement, so its energy at a given ``gain`` is only known by running it on the body:
:func:`closed_loop_energy` does that for the run's duration, body, physics and drive generator,
and :func:`match_closed_loop_energy` solves for the gain with the same fixed-point/bisection
rule as the open-loop baselines. With the run's own seed the calibration rollout is the run's
own drive trajectory (without body changes), so the budget is matched for that run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robot_twitch.body.spec import Body
from robot_twitch.motor import make_drive
from robot_twitch.motor.energy import solve_gain
from robot_twitch.motor.factory import drive_name_for_config
from robot_twitch.rollout import Rollout
from robot_twitch.sim import SimConfig, Simulation


def closed_loop_energy(body: Body, sim_config: SimConfig, drive_config: Any, duration_s: float,
                       rng: np.random.Generator) -> float:
    """Actuation energy sum_t |u_t|^2 dt of the drive run on the body for ``duration_s``."""
    dt = sim_config.control_dt_s
    drive = make_drive(drive_name_for_config(drive_config), body.muscles, dt, drive_config, rng)
    tally = _EnergyTally(dt)
    with Simulation(body, sim_config) as sim:
        rollout = Rollout(sim, hooks=[tally])
        rollout.reset()
        rollout.drive = drive
        rollout.feed_drive()
        for _ in range(int(round(duration_s / dt))):
            rollout.step()
    return tally.energy


class _EnergyTally:
    """Rollout hook: sum_t |u_t|^2 dt."""

    def __init__(self, dt_s: float) -> None:
        self.dt_s, self.energy = dt_s, 0.0

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state: Any) -> None:
        self.energy += float(excitation @ excitation) * self.dt_s


def match_closed_loop_energy(body: Body, sim_config: SimConfig, drive_config: Any, target_energy: float,
                             duration_s: float, rng_state: dict, *, rtol: float = 0.01) -> Any:
    """``drive_config`` with ``gain`` set so that the closed loop spends ``target_energy``.

    Args:
        rng_state: ``bit_generator.state`` of the run's drive generator; every calibration
            rollout starts from it.
    """
    def energy(gain: float) -> float:
        rng = np.random.default_rng()
        rng.bit_generator.state = rng_state
        return closed_loop_energy(body, sim_config, _with_gain(drive_config, gain), duration_s, rng)

    return solve_gain(drive_config, energy, target_energy, len(body.muscles) * duration_s, rtol=rtol)


def _with_gain(config: Any, gain: float) -> Any:
    import dataclasses

    return dataclasses.replace(config, gain=gain)


__all__ = ["closed_loop_energy", "match_closed_loop_energy"]
