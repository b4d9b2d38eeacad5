"""Read a YAML file into a mapping, with one error naming the file and the line at fault."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from robot_twitch.errors import BodyFileError, ConfigError


def read_yaml_mapping(path: Path, error: type[BodyFileError] | type[ConfigError], expected: str) -> dict[str, Any]:
    """The YAML document at `path` as a dict (an empty file gives {}); `error` names the fault."""
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise error(path, where, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise error(path, None, f"expected {expected}")
    return data
