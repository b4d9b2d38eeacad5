"""Shared fixtures."""

from __future__ import annotations

import pytest

from robot_twitch.body.spec import builtin_bodies, load_body

BUILTIN_BODIES = sorted(builtin_bodies())


@pytest.fixture(scope="session")
def bodies():
    """Every built-in body, loaded once."""
    return {name: load_body(name) for name in BUILTIN_BODIES}
