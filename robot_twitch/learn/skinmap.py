"""A somatotopic skin map: a 2-D Kohonen map on the touch patterns that movement causes.

Kohonen 1982 ("Self-organized formation of topologically correct feature maps", Biol Cybern
43:59) with the dot-product winner and normalised weights of that paper; Kuniyoshi & Sangawa 2006
(Biol Cybern 95:589) and Yamada et al. 2016 (Sci Rep 6:27893) grow such maps from a simulated
fetus's spontaneous movement and its touch; Hoffmann et al. 2018 (IEEE TCDS 10:1172) from the
iCub's skin (the robot homunculus). Neighbouring skin is touched together (a contact patch
covers several taxels), so co-activation alone places neighbouring taxels on neighbouring nodes.

Input per window of `window_steps` control steps (0.1 s at 100 Hz, about one twitch): the change
of every taxel's mean normal force from the previous window, Δp = mean_w p - mean_w-1 p (T,) [N],
pooled over each afferent's receptive field, x_i = |sum_j R_ij Δp_j| (R (T, T): a row-normalised
Gaussian of `field_spacings` x the link's spacing over the taxels of the same link; None: each
afferent is its own taxel). A cutaneous afferent responds to pressure anywhere in its receptive
field, and neighbouring fields overlap: on the fingertip, type I fields are 3-4 mm across
(median ~11-13 mm^2; Johansson 1978, J Physiol 281:101) at ~1 mm between afferents (~140 FA I
per cm^2; Johansson & Vallbo 1979, J Physiol 286:283), a field ~4 spacings across, i.e. a
Gaussian of sigma ~1 spacing (the default). The withdrawal learner pools with the same function
(`learn.withdrawal.receptive_fields`), at 2 spacings. Changes below the noise floor, `min_taxel_change_n` x the afferent's noise gain
sqrt(sum_j R_ij^2) (the skin sensor's noise is 0.002 N per reading, so the difference of two
10-step means has sd 0.0009 N per taxel; 0.005 N is 5.5 sd, and pooling lowers the noise by the
gain), are set to 0; x is normalised to unit length; windows whose remaining total change is
below `min_change_n` carry no touch event and are skipped. Averaging over a window instead of
differencing single steps lets the small pressure changes of a twitch (a few mN per taxel) rise
above the noise. Nodes j (K = rows x cols) hold unit weight vectors w_j (T,):

    winner c = argmax_j w_j . x_t
    w_j <- (w_j + lr h_cj x_t) / |w_j + lr h_cj x_t|,   h_cj = exp(-d(c, j)^2 / (2 sigma^2))

with d the grid distance and sigma annealed exponentially from `sigma_start` to `sigma_end`
over `anneal_samples` events. An afferent's place on the map is the winner for a touch on its
taxel alone (x = e_i): argmax_j w_j[i]. Two coverages are kept: `touched`, the afferents whose
pooled input ever crossed its noise floor (they are placed and scored), and `contacted`, the
taxels whose own force ever changed by at least `min_taxel_change_n` (the skin the movement
physically reached). The others keep their random initial weights and have no meaningful place.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from robot_twitch.learn.base import TransitionBatch, check_layout, layout_from_state, layout_to_state


class SkinMapLearner:
    """Kohonen map (rows x cols nodes) of the skin's touch patterns; weights (K, T).

    Args:
        grid: (rows, cols) of the map.
        lr: step towards each input (Kohonen's alpha), in (0, 1].
        sigma_start, sigma_end: neighbourhood radius [nodes] at the start and after annealing.
        anneal_samples: touch events over which sigma falls from start to end.
        window_steps: control steps averaged per skin reading.
        min_change_n: total force change [N] of a step below which it is not a touch event.
        min_taxel_change_n: force change [N] of one taxel above which it counts as contacted; an
            afferent's floor is this times its noise gain sqrt(sum_j R_ij^2).
        receptive_field: (T, T) pooling matrix R (dense or scipy.sparse, rows summing to 1), or
            None: each afferent reads its own taxel.
        seed: generator of the initial weights.
        name: learner name.
    """

    def __init__(self, grid: tuple[int, int] = (12, 12), lr: float = 0.1, sigma_start: float = 4.0,
                 sigma_end: float = 0.8, anneal_samples: int = 2000, window_steps: int = 10,
                 min_change_n: float = 0.005, min_taxel_change_n: float = 0.005, receptive_field: Any = None,
                 seed: int = 0, name: str = "skinmap") -> None:
        if len(grid) != 2 or min(grid) < 2:
            raise ValueError(f"grid must be (rows, cols) with both >= 2, got {grid!r}")
        if not (0 < lr <= 1 and sigma_end > 0 and sigma_start >= sigma_end and anneal_samples >= 1
                and window_steps >= 1 and min_change_n > 0 and min_taxel_change_n > 0):
            raise ValueError("skinmap needs lr in (0, 1], sigma_start >= sigma_end > 0, anneal_samples >= 1, "
                             "window_steps >= 1, min_change_n > 0 and min_taxel_change_n > 0")
        self.name = name
        self.grid = (int(grid[0]), int(grid[1]))
        self.lr = float(lr)
        self.sigma_start, self.sigma_end = float(sigma_start), float(sigma_end)
        self.anneal_samples = int(anneal_samples)
        self.window_steps = int(window_steps)
        self.min_change_n = float(min_change_n)
        self.min_taxel_change_n = float(min_taxel_change_n)
        self.seed = int(seed)
        self.receptive_field = receptive_field
        rr, cc = np.divmod(np.arange(self.grid[0] * self.grid[1]), self.grid[1])
        self.node_xy = np.stack([rr, cc], axis=1).astype(float)  # (K, 2) grid coordinates
        self._d2 = ((self.node_xy[:, None] - self.node_xy[None]) ** 2).sum(-1)  # (K, K)
        self.layout = None
        self.weights: np.ndarray | None = None  # (K, T)
        self.touched = np.zeros(0, dtype=bool)  # (T,) afferents whose pooled input crossed the floor
        self.contacted = np.zeros(0, dtype=bool)  # (T,) taxels whose own force changed above the floor
        self._floor_n = np.zeros(0)  # (T,) each afferent's noise floor [N]
        self.n_events = 0
        self._rows = np.zeros((0, 0))  # (r, T) readings of the window still open
        self._prev_mean: np.ndarray | None = None  # (T,) mean of the last closed window

    def initial_weights(self, n_taxels: int) -> np.ndarray:
        """(K, T) unit rows of uniform draws from `seed`: no topography before touch."""
        w = np.random.default_rng(self.seed).random((len(self.node_xy), n_taxels))
        return w / np.linalg.norm(w, axis=1, keepdims=True)

    def observe(self, batch: TransitionBatch) -> None:
        check_layout(batch, self.layout, self.name)
        if self.layout is None:
            if "skin" not in batch.layout.slices:
                raise ValueError("SkinMapLearner needs the skin sensor group (a body with skin)")
            self.layout = batch.layout
            n_t = len(batch.layout.taxel_names)
            self.weights = self.initial_weights(n_t)
            self.touched = np.zeros(n_t, dtype=bool)
            self.contacted = np.zeros(n_t, dtype=bool)
            self._rows = np.zeros((0, n_t))
        if len(self._floor_n) != len(self.touched):
            self._floor_n = self.min_taxel_change_n * self._noise_gain(len(self.touched))
        rows = np.vstack([self._rows, batch.group("skin", after=True)])
        n_win = len(rows) // self.window_steps
        self._rows = rows[n_win * self.window_steps:].copy()
        means = rows[:n_win * self.window_steps].reshape(n_win, self.window_steps, -1).mean(axis=1)  # (w, T)
        if n_win == 0:
            return
        if self._prev_mean is None:
            self._prev_mean, means = means[0], means[1:]
        delta = np.diff(np.vstack([self._prev_mean[None], means]), axis=0)  # (w, T) [N]
        if len(means):
            self._prev_mean = means[-1].copy()
        self.contacted |= (np.abs(delta) >= self.min_taxel_change_n).any(axis=0)
        change = np.abs(self._pool(delta))  # (w, T) [N]: what each afferent feels
        change[change < self._floor_n] = 0.0  # below the noise floor
        self.touched |= (change > 0).any(axis=0)
        for x in change[change.sum(axis=1) >= self.min_change_n]:
            self._update(x / np.linalg.norm(x))

    def _pool(self, delta: np.ndarray) -> np.ndarray:
        """(w, T) force changes -> (w, T) receptive-field sums (R delta^T)^T."""
        if self.receptive_field is None:
            return delta
        return np.asarray((self.receptive_field @ delta.T).T)

    def _noise_gain(self, n_taxels: int) -> np.ndarray:
        """(T,) sd of an afferent's pooled noise over one taxel's: sqrt(sum_j R_ij^2)."""
        r = self.receptive_field
        if r is None:
            return np.ones(n_taxels)
        if r.shape != (n_taxels, n_taxels):
            raise ValueError(f"receptive_field has shape {r.shape}, expected ({n_taxels}, {n_taxels}) for the skin's taxels")
        squared = r.multiply(r).sum(axis=1) if hasattr(r, "multiply") else (np.asarray(r) ** 2).sum(axis=1)
        return np.sqrt(np.asarray(squared, dtype=float).ravel())

    def _update(self, x: np.ndarray) -> None:
        """One Kohonen step on a unit input x (T,)."""
        frac = min(self.n_events / self.anneal_samples, 1.0)
        sigma = self.sigma_start * (self.sigma_end / self.sigma_start) ** frac
        winner = int(np.argmax(self.weights @ x))
        h = np.exp(-self._d2[winner] / (2 * sigma**2))  # (K,)
        near = h > 1e-3
        w = self.weights[near] + self.lr * h[near, None] * x[None]
        self.weights[near] = w / np.linalg.norm(w, axis=1, keepdims=True)
        self.n_events += 1

    def taxel_nodes(self, weights: np.ndarray | None = None) -> np.ndarray:
        """(T,) int: the winning node of a touch on each taxel alone (argmax_j w_j[i])."""
        w = self.weights if weights is None else weights
        return np.argmax(w, axis=0)

    def body_map(self) -> dict[str, np.ndarray]:
        if self.weights is None:
            return {}
        return {"skinmap_taxel_node": self.taxel_nodes(), "skinmap_touched": self.touched.copy(),
                "skinmap_contacted": self.contacted.copy(), "skinmap_grid": np.array(self.grid)}

    def state_dict(self) -> dict[str, Any]:
        return {"layout": None if self.layout is None else layout_to_state(self.layout),
                "taxel_names": [] if self.layout is None else list(self.layout.taxel_names),
                "weights": None if self.weights is None else self.weights.copy(),
                "touched": self.touched.copy(), "contacted": self.contacted.copy(), "n_events": self.n_events, "rows": self._rows.copy(),
                "prev_mean": None if self._prev_mean is None else self._prev_mean.copy()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        layout = layout_from_state(state["layout"])
        self.layout = None if layout is None else replace(layout, taxel_names=tuple(str(n) for n in state["taxel_names"]))
        self.weights = None if state["weights"] is None else np.array(state["weights"], dtype=float)
        self.touched = np.array(state["touched"], dtype=bool)
        self.contacted = np.array(state.get("contacted", self.touched), dtype=bool)
        self.n_events = int(state["n_events"])
        self._rows = np.array(state["rows"], dtype=float)
        self._prev_mean = None if state["prev_mean"] is None else np.array(state["prev_mean"], dtype=float)


def neighbour_pairs(skin: Any, spacings: float = 1.5) -> np.ndarray:
    """(P, 2) taxel index pairs on the same link within `spacings` x the link's spacing."""
    pairs = []
    for k in range(len(skin.link_names)):
        start, stop = int(skin.link_start[k]), int(skin.link_stop[k])
        if stop - start < 2:
            continue
        pos = skin.position_m[start:stop]
        d = np.sqrt(((pos[:, None] - pos[None]) ** 2).sum(-1))
        a, b = np.nonzero(np.triu(d <= spacings * float(skin.spacing_m[k]), k=1))
        pairs.append(np.stack([a + start, b + start], axis=1))
    return np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=int)


