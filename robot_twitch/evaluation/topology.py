"""topology.*: the learned muscle-joint graph, joint adjacency and somatotopic map against the
body's truth."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from robot_twitch.evaluation.truth import TOPOLOGY_REL, BodyTruth, check_shape
from robot_twitch.learn.topology import somatotopy_rho


def _edge_f1(pred: set[frozenset[int]], true: set[frozenset[int]]) -> float:
    if not pred and not true:
        return 1.0
    tp = len(pred & true)
    if tp == 0:
        return 0.0
    prec, rec = tp / len(pred), tp / len(true)
    return 2 * prec * rec / (prec + rec)


def score_topology(maps: Mapping[str, np.ndarray], truth: BodyTruth) -> dict[str, float]:
    """topology.f1 (muscle_joint vs |R| > 10% of row max), topology.link_f1 (joint_adjacency
    vs truth.joint_edges), topology.somatotopy_rho (som_joint_xy vs tree distances); each only
    when its map is present."""
    out: dict[str, float] = {}
    n_m, n_j = truth.moment_arms.shape
    if "muscle_joint" in maps:
        pred = check_shape("muscle_joint", maps["muscle_joint"], (n_m, n_j)) > 0.5
        true = truth.significant(TOPOLOGY_REL)
        tp = float((pred & true).sum())
        denom = float(pred.sum() + true.sum())
        out["topology.f1"] = 1.0 if denom == 0 else 2 * tp / denom
    if "joint_adjacency" in maps and truth.joint_edges:
        adj = check_shape("joint_adjacency", maps["joint_adjacency"], (n_j, n_j)) > 0.5
        idx = {n: k for k, n in enumerate(truth.joint_names)}
        true_e = {frozenset((idx[a], idx[b])) for a, b in truth.joint_edges}
        ii, jj = np.nonzero(np.triu(adj | adj.T, k=1))
        pred_e = {frozenset((int(a), int(b))) for a, b in zip(ii, jj, strict=True)}
        out["topology.link_f1"] = _edge_f1(pred_e, true_e)
    if "som_joint_xy" in maps and truth.joint_edges:
        xy = np.asarray(maps["som_joint_xy"], dtype=np.float64)
        if xy.ndim != 2 or xy.shape[0] != n_j:
            raise ValueError(f"som_joint_xy must be ({n_j}, 2), got {xy.shape}")
        rho = somatotopy_rho(xy, truth.joint_distances)
        if np.isfinite(rho):
            out["topology.somatotopy_rho"] = rho
    return out
