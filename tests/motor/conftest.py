"""Fixtures for the motor-drive tests: fake muscles (no simulator needed)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest


@dataclass(frozen=True)
class FakeMuscle:
    """Stands in for the body loader's muscle objects."""

    name: str
    region: str
    side: str | None = None


def make_arm_body() -> list[FakeMuscle]:
    """20 muscles: two neck muscles, flexor/extensor pairs of both arms, both ankles."""
    muscles = [FakeMuscle("neck_flex", "neck"), FakeMuscle("neck_ext", "neck")]
    for side in ("left", "right"):
        for region in ("shoulder", "elbow", "wrist", "fingers"):
            for action in ("flex", "ext"):
                muscles.append(FakeMuscle(f"{side}_{region}_{action}", region, side))
        muscles.append(FakeMuscle(f"{side}_ankle_df", "ankle", side))
    return muscles


@pytest.fixture
def muscles() -> list[FakeMuscle]:
    return make_arm_body()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
