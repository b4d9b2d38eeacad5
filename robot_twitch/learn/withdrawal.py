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
the onset minus the force just before it (pooled by the receptive fields, below), and <Δp_i> the
mean of that change over all twitches so far (of any muscle):

    W[i, m] <- max(0, W[i, m] - eta * (Δp_i - <Δp_i>) / pressure_scale_n)   (unloading -> stronger)
    W[:, m] <- W[:, m] * S_m / sum_i W[i, m]                                  (normalisation)

with S_m the column's initial sum: each muscle's total skin input is conserved (heterosynaptic
normalisation), so strengthening some sites weakens the rest. Only columns of muscles that
twitched change (the rule is efference-gated: a muscle that never twitches learns nothing).

Why the mean is subtracted (a covariance rule, Sejnowski 1977, J Math Biol 4:303): the paper's
measure is the correlation between a muscle's twitches and the skin input that follows, i.e. how
much more a site unloads after this muscle's twitches than after twitches in general. Without
the subtraction every twitch strengthens every loaded site for whatever muscle twitched (the
whole body moves a little at each twitch and loaded skin tends to unload): the rows of loaded
skin fill with many muscles, and since the strongest muscles are antigravity muscles a reflex
that drives many muscles at once lifts loaded skin away from a support whichever they are. That
non-specific part reached the same error rate as the learned weights in the shuffled control
(measured on petersson2003, seeds 0-2: 0.30 vs 0.24 at 300 s; docs/learners.md), so it was
taken out (a change made after seeing those results).

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

The shuffled control (`control_weights`, always kept alongside): the same rule on the same
pressure windows, from the same initial weights, but each twitch's window is credited to a
muscle drawn uniformly at random (generator from `seed`) instead of the muscle that twitched.
It keeps everything about the skin's input except which muscle caused it, so a reflex score
that the control reaches as well does not need twitch-specific learning (docs/learners.md).
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
        self.control_weights: np.ndarray | None = None  # (T, M) the shuffled control (module docstring)
        self._control_rng = np.random.default_rng([self.seed, 16])
        self.mean_delta_n: np.ndarray | None = None  # (T,) <Δp>: mean pooled change over twitches so far [N]
        self.windows = 0  # twitch windows seen (of all muscles)
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
        self.control_weights = self.weights.copy()
        self.column_sum = self.weights.sum(axis=0)
        self.mean_delta_n = np.zeros(self.weights.shape[0])
        self.windows = 0
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
        """One twitch of muscle m followed by the pressure change delta_p_n (T,) [N]; the
        shuffled control credits the same change to a random muscle."""
        if self.receptive_field is not None:
            delta_p_n = self.receptive_field @ delta_p_n
        self.windows += 1
        deviation = delta_p_n - self.mean_delta_n  # about the mean over the twitches before this one
        self.mean_delta_n += deviation / self.windows
        self._apply(self.weights, m, deviation)
        self._apply(self.control_weights, int(self._control_rng.integers(self.weights.shape[1])), deviation)
        self.twitches[m] += 1

    def _apply(self, weights: np.ndarray, m: int, deviation_n: np.ndarray) -> None:
        """The rule on column m of `weights` (in place) for a pressure change's deviation (T,) [N]."""
        col = weights[:, m] - self.learning_rate * deviation_n / self.pressure_scale_n
        np.maximum(col, 0.0, out=col)
        total = col.sum()
        if total > 0:
            col *= self.column_sum[m] / total
        weights[:, m] = col

    def body_map(self) -> dict[str, np.ndarray]:
        if self.weights is None:
            return {}
        return {"withdrawal_weights": self.weights.copy(), "withdrawal_twitches": self.twitches.copy(),
                "withdrawal_control_weights": self.control_weights.copy()}

    def state_dict(self) -> dict[str, Any]:
        n_t = 0 if self.weights is None else self.weights.shape[0]
        return {"layout": None if self.layout is None else layout_to_state(self.layout),
                "taxel_names": [] if self.layout is None else list(self.layout.taxel_names),
                "weights": None if self.weights is None else self.weights.copy(),
                "control_weights": None if self.control_weights is None else self.control_weights.copy(),
                "control_rng": self._control_rng.bit_generator.state,
                "mean_delta_n": None if self.mean_delta_n is None else self.mean_delta_n.copy(),
                "windows": self.windows,
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
        control = state["control_weights"]
        self.control_weights = None if control is None else np.array(control, dtype=float)
        self._control_rng = np.random.default_rng()
        self._control_rng.bit_generator.state = state["control_rng"]
        mean = state["mean_delta_n"]
        self.mean_delta_n = None if mean is None else np.array(mean, dtype=float)
        self.windows = int(state["windows"])
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
