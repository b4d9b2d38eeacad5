"""Withdrawal reflex: truth from the site Jacobians, the reflex test, and the twitch-touch rule."""

import numpy as np
import pytest

from robot_twitch.body.spec import load_body
from robot_twitch.evaluation.withdrawal import (
    ReflexTest,
    field_match,
    reflex_errors,
    site_jacobians,
    withdrawable_sites,
    withdrawal_field,
)
from robot_twitch.learn.base import TransitionBatch
from robot_twitch.learn.withdrawal import WithdrawalLearner
from robot_twitch.sensors_layout import SensorLayout
from tests.conftest import assert_resumes_identically


@pytest.fixture(scope="module")
def infant():
    return load_body("infant")


def test_site_jacobian_matches_finite_differences(infant):
    q = infant.initial_posture()
    jac, _ = site_jacobians(infant, q)
    kin, skin = infant.kinematics, infant.skin
    eps = 1e-6
    for j in (0, 3, 7, 12, 20):
        qp, qm = q.copy(), q.copy()
        qp[j] += eps
        qm[j] -= eps
        pos = [skin.world_positions(*(a[0] for a in kin.link_frames(x[None], infant.root_rotation,
                                                                    infant.root_position_m))) for x in (qp, qm)]
        np.testing.assert_allclose(jac[:, :, j], (pos[0] - pos[1]) / (2 * eps), atol=1e-6)


def test_error_rate_zero_for_true_field_and_one_for_flipped(infant):
    field = withdrawal_field(infant, infant.initial_posture())
    sites = np.flatnonzero(withdrawable_sites(field))
    assert sites.size > 500
    assert reflex_errors(np.maximum(field, 0), field, sites).mean() == 0.0
    assert reflex_errors(np.maximum(-field, 0), field, sites).mean() > 0.99
    # initial weights of the learner (uniform, no structure): many errors
    w0 = np.random.default_rng(0).random(field.shape)  # dense uniform: fewer errors (antigravity muscles)
    sparse = w0 * (np.random.default_rng(1).random(field.shape) < 0.1)  # the learner's sparse start
    assert reflex_errors(sparse, field, sites).mean() >= 0.3


def test_reflex_test_reports_parts(infant):
    q = infant.initial_posture()
    field = withdrawal_field(infant, q)
    skin_n = np.full(field.shape[0], 0.01)
    out = ReflexTest(n_stimuli=100).run(infant, q, skin_n > 0, np.maximum(field, 0), np.random.default_rng(1))
    assert out["withdrawal.error_rate"] == 0.0 and out["withdrawal.error_rate_all"] == 0.0
    assert {"withdrawal.error_rate.hands", "withdrawal.error_rate.limbs"} <= set(out)
    assert np.isnan(out["withdrawal.error_rate_resting"]) and out["withdrawal.sites_resting"] == 0
    # resting skin: load time >= rest_s; the flipped field errs there too
    load_s = np.where(np.arange(field.shape[0]) % 2 == 0, 12.0, 0.5)
    flipped = ReflexTest(n_stimuli=100).run(infant, q, load_s, np.maximum(-field, 0), np.random.default_rng(1))
    assert flipped["withdrawal.error_rate_resting"] > 0.99
    assert 0 < flipped["withdrawal.sites_resting"] < flipped["withdrawal.sites_loaded"]


def test_field_match_needs_per_muscle_structure(infant):
    """The per-muscle receptive-field score: the true field ranks its own sites (1), its sign
    flip and a field of other sites do not, and the all-muscle reflex (W = 1) has no ranking
    (exactly 0, chance) although it scores a low error rate on the same stimuli."""
    field = withdrawal_field(infant, infant.initial_posture())
    rng = np.random.default_rng(0)
    sites = np.sort(rng.choice(field.shape[0], size=200, replace=False))  # drawn without the truth
    true, n_muscles = field_match(field, field, sites)
    assert true == pytest.approx(1.0) and n_muscles >= 20
    assert field_match(np.maximum(field, 0), field, sites)[0] > 0.8  # excitatory part of the truth
    assert field_match(np.maximum(-field, 0), field, sites)[0] < -0.7
    assert field_match(-field, field, sites)[0] == pytest.approx(-1.0)
    assert abs(field_match(field[rng.permutation(field.shape[0])], field, sites)[0]) < 0.15
    assert field_match(np.ones_like(field), field, sites) == (0.0, n_muscles)
    # the same muscles are averaged whatever the weights: the truth alone picks them
    assert field_match(rng.random(field.shape), field, sites)[1] == n_muscles
    assert np.isnan(field_match(field, field, sites[:2])[0])  # too few sites for any muscle


