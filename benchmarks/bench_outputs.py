"""Cost of recording a run (outputs.dataset) and logging it for TensorBoard (outputs.tensorboard).

Runs a config with each option off and on, interleaved so that machine load hits every variant
alike; reports the median wall time of each (the run's own budget.wall_s: the simulate-and-learn
loop, without writing the final artifacts) and its ratio to the plain run, and the stream's size.

    python benchmarks/bench_outputs.py --config quickstart --duration 120 --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _common import machine, pin_to_core

from robot_twitch.config import load_config
from robot_twitch.experiment import run_experiment

VARIANTS = {
    "plain": [],
    "dataset": ["outputs.dataset=true"],
    "tensorboard": ["outputs.tensorboard=true"],
    "both": ["outputs.dataset=true", "outputs.tensorboard=true"],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="quickstart")
    parser.add_argument("--duration", type=float, default=120.0, help="simulated s per run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--core", type=int, default=0, help="pin to this core (-1: no pinning)")
    args = parser.parse_args()
    print(machine(), "|", pin_to_core(None if args.core < 0 else args.core))
    walls: dict[str, list[float]] = {name: [] for name in VARIANTS}
    size_mb = float("nan")
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeats):
            for name, sets in VARIANTS.items():
                config = load_config(args.config, [f"duration_s={args.duration}", "outputs.plots=false",
                                                   "evaluation.reach_trials=0", *sets])
                result = run_experiment(config, out=Path(tmp) / f"{name}-{k}", progress_bar=False)
                walls[name].append(result.summary["budget"]["wall_s"])
                stream = result.run_dir / "stream"
                if stream.is_dir():
                    size_mb = sum(p.stat().st_size for p in stream.iterdir()) / 1e6
    plain = statistics.median(walls["plain"])
    print(f"{args.config}, {args.duration:g} simulated s, {args.repeats} repeats (median wall s, ratio to plain):")
    for name, values in walls.items():
        median = statistics.median(values)
        print(f"  {name:<12} {median:7.2f} s  x{median / plain:.3f}   runs: {', '.join(f'{v:.2f}' for v in values)}")
    print(f"  stream size {size_mb:.1f} MB ({size_mb * 1e3 / (args.duration * config.sim.control_hz):.3f} kB per step)")


if __name__ == "__main__":
    main()
