"""The hand-written MLP: its gradient against torch autograd, Adam against torch.optim.Adam, and
the independence of the K models of a stack."""

from __future__ import annotations

import numpy as np
import pytest

from robot_twitch.learn.mlp import MLPStack, init_params, layer_sizes

SIZES = layer_sizes(5, (7, 6), 3)


def _data(k: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(k, 11, 5)).astype(np.float32), rng.normal(size=(k, 11, 3)).astype(np.float32))


def _torch_net(flat: np.ndarray):
    """torch.nn layers holding the same parameters as one model of the stack."""
    import torch

    layers, pos = [], 0
    for i, (a, b) in enumerate(SIZES):
        lin = torch.nn.Linear(a, b)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(flat[pos:pos + a * b].reshape(a, b).T))
            lin.bias.copy_(torch.as_tensor(flat[pos + a * b:pos + a * b + b]))
        pos += a * b + b
        layers += [lin] + ([torch.nn.SiLU()] if i < len(SIZES) - 1 else [])
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("skip", [False, True])
def test_gradient_and_adam_match_torch(skip: bool) -> None:
    import torch

    params = init_params(SIZES, np.random.default_rng(0), skip=skip)
    net = MLPStack(SIZES, params[None], lr=1e-2, weight_decay=1e-3, skip=skip)
    ref = _torch_net(params)
    n_skip = SIZES[0][0] * SIZES[-1][1]
    ref_skip = torch.nn.Parameter(torch.as_tensor(params[-n_skip:].reshape(SIZES[0][0], -1).copy()))
    opt = torch.optim.Adam([*ref.parameters(), ref_skip], lr=1e-2, weight_decay=1e-3, foreach=False)
    for step in range(5):
        x, y = _data(1, seed=step)
        loss, _ = net.loss_and_grad(x, y)
        xt = torch.as_tensor(x[0])
        out = ref(xt) + (xt @ ref_skip if skip else 0.0)
        ref_loss = torch.mean((out - torch.as_tensor(y[0])) ** 2)
        assert loss[0] == pytest.approx(float(ref_loss.detach()), rel=1e-5)
        net.train_step(x, y)
        opt.zero_grad()
        ref_loss.backward()
        opt.step()
    flat = np.concatenate([t.detach().numpy().ravel() for lin in ref if isinstance(lin, torch.nn.Linear)
                           for t in (lin.weight.T, lin.bias)] + ([ref_skip.detach().numpy().ravel()] if skip else []))
    np.testing.assert_allclose(net.params[0], flat, rtol=1e-4, atol=1e-6)


def test_models_of_a_stack_are_independent_bit_for_bit() -> None:
    k = 4
    params = np.stack([init_params(SIZES, np.random.default_rng(s), skip=True) for s in range(k)])
    stack = MLPStack(SIZES, params, lr=3e-3, average_decay=0.9, skip=True)
    singles = [MLPStack(SIZES, params[i:i + 1], lr=3e-3, average_decay=0.9, skip=True) for i in range(k)]
    for step in range(20):
        x, y = _data(k, seed=step)
        stack.train_step(x, y)
        for i, single in enumerate(singles):
            single.train_step(x[i:i + 1], y[i:i + 1])
    x, _ = _data(k, seed=99)
    for i, single in enumerate(singles):
        np.testing.assert_array_equal(stack.params[i], single.params[0])
        np.testing.assert_array_equal(stack.predict(x)[i], single.predict(x[i:i + 1])[0])


def test_average_smooths_and_state_round_trips() -> None:
    params = init_params(SIZES, np.random.default_rng(0))[None]
    a = MLPStack(SIZES, params, lr=1e-2, average_decay=0.99)
    for step in range(30):
        a.train_step(*_data(1, seed=step))
    assert not np.array_equal(a.average, a.params)
    b = MLPStack(SIZES, params, lr=1e-2, average_decay=0.99)
    b.load_arrays(a.state_arrays(), a.steps)
    x, y = _data(1, seed=50)
    a.train_step(x, y)
    b.train_step(x, y)
    for name, arr in a.state_arrays().items():
        np.testing.assert_array_equal(arr, b.state_arrays()[name])
    with pytest.raises(ValueError, match="average_decay"):
        MLPStack(SIZES, params, lr=1e-2, average_decay=1.0)
    with pytest.raises(ValueError, match="params must be"):
        MLPStack(SIZES, params[:, :5], lr=1e-2)


def _cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@pytest.mark.skipif(not _cuda_available(), reason="no CUDA device")
def test_cuda_stack_matches_cpu() -> None:
    # float32 on both; the GPU sums in another order, so agreement is to rounding, not bitwise.
    k = 3
    params = np.stack([init_params(SIZES, np.random.default_rng(s), skip=True) for s in range(k)])
    cpu = MLPStack(SIZES, params, lr=3e-3, average_decay=0.9, skip=True)
    gpu = MLPStack(SIZES, params, lr=3e-3, average_decay=0.9, skip=True, device="cuda")
    for step in range(50):
        x, y = _data(k, seed=step)
        cpu.train_step(x, y)
        gpu.train_step(gpu.ops.asarray(x), gpu.ops.asarray(y))
    x, _ = _data(k, seed=99)
    np.testing.assert_allclose(gpu.ops.to_numpy(gpu.predict(gpu.ops.asarray(x))), cpu.predict(x), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gpu.state_arrays()["params"], cpu.state_arrays()["params"], rtol=1e-4, atol=1e-5)


def test_device_choice() -> None:
    from robot_twitch.learn.mlp import resolve_device

    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") == ("cuda" if _cuda_available() else "cpu")
    with pytest.raises(ValueError, match="device must be"):
        resolve_device("tpu")
    if not _cuda_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            MLPStack(SIZES, init_params(SIZES, np.random.default_rng(0))[None], lr=1e-3, device="cuda")
