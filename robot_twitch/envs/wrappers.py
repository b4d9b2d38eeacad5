"""Wrappers: drive a Limb-v0 with a motor drive, so that stepping the env runs autonomous sleep."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from robot_twitch.motor import make_drive


class MotorDriveWrapper(gym.Wrapper):
    """Adds a motor drive's excitations (twitches in active sleep, or a babbling baseline) to the
    agent's action: u = clip(drive + action, 0, 1). Pass zeros to let the limb sleep on its own.

    info gains `sleep_state` ("wake"/"quiet"/"active"), `drive_excitation` (M,) and `new_twitches`
    (the twitch events that started during this step). The drive is reseeded from the env's
    np_random at every reset, so the same seed gives the same twitch train.
    """

    def __init__(self, env: gym.Env, drive: str = "twitch", config: Any = None) -> None:
        super().__init__(env)
        limb = env.unwrapped
        self._drive_name, self._drive_config = drive, config
        self.drive = make_drive(drive, limb.body.muscles, limb.sim_config.control_dt_s, config,
                                np.random.default_rng(0))

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.drive.reset(np.random.default_rng(self.env.unwrapped.np_random.integers(2**63)))
        self._feed()
        info["sleep_state"] = self.drive.sleep_state.value
        return obs, info

    def step(self, action: Any):
        limb = self.env.unwrapped
        agent = limb.validate_action(action)
        n_events = len(self.drive.events)
        drive_u = self.drive.step()
        obs, reward, terminated, truncated, info = self.env.step(np.minimum(drive_u + agent, 1.0))
        self._feed()
        info["sleep_state"] = self.drive.sleep_state.value
        info["drive_excitation"] = drive_u
        info["new_twitches"] = list(self.drive.events[n_events:])
        return obs, reward, terminated, truncated, info

    def _feed(self) -> None:
        """A closed-loop drive (DEP) reads the muscle lengths after every step."""
        if getattr(self.drive, "closed_loop", False):
            self.drive.observe(self.env.unwrapped.sim.state.fiber_length_norm)