def skinmap_scores(node_xy: np.ndarray, taxel_node: np.ndarray, pairs: np.ndarray, parts: np.ndarray,
                   touched: np.ndarray, contacted: np.ndarray | None = None) -> dict[str, float]:
    """Scores of a taxel -> node placement (docs/learners.md, "Somatotopic skin map").

    node_xy (K, 2) grid coordinates; taxel_node (T,) winning node per taxel; pairs (P, 2)
    neighbouring taxels on the body; parts (T,) body-part label per taxel; touched (T,) bool: the
    afferents placed; contacted (T,) bool or None: the taxels the movement physically reached.
    skinmap.adjacency: share of touched neighbour pairs whose nodes are the same or adjacent
    (grid Chebyshev distance <= 1); skinmap.segregation: over occupied nodes (labelled with the
    majority part of their taxels), the mean share of occupied adjacent nodes with the same label;
    skinmap.area_share.<part> and .taxel_share.<part>: the part's share of occupied nodes and of
    touched taxels; skinmap.coverage (and .coverage.<part>): share of taxels touched;
    skinmap.coverage_contact and .adjacency_contact (with `contacted`): the same on the taxels
    both contacted and touched.
    """
    out = {"skinmap.coverage": float(touched.mean()) if touched.size else float("nan")}
    for name in sorted(set(parts)):
        out[f"skinmap.coverage.{name}"] = float(touched[parts == name].mean())
    if contacted is not None:
        both = contacted & touched
        out["skinmap.coverage_contact"] = float(both.mean()) if both.size else float("nan")
        inner = skinmap_scores(node_xy, taxel_node, pairs, parts, both)
        out["skinmap.adjacency_contact"] = inner["skinmap.adjacency"]
        out["skinmap.pairs_contact"] = inner.get("skinmap.pairs", 0.0)
    keep = touched[pairs[:, 0]] & touched[pairs[:, 1]] if len(pairs) else np.zeros(0, bool)
    p = pairs[keep]
    if len(p) == 0:
        return {**out, "skinmap.adjacency": float("nan"), "skinmap.segregation": float("nan")}
    gap = np.abs(node_xy[taxel_node[p[:, 0]]] - node_xy[taxel_node[p[:, 1]]]).max(axis=1)
    out["skinmap.adjacency"] = float((gap <= 1).mean())
    out["skinmap.pairs"] = float(len(p))
    idx = np.flatnonzero(touched)
    names = sorted(set(parts[idx]))
    counts = np.zeros((len(node_xy), len(names)))
    np.add.at(counts, (taxel_node[idx], np.searchsorted(names, parts[idx])), 1)
    occupied = counts.sum(axis=1) > 0
    label = np.argmax(counts, axis=1)
    adjacent = (np.abs(node_xy[:, None] - node_xy[None]).max(-1) == 1) & occupied[None] & occupied[:, None]
    shares = [np.mean(label[adjacent[j]] == label[j]) for j in np.flatnonzero(occupied) if adjacent[j].any()]
    out["skinmap.segregation"] = float(np.mean(shares)) if shares else float("nan")
    for c, name in enumerate(names):
        out[f"skinmap.area_share.{name}"] = float(np.mean(label[occupied] == c))
        out[f"skinmap.taxel_share.{name}"] = float(np.mean(parts[idx] == name))
    return out


