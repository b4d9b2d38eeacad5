"""Wrappers: drive a Limb-v0 with a motor drive, so that stepping the env runs autonomous sleep;
record videos at a video frame rate."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from robot_twitch.motor import make_drive


class MotorDriveWrapper(gym.Wrapper):
    """Adds a motor drive's excitations (twitches in active sleep, or a babbling baseline) to the
    agent's action: u = clip(drive + action, 0, 1). Pass zeros to let the limb sleep on its own.
    The drive is put on the env's Rollout (robot_twitch.rollout), which adds it to every action.

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
        limb.rollout.drive = self.drive

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        obs, info = self.env.reset(seed=seed, options=options)
        self.drive.reset(np.random.default_rng(self.env.unwrapped.np_random.integers(2**63)))
        self.env.unwrapped.rollout.feed_drive()  # a closed-loop drive (DEP) reads the reset state
        info["sleep_state"] = self.drive.sleep_state.value
        return obs, info

    def step(self, action: Any):
        n_events = len(self.drive.events)
        obs, reward, terminated, truncated, info = self.env.step(action)
        info["sleep_state"] = self.drive.sleep_state.value
        info["drive_excitation"] = self.env.unwrapped.rollout.last_drive_excitation
        info["new_twitches"] = list(self.drive.events[n_events:])
        return obs, reward, terminated, truncated, info


class RecordVideo(gym.wrappers.RecordVideo):
    """gymnasium's RecordVideo, filming at ``fps`` frames per simulated second (default 30).

    The env steps at the control rate (100 Hz by default), and gymnasium's wrapper keeps one
    frame per step, so its videos have 100 frames per second. This one keeps a frame whenever the
    simulated time reaches the next multiple of 1/fps, so the video plays in real time at a
    rate that players and browsers show smoothly. Other arguments as gymnasium's RecordVideo
    (video_folder, episode_trigger, step_trigger, video_length in frames, name_prefix, ...).
    """

    def __init__(self, env: gym.Env, video_folder: str, fps: int = 30, **kwargs: Any) -> None:
        dt = float(env.unwrapped.dt)  # type: ignore[attr-defined]
        if not 0 < fps <= 1.0 / dt + 1e-9:
            raise ValueError(f"fps = {fps!r} is invalid: expected a rate in (0, {1.0 / dt:g}] (one frame per step at most)")
        super().__init__(env, video_folder, fps=int(fps), **kwargs)
        self._dt_s = dt
        self._frame_period_s = 1.0 / fps
        self._next_frame_s = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        self._next_frame_s = 0.0
        self._env_time_s = 0.0
        return super().reset(seed=seed, options=options)

    def step(self, action: Any):
        self._env_time_s = getattr(self, "_env_time_s", 0.0) + self._dt_s
        return super().step(action)

    def _capture_frame(self) -> None:
        # Called after reset (t = 0) and after every step; keep the frames due at k / fps.
        now = getattr(self, "_env_time_s", 0.0)
        if now + 0.5 * self._dt_s < self._next_frame_s:
            return
        self._next_frame_s += self._frame_period_s * max(1, int((now + 0.5 * self._dt_s - self._next_frame_s)
                                                                 // self._frame_period_s) + 1)
        super()._capture_frame()
