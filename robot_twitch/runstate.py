"""Saved state that never runs code when read back: numeric arrays plus a JSON manifest.

Run directories are shared between people, so nothing read back from one may execute code (a
pickle can: unpickling calls whatever the file names). Checkpoints and learner states are
stored here as ONE ``.npz`` file that holds

* ``__manifest__``: UTF-8 JSON bytes (a uint8 array) ``{"format": "robot_twitch.state",
  "version": 1, "kind": ..., "tree": ...}``;
* ``a0``, ``a1``, ...: the numeric arrays of the tree (bool, int, uint, float, complex dtypes;
  never object arrays, and ``np.load`` runs with ``allow_pickle=False``).

The tree is nested dicts, lists, tuples, None, bool, int, float and str; an array is written as
``{"$array": "a3"}``, a numpy scalar as ``{"$scalar": "a4"}`` (its dtype is kept), a tuple as
``{"$tuple": [...]}`` and a dict whose keys are not all strings (a torch optimizer state has
int keys) as ``{"$dict": [[key, value], ...]}``. Loading checks the format name, the version,
the kind and every reference, and turns any fault (truncated, corrupt, foreign, newer) into
one :class:`StateFileError` line naming the file.
"""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from robot_twitch.errors import RobotTwitchError

FORMAT_NAME = "robot_twitch.state"
FORMAT_VERSION = 1
MANIFEST_KEY = "__manifest__"
_ALLOWED_KINDS = "biufc"  # bool, int, uint, float, complex: dtypes that hold no Python objects
_TAGS = ("$array", "$scalar", "$tuple", "$dict", "$float")


class StateFileError(RobotTwitchError, ValueError):
    """A saved state file is missing, truncated, corrupt, foreign or from a newer version."""

    def __init__(self, path: str | Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


# -- encoding ---------------------------------------------------------------------------------
class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _store(self, array: np.ndarray, where: str) -> str:
        if array.dtype.kind not in _ALLOWED_KINDS:
            raise TypeError(f"{where}: arrays of dtype {array.dtype} cannot be saved (numeric dtypes only)")
        name = f"a{len(self.arrays)}"
        self.arrays[name] = array
        return name

    def encode(self, obj: Any, where: str) -> Any:
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return obj
        if isinstance(obj, float):
            # JSON has no NaN/inf; keep them as tagged strings so the manifest stays standard JSON.
            return obj if math.isfinite(obj) else {"$float": repr(obj)}
        if isinstance(obj, np.ndarray):
            return {"$array": self._store(obj, where)}
        if isinstance(obj, np.generic):
            return {"$scalar": self._store(np.asarray(obj), where)}
        if isinstance(obj, tuple):
            return {"$tuple": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, f"{where}[{i}]") for i, v in enumerate(obj)]
        if isinstance(obj, dict):
            if all(isinstance(k, str) for k in obj) and not any(k in _TAGS for k in obj):
                return {k: self.encode(v, f"{where}.{k}") for k, v in obj.items()}
            for k in obj:
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    raise TypeError(f"{where}: dict key {k!r} cannot be saved (str or int keys only)")
            return {"$dict": [[k, self.encode(v, f"{where}.{k}")] for k, v in obj.items()]}
        raise TypeError(f"{where}: a {type(obj).__name__} cannot be saved (plain data and numeric arrays only)")


def save_state(path: Path, tree: Any, kind: str) -> None:
    """Write `tree` (plain data and numeric arrays) to `path` atomically (a .tmp file, renamed)."""
    encoder = _Encoder()
    manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "kind": kind,
                "tree": encoder.encode(tree, kind)}
    text = json.dumps(manifest, allow_nan=False).encode()
    arrays = {MANIFEST_KEY: np.frombuffer(text, dtype=np.uint8), **encoder.arrays}
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        np.savez(f, **arrays)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


