"""Tables of an experiment-3 sweep (docs/experiments.md, "Experiment 3").

    python benchmarks/results_exp3.py SWEEP_DIR

1. One row per condition (amplitude x median duration x activation time constant): n, energy,
   twitches and the final maps as mean ± half-width of the 95 % t interval over seeds.
2. The equal-energy pairs of the grid (long weak minus short strong twitches, at each activation
   time constant): difference of means ± the 95 % Welch interval, bold when it excludes 0.
3. The activation time constant's effect (30 ms minus 10 ms) at each amplitude x duration.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results_sweep_table import _fmt, _values, welch_diff_ci95  # noqa: E402

from robot_twitch.sweep import mean_ci95  # noqa: E402

AMP, DUR, TAU = "drive.twitch.amplitude_mean", "drive.twitch.duration_median_s", "sim.activation_time_constant_s"
METRICS = ("schema.cosine", "schema.sign_accuracy", "proprio.cosine", "reflex.pattern_accuracy",
           "schema_reflex.pattern_accuracy", "topology.f1", "forward.r2")
PAIRS = (((0.2, 0.2), (0.5, 0.03)), ((0.5, 0.08), (0.8, 0.03)), ((0.5, 0.2), (0.8, 0.08)))


def _diff(a: list[dict], b: list[dict], metric: str) -> str:
    d, h = welch_diff_ci95(_values(a, metric), _values(b, metric))
    if not np.isfinite(d):
        return "n/a"
    text = f"{d:+.3f} ± {h:.3f}"
    return f"**{text}**" if abs(d) > h else text


def main(sweep_dir: Path) -> None:
    records = [r for r in json.loads((sweep_dir / "sweep.json").read_text()) if r["summary"]]
    groups: dict[tuple[float, float, float], list[dict]] = {}
    for r in records:
        c = r["condition"]
        groups.setdefault((float(c[AMP]), float(c[DUR]), float(c[TAU])), []).append(r)
    print("| amplitude | duration [s] | tau_act [s] | n | energy | twitches | " + " | ".join(METRICS) + " |")
    print("|---" * (6 + len(METRICS)) + "|")
    for (amp, dur, tau), rs in sorted(groups.items()):
        cells = [_fmt(*mean_ci95(_values(rs, m))) for m in METRICS]
        print(f"| {amp:g} | {dur:g} | {tau:g} | {len(rs)} | {_fmt(*mean_ci95(_values(rs, 'energy')))} | "
              f"{_fmt(*mean_ci95(_values(rs, 'twitches')))} | " + " | ".join(cells) + " |")
    taus = sorted({k[2] for k in groups})
    print("\n| pair (amplitude x duration), tau_act | energy | " + " | ".join(METRICS) + " |")
    print("|---" * (2 + len(METRICS)) + "|")
    for (long_amp, long_dur), (short_amp, short_dur) in PAIRS:
        for tau in taus:
            a, b = groups.get((long_amp, long_dur, tau)), groups.get((short_amp, short_dur, tau))
            if not a or not b:
                continue
            energy = f"{np.mean(_values(a, 'energy')):.2g} vs {np.mean(_values(b, 'energy')):.2g}"
            print(f"| {long_amp:g} x {long_dur * 1000:g} ms - {short_amp:g} x {short_dur * 1000:g} ms, "
                  f"{tau * 1000:g} ms | {energy} | " + " | ".join(_diff(a, b, m) for m in METRICS) + " |")
    if len(taus) == 2:
        print(f"\n| amplitude x duration | tau {taus[1] * 1000:g} ms - {taus[0] * 1000:g} ms: "
              + " | ".join(METRICS) + " |")
        print("|---" * (1 + len(METRICS)) + "|")
        for amp, dur in sorted({k[:2] for k in groups}):
            a, b = groups.get((amp, dur, taus[1])), groups.get((amp, dur, taus[0]))
            if a and b:
                print(f"| {amp:g} x {dur * 1000:g} ms | " + " | ".join(_diff(a, b, m) for m in METRICS) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python benchmarks/results_exp3.py SWEEP_DIR")
    main(Path(sys.argv[1]))
