"""`robot-twitch report DIR`: regenerate plots and one self-contained HTML report.

The page is plain HTML tables and figures with captions, readable at 1280 px without horizontal
scrolling: a header (what ran, for how long), the metrics with a header row and what each one
measures, the budget, the figures, the video, and the resolved config folded away.
"""

from __future__ import annotations

import base64
import csv
import html
import json
from pathlib import Path
from typing import Any

from robot_twitch.errors import ConfigError
from robot_twitch.runstate import load_arrays

#: What each metric measures (docs/learners.md has the definitions); shown beside its value.
METRIC_MEANINGS = {
    "schema.sign_accuracy": "motor map (learned from each muscle's own command): signs that match the "
                            "true moment arms R",
    "schema.cosine": "motor map: cosine between learned and true moment-arm rows (per-joint aligned), mean "
                     "over muscles; a muscle never commanded counts 0",
    "schema.rank_corr": "motor map: rank correlation of learned and true moment arms",
    "schema.coverage": "motor map: fraction of muscles commanded often enough to have a row",
    "proprio.sign_accuracy": "proprioceptive map (spindle length vs joint angle, no command needed): signs",
    "proprio.cosine": "proprioceptive map: cosine between learned and true moment-arm rows",
    "reflex.synergist": "synergists' spindles excite the muscle (sign right)",
    "reflex.specificity": "reflex weights of related muscle pairs larger than of unrelated pairs (ROC area)",
    "reflex.pattern_accuracy": "reflex matrix entries with the sign of the textbook pattern",
    "reflex.stretch": "stretch reflex: a muscle's spindle excites its own motor command (sign right)",
    "reflex.reciprocal_inhibition": "antagonists' spindles inhibit the muscle (sign right)",
    "reflex.reverse_myotatic": "tendon organs inhibit their own muscle (sign right)",
    "forward.r2": "forward model, held-out batches: R^2 of the predicted sensor change",
    "forward.nrmse": "forward model, held-out batches: normalised RMS error",
    "topology.f1": "muscle-to-joint graph recovered from movement (F1 against the URDF)",
    "topology.link_f1": "link adjacency recovered (F1 against the URDF tree)",
    "topology.somatotopy_rho": "self-organising map: map distance vs body distance (Spearman)",
    "reach.success_learned_map": "reaching trials solved with the learned action map",
    "reach.success_true_map": "reaching trials solved with the true moment arms (ceiling)",
    "reach.success_random": "reaching trials solved by random commands (floor)",
}

METRIC_MEANINGS.update({
    "proprio.rank_corr": "proprioceptive map: rank correlation of learned and true moment arms",
    "proprio.coverage": "proprioceptive map: fraction of muscles with a row",
    **{f"reflex.velocity_{k}": f"as reflex.{k}, for the spindle-velocity (group Ia dynamic) reflex"
       for k in ("stretch", "reciprocal_inhibition", "synergist", "specificity", "pattern_accuracy")},
})

FIGURE_CAPTIONS = {
    "maps.png": "Learned maps beside the truth. Left: the true moment arms R (muscles x joints, m, "
                "averaged over the postures visited); then the motor map learned from the "
                "commands (per-joint aligned to the truth; blank rows: muscles never commanded) and the "
                "proprioceptive map (same sign convention, arbitrary scale per muscle); right: the Hebbian "
                "reflex map (spindle -> motor), whose diagonal should be positive.",
    "learning_curves.png": "Learning curves: each score against simulated time, measured at every "
                           "scoring interval. Values outside the axis are drawn as triangles on its edge.",
    "twitch_raster.png": "The twitch train: one mark per twitch per muscle, with the sleep-wake "
                         "state (hypnogram) on top.",
    "skinmap.png": "The somatotopic skin map (learner skinmap): its 12 x 12 nodes, each coloured by the "
                   "body part of most of the touched afferents it holds, darker the more it holds; white "
                   "nodes hold none. Neighbouring skin should sit on neighbouring nodes and each part "
                   "in one area (skinmap.adjacency, skinmap.segregation; docs/learners.md).",
    "curves.png": "Learning curves per condition: mean over seeds with a 95% Student-t band; "
                  "bands from fewer than 3 seeds are hatched and marked in the legend.",
}

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:1180px;margin:24px auto;padding:0 16px;
     color:#1d1d1f;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em} h2{font-size:1.25em;margin-top:1.6em;border-bottom:1px solid #ddd}
