"""A run's recorded stream as a Minari dataset, and back (the `datasets` extra).

`export_minari(RUN_DIR, DATASET_ID)` (CLI: ``robot-twitch export RUN_DIR --minari DATASET_ID``)
writes one episode per run into Minari's datasets root (``MINARI_DATASETS_PATH``, default
``~/.minari/datasets``):

- observations: the sensor groups the learners saw (Dict, like ``RobotTwitch/Limb-v0``'s);
- actions: the muscle excitations applied, float64 as the run applied them;
- rewards 0, terminations False, the last step truncated (the run ended at its duration);
- infos: the truth per row (robot_twitch.datasets.stream.INFO_FIELDS): twitch onsets with
  polarity, sleep state, R(q), contacts, joint state, activation, forces, learner batch;
- metadata ``robot_twitch``: the stream's meta (layout, body, resolved config, field meanings)
  and the run's summary.json;
- env spec: ``RobotTwitch/Limb-v0`` with the run's body, sim and sensor settings, so
  ``dataset.recover_environment()`` builds the same plant (the base body, before any body change).

The dataset is built in a hidden folder of the datasets root and moved into place when
complete: an export that fails leaves nothing behind.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from robot_twitch.datasets.stream import (
    INFO_FIELDS,
    RunStream,
    layout_from_meta,
    read_stream,
    specs_from_meta,
)
from robot_twitch.errors import DatasetError, RobotTwitchError

EXTRA_HINT = "pip install 'robot_twitch[datasets]'"
METADATA_KEY = "robot_twitch"


def require_minari() -> None:
    """RobotTwitchError (one line) unless minari and its HDF5 storage can be imported."""
    try:
        import h5py  # noqa: F401
        import minari  # noqa: F401
    except ImportError:
        raise RobotTwitchError(f"Minari export needs the datasets extra: {EXTRA_HINT}") from None


def datasets_root() -> Path:
    """Minari's local datasets folder (MINARI_DATASETS_PATH, or ~/.minari/datasets)."""
    from minari.storage.datasets_root_dir import get_dataset_path

    return Path(get_dataset_path())


def check_finished_run(run_dir: Path) -> None:
    """DatasetError unless run_dir is a run that finished (not *.incomplete, status complete)."""
    from robot_twitch.rundir import INCOMPLETE_SUFFIX, STATUS_FILE, read_status

    if not run_dir.is_dir():
        raise DatasetError(run_dir, "not a run directory")
    if run_dir.name.endswith(INCOMPLETE_SUFFIX):
        raise DatasetError(run_dir, "the run is incomplete or was interrupted; finish it with "
                                    f"`robot-twitch run --resume {run_dir}`, then export")
    status = (read_status(run_dir) or {}).get("status")
    if status != "complete":
        raise DatasetError(run_dir / STATUS_FILE, f"run status is {status!r}, expected 'complete'")


@contextmanager
def _datasets_root_set_to(path: Path) -> Iterator[None]:
    old = os.environ.get("MINARI_DATASETS_PATH")
    os.environ["MINARI_DATASETS_PATH"] = str(path)
    try:
        yield
    finally:
        if old is None:
            del os.environ["MINARI_DATASETS_PATH"]
        else:
            os.environ["MINARI_DATASETS_PATH"] = old


def env_spec(stream: RunStream) -> Any:
    """The EnvSpec of RobotTwitch/Limb-v0 with the run's body, sim and sensor settings."""
    import gymnasium as gym

    import robot_twitch  # noqa: F401  (registers the ids)

    env = stream.meta["env"]
    base = gym.spec(env["id"])
    return dataclasses.replace(base, kwargs={**base.kwargs, **env["kwargs"]}, max_episode_steps=stream.n_steps)


def export_minari(run_dir: Path, dataset_id: str) -> Path:
    """Write the recorded stream of a finished run as Minari dataset `dataset_id`; returns its folder."""
    require_minari()
    from minari.dataset.minari_dataset import parse_dataset_id

    run_dir = Path(run_dir)
    try:
        parse_dataset_id(dataset_id)
    except ValueError:
        raise DatasetError(None, f"--minari {dataset_id!r} is not a Minari dataset id; expected "
                                 "[NAMESPACE/]NAME-vVERSION, e.g. robot_twitch/quickstart-v0") from None
    root = datasets_root()
    target = root / dataset_id
    if target.exists():
        raise DatasetError(target, f"Minari dataset {dataset_id!r} already exists; choose another name or "
                                   f"version, or delete it (`minari delete {dataset_id}`)")
    check_finished_run(run_dir)
    stream = read_stream(run_dir)
    try:
        summary = json.loads((run_dir / "summary.json").read_text())
    except (OSError, ValueError) as exc:
        raise DatasetError(run_dir / "summary.json", f"unreadable ({exc})") from None
    stage = Path(tempfile.mkdtemp(prefix=".robot_twitch-export-", dir=root))
    try:
        with _datasets_root_set_to(stage):
            _create(stream, summary, dataset_id)
        _move_new_parts(stage, root, Path(dataset_id))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return target


