"""Markdown tables for docs/experiments.md from a sweep's sweep.json.

    python benchmarks/results_sweep_table.py SWEEP_DIR METRIC[,METRIC...] [--vs CONDITION_SUBSTRING]
        [--labels LABEL,LABEL,...]

Prints one row per condition: n, energy, twitches and the chosen metrics as mean ± half-width of
the 95 % t interval over seeds (robot_twitch.sweep.mean_ci95, as in the sweep's aggregate.md).
With --vs, a second table gives each other condition's difference from the one condition whose
label is CONDITION (or else contains it): (reference - other), with the 95 % Welch t interval of the
difference of two means (unequal variances, Welch-Satterthwaite degrees of freedom), and
"better"/"worse"/"tie" by whether that interval excludes 0 (for metrics where higher is better;
not forward.nrmse). --labels renames the conditions, in the sweep's order. Seeds whose value is not a number
(an undefined map) are left out and counted in the n shown as "n=k/N".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from scipy import stats

from robot_twitch.sweep import _number, condition_label, mean_ci95


def _values(records: list[dict], name: str) -> np.ndarray:
    out = []
    for r in records:
        source = r["summary"]["budget"] if name in r["summary"]["budget"] else r["summary"]["metrics"]
        out.append(_number(source.get(name, float("nan"))))
    return np.array(out, dtype=float)


def welch_diff_ci95(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """mean(a) - mean(b) and the half-width of its 95 % Welch t interval (finite values only)."""
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if len(a) < 2 or len(b) < 2:
        return float("nan"), float("nan")
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    diff = float(a.mean() - b.mean())
    if va + vb == 0.0:
        return diff, 0.0
    dof = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return diff, float(stats.t.ppf(0.975, dof) * np.sqrt(va + vb))


def _fmt(mean: float, half: float) -> str:
    if not np.isfinite(mean):
        return "undefined"
    digits = 1 if abs(mean) >= 10 else (2 if abs(mean) >= 2 else 3)
    return f"{mean:.{digits}f} ± {half:.{digits}f}" if np.isfinite(half) else f"{mean:.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sweep_dir")
    parser.add_argument("metrics")
    parser.add_argument("--vs", default=None)
    parser.add_argument("--labels", default=None)
    args = parser.parse_args()
    records = [r for r in json.loads((Path(args.sweep_dir) / "sweep.json").read_text()) if r["summary"]]
    groups: dict[str, list[dict]] = {}
    for r in records:
        groups.setdefault(condition_label(r["condition"]), []).append(r)
    if args.labels:
        names = args.labels.split(",")
        if len(names) != len(groups):
            raise SystemExit(f"--labels has {len(names)} names for {len(groups)} conditions: {list(groups)}")
        groups = dict(zip(names, groups.values(), strict=True))
    metrics = args.metrics.split(",")
    print("| condition | n | energy | twitches | " + " | ".join(metrics) + " |")
    print("|---" * (4 + len(metrics)) + "|")
    for label, rs in groups.items():
        cells = []
        for m in metrics:
            v = _values(rs, m)
            k = int(np.isfinite(v).sum())
            cells.append(_fmt(*mean_ci95(v)) + ("" if k == len(v) else f" (n={k}/{len(v)})"))
        print(f"| {label} | {len(rs)} | {_fmt(*mean_ci95(_values(rs, 'energy')))} | "
              f"{_fmt(*mean_ci95(_values(rs, 'twitches')))} | " + " | ".join(cells) + " |")
    if args.vs is None:
        return
    ref = [label for label in groups if label == args.vs] or [label for label in groups if args.vs in label]
    if len(ref) != 1:
        raise SystemExit(f"--vs {args.vs!r} matches {len(ref)} conditions: {ref}")
    ref_label = ref[0]
    print(f"\nDifference ({ref_label}) - (other), mean and 95 % Welch interval:\n")
    print("| other condition | " + " | ".join(metrics) + " |")
    print("|---" * (1 + len(metrics)) + "|")
    for label, rs in groups.items():
        if label == ref_label:
            continue
        cells = []
        for m in metrics:
            d, h = welch_diff_ci95(_values(groups[ref_label], m), _values(rs, m))
            if not np.isfinite(d):
                cells.append("n/a")
                continue
            verdict = "tie" if abs(d) <= h else ("better" if d > 0 else "worse")
            cells.append(f"{d:+.3f} ± {h:.3f} ({verdict})")
        print(f"| {label} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
