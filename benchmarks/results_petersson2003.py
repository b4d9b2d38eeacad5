"""Table and figure of a petersson2003 sweep (docs/experiments.md, "petersson2003").

    python benchmarks/results_petersson2003.py SWEEP_DIR docs/media/petersson2003_sweep.png

Prints one markdown row per drive: the last scoring row of each run's metrics.csv as mean ± the
half-width of the 95 % t interval over seeds (robot_twitch.sweep.mean_ci95), for the learned
withdrawal reflex, its shuffled control, the initial weights and the all-muscle reflex, on the
skin that bore load and on resting skin, and the Hebbian touch columns' accuracy. The figure: the
error rate against time per drive (mean over seeds, band min-max), the shuffled control dotted.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

from robot_twitch.sweep import mean_ci95

KEYS = ("withdrawal.error_rate", "withdrawal.error_rate_shuffled", "withdrawal.error_rate_initial",
        "withdrawal.error_rate_uniform", "withdrawal.error_rate_resting", "withdrawal.error_rate_resting_shuffled",
        "withdrawal.sites_loaded", "withdrawal.sites_resting", "reflex.touch_withdrawal_accuracy")


def _value(row: dict[str, str], key: str) -> float:
    text = row.get(key, "")
    return float(text) if text not in ("", "nan") else float("nan")


def main(sweep_dir: Path, figure: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups: dict[str, list[list[dict[str, str]]]] = {}
    for record in json.loads((sweep_dir / "sweep.json").read_text()):
        rows = list(csv.DictReader(open(Path(record["run_dir"]) / "metrics.csv")))
        groups.setdefault(str(record["condition"]["drive.kind"]), []).append(rows)
    print("| drive | n | " + " | ".join(KEYS) + " |")
    print("|---|---|" + "---|" * len(KEYS))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for n_color, (kind, runs) in enumerate(groups.items()):
        cells = []
        for key in KEYS:
            values = np.array([_value(rows[-1], key) for rows in runs])
            values = values[np.isfinite(values)]
            mean, half = mean_ci95(values) if values.size else (float("nan"), float("nan"))
            cells.append(f"{mean:.2f} ± {half:.2f}" + (f" (n={values.size})" if values.size < len(runs) else ""))
        print(f"| {kind} | {len(runs)} | " + " | ".join(cells) + " |")
        time_s = np.array([_value(row, "time_s") for row in runs[0]])
        color = f"C{n_color}"
        for ax, key in zip(axes, ("withdrawal.error_rate", "withdrawal.error_rate_resting"), strict=True):
            curves = np.array([[_value(row, key) for row in rows] for rows in runs])  # (seeds, rows)
            control = np.array([[_value(row, f"{key}_shuffled") for row in rows] for rows in runs])
            ax.plot(time_s, np.nanmean(curves, axis=0), "-", color=color, label=kind)
            ax.fill_between(time_s, np.nanmin(curves, axis=0), np.nanmax(curves, axis=0), color=color, alpha=0.12)
            ax.plot(time_s, np.nanmean(control, axis=0), ":", color=color, label=f"{kind} (shuffled control)")
    for ax, title in zip(axes, ("skin that bore load", "resting skin (>= 10 s of load)"), strict=True):
        ax.axhline(0.1, color="grey", lw=0.8)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("simulated time [s]")
        ax.set_ylim(0, 1)
    axes[0].set_ylabel("erroneous withdrawal reflexes")
    axes[1].legend(fontsize=7, frameon=False, ncol=2)
    fig.suptitle("petersson2003 at matched energy: mean over seeds (band: min-max); dotted: shuffled control",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(figure, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python benchmarks/results_petersson2003.py SWEEP_DIR FIGURE.png")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
