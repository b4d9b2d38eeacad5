"""Fixtures for the motor-drive tests."""

from __future__ import annotations

import numpy as np
import pytest
from motor_fakes import FakeMuscle, make_arm_body


@pytest.fixture
def muscles() -> list[FakeMuscle]:
    return make_arm_body()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
