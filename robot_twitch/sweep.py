"""Many runs: the product of a grid and seeds, on local processes (default) or a Ray cluster.

A failed run is reported and the others are kept. The aggregate table gives the mean and 95%
confidence interval (Student t) of each final metric per condition, as CSV and Markdown, and
comparison plots of the learning curves with CI bands.
"""

from __future__ import annotations

import csv
import itertools
import json
import multiprocessing
import re
import sys
import textwrap
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from robot_twitch.config import load_config, parse_override
from robot_twitch.errors import ConfigError
from robot_twitch.rundir import check_writable_folder


def parse_grid(grid: list[str]) -> dict[str, list[Any]]:
    """['a.b=1,2', 'c=x,y'] -> {'a.b': [1, 2], 'c': ['x', 'y']}."""
    out: dict[str, list[Any]] = {}
    for text in grid:
        key, _ = parse_override(text)
        raw = text.split("=", 1)[1]
        values = [parse_override(f"{key}={v}")[1] for v in raw.split(",") if v.strip()]
        if not values:
            raise ConfigError(None, "--grid", f"{text!r} has no values; expected KEY=V1,V2")
        out[key] = values
    return out


def condition_slug(condition: dict[str, Any]) -> str:
    """A file-name-safe label of a condition: {'drive.kind': 'ou'} -> 'kind-ou'."""
    parts = [f"{key.split('.')[-1]}-{json.dumps(v) if not isinstance(v, str) else v}" for key, v in condition.items()]
    slug = re.sub(r"[^A-Za-z0-9.+-]+", "_", "_".join(parts)).strip("_")
    return slug[:80]


def _run_batch(config_path: str, runs: list[list[str]], out: str, label: str = "") -> list[dict[str, Any]]:
    """Worker: one condition's seeds (one override list each) in one process, stepped in lockstep
    (robot_twitch.seeds); never raises: a failed run is reported and the others kept."""
    from robot_twitch.seeds import run_seeds

    records: list[dict[str, Any] | None] = [None] * len(runs)
    configs, index = [], []
    for k, overrides in enumerate(runs):
        try:
            configs.append(load_config(config_path, overrides))
            index.append(k)
        except Exception as exc:
            records[k] = {"run_dir": None, "summary": None, "error": f"{type(exc).__name__}: {exc}",
                          "traceback": traceback.format_exc()}
    try:
        for k, record in zip(index, run_seeds(configs, out=Path(out), label=label), strict=True):
            records[k] = record
    except BaseException as exc:  # the process itself broke (e.g. a KeyboardInterrupt): report every run
        for k in index:
            if records[k] is None:
                records[k] = {"run_dir": None, "summary": None, "error": f"{type(exc).__name__}: {exc}",
                              "traceback": traceback.format_exc()}
    return [{"overrides": overrides, **record} for overrides, record in zip(runs, records, strict=True)]


def seed_batches(n_seeds: int, per_process: int) -> list[list[int]]:
    """Seed indices 0..n_seeds-1 in consecutive batches of at most ``per_process``."""
    return [list(range(k, min(k + per_process, n_seeds))) for k in range(0, n_seeds, per_process)]


