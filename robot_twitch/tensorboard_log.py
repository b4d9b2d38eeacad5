"""TensorBoard event files of a run (``outputs.tensorboard: true``): RUN_DIR/tensorboard/.

At every scoring time: each metrics.csv column as a scalar (``schema.cosine`` -> tag
``schema/cosine``, so TensorBoard groups them by family) and the maps as images beside the truth
(``maps/true_moment_arms``, ``maps/motor_map``, ``maps/proprio_map``, ``maps/hebbian_reflex``: one
cell per entry, red positive, blue negative, each scaled to its largest magnitude, the motor map
per joint as in plots/maps.png). The step axis
is simulated time in milliseconds. At the end: the labelled figure of plots/maps.png
(``maps/figure``), the reach scores as scalars, and the run's config as TensorBoard hparams, so
that the HParams tab of ``tensorboard --logdir SWEEP_DIR`` lists every run of a sweep with its
settings and scores. (Images, not figures, at each scoring time: drawing a matplotlib figure costs
~100x more.)

A resumed run drops the events its interrupted session wrote after the checkpoint
(TensorBoard's purge_step), so each step is logged once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from robot_twitch.errors import RobotTwitchError

TENSORBOARD_DIR = "tensorboard"
EXTRA_HINT = "pip install 'robot_twitch[tensorboard]'"
CELL_PX = 16
# map image tag -> key of the learners' body map (None: the truth)
MAP_IMAGES = {"maps/true_moment_arms": None, "maps/motor_map": "motor_map/motor_map",
              "maps/proprio_map": "proprio/proprio_map", "maps/hebbian_reflex": "hebbian/reflex_spindle_length"}


def require_tensorboard() -> None:
    """RobotTwitchError (one line) unless torch's TensorBoard writer can be imported."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise RobotTwitchError(f"outputs.tensorboard needs the tensorboard package: {EXTRA_HINT}") from None


def step_ms(time_s: float) -> int:
    """The TensorBoard step of a simulated time: milliseconds."""
    return int(round(time_s * 1000.0))


def metric_tag(key: str) -> str:
    """metrics.csv column -> TensorBoard tag ('schema.cosine' -> 'schema/cosine')."""
    return key.replace(".", "/")


def numbers(scores: dict[str, Any]) -> dict[str, float]:
    """The numeric entries of a metrics row or summary (some summary entries are text, e.g.
    'not within the run')."""
    return {k: float(v) for k, v in scores.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


def heatmap_image(matrix: np.ndarray, cell_px: int = CELL_PX) -> np.ndarray:
    """(R, C) values -> (R * cell_px, C * cell_px, 3) uint8 RGB, colormap RdBu_r, symmetric about 0."""
    from matplotlib import colormaps

    data = np.nan_to_num(np.asarray(matrix, dtype=np.float64))
    lim = float(np.max(np.abs(data))) or 1.0
    rgb = colormaps["RdBu_r"](0.5 + 0.5 * data / lim)[..., :3]
    pixels = np.repeat(np.repeat(rgb, cell_px, axis=0), cell_px, axis=1)
    return np.round(pixels * 255).astype(np.uint8)


def config_hparams(config: dict[str, Any]) -> dict[str, bool | int | float | str]:
    """The config's leaves as flat 'section.key' -> value (lists and mappings as JSON text)."""
    out: dict[str, bool | int | float | str] = {}

    def walk(prefix: str, node: Any) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(f"{prefix}.{key}" if prefix else key, value)
        elif isinstance(node, (bool, int, float, str)):
            out[prefix] = node
        else:
            out[prefix] = json.dumps(node, sort_keys=True, default=str)

    walk("", {k: v for k, v in config.items() if k not in ("description", "sweep")})
    return out


class TensorBoardLog:
    """Writes one run's event files into RUN_DIR/tensorboard/."""

    def __init__(self, run_dir: Path, purge_step: int | None = None) -> None:
        require_tensorboard()
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=str(Path(run_dir) / TENSORBOARD_DIR), purge_step=purge_step,
                                    flush_secs=30)

    def scores(self, row: dict[str, float], maps: dict[str, np.ndarray], true_moment_arms: np.ndarray) -> None:
        """One metrics.csv row (with its time_s) and the learned maps (M, J) / (M, M) beside R (M, J)."""
        step = step_ms(row["time_s"])
        for key, value in numbers(row).items():
            if key != "time_s":
                self.writer.add_scalar(metric_tag(key), value, step)
        from robot_twitch.evaluation import defined_rows, per_joint_scaled

        for tag, key in MAP_IMAGES.items():
            matrix = true_moment_arms if key is None else maps.get(key)
            if key == "motor_map/motor_map" and matrix is not None:
                learned = np.asarray(matrix, dtype=np.float64)  # up to a scale per joint: drawn as plots/maps.png
                matrix = per_joint_scaled(learned, true_moment_arms, defined_rows(learned))
            if matrix is not None:
                self.writer.add_image(tag, heatmap_image(matrix), step, dataformats="HWC")

    def finish(self, config: dict[str, Any], time_s: float, metrics: dict[str, float], figure: Any = None) -> None:
        """The maps figure (closed here), the final scores that metrics.csv lacks (reach) and the
        config as hparams; closes the files."""
        from torch.utils.tensorboard.summary import hparams

        step = step_ms(time_s)
        if figure is not None:
            self.writer.add_figure("maps/figure", figure, step, close=True)
        scores = numbers(metrics)
        for key, value in scores.items():
            if key.startswith("reach."):
                self.writer.add_scalar(metric_tag(key), value, step)
        metric_tags = {metric_tag(k): v for k, v in scores.items()}
        for summary in hparams(config_hparams(config), metric_tags):
            self.writer.file_writer.add_summary(summary, step)
        self.close()

    def close(self) -> None:
        self.writer.close()