def _synthetic_run(field, twitching, steps=6000, seed=0, noise_n=0.002):
    """Isolated 5-step twitches of the muscles in `twitching`; a twitch of m changes taxel i's
    pressure by -0.02 N * field[i, m] (unloading where m withdraws i), plus sensor noise."""
    rng = np.random.default_rng(seed)
    n_t, n_m = field.shape
    layout = SensorLayout(("j",), tuple(f"m{k}" for k in range(n_m)), ("a",), tuple(f"a:{k}" for k in range(n_t)))
    base = 0.05 + 0.05 * rng.random(n_t)
    command = np.zeros((steps, n_m))
    skin = np.tile(base, (steps + 1, 1))
    t = 5
    while t < steps - 20:
        m = rng.choice(twitching)
        command[t:t + 5, m] = 0.5
        skin[t + 1:t + 12] += -0.02 * field[:, m]
        t += int(rng.integers(15, 30))
    skin = np.maximum(skin + noise_n * rng.standard_normal(skin.shape), 0)
    readings = np.zeros((steps + 1, layout.size))
    readings[:, layout.slices["skin"]] = skin
    return [TransitionBatch(command[k:k + 100], readings[k:k + 100], readings[k + 1:k + 101], layout)
            for k in range(0, steps, 100)]


def learner_initial(n_t, n_m, seed):
    rng = np.random.default_rng(seed)
    strength = rng.random((n_t, n_m))
    return strength * (rng.random((n_t, n_m)) < 0.1)


def test_rule_recovers_a_known_withdrawal_field_and_spares_silent_muscles():
    rng = np.random.default_rng(3)
    field = rng.standard_normal((60, 6))
    learner = WithdrawalLearner(dt_s=0.01, seed=1)
    w0 = learner_initial(60, 6, seed=1)  # the stated initial weights
    batches = _synthetic_run(field, twitching=np.arange(5))  # muscle 5 never twitches (control)
    for b in batches:
        learner.observe(b)
    sites = np.flatnonzero(withdrawable_sites(field[:, :5]))
    before = reflex_errors(w0[:, :5], field[:, :5], sites).mean()
    after = reflex_errors(learner.weights[:, :5], field[:, :5], sites).mean()
    assert before >= 0.3 and after <= 0.05
    # the never-twitched muscle learns nothing
    np.testing.assert_array_equal(learner.weights[:, 5], w0[:, 5])
    assert learner.twitches[5] == 0 and learner.twitches[:5].min() > 20
    # its column alone carries no withdrawal information: error at chance on its field
    sites5 = np.flatnonzero(field[:, 5] != 0)
    assert reflex_errors(learner.weights[:, 5:], field[:, 5:], sites5).mean() > 0.3


def test_state_round_trip_continues_identically():
    rng = np.random.default_rng(4)
    field = rng.standard_normal((20, 3))
    batches = _synthetic_run(field, twitching=np.arange(3), steps=1500)
    a, b = WithdrawalLearner(seed=2), WithdrawalLearner(seed=2)
    for x in batches[:7]:
        a.observe(x)
    b.load_state_dict(a.state_dict())
    for x in batches[7:]:
        a.observe(x)
        b.observe(x)
    np.testing.assert_array_equal(a.weights, b.weights)


def test_learner_needs_skin():
    layout = SensorLayout(("j",), ("m",), ("a",))
    batch = TransitionBatch(np.zeros((2, 1)), np.zeros((2, layout.size)), np.zeros((2, layout.size)), layout)
    with pytest.raises(ValueError, match="skin"):
        WithdrawalLearner().observe(batch)