def part_colours(names: Any) -> np.ndarray:
    """(n, 3) RGB in [0, 1] of body parts: matplotlib's tab10 colour at the part's place in
    sorted(SKIN_PARTS), so a part has one colour in every figure and video of every run."""
    from matplotlib import colormaps

    from robot_twitch.body.skin import SKIN_PARTS

    order = sorted(SKIN_PARTS)
    tab10 = np.asarray(colormaps["tab10"].colors, dtype=float)
    return np.array([tab10[order.index(str(n)) % len(tab10)] for n in names], dtype=float).reshape(-1, 3)


def node_colours(n_nodes: int, taxel_node: np.ndarray, parts: np.ndarray, touched: np.ndarray) -> np.ndarray:
    """(K, 3) RGB in [0, 1]: each node in the colour (`part_colours`) of the majority body part of
    the touched afferents it wins, darker the more it wins (the area each part claims), white
    where it wins none. taxel_node (T,) winning node per afferent; parts (T,); touched (T,) bool."""
    rgb = np.ones((n_nodes, 3))
    idx = np.flatnonzero(touched)
    if idx.size == 0:
        return rgb
    names = sorted(set(parts[idx]))
    counts = np.zeros((n_nodes, len(names)))
    np.add.at(counts, (taxel_node[idx], np.searchsorted(names, parts[idx])), 1)
    held = counts.sum(axis=1)
    occ = held > 0
    shade = 0.35 + 0.65 * np.log1p(held[occ]) / np.log1p(held.max())  # more afferents: darker
    colour = part_colours([names[c] for c in np.argmax(counts[occ], axis=1)])
    rgb[occ] = 1.0 - shade[:, None] * (1.0 - colour)
    return rgb


