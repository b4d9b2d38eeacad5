"""The video's side panels (which one a run gets, the skin map's content and drawing) and the
time-lapse; small synthetic sheets and short clips."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from PIL import Image

from robot_twitch.config import load_config
from robot_twitch.experiment import film
from robot_twitch.learn.skinmap import SkinMapLearner, part_colours, skinmap_scores
from robot_twitch.overlay import draw_panel
from robot_twitch.video import MapPanel, SkinMapPanel, choose_panel
from tests.learn.test_learn_skinmap import _blob_batches, _sheets
from tests.test_cli import TINY


def _hand_and_foot():
    """Two 20 x 20 taxel sheets on links named so that their parts are hands and feet."""
    skin = _sheets()
    return SimpleNamespace(**{**vars(skin), "link_names": ("left_hand", "left_foot")})


def _rollout_at(time_s: float):
    return SimpleNamespace(sim=SimpleNamespace(state=SimpleNamespace(time_s=time_s)))


def _fed_panel(events: int = 40, score_every_s: float = 2.0):
    """A SkinMapPanel over a SkinMapLearner fed a few synthetic batches (one per simulated second)."""
    skin = _hand_and_foot()
    learner = SkinMapLearner(seed=0)
    panel = SkinMapPanel(learner, SimpleNamespace(skin=skin), score_every_s=score_every_s)
    assert panel.panel(None)["node_rgb"] is None  # before any batch: nothing to show
    for k, batch in enumerate(_blob_batches(skin, events=events)):
        learner.observe(batch)
        panel.after_batch(_rollout_at(float(k + 1)), batch)
    return panel, learner, skin


def test_skinmap_panel_colours_each_node_by_the_part_it_wins_and_leaves_the_others_blank():
    panel, learner, skin = _fed_panel()
    content = panel.panel(None)
    rgb = content["node_rgb"].reshape(-1, 3).astype(float)
    assert content["node_rgb"].shape == (12, 12, 3) and content["kind"] == "skinmap"
    parts = np.where(skin.taxel_link == 0, "hands", "feet")
    nodes = learner.taxel_nodes()
    touched = learner.touched
    assert 0 < touched.sum() < len(touched)
    occupied = np.unique(nodes[touched])
    blank = np.all(rgb == 255, axis=1)
    assert set(np.flatnonzero(~blank)) == set(occupied.tolist())  # a node is coloured iff it wins a touched afferent
    assert blank.any()
    colour = dict(zip(("feet", "hands"), 255 * part_colours(["feet", "hands"]), strict=True))
    seen = set()
    for node in occupied:
        held = parts[touched & (nodes == node)]
        names, counts = np.unique(held, return_counts=True)
        majority = str(names[np.argmax(counts)])
        # white blended towards the part's colour: 255 - shade (255 - colour), one shade for all channels
        shade = (255 - rgb[node]) / (255 - colour[majority])
        assert np.ptp(shade) < 0.02 and 0.34 <= shade.mean() <= 1.001, (node, majority, rgb[node])
        seen.add(majority)
    assert seen == {"feet", "hands"}
    assert content["legend"] == [(name, tuple(int(round(c)) for c in colour[name])) for name in ("feet", "hands")]
    assert content["note"] == f"{touched.sum()} of {len(touched)} afferents touched"


def test_skinmap_panel_scores_adjacency_with_the_runs_function_every_few_seconds():
    from robot_twitch.learn.skinmap import neighbour_pairs

    skin = _hand_and_foot()
    learner = SkinMapLearner(seed=0)
    panel = SkinMapPanel(learner, SimpleNamespace(skin=skin), score_every_s=2.0)
    parts = np.where(skin.taxel_link == 0, "hands", "feet")
    expected = []
    for k, batch in enumerate(_blob_batches(skin, events=40)):  # 8 batches, one per simulated second
        learner.observe(batch)
        panel.after_batch(_rollout_at(float(k + 1)), batch)
        scores = skinmap_scores(learner.node_xy, learner.taxel_nodes(), neighbour_pairs(skin), parts, learner.touched)
        expected.append((float(k + 1), scores["skinmap.adjacency"]))
    assert panel.curve == expected[::2]  # at 1, 3, 5, 7 s: once per 2 s, not per batch, the run's score
    assert expected[-1][1] > 0.3  # the map is forming (chance ~0.06)


def test_overlay_draws_the_skinmap_panel_at_a_small_size():
    panel, _, _ = _fed_panel(events=20)
    content = panel.panel(None)
    for size, box in (((96, 64), (60, 0, 95, 63)), ((480, 270), (336, 0, 479, 269))):
        image = Image.new("RGB", size, (0, 0, 0))
        draw_panel(image, content, box)
        drawn = np.asarray(image)[box[1]:box[3] + 1, box[0]:box[2] + 1].reshape(-1, 3)
        assert (drawn != 0).any(axis=1).all()  # the whole box is painted
        hands = tuple(int(c) for c in dict(content["legend"])["hands"])
        if size[0] >= 480:  # large enough for the legend: the part's own colour is on it
            assert (drawn == hands).all(axis=1).any()
    empty = Image.new("RGB", (96, 64))
    draw_panel(empty, {**content, "node_rgb": None, "curve": []}, (60, 0, 95, 63))  # before any touch
    with pytest.raises(ValueError, match="panel kind 'heat' is unknown"):
        draw_panel(empty, {"kind": "heat"}, (60, 0, 95, 63))


def test_one_rule_picks_the_panel():
    body = SimpleNamespace(skin=_hand_and_foot(), muscle_names=("a",), joint_names=("j",))
    motor, skin = SimpleNamespace(name="motor_map"), SkinMapLearner()
    assert isinstance(choose_panel("auto", [skin, motor], body), MapPanel)  # the motor map first
    assert isinstance(choose_panel("auto", [skin], body), SkinMapPanel)
    assert isinstance(choose_panel("skinmap", [skin, motor], body), SkinMapPanel)
    assert choose_panel("auto", [SimpleNamespace(name="hebbian")], body) is None
    assert choose_panel("none", [skin, motor], body) is None
    with pytest.raises(ValueError, match="learner 'skinmap', which this run does not have"):
        choose_panel("skinmap", [motor], body)


def test_a_time_lapse_films_frame_k_at_k_every_s(monkeypatch, tmp_path: Path):
    import robot_twitch.video as video

    shown: list[tuple[float, str]] = []
    add_frame = video.VideoRecorder.add_frame

    def spy(self, state, caption=None, panel=None, highlight=None):
        shown.append((state.time_s, caption["time-lapse"]))
        return add_frame(self, state, caption, panel, highlight)

    monkeypatch.setattr(video.VideoRecorder, "add_frame", spy)
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({**TINY, "duration_s": 3.0, "evaluation": {**TINY["evaluation"], "reach_trials": 0}}))
    result = film(load_config(path), tmp_path / "lapse.gif", seconds=2.0, size=(64, 48), fps=5, every_s=0.5)
    assert result.n_frames == 4
    np.testing.assert_allclose([t for t, _ in shown], [0.0, 0.5, 1.0, 1.5], atol=1e-9)
    assert {label for _, label in shown} == {"2.5x"}  # 0.5 s per frame at 5 fps
    with Image.open(result.path) as gif:
        assert gif.n_frames == 4
