"""`robot-twitch report DIR`: regenerate plots and one self-contained HTML report."""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path

from robot_twitch.errors import ConfigError
from robot_twitch.runstate import load_arrays


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<figure><img src="data:image/png;base64,{data}" style="max-width:100%"><figcaption>{path.name}</figcaption></figure>'


def _regenerate_run_plots(run_dir: Path) -> None:
    from robot_twitch.body.spec import load_body
    from robot_twitch.config import load_config
    from robot_twitch.motor import load_events
    from robot_twitch.plots import plot_learning_curves, plot_maps

    config = load_config(run_dir / "config.yaml")
    body = load_body(config.body)
    plots = run_dir / "plots"
    plots.mkdir(exist_ok=True)
    maps = load_arrays(run_dir / "body_map.npz")
    plot_maps(body, maps, maps["truth/moment_arms"], plots / "maps.png")
    if (run_dir / "metrics.csv").is_file():
        with open(run_dir / "metrics.csv") as f:
            rows = [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
        plot_learning_curves(rows, plots / "learning_curves.png")
    events = load_events(run_dir / "events.csv") if (run_dir / "events.csv").is_file() else []
    if events:
        import matplotlib.pyplot as plt

        from robot_twitch.motor.plot import plot_twitch_raster

        plt.close(plot_twitch_raster(events, list(body.muscle_names), plots / "twitch_raster.png"))


def write_report(directory: Path) -> Path:
    """Write DIR/report.html for a run directory or a sweep directory; return its path."""
    if not directory.is_dir():
        raise ConfigError(directory, None, "not a directory")
    parts = [f"<h1>robot_twitch report: {html.escape(directory.name)}</h1>"]
    if (directory / "summary.json").is_file():
        _regenerate_run_plots(directory)
        summary = json.loads((directory / "summary.json").read_text())
        rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{v:.4g}</td></tr>" for k, v in summary["metrics"].items())
        budget = "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in summary["budget"].items())
        parts += [f"<h2>Metrics</h2><table>{rows}</table>", f"<h2>Budget</h2><table>{budget}</table>"]
        for name in ("maps.png", "learning_curves.png", "twitch_raster.png"):
            if (directory / "plots" / name).is_file():
                parts.append(_img(directory / "plots" / name))
        for video in sorted(directory.glob("video.*")):
            if video.suffix == ".gif":
                data = base64.b64encode(video.read_bytes()).decode()
                parts.append(f'<img src="data:image/gif;base64,{data}">')
            else:
                data = base64.b64encode(video.read_bytes()).decode()
                parts.append(f'<video controls src="data:video/mp4;base64,{data}"></video>')
        parts.append(f"<h2>Config</h2><pre>{html.escape((directory / 'config.yaml').read_text())}</pre>")
    elif (directory / "sweep.json").is_file():
        records = json.loads((directory / "sweep.json").read_text())
        from robot_twitch.sweep import write_aggregate

        write_aggregate(directory, records)
        parts.append(f"<h2>Aggregate (mean ± 95% CI)</h2><pre>{html.escape((directory / 'aggregate.md').read_text())}</pre>")
        if (directory / "plots" / "curves.png").is_file():
            parts.append(_img(directory / "plots" / "curves.png"))
        failed = [r for r in records if r["error"]]
        if failed:
            items = "".join(f"<li>{html.escape(' '.join(r['overrides']))}: {html.escape(r['error'])}</li>" for r in failed)
            parts.append(f"<h2>Failed runs</h2><ul>{items}</ul>")
    elif (directory / "status.json").is_file():
        from robot_twitch.rundir import describe_status

        raise ConfigError(directory, None, f"an unfinished run that {describe_status(directory)}; "
                                           f"finish it with: robot-twitch run --resume {directory}")
    else:
        raise ConfigError(directory, None, "neither a finished run (summary.json) nor a sweep (sweep.json)")
    style = "<style>body{font-family:sans-serif;max-width:1100px;margin:auto}td{padding:2px 10px}</style>"
    out = directory / "report.html"
    out.write_text(f"<!doctype html><html><head><meta charset='utf-8'>{style}</head><body>{''.join(parts)}</body></html>")
    return out
