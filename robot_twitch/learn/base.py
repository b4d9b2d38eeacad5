"""The learner protocol, the transition batch every learner observes, and shared statistics.

Shapes: T steps, M muscles, J joints, S flat sensor channels (see ``SensorLayout``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from robot_twitch.sensors_layout import SensorLayout


@dataclass(frozen=True)
class TransitionBatch:
    """A run of consecutive control steps, as seen by the learners.

    Attributes:
        command: (T, M) excitations in [0, 1] applied during each step.
        sensors: (T, S) flat sensor reading before each step.
        next_sensors: (T, S) flat sensor reading after each step.
        layout: names and slices of the flat sensor vector.
        twitch_onset: optional (T, M) bool, True where the drive started a twitch.
        time_s: optional (T,) simulated time of each step [s], strictly increasing.
    """

    command: np.ndarray
    sensors: np.ndarray
    next_sensors: np.ndarray
    layout: SensorLayout
    twitch_onset: np.ndarray | None = None
    time_s: np.ndarray | None = None

    def __post_init__(self) -> None:
        cmd = np.asarray(self.command, dtype=np.float64)
        sen = np.asarray(self.sensors, dtype=np.float64)
        nxt = np.asarray(self.next_sensors, dtype=np.float64)
        n_m, n_s = len(self.layout.muscle_names), self.layout.size
        if cmd.ndim != 2 or cmd.shape[1] != n_m:
            raise ValueError(f"command must have shape (T, {n_m}), got {cmd.shape}")
        n_t = cmd.shape[0]
        for name, arr in (("sensors", sen), ("next_sensors", nxt)):
            if arr.shape != (n_t, n_s):
                raise ValueError(f"{name} must have shape ({n_t}, {n_s}), got {arr.shape}")
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"{name} contains NaN or inf")
        if not np.all(np.isfinite(cmd)):
            raise ValueError("command contains NaN or inf")
        object.__setattr__(self, "command", cmd)
        object.__setattr__(self, "sensors", sen)
        object.__setattr__(self, "next_sensors", nxt)
        if self.twitch_onset is not None:
            onset = np.asarray(self.twitch_onset, dtype=bool)
            if onset.shape != cmd.shape:
                raise ValueError(f"twitch_onset must have shape {cmd.shape}, got {onset.shape}")
            object.__setattr__(self, "twitch_onset", onset)
        if self.time_s is not None:
            time_s = np.asarray(self.time_s, dtype=np.float64)
            if time_s.shape != (n_t,):
                raise ValueError(f"time_s must have shape ({n_t},), got {time_s.shape}")
            if n_t > 1 and not np.all(np.diff(time_s) > 0):
                raise ValueError("time_s must be strictly increasing")
            object.__setattr__(self, "time_s", time_s)

    def __len__(self) -> int:
        return int(self.command.shape[0])

    @property
    def delta(self) -> np.ndarray:
        """(T, S) sensor change over each step."""
        return self.next_sensors - self.sensors

    def group(self, name: str, *, after: bool = False) -> np.ndarray:
        """(T, n_group) one sensor group, before (default) or after each step."""
        return self.layout.group(self.next_sensors if after else self.sensors, name)

    def slice(self, start: int, stop: int) -> TransitionBatch:
        """Steps [start, stop) as a new batch."""
        sl = slice(start, stop)
        return TransitionBatch(
            command=self.command[sl],
            sensors=self.sensors[sl],
            next_sensors=self.next_sensors[sl],
            layout=self.layout,
            twitch_onset=None if self.twitch_onset is None else self.twitch_onset[sl],
            time_s=None if self.time_s is None else self.time_s[sl],
        )


def concat_batches(batches: Sequence[TransitionBatch]) -> TransitionBatch:
    """Concatenate batches with the same layout along time."""
    if not batches:
        raise ValueError("concat_batches needs at least one batch")
    layout = batches[0].layout
    if any(b.layout != layout for b in batches):
        raise ValueError("concat_batches: batches have different sensor layouts")
    has_onset = all(b.twitch_onset is not None for b in batches)
    has_time = all(b.time_s is not None for b in batches)
    return TransitionBatch(
        command=np.concatenate([b.command for b in batches]),
        sensors=np.concatenate([b.sensors for b in batches]),
        next_sensors=np.concatenate([b.next_sensors for b in batches]),
        layout=layout,
        twitch_onset=np.concatenate([b.twitch_onset for b in batches]) if has_onset else None,
        time_s=np.concatenate([b.time_s for b in batches]) if has_time else None,
    )


@runtime_checkable
class Learner(Protocol):
    """What every body-schema learner offers.

    ``observe`` is called online with consecutive batches; ``body_map`` returns named numpy
    arrays (the learned schema); ``state_dict``/``load_state_dict`` round-trip the full state
    exactly, using numpy arrays and plain python values only (savable with np.savez/torch.save).
    """

    name: str

    def observe(self, batch: TransitionBatch) -> None: ...

    def body_map(self) -> dict[str, np.ndarray]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: dict[str, Any]) -> None: ...


class LearnerGroup:
    """Several learners watching one run: ``observe`` fans each batch out to all of them.

    ``body_map`` keys are ``"<learner name>/<key>"``; learner names must be unique.
    """

    name = "group"

    def __init__(self, learners: Iterable[Learner]) -> None:
        self.learners: list[Learner] = list(learners)
        names = [lr.name for lr in self.learners]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"LearnerGroup: learner names must be unique, repeated: {dupes}")

    def __iter__(self) -> Iterator[Learner]:
        return iter(self.learners)

    def __len__(self) -> int:
        return len(self.learners)

    def __getitem__(self, name: str) -> Learner:
        for lr in self.learners:
            if lr.name == name:
                return lr
        raise KeyError(f"no learner named {name!r} in group {[lr.name for lr in self.learners]}")

    def observe(self, batch: TransitionBatch) -> None:
        for lr in self.learners:
            lr.observe(batch)

    def body_map(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for lr in self.learners:
            for key, val in lr.body_map().items():
                out[f"{lr.name}/{key}"] = val
        return out

    def state_dict(self) -> dict[str, Any]:
        return {lr.name: lr.state_dict() for lr in self.learners}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        missing = [lr.name for lr in self.learners if lr.name not in state]
        if missing:
            raise ValueError(f"LearnerGroup.load_state_dict: no state for learners {missing}")
        for lr in self.learners:
            lr.load_state_dict(state[lr.name])


class RunningMoments:
    """Online weighted mean and full covariance of a D-vector, with optional forgetting.

    Batches are merged exactly (Chan et al. 1979 pairwise update). With ``decay`` < 1 each
    sample's weight shrinks by that factor per later sample (exponential forgetting), so the
    statistics track a changing body.
    """

    def __init__(self, dim: int, decay: float = 1.0) -> None:
        if dim < 1:
            raise ValueError(f"RunningMoments: dim must be >= 1, got {dim}")
        if not 0.0 < decay <= 1.0:
            raise ValueError(f"RunningMoments: decay must be in (0, 1], got {decay}")
        self.dim = int(dim)
        self.decay = float(decay)
        self.weight = 0.0
        self.count = 0
        self.mean = np.zeros(dim)
        self.comoment = np.zeros((dim, dim))  # sum_t w_t (z_t - mean)(z_t - mean)^T

    def update(self, z: np.ndarray) -> None:
        """Add samples z: (T, D)."""
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != self.dim:
            raise ValueError(f"RunningMoments: expected shape (T, {self.dim}), got {z.shape}")
        n_t = z.shape[0]
        if n_t == 0:
            return
        if self.decay < 1.0:
            w = self.decay ** np.arange(n_t - 1, -1, -1, dtype=np.float64)
            scale_old = self.decay**n_t
            self.weight *= scale_old
            self.comoment *= scale_old
        else:
            w = np.ones(n_t)
        w_b = float(w.sum())
        mean_b = w @ z / w_b
        zc = z - mean_b
        com_b = (zc * w[:, None]).T @ zc
        w_n = self.weight + w_b
        delta = mean_b - self.mean
        self.comoment = self.comoment + com_b + np.outer(delta, delta) * (self.weight * w_b / w_n)
        self.mean = self.mean + delta * (w_b / w_n)
        self.weight = w_n
        self.count += n_t

    @property
    def cov(self) -> np.ndarray:
        """(D, D) weighted covariance (zeros before any data)."""
        if self.weight <= 0:
            return np.zeros((self.dim, self.dim))
        return self.comoment / self.weight

    def corr(self) -> np.ndarray:
        """(D, D) Pearson correlation; channels with ~zero variance get 0."""
        cov = self.cov
        sd = np.sqrt(np.clip(np.diag(cov), 0.0, None))
        ok = sd > 1e-12 * max(1.0, float(sd.max(initial=0.0)))
        inv = np.where(ok, 1.0 / np.where(ok, sd, 1.0), 0.0)
        out = cov * inv[:, None] * inv[None, :]
        return np.clip(out, -1.0, 1.0)

    def state_dict(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "decay": self.decay,
            "weight": self.weight,
            "count": self.count,
            "mean": self.mean.copy(),
            "comoment": self.comoment.copy(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> RunningMoments:
        obj = cls(int(state["dim"]), float(state["decay"]))
        obj.weight = float(state["weight"])
        obj.count = int(state["count"])
        obj.mean = np.array(state["mean"], dtype=np.float64)
        obj.comoment = np.array(state["comoment"], dtype=np.float64)
        return obj


def average_ranks(x: np.ndarray) -> np.ndarray:
    """(N,) ranks 1..N of x, ties given the mean of their ranks (scipy.stats.rankdata "average")."""
    x = np.asarray(x).ravel()
    sorter = np.argsort(x, kind="mergesort")
    inv = np.empty(len(x), dtype=np.intp)
    inv[sorter] = np.arange(len(x))
    xs = x[sorter]
    first = np.r_[True, xs[1:] != xs[:-1]]
    dense = np.cumsum(first)[inv]
    bounds = np.r_[np.flatnonzero(first), len(x)]
    return 0.5 * (bounds[dense] + bounds[dense - 1] + 1)


def spearman_rho(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two (N,) samples: the Pearson correlation of their average
    ranks, as scipy.stats.spearmanr computes it (without importing scipy.stats, ~1 s)."""
    return float(np.corrcoef(average_ranks(a), average_ranks(b))[0, 1])


