"""K seeds of one config in one batched process (robot_twitch.seeds) against one run of it.

Measures, interleaved in every repeat, each in a fresh process pinned to one core:

- **one run**: the `robot-twitch run CONFIG --quiet` process (the config's seed), launch to exit.
- **batched**: one process running seeds seed .. seed+K-1 of the config with `run_seeds`, launch
  to exit; this is what `robot-twitch sweep CONFIG --seeds K --workers 1` starts for a condition.
- with `--lone`: the same K seeds as K `robot-twitch run` processes one after the other (what a
  sweep worker did before: one process per seed).

Reports medians and the ratio batched / one run per repeat (median of the ratios), the CPU time
of each child (user + sys; less inflated by a busy machine), the peak RSS of each process and the
memory per limb (RSS growth per extra seed), and checks that the batched process's first seed
has the lone run's summary. `--profile` runs the batched process once more under cProfile and
prints where its time goes.

    python benchmarks/bench_seeds.py --seeds 10 --repeats 3          # quickstart, 600 simulated s
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Where the batched process's time goes: cumulative time of these calls (they nest only where noted).
PROFILE_PARTS = [
    ("start-up: imports, bodies, worlds, drives (RunSession.__init__ and before)", None),
    ("rollout: Rollout.step (drive, physics, sensors, after-step hooks)", ("robot_twitch/rollout.py", "step")),
    ("  of which physics: Simulation.step (muscle kernel, Bullet)", ("robot_twitch/sim.py", "step")),
    ("  of which sensors: SensorModel.read", ("robot_twitch/sensors.py", "read")),
    ("learners: LearnerGroup.observe (all learners)", ("robot_twitch/learn/base.py", "observe")),
    ("  of which forward model", ("robot_twitch/learn/forward.py", "observe")),
    ("scoring every evaluation.every_s: ExperimentRun.score", ("robot_twitch/experiment.py", "score")),
    ("checkpoints: save + world rebuild", ("robot_twitch/experiment.py", "after_batch:_Checkpoints")),
    ("outputs at the end: write_outputs (reach check, plots, files)", ("robot_twitch/outputs.py", "write_outputs")),
    ("  of which reach check", ("robot_twitch/outputs.py", "reach_scores")),
    ("  of which plots", ("robot_twitch/plots.py", "write_run_plots")),
]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _launch(args: list[str], core: int | None) -> tuple[str, float, float]:
    """Run a child to its end; its stdout, wall and CPU time [s]."""
    def pin() -> None:
        if core is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {core})

    before, t0 = _children_cpu_s(), time.perf_counter()
    done = subprocess.run([sys.executable, *args], env=_env(), preexec_fn=pin, check=True, capture_output=True,
                          text=True)
    return done.stdout, time.perf_counter() - t0, _children_cpu_s() - before


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- children ---------------------------------------------------------------------------------
def child_one(config: str, out: str) -> None:
    """`robot-twitch run CONFIG --quiet` in this process; print its summary and peak RSS."""
    from robot_twitch.cli import main

    code = main(["run", config, "--out", out, "--quiet"])
    run_dir = sorted(Path(out).iterdir(), key=lambda p: p.stat().st_mtime)[-1]
    summary = json.loads((run_dir / "summary.json").read_text())
    print(json.dumps({"code": code, "summary": summary, "rss_mb": _peak_rss_mb()}))


def child_batch(config: str, out: str, n_seeds: str, profile: str = "") -> None:
    """run_seeds over the config's seeds seed .. seed + n_seeds - 1; print summaries and peak RSS."""
    if profile:
        import cProfile

        cProfile.runctx("child_batch(config, out, n_seeds)", globals(), {"config": config, "out": out,
                                                                         "n_seeds": n_seeds}, profile)
        return
    from robot_twitch.config import load_config
    from robot_twitch.seeds import run_seeds

    base = load_config(config)
    configs = [load_config(config, [f"seed={base.seed + k}"]) for k in range(int(n_seeds))]
    records = run_seeds(configs, out=Path(out))
    errors = [r["error"] for r in records if r["error"]]
    print(json.dumps({"errors": errors, "summaries": [r["summary"] for r in records], "rss_mb": _peak_rss_mb()}))


# -- parent -----------------------------------------------------------------------------------
def _same(a: dict, b: dict) -> bool:
    """Two summaries equal but for their wall time."""
    a, b = json.loads(json.dumps(a)), json.loads(json.dumps(b))
    for s in (a, b):
        s["budget"].pop("wall_s")
    return a == b


def measure_once(config: str, n_seeds: int, core: int | None, tmp: Path, lone: bool) -> dict[str, float]:
    out = tmp / f"r{time.time_ns()}"
    out.mkdir()
    one_out, one_s, one_cpu_s = _launch([__file__, "--child", "one", config, str(out / "one")], core)
    batch_out, batch_s, batch_cpu_s = _launch([__file__, "--child", "batch", config, str(out / "batch"),
                                               str(n_seeds)], core)
    one, batch = json.loads(one_out.splitlines()[-1]), json.loads(batch_out.splitlines()[-1])
    if batch["errors"]:
        raise SystemExit(f"batched process: {batch['errors']}")
    row = {"one_s": one_s, "batch_s": batch_s, "ratio": batch_s / one_s, "one_cpu_s": one_cpu_s,
           "batch_cpu_s": batch_cpu_s, "cpu_ratio": batch_cpu_s / one_cpu_s, "one_rss_mb": one["rss_mb"],
           "batch_rss_mb": batch["rss_mb"],
           "mb_per_extra_seed": (batch["rss_mb"] - one["rss_mb"]) / max(1, n_seeds - 1),
           "seed_wall_s": statistics.median(s["budget"]["wall_s"] for s in batch["summaries"]),
           "first_seed_equal": float(_same(one["summary"], batch["summaries"][0]))}
    if lone:
        base = json.loads(one_out.splitlines()[-1])["summary"]["seed"]
        t0, cpu0 = time.perf_counter(), _children_cpu_s()
        for k in range(n_seeds):
            _launch(["-m", "robot_twitch.cli", "run", config, "--out", str(out / "lone"), "--quiet", "--set",
                     f"seed={base + k}"], core)
        row["lone_s"], row["lone_cpu_s"] = time.perf_counter() - t0, _children_cpu_s() - cpu0
        row["lone_ratio"] = row["lone_s"] / one_s
    return row


