"""Plots of a run: learned maps beside the truth, learning curves, the twitch raster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

CURVE_METRICS = ("schema.sign_accuracy", "schema.cosine", "proprio.cosine", "reflex.pattern_accuracy", "forward.r2",
                 "topology.f1")


def _figure(*args: Any, **kwargs: Any):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kwargs)


def plot_maps(body: Any, maps: dict[str, np.ndarray], truth: np.ndarray, path: Path) -> None:
    """Heatmaps: true moment arms R, learned action map, Hebbian reflex (spindle length)."""
    panels = [("true moment arms R (m)", truth, body.joint_names)]
    if "motor_map/motor_map" in maps:
        from robot_twitch.evaluate import defined_rows, per_joint_scaled

        learned = np.asarray(maps["motor_map/motor_map"], dtype=float)
        panels.append(("motor map (schema), per-joint scaled", per_joint_scaled(learned, truth, defined_rows(learned)),
                       body.joint_names))
    if "proprio/proprio_map" in maps:
        panels.append(("proprioceptive map", maps["proprio/proprio_map"], body.joint_names))
    if "hebbian/reflex_spindle_length" in maps:
        panels.append(("Hebbian reflex: spindle -> motor", maps["hebbian/reflex_spindle_length"], body.muscle_names))
    fig, axes = _figure(1, len(panels), figsize=(4.2 * len(panels), 0.35 * len(body.muscle_names) + 2.2))
    axes = np.atleast_1d(axes)
    for ax, (title, data, cols) in zip(axes, panels, strict=True):
        data = np.asarray(data, dtype=float)
        lim = float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0
        lim = lim or 1.0
        im = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_title(title, fontsize=10)
        ax.set_yticks(range(len(body.muscle_names)), body.muscle_names, fontsize=7)
        ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=7)
        fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)


def mark_clipped(ax: Any, lo: float, hi: float) -> int:
    """Draw each line's points outside [lo, hi] as triangles on the axis edge, with the value.

    Returns the number of points marked. Call after the lines are drawn and the limits set.
    """
    marked = 0
    for line in list(ax.get_lines()):
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        for side, mask, edge, marker in (("low", y < lo, lo, "v"), ("high", y > hi, hi, "^")):
            if not mask.any():
                continue
            ax.plot(x[mask], np.full(mask.sum(), edge), linestyle="none", marker=marker, ms=7,
                    color=line.get_color(), clip_on=False, zorder=5)
            k = int(np.flatnonzero(mask)[0])
            ax.annotate(f"{y[k]:.2g}", (x[k], edge), textcoords="offset points",
                        xytext=(4, 6 if side == "low" else -10), fontsize=7, color=line.get_color())
            marked += int(mask.sum())
    return marked


def plot_learning_curves(rows: list[dict[str, float]], path: Path) -> None:
    """Scores against simulated time; the legend sits beside the axes, never over the data.

    Scores live in [0, 1]; one below or above (an R^2 of a poor forward model is negative) is
    drawn as a triangle on the axis edge with its value. A single scoring point is a marker.
    """
    fig, ax = _figure(figsize=(8.2, 4))
    t = [r["time_s"] for r in rows]
    for key in CURVE_METRICS:
        if rows and key in rows[-1]:
            ax.plot(t, [r.get(key, np.nan) for r in rows], marker="o", ms=3 if len(rows) > 1 else 6, label=key)
    ax.set_xlabel("simulated time (s)")
    ax.set_ylabel("score")
    ax.set_ylim(-0.05, 1.05)
    if len(rows) == 1:
        ax.set_xlim(0, 2 * t[0] if t[0] > 0 else 1)
    mark_clipped(ax, -0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)


def write_run_plots(run_dir: Path, body: Any, maps: dict[str, np.ndarray], truth: np.ndarray,
                    rows: list[dict[str, float]], events: list[Any],
                    age: tuple[float, float] | None = None) -> None:
    """maps.png, learning_curves.png and twitch_raster.png (with an age axis when ``age`` =
    (start weeks, weeks per hour) advances)."""
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    plot_maps(body, maps, truth, plots / "maps.png")
    if rows:
        plot_learning_curves(rows, plots / "learning_curves.png")
    if events:
        import matplotlib.pyplot as plt

        from robot_twitch.motor.plot import plot_twitch_raster

        fig = plot_twitch_raster(events, list(body.muscle_names), plots / "twitch_raster.png", age=age)
        plt.close(fig)