def ridge_regression(
    moments: RunningMoments, n_x: int, ridge: float = 1e-6
) -> tuple[np.ndarray, np.ndarray]:
    """Least squares y ~ x + intercept from running moments of z = [x, y].

    Args:
        moments: statistics of z with x = z[:n_x], y = z[n_x:].
        n_x: number of regressors.
        ridge: Tikhonov term relative to the mean regressor variance.

    Returns:
        coef: (n_x, n_y) with y - mean_y ~ (x - mean_x) @ coef.
        stderr: (n_x, n_y) standard errors of coef (ordinary least-squares formula).
    """
    cov = moments.cov
    cxx, cxy, cyy = cov[:n_x, :n_x], cov[:n_x, n_x:], cov[n_x:, n_x:]
    lam = ridge * max(float(np.trace(cxx)) / n_x, 1e-300)
    reg = cxx + lam * np.eye(n_x)
    inv = np.linalg.pinv(reg)
    coef = inv @ cxy
    resid_var = np.clip(np.diag(cyy) - np.einsum("ij,ij->j", cxy, coef), 0.0, None)
    n_eff = max(moments.weight - n_x - 1, 1.0)
    stderr = np.sqrt(np.outer(np.clip(np.diag(inv), 0.0, None), resid_var) / n_eff)
    return coef, stderr


