"""Forward model of sensory consequences: (s_t, u_t) -> s_{t+1}.

The model predicts the sensor change ds = s_{t+1} - s_t in units normalised by running
statistics (input and output z-scoring), the standard set-up of learned dynamics models in
model-based RL (Nagabandi et al. 2018, ICRA; Chua et al. 2018, NeurIPS) and of robot self-models
(Kwiatkowski & Lipson 2019, Sci Robot). Two kinds:

- ``ForwardModel``: a torch MLP trained online with Adam (Kingma & Ba 2015) on minibatches drawn
  from a bounded replay buffer (Lin 1992); deterministic on CPU for a given seed: weights are
  initialised from a learner-owned ``torch.Generator`` and minibatches from a learner-owned
  numpy ``Generator`` (no global RNG is touched).
- ``LinearForwardModel``: the linear baseline ds ~ A [s, u] + b, solved in closed form (ridge)
  from running moments.

Both give ``predict`` and the held-out scores ``r2(batch)`` and ``nrmse(batch)`` on ds.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from robot_twitch.learn.base import (
    RunningMoments,
    TransitionBatch,
    check_layout,
    layout_from_state,
    layout_to_state,
    ridge_regression,
)
from robot_twitch.sensors_layout import SensorLayout

_SD_FLOOR = 1e-8
_INPUT_SD_MIN = 1e-6  # inputs with a smaller training SD are not scaled (see _normalisers)


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
        """Next sensor frame: sensors (T, S) or (S,), command (T, M) or (M,) -> (T, S)."""
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


def _to_numpy_tree(obj: Any) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.detach().cpu().numpy().copy()
    if isinstance(obj, dict):
        return {k: _to_numpy_tree(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_numpy_tree(v) for v in obj)
    return obj


def _to_torch_tree(obj: Any, device: torch.device) -> Any:
    if isinstance(obj, np.ndarray):
        return torch.as_tensor(obj.copy())
    if isinstance(obj, dict):
        return {k: _to_torch_tree(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_torch_tree(v, device) for v in obj)
    return obj


@contextlib.contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run a block with torch limited to n intra-op CPU threads, then restore the setting."""
    before = torch.get_num_threads()
    if n is None or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class ForwardModel(_ForwardBase):
    """MLP forward model trained online from a bounded replay buffer.

    Args:
        hidden: widths of the hidden layers.
        lr: Adam learning rate.
        batch_size: minibatch size.
        updates_per_batch: gradient steps after each observed batch.
        buffer_size: replay buffer capacity [transitions] (oldest overwritten first).
        weight_decay: Adam L2 weight decay.
        seed: seeds the learner's own torch and numpy generators.
        device: "cpu", "cuda", or "auto" (CUDA when present).
        name: learner name.
        threads: CPU threads torch may use while this learner trains or predicts (the previous
            setting is restored afterwards); None leaves torch's setting alone. For nets this
            small one thread is fastest, and on a shared machine several threads contend badly
            (3x slower on 2 busy cores); a fixed count also keeps CPU results bit-identical
            across machines.
    """

    def __init__(
        self,
        hidden: tuple[int, ...] = (128, 128),
        lr: float = 1e-3,
        batch_size: int = 256,
        updates_per_batch: int = 30,
        buffer_size: int = 100_000,
        weight_decay: float = 0.0,
        seed: int = 0,
        device: str = "cpu",
        name: str = "forward",
        threads: int | None = 1,
    ) -> None:
        if not hidden or any(int(h) < 1 for h in hidden):
            raise ValueError(f"hidden must be a non-empty tuple of positive widths, got {hidden}")
        if lr <= 0 or batch_size < 1 or updates_per_batch < 0 or buffer_size < 1:
            raise ValueError("lr, batch_size, buffer_size must be positive, updates_per_batch >= 0")
        if device not in ("cpu", "cuda", "auto"):
            raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}")
        self.name = name
        self.hidden = tuple(int(h) for h in hidden)
        self.lr = float(lr)
        self.batch_size = int(batch_size)
        self.updates_per_batch = int(updates_per_batch)
        self.buffer_size = int(buffer_size)
        self.weight_decay = float(weight_decay)
        self.seed = int(seed)
        if threads is not None and int(threads) < 1:
            raise ValueError(f"threads must be >= 1 or None, got {threads}")
        self.threads = None if threads is None else int(threads)
        self.device_name = device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self._rng = np.random.default_rng(seed)
        self._layout: SensorLayout | None = None
        self._moments: RunningMoments | None = None
        self._net: nn.Sequential | None = None
        self._opt: torch.optim.Adam | None = None
        self._buffer: np.ndarray | None = None
        self._buf_len = 0
        self._buf_pos = 0
        self.n_updates = 0
        self.last_loss = float("nan")

    # -- model --------------------------------------------------------------------------------
    def _build(self, n_in: int, n_out: int) -> None:
        gen = torch.Generator().manual_seed(self.seed)
        layers: list[nn.Module] = []
        width = n_in
        for h in (*self.hidden, n_out):
            lin = nn.Linear(width, h)
            bound = 1.0 / np.sqrt(width)  # PyTorch's default Linear init, from our generator
            with torch.no_grad():
                lin.weight.uniform_(-bound, bound, generator=gen)
                lin.bias.uniform_(-bound, bound, generator=gen)
            layers += [lin, nn.SiLU()]
            width = h
        self._net = nn.Sequential(*layers[:-1]).to(self.device)
        self._opt = torch.optim.Adam(
            self._net.parameters(), lr=self.lr, weight_decay=self.weight_decay
        )

    def _normalisers(self) -> tuple[torch.Tensor, ...]:
        n_s, n_m = self._dims()
        mean, sd = self._norm_stats()
        n_x = n_s + n_m
        # An input that has not varied in training (the command of a muscle that has not
        # twitched yet, touch of a free limb) is centred but not scaled: dividing by the SD floor
        # would turn its first non-zero value into ~1e8 and the prediction into garbage
        # (forward.r2 ~ -1e11 at the first scoring of a twitch run). StandardScaler does the same.
        sx = np.where(sd[:n_x] > _INPUT_SD_MIN, sd[:n_x], 1.0)
        parts = (mean[:n_x], sx, mean[n_x:], sd[n_x:])
        return tuple(torch.as_tensor(p, dtype=torch.float32, device=self.device) for p in parts)

    def observe(self, batch: TransitionBatch) -> None:
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
        self._train(self.updates_per_batch)

    def _train(self, n_updates: int) -> None:
        if n_updates == 0 or self._buf_len == 0:
            return
        with _torch_threads(self.threads):
            self._train_steps(n_updates)

    def _train_steps(self, n_updates: int) -> None:
        assert self._net is not None and self._opt is not None and self._buffer is not None
        n_s, n_m = self._dims()
        n_x = n_s + n_m
        mx, sx, my, sy = self._normalisers()
        self._net.train()
        loss_val = torch.zeros((), device=self.device)
        for _ in range(n_updates):
            idx = self._rng.integers(0, self._buf_len, size=min(self.batch_size, self._buf_len))
            data = torch.as_tensor(self._buffer[idx], device=self.device)
            x = (data[:, :n_x] - mx) / sx
            y = (data[:, n_x:] - my) / sy
            loss = torch.mean((self._net(x) - y) ** 2)
            self._opt.zero_grad(set_to_none=True)
            loss.backward()
            self._opt.step()
            loss_val = loss.detach()
        self.n_updates += n_updates
        self.last_loss = float(loss_val)

    def _predict_delta(self, x: np.ndarray) -> np.ndarray:
        if self._net is None:
            raise ValueError(f"{self.name}: no data observed yet")
        mx, sx, my, sy = self._normalisers()
        self._net.eval()
        with torch.no_grad(), _torch_threads(self.threads):
            xt = torch.as_tensor(x, dtype=torch.float32, device=self.device)
            out = self._net((xt - mx) / sx) * sy + my
        return out.cpu().numpy().astype(np.float64)

    def body_map(self) -> dict[str, np.ndarray]:
        """The forward model is a function, not an array; exports ``forward_train_loss`` (1,)."""
        return {"forward_train_loss": np.array([self.last_loss])}

    # -- state --------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        return {
            "config": {
                "hidden": list(self.hidden),
                "lr": self.lr,
                "batch_size": self.batch_size,
                "updates_per_batch": self.updates_per_batch,
                "buffer_size": self.buffer_size,
                "weight_decay": self.weight_decay,
                "seed": self.seed,
                "device": self.device_name,
                "name": self.name,
                "threads": self.threads,
            },
            "layout": layout_to_state(self._layout),
            "rng": self._rng.bit_generator.state,
            "moments": None if self._moments is None else self._moments.state_dict(),
            "net": None if self._net is None else _to_numpy_tree(dict(self._net.state_dict())),
            "opt": None if self._opt is None else _to_numpy_tree(self._opt.state_dict()),
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
        assert self._net is not None and self._opt is not None
        self._net.load_state_dict(_to_torch_tree(state["net"], self.device))
        self._opt.load_state_dict(_to_torch_tree(state["opt"], self.device))
        self._moments = RunningMoments.from_state_dict(state["moments"])
        buf = np.asarray(state["buffer"], dtype=np.float32)
        self._buffer = np.zeros((self.buffer_size, buf.shape[1]), dtype=np.float32)
        self._buffer[: len(buf)] = buf
        self._buf_len = len(buf)
        self._buf_pos = int(state["buf_pos"])
        self.n_updates = int(state["n_updates"])
        self.last_loss = float(state["last_loss"])
