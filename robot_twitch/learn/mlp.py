"""K independent multilayer perceptrons trained side by side, with the gradient written out.

The forward model's net is small (tens of inputs, two hidden layers of tens of units), so a
training step through autograd and ``torch.optim`` costs more in framework overhead than in
arithmetic (and ``torch.optim.Adam`` imports ``torch._dynamo``, seconds at start-up). Here the
forward pass, the backward pass of the mean squared error and the Adam update (Kingma & Ba 2015,
with PyTorch's L2 ``weight_decay`` convention) are a fixed list of array operations on parameters
that live in one flat ``(K, P)`` buffer, so that the Adam update is a few element-wise operations
on one array.

The same code runs on numpy (CPU, the default: no torch import, ~1 us per operation) or on torch
tensors (``device="cuda"``). K models (one per seed) share every operation: layer ``l`` holds
weights ``(K, n_in, n_out)`` and its products are stacked matrix products over the K models, so
model k's numbers depend only on model k's inputs (tests/learn/test_learn_mlp.py: a stack of K
models gives, bit for bit, what K stacks of one give on the CPU).

Shapes: K models, B minibatch rows, D_in inputs, D_out outputs, P parameters per model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
STATE_ARRAYS = ("params", "average", "exp_avg", "exp_avg_sq")


def layer_sizes(n_in: int, hidden: Sequence[int], n_out: int) -> list[tuple[int, int]]:
    """(fan_in, fan_out) of each linear layer."""
    widths = [int(n_in), *(int(h) for h in hidden), int(n_out)]
    return list(zip(widths[:-1], widths[1:], strict=True))


def n_params(sizes: Sequence[tuple[int, int]], skip: bool = False) -> int:
    """Parameters per model: each layer's weights and biases, then the skip weights."""
    return sum(a * b + b for a, b in sizes) + (sizes[0][0] * sizes[-1][1] if skip else 0)


def init_params(sizes: Sequence[tuple[int, int]], rng: np.random.Generator, skip: bool = False) -> np.ndarray:
    """(P,) float32 initial parameters: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and
    biases (torch.nn.Linear's default), drawn layer by layer, weights then bias, then the skip
    weights (D_in, D_out) likewise."""
    parts = []
    for a, b in sizes:
        bound = 1.0 / np.sqrt(a)
        parts.append(rng.uniform(-bound, bound, size=a * b))
        parts.append(rng.uniform(-bound, bound, size=b))
    if skip:
        d_in, d_out = sizes[0][0], sizes[-1][1]
        parts.append(rng.uniform(-1.0 / np.sqrt(d_in), 1.0 / np.sqrt(d_in), size=d_in * d_out))
    return np.concatenate(parts).astype(np.float32)