def profile_batch(config: str, n_seeds: int, core: int | None, tmp: Path) -> None:
    import pstats

    prof = tmp / "batch.prof"
    _, wall_s, cpu_s = _launch([__file__, "--child", "batch", config, str(tmp / "prof"), str(n_seeds), str(prof)],
                               core)
    stats = pstats.Stats(str(prof)).stats  # {(file, line, name): (cc, nc, tt, ct, callers)}
    total = max(ct for (_, _, _), (_, _, _, ct, _) in stats.items())

    def cum(file: str, name: str) -> float:
        cls = None
        if ":" in name:
            name, cls = name.split(":")
        found = 0.0
        for (path, line, func), (_, _, _, ct, _) in stats.items():
            if path.endswith(file) and func == name:
                if cls is not None:
                    with open(path) as f:  # the hook class the method belongs to
                        lines = f.read().splitlines()[: line]
                    owner = next((ln for ln in reversed(lines) if ln.startswith("class ")), "")
                    if not owner.startswith(f"class {cls}"):
                        continue
                found += ct
        return found

    print(f"\nprofile of the batched process ({n_seeds} seeds; {wall_s:.1f} s wall, {cpu_s:.1f} s CPU, "
          f"{total:.1f} s under cProfile):")
    print("| part | cumulative s | share |")
    print("|---|---|---|")
    run_s = cum("robot_twitch/seeds.py", "run_seeds")
    session_s = cum("robot_twitch/experiment.py", "__init__:RunSession")
    print(f"| {PROFILE_PARTS[0][0]} | {total - run_s + session_s:.1f} | {(total - run_s + session_s) / total:.0%} |")
    for label, key in PROFILE_PARTS[1:]:
        s = cum(*key)
        print(f"| {label} | {s:.1f} | {s / total:.0%} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="quickstart")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--core", type=int, default=0, help="pin every child to this core (-1: no pinning)")
    ap.add_argument("--lone", action="store_true", help="also time the K seeds as K run processes")
    ap.add_argument("--profile", action="store_true", help="profile the batched process once more")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        (child_one if kind == "one" else child_batch)(*rest)
        return
    core = None if args.core < 0 else args.core
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_seeds-") as tmp:
        for r in range(args.repeats):
            row = measure_once(args.config, args.seeds, core, Path(tmp), args.lone)
            rows.append(row)
            lone = (f", {args.seeds} lone processes {row['lone_s']:.1f} s (CPU {row['lone_cpu_s']:.1f}, "
                    f"{row['lone_ratio']:.2f}x one run)") if args.lone else ""
            print(f"repeat {r + 1}: one run {row['one_s']:.2f} s (CPU {row['one_cpu_s']:.2f}), batched "
                  f"{args.seeds} seeds {row['batch_s']:.2f} s (CPU {row['batch_cpu_s']:.2f}): ratio "
                  f"{row['ratio']:.2f} (CPU {row['cpu_ratio']:.2f}){lone}; peak RSS one {row['one_rss_mb']:.0f} MB, "
                  f"batched {row['batch_rss_mb']:.0f} MB; seed 0 equal: {bool(row['first_seed_equal'])}", flush=True)
        if args.profile:
            profile_batch(args.config, args.seeds, core, Path(tmp))
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    print(f"\n{args.config}, {args.seeds} seeds, {args.repeats} repeats, pinned to core {core}, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(f"| | one run | {args.seeds} seeds batched | batched / one (median of ratios) |"
          + (f" {args.seeds} run processes | their / one |" if args.lone else ""))
    print("|---|---|---|---|" + ("---|---|" if args.lone else ""))
    print(f"| wall [s] | {med['one_s']:.2f} | {med['batch_s']:.2f} | {med['ratio']:.2f} |"
          + (f" {med['lone_s']:.1f} | {med['lone_ratio']:.2f} |" if args.lone else ""))
    print(f"| CPU of the child [s] | {med['one_cpu_s']:.2f} | {med['batch_cpu_s']:.2f} | {med['cpu_ratio']:.2f} |"
          + (f" {med['lone_cpu_s']:.1f} | {med['lone_cpu_s'] / med['one_cpu_s']:.2f} |" if args.lone else ""))
    print(f"| peak RSS [MB] | {med['one_rss_mb']:.0f} | {med['batch_rss_mb']:.0f} | "
          f"{med['mb_per_extra_seed']:.1f} MB per extra seed (limb) |" + (" | |" if args.lone else ""))
    print(f"\nper-seed budget.wall_s in the batched process (median): {med['seed_wall_s']:.2f} s; "
          f"seed 0 batched == alone (summary but wall_s): {all(r['first_seed_equal'] for r in rows)}")


if __name__ == "__main__":
    main()
