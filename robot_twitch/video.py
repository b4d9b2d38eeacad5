"""Demo videos: the twitching limb with its muscles, a caption and the body map being learned.

Low level: :class:`VideoRecorder` renders a Simulation (or a LimbEnv) from a camera, draws the
muscle overlay (robot_twitch.render), a caption and an optional side panel
(robot_twitch.overlay), and writes .mp4 (libx264 via imageio-ffmpeg's bundled ffmpeg) or .gif
(Pillow)::

    rec = VideoRecorder(sim, size=(640, 480), fps=30, out_path="demo.mp4")
    for ...:
        sim.step(u)
        rec.add_frame(caption={"sleep_state": "active", "time_s": sim.time_s})
    rec.write()

High level: :class:`VideoFrames` is a rollout hook (robot_twitch.rollout) that films the
first seconds of any rollout. :func:`record_demo` is a rollout of a body with a drive and frames
on; the video of an experiment config (``robot-twitch video CONFIG``, or ``outputs.video`` of a
run) is robot_twitch.experiment.film: the run's own rollout, filmed. From the shell::

    python -m robot_twitch.video -o demo.gif --seconds 8 --size 320x240 --fps 15
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pybullet
from PIL import Image

from robot_twitch.body.spec import Body, load_body
from robot_twitch.envs.camera import CameraSpec, default_camera
from robot_twitch.errors import SimulationDiverged
from robot_twitch.evaluation import per_joint_scaled
from robot_twitch.overlay import draw_caption, draw_panel, map_agreement
from robot_twitch.render import camera_matrices, draw_muscles, draw_skin, select_renderer
from robot_twitch.rollout import Rollout
from robot_twitch.sim import LimbState, SimConfig, Simulation

FORMATS: tuple[str, ...] = ("mp4", "gif")
PANEL_WIDTH_FRAC = 0.3
HIGHLIGHT_S = 0.1  # a twitch flashes its muscle for this long after onset [s]

PanelFn = Callable[[LimbState], Mapping[str, Any] | None]


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480)."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"size {text!r} is invalid: expected WIDTHxHEIGHT, e.g. 640x480") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise ValueError(f"size {text!r} is out of range: expected 16x16 to 4096x4096")
    return w, h


def video_format(path: str | Path) -> str:
    """'mp4' or 'gif' from a file name; ValueError for anything else."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValueError(f"video file {str(path)!r} has extension {suffix!r}: expected one of {FORMATS}")
    return suffix