def observation_space(stream: RunStream) -> Any:
    """Dict of the recorded sensor groups (Limb-v0's, without groups the run did not record)."""
    from gymnasium import spaces

    return spaces.Dict({g: spaces.Box(-np.inf, np.inf, shape=(s.stop - s.start,), dtype=np.float64)
                        for g, s in stream.layout.slices.items()})


def _create(stream: RunStream, summary: dict[str, Any], dataset_id: str) -> None:
    import minari
    from minari.data_collector import EpisodeBuffer

    n_steps = stream.n_steps
    truncations = np.zeros(n_steps, dtype=bool)
    truncations[-1] = True
    episode = EpisodeBuffer(
        id=0,
        seed=int(stream.meta["config"]["seed"]),
        observations={g: np.ascontiguousarray(v) for g, v in stream.observations.items()},
        actions=np.ascontiguousarray(stream.actions),
        rewards=np.zeros(n_steps),
        terminations=np.zeros(n_steps, dtype=bool),
        truncations=truncations,
        infos=stream.infos,
    )
    config = stream.meta["config"]
    with warnings.catch_warnings():
        # Minari asks for a code permalink and an author e-mail, which a run does not know.
        warnings.simplefilter("ignore", UserWarning)
        dataset = minari.create_dataset_from_buffers(
            dataset_id, [episode], env=env_spec(stream), observation_space=observation_space(stream),
            algorithm_name=f"robot_twitch {config['drive']['kind']} drive",
            author="robot_twitch",
            description=(f"robot_twitch run {config['name']!r} (seed {config['seed']}): the {stream.meta['body']['name']} "
                         f"body under the {config['drive']['kind']} drive for {config['duration_s']} simulated s. "
                         "Observations are the sensor groups the learners saw; actions the muscle excitations; "
                         "infos the simulator's truth per step (metadata robot_twitch.stream.fields)."),
        )
        dataset.storage.update_metadata({METADATA_KEY: {"stream": stream.meta, "summary": summary}})


def _move_new_parts(stage: Path, root: Path, relative: Path) -> None:
    """Move the first part of `relative` that root lacks (a new namespace, or the dataset) from stage."""
    for depth in range(1, len(relative.parts) + 1):
        part = Path(*relative.parts[:depth])
        if not (root / part).exists():
            os.replace(stage / part, root / part)
            return
    raise DatasetError(root / relative, "already exists")


def stream_from_minari(dataset: Any, episode_index: int = 0) -> RunStream:
    """The recorded stream of one episode of a Minari dataset written by export_minari."""
    meta = dataset.storage.metadata.get(METADATA_KEY, {}).get("stream")
    if not isinstance(meta, dict):
        raise DatasetError(None, f"Minari dataset {dataset.spec.dataset_id!r} was not written by robot_twitch "
                                 f"(no {METADATA_KEY}.stream metadata)")
    layout = layout_from_meta(meta)
    episode = dataset[episode_index]
    m = len(layout.muscle_names)
    rows: dict[str, np.ndarray] = {
        "sensors": layout.flatten(episode.observations),
        "command": np.concatenate([np.zeros((1, m)), np.asarray(episode.actions)]),
        **{name: np.asarray(episode.infos[name]) for name in INFO_FIELDS},
    }
    n_rows = len(rows["time_s"])
    for name, (dtype, shape) in specs_from_meta(meta).items():
        if rows[name].dtype != np.dtype(dtype) or rows[name].shape != (n_rows, *shape):
            raise DatasetError(None, f"Minari dataset {dataset.spec.dataset_id!r}: {name} is "
                                     f"{rows[name].dtype}{rows[name].shape}, expected {dtype}{(n_rows, *shape)}")
    return RunStream(meta, layout, rows)
