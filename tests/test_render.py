"""Rendering, muscle overlay and demo videos (small frames, short clips: fast)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import imageio.v3 as iio
import numpy as np
import pybullet
import pytest
from PIL import Image

import robot_twitch  # noqa: F401  (registers the envs)
from robot_twitch.body.spec import load_body
from robot_twitch.envs.camera import default_camera, swept_points
from robot_twitch.render import camera_matrices, project_points, render_limb, select_renderer
from robot_twitch.sim import Simulation
from robot_twitch.video import PulseDrive, VideoRecorder, parse_size, record_demo

SIZE = (160, 120)


@pytest.fixture(scope="module")
def body():
    return load_body("planar_arm")


@pytest.fixture()
def sim(body):
    with Simulation(body) as s:
        yield s


def test_default_camera_keeps_swept_limb_in_frame(body):
    camera = default_camera(body, aspect=SIZE[0] / SIZE[1])
    view, proj = camera_matrices(None, camera, *SIZE)
    pix = project_points(swept_points(body, 64), view, proj, *SIZE)
    assert np.all(np.isfinite(pix))
    assert pix[:, 0].min() > 0 and pix[:, 0].max() < SIZE[0]
    assert pix[:, 1].min() > 0 and pix[:, 1].max() < SIZE[1]
    # and the limb is not tiny: it spans a good part of the image height
    assert np.ptp(pix[:, 1]) > 0.5 * SIZE[1]


def test_renderer_falls_back_quietly(sim, capfd):
    # The eglRenderer plugin only sees bodies loaded after it, and Simulation builds its world in
    # its constructor: the test frame is empty, so "auto" must fall back to TinyRenderer.
    assert select_renderer(sim, "auto") == pybullet.ER_TINY_RENDERER
    assert select_renderer(sim, "tiny") == pybullet.ER_TINY_RENDERER
    out, err = capfd.readouterr()
    assert "EGL" not in out and "EGL" not in err
    with pytest.raises(ValueError, match="renderer"):
        select_renderer(sim, "vulkan")


def test_mp4_frame_count_size_and_content(tmp_path: Path):
    result = record_demo("planar_arm", "pulses", 1.0, tmp_path / "a.mp4", size=SIZE, fps=12)
    assert result.n_frames == 12
    frames = iio.imread(result.path, plugin="pyav") if _has_pyav() else _read_ffmpeg(result.path)
    assert frames.shape == (12, SIZE[1], SIZE[0], 3)
    for frame in frames:
        assert frame.std() > 10  # not blank
        assert len(np.unique(frame.reshape(-1, 3) // 32, axis=0)) > 3


def _has_pyav() -> bool:
    try:
        import av  # noqa: F401
    except ImportError:
        return False
    return True


def _read_ffmpeg(path: Path) -> np.ndarray:
    import imageio.v2 as imageio

    with imageio.get_reader(str(path), format="FFMPEG") as reader:
        return np.stack([frame for frame in reader.iter_data()])


def test_consecutive_frames_differ_while_limb_moves(sim, body):
    rec = VideoRecorder(sim, size=SIZE, fps=30)
    u = np.zeros(len(body.muscle_names))
    u[body.muscle_names.index("biceps")] = 1.0
    frames = []
    for _ in range(4):
        for _ in range(3):
            sim.step(u)
        frames.append(rec.add_frame(caption={"sleep_state": "active", "time_s": sim.time_s}))
    assert rec.n_frames == 4
    for a, b in zip(frames[:-1], frames[1:], strict=True):
        assert np.abs(a.astype(int) - b.astype(int)).mean() > 0.05


def test_muscle_overlay_colour_follows_activation(sim, body):
    camera = default_camera(body, aspect=SIZE[0] / SIZE[1])
    view, proj = camera_matrices(sim, camera, *SIZE)
    m = body.muscle_names.index("deltoid_posterior")
    g = body.paths.geometry
    seg = int(np.flatnonzero(g.segment_muscle[m])[0])
    ends = project_points(sim.state.path_points_m[[g.segment_start[seg], g.segment_end[seg]]], view, proj, *SIZE)
    samples = [ends[0] + f * (ends[1] - ends[0]) for f in np.linspace(0.3, 0.7, 9)]

    def colours(activation: float) -> np.ndarray:
        a = np.zeros(len(body.muscle_names))
        a[m] = activation
        sim.state = replace(sim.state, activation=a)
        frame = render_limb(sim, camera, *SIZE)
        return np.array([frame[int(y), int(x)] for x, y in samples], dtype=int)

    relaxed, active = np.median(colours(0.0), axis=0), np.median(colours(1.0), axis=0)
    assert relaxed[2] > relaxed[0] + 60  # blue
    assert active[0] > active[2] + 60  # red
    bare = render_limb(sim, camera, *SIZE, muscles=False)
    assert bare.shape == (SIZE[1], SIZE[0], 3)


def test_gif_output_and_side_panel(tmp_path: Path):
    result = record_demo("planar_arm", PulseDrive(6, rate_hz=5.0), 0.8, tmp_path / "a.gif", size=SIZE, fps=10,
                         learner="motor_map", still_path=tmp_path / "still.png")
    with Image.open(result.path) as gif:
        assert gif.size == SIZE
        assert gif.n_frames == 8
    still = np.asarray(Image.open(tmp_path / "still.png"))
    assert still.shape == (SIZE[1], SIZE[0], 3)
    panel = still[:, -int(0.3 * SIZE[0]) + 2:]
    assert panel.std() > 10  # the side panel has content


def test_buffered_recorder_writes_on_demand(sim, tmp_path: Path):
    rec = VideoRecorder(sim, size=SIZE, fps=5)
    with pytest.raises(ValueError, match="no frames"):
        rec.write(tmp_path / "x.mp4")
    for _ in range(3):
        sim.step(np.full(len(sim.body.muscle_names), 0.3))
        rec.add_frame()
    assert len(rec.frames) == 3
    assert rec.write(tmp_path / "x.mp4").stat().st_size > 0
    with pytest.raises(ValueError, match="extension"):
        rec.write(tmp_path / "x.avi")
    assert parse_size("320x240") == (320, 240)


def test_limb_env_renders_under_record_video(tmp_path: Path):
    pytest.importorskip("moviepy")
    env = gym.make("RobotTwitch/Limb-v0", render_mode="rgb_array", render_size=SIZE)
    env = gym.wrappers.RecordVideo(env, str(tmp_path / "videos"), episode_trigger=lambda _: True, disable_logger=True)
    env.reset(seed=0)
    for _ in range(15):
        env.step(env.action_space.sample())
    frame = env.render()
    assert frame.shape == (SIZE[1], SIZE[0], 3)
    env.close()
    videos = list((tmp_path / "videos").glob("*.mp4"))
    assert videos and videos[0].stat().st_size > 0


def test_infant_arm_twitch_is_visible_in_env_render():
    """The default camera frames the whole infant: one arm muscle changes >= 0.5 % of the pixels."""
    env = gym.make("RobotTwitch/Limb-v0", body="infant", render_mode="rgb_array")
    env.reset(seed=0)
    body = env.unwrapped.body
    n = len(body.muscle_names)
    for _ in range(20):
        env.step(np.zeros(n, dtype=np.float32))
    before = env.render()
    for muscle in ("r_brachialis", "l_deltoid"):
        env.reset(seed=0)
        for _ in range(20):
            env.step(np.zeros(n, dtype=np.float32))
        u = np.zeros(n, dtype=np.float32)
        u[body.muscle_names.index(muscle)] = 1.0
        for _ in range(20):
            env.step(u)
        after = env.render()
        changed = (np.abs(before.astype(int) - after.astype(int)).sum(axis=-1) > 30).mean()
        assert changed >= 0.005, (muscle, changed)
    env.close()


def test_touched_taxels_are_drawn_by_force():
    from robot_twitch.render import skin_rgb

    body = load_body("infant")
    with Simulation(body) as sim:
        for _ in range(30):
            sim.step(np.zeros(len(body.muscle_names)))
        camera = default_camera(body)
        plain = render_limb(sim, camera, 320, 240, muscles=True, skin=False)
        drawn = render_limb(sim, camera, 320, 240, muscles=True, skin=True)
    touched = np.abs(drawn.astype(int) - plain.astype(int)).sum(axis=-1) > 30
    assert touched.sum() > 20  # head, hands and feet rest on the mattress
    light, heavy = skin_rgb(np.array([0.002, 2.0]))
    assert light[1] > heavy[1]  # more force: redder


def test_video_caption_counts_the_twitches_shown_from_the_first_frame(monkeypatch, tmp_path):
    """Frame k's caption counts exactly the events with onset before the simulated time it shows;
    a drive without an event log is not credited with a twitch per tonically active muscle."""
    import robot_twitch.video as video

    captions: list[tuple[float, int]] = []
    add_frame = video.VideoRecorder.add_frame

    def spy(self, state, caption=None, panel=None, highlight=None):
        captions.append((state.time_s, caption["twitches"]))
        return add_frame(self, state, caption, panel, highlight)

    monkeypatch.setattr(video.VideoRecorder, "add_frame", spy)
    drive = video.PulseDrive(6, rate_hz=8.0, rng=np.random.default_rng(3))
    result = video.record_demo("planar_arm", drive, 2.0, tmp_path / "a.gif", (48, 32), 15)
    assert captions[0] == (0.0, 0)
    for time_s, shown in captions:
        assert shown == sum(e.onset_s < time_s - 1e-9 for e in drive.events)
    assert result.twitches == captions[-1][1] > 0
    captions.clear()
    tonic = video.record_demo("planar_arm", lambda: np.full(6, 0.5), 0.5, tmp_path / "b.gif", (48, 32), 10)
    assert tonic.twitches == 0 and all(shown == 0 for _, shown in captions)
