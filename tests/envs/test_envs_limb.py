"""The gymnasium environment: API conformance, determinism, validation, resources."""

from __future__ import annotations

import gc
import resource

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import robot_twitch  # noqa: F401  (registers the ids)
from robot_twitch.envs import ENV_REGISTRY
from tests.conftest import BUILTIN_BODIES


@pytest.mark.parametrize("env_id", sorted(ENV_REGISTRY))
@pytest.mark.parametrize("body", BUILTIN_BODIES)
def test_check_env_passes(env_id, body):
    env = gym.make(env_id, body=body)
    try:
        check_env(env.unwrapped, skip_render_check=True)
    finally:
        env.close()


def test_flat_observation_option():
    env = gym.make("RobotTwitch/Limb-v0", flatten_observation=True)
    obs, _ = env.reset(seed=0)
    assert obs.shape == env.observation_space.shape == (env.unwrapped.layout.size,)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def _rollout(env_id: str, seed: int, steps: int = 60) -> list[np.ndarray]:
    env = gym.make(env_id, reset_noise_rad=0.1)
    space = env.observation_space
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    out = [gym.spaces.flatten(space, obs)]
    for _ in range(steps):
        obs, *_ = env.step(env.action_space.sample())
        out.append(gym.spaces.flatten(space, obs))
    env.close()
    return out


@pytest.mark.parametrize("env_id", sorted(ENV_REGISTRY))
def test_same_seed_gives_bit_identical_rollouts(env_id):
    a, b = _rollout(env_id, 3), _rollout(env_id, 3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    c = _rollout(env_id, 4)
    assert not all(np.array_equal(x, y) for x, y in zip(a, c, strict=True))


def test_two_envs_in_one_process_do_not_interfere():
    env_a = gym.make("RobotTwitch/Limb-v0")
    env_b = gym.make("RobotTwitch/Limb-v0")
    env_a.reset(seed=0)
    env_b.reset(seed=0)
    for _ in range(20):
        obs_a, *_ = env_a.step(np.full(6, 0.6))  # only env_a is driven
    solo = gym.make("RobotTwitch/Limb-v0")
    solo.reset(seed=0)
    for _ in range(20):
        obs_b, *_ = env_b.step(np.zeros(6))
        obs_solo, *_ = solo.step(np.zeros(6))
    assert np.array_equal(obs_b["joint_pos"], obs_solo["joint_pos"])
    assert not np.allclose(obs_a["joint_pos"], obs_b["joint_pos"])
    for env in (env_a, env_b, solo):
        env.close()


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (np.zeros(5), r"shape \(5,\), expected \(6,\)"),
        (np.array([0.1, np.nan, 0, 0, 0, 0]), "NaN or inf for muscles \\['deltoid_posterior'\\]"),
        (np.array([np.inf, 0, 0, 0, 0, 0]), "NaN or inf"),
        ("loud", "not numeric|shape"),
    ],
)
def test_bad_actions_raise_clear_errors(action, message):
    env = gym.make("RobotTwitch/Limb-v0")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        env.step(action)
    env.close()


def test_out_of_range_actions_are_clipped():
    env = gym.make("RobotTwitch/Limb-v0")
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.full(6, 7.0))
    high = info["activation"].copy()
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.ones(6))
    np.testing.assert_array_equal(info["activation"], high)
    env.close()


def test_info_carries_ground_truth():
    env = gym.make("RobotTwitch/Limb-v0")
    _, info = env.reset(seed=0)
    body = env.unwrapped.body
    np.testing.assert_allclose(info["moment_arms"], body.moment_arms(info["joint_pos"]))
    assert info["moment_arms"].shape == (6, 2)
    assert info["blown_up"] is False
    env.close()


def test_blow_up_ends_the_episode_with_a_flag():
    env = gym.make("RobotTwitch/Limb-v0")
    env.reset(seed=0)
    sim = env.unwrapped.sim
    # A joint speed far past any physical one (muscles alone cannot cause it: even a billion times
    # too strong, Hill muscles shorten at most at v_max and their damping is integrated implicitly).
    sim.client.resetJointState(sim.robot_id, sim.joint_indices[0], 0.0, 1.0e7)
    terminated, info = False, {}
    for _ in range(5):
        _, _, terminated, _, info = env.step(np.ones(6))
        if terminated:
            break
    assert terminated and info["blown_up"]
    assert np.all(np.isfinite(info["joint_pos"]))
    env.close()


def test_rgb_array_render_is_headless_and_not_blank():
    env = gym.make("RobotTwitch/Limb-v0", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    assert frame.std() > 5
    env.close()


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_close_frees_the_bullet_client():
    for _ in range(10):  # warm up allocator and caches
        gym.make("RobotTwitch/Limb-v0").close()
    gc.collect()
    before = _rss_mb()
    for _ in range(200):
        env = gym.make("RobotTwitch/Limb-v0")
        env.reset(seed=0)
        env.close()
    gc.collect()
    assert _rss_mb() - before < 50


def test_runs_under_async_vector_env():
    envs = gym.vector.AsyncVectorEnv([lambda: gym.make("RobotTwitch/Limb-v0")] * 2)
    try:
        obs, _ = envs.reset(seed=[0, 1])
        for _ in range(5):
            obs, *_ = envs.step(np.full((2, 6), 0.3, dtype=np.float32))
        assert obs["joint_pos"].shape == (2, 2)
    finally:
        envs.close()
