"""The task registry (robot_twitch/envs/tasks.py): env ids, names, docs and CLI help come from it;
tasks are built for a body (no env) and a Reach target is passed in."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

from robot_twitch.body.spec import load_body
from robot_twitch.cli import main
from robot_twitch.config_doc import config_reference_markdown
from robot_twitch.envs import ENV_REGISTRY
from robot_twitch.envs.tasks import TASK_REGISTRY, PlantTask, ReachConfig, ReachTask, make_task
from robot_twitch.errors import ConfigError


def test_every_env_id_is_a_registered_task():
    assert TASK_REGISTRY.names() == ("plant", "reach", "reach_tip")
    assert set(ENV_REGISTRY) == {e.meta["env_id"] for e in TASK_REGISTRY.values()}
    for name, entry in TASK_REGISTRY.items():
        spec = gym.spec(entry.meta["env_id"])
        assert spec.kwargs == {"task": name} and spec.max_episode_steps == entry.meta["max_episode_steps"]
        env = gym.make(entry.meta["env_id"])
        task = env.unwrapped.task
        assert isinstance(task, ReachTask if name.startswith("reach") else PlantTask)
        assert task.body is env.unwrapped.body
        env.close()
    assert gym.make("RobotTwitch/ReachTip-v0").unwrapped.task.mode == "fingertip"


def test_names_and_settings_are_checked_with_one_clear_error():
    body = load_body("planar_arm")
    with pytest.raises(ValueError, match=r"task 'rech' is not registered.*did you mean 'reach'"):
        make_task("rech", body)
    with pytest.raises(ConfigError, match=r"task_config.hold_step.*did you mean 'hold_steps'"):
        gym.make("RobotTwitch/Reach-v0", task_config={"hold_step": 3})
    with pytest.raises(ConfigError, match=r"task_config.*margin"):
        make_task("reach", body, {"margin": 0.7})
    with pytest.raises(ValueError, match="takes no settings"):
        make_task("plant", body, {"x": 1})
    with pytest.raises(ValueError, match="ReachEnv needs a ReachTask"):
        gym.make("RobotTwitch/Reach-v0", task="plant")
    leg_task = ReachTask(load_body("leg"))
    with pytest.raises(ValueError, match="built for body 'leg'"):
        gym.make("RobotTwitch/Reach-v0", task=leg_task)


def test_a_task_needs_only_the_body_and_takes_its_target_as_an_argument():
    body = load_body("planar_arm")
    task = ReachTask(body, ReachConfig(hold_steps=2, tolerance_rad=0.05))
    rng = np.random.default_rng(4)
    q_star = np.array([0.3, 1.0])
    task.reset(rng, q_star)
    np.testing.assert_array_equal(task.target_joint_pos, q_star)
    assert rng.bit_generator.state == np.random.default_rng(4).bit_generator.state  # not drawn from
    task.reset(rng)  # drawn: a different target, inside the target box
    lo, hi = task.target_bounds()
    assert np.all((task.target_joint_pos >= lo) & (task.target_joint_pos <= hi))
    with pytest.raises(ValueError, match="finite joint angles"):
        task.reset(rng, np.array([0.3]))
    with pytest.raises(ValueError, match="no target"):
        PlantTask(body).reset(rng, q_star)
    # the task scores states on its own: two steps at the target solve it
    task.reset(rng, q_star)
    state = type("State", (), {"joint_pos_rad": q_star, "excitation": np.zeros(6)})()
    assert task.evaluate(state)[2] is False and task.evaluate(state)[2] is True
    tip = ReachTask(body, {"mode": "fingertip"})
    tip.reset(rng, q_star)
    np.testing.assert_allclose(tip.target_tip_pos, tip.tip_position(q_star))
    assert tip.reach_m > 0.1 and tip.error(q_star) == (0.0, True)


def test_docs_and_cli_list_every_task(capsys):
    doc = config_reference_markdown()
    assert main(["envs"]) == 0
    listed = capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["envs", "--help"])
    help_text = capsys.readouterr().out
    for name, entry in TASK_REGISTRY.items():
        env_id = entry.meta["env_id"]
        assert f"### `{name}`: `{env_id}`" in doc and entry.doc in doc
        assert env_id in listed and f"task={name}" in listed
        assert f"  {name}: {entry.doc}" in help_text
    assert "| `hold_steps` | `10` |" in doc and "tolerance_rad" in help_text
