"""DEP (differential extrinsic plasticity) as a closed-loop baseline drive on the simulator."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from robot_twitch.body.spec import load_body
from robot_twitch.config import load_config
from robot_twitch.drive_energy import closed_loop_energy, match_closed_loop_energy
from robot_twitch.errors import ConfigError
from robot_twitch.experiment import RunInterrupted, run_experiment
from robot_twitch.motor import DEPConfig, generate, make_drive, match_energy
from robot_twitch.sim import SimConfig, Simulation
from tests.test_cli import TINY, StopAt


def _rollout(body, config: DEPConfig, seed: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Excitations (T, M) and joint angles (T, J) of DEP driving the body."""
    drive = make_drive("dep", body.muscles, 0.01, config, np.random.default_rng(seed))
    us, qs = [], []
    with Simulation(body, SimConfig()) as sim:
        state = sim.reset()
        drive.feed_lengths(state.fiber_length_norm)
        for _ in range(steps):
            u = drive.step()
            state = sim.step(u)
            drive.feed_lengths(state.fiber_length_norm)
            us.append(u)
            qs.append(state.joint_pos_rad.copy())
    return np.array(us), np.array(qs)


def test_dep_moves_the_limb_and_is_deterministic(bodies):
    body = bodies["planar_arm"]
    config = DEPConfig(gain=0.1)  # about the twitch condition's energy (docs/motor.md)
    u, q = _rollout(body, config, seed=1, steps=2000)
    assert np.all((u >= 0) & (u <= 0.1 + 1e-12))
    # The closed loop swings both joints over tenths of a radian at a tenth of full excitation.
    assert np.all(q[500:].std(axis=0) > 0.05)
    u_again, q_again = _rollout(body, config, seed=1, steps=2000)
    np.testing.assert_array_equal(u, u_again)
    np.testing.assert_array_equal(q, q_again)
    u_other, _ = _rollout(body, config, seed=2, steps=2000)
    assert not np.array_equal(u, u_other)


def test_without_feedback_dep_does_nothing_but_hold(bodies):
    # The movement comes from the DEP rule on the body's response: with no observations the
    # controller matrix stays zero and the output is a constant co-contraction.
    drive = make_drive("dep", bodies["planar_arm"].muscles, 0.01, DEPConfig(initial_bias_sd=0.0))
    rows = np.array([drive.step() for _ in range(100)])
    np.testing.assert_array_equal(rows, np.full_like(rows, 0.5))


def test_dep_energy_matching_on_the_closed_loop(bodies):
    body = bodies["planar_arm"]
    rng_state = np.random.default_rng(4).bit_generator.state
    target = 0.25  # about the energy of 15 s of twitches
    matched = match_closed_loop_energy(body, SimConfig(), DEPConfig(), target, 5.0, rng_state)
    rng = np.random.default_rng()
    rng.bit_generator.state = rng_state
    assert closed_loop_energy(body, SimConfig(), matched, 5.0, rng) == pytest.approx(target, rel=0.01)
    assert 0 < matched.gain < 1
    with pytest.raises(ValueError, match="closed-loop drive"):
        match_energy(DEPConfig(), target, 5.0, body.muscles)


def test_dep_config_errors_name_the_field():
    with pytest.raises(ConfigError, match=r"DEPConfig\.kappa: 0 is invalid"):
        DEPConfig(kappa=0)
    with pytest.raises(ConfigError, match=r"DEPConfig\.tau_steps"):
        DEPConfig(tau_steps=2.5)  # type: ignore[arg-type]


def test_a_dep_run_is_energy_matched_and_resumes_exactly(tmp_path):
    path = tmp_path / "dep.yaml"
    path.write_text(yaml.safe_dump({**TINY, "drive": {"kind": "dep", "match_energy": True}}))
    config = load_config(path)
    straight = run_experiment(config, out=tmp_path / "a", progress_bar=False)

    with pytest.raises(RunInterrupted) as info:
        run_experiment(config, out=tmp_path / "b", progress_bar=False, hooks=[StopAt(4.0)])
    resumed = run_experiment(None, resume=info.value.run_dir, progress_bar=False)  # type: ignore[arg-type]
    assert resumed.summary["metrics"] == straight.summary["metrics"]
    assert resumed.summary["budget"]["energy"] == straight.summary["budget"]["energy"]
    # The budget is the twitch condition's: same seed, same duration.
    reference = make_drive("twitch", load_body("planar_arm").muscles, 0.01, config.drive.twitch,
                           np.random.default_rng(np.random.SeedSequence(config.seed).spawn(1)[0]))
    twitch_energy = generate(reference, config.duration_s).energy()
    assert straight.summary["budget"]["energy"] == pytest.approx(twitch_energy, rel=0.01)