def _number(value: Any) -> float:
    """A summary value as a float; words such as "not within the run" become NaN."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else float("nan")


def mean_ci95(values: np.ndarray) -> tuple[float, float]:
    """Mean and half-width of the 95% t confidence interval (finite values only)."""
    from scipy import stats

    values = np.array([_number(v) for v in np.ravel(np.asarray(values, dtype=object))], dtype=float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    if len(values) == 1:
        return float(values[0]), float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    return float(values.mean()), float(half)


class SweepProgress:
    """One stderr line per finished run: runs done of all, failures, elapsed and estimated time left."""

    def __init__(self, total: int, quiet: bool = False) -> None:
        self.total, self.quiet = total, quiet
        self.finished = self.failed = 0
        self.start = time.perf_counter()

    def done(self, record: dict[str, Any]) -> None:
        self.finished += 1
        self.failed += record.get("error") is not None
        if self.quiet:
            return
        elapsed = time.perf_counter() - self.start
        left = elapsed / self.finished * (self.total - self.finished)
        failed = f", {self.failed} failed" if self.failed else ""
        print(f"sweep: {self.finished}/{self.total} runs done{failed}, {_duration(elapsed)} elapsed, "
              f"about {_duration(left)} left", file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


def run_sweep(config: str, grid: list[str], seeds: int | None, overrides: list[str] | None = None,
              out: Path = Path("runs"), backend: str = "local", workers: int = 2,
              address: str | None = None, quiet: bool = False, seeds_per_process: int = 1) -> Path:
    """Run the grid x seeds; write sweep.json, aggregate.csv/.md and plots; return the sweep dir.

    The seeds of a condition are handed out in batches of ``seeds_per_process``, each batch one
    process (a local worker or a Ray task) that steps its seeds in lockstep (robot_twitch.seeds);
    every seed gets the results of its lone run. A batch pays the process start-up once and needs
    ~44 MB per extra seed instead of a ~270 MB process; the default, 1, was the faster on the
    2-core machine it was measured on (docs/benchmarks.md, "Seeds batched in one process").

    Run directories are named after their condition and seed (NAME-KEY-VALUE-seedS-STAMP); a
    line on stderr after each run gives the runs done and the time left (unless `quiet`).
    """
    overrides = list(overrides or [])
    base = load_config(config, overrides)  # validate before anything runs or is written
    axes = parse_grid(grid) if grid else {k: list(v) for k, v in base.sweep.grid.items()}
    seeds = base.sweep.seeds if seeds is None else seeds
    for key, values in axes.items():  # validate every grid value up front
        for v in values:
            load_config(config, [*overrides, f"{key}={json.dumps(v)}"])
    if seeds < 1:
        raise ConfigError(None, "--seeds", f"{seeds!r} must be >= 1")
    if seeds_per_process < 1:
        raise ConfigError(None, "--seeds-per-process", f"{seeds_per_process!r} must be >= 1")
    check_writable_folder(out)
    conditions = [dict(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())] or [{}]
    sweep_dir = out / f"sweep-{base.name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    sweep_dir.mkdir(parents=True)
    jobs = []  # (condition, its seeds' override lists): one process each
    for condition in conditions:
        sets = [[*overrides, *(f"{key}={json.dumps(v)}" for key, v in condition.items()), f"seed={base.seed + k}"]
                for k in range(seeds)]
        jobs.extend((condition, [sets[k] for k in batch]) for batch in seed_batches(seeds, seeds_per_process))
    runs_dir = str(sweep_dir / "runs")
    progress = SweepProgress(len(conditions) * seeds, quiet=quiet)
    batches: list[list[dict[str, Any]]]  # per job, one record per seed
    if backend == "ray":
        batches = _run_ray(config, jobs, runs_dir, address, progress)
    else:
        # spawn, not fork: torch and Bullet threads in the parent must not be copied mid-lock.
        context = multiprocessing.get_context("spawn")
        batches = [[]] * len(jobs)
        with ProcessPoolExecutor(max_workers=max(1, workers), mp_context=context) as pool:
            futures = {pool.submit(_run_batch, config, runs, runs_dir, condition_slug(cond)): k
                       for k, (cond, runs) in enumerate(jobs)}
            for future in as_completed(futures):
                batches[futures[future]] = future.result()
                for record in batches[futures[future]]:
                    progress.done(record)
    records = [{"condition": cond, **res} for (cond, _), batch in zip(jobs, batches, strict=True) for res in batch]
    (sweep_dir / "sweep.json").write_text(json.dumps(records, indent=2, default=float))
    write_aggregate(sweep_dir, records)
    failed = [r for r in records if r["error"]]
    for r in failed:
        print(f"robot-twitch: run failed ({' '.join(r['overrides'])}): {r['error']}")
    return sweep_dir


def _run_ray(config: str, jobs: list[tuple[dict, list[list[str]]]], runs_dir: str, address: str | None,
             progress: SweepProgress) -> list[list[dict]]:
    try:
        import ray
    except ImportError:
        raise ConfigError(None, "--backend", "'ray' needs the ray extra: pip install 'robot_twitch[ray]'") from None
    started = not ray.is_initialized()
    if started:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 **({} if address else {"num_cpus": 2}))
    try:
        remote = ray.remote(_run_batch)
        refs = [remote.remote(config, runs, runs_dir, condition_slug(cond)) for cond, runs in jobs]
        index = {ref: k for k, ref in enumerate(refs)}
        results: list[list[dict[str, Any]]] = [[]] * len(refs)
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for ref in ready:
                results[index[ref]] = ray.get(ref)
                for record in results[index[ref]]:
                    progress.done(record)
        return results
    finally:
        if started:
            ray.shutdown()


def condition_label(condition: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in condition.items()) or "base"


BUDGET_NAMES = ("twitches", "energy", "simulated_s")
LEGEND_WRAP_CHARS = 70
LEGEND_CHARS_PER_IN = 15


def aggregate_rows(records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Per condition: {"condition", "n", name: (mean, ci95 half-width)}; and the names, budget first."""
    groups: dict[str, list[dict]] = {}
    for r in records:
        if r["summary"] is not None:
            groups.setdefault(condition_label(r["condition"]), []).append(r)
    metric_names = sorted({k for rs in groups.values() for r in rs for k in r["summary"]["metrics"]})
    rows = []
    for label, rs in groups.items():
        row: dict[str, Any] = {"condition": label, "n": len(rs)}
        for name in BUDGET_NAMES:
            row[name] = mean_ci95(np.array([r["summary"]["budget"][name] for r in rs]))
        for name in metric_names:
            row[name] = mean_ci95(np.array([r["summary"]["metrics"].get(name, np.nan) for r in rs]))
        rows.append(row)
    return rows, [*BUDGET_NAMES, *metric_names]


