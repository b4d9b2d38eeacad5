"""Shared synthetic data for the learner tests: a 6-muscle, 2-joint linear body under twitches."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from robot_twitch.evaluation import BodyTruth
from robot_twitch.learn.base import TransitionBatch
from robot_twitch.learn.data import LinearBody, synthetic_twitch_batch

BodyBatch = tuple[LinearBody, TransitionBatch]
N_STEPS = 4000
CHUNK = 500


@pytest.fixture(autouse=True, scope="session")
def _few_threads() -> None:
    torch.set_num_threads(2)


@pytest.fixture(scope="session")
def body_and_batch() -> tuple[LinearBody, TransitionBatch]:
    return synthetic_twitch_batch(seed=0, n_steps=N_STEPS)


@pytest.fixture(scope="session")
def heldout(body_and_batch: tuple[LinearBody, TransitionBatch]) -> TransitionBatch:
    body, _ = body_and_batch
    return synthetic_twitch_batch(seed=1, n_steps=2000, body=body)[1]


@pytest.fixture(scope="session")
def truth(body_and_batch: tuple[LinearBody, TransitionBatch]) -> BodyTruth:
    body, _ = body_and_batch
    return BodyTruth(
        muscle_names=tuple(body.muscle_names),
        joint_names=body.joint_names,
        moment_arms=body.moment_arms_m,
        joint_edges=body.joint_edges,
    )


def feed(learner: object, batch: TransitionBatch, chunk: int = CHUNK) -> None:
    """Observe a batch online in chunks."""
    for start in range(0, len(batch), chunk):
        learner.observe(batch.slice(start, start + chunk))  # type: ignore[attr-defined]


def assert_state_equal(a: object, b: object) -> None:
    """Recursive exact equality of two state dicts."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            assert_state_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)  # type: ignore[arg-type]
        for x, y in zip(a, b, strict=True):  # type: ignore[call-overload]
            assert_state_equal(x, y)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b)  # type: ignore[arg-type]
    else:
        assert a == b or (a != a and b != b)  # NaN-safe
