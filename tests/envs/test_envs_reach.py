"""RobotTwitch/Reach-v0 (ReachTask, ReachEnv) and BodySchemaObservation."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import robot_twitch  # noqa: F401  (registers the ids)
from robot_twitch.cli import main
from robot_twitch.envs.schema import BodySchemaObservation, load_action_map
from robot_twitch.learn import MotorMapLearner, PostureController, TransitionBatch
from tests.conftest import BUILTIN_BODIES

REACH_IDS = ("RobotTwitch/Reach-v0", "RobotTwitch/ReachTip-v0")
# check_env warns about any wrapper; checking the wrapper is the point here
WRAPPED_CHECK = pytest.mark.filterwarnings("ignore:.*different from the unwrapped version")


@pytest.mark.parametrize("env_id", REACH_IDS)
@pytest.mark.parametrize("body", BUILTIN_BODIES)
def test_check_env_passes(env_id, body):
    env = gym.make(env_id, body=body)
    try:
        check_env(env.unwrapped, skip_render_check=True)
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)
    finally:
        env.close()


def test_flat_observation_appends_the_target():
    env = gym.make("RobotTwitch/Reach-v0", flatten_observation=True)
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=2)
    limb = env.unwrapped
    n_s, n_j = limb.layout.size, limb.body.kinematics.n_joints
    assert obs.shape == (n_s + 2 * n_j,)
    np.testing.assert_array_equal(obs[n_s:n_s + n_j], info["target_joint_pos"])
    env.close()


def _target(seed: int, body: str = "planar_arm") -> np.ndarray:
    env = gym.make("RobotTwitch/Reach-v0", body=body)
    obs, info = env.reset(seed=seed)
    np.testing.assert_array_equal(obs["target_joint_pos"], info["target_joint_pos"])
    np.testing.assert_allclose(obs["target_error"], obs["target_joint_pos"] - obs["joint_pos"])
    lo, hi = env.unwrapped.task.target_bounds()
    env.close()
    return obs["target_joint_pos"], lo, hi


@pytest.mark.parametrize("body", BUILTIN_BODIES)
def test_same_seed_same_target_inside_the_inner_80_percent(body, bodies):
    a, lo, hi = _target(5, body)
    b, _, _ = _target(5, body)
    c, _, _ = _target(6, body)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    kin = bodies[body].kinematics
    span = kin.joint_upper - kin.joint_lower
    np.testing.assert_allclose(lo, kin.joint_lower + 0.1 * span)
    np.testing.assert_allclose(hi, kin.joint_upper - 0.1 * span)
    assert np.all((a >= lo) & (a <= hi))


def test_reset_option_fixes_the_target():
    env = gym.make("RobotTwitch/Reach-v0")
    obs, _ = env.reset(seed=0, options={"target_joint_pos": [0.3, 1.0]})
    np.testing.assert_array_equal(obs["target_joint_pos"], [0.3, 1.0])
    obs, _ = env.reset()  # the option holds for one episode only
    assert not np.array_equal(obs["target_joint_pos"], [0.3, 1.0])
    env.close()


@pytest.mark.parametrize(("env_id", "error_term"), [(REACH_IDS[0], "posture_error"), (REACH_IDS[1], "tip_error")])
def test_reward_terms_are_named_and_sum_to_the_reward(env_id, error_term):
    env = gym.make(env_id)
    env.reset(seed=1)
    env.action_space.seed(1)
    for _ in range(20):
        _, reward, terminated, _, info = env.step(env.action_space.sample())
        terms = info["reward_terms"]
        assert set(terms) == {error_term, "effort", "success"}
        assert reward == pytest.approx(sum(terms.values()), abs=1e-12)
        assert terms[error_term] < 0 and terms["effort"] <= 0 and terms["success"] == 0
        assert not terminated
    # the success bonus is paid on the step that solves the task, which terminates the episode
    env2 = gym.make("RobotTwitch/Reach-v0", task_config={"hold_steps": 3, "tolerance_rad": 0.2})
    task = env2.unwrapped.task
    q0 = env2.unwrapped.body.initial_posture()
    env2.reset(seed=0, options={"target_joint_pos": q0, "joint_pos": q0})
    for k in range(3):
        _, reward, terminated, _, info = env2.step(np.zeros(6))
        assert terminated == (k == 2)
    assert info["reward_terms"]["success"] == task.success_bonus and info["is_success"]
    assert reward == pytest.approx(sum(info["reward_terms"].values()))
    env.close()
    env2.close()


def _success_rate(env: gym.Env, policy, n_episodes: int) -> float:
    wins = 0
    for ep in range(n_episodes):
        obs, info = env.reset(seed=ep)
        while True:
            obs, _, terminated, truncated, info = env.step(policy(obs, info))
            if terminated or truncated:
                break
        wins += bool(info["is_success"])
    return wins / n_episodes


def test_true_moment_arm_controller_reaches_and_zero_action_does_not():
    """Measured on seeds 0..19: the true-R(q) PostureController 17/20 (0.85; 0.88 on 50 seeds),
    zero excitation 0/20."""
    env = gym.make("RobotTwitch/Reach-v0", body="planar_arm")

    def true_map(obs, info):
        return PostureController(info["moment_arms"])(obs["joint_pos"], obs["joint_vel"], obs["target_joint_pos"])

    rate_true = _success_rate(env, true_map, 20)
    rate_zero = _success_rate(env, lambda obs, info: np.zeros(6), 20)
    env.close()
    assert rate_true >= 0.7, rate_true
    assert rate_zero <= 0.1, rate_zero


def _babble_learner(seed: int = 0, steps: int = 2000) -> MotorMapLearner:
    """A MotorMapLearner fed random pulse babbling on the planar arm."""
    env = gym.make("RobotTwitch/Limb-v0", flatten_observation=True)
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    sensors, nexts, commands = [], [], []
    u = np.zeros(6)
    for k in range(steps):
        if k % 10 == 0:
            u = (rng.random(6) < 0.3) * rng.random(6) * 0.6
        nxt, *_ = env.step(u)
        sensors.append(obs)
        nexts.append(nxt)
        commands.append(u.copy())
        obs = nxt
    learner = MotorMapLearner()
    learner.observe(TransitionBatch(np.array(commands), np.array(sensors), np.array(nexts), env.unwrapped.layout))
    env.close()
    return learner


@pytest.fixture(scope="module")
def learner():
    return _babble_learner()


@WRAPPED_CHECK
def test_schema_wrapper_from_a_learner_reaches(learner):
    """Following schema_excitation of a babbling-learned map: 20/20 on seeds 0..19."""
    check_env(BodySchemaObservation.from_learner(gym.make("RobotTwitch/Reach-v0").unwrapped, learner),
              skip_render_check=True)
    env = BodySchemaObservation.from_learner(gym.make("RobotTwitch/Reach-v0"), learner)
    obs, _ = env.reset(seed=0)
    assert obs["schema_action_map"].shape == (12,)
    np.testing.assert_allclose(obs["schema_action_map"].reshape(6, 2),
                               learner.body_map()["motor_map"] / np.abs(learner.body_map()["motor_map"]).max())
    assert env.observation_space.contains(obs)
    rate = _success_rate(env, lambda obs, info: obs["schema_excitation"], 20)
    env.close()
    assert rate >= 0.8, rate


@WRAPPED_CHECK
def test_schema_wrapper_from_a_run_directory_npz(tmp_path, learner):
    maps = {f"motor_map/{k}": v for k, v in learner.body_map().items()}
    truth = np.ones((6, 2))
    np.savez_compressed(tmp_path / "body_map.npz", **maps, **{"truth/moment_arms": truth})
    expected = learner.body_map()["motor_map"]
    for source in (tmp_path, tmp_path / "body_map.npz", maps):
        np.testing.assert_allclose(load_action_map(source), expected)
    np.testing.assert_allclose(load_action_map(tmp_path, key="truth/moment_arms"), truth)
    env = BodySchemaObservation.from_run_dir(gym.make("RobotTwitch/Reach-v0").unwrapped, tmp_path,
                                             include_map=False)
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    assert "schema_action_map" not in obs and obs["schema_excitation"].shape == (6,)
    assert np.all((obs["schema_excitation"] >= 0) & (obs["schema_excitation"] <= 1))
    env.close()
    # map only: works on the bare plant (no target), for every source form
    env = BodySchemaObservation.from_body_map(gym.make("RobotTwitch/Limb-v0").unwrapped, maps,
                                              include_controller=False)
    check_env(env, skip_render_check=True)
    env.close()


def test_schema_wrapper_rejects_bad_inputs(tmp_path, learner):
    with pytest.raises(ValueError, match=r"shape \(6, 2\).*\(9, 3\)"):
        BodySchemaObservation(gym.make("RobotTwitch/Reach-v0", body="leg"), learner)
    with pytest.raises(ValueError, match="no 'target_joint_pos'"):
        BodySchemaObservation(gym.make("RobotTwitch/ReachTip-v0"), learner)
    with pytest.raises(ValueError, match="Dict observation"):
        BodySchemaObservation(gym.make("RobotTwitch/Reach-v0", flatten_observation=True), learner)
    with pytest.raises(ValueError, match="no body map"):
        load_action_map(tmp_path)
    with pytest.raises(ValueError, match="no motor map"):
        load_action_map({"reflex/reflex_spindle_length": np.eye(6)})
    with pytest.raises(ValueError, match="finite, non-zero"):
        load_action_map(np.zeros((6, 2)))


def test_cli_envs_lists_reach(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert "RobotTwitch/Reach-v0" in out and "max_episode_steps=300" in out
