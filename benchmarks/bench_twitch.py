"""Do the muscle dynamics converge? A single twitch under a configuration vs muscles and physics at 2 kHz.

For every built-in body and every muscle: excitation 0.8 for 30 ms from rest, joint angles over
0.4 s, largest error at the tested configuration's control steps / the twitch's excursion in the
reference (robot_twitch/convergence.py). Prints median and worst per body for the default
SimConfig() (the target: median <= 0.05, worst <= 0.10) and, with --step-ms, for other control
steps (each a divisor of the 30 ms twitch; Bullet at 1 kHz, or the control rate if faster);
--figure draws error against step size.

    python benchmarks/bench_twitch.py [--bodies planar_arm leg infant] [--step-ms 30 15 10 5 2 1]
                                      [--figure docs/media/twitch_convergence.png] [--json out.json]
                                      [--compare earlier.json --compare-label "..."] [--replot run.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import numpy as np  # noqa: E402

from robot_twitch.body.spec import builtin_bodies, load_body  # noqa: E402
from robot_twitch.convergence import twitch_errors  # noqa: E402
from robot_twitch.sim import SimConfig  # noqa: E402

MEDIAN_TARGET, WORST_TARGET = 0.05, 0.10


def config_for(step_ms: float | None) -> SimConfig:
    if step_ms is None:
        return SimConfig()
    return SimConfig(physics_hz=max(1000.0, 1000.0 / step_ms), control_hz=1000.0 / step_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bodies", nargs="*", default=None)
    parser.add_argument("--step-ms", nargs="*", type=float, default=[],
                        help="further control steps [ms] for the convergence study")
    parser.add_argument("--figure", type=Path, default=None, help="PNG of error against step size")
    parser.add_argument("--json", type=Path, default=None, help="write all errors here")
    parser.add_argument("--compare", type=Path, default=None,
                        help="a --json file of an earlier version, drawn dashed in the figure")
    parser.add_argument("--compare-label", default="earlier version")
    parser.add_argument("--replot", type=Path, default=None,
                        help="draw --figure from a --json file of an earlier run instead of simulating")
    args = parser.parse_args()
    if args.replot:
        earlier = json.loads(args.compare.read_text()) if args.compare else None
        draw(json.loads(args.replot.read_text()), sorted(args.step_ms), args.figure, earlier, args.compare_label)
        return
    bodies = args.bodies or sorted(builtin_bodies())
    rates: list[float | None] = [None, *args.step_ms]
    results: dict[str, dict[str, list[float]]] = {}
    print("| body | config | median error / excursion | worst | worst muscle | worst error [mrad] / excursion [mrad] | wall [s] |")
    print("|---|---|---|---|---|---|---|")
    failed = False
    for name in bodies:
        body = load_body(name)
        results[name] = {}
        for hz in rates:
            cfg = config_for(hz)
            start = time.perf_counter()
            errors = twitch_errors(body, cfg)
            wall = time.perf_counter() - start
            rel = np.array([e.relative for e in errors])
            worst = errors[int(rel.argmax())]
            label = "default" if hz is None else f"{hz:g} ms"
            results[name][label] = rel.tolist()
            print(f"| {name} | {label} (control / physics {cfg.control_hz:.4g} / {cfg.physics_hz:.0f} Hz) | "
                  f"{np.median(rel):.3f} | "
                  f"{rel.max():.3f} | {worst.muscle} | {worst.error_rad * 1e3:.2f} / {worst.excursion_rad * 1e3:.1f} | "
                  f"{wall:.1f} |", flush=True)
            if hz is None and (np.median(rel) > MEDIAN_TARGET or rel.max() > WORST_TARGET):
                failed = True
    print(f"\ntarget (default config, every body): median <= {MEDIAN_TARGET}, worst <= {WORST_TARGET}: "
          f"{'NOT met' if failed else 'met'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    if args.figure and args.step_ms:
        earlier = json.loads(args.compare.read_text()) if args.compare else None
        draw(results, sorted(args.step_ms), args.figure, earlier, args.compare_label)


def draw(results: dict[str, dict[str, list[float]]], rates: list[float], path: Path,
         earlier: dict[str, dict[str, list[float]]] | None = None, earlier_label: str = "") -> None:
    """Worst (solid) and median (dotted) error / excursion against the control step, per body
    (log-log); an earlier version's worst case dashed and faded."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    for (name, by_rate), color in zip(results.items(), ("C0", "C1", "C2", "C3", "C4"), strict=False):
        med = [float(np.median(by_rate[f"{ms:g} ms"])) for ms in rates]
        worst = [float(np.max(by_rate[f"{ms:g} ms"])) for ms in rates]
        ax.plot(rates, worst, "s-", color=color, label=f"{name}, worst")
        ax.plot(rates, med, "o:", color=color, label=f"{name}, median")
        if earlier and name in earlier:
            old = [float(np.max(earlier[name][f"{ms:g} ms"])) for ms in rates]
            ax.plot(rates, old, "x--", color=color, alpha=0.4, label=f"{name}, worst, {earlier_label}")
    ax.axhline(MEDIAN_TARGET, color="0.5", lw=0.8, ls=":")
    ax.axhline(WORST_TARGET, color="0.5", lw=0.8, ls="-.")
    ax.axvline(10.0, color="0.8", lw=6, zorder=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("control step = one Bullet call [ms] (default 10 ms, shaded; Bullet substeps 1 ms)")
    ax.set_ylabel("twitch joint-angle error / excursion")
    ax.set_title("Single twitch vs muscles and physics at 2 kHz")
    ax.legend(fontsize=6.5, ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    print(f"figure: {path}")


if __name__ == "__main__":
    main()
