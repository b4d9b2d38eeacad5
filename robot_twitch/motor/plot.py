"""Twitch raster with hypnogram.

Uses matplotlib's object API (``Figure`` without pyplot), so it renders with the Agg canvas,
needs no display and leaves the process-wide backend alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from robot_twitch.motor.base import DriveTrace, SleepState
from robot_twitch.motor.events import TwitchEvent

_STATE_LABELS = {0: "wake", 1: "quiet", 2: "active"}
_STATE_COLOURS = {0: "#e6a23c", 1: "#5b8bd6", 2: "#7b3fa0"}


def _hypnogram(ax: Axes, time_s: np.ndarray, codes: np.ndarray, dt: float) -> None:
    # Draw as a step plot; y levels: wake top, active bottom (clinical convention: REM low).
    level = {0: 2, 1: 1, 2: 0}
    y = np.array([level[int(c)] for c in codes]) if codes.size else np.zeros(0)
    if time_s.size:
        t = np.concatenate([time_s, [time_s[-1] + dt]])
        ax.step(t, np.concatenate([y, y[-1:]]), where="post", color="k", lw=1.0)
        for c in range(3):
            mask = codes == c
            ax.fill_between(t[:-1], -0.4, 2.4, where=mask, step="post",
                            color=_STATE_COLOURS[c], alpha=0.15, lw=0)
    ax.set_yticks([2, 1, 0], [_STATE_LABELS[0], _STATE_LABELS[1], _STATE_LABELS[2]])
    ax.set_ylim(-0.5, 2.5)
    ax.set_ylabel("state")


def plot_twitch_raster(
    trace_or_events: DriveTrace | Sequence[TwitchEvent],
    muscle_names: Sequence[str] | None = None,
    path_or_ax: str | Path | Axes | None = None,
    *,
    t_range_s: tuple[float, float] | None = None,
    title: str | None = None,
    age: tuple[float, float] | None = None,
) -> Figure:
    """Raster of twitches by muscle over time, with the hypnogram above it.

    Positive twitches are upward triangles (red), negative twitches downward triangles (blue).

    Args:
        trace_or_events: a DriveTrace (hypnogram from its ``sleep_state``) or a list of events
            (hypnogram from the events' states at their onsets).
        muscle_names: rows of the raster, top to bottom (None: the trace's muscles, or the
            muscles named by the events).
        path_or_ax: a file path to save (PNG etc.), an Axes to draw the raster into (the
            hypnogram goes into an inset above it), or None.
        t_range_s: (start, end) time window [s]; None = everything.
        title: figure title.
        age: (age_weeks at t = 0, weeks per simulated hour) of a run whose age advances: adds an
            age axis on top, so that the shift of twitching between regions can be read off.

    Returns:
        The matplotlib Figure.
    """
    if isinstance(trace_or_events, DriveTrace):
        events = list(trace_or_events.events)
        names = list(muscle_names or trace_or_events.muscle_names)
        time_s = trace_or_events.time_s
        codes = trace_or_events.sleep_state
        dt = trace_or_events.control_dt_s
    else:
        events = list(trace_or_events)
        names = list(muscle_names or dict.fromkeys(e.muscle for e in events))
        time_s = np.array([e.onset_s for e in events])
        codes = np.array([SleepState(e.sleep_state).code for e in events], dtype=int)
        dt = float(np.min(np.diff(time_s))) if time_s.size > 1 else 0.01
    if t_range_s is not None:
        lo, hi = t_range_s
        sel = (time_s >= lo) & (time_s < hi)
        time_s, codes = time_s[sel], codes[sel]
        events = [e for e in events if lo <= e.onset_s < hi]

    if isinstance(path_or_ax, Axes):
        ax = path_or_ax
        fig = ax.figure
        hyp = ax.inset_axes((0.0, 1.05, 1.0, 0.25), sharex=ax)
    else:
        fig = Figure(figsize=(10, 2 + 0.25 * max(4, len(names))))
        hyp, ax = fig.subplots(
            2, 1, sharex=True, gridspec_kw={"height_ratios": [1, max(2, len(names) / 4)]}
        )
    _hypnogram(hyp, time_s, codes, dt)
    hyp.tick_params(labelbottom=False)

    row = {n: i for i, n in enumerate(names)}
    for kind, marker, colour in (("positive", "^", "#c0392b"), ("negative", "v", "#2471a3")):
        pts = [(e.onset_s, row[e.muscle]) for e in events if e.polarity == kind and e.muscle in row]
        if pts:
            x, y = zip(*pts, strict=True)
            ax.scatter(x, y, marker=marker, s=18, c=colour, label=f"{kind} ({len(pts)})",
                       linewidths=0)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(len(names) - 0.5, -0.5)
    ax.set_xlabel("time [s]")
    ax.set_ylabel("muscle")
    if age is not None and age[1] > 0:
        start, rate = float(age[0]), float(age[1]) / 3600.0
        top = ax.secondary_xaxis("top", functions=(lambda t: start + rate * t, lambda a: (a - start) / rate))
        top.set_xlabel("age [weeks]")
    if events:
        # Beside the raster, never over a twitch mark.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0, fontsize="small", frameon=False)
    if title:
        hyp.set_title(title)
    if isinstance(path_or_ax, (str, Path)):
        fig.tight_layout()
        fig.savefig(path_or_ax, dpi=120)
    return fig
