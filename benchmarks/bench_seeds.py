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
prints where its time goes. `--parts` times only what batching the physics (VectorSimulation,
one client per limb) or the forward model (one K-model MLPStack) would save per seed. `--sweep P
...` times the whole `robot-twitch sweep` command on 2 workers for each seeds-per-process P;
`--order D` compares, in one process, K seeds in lockstep with K seeds one after the other.

    python benchmarks/bench_seeds.py --seeds 10 --repeats 3 --profile   # quickstart, 600 simulated s
    python benchmarks/bench_seeds.py --seeds 10 --repeats 5 --parts
    python benchmarks/bench_seeds.py --seeds 10 --sweep 1 5          # the sweep command, 2 workers
    python benchmarks/bench_seeds.py --seeds 5 --repeats 3 --order 120   # lockstep vs one after the other
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


def child_parts(config: str, n_seeds: str, repeats: str) -> None:
    """What batching the physics or the forward model across K seeds would save, in this process:
    K Simulations stepped in turn vs one VectorSimulation of K limbs with one client per limb
    (bit-identical), and K forward-model Adam steps vs one step of a K-model MLPStack
    (bit-identical); CPU time, median of the repeats."""
    import numpy as np

    from robot_twitch.body.spec import load_body
    from robot_twitch.config import load_config
    from robot_twitch.experiment import ExperimentRun
    from robot_twitch.learn.mlp import MLPStack, init_params, layer_sizes
    from robot_twitch.sim import Simulation
    from robot_twitch.threads import one_blas_thread
    from robot_twitch.vector_sim import VectorSimulation

    cfg, k, reps = load_config(config), int(n_seeds), int(repeats)
    body = load_body(cfg.body)
    n_steps = 2000
    u = np.random.default_rng(0).random((n_steps, k, len(body.muscle_names))) * 0.3
    sims = [Simulation(body, cfg.sim) for _ in range(k)]
    vector = VectorSimulation(body, k, cfg.sim, limbs_per_world=1)
    loop_us, vector_us = [], []
    for _ in range(reps):
        t0 = time.process_time()
        for t in range(n_steps):
            for i, sim in enumerate(sims):
                sim.step(u[t, i])
        loop_us.append((time.process_time() - t0) / n_steps / k * 1e6)
        t0 = time.process_time()
        for t in range(n_steps):
            vector.step(u[t])
        vector_us.append((time.process_time() - t0) / n_steps / k * 1e6)
    same = np.array_equal(np.array([s.state.joint_pos_rad for s in sims]), vector.joint_pos_rad)
    run = ExperimentRun(cfg)
    fwd = cfg.learners.params.get("forward", {})
    n_s, n_m = run.layout.size, len(body.muscle_names)
    run.close()
    from robot_twitch.learn.forward import DEFAULT_BATCH_SIZE, DEFAULT_HIDDEN

    hidden, batch = tuple(fwd.get("hidden", DEFAULT_HIDDEN)), int(fwd.get("batch_size", DEFAULT_BATCH_SIZE))
    sizes = layer_sizes(n_s + n_m, hidden, n_s)
    rng = np.random.default_rng(0)
    params = np.stack([init_params(sizes, rng, skip=True) for _ in range(k)])
    stack = MLPStack(sizes, params, 3e-3, 0.0, 0.995, "cpu", skip=True)
    singles = [MLPStack(sizes, params[i:i + 1].copy(), 3e-3, 0.0, 0.995, "cpu", skip=True) for i in range(k)]
    x = rng.standard_normal((k, batch, n_s + n_m)).astype(np.float32)
    y = rng.standard_normal((k, batch, n_s)).astype(np.float32)
    stack_ms, single_ms = [], []
    with one_blas_thread():
        for _ in range(reps):
            t0 = time.process_time()
            for _ in range(30):
                stack.train_step(x, y)
            stack_ms.append((time.process_time() - t0) / 30 * 1e3)
            t0 = time.process_time()
            for _ in range(30):
                for i in range(k):
                    singles[i].train_step(x[i:i + 1], y[i:i + 1])
            single_ms.append((time.process_time() - t0) / 30 * 1e3)
    same_net = all(np.array_equal(stack.params[i], singles[i].params[0]) for i in range(k))
    print(json.dumps({"loop_us": statistics.median(loop_us), "vector_us": statistics.median(vector_us),
                      "physics_same": bool(same), "stack_ms": statistics.median(stack_ms),
                      "singles_ms": statistics.median(single_ms), "net_same": bool(same_net),
                      "hidden": list(hidden), "batch": batch, "n_in": n_s + n_m, "n_out": n_s}))


