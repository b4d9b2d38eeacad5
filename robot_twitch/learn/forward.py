"""Forward model of sensory consequences: (s_t, u_t) -> s_{t+1}.

The model predicts the sensor change ds = s_{t+1} - s_t in units normalised by running
statistics (input and output z-scoring), the standard set-up of learned dynamics models in
model-based RL (Nagabandi et al. 2018, ICRA; Chua et al. 2018, NeurIPS) and of robot self-models
(Kwiatkowski & Lipson 2019, Sci Robot). Two kinds:

- ``ForwardModel``: an MLP trained online with Adam (Kingma & Ba 2015) on minibatches drawn
  from a bounded replay buffer (Lin 1992), predicting with a moving average of its weights
  (Polyak & Juditsky 1992). The net and its training are ``learn/mlp.MLPStack``: numpy on the
  CPU, torch on CUDA. Deterministic for a given seed: the initial weights and the minibatches
  come from a learner-owned numpy ``Generator`` (no global RNG is touched).
- ``LinearForwardModel``: the linear baseline ds ~ A [s, u] + b, solved in closed form (ridge)
  from running moments.

Both give ``predict`` and the held-out scores ``r2(batch)`` and ``nrmse(batch)`` on ds.
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
    ridge_regression,
)
from robot_twitch.learn.mlp import (
    STATE_ARRAYS,
    MLPStack,
    init_params,
    layer_sizes,
    resolve_device,
)
from robot_twitch.sensors_layout import SensorLayout
from robot_twitch.threads import one_blas_thread

_SD_FLOOR = 1e-8
_INPUT_SD_MIN = 1e-6  # inputs with a smaller training SD are not scaled (see _normalisers)
DEFAULT_HIDDEN = (64, 64)
DEFAULT_LR = 3e-3
DEFAULT_BATCH_SIZE = 512
DEFAULT_UPDATES_PER_BATCH = 3
DEFAULT_AVERAGE_DECAY = 0.995


def delta_scores(
    pred_delta: np.ndarray, true_delta: np.ndarray, scale: np.ndarray | None = None
) -> tuple[float, float]:
    """Held-out scores of predicted sensor changes, pooled over channels.

    Channels are first divided by ``scale`` (the training std of each channel's change, so that
    radians, newtons and normalised lengths weigh alike); channels whose scale or held-out
    variance is zero are left out. Pooling (1 - sum SSE / sum SST) keeps a channel that barely
    moved in the held-out stretch from dominating the score with a huge negative R^2.

    Args:
        pred_delta, true_delta: (T, S).
        scale: (S,) per-channel scale, or None (the held-out std: per-channel weighting).

    Returns:
        r2: 1 - sum_c MSE_c / sum_c Var_c over the kept, scaled channels.
        nrmse: sqrt(sum_c MSE_c / sum_c Var_c).
    """
    pred = np.asarray(pred_delta, dtype=np.float64)
    true = np.asarray(true_delta, dtype=np.float64)
    if pred.shape != true.shape or pred.ndim != 2:
        raise ValueError(f"pred and true must both be (T, S), got {pred.shape} and {true.shape}")
    if true.shape[0] < 2:
        raise ValueError("need at least 2 held-out steps to score")
    var = true.var(axis=0)
    # A channel that hardly moved in training but moves in the held-out stretch is scaled by
    # its held-out spread, so that it cannot blow the pooled score up on its own.
    scale = np.sqrt(var) if scale is None else np.maximum(np.asarray(scale, dtype=np.float64), np.sqrt(var))
    ok = (var > max(1e-20, 1e-12 * float(var.max()))) & (scale > _SD_FLOOR)
    if not ok.any():
        raise ValueError("held-out batch has no sensor channel that changes")
    mse = ((pred - true) ** 2).mean(axis=0)
    ratio = float((mse[ok] / scale[ok] ** 2).sum() / (var[ok] / scale[ok] ** 2).sum())
    return 1.0 - ratio, float(np.sqrt(ratio))


def _as_inputs(sensors: np.ndarray, command: np.ndarray, n_s: int, n_m: int) -> np.ndarray:
    s = np.asarray(sensors, dtype=np.float64)
    u = np.asarray(command, dtype=np.float64)
    if s.ndim == 1:
        s = s[None]
    if u.ndim == 1:
        u = u[None]
    if s.shape[1:] != (n_s,) or u.shape[1:] != (n_m,) or s.shape[0] != u.shape[0]:
        raise ValueError(f"predict expects sensors (T, {n_s}) and command (T, {n_m}), got "
                         f"{s.shape} and {u.shape}")
    return np.concatenate([s, u], axis=1)


class _ForwardBase:
    """Shared statistics, prediction wrappers and scores."""

    name: str
    _layout: SensorLayout | None
    _moments: RunningMoments | None

    def _dims(self) -> tuple[int, int]:
        if self._layout is None:
            raise ValueError(f"{self.name}: no data observed yet")
        return self._layout.size, len(self._layout.muscle_names)

    def _predict_delta(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def predict(self, sensors: np.ndarray, command: np.ndarray) -> np.ndarray:
        """Next sensor reading: sensors (T, S) or (S,), command (T, M) or (M,) -> (T, S)."""
        n_s, n_m = self._dims()
        x = _as_inputs(sensors, command, n_s, n_m)
        return x[:, :n_s] + self._predict_delta(x)

    def predict_delta(self, sensors: np.ndarray, command: np.ndarray) -> np.ndarray:
        """Sensor change over one step (T, S)."""
        n_s, n_m = self._dims()
        return self._predict_delta(_as_inputs(sensors, command, n_s, n_m))

    def scores(self, batch: TransitionBatch) -> tuple[float, float]:
        """(r2, nrmse) of the predicted sensor change on a held-out batch."""
        check_layout(batch, self._layout, self.name)
        n_s = batch.sensors.shape[1]
        train_sd = self._norm_stats()[1][-n_s:]
        return delta_scores(self.predict_delta(batch.sensors, batch.command), batch.delta, train_sd)

    def r2(self, batch: TransitionBatch) -> float:
        """Held-out R^2 of the sensor change, pooled over channels (see delta_scores)."""
        return self.scores(batch)[0]

    def nrmse(self, batch: TransitionBatch) -> float:
        """Held-out normalised RMSE of the sensor change, pooled over channels."""
        return self.scores(batch)[1]

    def _norm_stats(self) -> tuple[np.ndarray, np.ndarray]:
        assert self._moments is not None
        sd = np.sqrt(np.clip(np.diag(self._moments.cov), 0.0, None))
        return self._moments.mean.copy(), np.maximum(sd, _SD_FLOOR)


class LinearForwardModel(_ForwardBase):
    """Linear baseline ds ~ A [s, u] + b, closed-form ridge on running moments.

    Args:
        ridge: Tikhonov term relative to the mean (standardised) regressor variance.
        decay: per-step forgetting factor in (0, 1].
        name: learner name.
    """

    def __init__(
        self, ridge: float = 1e-6, decay: float = 1.0, name: str = "forward_linear"
    ) -> None:
        if ridge < 0:
            raise ValueError(f"ridge must be >= 0, got {ridge}")
        self.name = name
        self.ridge = float(ridge)
        self.decay = float(decay)
        self._layout: SensorLayout | None = None
        self._moments: RunningMoments | None = None
        self._coef_cache: tuple[int, np.ndarray, np.ndarray] | None = None

    def observe(self, batch: TransitionBatch) -> None:
        self._layout = check_layout(batch, self._layout, self.name)
        n_s, n_m = batch.layout.size, batch.command.shape[1]
        if self._moments is None:
            self._moments = RunningMoments(2 * n_s + n_m, self.decay)
        self._moments.update(np.concatenate([batch.sensors, batch.command, batch.delta], axis=1))
        self._coef_cache = None

    def _coef(self) -> tuple[np.ndarray, np.ndarray]:
        n_s, n_m = self._dims()
        assert self._moments is not None
        if self._coef_cache is None or self._coef_cache[0] != self._moments.count:
            # standardise the regressors so that the ridge acts evenly across units
            mean, sd = self._norm_stats()
            n_x = n_s + n_m
            scale = np.concatenate([1.0 / sd[:n_x], np.ones(n_s)])
            std_mom = RunningMoments(2 * n_s + n_m)
            std_mom.weight, std_mom.count = self._moments.weight, self._moments.count
            std_mom.comoment = self._moments.comoment * np.outer(scale, scale)
            coef_std, _ = ridge_regression(std_mom, n_x, self.ridge)
            coef = coef_std / sd[:n_x, None]
            intercept = mean[n_x:] - mean[:n_x] @ coef
            self._coef_cache = (self._moments.count, coef, intercept)
        return self._coef_cache[1], self._coef_cache[2]

    def _predict_delta(self, x: np.ndarray) -> np.ndarray:
        coef, intercept = self._coef()
        return x @ coef + intercept

    def body_map(self) -> dict[str, np.ndarray]:
        """``forward_linear_coef`` ((S + M), S) and ``forward_linear_intercept`` (S,)."""
        coef, intercept = self._coef()
        return {"forward_linear_coef": coef, "forward_linear_intercept": intercept}

    def state_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ridge": self.ridge,
            "decay": self.decay,
            "layout": layout_to_state(self._layout),
            "moments": None if self._moments is None else self._moments.state_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.name = str(state["name"])
        self.ridge = float(state["ridge"])
        self.decay = float(state["decay"])
        self._layout = layout_from_state(state["layout"])
        m = state["moments"]
        self._moments = None if m is None else RunningMoments.from_state_dict(m)
        self._coef_cache = None


class ForwardModel(_ForwardBase):
    """MLP forward model trained online from a bounded replay buffer.

    The net (SiLU hidden layers, linear output) and its Adam training are ``MLPStack``
    (learn/mlp.py): numpy on the CPU, torch on CUDA.

    Args:
        hidden: widths of the hidden layers.
        lr: Adam learning rate.
        batch_size: minibatch size.
        updates_per_batch: gradient steps after each observed batch.
        buffer_size: replay buffer capacity [transitions] (oldest overwritten first).
        weight_decay: Adam L2 weight decay.
        average_decay: decay of the moving average of the weights used for predictions (see
            ``MLPStack``); 0 predicts with the last weights.
        skip: add a linear map from input to output beside the hidden layers (``MLPStack``).
        seed: seeds the learner's own generator (initial weights, then minibatches).
        device: "cpu", "cuda", or "auto" (CUDA when present).
        name: learner name.
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = DEFAULT_HIDDEN,
        lr: float = DEFAULT_LR,
        batch_size: int = DEFAULT_BATCH_SIZE,
        updates_per_batch: int = DEFAULT_UPDATES_PER_BATCH,
        buffer_size: int = 100_000,
        weight_decay: float = 0.0,
        average_decay: float = DEFAULT_AVERAGE_DECAY,
        skip: bool = True,
        seed: int = 0,
        device: str = "cpu",
        name: str = "forward",
    ) -> None:
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive widths, got {hidden}")
        if lr <= 0 or batch_size < 1 or updates_per_batch < 0 or buffer_size < 1:
            raise ValueError("lr, batch_size, buffer_size must be positive, updates_per_batch >= 0")
        self.name = name
        self.hidden = tuple(int(h) for h in hidden)
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.updates_per_batch = int(updates_per_batch)
        self.buffer_size = int(buffer_size)
        self.weight_decay = float(weight_decay)
        if not 0.0 <= average_decay < 1.0:
            raise ValueError(f"average_decay must be in [0, 1), got {average_decay}")
        self.average_decay = float(average_decay)
        self.skip = bool(skip)
        self.seed = int(seed)
        self.device_name = device
        self.device = resolve_device(device)
        self._rng = np.random.default_rng(seed)
        self._layout: SensorLayout | None = None
        self._moments: RunningMoments | None = None
        self._net: MLPStack | None = None
        self._buffer: np.ndarray | None = None
        self._buf_len = 0
        self._buf_pos = 0
        self.n_updates = 0
        self.last_loss = float("nan")

    # -- model --------------------------------------------------------------------------------
    def _sizes(self, n_in: int, n_out: int) -> list[tuple[int, int]]:
        return layer_sizes(n_in, self.hidden, n_out)

    def _build(self, n_in: int, n_out: int) -> None:
        sizes = self._sizes(n_in, n_out)
        params = init_params(sizes, np.random.default_rng(self.seed), skip=self.skip)
        self._net = MLPStack(sizes, params[None], self.lr, self.weight_decay, self.average_decay, self.device,
                             skip=self.skip)

    def _normalisers(self) -> tuple[np.ndarray, ...]:
        """Input mean and scale (D_in,), output mean and scale (D_out,), float32."""
        n_s, n_m = self._dims()
        mean, sd = self._norm_stats()
        n_x = n_s + n_m
        # An input that has not varied in training (the command of a muscle that has not
        # twitched yet, touch of a free limb) is centred but not scaled: dividing by the SD floor
        # would turn its first non-zero value into ~1e8 and the prediction into garbage
        # (forward.r2 ~ -1e11 at the first scoring of a twitch run). StandardScaler does the same.
        sx = np.where(sd[:n_x] > _INPUT_SD_MIN, sd[:n_x], 1.0)
        return tuple(np.asarray(p, dtype=np.float32) for p in (mean[:n_x], sx, mean[n_x:], sd[n_x:]))

    def observe(self, batch: TransitionBatch) -> None:
        self.store(batch)
        if self.updates_per_batch and self._buf_len:
            assert self._net is not None
            x, y = self.minibatches(self.updates_per_batch)
            ops = self._net.ops
            loss = None
            with one_blas_thread():
                for j in range(self.updates_per_batch):
                    loss = self._net.train_step(ops.asarray(x[j][None]), ops.asarray(y[j][None]))
            self.n_updates += self.updates_per_batch
            self.last_loss = float(loss[0])

    def store(self, batch: TransitionBatch) -> None:
        """Add a batch to the running statistics and the replay buffer (no training)."""
        self._layout = check_layout(batch, self._layout, self.name)
        n_s, n_m = batch.layout.size, batch.command.shape[1]
        n_x = n_s + n_m
        if self._net is None:
            self._build(n_x, n_s)
            self._moments = RunningMoments(n_x + n_s)
            self._buffer = np.zeros((self.buffer_size, n_x + n_s), dtype=np.float32)
        rows = np.concatenate([batch.sensors, batch.command, batch.delta], axis=1)
        assert self._moments is not None and self._buffer is not None
        self._moments.update(rows)
        for row_block in np.array_split(rows, max(1, -(-len(rows) // self.buffer_size))):
            n = len(row_block)
            idx = (self._buf_pos + np.arange(n)) % self.buffer_size
            self._buffer[idx] = row_block
            self._buf_pos = int((self._buf_pos + n) % self.buffer_size)
            self._buf_len = min(self.buffer_size, self._buf_len + n)

    def minibatches(self, n_updates: int) -> tuple[np.ndarray, np.ndarray]:
        """The next n_updates normalised minibatches from the replay buffer.

        Returns:
            x: (n_updates, B, S + M) inputs, y: (n_updates, B, S) targets, float32.
        """
        assert self._buffer is not None
        n_x = sum(self._dims())
        mx, sx, my, sy = self._normalisers()
        idx = self._rng.integers(0, self._buf_len, size=(n_updates, min(self.batch_size, self._buf_len)))
        data = self._buffer[idx]
        return (data[..., :n_x] - mx) / sx, (data[..., n_x:] - my) / sy

    def _predict_delta(self, x: np.ndarray) -> np.ndarray:
        if self._net is None:
            raise ValueError(f"{self.name}: no data observed yet")
        mx, sx, my, sy = self._normalisers()
        ops = self._net.ops
        with one_blas_thread():
            out = ops.to_numpy(self._net.predict(ops.asarray(((x - mx) / sx)[None].astype(np.float32))))[0]
        return out.astype(np.float64) * sy + my

    def body_map(self) -> dict[str, np.ndarray]:
        """The forward model is a function, not an array; exports ``forward_train_loss`` (1,)."""
        return {"forward_train_loss": np.array([self.last_loss])}

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        net = None if self._net is None else self._net.state_arrays()
        return {
            "config": {
                "hidden": list(self.hidden),
                "lr": self.lr,
                "batch_size": self.batch_size,
                "updates_per_batch": self.updates_per_batch,
                "buffer_size": self.buffer_size,
                "weight_decay": self.weight_decay,
                "average_decay": self.average_decay,
                "skip": self.skip,
                "seed": self.seed,
                "device": self.device_name,
                "name": self.name,
            },
            "layout": layout_to_state(self._layout),
            "rng": self._rng.bit_generator.state,
            "moments": None if self._moments is None else self._moments.state_dict(),
            "net": None if net is None else {**{k: v[0] for k, v in net.items()}, "steps": self._net.steps},
            "buffer": None if self._buffer is None else self._buffer[: self._buf_len].copy(),
            "buf_pos": self._buf_pos,
            "n_updates": self.n_updates,
            "last_loss": self.last_loss,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        cfg = dict(state["config"])
        cfg["hidden"] = tuple(cfg["hidden"])
        self.__init__(**cfg)  # type: ignore[misc]
        self._layout = layout_from_state(state["layout"])
        self._rng.bit_generator.state = state["rng"]
        if state["net"] is None or self._layout is None:
            return
        n_s, n_m = self._dims()
        self._build(n_s + n_m, n_s)
        assert self._net is not None
        net = state["net"]
        self._net.load_arrays({k: np.asarray(net[k])[None] for k in STATE_ARRAYS}, int(net["steps"]))
        self._moments = RunningMoments.from_state_dict(state["moments"])
        buf = np.asarray(state["buffer"], dtype=np.float32)
        self._buffer = np.zeros((self.buffer_size, buf.shape[1]), dtype=np.float32)
        self._buffer[: len(buf)] = buf
        self._buf_len = len(buf)
        self._buf_pos = int(state["buf_pos"])
        self.n_updates = int(state["n_updates"])
        self.last_loss = float(state["last_loss"])
