"""The one rollout: drive -> Simulation -> sensors -> batches, with hooks; a run and its film agree."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from robot_twitch.body.spec import load_body
from robot_twitch.config import load_config
from robot_twitch.experiment import film, run_experiment
from robot_twitch.rollout import Rollout, SimulationDiverged
from robot_twitch.sensors import SensorModel
from robot_twitch.sensors_layout import SensorLayout
from robot_twitch.sim import Simulation
from tests.test_cli import TINY


class Recorder:
    """Logs what every hook saw, in order."""

    def __init__(self, log: list, name: str) -> None:
        self.log, self.name = log, name

    def before_step(self, rollout: Rollout) -> None:
        self.log.append((self.name, "before", rollout.sim.time_s))

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state) -> None:
        self.log.append((self.name, "after", state.time_s))

    def after_batch(self, rollout: Rollout, batch) -> None:
        self.log.append((self.name, "batch", len(batch)))


class ConstantDrive:
    def __init__(self, u: np.ndarray) -> None:
        self.u = u

    def step(self) -> np.ndarray:
        return self.u.copy()


def _sensors(body) -> SensorModel:
    layout = SensorLayout(body.joint_names, body.muscle_names, body.link_names)
    return SensorModel(layout, body.muscle_params.max_isometric_force_n)


def test_hooks_run_in_order_around_each_step_and_batch(bodies):
    body = bodies["planar_arm"]
    log: list = []
    with Simulation(body) as sim:
        rollout = Rollout(sim, ConstantDrive(np.full(6, 0.2)), _sensors(body), hooks=[Recorder(log, "a")])
        rollout.add_hook(Recorder(log, "b"))
        batch = rollout.run_batch(2)
    kinds = [(name, kind) for name, kind, _ in log]
    assert kinds == [("a", "before"), ("b", "before"), ("a", "after"), ("b", "after"),
                     ("a", "before"), ("b", "before"), ("a", "after"), ("b", "after"),
                     ("a", "batch"), ("b", "batch")]
    assert [t for _, kind, t in log if kind == "after"][::2] == pytest.approx([0.01, 0.02])
    assert batch.command.shape == (2, 6) and np.all(batch.command == 0.2)
    # Consecutive transitions share their readings: the next batch starts where this one ended.
    np.testing.assert_array_equal(batch.sensors[1], batch.next_sensors[0])


def test_batches_continue_the_sensor_stream(bodies):
    body = bodies["planar_arm"]
    with Simulation(body) as sim:
        rollout = Rollout(sim, ConstantDrive(np.full(6, 0.3)), _sensors(body))
        first, second = rollout.run_batch(3), rollout.run_batch(3)
    np.testing.assert_array_equal(first.next_sensors[-1], second.sensors[0])
    assert not np.array_equal(first.sensors[0], second.next_sensors[-1])  # the arm moved


def test_drive_plus_command_is_capped_and_lost_muscles_get_nothing(bodies):
    body = bodies["planar_arm"]
    with Simulation(body) as sim:
        rollout = Rollout(sim, ConstantDrive(np.full(6, 0.7)))
        rollout.step(np.full(6, 0.5))
        np.testing.assert_array_equal(rollout.last_excitation, np.ones(6))
        np.testing.assert_array_equal(rollout.last_drive_excitation, np.full(6, 0.7))
        rollout.force_scale = np.array([1.0, 0.0, 1.0, 1.0, 0.5, 1.0])
        state = rollout.step()
        np.testing.assert_array_equal(state.excitation, [0.7, 0.0, 0.7, 0.7, 0.7, 0.7])
    with Simulation(body) as sim, pytest.raises(ValueError, match="needs a command"):
        Rollout(sim).step()


def test_a_blow_up_stops_the_batch(bodies):
    body = bodies["planar_arm"]
    with Simulation(body) as sim:
        rollout = Rollout(sim, ConstantDrive(np.full(6, 0.2)), _sensors(body))
        sim.client.resetJointState(sim.robot_id, sim.joint_indices[0], 0.0, 1e9)  # a runaway speed
        with pytest.raises(SimulationDiverged, match="diverged"):
            rollout.run_batch(5)


def test_snapshot_restores_the_state_into_a_fresh_world(bodies):
    body = bodies["planar_arm"]
    u = np.linspace(0.1, 0.6, 6)
    with Simulation(body) as sim:
        for _ in range(30):
            sim.step(u)
        snap = sim.snapshot()
        before = sim.state
        sim.step(u)  # a snapshot holds copies: later steps do not change it
    assert snap.time_s == pytest.approx(0.30)
    np.testing.assert_array_equal(snap.joint_pos_rad, before.joint_pos_rad)
    runs = []
    for _ in range(2):
        with Simulation(body) as fresh:
            state = fresh.restore(snap)
            np.testing.assert_array_equal(state.joint_pos_rad, before.joint_pos_rad)
            np.testing.assert_array_equal(state.activation, before.activation)
            assert fresh.time_s == snap.time_s
            runs.append(np.array([fresh.step(u).joint_pos_rad for _ in range(20)]))
    np.testing.assert_array_equal(runs[0], runs[1])


# -- a run and its film ------------------------------------------------------------------------
class ExcitationLog:
    """Keeps every step's excitation and joint position, and the drive's event log."""

    def __init__(self) -> None:
        self.excitation: list[np.ndarray] = []
        self.actuation: list[np.ndarray] = []  # a passive drive's push, else the excitation
        self.joint_pos: list[np.ndarray] = []
        self.drive = None

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state) -> None:
        self.excitation.append(excitation.copy())
        self.actuation.append(rollout.last_actuation.copy())
        self.joint_pos.append(state.joint_pos_rad.copy())
        self.drive = rollout.drive


FILM_S = 2.0

CONDITIONS = {
    "energy-matched baseline": {"drive": {"kind": "white_noise", "match_energy": True,
                                          "twitch": {"inter_burst_median_s": 1.0}}},
    "closed-loop drive": {"drive": {"kind": "dep"}},
    "passive drive": {"drive": {"kind": "passive", "twitch": {"inter_burst_median_s": 1.0}}},
    "body change": {"body_changes": [{"at_s": 1.0, "kind": "lose_muscle", "muscle": "brachialis"},
                                     {"at_s": 1.5, "kind": "scale_segment", "link": "forearm", "factor": 1.2}]},
}


@pytest.mark.parametrize("condition", list(CONDITIONS))
def test_the_film_of_a_config_is_its_run(condition: str, tmp_path: Path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**TINY, "duration_s": 3.0, "outputs": {"plots": False, "checkpoint_every_s": 1.0},
                                    "evaluation": {**TINY["evaluation"], "reach_trials": 0}, **CONDITIONS[condition]}))
    config = load_config(path)
    run_log, film_log = ExcitationLog(), ExcitationLog()
    run_experiment(config, out=tmp_path / "runs", progress_bar=False, hooks=[run_log])
    result = film(config, tmp_path / "film.gif", seconds=FILM_S, size=(64, 48), fps=5, hooks=[film_log])
    assert result.n_frames == 10 and result.path.stat().st_size > 0
    n = int(round(FILM_S * config.sim.control_hz))
    assert len(film_log.excitation) >= n
    np.testing.assert_array_equal(np.array(film_log.excitation[:n]), np.array(run_log.excitation[:n]))
    np.testing.assert_array_equal(np.array(film_log.actuation[:n]), np.array(run_log.actuation[:n]))
    np.testing.assert_array_equal(np.array(film_log.joint_pos[:n]), np.array(run_log.joint_pos[:n]))
    run_events = [e for e in run_log.drive.events if e.onset_s < FILM_S]
    film_events = [e for e in film_log.drive.events if e.onset_s < FILM_S]
    assert film_events == run_events
    if condition == "body change":
        m = load_body(config.body).muscle_names.index("brachialis")
        assert np.all(np.array(film_log.excitation[101:n])[:, m] == 0.0)  # lost at 1 s
    else:
        assert np.array(run_log.actuation[:n]).any()


FILMED = {  # config, overrides of the run, overrides of its film
    "motor-map panel, real time": (None, [], ["outputs.video.seconds=1"]),
    "skin-map panel, time-lapse": ("homunculus", ["duration_s=2", "evaluation.every_s=1", "outputs.plots=false"],
                                   ["outputs.video.seconds=2", "outputs.video.every_s=0.5"]),
}


@pytest.mark.parametrize("condition", list(FILMED))
def test_a_run_that_films_itself_scores_as_one_that_does_not(condition: str, tmp_path: Path):
    name, overrides, film_overrides = FILMED[condition]
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**TINY, "duration_s": 2.0, "outputs": {"plots": False, "checkpoint_every_s": 1.0}}))
    config = name or path
    plain = run_experiment(load_config(config, overrides), out=tmp_path / "a", progress_bar=False)
    filmed = run_experiment(load_config(config, [*overrides, "outputs.video.enabled=true", "outputs.video.format=gif",
                                                 "outputs.video.width=64", "outputs.video.height=48",
                                                 "outputs.video.fps=5", *film_overrides]),
                            out=tmp_path / "b", progress_bar=False)
    assert (filmed.run_dir / "video.gif").stat().st_size > 0
    np.testing.assert_equal(filmed.summary["metrics"], plain.summary["metrics"])  # (NaN equals NaN here)
    assert filmed.summary["budget"]["energy"] == plain.summary["budget"]["energy"]
    if name == "homunculus":  # the skin map learned (the panel read it, and changed nothing)
        assert filmed.summary["metrics"]["skinmap.coverage"] > 0
