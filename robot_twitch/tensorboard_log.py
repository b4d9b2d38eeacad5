"""TensorBoard event files of a run (``outputs.tensorboard: true``): RUN_DIR/tensorboard/.

At every scoring time: each metrics.csv column as a scalar (``schema.cosine`` -> tag
``schema/cosine``, so TensorBoard groups them by family) and the figure of the learned maps
beside the truth (tag ``maps``). The step axis is simulated time in milliseconds. At the end:
the reach scores as scalars, and the run's config as TensorBoard hparams, so that the HParams
tab of ``tensorboard --logdir SWEEP_DIR`` lists every run of a sweep with its settings and scores.

A resumed run drops the events its interrupted session wrote after the checkpoint
(TensorBoard's purge_step), so each step is logged once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from robot_twitch.errors import RobotTwitchError

TENSORBOARD_DIR = "tensorboard"
EXTRA_HINT = "pip install 'robot_twitch[tensorboard]'"


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

    def scores(self, row: dict[str, float], figure: Any | None = None) -> None:
        """One metrics.csv row (with its time_s) and, optionally, the maps figure (closed here)."""
        step = step_ms(row["time_s"])
        for key, value in row.items():
            if key != "time_s":
                self.writer.add_scalar(metric_tag(key), float(value), step)
        if figure is not None:
            self.writer.add_figure("maps", figure, step, close=True)

    def finish(self, config: dict[str, Any], time_s: float, metrics: dict[str, float]) -> None:
        """The final scores that metrics.csv lacks (reach) and the config as hparams; closes the files."""
        from torch.utils.tensorboard.summary import hparams

        step = step_ms(time_s)
        for key, value in metrics.items():
            if key.startswith("reach."):
                self.writer.add_scalar(metric_tag(key), float(value), step)
        metric_tags = {metric_tag(k): float(v) for k, v in metrics.items()}
        for summary in hparams(config_hparams(config), metric_tags):
            self.writer.file_writer.add_summary(summary, step)
        self.close()

    def close(self) -> None:
        self.writer.close()
