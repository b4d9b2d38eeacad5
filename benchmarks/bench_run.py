"""A whole `robot-twitch run` against stepping its env alone, and the CLI's start-up.

Measures, interleaved in every repeat, each in a fresh process pinned to one core:

- **env alone**: the config's body in `RobotTwitch/Limb-v0` (same SimConfig and SensorConfig),
  stepped for the config's duration with the excitations of the config's drive (precomputed
  before the clock starts); only the stepping loop is timed, not the imports or the set-up.
- **whole run**: wall time of the `robot-twitch run CONFIG --quiet` process, from launch to exit
  (imports, simulation, learners, scoring, checkpoints, reach test, outputs and plots).
- **--help**: wall time of the `robot-twitch --help` process.
- **first step**: from launching `robot-twitch run CONFIG` to the start of its first
  `Simulation.step` (the child records the time and exits there).

Reports medians and the ratio whole run / env alone per repeat (median of the ratios); beside
each wall time, the CPU time (user + sys) of the child process, which a busy machine inflates
less (the env alone's CPU time covers the whole child, set-up included).

    python benchmarks/bench_run.py --repeats 3            # quickstart, 600 simulated s
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


def _env(core: int | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _launch(args: list[str], core: int | None, **kwargs) -> tuple[subprocess.CompletedProcess, float]:
    """Run a child to its end; returns it and its CPU time [s]."""
    def pin() -> None:
        if core is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {core})

    before = _children_cpu_s()
    done = subprocess.run([sys.executable, *args], env=_env(core), preexec_fn=pin, check=True,
                          capture_output=True, text=True, **kwargs)
    return done, _children_cpu_s() - before


# -- children ---------------------------------------------------------------------------------
def child_env(config_name: str) -> None:
    """Step Limb-v0 with the config's drive for the config's duration; print the seconds."""
    import gymnasium as gym
    import numpy as np

    import robot_twitch  # noqa: F401  (registers the ids)
    from robot_twitch.body.spec import load_body
    from robot_twitch.config import load_config
    from robot_twitch.motor import make_drive

    cfg = load_config(config_name)
    body = load_body(cfg.body)
    dt = cfg.sim.control_dt_s
    n_steps = int(round(cfg.duration_s * cfg.sim.control_hz))
    drive = make_drive(cfg.drive.kind, body.muscles, dt, cfg.drive.selected(),
                       np.random.default_rng(cfg.seed))
    actions = [np.asarray(drive.step(), dtype=np.float32) for _ in range(n_steps)]
    env = gym.make("RobotTwitch/Limb-v0", body=body, sim_config=cfg.sim, sensor_config=cfg.sensors,
                   max_episode_steps=n_steps + 1)
    env.reset(seed=cfg.seed)
    step = env.step
    start = time.perf_counter()
    for a in actions:
        step(a)
    elapsed = time.perf_counter() - start
    env.close()
    print(json.dumps({"env_s": elapsed, "steps": n_steps}))


def child_first_step(config_name: str, out: str) -> None:
    """Run the CLI; at the start of the first Simulation.step print the wall clock and exit."""
    import runpy

    import robot_twitch.sim as sim

    def first_step(self, *args, **kwargs):
        print(json.dumps({"first_step_at": time.time()}), flush=True)
        os._exit(0)

    sim.Simulation.step = first_step
    sys.argv = ["robot-twitch", "run", config_name, "--out", out, "--quiet"]
    runpy.run_module("robot_twitch.cli", run_name="__main__")


# -- parent -----------------------------------------------------------------------------------
def measure_once(config: str, core: int | None, out: Path) -> dict[str, float]:
    env, env_cpu_s = _launch([__file__, "--child", "env", config], core)
    env_s = json.loads(env.stdout)["env_s"]
    t0 = time.perf_counter()
    run, run_cpu_s = _launch(["-m", "robot_twitch.cli", "run", config, "--out", str(out), "--quiet"], core)
    run_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, help_cpu_s = _launch(["-m", "robot_twitch.cli", "--help"], core)
    help_s = time.perf_counter() - t0
    t0 = time.time()
    first, first_cpu_s = _launch([__file__, "--child", "first", config, str(out)], core)
    first_s = json.loads(first.stdout)["first_step_at"] - t0
    summary_line = run.stdout.strip().splitlines()[0]
    return {"env_s": env_s, "run_s": run_s, "ratio": run_s / env_s, "help_s": help_s,
            "first_step_s": first_s, "env_cpu_s": env_cpu_s, "run_cpu_s": run_cpu_s,
            "help_cpu_s": help_cpu_s, "first_cpu_s": first_cpu_s,
            "summary": summary_line}  # type: ignore[dict-item]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="quickstart")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--core", type=int, default=0, help="pin every child to this core (-1: no pinning)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        kind, *rest = args.child
        (child_env if kind == "env" else child_first_step)(*rest)
        return
    core = None if args.core < 0 else args.core
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench_run-") as tmp:
        for r in range(args.repeats):
            row = measure_once(args.config, core, Path(tmp))
            rows.append(row)
            print(f"repeat {r + 1}: env alone {row['env_s']:.2f} s, whole run {row['run_s']:.2f} s "
                  f"(ratio {row['ratio']:.2f}), --help {row['help_s']:.3f} s, "
                  f"first step at {row['first_step_s']:.2f} s; CPU s: env child {row['env_cpu_s']:.2f}, "
                  f"run {row['run_cpu_s']:.2f}, --help {row['help_cpu_s']:.3f}, first step "
                  f"{row['first_cpu_s']:.2f}", flush=True)
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k != "summary"}
    print(f"\n{args.config}, {args.repeats} repeats, pinned to core {core}, load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print("| | env alone (stepping) | whole run | run / env (median of ratios) | --help | first step |")
    print("|---|---|---|---|---|---|")
    print(f"| wall [s] | {med['env_s']:.2f} | {med['run_s']:.2f} | {med['ratio']:.2f} | {med['help_s']:.3f} | "
          f"{med['first_step_s']:.2f} |")
    print(f"| CPU of the child [s] | {med['env_cpu_s']:.2f} (whole child) | {med['run_cpu_s']:.2f} | | "
          f"{med['help_cpu_s']:.3f} | {med['first_cpu_s']:.2f} |")
    print(f"\nrun's summary line: {rows[-1]['summary']}")


if __name__ == "__main__":
    main()
