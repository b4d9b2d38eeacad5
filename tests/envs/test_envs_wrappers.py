"""MotorDriveWrapper: stepping the env runs autonomous sleep with twitches."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import robot_twitch  # noqa: F401
from robot_twitch.envs.wrappers import MotorDriveWrapper
from robot_twitch.motor import TwitchConfig


def _run(seed: int, steps: int = 300):
    env = MotorDriveWrapper(gym.make("RobotTwitch/Limb-v0"), "twitch", TwitchConfig(inter_burst_median_s=1.0))
    env.reset(seed=seed)
    q, twitches = [], 0
    for _ in range(steps):
        obs, _, _, _, info = env.step(np.zeros(6))
        q.append(obs["joint_pos"].copy())
        twitches += len(info["new_twitches"])
        assert info["sleep_state"] == "active"
    env.close()
    return np.array(q), twitches


def test_zero_actions_twitch_the_limb_deterministically():
    q, twitches = _run(0)
    assert twitches > 0
    assert np.ptp(q, axis=0).max() > 0.01  # the twitches move the limb
    q2, twitches2 = _run(0)
    assert twitches2 == twitches and np.array_equal(q, q2)


def test_a_closed_loop_drive_reads_the_limb_through_the_wrapper():
    env = MotorDriveWrapper(gym.make("RobotTwitch/Limb-v0"), "dep")
    env.reset(seed=0)
    q = np.array([env.step(np.zeros(6))[0]["joint_pos"].copy() for _ in range(800)])
    env.close()
    assert np.all(q.std(axis=0) > 0.02)  # DEP swings both joints once it sees the muscle lengths


def test_env_dt_is_the_control_step():
    env = gym.make("RobotTwitch/Limb-v0")
    assert env.unwrapped.dt == pytest.approx(0.01)
    env.close()


def test_record_video_films_real_time_at_a_video_frame_rate(tmp_path):
    import imageio.v3 as iio

    from robot_twitch.envs.wrappers import RecordVideo

    env = gym.make("RobotTwitch/Limb-v0", render_mode="rgb_array", render_size=(64, 48))
    env = RecordVideo(env, str(tmp_path / "videos"), fps=25, episode_trigger=lambda _: True, disable_logger=True)
    env.reset(seed=0)
    for _ in range(100):  # 1 simulated second at 100 Hz
        env.step(np.zeros(env.action_space.shape))
    env.close()
    (video,) = (tmp_path / "videos").glob("*.mp4")
    meta = iio.immeta(video, plugin="pyav") if _has_pyav() else iio.immeta(video)
    frames = iio.imread(video)
    assert len(frames) == 26  # t = 0, 0.04, ..., 1.0 s
    assert float(meta["fps"]) == pytest.approx(25)
    with pytest.raises(ValueError, match="one frame per step at most"):
        RecordVideo(gym.make("RobotTwitch/Limb-v0", render_mode="rgb_array"), str(tmp_path), fps=200)


def _has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True
