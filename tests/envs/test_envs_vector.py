"""The batched vector env: equals N separate Limb-v0 envs, gymnasium 1.x vector semantics."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pybullet
import pytest

import robot_twitch  # noqa: F401  (registers the ids)
from robot_twitch.envs.vector import LimbVectorEnv
from robot_twitch.sensors import SensorConfig

SENSORS = SensorConfig(noise_std={"joint_pos": 0.01, "tendon_force": 0.02}, delay_steps={"spindle_length": 2})


def _make_vec(n: int, **kwargs) -> gym.vector.VectorEnv:
    return gym.make_vec("RobotTwitch/Limb-v0", num_envs=n, vectorization_mode="vector_entry_point", **kwargs)


@pytest.mark.parametrize(("limbs_per_world", "atol"), [(1, 0.0), (2, 1e-9), (8, 1e-9)])
def test_each_limb_equals_a_separate_env_with_the_same_seed(limbs_per_world, atol):
    n, seed, kwargs = 3, 7, {"reset_noise_rad": 0.2, "sensor_config": SENSORS}
    venv = _make_vec(n, limbs_per_world=limbs_per_world, **kwargs)
    singles = [gym.make("RobotTwitch/Limb-v0", **kwargs) for _ in range(n)]
    try:
        obs, _ = venv.reset(seed=seed)
        ref = [env.reset(seed=seed + i)[0] for i, env in enumerate(singles)]
        actions = np.random.default_rng(0).uniform(-0.2, 1.2, (40, n, 6))
        for t in range(len(actions) + 1):
            for i in range(n):
                for group, value in ref[i].items():
                    np.testing.assert_allclose(obs[group][i], value, rtol=0, atol=atol,
                                               err_msg=f"{group} t={t}")
            if t < len(actions):
                obs, *_ = venv.step(actions[t])
                ref = [env.step(actions[t, i])[0] for i, env in enumerate(singles)]
    finally:
        venv.close()
        for env in singles:
            env.close()


def test_next_step_autoreset_after_truncation_and_blow_up():
    venv = _make_vec(2, max_episode_steps=3)
    obs0, _ = venv.reset(seed=0)
    for _ in range(2):
        _, _, terminated, truncated, _ = venv.step(np.full((2, 6), 0.8))
        assert not truncated.any() and not terminated.any()
    sim = venv.unwrapped.sim  # limb 1 diverges in this step: a joint speed far past any physical one
    limb = sim.limbs[1]
    sim._client_of(1).resetJointState(limb.robot_id, limb.joint_indices[0], 0.0, 1.0e7)
    obs, reward, terminated, truncated, info = venv.step(np.full((2, 6), 0.8))
    assert truncated.all() and terminated.tolist() == [False, True]
    assert info["blown_up"].tolist() == [False, True]
    assert info["_blown_up"].all() and info["moment_arms"].shape == (2, 6, 2)
    # The next step resets both sub-envs instead of stepping them (gymnasium's NEXT_STEP mode).
    obs, reward, terminated, truncated, info = venv.step(np.full((2, 6), 0.8))
    assert not terminated.any() and not truncated.any() and np.all(reward == 0)
    for group in obs0:
        np.testing.assert_allclose(obs[group], obs0[group], atol=1e-12)
    np.testing.assert_array_equal(info["time_s"], [0.0, 0.0])
    obs, *_ = venv.step(np.full((2, 6), 0.8))
    assert not np.allclose(obs["joint_pos"], obs0["joint_pos"])
    venv.close()


def test_seeding_like_gymnasium():
    venv = _make_vec(3, reset_noise_rad=0.3)
    a, _ = venv.reset(seed=11)
    b, _ = venv.reset(seed=[11, 12, 13])
    c, _ = venv.reset(seed=[11, 99, 13])
    np.testing.assert_array_equal(a["joint_pos"], b["joint_pos"])
    assert not np.allclose(a["joint_pos"][0], a["joint_pos"][1])
    np.testing.assert_array_equal(a["joint_pos"][[0, 2]], c["joint_pos"][[0, 2]])
    assert not np.allclose(a["joint_pos"][1], c["joint_pos"][1])
    with pytest.raises(ValueError, match="seed list"):
        venv.reset(seed=[1, 2])
    venv.close()


@pytest.mark.parametrize(
    ("actions", "message"),
    [
        (np.zeros((2, 5)), r"shape \(2, 5\), expected \(2, 6\)"),
        (np.zeros(6), r"shape \(6,\)"),
        (np.where(np.eye(2, 6, 1) > 0, np.nan, 0.1), "NaN or inf .*env 0, muscle 'deltoid_posterior'"),
        ("loud", "not numeric|shape"),
    ],
)
def test_bad_actions_raise_value_error(actions, message):
    venv = _make_vec(2)
    venv.reset(seed=0)
    with pytest.raises(ValueError, match=message):
        venv.step(actions)
    venv.close()


def test_out_of_range_actions_are_clipped():
    venv = _make_vec(2)
    venv.reset(seed=0)
    *_, high = venv.step(np.full((2, 6), 7.0))
    venv.reset(seed=0)
    *_, one = venv.step(np.ones((2, 6)))
    np.testing.assert_array_equal(high["activation"], one["activation"])
    venv.close()


@pytest.mark.parametrize("limbs_per_world", [1, 2, "world"])
def test_close_disconnects_every_client(limbs_per_world):
    venv = LimbVectorEnv(num_envs=3, limbs_per_world=limbs_per_world)
    ids = [c._client for c in venv.sim._clients]
    assert len(ids) == {1: 3, 2: 2, "world": 1}[limbs_per_world]
    assert all(pybullet.getConnectionInfo(i)["isConnected"] for i in ids)
    venv.close()
    assert venv.sim.closed
    assert not any(pybullet.getConnectionInfo(i)["isConnected"] for i in ids)
    with pytest.raises(RuntimeError, match="closed"):
        venv.sim.step(np.zeros((3, 6)))


def test_make_vec_uses_the_batched_env():
    venv = _make_vec(4)
    assert isinstance(venv.unwrapped, LimbVectorEnv)
    assert venv.num_envs == 4 and venv.unwrapped.max_episode_steps == 1000
    assert venv.action_space.shape == (4, 6) and venv.single_action_space.shape == (6,)
    obs, info = venv.reset(seed=0)
    assert obs in venv.observation_space
    assert info["_joint_pos"].all() and info["reward_terms"] == {}
    flat = _make_vec(2, flatten_observation=True)
    obs, _ = flat.reset(seed=0)
    assert obs.shape == (2, flat.unwrapped.layout.size)
    for env in (venv, flat):
        env.close()