def child_order(config: str, n_seeds: str, repeats: str, duration_s: str) -> None:
    """CPU time of K seeds in this process, in lockstep (run_seeds) and one after the other
    (run_experiment K times), alternated; after a warm-up run."""
    import tempfile

    from robot_twitch.config import load_config
    from robot_twitch.experiment import run_experiment
    from robot_twitch.seeds import run_seeds

    base = load_config(config)
    configs = [load_config(config, [f"duration_s={duration_s}", f"seed={base.seed + k}"]) for k in range(int(n_seeds))]
    with tempfile.TemporaryDirectory() as tmp:
        run_seeds([load_config(config, ["duration_s=10"])], out=Path(tmp) / "warm")
        rows = []
        for r in range(int(repeats)):
            t0 = time.process_time()
            run_seeds(configs, out=Path(tmp) / f"lock{r}")
            lock_s = time.process_time() - t0
            t0 = time.process_time()
            for c in configs:
                run_experiment(c, out=Path(tmp) / f"seq{r}", progress_bar=False)
            rows.append((lock_s, time.process_time() - t0))
    print(json.dumps({"lockstep_s": statistics.median(a for a, _ in rows),
                      "sequential_s": statistics.median(b for _, b in rows),
                      "ratios": [a / b for a, b in rows]}))


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


def sweep_table(config: str, n_seeds: int, per_process: list[int], workers: int) -> None:
    """Wall time of `robot-twitch sweep CONFIG --seeds K --workers W --seeds-per-process P` for each
    P, beside one `robot-twitch run` (not pinned: the workers need every core), in one session."""
    with tempfile.TemporaryDirectory(prefix="bench_seeds-") as tmp:
        _, one_s, one_cpu_s = _launch(["-m", "robot_twitch.cli", "run", config, "--out", f"{tmp}/one", "--quiet"],
                                      None)
        print(f"one run: {one_s:.1f} s wall, {one_cpu_s:.1f} s CPU", flush=True)
        print("| --seeds-per-process | processes | sweep wall [s] | / one run | CPU of all workers [s] |")
        print("|---|---|---|---|---|")
        for p in per_process:
            _, sweep_s, sweep_cpu_s = _launch(
                ["-m", "robot_twitch.cli", "sweep", config, "--seeds", str(n_seeds), "--workers", str(workers),
                 "--seeds-per-process", str(p), "--out", f"{tmp}/p{p}", "--quiet"], None)
            print(f"| {p} | {-(-n_seeds // p)} | {sweep_s:.1f} | {sweep_s / one_s:.2f} | {sweep_cpu_s:.1f} |",
                  flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="quickstart")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--core", type=int, default=0, help="pin every child to this core (-1: no pinning)")
    ap.add_argument("--lone", action="store_true", help="also time the K seeds as K run processes")
    ap.add_argument("--profile", action="store_true", help="profile the batched process once more")
    ap.add_argument("--parts", action="store_true",
                    help="only time batching the physics (VectorSimulation) and the forward model (MLPStack)")
    ap.add_argument("--sweep", type=int, nargs="+", metavar="P",
                    help="only time `robot-twitch sweep --seeds K --seeds-per-process P` for each P beside one run")
    ap.add_argument("--workers", type=int, default=2, help="the sweep's workers (with --sweep)")
    ap.add_argument("--order", type=float, default=None, metavar="DURATION_S",
                    help="only compare K seeds in one process in lockstep vs one after the other (CPU time)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        {"one": child_one, "batch": child_batch, "parts": child_parts, "order": child_order}[kind](*rest)
        return
    if args.order:
        out, _, _ = _launch([__file__, "--child", "order", args.config, str(args.seeds), str(args.repeats),
                             str(args.order)], None if args.core < 0 else args.core)
        r = json.loads(out.splitlines()[-1])
        print(f"{args.config} at {args.order} simulated s, {args.seeds} seeds in one process, CPU time, median of "
              f"{args.repeats}: lockstep {r['lockstep_s']:.2f} s, one after the other {r['sequential_s']:.2f} s, "
              f"ratio {statistics.median(r['ratios']):.3f} ({', '.join(f'{x:.3f}' for x in r['ratios'])})")
        return
    if args.parts:
        out, _, _ = _launch([__file__, "--child", "parts", args.config, str(args.seeds), str(args.repeats)],
                            None if args.core < 0 else args.core)
        r = json.loads(out.splitlines()[-1])
        print(f"{args.config}, K = {args.seeds}, CPU time, median of {args.repeats}:")
        print(f"physics per limb and control step: {args.seeds} Simulations {r['loop_us']:.1f} us, one "
              f"VectorSimulation (one client per limb) {r['vector_us']:.1f} us: {r['loop_us'] / r['vector_us']:.2f}x "
              f"(bit-identical after the runs: {r['physics_same']})")
        print(f"forward model, one Adam step of all {args.seeds} (net {r['n_in']}-{r['hidden']}-{r['n_out']} + skip, "
              f"minibatch {r['batch']}): {args.seeds} single steps {r['singles_ms']:.2f} ms, one {args.seeds}-model "
              f"MLPStack step {r['stack_ms']:.2f} ms: {r['singles_ms'] / r['stack_ms']:.2f}x "
              f"(bit-identical: {r['net_same']})")
        return
    core = None if args.core < 0 else args.core
    if args.sweep:
        sweep_table(args.config, args.seeds, args.sweep, args.workers)
        return
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