class VideoRecorder:
    """Renders frames of a limb with overlays and encodes them.

    Args:
        sim_or_env: a Simulation, or an env with a ``sim`` attribute (LimbEnv, also wrapped).
        camera: the camera; None frames the body with ``default_camera`` for the scene viewport.
        size: (width, height) of the whole frame [px] (even numbers for mp4).
        fps: frames per second of the output file.
        panel_fn: called with the LimbState when ``add_frame`` gets no panel; returns the panel
            dict (see robot_twitch.overlay) or None.
        side_panel: reserve a side panel on the right (PANEL_WIDTH_FRAC of the width); None:
            only when ``panel_fn`` is given.
        renderer: "tiny", "egl" or "auto" (robot_twitch.render.select_renderer).
        out_path: stream frames to this file while recording (mp4); None keeps them in memory
            until ``write(path)``. GIFs are always kept in memory (they are small).
        crf: libx264 constant rate factor (lower = better quality, larger file).
    """

    def __init__(self, sim_or_env: Any, camera: CameraSpec | None = None, size: tuple[int, int] = (640, 480),
                 fps: float = 30, panel_fn: PanelFn | None = None, side_panel: bool | None = None,
                 renderer: str = "tiny", out_path: str | Path | None = None, crf: int = 23) -> None:
        sim = getattr(getattr(sim_or_env, "unwrapped", sim_or_env), "sim", sim_or_env)
        if not isinstance(sim, Simulation):
            raise TypeError(f"expected a Simulation or an env with .sim, got {type(sim_or_env).__name__}")
        if fps <= 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.sim = sim
        self.width, self.height = int(size[0]), int(size[1])
        self.fps = float(fps)
        self.panel_fn = panel_fn
        with_panel = panel_fn is not None if side_panel is None else side_panel
        self.panel_width = int(round(PANEL_WIDTH_FRAC * self.width)) if with_panel else 0
        self.scene_width = self.width - self.panel_width
        self.camera = camera or default_camera(sim.body, aspect=self.scene_width / self.height)
        self.renderer_flag = select_renderer(sim, renderer)
        self.crf = int(crf)
        self.out_path = None if out_path is None else Path(out_path)
        self._frames: list[np.ndarray] = []
        self._writer: Any = None
        self.n_frames = 0
        self._view, self._proj = camera_matrices(sim, self.camera, self.scene_width, self.height)

    # -- frames -------------------------------------------------------------------------
    def render(self, state: LimbState | None = None, caption: Mapping[str, Any] | str | None = None,
               panel: Mapping[str, Any] | None = None, highlight: np.ndarray | None = None) -> np.ndarray:
        """One composed frame (height, width, 3) uint8 of the Simulation's current pose.

        ``state`` supplies activations and muscle paths (default: ``sim.state``); ``highlight``
        (M,) in [0, 1] flashes twitching muscles.
        """
        state = self.sim.state if state is None else state
        scene = self.sim.camera_image(self.scene_width, self.height, self._view, self._proj, self.renderer_flag)
        if self.panel_width:
            image = Image.new("RGB", (self.width, self.height), (245, 245, 245))
            image.paste(Image.fromarray(scene), (0, 0))
        else:
            image = Image.fromarray(scene)
        draw_muscles(image, self.sim, state.path_points_m, state.activation, self._view, self._proj, highlight,
                     viewport=(self.scene_width, self.height))
        draw_skin(image, self.sim, self._view, self._proj, viewport=(self.scene_width, self.height))
        if panel is None and self.panel_fn is not None:
            panel = self.panel_fn(state)
        if panel is not None and self.panel_width:
            draw_panel(image, panel, (self.scene_width, 0, self.width - 1, self.height - 1))
        if caption:
            draw_caption(image, caption, (0, 0, self.scene_width, self.height))
        return np.asarray(image)

    def add_frame(self, state: LimbState | None = None, caption: Mapping[str, Any] | str | None = None,
                  panel: Mapping[str, Any] | None = None, highlight: np.ndarray | None = None) -> np.ndarray:
        """Render a frame (see ``render``), append it to the video and return it."""
        frame = self.render(state, caption, panel, highlight)
        self.append(frame)
        return frame

    def append(self, frame: np.ndarray) -> None:
        """Append an already composed frame (height, width, 3) uint8."""
        if frame.shape != (self.height, self.width, 3):
            raise ValueError(f"frame has shape {frame.shape}, expected ({self.height}, {self.width}, 3)")
        if self.out_path is not None and video_format(self.out_path) == "mp4":
            if self._writer is None:
                self._writer = _mp4_writer(self.out_path, self.fps, self.crf)
            self._writer.append_data(_even(frame))
        else:
            self._frames.append(frame)
        self.n_frames += 1

    @property
    def frames(self) -> list[np.ndarray]:
        """Frames kept in memory (empty when streaming to an mp4)."""
        return self._frames

    # -- output -------------------------------------------------------------------------
    def write(self, path: str | Path | None = None) -> Path:
        """Finish the video at ``path`` (default: ``out_path``) and return the path."""
        target = Path(path) if path is not None else self.out_path
        if target is None:
            raise ValueError("no output path: pass write(path) or VideoRecorder(out_path=...)")
        fmt = video_format(target)
        if self.n_frames == 0:
            raise ValueError("no frames recorded")
        target.parent.mkdir(parents=True, exist_ok=True)
        if self._writer is not None:
            self._writer.close()
            self._writer = None
            if target != self.out_path:
                raise ValueError(f"frames were streamed to {self.out_path}, cannot write them to {target}")
            return target
        if fmt == "gif":
            write_gif(target, self._frames, self.fps)
        else:
            writer = _mp4_writer(target, self.fps, self.crf)
            try:
                for frame in self._frames:
                    writer.append_data(_even(frame))
            finally:
                writer.close()
        return target

    def close(self) -> None:
        """Close a streaming writer without raising (the file is finished as far as written)."""
        if self._writer is not None:
            try:
                self._writer.close()
            finally:
                self._writer = None

    def __enter__(self) -> VideoRecorder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _even(frame: np.ndarray) -> np.ndarray:
    """Crop to even width and height (yuv420p needs them)."""
    h, w = frame.shape[:2]
    return frame[: h - h % 2, : w - w % 2]


