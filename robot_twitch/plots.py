"""Plots of a run: learned maps beside the truth, learning curves, the twitch raster.

matplotlib's object API (``Figure`` with the Agg canvas, no pyplot): no display needed, the
process-wide backend is left alone, and pyplot's import (~0.5 s) is not paid.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

CURVE_METRICS = ("schema.sign_accuracy", "schema.cosine", "proprio.cosine", "reflex.pattern_accuracy", "forward.r2",
                 "topology.f1", "withdrawal.error_rate", "withdrawal.field_match", "skinmap.adjacency",
                 "skinmap.coverage")


def _figure(nrows: int = 1, ncols: int = 1, **kwargs: Any):
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    return fig, fig.subplots(nrows, ncols)


# Layout in inches, computed from the label lengths instead of by tight_layout, which measures
# every text extent in an extra draw (a third of the plotting time).
_CHAR_IN = 0.055  # width of one 7-pt tick-label character [in]
_PANEL_IN = 4.2


def _label_in(names: Any) -> float:
    return _CHAR_IN * max((len(str(n)) for n in names), default=1)


def plot_maps(body: Any, maps: dict[str, np.ndarray], truth: np.ndarray, path: Path) -> None:
    """Heatmaps: true moment arms R, learned action map, Hebbian reflex (spindle length)."""
    maps_figure(body, maps, truth).savefig(path, dpi=110)


def maps_figure(body: Any, maps: dict[str, np.ndarray], truth: np.ndarray) -> Any:
    """The figure of plot_maps (a matplotlib Figure, no pyplot)."""
    from matplotlib.figure import Figure

    panels = [("true moment arms R (m)", truth, body.joint_names)]
    if "motor_map/motor_map" in maps:
        from robot_twitch.evaluation import defined_rows, per_joint_scaled

        learned = np.asarray(maps["motor_map/motor_map"], dtype=float)
        panels.append(("motor map (schema), per-joint scaled", per_joint_scaled(learned, truth, defined_rows(learned)),
                       body.joint_names))
    if "proprio/proprio_map" in maps:
        panels.append(("proprioceptive map", maps["proprio/proprio_map"], body.joint_names))
    if "hebbian/reflex_spindle_length" in maps:
        panels.append(("Hebbian reflex: spindle -> motor", maps["hebbian/reflex_spindle_length"], body.muscle_names))
    left_in = _label_in(body.muscle_names) + 0.15
    bottom_in = max(_label_in(cols) for _, _, cols in panels) * np.sin(np.radians(60)) + 0.25
    top_in, cbar_in, cbar_gap_in, cbar_labels_in = 0.35, 0.12, 0.1, 0.55
    height_in = 0.35 * len(body.muscle_names) + 1.2 + bottom_in
    width_in = _PANEL_IN * len(panels)
    axes_w = _PANEL_IN - left_in - cbar_gap_in - cbar_in - cbar_labels_in
    axes_h = height_in - bottom_in - top_in
    fig = Figure(figsize=(width_in, height_in))
    for k, (title, data, cols) in enumerate(panels):
        x0 = k * _PANEL_IN + left_in
        ax = fig.add_axes((x0 / width_in, bottom_in / height_in, axes_w / width_in, axes_h / height_in))
        cax = fig.add_axes(((x0 + axes_w + cbar_gap_in) / width_in, (bottom_in + 0.1 * axes_h) / height_in,
                            cbar_in / width_in, 0.8 * axes_h / height_in))
        data = np.asarray(data, dtype=float)
        lim = float(np.nanmax(np.abs(data))) if np.isfinite(data).any() else 1.0
        lim = lim or 1.0
        im = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_title(title, fontsize=10)
        ax.set_yticks(range(len(body.muscle_names)), body.muscle_names, fontsize=7)
        ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=7)
        fig.colorbar(im, cax=cax)
    return fig


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
    # fixed margins [in] (no tight_layout): the legend takes the right 2 in
    fig.subplots_adjust(left=0.7 / 8.2, right=1 - 2.0 / 8.2, bottom=0.55 / 4, top=1 - 0.15 / 4)
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
    if ax.get_legend_handles_labels()[0]:  # a run may score none of the curve metrics
        ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0, frameon=False)
    else:
        ax.text(0.5, 0.5, "no learning-curve metric in this run", ha="center", va="center", transform=ax.transAxes)
    fig.savefig(path, dpi=110)


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
        from robot_twitch.motor.plot import plot_twitch_raster

        plot_twitch_raster(events, list(body.muscle_names), plots / "twitch_raster.png", age=age)
