"""The homunculus comparison (docs/experiments.md): a table and docs/media/homunculus_drives.png.

    python benchmarks/results_homunculus.py OUT.png SWEEP_DIR [SWEEP_DIR ...]

Reads each sweep's sweep.json (robot-twitch sweep homunculus ...; several sweeps of the same
conditions, e.g. seeds 0-4 and 5-9, are pooled by condition label) and prints one Markdown row per
condition: seeds, actuation energy and the final skinmap scores as mean ± half-width of the 95 %
t interval over seeds (robot_twitch.sweep.mean_ci95); the figure shows the adjacency scores with
their controls and both coverages, seeds as dots. A score that is undefined (nan: no touched
neighbour pair) is left out of its mean and shown as "nan" when no seed has one.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

from robot_twitch.sweep import condition_label, mean_ci95

ADJACENCY = ("skinmap.adjacency", "skinmap.adjacency_contact", "skinmap.adjacency_initial", "skinmap.adjacency_shuffled")
COVERAGE = ("skinmap.coverage", "skinmap.coverage_contact")
TABLE = (*ADJACENCY[:2], *COVERAGE, "skinmap.segregation", *ADJACENCY[2:])


def pooled(sweeps: list[Path]) -> dict[str, list[dict]]:
    """Condition label -> the summaries of its finished runs, over all sweeps."""
    out: dict[str, list[dict]] = {}
    for sweep in sweeps:
        for record in json.loads((sweep / "sweep.json").read_text()):
            if record.get("summary"):
                out.setdefault(short_label(record["condition"]), []).append(record["summary"])
    return out


def short_label(condition: dict) -> str:
    """'twitch', 'awake', 'ou'; 'still from 0.01 s' for drive.stop_at_s (the no-movement control)."""
    if set(condition) == {"drive.kind"}:
        return str(condition["drive.kind"])
    if set(condition) == {"drive.stop_at_s"}:
        return f"still from {condition['drive.stop_at_s']:g} s"
    return condition_label(condition)


def metric(runs: list[dict], name: str) -> np.ndarray:
    return np.array([float(r["metrics"].get(name, np.nan)) for r in runs])


def cell(values: np.ndarray, digits: int = 2) -> str:
    mean, half = mean_ci95(values)
    return "nan" if not np.isfinite(mean) else f"{mean:.{digits}f} ± {half:.{digits}f}"


def main(out_png: str, sweeps: list[str]) -> None:
    groups = pooled([Path(s) for s in sweeps])
    print("| condition | seeds | energy | " + " | ".join(n.replace("skinmap.", "") for n in TABLE) + " |")
    print("|---" * (len(TABLE) + 3) + "|")
    for label, runs in groups.items():
        seeds = sorted(r["seed"] for r in runs)
        energy = np.mean([r["budget"]["energy"] for r in runs])
        print(f"| {label} | {len(seeds)} ({seeds[0]}-{seeds[-1]}) | {energy:.1f} | "
              + " | ".join(cell(metric(runs, n), 3 if n in COVERAGE else 2) for n in TABLE) + " |")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    labels = list(groups)
    for ax, names, title in ((axes[0], ADJACENCY, "adjacency (target 0.8)"), (axes[1], COVERAGE, "coverage (share of the skin)")):
        width = 0.8 / len(names)
        for j, name in enumerate(names):
            for i, label in enumerate(labels):
                values = metric(groups[label], name)
                mean, half = mean_ci95(values)
                x = i + (j - (len(names) - 1) / 2) * width
                if not np.isfinite(mean):
                    ax.text(x, 0.02, "nan", ha="center", fontsize=6, rotation=90)
                    continue
                ax.bar(x, mean, width, yerr=half, color=f"C{j}", alpha=0.8, capsize=2,
                       label=name.replace("skinmap.", "") if i == 0 else None)
                finite = values[np.isfinite(values)]
                ax.plot(np.full(len(finite), x), finite, "k.", ms=3)
        ax.set_xticks(range(len(labels)), labels, fontsize=7)
        ax.set_title(title, fontsize=9)
        ax.legend(fontsize=6, frameon=False)
    axes[0].axhline(0.8, color="k", lw=0.6, ls="--")
    fig.suptitle("homunculus: final skin-map scores per drive, mean and 95% CI over seeds (dots)", fontsize=9)
    fig.tight_layout()
    fig.savefig(out_png, dpi=120)


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
