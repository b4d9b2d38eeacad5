"""Tables and figure of a petersson2003 sweep (docs/experiments.md, "petersson2003").

    python benchmarks/results_petersson2003.py SWEEP_DIR docs/media/petersson2003_sweep.png

From the last scoring row of each run's metrics.csv, three markdown tables:
1. per drive, mean ± half-width of the 95 % t interval over seeds (robot_twitch.sweep.mean_ci95)
   of the learned withdrawal reflex, its shuffled control, the initial weights, the all-muscle
   reflex (skin that bore load and resting skin), the per-muscle field match and its control,
   and the Hebbian touch columns; the reflex probe's versions (a copy of the world) and the two
   tests' agreement;
2. per drive, learned minus its own shuffled control (and, probed, minus the all-muscle reflex),
   paired by seed (the control runs in the same run on the same stimuli): mean difference ± the
   95 % paired t interval, and how many seeds the learned reflex beats its control in;
3. twitch minus each other drive (95 % Welch interval, benchmarks/results_sweep_table.py).
The figure: error rate against simulated time per drive, mean over seeds with its 95 % t band;
the shuffled control dotted.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_sweep_table import welch_diff_ci95  # noqa: E402

from robot_twitch.sweep import mean_ci95  # noqa: E402

KEYS = ("withdrawal.error_rate", "withdrawal.error_rate_shuffled", "withdrawal.error_rate_initial",
        "withdrawal.error_rate_uniform", "withdrawal.error_rate_resting", "withdrawal.error_rate_resting_shuffled",
        "withdrawal.field_match", "withdrawal.field_match_shuffled", "withdrawal.sites_loaded",
        "reflex.touch_withdrawal_accuracy", "reflex.touch_field_match",
        # the same reflexes tried in a copy of the world (evaluation/withdrawal_probe.py; undefined in older runs)
        "withdrawal.error_rate_probe", "withdrawal.error_rate_probe_shuffled", "withdrawal.error_rate_probe_initial",
        "withdrawal.error_rate_probe_uniform", "withdrawal.error_rate_probe_jacobian", "withdrawal.probe_agreement")
PAIRED = (("withdrawal.error_rate", "withdrawal.error_rate_shuffled"),
          ("withdrawal.error_rate_probe", "withdrawal.error_rate_probe_shuffled"),
          ("withdrawal.error_rate_probe", "withdrawal.error_rate_probe_uniform"),
          ("withdrawal.error_rate_resting", "withdrawal.error_rate_resting_shuffled"),
          ("withdrawal.field_match", "withdrawal.field_match_shuffled"))
VERSUS = ("withdrawal.error_rate", "withdrawal.error_rate_resting", "withdrawal.field_match",
          "reflex.touch_withdrawal_accuracy")


def _value(row: dict[str, str], key: str) -> float:
    text = row.get(key, "")
    return float(text) if text not in ("", "nan") else float("nan")


def _cell(mean: float, half: float) -> str:
    return "undefined" if not np.isfinite(mean) else (f"{mean:+.3f} ± {half:.3f}" if np.isfinite(half) else f"{mean:+.3f}")


def final_values(runs: list[list[dict[str, str]]], key: str) -> np.ndarray:
    """(seeds,) the key's value in each run's last scoring row (nan where undefined)."""
    return np.array([_value(rows[-1], key) for rows in runs])


def paired_diff_ci95(a: np.ndarray, b: np.ndarray, lower_is_better: bool) -> tuple[float, float, int, int]:
    """mean(a - b), half-width of its 95 % paired t interval, the seeds where a is strictly better
    than b, and the seeds compared (both finite)."""
    keep = np.isfinite(a) & np.isfinite(b)
    d = a[keep] - b[keep]
    better = int((d < 0).sum() if lower_is_better else (d > 0).sum())
    if d.size < 2:
        return float("nan"), float("nan"), better, int(d.size)
    half = float(stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size))
    return float(d.mean()), half, better, int(d.size)


def main(sweep_dir: Path, figure: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[str, list[list[dict[str, str]]]] = {}
    for record in json.loads((sweep_dir / "sweep.json").read_text()):
        with open(Path(record["run_dir"]) / "metrics.csv") as handle:
            rows = list(csv.DictReader(handle))
        groups.setdefault(str(record["condition"]["drive.kind"]), []).append(rows)

    print("| drive | n | " + " | ".join(KEYS) + " |")
    print("|---|---|" + "---|" * len(KEYS))
    for kind, runs in groups.items():
        cells = []
        for key in KEYS:
            values = final_values(runs, key)
            finite = values[np.isfinite(values)]
            mean, half = mean_ci95(finite) if finite.size else (float("nan"), float("nan"))
            cells.append(f"{mean:.2f} ± {half:.2f}" + (f" (n={finite.size})" if finite.size < len(runs) else ""))
        print(f"| {kind} | {len(runs)} | " + " | ".join(cells) + " |")

    print("\n| drive | " + " | ".join(f"{a} - {b.split('.')[-1]}" for a, b in PAIRED) + " |")
    print("|---|" + "---|" * len(PAIRED))
    for kind, runs in groups.items():
        cells = []
        for learned, control in PAIRED:
            mean, half, better, n = paired_diff_ci95(final_values(runs, learned), final_values(runs, control),
                                                     lower_is_better="error_rate" in learned)
            cells.append(f"{_cell(mean, half)} (better in {better}/{n})")
        print(f"| {kind} | " + " | ".join(cells) + " |")

    if "twitch" in groups:
        print("\n| twitch minus | " + " | ".join(VERSUS) + " |")
        print("|---|" + "---|" * len(VERSUS))
        for kind, runs in groups.items():
            if kind != "twitch":
                cells = [_cell(*welch_diff_ci95(final_values(groups["twitch"], key), final_values(runs, key)))
                         for key in VERSUS]
                print(f"| {kind} | " + " | ".join(cells) + " |")

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for n_color, (kind, runs) in enumerate(groups.items()):
        time_s = np.array([_value(row, "time_s") for row in runs[0]])
        color = f"C{n_color}"
        for ax, key in zip(axes, ("withdrawal.error_rate", "withdrawal.error_rate_resting"), strict=True):
            curves = np.array([[_value(row, key) for row in rows] for rows in runs])  # (seeds, rows)
            control = np.array([[_value(row, f"{key}_shuffled") for row in rows] for rows in runs])
            band = np.array([mean_ci95(curves[:, k]) for k in range(curves.shape[1])])  # (rows, 2)
            ax.plot(time_s, band[:, 0], "-", color=color, label=kind)
            ax.fill_between(time_s, band[:, 0] - band[:, 1], band[:, 0] + band[:, 1], color=color, alpha=0.15)
            ax.plot(time_s, [mean_ci95(control[:, k])[0] for k in range(control.shape[1])], ":", color=color,
                    label=f"{kind} (shuffled control)")
    for ax, title in zip(axes, ("skin that bore load", "resting skin (>= 10 s of load)"), strict=True):
        ax.axhline(0.1, color="grey", lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("simulated time [s]")
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("erroneous withdrawal reflexes")
    axes[1].legend(fontsize=7, frameon=False, ncol=2)
    n_seeds = max(len(runs) for runs in groups.values())
    fig.suptitle(f"petersson2003: mean over {n_seeds} seeds per drive, band: 95 % t interval; "
                 "dotted: shuffled control", fontsize=9)
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python benchmarks/results_petersson2003.py SWEEP_DIR FIGURE.png")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
