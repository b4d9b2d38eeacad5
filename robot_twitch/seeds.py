"""The seeds of one condition in one process: their runs stepped in lockstep, batch by batch.

``run_seeds(configs)`` opens one run session (robot_twitch.experiment.RunSession) per seed, each
with its own run directory, Bullet world, drive, sensors, learners and generators, exactly as
``robot-twitch run`` builds them, and then advances them in turn: one batch of seed 0, one of
seed 1, ..., so all seeds move through simulated time together. A seed reaches the same numbers
as when it runs alone (tests/test_seeds.py compares summary.json, metrics.csv, the body map and the
learners' states bit for bit): nothing is shared between the seeds but the process, its imports,
its compiled kernels and the loaded body files. Each seed's ``budget.wall_s`` counts only the time
spent on that seed's own batches.

A seed that fails (diverged physics, an error in a hook, a stop request) gets its run directory
marked as a lone run's would be ("failed", "diverged", "interrupted" with a checkpoint to
``robot-twitch run --resume``) and leaves the lockstep; the others go on. SIGINT/SIGTERM stop
every seed at its next batch, each with a resumable checkpoint.

What is not batched across seeds, and why (measured; docs/benchmarks.md, "Seeds batched in one
process"): the physics stays one Simulation per seed (VectorSimulation with one client per limb is
bit-identical and 1.3x faster per step, but a run rebuilds its world at every checkpoint and after
body changes, which VectorSimulation does not do per limb), and every learner trains per seed
(learn/mlp.MLPStack trains K forward models as one stack bit for bit, but on this CPU a stacked
step of 10 models takes 1.1x the time of 10 single steps: the 512 x 64 products are bound by
arithmetic, not by per-call overhead; a GPU would change that).
"""

from __future__ import annotations

import traceback
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from robot_twitch.config import ExperimentConfig
from robot_twitch.experiment import RunSession, stop_on_signals
from robot_twitch.threads import one_blas_thread

__all__ = ["run_seeds"]


def _failure(exc: BaseException) -> dict[str, Any]:
    return {"run_dir": None, "summary": None, "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc()}


@one_blas_thread()  # small matrices only: see robot_twitch/threads.py
def run_seeds(configs: Sequence[ExperimentConfig | None], out: Path = Path("runs"), label: str = "",
              resume: Sequence[Path | None] | None = None,
              hooks: Sequence[Iterable[Any]] | None = None) -> list[dict[str, Any]]:
    """Run (or resume) several runs in one process, in lockstep; one record per run, in order.

    Args:
        configs: one config per run (typically one condition's seeds); None where ``resume`` gives
            the run directory instead.
        out: parent folder of the new run directories.
        label: goes into every new run directory's name (a sweep's condition).
        resume: per run, an interrupted run directory to continue (None: a new run).
        hooks: per run, extra rollout hooks (as run_experiment's ``hooks``).

    Returns:
        per run {"run_dir": str, "summary": dict, "error": None} when it finished, or
        {"run_dir": None, "summary": None, "error": "Type: message", "traceback": str}; a failure
        of one run never stops the others.
    """
    n = len(configs)
    resume = list(resume) if resume is not None else [None] * n
    hooks = list(hooks) if hooks is not None else [()] * n
    if len(resume) != n or len(hooks) != n:
        raise ValueError(f"run_seeds: {n} configs but {len(resume)} resume entries and {len(hooks)} hook lists")
    records: list[dict[str, Any] | None] = [None] * n
    live: list[tuple[int, RunSession]] = []
    try:
        for k in range(n):
            try:
                session = RunSession(configs[k], out, resume[k], progress_bar=False, hooks=hooks[k], label=label)
            except Exception as exc:  # bad config or run directory: this run only
                records[k] = _failure(exc)
                continue
            session.clock.pause()  # each run's wall_s counts its own batches only
            live.append((k, session))
        with stop_on_signals([session for _, session in live]):
            while live:
                for entry in list(live):
                    k, session = entry
                    try:
                        if session.done:
                            result = session.finish()
                            records[k] = {"run_dir": str(result.run_dir), "summary": result.summary, "error": None}
                            live.remove(entry)
                            continue
                        session.clock.resume()
                        session.advance()
                        session.clock.pause()
                    except Exception as exc:  # the session has written its status; the others go on
                        records[k] = _failure(exc)
                        session.close()
                        live.remove(entry)
    finally:
        for _, session in live:
            session.close()
    assert all(r is not None for r in records)
    return records  # type: ignore[return-value]
