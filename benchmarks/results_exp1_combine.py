"""Combine runs of several sweeps of experiment 1 into one aggregate table and curves figure.

    python benchmarks/results_exp1_combine.py OUT_DIR SWEEP_DIR[:LABEL][:KIND] ...

Each argument names a sweep directory (with sweep.json), optionally the condition label its runs
get (default: the sweep's own label) and the only drive.kind to take from it (default: all).
OUT_DIR gets aggregate.md / aggregate.csv / plots/curves.png (robot_twitch.sweep.write_aggregate,
mean and 95% CI over seeds) and runs/ with links to the runs used.
Used for docs/results.md: the twitch condition re-run after a forward-model fix, the baselines
from the full sweep, and white noise held for 0.2 s as an extra, still energy-matched condition.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from robot_twitch.sweep import write_aggregate


def main(out: str, specs: list[str]) -> None:
    out_dir = Path(out)
    (out_dir / "runs").mkdir(parents=True, exist_ok=True)
    records = []
    for spec in specs:
        path, label, kind = (spec.split(":") + ["", ""])[:3]
        for r in json.loads((Path(path) / "sweep.json").read_text()):
            if kind and r["condition"].get("drive.kind") != kind:
                continue
            if label:
                r = {**r, "condition": {"drive": label}}
            records.append(r)
            link = out_dir / "runs" / Path(r["run_dir"]).name
            if not link.exists():
                link.symlink_to(Path(r["run_dir"]).resolve())
    write_aggregate(out_dir, records)
    (out_dir / "sweep.json").write_text(json.dumps(records, indent=1))
    print((out_dir / "aggregate.md").read_text())


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
