"""Benchmark of the demo-video pipeline: simulate + render + overlay + encode, on one core.

    python benchmarks/bench_video.py [--seconds 10] [--fps 30] [--cores 1]

For each size (320x240, 640x480) and with/without the learner side panel it records a
planar_arm twitch demo with record_demo (mp4, libx264) and reports frames per second of the
whole pipeline, plus a per-frame breakdown (Bullet TinyRenderer image, muscle overlay + caption
+ panel, encode). The process (and the ffmpeg child it starts) is pinned to ``--cores`` CPUs.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from robot_twitch.video import VideoRecorder, record_demo


def breakdown(size: tuple[int, int], panel: bool, n: int = 60) -> dict[str, float]:
    """Milliseconds per frame of each stage, over ``n`` frames of a moving limb."""
    from robot_twitch.body.spec import load_body
    from robot_twitch.sim import Simulation

    body = load_body("planar_arm")
    with Simulation(body) as sim, tempfile.TemporaryDirectory() as tmp:
        rec = VideoRecorder(sim, size=size, fps=30, side_panel=panel, out_path=Path(tmp) / "b.mp4")
        u = np.zeros(len(body.muscle_names))
        panel_dict = {"learned": np.ones((6, 2)), "truth": sim.state.moment_arms_m, "curve": [(0, 0.1), (1, 0.9)]}
        t_render = t_compose = t_encode = 0.0
        for k in range(n):
            u[k % len(u)] = 1.0 if k % 10 < 3 else 0.0
            for _ in range(3):
                sim.step(u)
            t0 = time.perf_counter()
            sim.camera_image(rec.scene_width, rec.height, rec._view, rec._proj, rec.renderer_flag)
            t1 = time.perf_counter()
            frame = rec.render(None, {"sleep_state": "active", "age_weeks": 8, "time_s": sim.time_s, "twitches": k},
                               panel_dict if panel else None)
            t2 = time.perf_counter()
            rec.append(frame)
            t3 = time.perf_counter()
            t_render += t1 - t0
            t_compose += (t2 - t1) - (t1 - t0)  # render() re-renders the scene: subtract it
            t_encode += t3 - t2
        rec.write()
    return {"bullet_ms": 1e3 * t_render / n, "overlay_ms": 1e3 * t_compose / n, "encode_ms": 1e3 * t_encode / n}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--cores", type=int, default=1)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cores]))
    print(f"pipeline: {args.seconds:g} s planar_arm twitch demo at {args.fps:g} fps, mp4, {args.cores} core(s)")
    print(f"{'size':>9} {'panel':>5} {'frames':>6} {'wall_s':>7} {'fps':>6} {'bullet_ms':>9} {'overlay_ms':>10} "
          f"{'encode_ms':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in ((320, 240), (640, 480)):
            for panel in (False, True):
                out = Path(tmp) / f"demo_{size[0]}_{panel}.mp4"
                res = record_demo("planar_arm", "twitch", args.seconds, out, size, args.fps,
                                  learner="motor_map" if panel else None, seed=3)
                parts = breakdown(size, panel)
                print(f"{size[0]:>4}x{size[1]:<4} {str(panel):>5} {res.n_frames:>6} {res.wall_s:>7.2f} "
                      f"{res.n_frames / res.wall_s:>6.1f} {parts['bullet_ms']:>9.2f} {parts['overlay_ms']:>10.2f} "
                      f"{parts['encode_ms']:>9.2f}")


if __name__ == "__main__":
    main()