def _mp4_writer(path: Path, fps: float, crf: int) -> Any:
    import imageio.v2 as imageio

    path.parent.mkdir(parents=True, exist_ok=True)
    return imageio.get_writer(
        str(path), format="FFMPEG", mode="I", fps=fps, codec="libx264", pixelformat="yuv420p",
        quality=None, macro_block_size=1, ffmpeg_log_level="error",
        output_params=["-crf", str(crf), "-preset", "veryfast", "-tune", "animation"],
    )


def write_gif(path: str | Path, frames: Sequence[np.ndarray], fps: float, colours: int = 256) -> None:
    """Animated GIF (loops forever) of frames (T, H, W, 3) uint8; ``colours`` per frame palette
    (256, GIF's most: with 64, median cut merged the side panel's small colour swatches, e.g. a
    body part's legend square, into their neighbours' colours)."""
    images = [Image.fromarray(f).quantize(colors=colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
              for f in frames]
    duration_ms = 10 * max(1, int(round(100.0 / fps)))  # GIF delays are whole centiseconds
    images[0].save(str(path), save_all=True, append_images=images[1:], duration=duration_ms, loop=0,
                   optimize=False, disposal=1)


# -- drives ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class PulseEvent:
    """A stand-in twitch: one muscle's rectangular pulse."""

    onset_s: float
    muscle_index: int
    duration_s: float
    amplitude: float
    kind: str = "positive"


class PulseDrive:
    """Stand-in twitch drive: isolated rectangular pulses of single muscles at random times.

    Poisson onsets at ``rate_hz`` (over all muscles), one muscle each, ``duration_s`` long with
    excitation ``amplitude``; always "active" sleep. Implements the parts of the motor-drive
    protocol that record_demo uses: step() -> (M,), sleep_state, time_s, events.
    """

    def __init__(self, n_muscles: int, control_dt_s: float = 0.01, rate_hz: float = 2.0,
                 duration_s: float = 0.08, amplitude: float = 0.9, rng: np.random.Generator | None = None) -> None:
        self.n_muscles = int(n_muscles)
        self.control_dt_s = float(control_dt_s)
        self.rate_hz, self.duration_s, self.amplitude = float(rate_hz), float(duration_s), float(amplitude)
        self.rng = rng or np.random.default_rng(0)
        self.sleep_state = "active"
        self.events: list[PulseEvent] = []
        self._step = 0
        self._end_s = np.zeros(self.n_muscles)

    @property
    def time_s(self) -> float:
        return self._step * self.control_dt_s

    def step(self) -> np.ndarray:
        """Excitations (M,) for the next control step."""
        t = self.time_s
        if self.rng.random() < self.rate_hz * self.control_dt_s:
            m = int(self.rng.integers(self.n_muscles))
            self.events.append(PulseEvent(t, m, self.duration_s, self.amplitude))
            self._end_s[m] = t + self.duration_s
        self._step += 1
        return np.where(self._end_s > t + 1e-9, self.amplitude, 0.0)


class _DriveView:
    """A drive for a Rollout from an object with step() (motor drives, PulseDrive) or a callable;
    checks the excitation's shape and passes ``sleep_state`` and ``events`` through."""

    def __init__(self, drive: Any, n_muscles: int) -> None:
        self.drive = drive
        self.n_muscles = n_muscles
        self._step: Callable[[], np.ndarray] = drive.step if hasattr(drive, "step") else drive

    def step(self) -> np.ndarray:
        u = np.asarray(self._step(), dtype=float).reshape(-1)
        if u.shape != (self.n_muscles,):
            raise ValueError(f"drive returned excitations of shape {u.shape}, expected ({self.n_muscles},)")
        return u

    @property
    def sleep_state(self) -> str | None:
        state = getattr(self.drive, "sleep_state", None)
        return getattr(state, "value", state)

    @property
    def events(self) -> list[Any] | None:
        return getattr(self.drive, "events", None)

    @property
    def closed_loop(self) -> bool:
        return bool(getattr(self.drive, "closed_loop", False))

    def feed_lengths(self, fibre_length_norm: np.ndarray) -> None:
        """A closed-loop drive (DEP) is fed the muscle lengths."""
        self.drive.feed_lengths(fibre_length_norm)


def make_demo_drive(body: Body, drive: Any, control_dt_s: float, age_weeks: float, seed: int) -> Any:
    """The drive for a demo: a name ("twitch", "pulses", or any robot_twitch.motor drive name),
    or an object/callable passed through. "twitch" is the sleep-twitch generator at
    ``age_weeks``; "pulses" is the stand-in PulseDrive."""
    if not isinstance(drive, str):
        return drive
    rng = np.random.default_rng(seed)
    if drive == "pulses":
        return PulseDrive(len(body.muscle_names), control_dt_s, rng=rng)
    from robot_twitch.motor import TwitchConfig, make_drive

    config = TwitchConfig(age_weeks=age_weeks) if drive == "twitch" else None
    return make_drive(drive, body.muscles, control_dt_s, config, rng)


# -- the rollout hooks that film ------------------------------------------------------------
class MapPanel:
    """Rollout hook that keeps the side panel's content: the motor map a learner has learned
    so far (a muscle's row blank until it has twitched) beside the simulator's R(q), and their
    agreement over time (after every batch)."""

    def __init__(self, learner: Any, body: Body) -> None:
        self.learner = learner
        self.curve: list[tuple[float, float]] = []
        self.learned: np.ndarray | None = None
        self.row_labels = list(body.muscle_names)
        self.col_labels = list(body.joint_names)

    def after_batch(self, rollout: Rollout, batch: Any) -> None:
        try:
            learned = np.asarray(self.learner.body_map()["motor_map"], dtype=float)
        except (ValueError, KeyError, np.linalg.LinAlgError):
            return
        # shown and scored as robot_twitch.evaluation scores it: up to a positive scale per joint
        truth = rollout.sim.state.moment_arms_m
        self.learned = per_joint_scaled(learned, truth, np.all(np.isfinite(learned), axis=1))
        self.curve.append((float(rollout.sim.state.time_s), map_agreement(self.learned, truth)))

    def panel(self, state: LimbState) -> dict[str, Any]:
        return {"learned": self.learned, "truth": state.moment_arms_m, "curve": list(self.curve),
                "learned_title": "motor map (learned)",
                "curve_label": "agreement (cos)", "curve_range": (0.0, 1.0),
                "row_labels": self.row_labels, "col_labels": self.col_labels}


class SkinMapPanel:
    """Rollout hook that keeps the skin-map side panel: the SkinMapLearner's nodes, each in the
    colour of the body part of the touched afferents it wins (`learn.skinmap.node_colours`, the
    colours of plots/skinmap.png; a node that wins none blank), recomputed for each frame, and
    skinmap.adjacency over time, computed by the run's own score function
    (`learn.skinmap.skinmap_scores`) at most every ``score_every_s`` of simulated time.

    It only reads the learner (its weights and touched afferents), so a filmed run scores as one
    that is not filmed.
    """

    def __init__(self, learner: Any, body: Body, score_every_s: float = 1.0) -> None:
        from robot_twitch.body.skin import taxel_parts
        from robot_twitch.learn.skinmap import neighbour_pairs, part_colours

        if not score_every_s > 0:
            raise ValueError(f"score_every_s must be positive, got {score_every_s!r}")
        self.learner = learner
        self.score_every_s = float(score_every_s)
        self.parts = taxel_parts(body.skin)  # (T,)
        self.pairs = neighbour_pairs(body.skin)  # (P, 2)
        names = sorted(set(self.parts.tolist()))
        self.legend = [(name, tuple(int(round(255 * c)) for c in rgb))
                       for name, rgb in zip(names, part_colours(names), strict=True)]
        self.curve: list[tuple[float, float]] = []
        self._next_score_s = 0.0

    def after_batch(self, rollout: Rollout, batch: Any) -> None:
        from robot_twitch.learn.skinmap import skinmap_scores

        time_s = float(rollout.sim.state.time_s)
        if self.learner.weights is None or time_s + 1e-9 < self._next_score_s:
            return
        self._next_score_s = time_s + self.score_every_s
        scores = skinmap_scores(self.learner.node_xy, self.learner.taxel_nodes(), self.pairs, self.parts,
                                self.learner.touched)
        self.curve.append((time_s, scores["skinmap.adjacency"]))

    def node_rgb(self) -> np.ndarray | None:
        """(rows, cols, 3) uint8 colours of the map's nodes now, or None before the first batch."""
        from robot_twitch.learn.skinmap import node_colours

        learner = self.learner
        if learner.weights is None:
            return None
        rgb = node_colours(len(learner.node_xy), learner.taxel_nodes(), self.parts, learner.touched)
        return np.round(255 * rgb).astype(np.uint8).reshape(*learner.grid, 3)

    def panel(self, state: LimbState) -> dict[str, Any]:
        touched = int(np.count_nonzero(self.learner.touched))
        return {"kind": "skinmap", "node_rgb": self.node_rgb(), "legend": self.legend,
                "map_title": "skin map (learned)",
                "note": f"{touched} of {len(self.parts)} afferents touched", "curve": list(self.curve),
                "curve_label": "skinmap.adjacency", "curve_range": (0.0, 1.0)}


PANELS: dict[str, type] = {"motor_map": MapPanel, "skinmap": SkinMapPanel}
"""Side panel kind -> its rollout hook; the kind is also the name of the learner it shows."""


def choose_panel(kind: str, learners: Any, body: Body) -> MapPanel | SkinMapPanel | None:
    """The side panel of a filmed run (the one place that picks it). ``kind`` (config
    ``outputs.video.panel``): "auto" -- the motor map when learner motor_map runs, else the skin
    map when learner skinmap runs, else none; "motor_map" or "skinmap" -- that learner's panel
    (ValueError when it does not run); "none". ``learners``: the run's learner objects (``name``)."""
    by_name = {learner.name: learner for learner in learners}
    if kind == "auto":
        kind = next((k for k in PANELS if k in by_name), "none")
    if kind == "none":
        return None
    if kind not in PANELS:
        raise ValueError(f"video panel {kind!r} is unknown: expected auto, none or one of {sorted(PANELS)}")
    if kind not in by_name:
        raise ValueError(f"video panel {kind!r} shows learner {kind!r}, which this run does not have")
    return PANELS[kind](by_name[kind], body)


class LearnerFeed:
    """Rollout hook that hands every batch to one learner (a demo's; runs feed their own)."""

    def __init__(self, learner: Any) -> None:
        self.learner = learner

    def after_batch(self, rollout: Rollout, batch: Any) -> None:
        self.learner.observe(batch)


class VideoFrames:
    """Rollout hook that films the first ``n_frames`` of a rollout: frame k shows the limb at
    simulated time k / fps (the first step at or after it; real time), or k * ``every_s`` (a
    time-lapse, played ``every_s * fps`` times faster), with the muscles, a caption and an
    optional side panel (a hook with ``panel(state)``: MapPanel, SkinMapPanel); twitching muscles
    flash for HIGHLIGHT_S after their onset.

    The VideoRecorder is made at the first frame, from the rollout's Simulation at that time; a
    world rebuilt later (checkpoints, a grown segment) is filmed through the rollout's current
    Simulation.
    """

    def __init__(self, out_path: str | Path, n_frames: int, fps: float, size: tuple[int, int] = (640, 480),
                 camera: CameraSpec | None = None, renderer: str = "tiny", panel: MapPanel | SkinMapPanel | None = None,
                 caption: Mapping[str, Any] | None = None, still_path: str | Path | None = None,
                 still_index: int | None = None, every_s: float | None = None) -> None:
        if n_frames < 1:
            raise ValueError(f"a video needs at least one frame, got {n_frames}")
        if every_s is not None and not (np.isfinite(every_s) and every_s > 0):
            raise ValueError(f"every_s must be a positive number of simulated seconds, got {every_s!r}")
        self.every_s = None if every_s is None else float(every_s)
        self.out_path = Path(out_path)
        self.format = video_format(out_path)
        self.n_frames, self.fps, self.size = int(n_frames), float(fps), size
        self.camera, self.renderer, self.panel = camera, renderer, panel
        self.caption = dict(caption or {})
        if self.every_s is not None:
            self.caption["time-lapse"] = f"{self.every_s * self.fps:g}x"
        self.still_path = None if still_path is None else Path(still_path)
        self.still_index = self.n_frames // 2 if still_index is None else min(self.n_frames - 1, int(still_index))
        self.recorder: VideoRecorder | None = None
        self.twitches = 0
        self._k = 0
        self._seen_events = 0
        self._last_u: np.ndarray | None = None
        self._last_onset: np.ndarray | None = None

    @property
    def done(self) -> bool:
        return self._k >= self.n_frames

    def frame_time_s(self, k: int) -> float:
        """Simulated time of frame k [s]: k / fps, or k * every_s for a time-lapse."""
        return k / self.fps if self.every_s is None else k * self.every_s

    @property
    def last_frame_s(self) -> float:
        """Simulated time of the last frame [s]."""
        return self.frame_time_s(self.n_frames - 1)

    def before_step(self, rollout: Rollout) -> None:
        # Frames are taken before a step, when every hook of the previous one has run (a body
        # change of this time applied, the learners updated); finish() takes those still due.
        if self._k < self.n_frames:
            self._catch_up(rollout)

    def after_step(self, rollout: Rollout, excitation: np.ndarray, state: LimbState) -> None:
        if self._k < self.n_frames:
            self._note_onsets(rollout, excitation, state.time_s)

    def _note_onsets(self, rollout: Rollout, u: np.ndarray, time_s: float) -> None:
        """Twitch onsets of this step: the drive's new events when it logs them, else rising
        edges of the excitation (> 0.2 in one step)."""
        if self._last_onset is None:
            self._last_onset = np.full(len(u), -np.inf)
        events = getattr(rollout.drive, "events", None)
        if events is not None:
            for event in events[self._seen_events:]:
                self._last_onset[int(event.muscle_index)] = float(event.onset_s)
                self.twitches += 1
            self._seen_events = len(events)
            return
        # The first row is the baseline (tonic excitation at t = 0 is not a twitch of every muscle).
        last = u if self._last_u is None else self._last_u
        rising = np.flatnonzero(u - last > 0.2)
        self._last_u = u
        self._last_onset[rising] = time_s - rollout.sim.config.control_dt_s
        self.twitches += len(rising)

    def _catch_up(self, rollout: Rollout) -> None:
        sim = rollout.sim
        while self._k < self.n_frames and self.frame_time_s(self._k) - 1e-9 <= sim.time_s:
            self._add_frame(rollout)

    def _add_frame(self, rollout: Rollout) -> None:
        sim = rollout.sim
        if self.recorder is None:
            self.recorder = VideoRecorder(sim, self.camera, self.size, self.fps, side_panel=self.panel is not None,
                                          renderer=self.renderer,
                                          out_path=self.out_path if self.format == "mp4" else None)
        self.recorder.sim = sim
        state = sim.state
        last_onset = self._last_onset if self._last_onset is not None else np.full(len(state.activation), -np.inf)
        age = np.maximum(state.time_s - last_onset, 0.0)
        highlight = np.clip(1.0 - age / HIGHLIGHT_S, 0.0, 1.0)
        sleep_state = getattr(rollout.drive, "sleep_state", None)
        caption = {**self.caption, "sleep_state": getattr(sleep_state, "value", sleep_state), "time_s": state.time_s,
                   "twitches": self.twitches}
        panel = None if self.panel is None else self.panel.panel(state)
        frame = self.recorder.add_frame(state, caption, panel, highlight)
        if self.still_path is not None and self._k == self.still_index:
            self.still_path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(frame).save(str(self.still_path))
        self._k += 1

    def finish(self, rollout: Rollout | None = None) -> Path:
        """Film what is still due at the current time and write the file; returns its path."""
        if rollout is not None:
            self._catch_up(rollout)
        if self.recorder is None:
            raise ValueError("no frames recorded")
        try:
            return self.recorder.write(self.out_path)
        finally:
            self.recorder.close()

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()

    @property
    def renderer_name(self) -> str:
        if self.recorder is None:
            return self.renderer
        return "egl" if self.recorder.renderer_flag == pybullet.ER_BULLET_HARDWARE_OPENGL else "tiny"


def make_demo_learner(learner: Any, control_dt_s: float) -> Any:
    """A learner object from a name ("motor_map") or pass an object through (None stays None)."""
    if learner is None or not isinstance(learner, str):
        return learner
    if learner == "motor_map":
        from robot_twitch.learn import MotorMapLearner
        from robot_twitch.sensors import SensorConfig

        # the panel's sensors are the default (realistic) ones: the learner knows their delay
        return MotorMapLearner(dt_s=control_dt_s, delay_steps=SensorConfig().delay_steps.get("joint_vel", 0))
    raise ValueError(f"learner {learner!r} is invalid for a demo video: expected 'motor_map' or an object")


# -- the demo ----------------------------------------------------------------------------------
@dataclass
class DemoResult:
    """What record_demo (or a run's film) made."""

    path: Path
    n_frames: int
    seconds: float
    size: tuple[int, int]
    fps: float
    twitches: int
    wall_s: float
    renderer: str
    extras: dict[str, Any] = field(default_factory=dict)


def n_video_frames(seconds: float, fps: float, every_s: float | None = None) -> int:
    """Frames of a video of ``seconds`` simulated seconds: round(seconds * fps) in real time,
    round(seconds / every_s) in a time-lapse; ValueError when that is none."""
    n_frames = int(round(seconds * fps if every_s is None else seconds / every_s))
    if n_frames < 1:
        shown = f"seconds * fps = {seconds} * {fps}" if every_s is None else f"seconds / every_s = {seconds} / {every_s}"
        raise ValueError(f"{shown} gives no frames")
    return n_frames


def record_demo(body: str | Path | Body, drive: Any = "twitch", seconds: float = 8.0,
                out_path: str | Path = "demo.mp4", size: tuple[int, int] = (640, 480), fps: float = 30,
                learner: Any = None, age_weeks: float = 8.0, seed: int = 0, sim_config: SimConfig | None = None,
                camera: CameraSpec | None = None, renderer: str = "tiny", learner_batch_steps: int = 10,
                still_path: str | Path | None = None, still_time_s: float | None = None) -> DemoResult:
    """A video of a body moved by a drive: a Rollout with frames on.

    Args:
        body: body name, body YAML path, or a loaded Body.
        drive: "twitch" (robot_twitch.motor sleep twitches at ``age_weeks``), "pulses" (stand-in
            isolated single-muscle pulses), another motor drive name, an object with
            ``step() -> (M,)`` (optionally ``sleep_state`` and ``events``) or a callable.
        seconds: simulated duration [s]; the video has round(seconds * fps) frames, frame k
            shows the limb at simulated time k / fps (played back in real time).
        out_path: .mp4 or .gif.
        size: (width, height) [px]; fps: frames per second.
        learner: None, "motor_map", or an object with observe(TransitionBatch) and
            body_map()["motor_map"] (M, J): adds a side panel, the motor map learned from the
            commands so far (a muscle's row blank until it has twitched) beside R(q), and their
            agreement over time.
        age_weeks: shown in the caption and used by the "twitch" drive.
        seed: seeds the drive and the sensor noise.
        still_path: also save one PNG frame (at ``still_time_s``, default mid-video).

    The video of an experiment config, identical to its run, is robot_twitch.experiment.film.
    """
    from robot_twitch.sensors import SensorModel
    from robot_twitch.sensors_layout import SensorLayout

    t_wall = time.perf_counter()
    body = body if isinstance(body, Body) else load_body(body)
    video_format(out_path)
    n_frames = n_video_frames(seconds, fps)
    still_k = None if still_time_s is None else int(round(still_time_s * fps))
    with Simulation(body, sim_config) as sim:
        dt = sim.config.control_dt_s
        drive_obj = _DriveView(make_demo_drive(body, drive, dt, age_weeks, seed), len(body.muscle_names))
        learner_obj = make_demo_learner(learner, dt)
        hooks: list[Any] = []
        panel = None
        sensors = None
        if learner_obj is not None:
            panel = MapPanel(learner_obj, body)
            hooks += [LearnerFeed(learner_obj), panel]
            layout = SensorLayout(body.joint_names, body.muscle_names, body.link_names)
            sensors = SensorModel(layout, body.muscle_params.max_isometric_force_n)
        frames = VideoFrames(out_path, n_frames, fps, size, camera, renderer, panel,
                             caption={"age_weeks": age_weeks}, still_path=still_path, still_index=still_k)
        rollout = Rollout(sim, drive_obj, sensors, np.random.default_rng(seed + 1), [frames, *hooks])
        try:
            while sim.time_s + 1e-9 < frames.last_frame_s:
                if sensors is not None:
                    rollout.run_batch(learner_batch_steps)
                elif (state := rollout.step()).blown_up:
                    raise SimulationDiverged(state.time_s, state.blown_up_reason or "NaN or runaway speed")
            path = frames.finish(rollout)
        except SimulationDiverged:  # nothing worth filming follows; no partial file is left
            frames.close()
            Path(out_path).unlink(missing_ok=True)
            raise
        finally:
            frames.close()
    extras: dict[str, Any] = {}
    if panel is not None and panel.curve:
        extras["final_agreement"] = panel.curve[-1][1]
    return DemoResult(Path(path), n_frames, float(seconds), size, float(fps), frames.twitches,
                      time.perf_counter() - t_wall, frames.renderer_name, extras)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m robot_twitch.video``: record a demo of a built-in body."""
    parser = argparse.ArgumentParser(prog="python -m robot_twitch.video", description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--out", default="demo.mp4", help="output .mp4 or .gif")
    parser.add_argument("--body", default="planar_arm")
    parser.add_argument("--drive", default="twitch", help="twitch, pulses, white_noise, ou, sine, awake")
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--size", type=parse_size, default=(640, 480), help="WIDTHxHEIGHT")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--age-weeks", type=float, default=8.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--learner", default=None, help="motor_map: side panel with the map being learned")
    parser.add_argument("--still", default=None, help="also save one PNG frame here")
    parser.add_argument("--still-time", type=float, default=None, help="time of the PNG frame [s] (default: middle)")
    parser.add_argument("--renderer", default="tiny", choices=("tiny", "egl", "auto"))
    args = parser.parse_args(argv)
    result = record_demo(args.body, args.drive, args.seconds, args.out, args.size, args.fps,
                         learner=args.learner, age_weeks=args.age_weeks, seed=args.seed,
                         renderer=args.renderer, still_path=args.still,
                         still_time_s=args.still_time)
    print(f"wrote {result.path}: {result.n_frames} frames {result.size[0]}x{result.size[1]} at "
          f"{result.fps:g} fps, {result.twitches} twitches, {result.wall_s:.1f} s wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