def resolve_device(device: str) -> str:
    """"cpu", "cuda", or "auto" (CUDA when torch sees one) -> "cpu" or "cuda"."""
    if device not in ("cpu", "cuda", "auto"):
        raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {device!r}")
    if device == "auto":
        try:
            import torch
        except ImportError:
            return "cpu"
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class ArrayOps:
    """The few array operations the MLP needs, on numpy (CPU) or torch (a torch device)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.torch: Any = None
        if device != "cpu":
            import torch

            if device == "cuda" and not torch.cuda.is_available():
                raise ValueError("device 'cuda' requested but torch sees no CUDA device")
            self.torch = torch

    def asarray(self, x: np.ndarray) -> Any:
        """A float32 copy of x on this device."""
        if self.torch is None:
            return np.array(x, dtype=np.float32)
        return self.torch.as_tensor(np.asarray(x, dtype=np.float32)).to(self.device)

    def to_numpy(self, x: Any) -> np.ndarray:
        if self.torch is None:
            return np.array(x, dtype=np.float32)
        return x.detach().cpu().numpy().copy()

    def zeros_like(self, x: Any) -> Any:
        return np.zeros_like(x) if self.torch is None else self.torch.zeros_like(x)

    def tanh(self, x: Any) -> Any:
        return np.tanh(x) if self.torch is None else self.torch.tanh(x)

    def sqrt(self, x: Any) -> Any:
        return np.sqrt(x) if self.torch is None else self.torch.sqrt(x)

    def swap12(self, x: Any) -> Any:
        """(K, a, b) -> (K, b, a)."""
        return x.swapaxes(1, 2)

    def concat(self, parts: list[Any]) -> Any:
        return np.concatenate(parts, axis=1) if self.torch is None else self.torch.cat(parts, dim=1)


class MLPStack:
    """K MLPs with SiLU hidden units and a linear output, trained with Adam on a squared error.

    With ``skip`` the output also gets a linear map of the input (out = MLP(x) + x W_skip): the
    linear part of the dynamics is learned directly and the hidden units fit what is left, which
    reaches the same held-out error with fewer updates (docs/learners.md).

    Args:
        sizes: (fan_in, fan_out) of each layer (see ``layer_sizes``).
        params: (K, P) initial parameters (see ``init_params``).
        skip: add the linear skip from input to output (params must hold its weights).
        lr, weight_decay: Adam step size and L2 term (added to the gradient, as torch.optim.Adam).
        average_decay: decay of the exponential moving average of the parameters that
            ``predict`` uses (Polyak averaging, Polyak & Juditsky 1992; 0 = the last parameters).
            Constant-step Adam leaves the weights jittering around the minimum; the average
            smooths that jitter out. The decay ramps up as min(decay, (1 + t) / (10 + t)) over
            the first steps, so that the initial weights are forgotten quickly.
        device: "cpu" (numpy) or a torch device name such as "cuda".
    """

    def __init__(self, sizes: Sequence[tuple[int, int]], params: np.ndarray, lr: float,
                 weight_decay: float = 0.0, average_decay: float = 0.0, device: str = "cpu",
                 skip: bool = False) -> None:
        self.sizes = [(int(a), int(b)) for a, b in sizes]
        self.skip = bool(skip)
        params = np.asarray(params, dtype=np.float32)
        p = n_params(self.sizes, self.skip)
        if params.ndim != 2 or params.shape[1] != p:
            raise ValueError(f"MLPStack: params must be (K, {p}), got {params.shape}")
        self.k = params.shape[0]
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        if not 0.0 <= average_decay < 1.0:
            raise ValueError(f"average_decay must be in [0, 1), got {average_decay}")
        self.average_decay = float(average_decay)
        self.ops = ArrayOps(device)
        self.params = self.ops.asarray(params)  # (K, P)
        self.average = self.ops.asarray(params)  # (K, P) parameters used by predict
        self.exp_avg = self.ops.zeros_like(self.params)
        self.exp_avg_sq = self.ops.zeros_like(self.params)
        self.steps = 0
        self._layers, self._skip = self._views(self.params)
        self._average_layers, self._average_skip = self._views(self.average)

    def _views(self, flat: Any) -> tuple[list[tuple[Any, Any]], Any]:
        """Views into a (K, P) buffer: per layer (weight (K, fan_in, fan_out), bias (K, 1,
        fan_out)), and the skip weights (K, D_in, D_out) or None."""
        out, pos = [], 0
        k = flat.shape[0]
        for a, b in self.sizes:
            w = flat[:, pos:pos + a * b].reshape(k, a, b)
            pos += a * b
            bias = flat[:, pos:pos + b].reshape(k, 1, b)
            pos += b
            out.append((w, bias))
        d_in, d_out = self.sizes[0][0], self.sizes[-1][1]
        skip = flat[:, pos:pos + d_in * d_out].reshape(k, d_in, d_out) if self.skip else None
        return out, skip

    # -- maths ----------------------------------------------------------------------------
    def _sigmoid(self, z: Any) -> Any:
        return 0.5 * (1.0 + self.ops.tanh(0.5 * z))  # = 1 / (1 + exp(-z)), without overflow

    def predict(self, x: Any) -> Any:
        """(K, B, D_in) -> (K, B, D_out) with the averaged parameters."""
        return self._forward(x, self._average_layers, self._average_skip)

    def forward(self, x: Any) -> Any:
        """(K, B, D_in) -> (K, B, D_out) with the current parameters."""
        return self._forward(x, self._layers, self._skip)

    def _forward(self, x: Any, layers: list[tuple[Any, Any]], skip: Any) -> Any:
        h = x
        last = len(layers) - 1
        for i, (w, b) in enumerate(layers):
            h = h @ w + b
            if i < last:
                h = h * self._sigmoid(h)
        return h if skip is None else h + x @ skip

    def loss_and_grad(self, x: Any, y: Any) -> tuple[Any, Any]:
        """Mean squared error of each model over its (B, D_out) targets, and its gradient.

        Args:
            x: (K, B, D_in), y: (K, B, D_out).

        Returns:
            loss (K,) and gradient (K, P) in the parameter layout.
        """
        acts, sigs, pre = [x], [], []
        last = len(self._layers) - 1
        h = x
        for i, (w, b) in enumerate(self._layers):
            z = h @ w + b
            if i < last:
                sig = self._sigmoid(z)
                h = z * sig
                pre.append(z)
                sigs.append(sig)
                acts.append(h)
            else:
                h = z
        if self._skip is not None:
            h = h + x @ self._skip
        err = h - y
        loss = (err * err).mean(axis=(1, 2)) if self.ops.torch is None else (err * err).mean(dim=(1, 2))
        delta = err * (2.0 / (y.shape[1] * y.shape[2]))  # d loss / d output, (K, B, D_out)
        out_delta = delta
        k = x.shape[0]
        grads: list[Any] = []
        for i in range(last, -1, -1):
            w, _ = self._layers[i]
            grads.append(delta.sum(1))                                         # bias (K, fan_out)
            grads.append((self.ops.swap12(acts[i]) @ delta).reshape(k, -1))  # weight (K, a*b)
            if i > 0:
                z, sig = pre[i - 1], sigs[i - 1]
                # d silu(z)/dz = s(z) (1 + z (1 - s(z)))
                delta = (delta @ self.ops.swap12(w)) * (sig * (1.0 + z * (1.0 - sig)))
        grads = grads[::-1]
        if self._skip is not None:
            grads.append((self.ops.swap12(x) @ out_delta).reshape(k, -1))
        return loss, self.ops.concat(grads)

    def adam_step(self, grad: Any) -> None:
        """One Adam update of every model from its gradient (K, P)."""
        beta1, beta2 = ADAM_BETAS
        if self.weight_decay:
            grad = grad + self.weight_decay * self.params
        self.steps += 1
        self.exp_avg += (1.0 - beta1) * (grad - self.exp_avg)
        self.exp_avg_sq *= beta2
        self.exp_avg_sq += (1.0 - beta2) * (grad * grad)
        bias1 = 1.0 - beta1**self.steps
        bias2_sqrt = (1.0 - beta2**self.steps) ** 0.5
        denom = self.ops.sqrt(self.exp_avg_sq) * (1.0 / bias2_sqrt) + ADAM_EPS
        self.params -= (self.lr / bias1) * (self.exp_avg / denom)
        decay = min(self.average_decay, (1.0 + self.steps) / (10.0 + self.steps))
        self.average *= decay
        self.average += (1.0 - decay) * self.params

    def train_step(self, x: Any, y: Any) -> Any:
        """One Adam step on (K, B, D_in) -> (K, B, D_out) minibatches; returns the loss (K,)."""
        loss, grad = self.loss_and_grad(x, y)
        self.adam_step(grad)
        return loss

    # -- state ----------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Parameters, their average and the Adam moments, (K, P) float32 numpy arrays each."""
        return {name: self.ops.to_numpy(getattr(self, name)) for name in STATE_ARRAYS}

    def load_arrays(self, arrays: dict[str, np.ndarray], steps: int) -> None:
        """Set the arrays of ``state_arrays`` ((K, P) each) and the step count."""
        for name in STATE_ARRAYS:
            src = arrays[name]
            src = np.asarray(src, dtype=np.float32)
            if src.shape != tuple(self.params.shape):
                raise ValueError(f"MLPStack: {name} has shape {src.shape}, expected {tuple(self.params.shape)}")
            getattr(self, name)[...] = self.ops.asarray(src)
        self.steps = int(steps)
