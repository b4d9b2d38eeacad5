"""The somatotopic skin map (robot_twitch/learn/skinmap.py) on synthetic taxel sheets."""

from types import SimpleNamespace

import numpy as np
import pytest

from robot_twitch.learn.base import TransitionBatch
from robot_twitch.learn.skinmap import SkinMapLearner, neighbour_pairs, skinmap_scores
from robot_twitch.learn.withdrawal import receptive_fields
from robot_twitch.sensors_layout import SensorLayout
from tests.conftest import assert_resumes_identically

SIDE, SPACING_M = 20, 0.01


def _sheets(n_links=2):
    """Two flat SIDE x SIDE sheets of taxels (links 'arm' and 'leg'), SPACING_M apart."""
    rr, cc = np.divmod(np.arange(SIDE * SIDE), SIDE)
    sheet = np.stack([rr, cc, np.zeros_like(rr)], axis=1) * SPACING_M
    n = SIDE * SIDE
    return SimpleNamespace(link_names=("arm", "leg")[:n_links], position_m=np.tile(sheet, (n_links, 1)).astype(float),
                           spacing_m=np.full(n_links, SPACING_M), link_start=np.arange(n_links) * n,
                           link_stop=np.arange(1, n_links + 1) * n, taxel_link=np.repeat(np.arange(n_links), n),
                           n_taxels=n_links * n)


def _blob_batches(skin, events=2000, seed=0, n_links=None, hold=10):
    """Touches as Gaussian blobs (sigma 1.5 spacings) at random taxels on one link each, each
    pressed for `hold` steps and released for `hold` steps, with the skin sensor's noise (0.002 N)."""
    rng = np.random.default_rng(seed)
    n_t = len(skin.taxel_link)
    layout = SensorLayout(("j",), ("m",), ("a",), tuple(f"t:{k}" for k in range(n_t)))
    skin_readings = np.zeros((2 * events * hold + 1, n_t))
    for e in range(events):
        centre = rng.integers(n_t if n_links is None else int(skin.link_stop[n_links - 1]))
        same = skin.taxel_link == skin.taxel_link[centre]
        d2 = ((skin.position_m - skin.position_m[centre]) ** 2).sum(1)
        skin_readings[2 * e * hold + 1:(2 * e + 1) * hold + 1] = 0.05 * np.exp(-d2 / (2 * (1.5 * SPACING_M) ** 2)) * same
    skin_readings += 0.002 * rng.standard_normal(skin_readings.shape)
    readings = np.zeros((len(skin_readings), layout.size))
    readings[:, layout.slices["skin"]] = skin_readings
    steps = 2 * events * hold
    return [TransitionBatch(np.zeros((min(100, steps - k), 1)), readings[k:k + 100][:steps - k],
                            readings[k + 1:k + 101][:steps - k], layout) for k in range(0, steps, 100)]


def _trained(skin, seed=0, **kwargs):
    som = SkinMapLearner(seed=seed, **kwargs)
    for batch in _blob_batches(skin):
        som.observe(batch)
    return som


def _parts(skin):
    return np.array([skin.link_names[k] for k in skin.taxel_link])


def test_map_of_local_touch_is_somatotopic_and_shuffled_skin_is_at_chance():
    skin = _sheets()
    som = _trained(skin)
    assert som.touched.all()
    pairs = neighbour_pairs(skin)
    assert len(pairs) == 2 * (2 * SIDE * (SIDE - 1) + 2 * (SIDE - 1) ** 2)  # 8-neighbours on each sheet
    scores = skinmap_scores(som.node_xy, som.taxel_nodes(), pairs, _parts(skin), som.touched)
    assert scores["skinmap.adjacency"] >= 0.8  # the target; chance is about 0.06
    assert scores["skinmap.segregation"] >= 0.8
    assert scores["skinmap.coverage"] == 1.0
    assert abs(scores["skinmap.area_share.arm"] - 0.5) < 0.15  # equal taxels, about equal area
    # the same map scored against shuffled taxel positions: neighbours on the body are random taxels
    shuffled = SimpleNamespace(**{**vars(skin), "position_m": skin.position_m[np.random.default_rng(1).permutation(
        len(skin.taxel_link))]})
    chance = skinmap_scores(som.node_xy, som.taxel_nodes(), neighbour_pairs(shuffled), _parts(skin), som.touched)
    assert chance["skinmap.adjacency"] < 0.3
    # control: the initial weights (no touch) place neighbours at chance too
    initial = som.taxel_nodes(som.initial_weights(len(skin.taxel_link)))
    assert skinmap_scores(som.node_xy, initial, pairs, _parts(skin), som.touched)["skinmap.adjacency"] < 0.3


def test_pooled_afferents_map_the_sheet_and_shuffled_skin_stays_at_chance():
    """Each afferent pooling its neighbours (Gaussian of 1 spacing, as in the homunculus config)
    still gives a somatotopic map, and the same map against shuffled positions stays at chance."""
    skin = _sheets()
    som = _trained(skin, receptive_field=receptive_fields(skin, 0.0, 1.0))
    pairs = neighbour_pairs(skin)
    scores = skinmap_scores(som.node_xy, som.taxel_nodes(), pairs, _parts(skin), som.touched, som.contacted)
    assert scores["skinmap.adjacency"] >= 0.8 and scores["skinmap.adjacency_contact"] >= 0.8
    shuffled = SimpleNamespace(**{**vars(skin), "position_m": skin.position_m[np.random.default_rng(1).permutation(
        len(skin.taxel_link))]})
    chance = skinmap_scores(som.node_xy, som.taxel_nodes(), neighbour_pairs(shuffled), _parts(skin), som.touched)
    assert chance["skinmap.adjacency"] < 0.3


