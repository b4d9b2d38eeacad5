"""Re-alignment after a body change: how long each learned map takes to regain its score.

Marques, Bharadwaj & Iida (2014, PLoS Comput Biol) showed that continued spontaneous activity
re-aligns learned reflex circuits after the body changes. Here that claim becomes a number per
scored map: from the change, the simulated seconds and the twitches until the map's score is back
at its pre-change level (within a tolerance), or "not within the run".

Given the metrics rows of a run (one per scoring time, with ``time_s`` and ``twitches``), for
every score S the pre-change level is S at the last scoring at or before the change; the map has
re-aligned at the first later scoring where S >= pre - tolerance (S <= pre + tolerance for the
scores where lower is better, such as ``forward.nrmse``). Names:

    realign.<score>_s          seconds from the change to re-alignment (inf: not within the run)
    realign.<score>_twitches   twitches delivered in that time (inf: not within the run)
    realign.<score>_realigned  1 if re-aligned within the run, else 0
    realign.<score>_drop       pre-change score minus the first score after the change
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

NOT_WITHIN_RUN = "not within the run"
BOOKKEEPING = ("time_s", "twitches", "energy")
LOWER_IS_BETTER = ("forward.nrmse", "schema.lost_residual")


def _better_or_equal(name: str, value: float, target: float, tolerance: float) -> bool:
    if name in LOWER_IS_BETTER:
        return value <= target + tolerance
    return value >= target - tolerance


def realignment(rows: Sequence[Mapping[str, float]], change_s: float,
                tolerance: float = 0.02) -> dict[str, float]:
    """realign.* scores of one run for a body change at ``change_s`` (see module docstring).

    Args:
        rows: metrics rows in time order, each with ``time_s`` and ``twitches``.
        change_s: simulated time of the change [s].
        tolerance: absolute slack on the pre-change score.

    Returns:
        metric name -> float (``math.inf`` for "not within the run"); empty when no scoring
        precedes or follows the change.
    """
    before = [r for r in rows if r["time_s"] <= change_s + 1e-9]
    after = [r for r in rows if r["time_s"] > change_s + 1e-9]
    if not before or not after:
        return {}
    pre = before[-1]
    out: dict[str, float] = {}
    for name, target in pre.items():
        if name in BOOKKEEPING or not isinstance(target, (int, float)) or not math.isfinite(target):
            continue
        first = after[0].get(name, math.nan)
        out[f"realign.{name}_drop"] = float(target - first) if name not in LOWER_IS_BETTER \
            else float(first - target)
        hit = next((r for r in after if math.isfinite(r.get(name, math.nan))
                    and _better_or_equal(name, r[name], target, tolerance)), None)
        if hit is None:
            out[f"realign.{name}_s"] = math.inf
            out[f"realign.{name}_twitches"] = math.inf
            out[f"realign.{name}_realigned"] = 0.0
        else:
            out[f"realign.{name}_s"] = float(hit["time_s"] - change_s)
            out[f"realign.{name}_twitches"] = float(hit["twitches"] - pre["twitches"])
            out[f"realign.{name}_realigned"] = 1.0
    return out


def for_summary(metrics: Mapping[str, float]) -> dict[str, float | str]:
    """Metrics with infinite re-alignment times written as "not within the run" (JSON-safe)."""
    return {k: NOT_WITHIN_RUN if isinstance(v, float) and math.isinf(v) else v for k, v in metrics.items()}


__all__ = ["NOT_WITHIN_RUN", "for_summary", "realignment"]
