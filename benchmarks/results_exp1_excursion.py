"""Does each drive of experiment 1 actually move the limb at matched energy? (SCIENCE.md's caution.)

    python benchmarks/results_exp1_excursion.py [--duration 300] [--seeds 0 1 2] [--set KEY=VALUE ...]

Builds each condition of configs/exp1_twitch_vs_babbling.yaml exactly as the sweep does
(drive.match_energy scales a baseline's gain to the twitch condition's energy), steps the
simulation without learners and reports, per condition: the matched energy, the excitation gain
the matcher chose, and the joint excursion: standard deviation and 1-99 percentile range of each
joint angle, the RMS joint speed, and the fraction of control steps with any |qdot| > 0.2 rad/s.
Extra conditions can be given as NAME:KEY=VALUE,KEY=VALUE (e.g. white_noise_hold:drive.kind=white_noise,drive.white_noise.hold_s=0.2).
"""

from __future__ import annotations

import argparse

import numpy as np

from robot_twitch.config import load_config
from robot_twitch.experiment import ExperimentRun

CONFIG = "configs/exp1_twitch_vs_babbling.yaml"


def measure(overrides: list[str], duration: float, seed: int) -> dict[str, float]:
    cfg = load_config(CONFIG, [*overrides, f"duration_s={duration}", f"seed={seed}", "learners.names=[]"])
    run = ExperimentRun(cfg)
    try:
        q, qd = [], []
        jp = run.layout.group(np.arange(run.layout.size), "joint_pos")
        jv = run.layout.group(np.arange(run.layout.size), "joint_vel")
        while run.progress.step < run.total_steps:
            b = run.advance()
            q.append(b.next_sensors[:, jp])
            qd.append(b.next_sensors[:, jv])
        q, qd = np.concatenate(q), np.concatenate(qd)
        gain = getattr(run.drive.config, "gain", float("nan"))
        lo, hi = np.percentile(q, [1, 99], axis=0)
        return {"energy": run.progress.energy, "gain": gain, "q_sd": q.std(0), "q_range": hi - lo,
                "qd_rms": np.sqrt((qd ** 2).mean(0)), "moving": float((np.abs(qd) > 0.2).any(1).mean())}
    finally:
        run.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--duration", type=float, default=300.0)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--extra", nargs="*", default=[])
    args = ap.parse_args()
    conds = {k: [f"drive.kind={k}"] for k in ("twitch", "white_noise", "ou", "sine", "awake")}
    for spec in args.extra:
        name, _, kv = spec.partition(":")
        conds[name] = kv.split(",")
    print("| condition | energy | gain | joint angle SD [rad] | joint 1-99% range [rad] | RMS joint speed [rad/s] | steps moving |")
    print("|---|---|---|---|---|---|---|")
    for name, ov in conds.items():
        rs = [measure(ov, args.duration, s) for s in args.seeds]
        m = {k: np.mean([r[k] for r in rs], axis=0) for k in rs[0]}
        f = lambda a: " / ".join(f"{x:.3f}" for x in np.atleast_1d(a))  # noqa: E731
        print(f"| {name} | {m['energy']:.2f} | {m['gain']:.3f} | {f(m['q_sd'])} | {f(m['q_range'])} | "
              f"{f(m['qd_rms'])} | {m['moving']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