def _frames_batches(skin_frames):
    layout = SensorLayout(("j",), ("m",), ("a",), tuple(f"t:{k}" for k in range(skin_frames.shape[1])))
    frames = np.zeros((len(skin_frames), layout.size))
    frames[:, layout.slices["skin"]] = skin_frames
    return [TransitionBatch(np.zeros((len(frames[k:k + 101]) - 1, 1)), frames[k:k + 100][:len(frames) - k - 1],
                            frames[k + 1:k + 101], layout) for k in range(0, len(frames) - 1, 100)]


def test_a_press_on_one_taxel_reaches_its_field_and_noise_alone_reaches_nothing():
    """contacted: the taxel pressed; touched: the afferents whose field holds it (with pooling)
    or the taxel alone (without); the sensor noise alone (0.002 N) crosses no floor."""
    skin = _sheets(1)
    centre = SIDE * (SIDE // 2) + SIDE // 2
    press = np.zeros((401, len(skin.taxel_link)))
    press[101:201, centre] = 0.05
    rng = np.random.default_rng(0)
    fields = receptive_fields(skin, 0.0, 1.0)
    for field, reach in ((None, 1), (fields, 9)):
        som = SkinMapLearner(receptive_field=field)
        for batch in _frames_batches(press + 0.002 * rng.standard_normal(press.shape)):
            som.observe(batch)
        assert np.flatnonzero(som.contacted).tolist() == [centre]
        assert som.touched[centre] and som.touched.sum() >= reach and som.n_events >= 2
        d_m = np.linalg.norm(skin.position_m[som.touched] - skin.position_m[centre], axis=1)
        assert d_m.max() <= 3.01 * SPACING_M  # nothing beyond the field's reach
        quiet = SkinMapLearner(receptive_field=field)
        for batch in _frames_batches(0.002 * rng.standard_normal(press.shape)):
            quiet.observe(batch)
        assert not quiet.touched.any() and not quiet.contacted.any() and quiet.n_events == 0
    with pytest.raises(ValueError, match="receptive_field"):
        SkinMapLearner(receptive_field=fields).observe(_frames_batches(np.zeros((3, 7)))[0])


def test_only_touched_taxels_are_placed():
    skin = _sheets()
    som = SkinMapLearner(seed=0)
    for batch in _blob_batches(skin, events=20, n_links=1):  # the second sheet is never touched
        som.observe(batch)
    assert som.touched[:SIDE * SIDE].any() and not som.touched[SIDE * SIDE:].any()
    scores = skinmap_scores(som.node_xy, som.taxel_nodes(), neighbour_pairs(skin), _parts(skin), som.touched)
    assert scores["skinmap.coverage"] <= 0.5 and "skinmap.area_share.leg" not in scores


def test_deterministic_and_state_round_trip_continues_identically():
    skin = _sheets(1)
    batches = _blob_batches(skin, events=40)
    a, b, c = SkinMapLearner(seed=3), SkinMapLearner(seed=3), SkinMapLearner(seed=3)
    for x in batches[:4]:
        a.observe(x)
        c.observe(x)
    b.load_state_dict({k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in a.state_dict().items()})
    for x in batches[4:]:
        a.observe(x)
        b.observe(x)
        c.observe(x)
    np.testing.assert_array_equal(a.weights, b.weights)
    np.testing.assert_array_equal(a.weights, c.weights)
    assert a.n_events == b.n_events and (a.touched == b.touched).all()
    assert not np.array_equal(SkinMapLearner(seed=4).initial_weights(10), a.initial_weights(10))


def test_learner_needs_skin_and_valid_params():
    layout = SensorLayout(("j",), ("m",), ("a",))
    batch = TransitionBatch(np.zeros((2, 1)), np.zeros((2, layout.size)), np.zeros((2, layout.size)), layout)
    with pytest.raises(ValueError, match="skin"):
        SkinMapLearner().observe(batch)
    with pytest.raises(ValueError, match="grid"):
        SkinMapLearner(grid=(1, 5))


def test_homunculus_run_scores_the_map_and_resumes_identically(tmp_path):
    """The shipped config runs the map on the infant's skin; skinmap.* land in metrics.csv with
    the initial-weights control; a run interrupted and resumed gives the same metrics."""
    import csv

    from robot_twitch.config import load_config
    from robot_twitch.experiment import run_experiment

    config = load_config("homunculus", ["duration_s=6", "evaluation.every_s=3", "outputs.checkpoint_every_s=2",
                                        "outputs.plots=false"])
    straight = run_experiment(config, out=tmp_path / "a", progress_bar=False)
    rows = list(csv.DictReader(open(straight.run_dir / "metrics.csv")))
    assert len(rows) == 2 and all(0 <= float(r["skinmap.coverage"]) <= 1 for r in rows)
    assert "skinmap.adjacency_initial" in rows[-1] and "skinmap.adjacency_shuffled" in rows[-1]
    assert 0 <= float(rows[-1]["skinmap.coverage_contact"]) <= float(rows[-1]["skinmap.coverage"])
    from robot_twitch.report import FIGURE_CAPTIONS, write_report

    report = write_report(straight.run_dir).read_text()  # the report draws the map from body_map.npz
    assert (straight.run_dir / "plots" / "skinmap.png").is_file()
    assert FIGURE_CAPTIONS["skinmap.png"][:40] in report

    assert_resumes_identically(config, rows, tmp_path / "b")
