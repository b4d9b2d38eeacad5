"""Single-twitch convergence check: how far a simulation configuration's twitch is from a
fine-step reference.

One muscle twitches (excitation 0.8 for 30 ms, the default twitch's amplitude, from the body's
initial posture at rest); the joint angles over 0.4 s are compared with those of the same twitch
simulated with muscles and physics at 2 kHz. The error is the largest joint-angle difference at
the tested configuration's control steps, divided by the twitch's excursion in the reference (the
largest joint-angle difference between the reference twitch and the reference limb left at rest
over the same time). benchmarks/bench_twitch.py runs it for every muscle of every built-in body;
docs/muscles.md reports the results.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from robot_twitch.body.spec import Body
from robot_twitch.sim import SimConfig, Simulation

REFERENCE_CONFIG = SimConfig(physics_hz=2000.0, control_hz=2000.0)
TWITCH_EXCITATION = 0.8
TWITCH_DURATION_S = 0.030
WINDOW_S = 0.4


@dataclass(frozen=True)
class TwitchError:
    """One muscle's twitch: error / excursion, and both in rad."""

    muscle: str
    relative: float
    error_rad: float
    excursion_rad: float


def twitch_trajectory(body: Body, config: SimConfig, muscle: int | None, window_s: float = WINDOW_S,
                      twitch_s: float = TWITCH_DURATION_S, excitation: float = TWITCH_EXCITATION
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Times (T,) [s] and joint angles (T, J) [rad] at every control step within window_s, from the
    initial posture at rest (t = 0 included); muscle None: no twitch."""
    n = len(body.muscle_names)
    steps, on = int(window_s * config.control_hz + 1e-9), int(round(twitch_s * config.control_hz))
    if abs(on - twitch_s * config.control_hz) > 1e-6:
        raise ValueError(f"a {twitch_s * 1e3:g} ms twitch is not a whole number of {1e3 / config.control_hz:g} ms "
                         "control steps")
    u_on = np.zeros(n)
    if muscle is not None:
        u_on[muscle] = excitation
    u_off = np.zeros(n)
    with Simulation(body, config) as sim:
        angles = [sim.state.joint_pos_rad.copy()]
        for k in range(steps):
            angles.append(sim.step(u_on if k < on else u_off).joint_pos_rad.copy())
    return np.arange(steps + 1) / config.control_hz, np.array(angles)


def _at(times: np.ndarray, reference_hz: float, ref_angles: np.ndarray) -> np.ndarray:
    """Reference angles at `times` (which fall on reference steps)."""
    return ref_angles[np.rint(times * reference_hz).astype(int)]


def twitch_errors(body: Body, config: SimConfig, muscles: list[int] | None = None,
                  reference: SimConfig = REFERENCE_CONFIG) -> list[TwitchError]:
    """The twitch error of `config` against `reference` for each muscle (default: all)."""
    ratio = reference.control_hz / config.control_hz
    if abs(ratio - round(ratio)) > 1e-9:
        raise ValueError(f"reference control rate {reference.control_hz} Hz must be a multiple of {config.control_hz} Hz")
    _, rest = twitch_trajectory(body, reference, None)
    out = []
    for m in muscles if muscles is not None else range(len(body.muscle_names)):
        _, ref = twitch_trajectory(body, reference, m)
        times, angles = twitch_trajectory(body, config, m)
        excursion = float(np.abs(ref - rest).max())
        error = float(np.abs(angles - _at(times, reference.control_hz, ref)).max())
        out.append(TwitchError(body.muscle_names[m], error / excursion, error, excursion))
    return out
