"""Actuation energy and energy matching of baseline drives to a twitch condition.

Energy is E = sum_t sum_m e_m(t)^2 * dt (excitation squared, integrated over time; a common
effort proxy for muscle-driven systems).  A fair comparison of twitches with babbling matches
both simulated time and energy (SCIENCE.md: "budgets must be matched, or a 'win' comes from
more data rather than from the twitches").  :func:`match_energy` scales a baseline's ``gain``
so a train of the same duration has the target energy.

Tolerance: the calibration train(s) hit the target within ``rtol`` (default 1%); the mean
energy over ``calibration_seeds`` is what is matched.  For an exact per-seed budget, calibrate
with the seed of the run (``calibration_seeds=seed``).  A config calibrated on one seed and used
with others differs only by sampling noise: for the white-noise, OU and sine baselines over
>= 2 minutes with ~20 muscles, within ``ENERGY_MATCH_RTOL`` = 5% (seed-to-seed sd < 1%).  The
awake drive varies much more from seed to seed (its few slow synergies: sd ~9% at 120 s, ~3.5%
at 600 s), so calibrate it per seed.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from robot_twitch.motor.base import DriveTrace, MuscleLike, check_range, generate
from robot_twitch.motor.factory import DRIVE_REGISTRY, drive_name_for_config, make_drive

ENERGY_MATCH_RTOL: float = 0.05
"""Documented tolerance of energy matching across seeds (relative)."""


def actuation_energy(excitation: np.ndarray, control_dt_s: float) -> float:
    """Sum of squared excitation times dt.

    Args:
        excitation: (T, M) or (B, T, M) excitations.
        control_dt_s: control step [s].
    """
    return float(np.sum(np.square(np.asarray(excitation, dtype=float))) * control_dt_s)


def _energy_at_gain(
    config: Any,
    gain: float,
    duration_s: float,
    muscles: Sequence[MuscleLike],
    control_dt_s: float,
    seeds: Sequence[int],
) -> float:
    cfg = dataclasses.replace(config, gain=gain)
    name = drive_name_for_config(cfg)
    energies = [
        generate(make_drive(name, muscles, control_dt_s, cfg, np.random.default_rng(s)),
                 duration_s).energy()
        for s in seeds
    ]
    return float(np.mean(energies))


def match_energy(
    baseline_config: Any,
    target_energy: float,
    duration_s: float,
    muscles: Sequence[MuscleLike],
    control_dt_s: float = 0.01,
    *,
    calibration_seeds: int | Sequence[int] = 0,
    rtol: float = 0.01,
    max_iter: int = 40,
) -> Any:
    """Return ``baseline_config`` with ``gain`` set so a ``duration_s`` train has the target energy.

    Args:
        baseline_config: a WhiteNoiseConfig, OUConfig, SineConfig or AwakeConfig.
        target_energy: energy to match (e.g. ``twitch_trace.energy()``), > 0.
        duration_s: train length [s] (match the twitch condition's simulated time).
        muscles: the body's muscles.
        control_dt_s: control step [s].
        calibration_seeds: seed(s) of the calibration train(s); their mean energy is matched.
        rtol: relative tolerance on the calibration train.
        max_iter: iteration limit.

    Raises:
        ValueError: bad arguments, or the target is out of reach (all excitations saturate).
    """
    if not hasattr(baseline_config, "gain"):
        raise ValueError(
            f"baseline_config {type(baseline_config).__name__} is invalid: expected a config "
            "with a 'gain' field"
        )
    check_range("match_energy", "target_energy", target_energy, 0.0, lo_open=True)
    check_range("match_energy", "duration_s", duration_s, 0.0, lo_open=True)
    check_range("match_energy", "rtol", rtol, 0.0, 1.0, lo_open=True)

    seeds = [calibration_seeds] if isinstance(calibration_seeds, int) else list(calibration_seeds)
    if not seeds:
        raise ValueError("calibration_seeds is empty: expected at least one seed")
    if getattr(DRIVE_REGISTRY[drive_name_for_config(baseline_config)][0], "closed_loop", False):
        raise ValueError(f"{type(baseline_config).__name__} is a closed-loop drive: its energy depends on the "
                         "body, so calibrate it on the simulator (robot_twitch.drive_energy)")

    def energy(g: float) -> float:
        return _energy_at_gain(baseline_config, g, duration_s, muscles, control_dt_s, seeds)

    return solve_gain(baseline_config, energy, target_energy, len(muscles) * duration_s,
                      rtol=rtol, max_iter=max_iter)


def solve_gain(config: Any, energy: Callable[[float], float], target_energy: float, ceiling: float,
               *, rtol: float = 0.01, max_iter: int = 40) -> Any:
    """``config`` with ``gain`` set so that ``energy(gain)`` is within ``rtol`` of the target.

    Args:
        config: a drive config with a ``gain`` field.
        energy: gain -> energy of the calibration train(s) (open- or closed-loop).
        target_energy: the energy to reach, > 0.
        ceiling: the largest reachable energy (every excitation at 1 throughout).
    """
    e1 = energy(1.0)
    if e1 <= 0.0:
        raise ValueError(f"{type(config).__name__} produces zero energy at gain 1: cannot scale it")
    if target_energy >= ceiling:
        raise ValueError(
            f"target_energy = {target_energy!r} is invalid: expected < {ceiling} "
            "(all muscles fully excited for the whole duration)"
        )
    # Energy ~ gain^2 while nothing clips; clipping at 1 makes it grow more slowly, so the
    # fixed-point update below converges from either side.  Bisection on log gain as fallback.
    g = math.sqrt(target_energy / e1)
    lo, hi = 0.0, math.inf
    e = e1
    for _ in range(max_iter):
        e = energy(g)
        if abs(e - target_energy) <= rtol * target_energy:
            return dataclasses.replace(config, gain=g)
        if e < target_energy:
            lo = g
        else:
            hi = g
        g_new = g * math.sqrt(target_energy / e) if e > 0 else 2.0 * g
        if not (lo < g_new < hi):
            g_new = 2.0 * lo if math.isinf(hi) else 0.5 * (lo + hi)
        g = g_new
    raise ValueError(
        f"match_energy did not reach rtol={rtol} in max_iter={max_iter} iterations "
        f"(target {target_energy}, last {e})"
    )


def match_trace_energy(
    baseline_config: Any,
    trace: DriveTrace,
    muscles: Sequence[MuscleLike],
    **kwargs: Any,
) -> Any:
    """:func:`match_energy` against a generated (twitch) trace: same duration, same energy."""
    return match_energy(
        baseline_config, trace.energy(), trace.duration_s, muscles, trace.control_dt_s, **kwargs
    )