p.lead{color:#555;margin-top:0}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em;max-width:100%}
th,td{border-bottom:1px solid #e3e3e3;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f4f4f6;font-weight:600} td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
caption{caption-side:bottom;text-align:left;color:#555;font-size:.9em;padding-top:4px}
.scroll{overflow-x:auto;max-width:100%}
figure{margin:1.2em 0} figure img,figure video{max-width:100%;height:auto;border:1px solid #eee}
figcaption{color:#444;font-size:.92em;margin-top:4px}
details{margin:1em 0} summary{cursor:pointer;font-weight:600}
pre{background:#f7f7f9;padding:10px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:.85em}
.flag{color:#a15c00}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return _esc(value)


def _table(headers: list[str], rows: list[list[str]], caption: str = "", numeric: tuple[int, ...] = (1,)) -> str:
    """An HTML table with a header row; cells are escaped HTML. Columns in `numeric` align right."""
    head = "".join(f"<th scope='col'>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td class='num'>{c}</td>" if k in numeric else f"<td>{c}</td>"
                                    for k, c in enumerate(row)) + "</tr>" for row in rows)
    cap = f"<caption>{caption}</caption>" if caption else ""
    return f"<div class='scroll'><table>{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _figure(path: Path, caption: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode()
    return (f"<figure><img src='data:image/png;base64,{data}' alt='{_esc(caption)}'>"
            f"<figcaption>{_esc(caption)}</figcaption></figure>")


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
    from robot_twitch.learn.skinmap import plot_skinmap_of

    plot_skinmap_of(maps, body.skin, plots / "skinmap.png")
    events = load_events(run_dir / "events.csv") if (run_dir / "events.csv").is_file() else []
    if events:
        from robot_twitch.motor.plot import plot_twitch_raster

        plot_twitch_raster(events, list(body.muscle_names), plots / "twitch_raster.png")


def _run_parts(directory: Path) -> list[str]:
    _regenerate_run_plots(directory)
    summary = json.loads((directory / "summary.json").read_text())
    budget = summary.get("budget", {})
    parts = [f"<p class='lead'>Config <b>{_esc(summary.get('name'))}</b>, seed {_esc(summary.get('seed'))}, "
             f"body <b>{_esc(summary.get('body'))}</b>, drive <b>{_esc(summary.get('drive'))}</b>: "
             f"{_fmt(budget.get('simulated_s'))} simulated s, {_esc(budget.get('twitches'))} twitches, "
             f"{_fmt(budget.get('wall_s'))} s wall.</p>"]
    rows = [[_esc(k), _fmt(v), _esc(METRIC_MEANINGS.get(k, ""))] for k, v in summary["metrics"].items()]
    parts.append("<h2>Metrics</h2>" + _table(["metric", "value", "what it measures"], rows,
                                             "Final scores against the simulator's truth (docs/learners.md)."))
    units = {"simulated_s": "s", "wall_s": "s", "energy": "s (sum of u^2 dt)", "twitches": "count"}
    brows = [[_esc(k), _fmt(v), _esc(units.get(k, ""))] for k, v in budget.items()]
    parts.append("<h2>Budget</h2>" + _table(["quantity", "value", "unit"], brows,
                                            "What the run spent: simulated time, twitches, actuation energy, wall time."))
    figures = [(n, FIGURE_CAPTIONS[n]) for n in ("maps.png", "learning_curves.png", "twitch_raster.png")
               if (directory / "plots" / n).is_file()]
    figures += [("skinmap.png", FIGURE_CAPTIONS["skinmap.png"])] * (directory / "plots" / "skinmap.png").is_file()
    if figures:
        parts.append("<h2>Figures</h2>" + "".join(_figure(directory / "plots" / n, c) for n, c in figures))
    for video in sorted(directory.glob("video.*")):
        data = base64.b64encode(video.read_bytes()).decode()
        caption = "The run's first seconds, filmed: muscles drawn along their paths, coloured by activation."
        media = (f"<img src='data:image/gif;base64,{data}' alt='{_esc(caption)}'>" if video.suffix == ".gif" else
                 f"<video controls src='data:video/mp4;base64,{data}'></video>")
        parts.append(f"<h2>Video</h2><figure>{media}<figcaption>{_esc(caption)}</figcaption></figure>")
    config_text = (directory / "config.yaml").read_text() if (directory / "config.yaml").is_file() else ""
    parts.append(f"<details><summary>Resolved config (config.yaml)</summary><pre>{_esc(config_text)}</pre></details>")
    return parts


def _sweep_parts(directory: Path) -> list[str]:
    from robot_twitch.sweep import aggregate_rows, write_aggregate

    records = json.loads((directory / "sweep.json").read_text())
    write_aggregate(directory, records)
    rows, names = aggregate_rows(records)
    conditions = [r["condition"] for r in rows]
    few = [r["condition"] for r in rows if r["n"] < 3]
    header = ["metric", *(f"{_esc(c)}<br><small>n = {r['n']}{' †' if r['n'] < 3 else ''}</small>"
                          for c, r in zip(conditions, rows, strict=True))]
    table_rows = []
    for name in names:
        cells = []
        for r in rows:
            mean, half = r[name]
            cells.append("–" if mean != mean else f"{mean:.3g}" + ("" if half != half else f" ± {half:.2g}"))
        table_rows.append([f"{_esc(name)}<br><small>{_esc(METRIC_MEANINGS.get(name, ''))}</small>", *cells])
    note = "Mean ± half-width of the 95% Student-t confidence interval over seeds, per condition."
    if few:
        note += " † fewer than 3 seeds: the interval is unreliable (1 seed: none)."
    parts = [f"<p class='lead'>{len(records)} runs: {len(conditions)} conditions x seeds.</p>",
             "<h2>Aggregate</h2>" + _table(header, table_rows, _esc(note), tuple(range(1, len(header))))]
    if (directory / "plots" / "curves.png").is_file():
        parts.append("<h2>Figures</h2>" + _figure(directory / "plots" / "curves.png", FIGURE_CAPTIONS["curves.png"]))
    failed = [r for r in records if r["error"]]
    if failed:
        items = "".join(f"<li>{_esc(' '.join(r['overrides']))}: {_esc(r['error'])}</li>" for r in failed)
        parts.append(f"<h2>Failed runs</h2><ul>{items}</ul>")
    return parts


def write_report(directory: Path) -> Path:
    """Write DIR/report.html for a run directory or a sweep directory; return its path."""
    if not directory.is_dir():
        raise ConfigError(directory, None, "not a directory")
    if (directory / "summary.json").is_file():
        kind, parts = "run", _run_parts(directory)
    elif (directory / "sweep.json").is_file():
        kind, parts = "sweep", _sweep_parts(directory)
    elif (directory / "status.json").is_file():
        from robot_twitch.rundir import describe_status

        raise ConfigError(directory, None, f"an unfinished run that {describe_status(directory)}; "
                                           f"finish it with: robot-twitch run --resume {directory}")
    else:
        raise ConfigError(directory, None, "neither a finished run (summary.json) nor a sweep (sweep.json)")
    title = f"robot_twitch {kind}: {_esc(directory.name)}"
    out = directory / "report.html"
    out.write_text(f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
                   f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{title}</title>"
                   f"<style>{STYLE}</style></head><body><h1>{title}</h1>{''.join(parts)}</body></html>")
    return out
