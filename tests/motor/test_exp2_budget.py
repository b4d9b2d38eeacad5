"""Experiment 2's conditions are matched in energy and muscle-twitches, and the unmatched
variant (same twitch rate, k muscles per twitch) is not: the matching is what the config does."""

from __future__ import annotations

import json

import numpy as np
import pytest

from robot_twitch.body.spec import load_body
from robot_twitch.config import builtin_configs, load_config
from robot_twitch.motor import generate, make_drive

DURATION_S = 300.0
SEEDS = (0, 1, 2)


def _energy_and_muscle_twitches(overrides: list[str]) -> tuple[float, float]:
    """Mean (energy, muscle-twitch events) over SEEDS of exp2's drive under `overrides`."""
    config = load_config(builtin_configs()["exp2_simultaneous_twitches"], overrides)
    muscles = load_body(config.body).muscles
    energies, events = [], []
    for seed in SEEDS:
        drive = make_drive("twitch", muscles, 0.01, config.drive.twitch, np.random.default_rng(seed))
        trace = generate(drive, DURATION_S)
        energies.append(trace.energy())
        events.append(len(trace.events))  # one event per muscle that twitched
    return float(np.mean(energies)), float(np.mean(events))


def test_exp2_conditions_spend_the_same_energy_on_the_same_muscle_twitches() -> None:
    grid = load_config(builtin_configs()["exp2_simultaneous_twitches"]).sweep.grid["drive.twitch"]
    results = [_energy_and_muscle_twitches([f"drive.twitch={json.dumps(v)}"]) for v in grid]
    energy_1, events_1 = results[0]
    for energy, events in results[1:]:
        assert energy == pytest.approx(energy_1, rel=0.15)
        assert events == pytest.approx(events_1, rel=0.15)


def test_exp2_unmatched_variant_spends_k_times_the_energy() -> None:
    energy_1, _ = _energy_and_muscle_twitches(["drive.twitch.muscles_per_twitch=1"])
    energy_6, _ = _energy_and_muscle_twitches(["drive.twitch.muscles_per_twitch=6"])
    assert energy_6 > 4.0 * energy_1
