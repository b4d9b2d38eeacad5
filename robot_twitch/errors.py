"""Errors raised at the boundary: bad configs, body files and actions.

Each error carries one message naming the file, the key, the value and what was expected, so
that the CLI can print it on one line and exit with status 2.
"""

from __future__ import annotations

from pathlib import Path


class RobotTwitchError(Exception):
    """Base class of every error that robot_twitch raises about user input."""


class BodyFileError(RobotTwitchError, ValueError):
    """A body file (muscle YAML or URDF) is missing, malformed or physically invalid."""

    def __init__(self, path: str | Path | None, key: str | None, problem: str) -> None:
        where = str(path) if path is not None else "<body>"
        if key:
            where += f": {key}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


class ConfigError(RobotTwitchError, ValueError):
    """An experiment config has an unknown key, a wrong type or an out-of-range value."""

    def __init__(self, path: str | Path | None, key: str | None, problem: str) -> None:
        where = str(path) if path is not None else "<config>"
        if key:
            where += f": {key}"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


class SimulationDiverged(RobotTwitchError, RuntimeError):
    """The physics blew up (a non-finite or runaway quantity): the run cannot continue.

    The CLI exits with its own status (3), distinct from bad input (2).
    """

    def __init__(self, time_s: float, quantity: str) -> None:
        super().__init__(f"the simulation diverged at t = {time_s:.3f} s: {quantity} "
                         "(too strong muscles or too large a time step?)")
        self.time_s = time_s
        self.quantity = quantity


class DatasetError(RobotTwitchError, ValueError):
    """A recorded stream cannot be read or exported: missing, incomplete, corrupt, or the target exists."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        super().__init__(f"{path}: {problem}" if path is not None else problem)
        self.path = path
        self.problem = problem