def write_aggregate(sweep_dir: Path, records: list[dict[str, Any]]) -> None:
    """aggregate.csv / aggregate.md (mean and 95% CI per condition) and plots/curves.png."""
    rows, names = aggregate_rows(records)
    with open(sweep_dir / "aggregate.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["condition", "n", *(c for name in names for c in (f"{name}_mean", f"{name}_ci95"))])
        for row in rows:
            writer.writerow([row["condition"], row["n"], *(v for name in names for v in row[name])])
    lines = ["| condition | n | " + " | ".join(names) + " |", "|---" * (2 + len(names)) + "|"]
    for row in rows:
        cells = [f"{row[n][0]:.3g} ± {row[n][1]:.2g}" for n in names]
        lines.append(f"| {row['condition']} | {row['n']} | " + " | ".join(cells) + " |")
    if any(row["n"] < 3 for row in rows):
        lines.append("")
        lines.append("Conditions with n < 3 seeds: the 95% interval is unreliable (n = 1: none, shown as nan).")
    (sweep_dir / "aggregate.md").write_text("\n".join(lines) + "\n")
    groups: dict[str, list[dict]] = {}
    for r in records:
        if r["summary"] is not None:
            groups.setdefault(condition_label(r["condition"]), []).append(r)
    plot_sweep_curves(sweep_dir, groups)


def plot_sweep_curves(sweep_dir: Path, groups: dict[str, list[dict]]) -> None:
    """Learning curves (mean and 95% CI band over seeds) per condition, one panel per metric.

    A condition scored once is drawn as points; bands from fewer than 3 seeds are hatched and
    say so in the legend (one seed: no band); values outside the axis are marked on its edge.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from robot_twitch.plots import CURVE_METRICS, mark_clipped

    curves: dict[str, dict[str, tuple[np.ndarray, np.ndarray]]] = {}
    for label, rs in groups.items():
        tables = []
        for r in rs:
            path = Path(r["run_dir"]) / "metrics.csv"
            if path.is_file():
                with open(path) as f:
                    tables.append(list(csv.DictReader(f)))
        tables = [t for t in tables if t]
        if not tables:
            continue
        n = min(len(t) for t in tables)
        t = np.array([float(row["time_s"]) for row in tables[0][:n]])
        curves[label] = {m: (t, np.array([[float(row.get(m) or np.nan) for row in tab[:n]] for tab in tables]))
                         for m in CURVE_METRICS if m in tables[0][0]}
    metrics = sorted({m for c in curves.values() for m in c})
    if not metrics:
        return
    (sweep_dir / "plots").mkdir(exist_ok=True)
    n_cols = min(3, len(metrics))
    n_rows = -(-len(metrics) // n_cols)
    # Long condition labels (a grid over a whole block, e.g. drive.twitch={...}) are wrapped and
    # get one legend column, and the figure grows by the legend's height so nothing is cut off.
    wrapped = {label: textwrap.fill(label, LEGEND_WRAP_CHARS) for label in curves}
    # Columns that fit across the figure: ~15 characters of 8 pt text per inch, plus the handle.
    fit_cols = max(1, int(4.2 * n_cols * LEGEND_CHARS_PER_IN) // (max(len(label) for label in curves) + 6))
    legend_cols = 1 if max(len(label) for label in curves) > LEGEND_WRAP_CHARS else min(3, len(curves), fit_cols)
    lines = [w.count("\n") + 1 for w in wrapped.values()]
    legend_lines = sum(max(lines[k:k + legend_cols]) for k in range(0, len(lines), legend_cols))
    legend_in = 0.2 + 0.17 * legend_lines
    height_in = 3.2 * n_rows + legend_in
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(4.2 * n_cols, height_in), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    handles: dict[str, Any] = {}
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for k, (label, c) in enumerate(curves.items()):
            if metric not in c:
                continue
            t, values = c[metric]
            n_seeds = values.shape[0]
            stats = [mean_ci95(values[:, j]) for j in range(values.shape[1])]
            mean = np.array([s[0] for s in stats])
            half = np.array([s[1] for s in stats])
            colour = colours[k % len(colours)]
            flag = "" if n_seeds >= 3 else (" (1 seed: no CI)" if n_seeds == 1 else f" ({n_seeds} seeds: CI unreliable)")
            (line,) = ax.plot(t, mean, color=colour, marker="o" if len(t) < 8 else None, ms=4,
                              label=f"{wrapped[label]}{flag}")
            if n_seeds > 1 and np.isfinite(half).any():
                ax.fill_between(t, mean - half, mean + half, color=colour, alpha=0.2,
                                hatch="//" if n_seeds < 3 else None, linewidth=0)
            handles.setdefault(line.get_label(), line)
        ax.set_title(metric, fontsize=9)
        ax.set_xlabel("simulated time (s)")
        ax.grid(alpha=0.3)
        if metric != "forward.nrmse":
            ax.set_ylim(-0.05, 1.05)
            mark_clipped(ax, -0.05, 1.05)
    for ax in list(axes.flat)[len(metrics):]:
        ax.set_visible(False)
    # One legend below the panels, never over the data.
    fig.legend(list(handles.values()), list(handles), loc="lower center", ncol=legend_cols, fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, legend_in / height_in, 1, 1))
    fig.savefig(sweep_dir / "plots" / "curves.png", dpi=110)
    plt.close(fig)
