"""When did each body-schema metric first reach the issue's target? Reads a run's metrics.csv.

    python benchmarks/results_first_reached.py RUN_DIR [RUN_DIR ...]

For each metric: the first scoring row at which it reached its target (simulated s, twitches,
energy) and the first row from which it stayed at or above target until the end of the run.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

TARGETS = {
    "schema.sign_accuracy": 1.0,
    "schema.cosine": 0.95,
    "reflex.pattern_accuracy": 0.9,
    "forward.r2": 0.9,
    "topology.f1": 1.0,
}


def first_reached(rows: list[dict[str, str]], key: str, target: float) -> tuple[dict | None, dict | None]:
    ok = [float(r[key]) >= target - 1e-12 for r in rows]
    first = next((r for r, o in zip(rows, ok, strict=True) if o), None)
    stay = None
    for i in range(len(rows) - 1, -1, -1):
        if not ok[i]:
            break
        stay = rows[i]
    return first, stay


def fmt(r: dict | None) -> str:
    if r is None:
        return "not reached"
    return f"{float(r['time_s']):.0f} s / {int(float(r['twitches']))} tw"


def main(run_dirs: list[str]) -> None:
    for d in run_dirs:
        rows = list(csv.DictReader(open(Path(d) / "metrics.csv")))
        last = rows[-1]
        print(f"## {d} ({float(last['time_s']):.0f} s, {int(float(last['twitches']))} twitches, "
              f"energy {float(last['energy']):.2f})")
        print("| metric | final | target | first reached | reached and kept |")
        print("|---|---|---|---|---|")
        for key, target in TARGETS.items():
            if key not in last:
                continue
            first, stay = first_reached(rows, key, target)
            print(f"| {key} | {float(last[key]):.3f} | {target} | {fmt(first)} | {fmt(stay)} |")
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