def plot_skinmap_of(maps: dict[str, np.ndarray], skin: Any, path: Any) -> bool:
    """plots/skinmap.png from a run's saved maps (body_map.npz keys 'skinmap/...') and the body's
    SkinLayout; False (nothing drawn) when the run had no skin map."""
    from robot_twitch.body.skin import taxel_parts

    if "skinmap/skinmap_taxel_node" not in maps or "skinmap/skinmap_grid" not in maps:
        return False
    rows, cols = (int(v) for v in maps["skinmap/skinmap_grid"])
    rr, cc = np.divmod(np.arange(rows * cols), cols)
    plot_skinmap(np.stack([rr, cc], axis=1).astype(float), maps["skinmap/skinmap_taxel_node"], taxel_parts(skin),
                 maps["skinmap/skinmap_touched"].astype(bool), path)
    return True


def plot_skinmap(node_xy: np.ndarray, taxel_node: np.ndarray, parts: np.ndarray, touched: np.ndarray,
                 path: Any) -> None:
    """Figure: each map node coloured by the majority body part of the touched afferents it holds,
    darker the more afferents it holds (the area each part claims; `node_colours`)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = np.flatnonzero(touched)
    names = sorted(set(parts[idx])) if idx.size else []
    rows, cols = int(node_xy[:, 0].max()) + 1, int(node_xy[:, 1].max()) + 1
    rgb = node_colours(len(node_xy), taxel_node, parts, touched)
    fig, ax = plt.subplots(figsize=(4.8, 4))
    ax.imshow(rgb.reshape(rows, cols, 3))
    for name, colour in zip(names, part_colours(names), strict=True):
        ax.plot([], [], "s", color=colour, label=name)
    ax.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.02, 1), loc="upper left")
    ax.set_title(f"skin map: {idx.size} of {len(touched)} afferents touched, placed "
                 f"(white: none)", fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
