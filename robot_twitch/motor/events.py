"""Twitch event records, their CSV/JSON storage and burst statistics.

One :class:`TwitchEvent` is one muscle's twitch.  A twitch that involves several muscles at once
(``muscles_per_twitch`` > 1, or left/right coupling) logs one event per muscle, sharing
``onset_s`` and ``twitch_index``.  Files round-trip exactly: floats are written with ``repr``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

POLARITIES: tuple[str, ...] = ("positive", "negative")


@dataclass(frozen=True)
class TwitchEvent:
    """One muscle's twitch.

    Attributes:
        onset_s: start of the pulse [s] (a multiple of the control step).
        muscle: muscle name.
        muscle_index: column of the muscle in the drive's excitation, 0..M-1.
        region: body region of the muscle ("neck", "wrist", ...).
        polarity: "positive" (positive myoclonus: a brief contraction) or "negative" (negative
            myoclonus: a brief loss of tone, possible only where the muscle had tone to lose).
        amplitude: peak change of excitation: added excitation for a positive twitch, removed
            tone for a negative one (>= 0, before clipping to [0, 1]).
        duration_s: pulse length as applied (whole control steps) [s].
        sleep_state: state at onset ("wake", "quiet", "active").
        burst_index: index of the burst the twitch belongs to (-1 under Poisson timing).
        twitch_index: index of the (possibly multi-muscle) twitch; shared by co-activated muscles.
        near_transition: onset within ``transition_window_s`` of a change of sleep state
            (drowsiness at sleep onset, arousal, quiet-active transition).
    """

    onset_s: float
    muscle: str
    muscle_index: int
    region: str
    polarity: str
    amplitude: float
    duration_s: float
    sleep_state: str
    burst_index: int = -1
    twitch_index: int = -1
    near_transition: bool = False


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if str(value) in ("True", "true", "1"):
        return True
    if str(value) in ("False", "false", "0", ""):
        return False
    raise ValueError(f"{value!r} is not a boolean")


_FIELD_TYPES: dict[str, Callable[[object], object]] = {
    "onset_s": float,
    "muscle": str,
    "muscle_index": int,
    "region": str,
    "polarity": str,
    "amplitude": float,
    "duration_s": float,
    "sleep_state": str,
    "burst_index": int,
    "twitch_index": int,
    "near_transition": _bool,
}
FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(TwitchEvent))


def _coerce(row: dict[str, object]) -> TwitchEvent:
    if "polarity" not in row and "kind" in row:  # event logs written before the rename
        row = {**row, "polarity": row["kind"]}
    kwargs = {name: _FIELD_TYPES[name](row[name]) for name in FIELD_NAMES if name in row}
    return TwitchEvent(**kwargs)  # type: ignore[arg-type]


def save_events(events: Iterable[TwitchEvent], path: str | Path) -> Path:
    """Write events to ``path``: CSV when the suffix is ``.csv``, JSON when ``.json``.

    Floats are written with ``repr`` so :func:`load_events` returns equal events.
    """
    p = Path(path)
    evs = list(events)
    if p.suffix.lower() == ".csv":
        with p.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(FIELD_NAMES)
            for e in evs:
                writer.writerow(
                    [repr(v) if isinstance(v, float) else v for v in asdict(e).values()]
                )
    elif p.suffix.lower() == ".json":
        p.write_text(json.dumps([asdict(e) for e in evs], indent=1))
    else:
        raise ValueError(f"path suffix {p.suffix!r} is invalid: expected '.csv' or '.json'")
    return p


def load_events(path: str | Path) -> list[TwitchEvent]:
    """Read events written by :func:`save_events` (CSV or JSON by suffix)."""
    p = Path(path)
    if p.suffix.lower() == ".csv":
        with p.open(newline="") as fh:
            return [_coerce(row) for row in csv.DictReader(fh)]
    if p.suffix.lower() == ".json":
        return [_coerce(row) for row in json.loads(p.read_text())]
    raise ValueError(f"path suffix {p.suffix!r} is invalid: expected '.csv' or '.json'")


@dataclass(frozen=True)
class BurstStats:
    """Burst structure of a twitch train (onsets of distinct twitches only).

    Attributes:
        burst_sizes: (B,) number of twitches per burst.
        inter_burst_intervals_s: (B-1,) last onset of a burst to first onset of the next [s].
        within_burst_intervals_s: (N-B,) intervals between successive twitches of a burst [s].
    """

    burst_sizes: np.ndarray
    inter_burst_intervals_s: np.ndarray
    within_burst_intervals_s: np.ndarray

    def fraction_ibi_at_most(self, limit_s: float = 10.0) -> float:
        """Fraction of inter-burst intervals <= ``limit_s`` (Sokoloff et al.: mostly <= 10 s)."""
        ibi = self.inter_burst_intervals_s
        return float(np.mean(ibi <= limit_s)) if ibi.size else float("nan")


def twitch_onsets_s(events: Sequence[TwitchEvent]) -> np.ndarray:
    """(N,) sorted onsets of distinct twitches (co-activated muscles counted once) [s]."""
    if not events:
        return np.zeros(0)
    keys = {(e.twitch_index, e.onset_s) if e.twitch_index >= 0 else (id(e), e.onset_s)
            for e in events}
    return np.sort(np.array([k[1] for k in keys], dtype=float))


def burst_stats(events: Sequence[TwitchEvent], gap_s: float = 0.9) -> BurstStats:
    """Split twitches into bursts wherever successive onsets are more than ``gap_s`` apart.

    With the default twitch config the generator's minimum inter-burst interval (1 s) exceeds
    its longest within-burst interval (0.8 s); onsets are quantised to the control step, so
    ``gap_s = 0.9`` recovers the generator's bursts exactly (``TwitchEvent.burst_index``).
    """
    onsets = twitch_onsets_s(events)
    if onsets.size == 0:
        z = np.zeros(0)
        return BurstStats(np.zeros(0, dtype=int), z, z)
    d = np.diff(onsets)
    breaks = d > gap_s
    starts = np.concatenate([[0], np.nonzero(breaks)[0] + 1])
    sizes = np.diff(np.concatenate([starts, [onsets.size]]))
    return BurstStats(
        burst_sizes=sizes.astype(int),
        inter_burst_intervals_s=d[breaks],
        within_burst_intervals_s=d[~breaks],
    )


def region_shares(events: Sequence[TwitchEvent]) -> dict[str, float]:
    """Fraction of events per region (one count per muscle event)."""
    if not events:
        return {}
    regions, counts = np.unique([e.region for e in events], return_counts=True)
    return {str(r): float(c / len(events)) for r, c in zip(regions, counts, strict=True)}