def test_petersson2003_run_scores_the_reflex_and_resumes_identically(tmp_path):
    """The shipped config runs the learner on the infant's skin; the reflex test lands in
    metrics.csv and summary.json; a run interrupted and resumed gives the same metrics."""
    import csv
    import json

    from robot_twitch.config import load_config
    from robot_twitch.experiment import run_experiment

    config = load_config("petersson2003", ["duration_s=6", "evaluation.every_s=3", "outputs.checkpoint_every_s=2",
                                           "outputs.plots=false"])
    straight = run_experiment(config, out=tmp_path / "a", progress_bar=False)
    rows = list(csv.DictReader(open(straight.run_dir / "metrics.csv")))
    assert len(rows) == 2 and all(0 <= float(r["withdrawal.error_rate_all"]) <= 1 for r in rows)
    summary = json.loads((straight.run_dir / "summary.json").read_text())
    assert "withdrawal.error_rate" in summary["metrics"]
    for key in ("withdrawal.field_match", "withdrawal.field_match_shuffled", "withdrawal.field_match_initial"):
        assert key in rows[-1] and key in summary["metrics"]
    # every muscle at once has no ranking: chance (0) wherever some muscle's field is scored
    assert all(float(r["withdrawal.field_match_uniform"]) == 0.0 or float(r["withdrawal.field_muscles"]) == 0
               for r in rows)

    # the reflex probe (a copy of the world) adds its keys and leaves every other column as it was
    for key in ("withdrawal.error_rate_probe", "withdrawal.error_rate_probe_shuffled", "withdrawal.error_rate_probe_uniform",
                "withdrawal.error_rate_probe_initial", "withdrawal.probe_agreement", "withdrawal.error_rate_resting_probe",
                "withdrawal.error_rate_probe_jacobian"):
        assert key in rows[-1] and key in summary["metrics"]
    assert any(float(r["withdrawal.sites_probed"]) > 0 for r in rows)
    assert all(0 <= float(r["withdrawal.error_rate_probe"]) <= 1 and float(r["withdrawal.probe_rollouts"]) > 0
               for r in rows if float(r["withdrawal.sites_probed"]) > 0)
    off = run_experiment(load_config("petersson2003", ["duration_s=6", "evaluation.every_s=3", "outputs.plots=false",
                                                       "outputs.checkpoint_every_s=2",
                                                       "evaluation.withdrawal_probe_sites=0"]),
                         out=tmp_path / "off", progress_bar=False)
    rows_off = list(csv.DictReader(open(off.run_dir / "metrics.csv")))
    assert not any("probe" in key for key in rows_off[0])
    assert [{k: v for k, v in r.items() if "probe" not in k} for r in rows] == rows_off

    assert_resumes_identically(config, rows, tmp_path / "b")


def test_receptive_fields_pool_within_a_link(infant):
    from robot_twitch.learn.withdrawal import receptive_fields

    skin = infant.skin
    k = receptive_fields(skin).tocoo()
    np.testing.assert_allclose(np.asarray(receptive_fields(skin).sum(axis=1)).ravel(), 1.0)
    assert np.all(skin.taxel_link[k.row] == skin.taxel_link[k.col])
    assert k.nnz > skin.n_taxels  # fields cover more than their own taxel


def test_shuffled_control_stays_near_chance_while_the_rule_learns():
    """The control credits each twitch's pressure change to a random muscle: same skin input,
    no twitch identity. It must not learn the withdrawal field (the score needs its cause)."""
    rng = np.random.default_rng(3)
    field = rng.standard_normal((60, 6))
    learner = WithdrawalLearner(dt_s=0.01, seed=1)
    for b in _synthetic_run(field, twitching=np.arange(6)):
        learner.observe(b)
    sites = np.flatnonzero(withdrawable_sites(field))
    initial = reflex_errors(learner_initial(60, 6, seed=1), field, sites).mean()
    learned = reflex_errors(learner.weights, field, sites).mean()
    control = reflex_errors(learner.control_weights, field, sites).mean()
    assert initial >= 0.5 and learned <= 0.05
    assert control >= 0.4  # a dense random row is right about half the time on a random field
    # per muscle: the learned columns rank the sites each muscle withdraws, the control's do not
    everywhere = np.arange(60)
    assert field_match(learner.weights, field, everywhere)[0] >= 0.7
    assert field_match(learner.control_weights, field, everywhere)[0] <= 0.3
    assert abs(field_match(learner_initial(60, 6, seed=1), field, everywhere)[0]) <= 0.3
    # the control saw the same twitches (same column sums, different columns changed)
    np.testing.assert_allclose(learner.control_weights.sum(axis=0), learner.weights.sum(axis=0))


