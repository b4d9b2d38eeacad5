"""Topology and somatotopy of the body, learned from twitch feedback.

(a) Muscle-to-joint topology: which muscles act on which joints, from the action map
    (``ProprioMapLearner``, spindle length vs joint angle): an entry counts when it is both large relative to
    the muscle's strongest action and statistically significant (|estimate| > z * stderr).
(b) Joint adjacency: a Chow-Liu tree (Chow & Liu 1968, IEEE Trans Inf Theory 14:462), the
    maximum spanning tree over pairwise mutual information of joint velocities, with the
    Gaussian MI I = -1/2 log(1 - rho^2). Neighbouring joints share a link, bi-articular muscles
    and inertial coupling, so their motions carry the most information about each other.
(c) Somatotopic map: a Kohonen self-organising map (Kohonen 1982, Biol Cybern 43:59; as in the
    robot "homunculus" of Hoffmann et al. 2018, IEEE TCDS 10:163) trained on the rectified,
    normalised afferent pattern of moving readings (|joint velocity|, |spindle velocity|, tendon
    force, touch). Each joint's (link's) place on the map is the activity-weighted centroid of
    the winning units; the map is somatotopic when map distances rank like body distances.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from robot_twitch.learn.base import (
    RunningMoments,
    TransitionBatch,
    check_layout,
    layout_from_state,
    layout_to_state,
    spearman_rho,
)
from robot_twitch.learn.proprio_map import ProprioMapLearner
from robot_twitch.sensors_layout import SensorLayout


# -- pure functions ------------------------------------------------------------------------------
def muscle_joint_topology(
    action_map: np.ndarray,
    stderr: np.ndarray | None = None,
    rel_threshold: float = 0.2,
    z_threshold: float = 3.0,
) -> np.ndarray:
    """(M, J) bool: muscle i acts on joint j.

    An entry counts when |A_ij| > rel_threshold * max_j |A_ij| and, if ``stderr`` is given,
    |A_ij| > z_threshold * stderr_ij.
    """
    a = np.abs(np.asarray(action_map, dtype=np.float64))
    if a.ndim != 2:
        raise ValueError(f"action_map must be (M, J), got {a.shape}")
    row_max = a.max(axis=1, keepdims=True)
    out = (a > rel_threshold * row_max) & (row_max > 0)
    if stderr is not None:
        se = np.asarray(stderr, dtype=np.float64)
        if se.shape != a.shape:
            raise ValueError(f"stderr must have shape {a.shape}, got {se.shape}")
        out &= a > z_threshold * se
    return out


def gaussian_mutual_information(corr: np.ndarray) -> np.ndarray:
    """(D, D) pairwise MI [nats] of jointly Gaussian variables from their correlation matrix."""
    rho = np.asarray(corr, dtype=np.float64)
    if rho.ndim != 2 or rho.shape[0] != rho.shape[1]:
        raise ValueError(f"corr must be square, got {rho.shape}")
    mi = -0.5 * np.log(np.clip(1.0 - rho**2, 1e-12, None))
    np.fill_diagonal(mi, 0.0)
    return mi


def chow_liu_tree(mi: np.ndarray) -> np.ndarray:
    """(D, D) bool symmetric adjacency of the maximum spanning tree of ``mi`` (Prim's algorithm;
    ties broken by lowest index, so the result is deterministic)."""
    w = np.asarray(mi, dtype=np.float64)
    if w.ndim != 2 or w.shape[0] != w.shape[1]:
        raise ValueError(f"mi must be square, got {w.shape}")
    n = w.shape[0]
    adj = np.zeros((n, n), dtype=bool)
    if n < 2:
        return adj
    in_tree = np.zeros(n, dtype=bool)
    in_tree[0] = True
    best = w[0].copy()
    parent = np.zeros(n, dtype=int)
    for _ in range(n - 1):
        cand = np.where(in_tree, -np.inf, best)
        k = int(np.argmax(cand))
        adj[k, parent[k]] = adj[parent[k], k] = True
        in_tree[k] = True
        better = (w[k] > best) & ~in_tree
        best = np.where(better, w[k], best)
        parent = np.where(better, k, parent)
    return adj


def tree_distances(n: int, edges: list[tuple[int, int]] | np.ndarray) -> np.ndarray:
    """(n, n) shortest-path hop distances in an undirected graph (inf where unconnected)."""
    dist = np.full((n, n), np.inf)
    np.fill_diagonal(dist, 0.0)
    for a, b in edges:
        dist[a, b] = dist[b, a] = 1.0
    for k in range(n):  # Floyd-Warshall; bodies are small
        dist = np.minimum(dist, dist[:, k : k + 1] + dist[k : k + 1, :])
    return dist


def somatotopy_rho(map_xy: np.ndarray, body_dist: np.ndarray) -> float:
    """Spearman correlation between pairwise map distances and body distances.

    Args:
        map_xy: (N, 2) map coordinates of N body parts (rows with NaN are skipped).
        body_dist: (N, N) distances along the body (e.g. tree hops).

    Returns:
        rho in [-1, 1], NaN when fewer than 3 finite pairs or no variation.
    """
    xy = np.asarray(map_xy, dtype=np.float64)
    bd = np.asarray(body_dist, dtype=np.float64)
    if xy.ndim != 2 or bd.shape != (xy.shape[0], xy.shape[0]):
        raise ValueError(f"map_xy (N, 2) and body_dist (N, N) disagree: {xy.shape}, {bd.shape}")
    ok = np.all(np.isfinite(xy), axis=1)
    iu = np.triu_indices(xy.shape[0], k=1)
    pair_ok = ok[iu[0]] & ok[iu[1]] & np.isfinite(bd[iu])
    if pair_ok.sum() < 3:
        return float("nan")
    md = np.linalg.norm(xy[:, None] - xy[None], axis=-1)[iu][pair_ok]
    bdv = bd[iu][pair_ok]
    if np.ptp(md) == 0 or np.ptp(bdv) == 0:
        return float("nan")
    return spearman_rho(md, bdv)


class SelfOrganizingMap:
    """A small Kohonen map, trained with batch updates (Kohonen 2013, Neural Netw 37:52).

    Args:
        grid_shape: (rows, cols) of units, K = rows * cols.
        dim: input dimension D.
        seed: seeds the initial weights.
        sigma_end: final neighbourhood width [grid units].
        anneal_samples: samples over which the width shrinks from max(grid)/2 to sigma_end.
        lr: step towards the batch-SOM target per update, in (0, 1].
    """

    def __init__(
        self,
        grid_shape: tuple[int, int],
        dim: int,
        seed: int = 0,
        sigma_end: float = 0.7,
        anneal_samples: int = 5000,
        lr: float = 0.5,
    ) -> None:
        rows, cols = (int(v) for v in grid_shape)
        if rows < 1 or cols < 1 or rows * cols < 2:
            raise ValueError(f"grid_shape must have >= 2 units, got {grid_shape}")
        if dim < 1 or not 0 < lr <= 1 or sigma_end <= 0 or anneal_samples < 1:
            raise ValueError("SOM needs dim >= 1, lr in (0, 1], sigma_end > 0, anneal_samples >= 1")
        self.grid_shape = (rows, cols)
        self.dim = int(dim)
        self.sigma_end = float(sigma_end)
        self.anneal_samples = int(anneal_samples)
        self.lr = float(lr)
        rr, cc = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
        self.grid_xy = np.stack([rr.ravel(), cc.ravel()], axis=1).astype(np.float64)  # (K, 2)
        rng = np.random.default_rng(seed)
        self.weights = rng.random((rows * cols, dim)) / np.sqrt(dim)  # (K, D)
        self.n_seen = 0

    def sigma(self) -> float:
        s0 = max(max(self.grid_shape) / 2.0, self.sigma_end)
        frac = min(1.0, self.n_seen / self.anneal_samples)
        return float(s0 * (self.sigma_end / s0) ** frac)

    def bmu(self, x: np.ndarray) -> np.ndarray:
        """(n,) index of the best-matching unit for each row of x (n, D)."""
        d2 = (x**2).sum(1)[:, None] - 2 * x @ self.weights.T + (self.weights**2).sum(1)[None]
        return np.argmin(d2, axis=1)

    def update(self, x: np.ndarray) -> None:
        """One batch-SOM step on samples x (n, D)."""
        if len(x) == 0:
            return
        win = self.bmu(x)
        d2 = ((self.grid_xy[:, None] - self.grid_xy[win][None]) ** 2).sum(-1)  # (K, n)
        h = np.exp(-d2 / (2 * self.sigma() ** 2))
        mass = h.sum(1)
        target = (h @ x) / np.maximum(mass, 1e-12)[:, None]
        step = self.lr * (mass > 1e-12)[:, None]
        self.weights += step * (target - self.weights)
        self.n_seen += len(x)

    def state_dict(self) -> dict[str, Any]:
        return {
            "grid_shape": list(self.grid_shape),
            "dim": self.dim,
            "sigma_end": self.sigma_end,
            "anneal_samples": self.anneal_samples,
            "lr": self.lr,
            "weights": self.weights.copy(),
            "n_seen": self.n_seen,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> SelfOrganizingMap:
        som = cls(
            tuple(state["grid_shape"]),  # type: ignore[arg-type]
            int(state["dim"]),
            sigma_end=float(state["sigma_end"]),
            anneal_samples=int(state["anneal_samples"]),
            lr=float(state["lr"]),
        )
        som.weights = np.array(state["weights"], dtype=np.float64)
        som.n_seen = int(state["n_seen"])
        return som


# -- the learner ---------------------------------------------------------------------------------
class TopologyLearner:
    """Muscle-to-joint topology, Chow-Liu joint tree and a somatotopic SOM, learned online.

    Args:
        rel_threshold, z_threshold: see ``muscle_joint_topology``.
        signal: "joint_vel" (after each step) or "joint_acc" (its change) for the Chow-Liu tree.
        som_grid: SOM grid (rows, cols).
        activity_threshold: a reading trains the SOM when its normalised activity norm exceeds this.
        reservoir_size: recent active readings kept to place body parts on the final map.
        seed: SOM seed.
        decay: forgetting factor of the running statistics in (0, 1].
        name: learner name.
    """

    def __init__(
        self,
        rel_threshold: float = 0.2,
        z_threshold: float = 3.0,
        signal: str = "joint_vel",
        som_grid: tuple[int, int] = (1, 12),
        activity_threshold: float = 1.0,
        reservoir_size: int = 4000,
        seed: int = 0,
        decay: float = 1.0,
        name: str = "topology",
    ) -> None:
        if signal not in ("joint_vel", "joint_acc"):
            raise ValueError(f"signal must be 'joint_vel' or 'joint_acc', got {signal!r}")
        if reservoir_size < 1 or activity_threshold < 0:
            raise ValueError("reservoir_size must be >= 1 and activity_threshold >= 0")
        self.name = name
        self.rel_threshold = float(rel_threshold)
        self.z_threshold = float(z_threshold)
        self.signal = signal
        self.som_grid = (int(som_grid[0]), int(som_grid[1]))
        self.activity_threshold = float(activity_threshold)
        self.reservoir_size = int(reservoir_size)
        self.seed = int(seed)
        self.decay = float(decay)
        self._action = ProprioMapLearner(decay=decay, name=f"{name}.action")
        self._layout: SensorLayout | None = None
        self._joint_moments: RunningMoments | None = None
        self._feat_ms = np.zeros(0)  # running mean square of the rectified afferents
        self._feat_n = 0.0
        self._som: SelfOrganizingMap | None = None
        self._reservoir: np.ndarray | None = None
        self._res_len = 0
        self._res_pos = 0

    def _features(self, batch: TransitionBatch) -> np.ndarray:
        lay = batch.layout
        nxt = batch.next_sensors
        return np.concatenate(
            [
                np.abs(lay.group(nxt, "joint_vel")),
                np.abs(lay.group(nxt, "spindle_velocity")),
                np.abs(lay.group(batch.delta, "tendon_force")),
                np.abs(lay.group(nxt, "touch")),
            ],
            axis=1,
        )

    def observe(self, batch: TransitionBatch) -> None:
        self._layout = check_layout(batch, self._layout, self.name)
        self._action.observe(batch)
        n_j = len(batch.layout.joint_names)
        sig = batch.group("joint_vel", after=True)
        if self.signal == "joint_acc":
            sig = batch.layout.group(batch.delta, "joint_vel")
        feats = self._features(batch)
        if self._joint_moments is None:
            self._joint_moments = RunningMoments(n_j, self.decay)
            self._feat_ms = np.zeros(feats.shape[1])
            self._feat_n = 0.0
            self._som = SelfOrganizingMap(self.som_grid, feats.shape[1], seed=self.seed)
            self._reservoir = np.zeros((self.reservoir_size, feats.shape[1]))
        self._joint_moments.update(sig)
        # running mean square per feature (normaliser of the rectified afferents)
        n_b = float(len(feats))
        self._feat_ms = (self._feat_ms * self._feat_n + (feats**2).sum(0)) / (self._feat_n + n_b)
        self._feat_n += n_b
        x = self._normalise(feats)
        active = np.linalg.norm(x, axis=1) > self.activity_threshold
        xa = x[active]
        if len(xa) == 0:
            return
        xa = xa / np.linalg.norm(xa, axis=1, keepdims=True)
        assert self._som is not None and self._reservoir is not None
        self._som.update(xa)
        for row_block in np.array_split(xa, max(1, -(-len(xa) // self.reservoir_size))):
            n = len(row_block)
            idx = (self._res_pos + np.arange(n)) % self.reservoir_size
            self._reservoir[idx] = row_block
            self._res_pos = int((self._res_pos + n) % self.reservoir_size)
            self._res_len = min(self.reservoir_size, self._res_len + n)

    def _normalise(self, feats: np.ndarray) -> np.ndarray:
        rms = np.sqrt(self._feat_ms)
        ok = rms > 1e-12
        return np.where(ok, feats / np.where(ok, rms, 1.0), 0.0)

    def _centroids(self, cols: slice) -> np.ndarray:
        """(n_parts, 2) activity-weighted map centroid of each body part (NaN if never active)."""
        assert self._som is not None and self._reservoir is not None
        data = self._reservoir[: self._res_len]
        n_parts = cols.stop - cols.start
        if len(data) == 0:
            return np.full((n_parts, 2), np.nan)
        pos = self._som.grid_xy[self._som.bmu(data)]  # (n, 2)
        w = data[:, cols]  # (n, n_parts)
        mass = w.sum(0)
        xy = (w.T @ pos) / np.where(mass > 0, mass, 1.0)[:, None]
        xy[mass <= 0] = np.nan
        return xy

    def body_map(self) -> dict[str, np.ndarray]:
        """``muscle_joint`` (M, J) bool; ``joint_mi`` (J, J) Gaussian MI [nats];
        ``joint_adjacency`` (J, J) bool Chow-Liu tree; ``som_weights`` (K, D);
        ``som_grid_xy`` (K, 2); ``som_joint_xy`` (J, 2) and ``som_link_xy`` (L, 2) map
        centroids (NaN for parts never active)."""
        if self._layout is None or self._joint_moments is None:
            raise ValueError(f"{self.name}: no data observed yet")
        est, se = self._action.estimate()
        mi = gaussian_mutual_information(self._joint_moments.corr())
        n_j, n_m = len(self._layout.joint_names), len(self._layout.muscle_names)
        assert self._som is not None
        return {
            "muscle_joint": muscle_joint_topology(est, se, self.rel_threshold, self.z_threshold),
            "joint_mi": mi,
            "joint_adjacency": chow_liu_tree(mi),
            "som_weights": self._som.weights.copy(),
            "som_grid_xy": self._som.grid_xy.copy(),
            "som_joint_xy": self._centroids(slice(0, n_j)),
            "som_link_xy": self._centroids(slice(n_j + 2 * n_m, self._som.dim)),
        }

    def state_dict(self) -> dict[str, Any]:
        return {
            "config": {
                "rel_threshold": self.rel_threshold,
                "z_threshold": self.z_threshold,
                "signal": self.signal,
                "som_grid": list(self.som_grid),
                "activity_threshold": self.activity_threshold,
                "reservoir_size": self.reservoir_size,
                "seed": self.seed,
                "decay": self.decay,
                "name": self.name,
            },
            "layout": layout_to_state(self._layout),
            "action": self._action.state_dict(),
            "joint_moments": None
            if self._joint_moments is None
            else self._joint_moments.state_dict(),
            "feat_ms": None if self._som is None else self._feat_ms.copy(),
            "feat_n": None if self._som is None else self._feat_n,
            "som": None if self._som is None else self._som.state_dict(),
            "reservoir": None if self._reservoir is None else self._reservoir.copy(),
            "res_len": self._res_len,
            "res_pos": self._res_pos,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        cfg = dict(state["config"])
        cfg["som_grid"] = tuple(cfg["som_grid"])
        self.__init__(**cfg)  # type: ignore[misc]
        self._layout = layout_from_state(state["layout"])
        self._action.load_state_dict(state["action"])
        if state["joint_moments"] is None:
            return
        self._joint_moments = RunningMoments.from_state_dict(state["joint_moments"])
        self._feat_ms = np.array(state["feat_ms"], dtype=np.float64)
        self._feat_n = float(state["feat_n"])
        self._som = SelfOrganizingMap.from_state_dict(state["som"])
        self._reservoir = np.array(state["reservoir"], dtype=np.float64)
        self._res_len = int(state["res_len"])
        self._res_pos = int(state["res_pos"])
