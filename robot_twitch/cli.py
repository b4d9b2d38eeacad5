"""The `robot-twitch` command: run | sweep | report | video | export | bodies | envs.

Exit codes: 0 done; 2 bad input, or a file or folder that cannot be used (one line on stderr, no
traceback); 3 the simulation diverged (one line; status.json says "diverged"); 130 interrupted
(SIGINT/SIGTERM; the run directory holds a checkpoint to resume from).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from robot_twitch.errors import RobotTwitchError, SimulationDiverged

EXIT_OK, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130


def _cmd_run(args: argparse.Namespace) -> int:
    from robot_twitch.config import load_config
    from robot_twitch.experiment import RunInterrupted, run_experiment

    if args.resume is not None:
        if args.config is not None or args.set or args.video:
            raise RobotTwitchError("--resume takes the run directory alone (its config.yaml is used as saved)")
        result = None
        try:
            result = run_experiment(None, resume=Path(args.resume), progress_bar=not args.quiet)  # type: ignore[arg-type]
        except RunInterrupted as exc:
            print(f"robot-twitch: {exc}", file=sys.stderr)
            return EXIT_INTERRUPTED
    else:
        if args.config is None:
            raise RobotTwitchError("robot-twitch run: give a CONFIG (a path or a built-in name) or --resume RUN_DIR")
        config = load_config(args.config, [*args.set, *(["outputs.video.enabled=true"] if args.video else [])])
        try:
            result = run_experiment(config, out=Path(args.out), progress_bar=not args.quiet)
        except RunInterrupted as exc:
            print(f"robot-twitch: {exc}", file=sys.stderr)
            return EXIT_INTERRUPTED
    print(summary_line(result.summary))
    print(result.run_dir)
    return EXIT_OK


SUMMARY_FAMILIES = ("schema", "reflex", "forward", "topology", "reach")  # every score of these is shown
# the touch learners write dozens of controls and variants; the line shows each one's score with
# the control it must beat (the rest are in summary.json)
SUMMARY_TOUCH_METRICS = ("withdrawal.error_rate", "withdrawal.error_rate_shuffled", "withdrawal.error_rate_uniform",
                         "withdrawal.error_rate_probe", "withdrawal.field_match", "skinmap.adjacency",
                         "skinmap.adjacency_shuffled", "skinmap.coverage")


def summary_line(summary: dict) -> str:
    """The one line a finished run prints: its budget and headline scores (3 decimals)."""
    metrics = summary["metrics"]
    shown = [(k, v) for k, v in metrics.items() if k.split(".")[0] in SUMMARY_FAMILIES and not k.endswith("rank_corr")]
    shown += [(k, metrics[k]) for k in SUMMARY_TOUCH_METRICS if k in metrics]
    text = ", ".join(f"{k} {v:.3f}" if isinstance(v, (int, float)) else f"{k} {v}" for k, v in shown)
    budget = summary["budget"]
    return (f"{budget['twitches']} twitches in {budget['simulated_s']:.0f} simulated s ({budget['wall_s']:.1f} s wall): "
            f"{text}")


def _cmd_sweep(args: argparse.Namespace) -> int:
    from robot_twitch.sweep import run_sweep

    result = run_sweep(args.config, grid=args.grid, seeds=args.seeds, overrides=args.set, out=Path(args.out),
                       backend=args.backend, workers=args.workers, address=args.address, quiet=args.quiet,
                       seeds_per_process=args.seeds_per_process)
    print(result)
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from robot_twitch.report import write_report

    print(write_report(Path(args.run_dir)))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from robot_twitch.datasets.minari_io import export_minari

    path = export_minari(Path(args.run_dir), args.minari)
    print(f"Minari dataset {args.minari!r}: minari.load_dataset({args.minari!r})")
    print(path)
    return EXIT_OK


def _cmd_bodies(args: argparse.Namespace) -> int:
    from robot_twitch.body.spec import builtin_bodies, load_body

    for name in builtin_bodies():
        body = load_body(name)
        print(f"{name}: {len(body.joint_names)} joints ({', '.join(body.joint_names)}); "
              f"{len(body.muscle_names)} muscles; regions {', '.join(body.regions)}")
        for muscle in body.muscles:
            print(f"    {muscle.name:<24} region {muscle.region:<9} F_max {muscle.max_isometric_force_n:g} N")
    return EXIT_OK


def _cmd_envs(args: argparse.Namespace) -> int:
    from robot_twitch.envs.tasks import TASK_REGISTRY

    for name, entry in TASK_REGISTRY.items():
        meta = entry.meta
        print(f"{meta['env_id']:<28} task={name:<10} max_episode_steps={meta['max_episode_steps']}  "
              f"{meta['entry_point']}\n{'':<28} {entry.doc}")
    return EXIT_OK


def _tasks_help() -> str:
    """The registered tasks and the settings each takes (``task_config=``), from the registry."""
    import dataclasses

    from robot_twitch.envs.tasks import TASK_REGISTRY

    lines = ["tasks (gymnasium.make(ID, task=NAME, task_config={...})):"]
    for name, entry in TASK_REGISTRY.items():
        keys = ", ".join(f.name for f in dataclasses.fields(entry.config)) if entry.config else "no settings"
        lines.append(f"  {name}: {entry.doc} [{entry.meta['env_id']}; task_config: {keys}]")
    return "\n".join(lines)


def _check_video_options(args: argparse.Namespace) -> None:
    """Every video option, before the config is loaded or the world built."""
    import math

    from robot_twitch.rundir import check_writable_folder
    from robot_twitch.video import FORMATS

    output = Path(args.output)
    suffix = output.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise RobotTwitchError(f"--output {args.output!r}: unknown extension {suffix!r}; expected "
                               f"{' or '.join('.' + f for f in FORMATS)}")
    if output.is_dir():
        raise RobotTwitchError(f"--output {args.output!r}: is a folder; expected a file name")
    if args.seconds is not None and not (math.isfinite(args.seconds) and 0 < args.seconds <= 3600):
        raise RobotTwitchError(f"--seconds {args.seconds!r}: expected a number of seconds in (0, 3600]")
    if args.fps is not None and not 1 <= args.fps <= 240:
        raise RobotTwitchError(f"--fps {args.fps!r}: expected an integer in [1, 240]")
    if args.every_s is not None and not (math.isfinite(args.every_s) and 0 < args.every_s <= 3600):
        raise RobotTwitchError(f"--every-s {args.every_s!r}: expected the simulated seconds between frames "
                               "in (0, 3600] (a time-lapse)")
    if args.every_s is not None and args.seconds is not None and round(args.seconds / args.every_s) < 1:
        raise RobotTwitchError(f"--every-s {args.every_s!r}: no frame in --seconds {args.seconds!r}; "
                               "expected at most the seconds filmed")
    check_writable_folder(output.parent if str(output.parent) else Path("."), "folder of --output")


def _cmd_video(args: argparse.Namespace) -> int:
    from robot_twitch.config import load_config
    from robot_twitch.experiment import film
    from robot_twitch.video import parse_size

    _check_video_options(args)
    try:
        size = parse_size(args.size) if args.size else None
    except ValueError as exc:
        raise RobotTwitchError(f"--size: {exc}") from None
    config = load_config(args.config, args.set)
    result = film(config, Path(args.output), seconds=args.seconds, size=size, fps=args.fps, every_s=args.every_s)
    print(f"{result.n_frames} frames, {result.twitches} twitches, {result.wall_s:.1f} s wall")
    print(result.path)
    return EXIT_OK


def _registry_help() -> str:
    """The drives, learners and body-change kinds a config can name, from their registries."""
    from robot_twitch.body.changes import BODY_CHANGE_REGISTRY
    from robot_twitch.learn.registry import LEARNER_REGISTRY
    from robot_twitch.motor import DRIVE_REGISTRY

    return ("drives (drive.kind):\n" + DRIVE_REGISTRY.describe("\n").replace("\n", "\n  ").join(["  ", ""])
            + "\nlearners (learners.names):\n" + LEARNER_REGISTRY.describe("\n").replace("\n", "\n  ").join(["  ", ""])
            + "\nbody changes (body_changes[].kind):\n"
            + BODY_CHANGE_REGISTRY.describe("\n").replace("\n", "\n  ").join(["  ", ""]))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="robot-twitch", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run an experiment config", epilog=_registry_help(),
                         formatter_class=argparse.RawDescriptionHelpFormatter)
    run.add_argument("config", nargs="?", help="configs/NAME.yaml, or a built-in config name")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config key")
    run.add_argument("--out", default="runs", help="parent folder of run directories (default: runs)")
    run.add_argument("--resume", metavar="RUN_DIR", help="finish an interrupted run")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--video", action="store_true",
                     help="film the run's first seconds into RUN_DIR/video.mp4 (outputs.video.enabled=true)")
    run.set_defaults(func=_cmd_run)

    sweep = sub.add_parser("sweep", help="run a grid of conditions x seeds and aggregate")
    sweep.add_argument("config")
    sweep.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2",
                       help="a swept key (default: the config's sweep.grid)")
    sweep.add_argument("--seeds", type=int, default=None, help="seeds per condition (default: the config's sweep.seeds)")
    sweep.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    sweep.add_argument("--out", default="runs")
    sweep.add_argument("--backend", choices=("local", "ray"), default="local")
    sweep.add_argument("--workers", type=int, default=2, help="local processes at a time (default: 2)")
    sweep.add_argument("--seeds-per-process", type=int, default=1, metavar="N",
                       help="seeds of a condition run in one process, in lockstep: start-up paid once, "
                            "~44 MB per extra seed instead of a process (default: 1, the faster on 2 cores)")
    sweep.add_argument("--address", default=None, help="Ray cluster address (ray backend)")
    sweep.add_argument("--quiet", action="store_true", help="no progress line after each run")
    sweep.set_defaults(func=_cmd_sweep)

    report = sub.add_parser("report", help="regenerate plots and an HTML report for a run or sweep")
    report.add_argument("run_dir")
    report.set_defaults(func=_cmd_report)

    video = sub.add_parser("video", help="film the first seconds of a config's run (the same rollout, frames on)")
    video.add_argument("config")
    video.add_argument("-o", "--output", default="demo.mp4")
    video.add_argument("--seconds", type=float, default=None, help="simulated seconds filmed, from the start")
    video.add_argument("--size", default=None, metavar="WxH")
    video.add_argument("--fps", type=int, default=None)
    video.add_argument("--every-s", type=float, default=None, metavar="S",
                       help="time-lapse: a frame every S simulated seconds (outputs.video.every_s; "
                            "default: 1/fps, real time)")
    video.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    video.set_defaults(func=_cmd_video)

    export = sub.add_parser("export", help="write a finished run's recorded stream (outputs.dataset) as a dataset")
    export.add_argument("run_dir")
    export.add_argument("--minari", required=True, metavar="DATASET_ID",
                        help="Minari dataset id, [NAMESPACE/]NAME-vVERSION (root: $MINARI_DATASETS_PATH)")
    export.set_defaults(func=_cmd_export)

    sub.add_parser("bodies", help="list the built-in bodies").set_defaults(func=_cmd_bodies)
    sub.add_parser("envs", help="list the gymnasium ids and their tasks", epilog=_tasks_help(),
                   formatter_class=argparse.RawDescriptionHelpFormatter).set_defaults(func=_cmd_envs)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SimulationDiverged as exc:
        print(f"robot-twitch: error: {exc}".replace("\n", " "), file=sys.stderr)
        return EXIT_DIVERGED
    except RobotTwitchError as exc:
        print(f"robot-twitch: error: {exc}".replace("\n", " "), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("robot-twitch: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