def _link_touch_run(link_field, steps=6000, seed=0, noise_n=0.002):
    """Isolated twitches of M muscles; a twitch of m changes link l's contact force by
    -0.02 N * link_field[l, m] (unloading where m withdraws the link), plus noise on every channel."""
    rng = np.random.default_rng(seed)
    n_l, n_m = link_field.shape
    layout = SensorLayout(("j0", "j1"), tuple(f"m{k}" for k in range(n_m)), tuple(f"l{k}" for k in range(n_l)))
    command = np.zeros((steps, n_m))
    frames = 0.001 * rng.standard_normal((steps + 1, layout.size))
    touch = layout.slices["touch"]
    frames[:, touch] += 0.05
    t = 5
    while t < steps - 20:
        m = rng.integers(n_m)
        command[t:t + 5, m] = 0.5
        frames[t + 1:t + 12, touch] += -0.02 * link_field[:, m]
        t += int(rng.integers(15, 30))
    frames[:, touch] += noise_n * rng.standard_normal((steps + 1, n_l))
    return layout, command, frames


def test_hebbian_touch_columns_score_against_the_withdrawal_truth():
    """Touch on a link drives the muscles whose twitches unloaded it: on synthetic data the
    per-link reflex withdraws (accuracy ~1) and a time-shuffled command (the control) does not."""
    from types import SimpleNamespace

    from robot_twitch.evaluation.withdrawal import touch_reflex_weights
    from robot_twitch.learn.hebbian import HebbianReflexLearner

    rng = np.random.default_rng(5)
    link_field = rng.standard_normal((30, 5))
    taxel_link = np.repeat(np.arange(30), 4)
    skin = SimpleNamespace(link_names=tuple(f"l{k}" for k in range(30)), taxel_link=taxel_link, n_taxels=120)
    field = link_field[taxel_link]  # (T, M): every taxel of a link moves with it
    sites = np.flatnonzero(withdrawable_sites(field))
    layout, command, frames = _link_touch_run(link_field)

    def accuracy(cmd):
        learner = HebbianReflexLearner(dt_s=0.01)
        for k in range(0, len(cmd), 100):
            learner.observe(TransitionBatch(cmd[k:k + 100], frames[k:k + 100], frames[k + 1:k + 101], layout))
        touch = learner.body_map()["hebbian_touch"]
        assert touch.shape == (5, 30)
        return 1.0 - reflex_errors(touch_reflex_weights(touch, layout.link_names, skin), field, sites).mean()

    # ~1: a link that nearly every twitch loads can look unloaded by a muscle that leaves it
    # alone (the covariance is taken about the link's mean force)
    assert accuracy(command) >= 0.85
    shuffled = command[np.random.default_rng(6).permutation(len(command))]
    assert accuracy(shuffled) <= 0.7
    # the true link field scores 1, its sign flip 0
    w_true = touch_reflex_weights(-link_field.T, layout.link_names, skin)
    assert reflex_errors(w_true, field, sites).mean() == 0.0
    assert reflex_errors(touch_reflex_weights(link_field.T, layout.link_names, skin), field, sites).mean() == 1.0


def test_hebbian_leaves_the_per_taxel_skin_out():
    """The skin group (thousands of taxels) is not in the Hebbian covariance; touch per link is."""
    from robot_twitch.learn.hebbian import HebbianReflexLearner

    layout = SensorLayout(("j",), ("m0", "m1"), ("l0", "l1"), tuple(f"l0:{k}" for k in range(50)))
    rng = np.random.default_rng(0)
    frames = rng.random((101, layout.size))
    learner = HebbianReflexLearner()
    learner.observe(TransitionBatch(rng.random((100, 2)), frames[:-1], frames[1:], layout))
    assert learner.correlation().shape == (2, layout.size - 50)
    assert learner.body_map()["hebbian_touch"].shape == (2, 2)
