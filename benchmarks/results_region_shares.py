"""Where a sweep's twitches went: shares of twitch events by region early and late in each run.

    python benchmarks/results_region_shares.py SWEEP_DIR DURATION_S WINDOW_S [--regions A,B;C,D]

For every run of the sweep (its events.csv), the share of muscle events whose region is in each
group, among all events with onset in [0, WINDOW_S) and in [DURATION_S - WINDOW_S, DURATION_S);
printed per condition as mean ± half-width of the 95 % t interval over seeds
(robot_twitch.sweep.mean_ci95). Default groups: the neck, and the wrists + fingers (the regions
the developmental schedule moves twitching away from and towards; robot_twitch/motor/twitch.py).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

from robot_twitch.sweep import condition_label, mean_ci95


def window_shares(onsets_s: np.ndarray, regions: np.ndarray, groups: list[list[str]],
                  start_s: float, stop_s: float) -> list[float]:
    """Share of the events with onset in [start_s, stop_s) whose region is in each group.

    onsets_s, regions: (E,) per event. Returns one share per group (nan without events).
    """
    inside = (onsets_s >= start_s) & (onsets_s < stop_s)
    n = int(inside.sum())
    return [float(np.sum(inside & np.isin(regions, g)) / n) if n else float("nan") for g in groups]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sweep_dir")
    parser.add_argument("duration_s", type=float)
    parser.add_argument("window_s", type=float)
    parser.add_argument("--regions", default="neck;wrist,fingers")
    args = parser.parse_args()
    groups = [g.split(",") for g in args.regions.split(";")]
    windows = [(0.0, args.window_s), (args.duration_s - args.window_s, args.duration_s)]
    per_condition: dict[str, list[list[float]]] = {}
    for r in json.loads((Path(args.sweep_dir) / "sweep.json").read_text()):
        if not r["summary"]:
            continue
        with (Path(r["run_dir"]) / "events.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        onsets = np.array([float(x["onset_s"]) for x in rows])
        regions = np.array([x["region"] for x in rows])
        shares = [s for lo, hi in windows for s in window_shares(onsets, regions, groups, lo, hi)]
        per_condition.setdefault(condition_label(r["condition"]), []).append(shares)
    names = [f"{'+'.join(g)} {lo:g}-{hi:g} s" for g in groups for lo, hi in windows]
    print("| condition | n | " + " | ".join(names) + " |")
    print("|---" * (2 + len(names)) + "|")
    order = [w * len(groups) + g for g in range(len(groups)) for w in range(len(windows))]
    for label, values in per_condition.items():
        v = np.array(values)
        cells = [mean_ci95(v[:, j]) for j in order]
        print(f"| {label} | {len(v)} | " + " | ".join(f"{m:.3f} ± {h:.3f}" for m, h in cells) + " |")


if __name__ == "__main__":
    main()