def check_layout(batch: TransitionBatch, layout: SensorLayout | None, who: str) -> SensorLayout:
    """Raise ValueError if the batch layout differs from the one a learner was built for."""
    if not isinstance(batch, TransitionBatch):
        got = type(batch).__name__
        raise ValueError(f"{who}.observe expects a TransitionBatch, got {got}")  # noqa: TRY004
    if layout is not None and batch.layout != layout:
        raise ValueError(
            f"{who}: batch layout {batch.layout.muscle_names}/{batch.layout.joint_names} differs "
            f"from the layout seen before {layout.muscle_names}/{layout.joint_names}"
        )
    return batch.layout


def layout_to_state(layout: SensorLayout | None) -> dict[str, list[str]] | None:
    if layout is None:
        return None
    return {
        "joint_names": list(layout.joint_names),
        "muscle_names": list(layout.muscle_names),
        "link_names": list(layout.link_names),
        **({"taxel_names": list(layout.taxel_names)} if layout.taxel_names else {}),
    }


def layout_from_state(state: dict[str, Any] | None) -> SensorLayout | None:
    if state is None:
        return None
    return SensorLayout(
        joint_names=tuple(str(n) for n in state["joint_names"]),
        muscle_names=tuple(str(n) for n in state["muscle_names"]),
        link_names=tuple(str(n) for n in state["link_names"]),
        taxel_names=tuple(str(n) for n in state.get("taxel_names", ())),
    )