# -- decoding ---------------------------------------------------------------------------------
def _unreadable(path: Path, exc: BaseException, expected: str) -> str:
    """One phrase for a file np.load could not read (allow_pickle=False refuses pickles with ValueError)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    try:
        with open(path, "rb") as f:
            head = f.read(2)
    except OSError:
        head = b""
    is_pickle = len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5  # pickle protocols 2-5
    if is_pickle or text.startswith("Object arrays cannot be loaded"):
        return "holds pickled Python objects, which robot_twitch never loads (unpickling can run code)"
    if "pickled data" in text:  # numpy's guess for any file that is neither .npy nor .npz
        text = "neither .npz nor .npy"
    return f"not {expected} (truncated, corrupt or not .npz: {text})"


def _arrays_of(path: Path, data: Any) -> dict[str, np.ndarray]:
    """Every member of an open npz as an array; members that are not .npy arrays are refused."""
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise StateFileError(path, "not an .npz archive (a single array or a pickle)")
    arrays = {}
    for name in data.files:
        value = data[name]  # allow_pickle=False: an object array raises ValueError here
        if not isinstance(value, np.ndarray):
            raise StateFileError(path, f"corrupt: member {name!r} is not a numpy array")
        arrays[name] = value
    return arrays


class _Decoder:
    def __init__(self, path: Path, arrays: dict[str, np.ndarray]) -> None:
        self.path = path
        self.arrays = arrays
        self.used: set[str] = set()

    def _array(self, name: Any) -> np.ndarray:
        if not isinstance(name, str) or name not in self.arrays:
            raise StateFileError(self.path, f"corrupt: the manifest refers to a missing array {name!r}")
        self.used.add(name)
        return self.arrays[name]

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict):
            raise StateFileError(self.path, f"corrupt: unexpected {type(node).__name__} in the manifest")
        tags = [k for k in node if k in _TAGS]
        if not tags:
            return {k: self.decode(v) for k, v in node.items()}
        if len(node) != 1:
            raise StateFileError(self.path, f"corrupt: tagged node with extra keys {sorted(node)}")
        tag, value = tags[0], node[tags[0]]
        if tag == "$array":
            return self._array(value)
        if tag == "$scalar":
            array = self._array(value)
            if array.shape != ():
                raise StateFileError(self.path, f"corrupt: scalar {value!r} has shape {array.shape}")
            return array[()]
        if tag == "$float":
            if value not in ("nan", "inf", "-inf"):
                raise StateFileError(self.path, f"corrupt: {value!r} is not a non-finite float")
            return float(value)
        if not isinstance(value, list):
            raise StateFileError(self.path, f"corrupt: {tag} holds a {type(value).__name__}, expected a list")
        if tag == "$tuple":
            return tuple(self.decode(v) for v in value)
        out = {}
        for item in value:
            if not (isinstance(item, list) and len(item) == 2 and isinstance(item[0], (str, int))):
                raise StateFileError(self.path, "corrupt: a $dict item is not a [key, value] pair")
            out[item[0]] = self.decode(item[1])
        return out


def load_state(path: Path, kind: str) -> Any:
    """Read a file written by :func:`save_state` with the same `kind`; never executes code.

    Raises:
        StateFileError: missing, truncated or corrupt file, not a robot_twitch state file, a
            state of another kind, or a newer format version than this code reads.
    """
    path = Path(path)
    if not path.is_file():
        raise StateFileError(path, f"no such file (expected a {kind} file)")
    try:
        with np.load(path, allow_pickle=False) as data:
            if MANIFEST_KEY not in data.files:
                raise StateFileError(path, f"not a robot_twitch {kind} file (no manifest)")
            arrays = _arrays_of(path, data)
    except StateFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, io.UnsupportedOperation) as exc:
        raise StateFileError(path, _unreadable(path, exc, f"a readable {kind} file")) from None
    raw = arrays.pop(MANIFEST_KEY)
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise StateFileError(path, "corrupt: the manifest is not a byte string")
    try:
        manifest = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StateFileError(path, f"corrupt: the manifest is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise StateFileError(path, f"not a robot_twitch {kind} file (format {manifest.get('format')!r})"
                             if isinstance(manifest, dict) else f"not a robot_twitch {kind} file")
    version = manifest.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise StateFileError(path, f"corrupt: format version {version!r} is not a positive integer")
    if version > FORMAT_VERSION:
        raise StateFileError(path, f"written by a newer robot_twitch (format version {version}); "
                                   f"this version reads format {FORMAT_VERSION}: upgrade robot_twitch")
    if manifest.get("kind") != kind:
        raise StateFileError(path, f"holds a {manifest.get('kind')!r} state, expected a {kind!r} state")
    if "tree" not in manifest:
        raise StateFileError(path, "corrupt: the manifest has no tree")
    for name, array in arrays.items():
        if array.dtype.kind not in _ALLOWED_KINDS:
            raise StateFileError(path, f"corrupt: array {name!r} has dtype {array.dtype}")
    decoder = _Decoder(path, arrays)
    tree = decoder.decode(manifest["tree"])
    extra = sorted(set(arrays) - decoder.used)
    if extra:
        raise StateFileError(path, f"corrupt: arrays {extra[:5]} are not in the manifest")
    return tree


def generator_state(rng: np.random.Generator) -> dict[str, Any]:
    """The state of a numpy Generator as plain data (a dict of str and int)."""
    return dict(rng.bit_generator.state)


_BIT_GENERATORS = {"PCG64": np.random.PCG64, "PCG64DXSM": np.random.PCG64DXSM, "Philox": np.random.Philox,
                   "SFC64": np.random.SFC64, "MT19937": np.random.MT19937}


def generator_from_state(state: Any, where: str = "generator") -> np.random.Generator:
    """A numpy Generator at a state saved by :func:`generator_state` (known bit generators only)."""
    name = state.get("bit_generator") if isinstance(state, dict) else None
    if name not in _BIT_GENERATORS:
        raise ValueError(f"{where}: unknown bit generator {name!r}; expected one of {sorted(_BIT_GENERATORS)}")
    bit_generator = _BIT_GENERATORS[name]()
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def require(tree: Any, path: Path, schema: dict[str, type | tuple[type, ...]], where: str = "") -> None:
    """Check that mapping `tree` has each key of `schema` with a value of that type, else one line."""
    if not isinstance(tree, dict):
        raise StateFileError(path, f"corrupt: {where or 'the state'} is a {type(tree).__name__}, expected a mapping")
    for key, types in schema.items():
        if key not in tree:
            raise StateFileError(path, f"corrupt: {where + '.' if where else ''}{key} is missing")
        if not isinstance(tree[key], types):
            raise StateFileError(path, f"corrupt: {where + '.' if where else ''}{key} is a "
                                       f"{type(tree[key]).__name__}")


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The numeric arrays of a plain ``.npz`` (e.g. ``body_map.npz``), never unpickling anything.

    Raises:
        StateFileError: a missing, truncated or corrupt file, or one holding object arrays.
    """
    path = Path(path)
    if not path.is_file():
        raise StateFileError(path, "no such file (expected an .npz of arrays)")
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = _arrays_of(path, data)
    except StateFileError:
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, KeyError, io.UnsupportedOperation) as exc:
        raise StateFileError(path, _unreadable(path, exc, "a readable .npz of arrays")) from None
    for name, array in arrays.items():
        if array.dtype.kind not in _ALLOWED_KINDS:
            raise StateFileError(path, f"array {name!r} has dtype {array.dtype}; expected numeric arrays")
    return arrays
