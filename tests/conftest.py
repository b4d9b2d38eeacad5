"""Shared fixtures and checks."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from robot_twitch.body.spec import builtin_bodies, load_body

BUILTIN_BODIES = sorted(builtin_bodies())


@pytest.fixture(scope="session")
def bodies():
    """Every built-in body, loaded once."""
    return {name: load_body(name) for name in BUILTIN_BODIES}


def assert_resumes_identically(config, rows: list[dict], out: Path, stop_at_s: float = 3.0) -> None:
    """Run ``config`` again into ``out``, stop it at the first batch ending at or after
    ``stop_at_s``, resume it, and assert that its metrics.csv rows equal ``rows`` (those of the
    same config run straight through)."""
    from robot_twitch.experiment import RunInterrupted, run_experiment

    def stop(runner) -> None:
        if runner.sim.time_s >= stop_at_s:
            runner.request_stop()

    with pytest.raises(RunInterrupted) as info:
        run_experiment(config, out=out, progress_bar=False, on_batch=stop)
    resumed = run_experiment(config, resume=info.value.run_dir, progress_bar=False)
    with open(resumed.run_dir / "metrics.csv", newline="") as f:
        assert list(csv.DictReader(f)) == rows
