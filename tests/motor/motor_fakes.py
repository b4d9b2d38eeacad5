"""Fake muscles for the motor-drive tests (no simulator or body files needed)."""

from __future__ import annotations

from dataclasses import dataclass


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
