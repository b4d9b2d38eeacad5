"""Build frozen dataclasses from plain YAML data, with one clear message per fault.

Every config object in robot_twitch is a frozen dataclass with a docstring per field. This
module turns nested dicts into them, checking unknown keys (with a did-you-mean), types and
the dataclass's own validation, and reports the file, the dotted key, the value and what was
expected, e.g. ``configs/x.yaml: drive.twitch.amplitude_mean: 'big' is not a number``.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from robot_twitch.errors import ConfigError, RobotTwitchError


def _type_name(tp: Any) -> str:
    if tp is float:
        return "a number"
    if tp is int:
        return "an integer"
    if tp is bool:
        return "true or false"
    if tp is str:
        return "a string"
    if get_origin(tp) is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if dataclasses.is_dataclass(tp):
        return f"a mapping ({tp.__name__})"
    return str(tp).replace("typing.", "")


def _fail(path: Path | None, key: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(path, key, f"{value!r} is invalid: expected {expected}")


def convert(tp: Any, value: Any, path: Path | None, key: str) -> Any:
    """Check and convert `value` to type `tp` (dataclass, scalar, Optional, list, dict, ...)."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return convert(option, value, path, key)
            except ConfigError as exc:
                errors.append(exc)
        raise _fail(path, key, value, " or ".join(_type_name(o) for o in options))
    if tp is Any:
        return value
    if origin is Literal:
        if value not in get_args(tp):
            hint = difflib.get_close_matches(str(value), [str(a) for a in get_args(tp)], n=1)
            extra = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise _fail(path, key, value, _type_name(tp) + extra)
        return value
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return build(tp, value, path, key)
    if tp is bool:
        if not isinstance(value, bool):
            raise _fail(path, key, value, "true or false")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(path, key, value, "an integer")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _fail(path, key, value, "a number")
        if not math.isfinite(value):
            raise _fail(path, key, value, "a finite number")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _fail(path, key, value, "a string")
        return value
    if origin in (list, tuple, typing.Sequence) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise _fail(path, key, value, "a list")
        args = get_args(tp)
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(value) != len(args):
                raise _fail(path, key, value, f"a list of {len(args)} items")
            return tuple(convert(a, v, path, f"{key}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
        item = args[0] if args else Any
        items = [convert(item, v, path, f"{key}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple or tp is tuple else items
    if origin in (dict, Mapping, typing.Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise _fail(path, key, value, "a mapping")
        args = get_args(tp)
        vt = args[1] if len(args) == 2 else Any
        return {str(k): convert(vt, v, path, f"{key}.{k}") for k, v in value.items()}
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise _fail(path, key, value, _type_name(tp))


def build(cls: type, data: Any, path: Path | None = None, key: str = "") -> Any:
    """Instantiate dataclass `cls` from a mapping, validating keys and types recursively."""
    prefix = f"{key}." if key else ""
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise _fail(path, key or "<top>", data, f"a mapping of {cls.__name__} fields")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = get_type_hints(cls)
    for name in data:
        if name not in fields:
            hint = difflib.get_close_matches(str(name), list(fields), n=1)
            extra = f"did you mean {hint[0]!r}?" if hint else f"expected one of {sorted(fields)}"
            raise ConfigError(path, f"{prefix}{name}", f"unknown key; {extra}")
    kwargs = {name: convert(hints[name], value, path, f"{prefix}{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except RobotTwitchError as exc:
        # The dataclass's own validation: re-anchor its message at this file and key.
        sub = getattr(exc, "key", None)
        problem = getattr(exc, "problem", str(exc))
        # a section names its keys "<section>.<field>"; the whole config names them in full
        sub_key = sub.split(".", 1)[1] if prefix and sub and "." in sub else sub
        raise ConfigError(path, f"{prefix}{sub_key}" if sub_key else key or None, problem) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(path, key or None, str(exc)) from None


def to_plain(obj: Any) -> Any:
    """Dataclasses (nested) -> plain dicts/lists for YAML/JSON."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj) if f.init}
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
