"""The twitch-touch correlation rule that tunes the withdrawal reflex (Petersson et al. 2003).

Petersson, Waldenström, Fåhraeus & Schouenborg 2003, "Spontaneous muscle twitches during sleep
guide spinal self-organization", Nature 424:72-75. In sleeping rat pups a twitch of a muscle
lifts the skin that the muscle withdraws off the surface the pup lies on, and the pressure on
that skin falls; the paper proposes that the connection from a skin site to a muscle's reflex
pathway is adjusted by the correlation between the muscle's twitch and the change of that
site's input that follows it: a fall in input (unloading) strengthens the connection, a rise
weakens it; the connections then encode each muscle's nociceptive withdrawal field.

The rule here, per twitch of muscle m detected from the efference copy (its command crossing
`onset_threshold` upward), with Δp_i the mean normal force on taxel i over the `window_s` after
the onset minus the force just before it:

    W[i, m] <- max(0, W[i, m] - eta * Δp_i / pressure_scale_n)     (unloading -> stronger)
    W[:, m] <- W[:, m] * S_m / sum_i W[i, m]                          (normalisation)

with S_m the column's initial sum: each muscle's total skin input is conserved (heterosynaptic
normalisation), so strengthening some sites weakens the rest. Only columns of muscles that
twitched change (the rule is efference-gated: a muscle that never twitches learns nothing).

The skin's input to the reflex pathway is each site's receptive field: the pressure pooled over
nearby taxels of the same link with Gaussian weights (`receptive_field`, (T, T); built by
`receptive_fields(layout)` with radius sigma = max(2 spacings, 5 mm)). Cutaneous afferents and the
dorsal horn neurons of the withdrawal modules have receptive fields covering a patch of skin,
not a point (Schouenborg 2002, Brain Res Rev 40:80), so a twitch that unloads the patch a limb
rests on updates the sites around the contact point too.

What the paper does not fix (its model is stated in words and one correlation measure, not as
an update equation with constants) and was chosen here: the window (0.1 s, about one twitch),
the learning rate and pressure scale, the weights' sign constraint (excitatory, >= 0), the
normalisation (column sums kept), and the initial weights: each site connects to each muscle
with probability `connection_prob` (default 0.1), with a strength drawn uniformly in [0, 1)
(`seed`): sparse, unstructured connections, no withdrawal-field structure before learning.
Dense uniform weights would not do: the body generator makes antigravity muscles the strongest,
so a dense random pattern already lifts most loaded skin off the mattress (about 0 % errors on
the loaded sites, not the 64 % of rats at P10, Waldenström et al. 2003).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from robot_twitch.learn.base import TransitionBatch, check_layout, layout_from_state, layout_to_state


class WithdrawalLearner:
    """Skin -> muscle withdrawal weights W (T, M) learned from twitches and skin pressure.

    Args:
        learning_rate: eta, weight change per twitch for a fall of `pressure_scale_n`.
        pressure_scale_n: force change [N] that counts as one unit of unloading.
        window_s: time after a twitch onset over which the pressure change is averaged [s].
        onset_threshold: command level whose upward crossing is a twitch onset.
        dt_s: control step [s].
        seed: generator of the initial weights.
        connection_prob: probability of an initial connection from a site to a muscle.
        receptive_field: (T, T) matrix (dense or scipy.sparse) pooling the taxels' pressure into
            each site's input; None: each site feels only its own taxel.
        name: learner name.
    """

    def __init__(self, learning_rate: float = 0.5, pressure_scale_n: float = 0.01, window_s: float = 0.1,
                 onset_threshold: float = 0.05, dt_s: float = 0.01, seed: int = 0, connection_prob: float = 0.1,
                 receptive_field: Any = None,
                 name: str = "withdrawal") -> None:
        for key, val in (("learning_rate", learning_rate), ("pressure_scale_n", pressure_scale_n),
                         ("window_s", window_s), ("onset_threshold", onset_threshold), ("dt_s", dt_s),
                         ("connection_prob", connection_prob)):
            if not val > 0:
                raise ValueError(f"{key} must be > 0, got {val!r}")
        self.name = name
        self.learning_rate = float(learning_rate)
        self.pressure_scale_n = float(pressure_scale_n)
        self.window_steps = max(1, int(round(window_s / dt_s)))
        self.onset_threshold = float(onset_threshold)
        self.seed = int(seed)
        if connection_prob > 1:
            raise ValueError(f"connection_prob must be in (0, 1], got {connection_prob!r}")
        self.connection_prob = float(connection_prob)
        self.receptive_field = receptive_field
        self.layout = None
        self.weights: np.ndarray | None = None  # (T, M)
        self.column_sum: np.ndarray | None = None  # (M,)
        self.twitches = np.zeros(0, dtype=np.int64)  # (M,) twitches learned from
        self._prev_command: np.ndarray | None = None  # (M,)
        # twitches whose window is still open: muscle, baseline (T,), force sum (T,), steps seen
        self._pending: list[tuple[int, np.ndarray, np.ndarray, int]] = []

    def initial_weights(self) -> np.ndarray:
        """(T, M) the weights before any learning: sparse uniform draws from `seed` (module docstring)."""
        if self.layout is None:
            raise ValueError("WithdrawalLearner.initial_weights: no batch seen yet (sizes unknown)")
        shape = (len(self.layout.taxel_names), len(self.layout.muscle_names))
        rng = np.random.default_rng(self.seed)
        strength = rng.random(shape)
        return strength * (rng.random(shape) < self.connection_prob)

    def _init(self, layout: Any) -> None:
        if "skin" not in layout.slices:
            raise ValueError("WithdrawalLearner needs the skin sensor group (a body with skin and "
                             "SensorLayout.for_body)")
        self.layout = layout
        n_m = len(layout.muscle_names)
        self.weights = self.initial_weights()
        self.column_sum = self.weights.sum(axis=0)
        self.twitches = np.zeros(n_m, dtype=np.int64)
        self._prev_command = np.zeros(n_m)

    def observe(self, batch: TransitionBatch) -> None:
        check_layout(batch, self.layout, self.name)
        if self.layout is None:
            self._init(batch.layout)
        before, after = batch.group("skin"), batch.group("skin", after=True)  # (n, T)
        cmd = batch.command
        prev = np.vstack([self._prev_command[None], cmd[:-1]])
        onsets = (cmd >= self.onset_threshold) & (prev < self.onset_threshold)  # (n, M)
        self._prev_command = cmd[-1].copy()
        n = len(batch)
        pending = [(m, base, acc, seen, 0) for m, base, acc, seen in self._pending]
        for t, m in zip(*np.nonzero(onsets), strict=True):
            pending.append((int(m), before[t].copy(), np.zeros(before.shape[1]), 0, int(t)))
        self._pending = []
        cumsum = np.vstack([np.zeros((1, after.shape[1])), np.cumsum(after, axis=0)])  # (n + 1, T)
        for m, base, acc, seen, start in pending:
            stop = min(n, start + self.window_steps - seen)
            acc = acc + cumsum[stop] - cumsum[start]
            seen += stop - start
            if seen < self.window_steps:
                self._pending.append((m, base, acc, seen))
            else:
                self._update(m, acc / seen - base)

    def _update(self, m: int, delta_p_n: np.ndarray) -> None:
        """One twitch of muscle m followed by the pressure change delta_p_n (T,) [N]."""
        if self.receptive_field is not None:
            delta_p_n = self.receptive_field @ delta_p_n
        col = self.weights[:, m] - self.learning_rate * delta_p_n / self.pressure_scale_n
        np.maximum(col, 0.0, out=col)
        total = col.sum()
        if total > 0:
            col *= self.column_sum[m] / total
        self.weights[:, m] = col
        self.twitches[m] += 1

    def body_map(self) -> dict[str, np.ndarray]:
        if self.weights is None:
            return {}
        return {"withdrawal_weights": self.weights.copy(), "withdrawal_twitches": self.twitches.copy()}

    def state_dict(self) -> dict[str, Any]:
        n_t = 0 if self.weights is None else self.weights.shape[0]
        return {"layout": None if self.layout is None else layout_to_state(self.layout),
                "taxel_names": [] if self.layout is None else list(self.layout.taxel_names),
                "weights": None if self.weights is None else self.weights.copy(),
                "column_sum": None if self.column_sum is None else self.column_sum.copy(),
                "twitches": self.twitches.copy(),
                "prev_command": None if self._prev_command is None else self._prev_command.copy(),
                "pending_muscle": np.array([p[0] for p in self._pending], dtype=np.int64),
                "pending_base": np.array([p[1] for p in self._pending]).reshape(len(self._pending), n_t),
                "pending_acc": np.array([p[2] for p in self._pending]).reshape(len(self._pending), n_t),
                "pending_seen": np.array([p[3] for p in self._pending], dtype=np.int64)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        layout = layout_from_state(state["layout"])
        self.layout = None if layout is None else replace(layout, taxel_names=tuple(str(n) for n in state["taxel_names"]))
        self.weights = None if state["weights"] is None else np.array(state["weights"], dtype=float)
        self.column_sum = None if state["column_sum"] is None else np.array(state["column_sum"], dtype=float)
        self.twitches = np.array(state["twitches"], dtype=np.int64)
        self._prev_command = None if state["prev_command"] is None else np.array(state["prev_command"], dtype=float)
        self._pending = [(int(m), np.array(b, dtype=float), np.array(a, dtype=float), int(s)) for m, b, a, s in
                         zip(state["pending_muscle"], state["pending_base"], state["pending_acc"],
                             state["pending_seen"], strict=True)]


def receptive_fields(skin: Any, min_radius_m: float = 0.005, spacings: float = 2.0) -> Any:
    """(T, T) scipy.sparse row-normalised Gaussian pooling of taxels on the same link.

    skin: a SkinLayout; the radius of link l's fields is max(spacings x spacing_l, min_radius_m),
    weights exp(-d^2 / (2 sigma^2)) over taxels within 3 sigma (d in the link frame).
    """
    from scipy import sparse

    rows, cols, vals = [], [], []
    for k in range(len(skin.link_names)):
        start, stop = int(skin.link_start[k]), int(skin.link_stop[k])
        if stop <= start:
            continue
        sigma = max(spacings * float(skin.spacing_m[k]), min_radius_m)
        pos = skin.position_m[start:stop]
        d2 = ((pos[:, None, :] - pos[None, :, :]) ** 2).sum(-1)
        w = np.exp(-d2 / (2 * sigma**2)) * (d2 <= (3 * sigma) ** 2)
        w /= w.sum(axis=1, keepdims=True)
        r, c = np.nonzero(w)
        rows.append(r + start)
        cols.append(c + start)
        vals.append(w[r, c])
    n = skin.n_taxels
    if not rows:
        return sparse.identity(n, format="csr")
    return sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))
