"""Read a YAML file into a mapping, with one error naming the file and the line at fault.

Numbers are read as people type them: PyYAML follows YAML 1.1, where ``1e3`` and ``1e-3``
(no dot) are strings; :class:`NumberLoader` reads them as floats, as YAML 1.2 does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from robot_twitch.errors import BodyFileError, ConfigError


class NumberLoader(yaml.SafeLoader):
    """yaml.SafeLoader with the YAML 1.2 float forms (``1e3``, ``-2E-4``, ``.5e1``) read as floats."""


_FLOAT_1_2 = re.compile(r"""^[-+]?(?:[0-9][0-9_]*(?:\.[0-9_]*)?|\.[0-9_]+)[eE][-+]?[0-9]+$""")
NumberLoader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_1_2, list("-+0123456789."))


def load_yaml_text(text: str) -> Any:
    """Parse one YAML document with :class:`NumberLoader` (never constructs Python objects)."""
    return yaml.load(text, Loader=NumberLoader)  # noqa: S506 - a SafeLoader subclass


def read_yaml_mapping(path: Path, error: type[BodyFileError] | type[ConfigError], expected: str) -> dict[str, Any]:
    """The YAML document at `path` as a dict (an empty file gives {}); `error` names the fault."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise error(path, None, "is a directory, expected a YAML file") from None
    except OSError as exc:
        raise error(path, None, f"cannot be read ({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise error(path, None, "is a binary file, expected a YAML text file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(path, None, f"is not UTF-8 text (byte {exc.start}), expected a YAML text file") from None
    try:
        data = load_yaml_text(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise error(path, where, f"not valid YAML ({getattr(exc, 'problem', exc)})") from None
    data = {} if data is None else data
    if not isinstance(data, dict):
        raise error(path, None, f"expected {expected}")
    return data
