"""Step B independent drives together (e.g. one per seed) and get (B, M) excitations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from robot_twitch.motor.base import BufferedDrive, MuscleLike, SleepState
from robot_twitch.motor.events import TwitchEvent
from robot_twitch.motor.factory import make_drive


class BatchDrive:
    """B independent drives with the same muscles, stepped together.

    Each drive generates its excitation in vectorised blocks, so stepping the batch costs a
    buffer read per drive; ``step_many`` returns whole (B, T, M) chunks.
    """

    def __init__(self, drives: Sequence[BufferedDrive]) -> None:
        if len(drives) == 0:
            raise ValueError("drives is empty: expected at least one drive")
        names = drives[0].muscle_names
        for d in drives:
            if d.muscle_names != names:
                raise ValueError("all drives of a batch must have the same muscle_names")
        self.drives: list[BufferedDrive] = list(drives)
        self.muscle_names: tuple[str, ...] = names
        self.control_dt_s: float = drives[0].control_dt_s

    @classmethod
    def from_seeds(
        cls,
        name: str,
        muscles: Sequence[MuscleLike],
        seeds: Sequence[int],
        control_dt_s: float = 0.01,
        config: Any | None = None,
    ) -> BatchDrive:
        """One drive per seed, each with ``np.random.default_rng(seed)``."""
        return cls(
            [
                make_drive(name, muscles, control_dt_s, config, np.random.default_rng(s))
                for s in seeds
            ]
        )

    @property
    def batch_size(self) -> int:
        """Number of drives B."""
        return len(self.drives)

    def reset(self, rngs: Sequence[np.random.Generator]) -> None:
        """Reset drive b with ``rngs[b]`` (one generator per drive)."""
        if len(rngs) != len(self.drives):
            raise ValueError(f"len(rngs) = {len(rngs)} is invalid: expected {len(self.drives)}")
        for d, r in zip(self.drives, rngs, strict=True):
            d.reset(r)

    def step(self) -> np.ndarray:
        """(B, M) excitations for the next control step."""
        return np.stack([d.step() for d in self.drives])

    def step_many(self, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        """Excitation (B, n, M) and state codes (B, n) for the next ``n_steps`` steps."""
        out = [d.step_many(n_steps) for d in self.drives]
        return np.stack([o[0] for o in out]), np.stack([o[1] for o in out])

    @property
    def sleep_states(self) -> list[SleepState]:
        """Current state of each drive."""
        return [d.sleep_state for d in self.drives]

    @property
    def time_s(self) -> float:
        """Simulated time elapsed [s] (the same for all drives)."""
        return self.drives[0].time_s

    @property
    def events(self) -> list[list[TwitchEvent]]:
        """Event log of each drive."""
        return [d.events for d in self.drives]
