"""The recorded stream of a run: what the learners saw, what drove the limb, and the truth.

A run with ``outputs.dataset: true`` writes ``RUN_DIR/stream/``:

    meta.json                    format version, layout, body, resolved config, env id + kwargs,
                                 and one entry per field (dtype, shape per row, meaning)
    rows-AAAAAAAAA-BBBBBBBBB.npz rows [A, B) of every field (plain arrays, no pickle)
    index.json                   written last: rows, parts; its presence marks a complete stream

Rows: row 0 is the state before the first step; row k >= 1 is the state after control step k-1
(gymnasium's convention: observation, then (action, next observation, info) per step). A run of
T steps has T + 1 rows; per-step quantities (command, twitch, batch, heldout) are those of the
step that led to the row, neutral in row 0.

Parts are written at each checkpoint, so an interrupted run resumes its stream where its
checkpoint resumes the run (parts past the checkpoint are discarded: the resumed run simulates
them again, bit for bit). Everything read back is validated and loaded without pickle.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from robot_twitch.errors import DatasetError
from robot_twitch.sensors_layout import SensorLayout
from robot_twitch.typed import to_plain

if TYPE_CHECKING:
    from robot_twitch.body.spec import Body
    from robot_twitch.config import ExperimentConfig
    from robot_twitch.evaluation import BodyTruth
    from robot_twitch.learn.base import TransitionBatch
    from robot_twitch.motor.events import TwitchEvent
    from robot_twitch.sim import LimbState

STREAM_DIR = "stream"
META_FILE = "meta.json"
INDEX_FILE = "index.json"
FORMAT_NAME = "robot_twitch.stream"
FORMAT_VERSION = 1
ENV_ID = "RobotTwitch/Limb-v0"
# Sleep-state codes of the `sleep_state` field (robot_twitch.motor.SleepState.code).
SLEEP_CODES = {"wake": 0, "quiet": 1, "active": 2}
_PART_RE = re.compile(r"^rows-(\d{9})-(\d{9})\.npz$")


def field_specs(n_joints: int, n_muscles: int, n_links: int, n_sensors: int) -> dict[str, tuple[str, tuple, str]]:
    """name -> (dtype, shape of one row, meaning). J joints, M muscles, L links, S sensor channels."""
    j, m, n_l, s = n_joints, n_muscles, n_links, n_sensors
    return {
        "sensors": ("float64", (s,), "flat sensor reading the learners saw (SensorLayout order, noise and "
                                     "delay applied)"),
        "command": ("float64", (m,), "muscle excitations u in [0, 1] applied in the step (row 0: zeros)"),
        "time_s": ("float64", (), "simulated time [s]"),
        "joint_pos": ("float64", (j,), "true joint angles [rad]"),
        "joint_vel": ("float64", (j,), "true joint angular velocities [rad/s]"),
        "activation": ("float64", (m,), "muscle activation a in [0, 1]"),
        "muscle_force_n": ("float64", (m,), "muscle-tendon force [N]"),
        "moment_arms": ("float64", (m, j), "R(q) = -dl/dq at this posture [m] (the truth of the schema)"),
        "contact_force_n": ("float64", (n_l, n_l + 1), "normal contact force [N] between link a (row) and "
                                                       "link b (column), last column: the ground"),
        "twitch": ("int8", (m,), "twitch onset in the step: +1 positive (contraction), -1 negative "
                                 "(loss of tone), 0 none"),
        "sleep_state": ("int8", (), "state during the step: 0 wake, 1 quiet sleep, 2 active (REM) sleep"),
        "batch": ("int32", (), "index of the learner batch the step belongs to (row 0: -1)"),
        "heldout": ("bool", (), "the step's batch was withheld from the learners (forward-model scoring)"),
        "body_version": ("int16", (), "number of body changes applied before the step"),
        "force_scale": ("float64", (m,), "force scale per muscle after body changes (0: muscle lost)"),
        "push": ("float64", (m,), "a passive drive's push in the step, per muscle: the limb was moved from "
                                  "outside by the torque R(q)^T (F_max push) (zeros for every other drive)"),
    }


INFO_FIELDS = ("time_s", "joint_pos", "joint_vel", "activation", "muscle_force_n", "moment_arms",
               "contact_force_n", "twitch", "sleep_state", "batch", "heldout", "body_version", "force_scale", "push")


def stream_meta(config: ExperimentConfig, body: Body, layout: SensorLayout, heldout_batches_kept: int
                ) -> dict[str, Any]:
    """meta.json of a run's stream: everything needed to read it, rebuild its env and score it.

    heldout_batches_kept: how many of the latest held-out batches score the forward model.
    """
    specs = field_specs(len(layout.joint_names), len(layout.muscle_names), len(layout.link_names), layout.size)
    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "control_dt_s": config.sim.control_dt_s,
        "batch_steps": config.learners.batch_steps,
        "heldout_batches_kept": heldout_batches_kept,
        "layout": {"joint_names": list(layout.joint_names), "muscle_names": list(layout.muscle_names),
                   "link_names": list(layout.link_names), "taxel_names": list(layout.taxel_names)},
        "body": {"name": body.name, "source": config.body,
                 "joint_edges": [list(e) for e in body.joint_edges()],
                 "link_edges": [list(e) for e in body.skeleton.link_edges()],
                 "regions": {mu.name: mu.region for mu in body.muscles}},
        "config": config.to_dict(),
        "env": {"id": ENV_ID, "kwargs": {"body": config.body, "sim_config": to_plain(config.sim),
                                         "sensor_config": to_plain(config.sensors)}},
        "fields": {name: {"dtype": dt, "shape": list(shape), "meaning": doc}
                   for name, (dt, shape, doc) in specs.items()},
    }


def specs_from_meta(meta: dict[str, Any]) -> dict[str, tuple[str, tuple]]:
    return {name: (f["dtype"], tuple(f["shape"])) for name, f in meta["fields"].items()}


class StreamRecorder:
    """Collects a run's stream row by row and writes it into ``RUN_DIR/stream/`` in parts.

    Call :meth:`record_step` after every control step, :meth:`end_batch` after every batch (it
    labels the batch's rows and their twitches), :meth:`flush` at every checkpoint and
    :meth:`finish` when the run is complete.
    """

    def __init__(self, directory: Path, meta: dict[str, Any], rows_written: int) -> None:
        self.directory = directory
        self.meta = meta
        self.dt_s = float(meta["control_dt_s"])
        self._specs = specs_from_meta(meta)
        links = meta["layout"]["link_names"]
        self._link_index = {name: k for k, name in enumerate(links)}
        self._n_links = len(links)
        self.rows_written = rows_written
        self._pending: list[dict[str, Any]] = []
        self._batch_start = 0  # index into _pending of the current batch's first row

    # -- creation -----------------------------------------------------------------------------
    @classmethod
    def create(cls, run_dir: Path, meta: dict[str, Any], state: LimbState, sensors: np.ndarray,
               sleep_code: int, force_scale: np.ndarray) -> StreamRecorder:
        """A new stream in run_dir, holding row 0 (the state before the first step)."""
        directory = run_dir / STREAM_DIR
        directory.mkdir()
        _write_json(directory / META_FILE, meta)
        rec = cls(directory, meta, 0)
        rec._append(np.zeros(len(force_scale)), state, sensors, sleep_code, 0, force_scale, batch=-1)
        rec._batch_start = 1
        return rec

    @classmethod
    def reopen(cls, run_dir: Path, rows: int) -> StreamRecorder:
        """The stream of an interrupted run, continued after its first `rows` rows (the checkpoint's).

        Parts past `rows` are deleted: the resumed run records them again.
        """
        directory = run_dir / STREAM_DIR
        meta = _read_meta(directory)
        parts = _list_parts(directory)
        for _start, stop, path in parts:
            if stop > rows:
                path.unlink()
        kept = [(a, b) for a, b, _ in parts if b <= rows]
        written = max((b for _, b in kept), default=0)
        if written != rows:
            raise DatasetError(directory, f"the recorded stream holds {written} rows, the checkpoint "
                                          f"expects {rows}; the stream cannot be continued")
        return cls(directory, meta, rows)

    # -- recording ----------------------------------------------------------------------------
    def record_step(self, command: np.ndarray, state: LimbState, sensors: np.ndarray, sleep_code: int,
                    body_version: int, force_scale: np.ndarray, push: np.ndarray | None = None) -> None:
        """One control step: the excitation applied (and a passive drive's push), the state and
        sensor reading after it."""
        self._append(command, state, sensors, sleep_code, body_version, force_scale, batch=-1, push=push)

    def _append(self, command: np.ndarray, state: LimbState, sensors: np.ndarray, sleep_code: int,
                body_version: int, force_scale: np.ndarray, batch: int, push: np.ndarray | None = None) -> None:
        contact = np.zeros((self._n_links, self._n_links + 1))
        for link_a, link_b, force_n in state.contacts:
            contact[self._link_index[link_a], self._link_index.get(link_b, self._n_links)] += force_n
        self._pending.append({
            "sensors": np.array(sensors, dtype=np.float64),
            "command": np.array(command, dtype=np.float64),
            "time_s": state.time_s,
            "joint_pos": state.joint_pos_rad,
            "joint_vel": state.joint_vel_rad_s,
            "activation": state.activation,
            "muscle_force_n": state.force_n,
            "moment_arms": state.moment_arms_m,
            "contact_force_n": contact,
            "twitch": np.zeros(len(force_scale), dtype=np.int8),
            "sleep_state": sleep_code,
            "batch": batch,
            "heldout": False,
            "body_version": body_version,
            "force_scale": np.array(force_scale, dtype=np.float64),
            "push": np.zeros(len(force_scale)) if push is None else np.array(push, dtype=np.float64),
        })

    def end_batch(self, batch_index: int, heldout: bool, events: Sequence[TwitchEvent]) -> None:
        """Label the rows of the batch just stepped; mark the twitches whose onset lies in it.

        events: the drive's event log so far, in onset order (only the newest are read).
        """
        rows = self._pending[self._batch_start:]
        first_row = self.rows_written + self._batch_start
        for row in rows:
            row["batch"] = batch_index
            row["heldout"] = heldout
        for event in reversed(events):
            # Step k applies over [k dt, (k + 1) dt); its row is k + 1.
            row_index = int(round(event.onset_s / self.dt_s)) + 1
            if row_index < first_row:
                break
            rows[row_index - first_row]["twitch"][event.muscle_index] = 1 if event.polarity == "positive" else -1
        self._batch_start = len(self._pending)

    def flush(self) -> None:
        """Write the rows recorded since the last flush as one part (at a batch boundary)."""
        if self._batch_start != len(self._pending):
            raise RuntimeError("StreamRecorder.flush inside a batch; call end_batch first")
        if not self._pending:
            return
        start, stop = self.rows_written, self.rows_written + len(self._pending)
        arrays = {name: np.array([row[name] for row in self._pending], dtype=dtype)
                  for name, (dtype, _) in self._specs.items()}
        path = self.directory / f"rows-{start:09d}-{stop:09d}.npz"
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)
        os.replace(tmp, path)
        self.rows_written = stop
        self._pending, self._batch_start = [], 0

    def finish(self) -> None:
        """Flush and write index.json, which marks the stream complete."""
        self.flush()
        parts = [path.name for _, _, path in _list_parts(self.directory)]
        _write_json(self.directory / INDEX_FILE, {"rows": self.rows_written, "parts": parts})


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    os.replace(tmp, path)


def _list_parts(directory: Path) -> list[tuple[int, int, Path]]:
    parts = []
    for path in directory.iterdir():
        match = _PART_RE.match(path.name)
        if match:
            parts.append((int(match.group(1)), int(match.group(2)), path))
    return sorted(parts)


def _read_meta(directory: Path) -> dict[str, Any]:
    path = directory / META_FILE
    try:
        meta = json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(path, "missing: not a recorded stream") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DatasetError(path, f"unreadable ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise DatasetError(path, f"not a {FORMAT_NAME} file")
    if meta.get("version") != FORMAT_VERSION:
        raise DatasetError(path, f"format version {meta.get('version')!r}; this robot_twitch reads "
                                 f"version {FORMAT_VERSION}")
    return meta


# -- reading --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunStream:
    """A recorded stream in memory. R rows (R = T + 1 for T steps).

    Attributes:
        meta: the stream's meta.json (layout, body, config, env, fields).
        layout: the sensor layout.
        rows: field name -> (R, ...) array (see ``field_specs``).
    """

    meta: dict[str, Any]
    layout: SensorLayout
    rows: dict[str, np.ndarray]

    @property
    def n_steps(self) -> int:
        return int(self.rows["time_s"].shape[0]) - 1

    @property
    def control_dt_s(self) -> float:
        return float(self.meta["control_dt_s"])

    @property
    def observations(self) -> dict[str, np.ndarray]:
        """Sensor groups, each (R, n_group): row 0 before the first step."""
        return {g: self.layout.group(self.rows["sensors"], g) for g in self.layout.groups}

    @property
    def actions(self) -> np.ndarray:
        """(T, M) excitations of the T steps."""
        return self.rows["command"][1:]

    @property
    def infos(self) -> dict[str, np.ndarray]:
        """Ground truth per row, each (R, ...)."""
        return {name: self.rows[name] for name in INFO_FIELDS}

    def batches(self) -> list[tuple[TransitionBatch, bool]]:
        """The learner batches of the run, in order, with their held-out flag.

        Each is the TransitionBatch the live run built: (command, sensors before, sensors after).
        """
        from robot_twitch.learn.base import TransitionBatch

        batch = self.rows["batch"][1:]
        heldout = self.rows["heldout"][1:]
        sensors = self.rows["sensors"]
        command = self.actions
        bounds = np.flatnonzero(np.diff(batch)) + 1
        starts = np.concatenate([[0], bounds])
        stops = np.concatenate([bounds, [len(batch)]])
        return [(TransitionBatch(command[a:b], sensors[a:b], sensors[a + 1:b + 1], self.layout), bool(heldout[a]))
                for a, b in zip(starts, stops, strict=True)]

    def truth(self) -> BodyTruth:
        """The truth the live run scored against at its end: R(q) averaged over the steps since the
        last body change (summed in step order, as the run does), rows of lost muscles zeroed."""
        from robot_twitch.evaluation import BodyTruth

        version = self.rows["body_version"][1:]
        arms = self.rows["moment_arms"][1:][version == version[-1]]
        if len(arms) == 0:
            raise DatasetError(None, "the stream has no step after its last body change to take the truth from")
        mean = np.cumsum(arms, axis=0)[-1] / len(arms)  # cumsum adds in order, like the run's running sum
        scale = self.rows["force_scale"][-1]
        body = self.meta["body"]
        return BodyTruth(tuple(self.layout.muscle_names), tuple(self.layout.joint_names),
                         mean * (scale > 0)[:, None],
                         joint_edges=tuple(tuple(e) for e in body["joint_edges"]),
                         link_edges=tuple(tuple(e) for e in body["link_edges"]))


def layout_from_meta(meta: dict[str, Any]) -> SensorLayout:
    names = meta["layout"]
    return SensorLayout(tuple(names["joint_names"]), tuple(names["muscle_names"]), tuple(names["link_names"]),
                        tuple(names.get("taxel_names", ())))


def read_stream(run_dir: Path) -> RunStream:
    """The complete recorded stream in run_dir; DatasetError naming what is wrong otherwise.

    (Whether the run itself finished is the caller's check: robot_twitch.datasets.export.)
    """
    run_dir = Path(run_dir)
    directory = run_dir / STREAM_DIR
    if not directory.is_dir():
        raise DatasetError(run_dir, "holds no recorded stream; record one with `--set outputs.dataset=true`")
    meta = _read_meta(directory)
    index_path = directory / INDEX_FILE
    if not index_path.is_file():
        raise DatasetError(directory, "the stream is incomplete (no index.json)")
    try:
        index = json.loads(index_path.read_text())
        n_rows, names = int(index["rows"]), list(index["parts"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DatasetError(index_path, f"unreadable ({exc})") from None
    try:
        layout = layout_from_meta(meta)
        specs = specs_from_meta(meta)
    except (KeyError, TypeError) as exc:
        raise DatasetError(directory / META_FILE, f"missing or malformed entry {exc}") from None
    columns: dict[str, list[np.ndarray]] = {name: [] for name in specs}
    expected = 0
    for name in names:
        match = _PART_RE.match(str(name))
        if not match or int(match.group(1)) != expected:
            raise DatasetError(index_path, f"part {name!r} does not continue at row {expected}")
        start, stop = int(match.group(1)), int(match.group(2))
        _load_part(directory / name, specs, stop - start, columns)
        expected = stop
    if expected != n_rows or n_rows < 2:
        raise DatasetError(index_path, f"the parts hold {expected} rows, the index says {n_rows} (at least 2 needed)")
    rows = {name: np.concatenate(parts) for name, parts in columns.items()}
    if rows["sensors"].shape[1] != layout.size:
        raise DatasetError(directory / META_FILE, "the sensor layout does not match the recorded readings")
    return RunStream(meta, layout, rows)


def _load_part(path: Path, specs: dict[str, tuple[str, tuple]], n_rows: int,
               columns: dict[str, list[np.ndarray]]) -> None:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in specs if name in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise DatasetError(path, f"unreadable or not plain arrays ({exc})") from None
    for name, (dtype, shape) in specs.items():
        arr = arrays.get(name)
        if arr is None:
            raise DatasetError(path, f"field {name!r} is missing")
        if arr.dtype != np.dtype(dtype) or arr.shape != (n_rows, *shape):
            raise DatasetError(path, f"field {name!r} is {arr.dtype}{arr.shape}, expected {dtype}{(n_rows, *shape)}")
        columns[name].append(arr)
