"""The typed experiment config: YAML + --set overrides -> one frozen, validated object.

One dataclass per section, a docstring per field (CleanRL's convention). Every run writes the
fully resolved config next to its results, so `robot-twitch run RUN_DIR/config.yaml` repeats it.
docs/config.md is the reference of every key.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field, make_dataclass, replace
from pathlib import Path
from typing import Any, Literal

import yaml

from robot_twitch.body.changes import BODY_CHANGE_REGISTRY
from robot_twitch.errors import ConfigError
from robot_twitch.learn.gate import GateConfig
from robot_twitch.learn.registry import LEARNER_REGISTRY, SKIN_LEARNERS  # noqa: F401 (SKIN_LEARNERS: re-exported)
from robot_twitch.motor import DRIVE_REGISTRY
from robot_twitch.registry import Registry
from robot_twitch.sensors import SensorConfig
from robot_twitch.sim import SimConfig
from robot_twitch.typed import build, to_plain
from robot_twitch.yaml_file import load_yaml_text, read_yaml_mapping

#: Longest run accepted [simulated s]: 10 days, far beyond any experiment here (hours), but
#: catching typos such as 1e12 that would otherwise start a run that never ends.
MAX_DURATION_S = 864_000.0
LEARNER_NAMES = LEARNER_REGISTRY.names()
BodyChangeKind = BODY_CHANGE_REGISTRY.literal()


@dataclass(frozen=True)
class DriveChoice:
    """The keys of the `drive` section that every drive shares; DriveSection adds one section per
    registered drive (see `drive_section`)."""

    kind: str = "twitch"
    """Which drive runs (a drive registered in robot_twitch/motor/factory.py)."""
    match_energy: bool = False
    """Scale a baseline so its actuation energy equals the twitch condition's (same seed, duration)."""
    stop_at_s: float | None = None
    """Silence the drive from this simulated time on (experiment 6's control: no movement after
    the body change); None never silences it."""

    def __post_init__(self) -> None:
        if self.stop_at_s is not None and not self.stop_at_s >= 0:
            raise ConfigError(None, "drive.stop_at_s", f"{self.stop_at_s!r} must be >= 0 or null")

    def selected(self) -> Any:
        """The settings of the drive that runs. A drive whose settings depend on the rest of the
        section (passive borrows the twitch schedule) resolves them in its config's ``resolved``."""
        settings = getattr(self, self.kind, None)  # None: a drive without settings
        resolved = getattr(settings, "resolved", None)
        return resolved(self) if resolved is not None else settings


def drive_section(registry: Registry, default: str = "twitch") -> type:
    """The `drive` section's dataclass for the drives in ``registry``: DriveChoice's keys, ``kind``
    restricted to the registered names, and one ``drive.NAME`` section (that drive's own config
    dataclass, its defaults) per drive that has settings, in registration order. Adding a drive
    to the registry adds its section here, to docs/config.md and to the CLI's help."""
    kind_default = default if default in registry else registry.names()[0]
    fields: list[tuple[str, Any, Any]] = [("kind", registry.literal(), field(default=kind_default))]
    shared = {f.name for f in dataclasses.fields(DriveChoice)}
    for name, entry in registry.items():
        if name in shared:
            raise ValueError(f"drive name {name!r} is invalid: it is a key of the drive section ({sorted(shared)})")
        if entry.config is not None:
            doc = f"Settings of the `{name}` drive ({entry.config.__name__}): {entry.doc}"
            fields.append((name, entry.config, field(default_factory=entry.config, metadata={"doc": doc})))
    return make_dataclass("DriveSection", fields, bases=(DriveChoice,), frozen=True,
                          namespace={"__module__": __name__,
                                     "__doc__": "The motor drive: which one runs, and the settings of each."})


DriveSection = drive_section(DRIVE_REGISTRY)
"""The `drive` section of the config, generated from DRIVE_REGISTRY."""


@dataclass(frozen=True)
class LearnerSection:
    """Which learners watch the run, with their constructor parameters."""

    names: tuple[str, ...] = ("hebbian", "motor_map", "proprio", "schema_reflex", "forward", "topology")
    """Learners to run, by the names registered in robot_twitch/learn/registry.py."""
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per-learner keyword arguments, e.g. {forward: {hidden: [32, 32]}}."""
    batch_steps: int = 100
    """Control steps per batch handed to the learners."""
    gate: GateConfig = field(default_factory=GateConfig)
    """Reafference gating (experiment 5): remove the feedback the efference copy predicts."""

    def __post_init__(self) -> None:
        for name in (*self.names, *self.params):
            if name not in LEARNER_NAMES:
                raise ConfigError(None, "learners.names", f"{name!r} is not a learner; expected {LEARNER_NAMES}")
        if self.batch_steps < 1:
            raise ConfigError(None, "learners.batch_steps", f"{self.batch_steps!r} must be >= 1")


@dataclass(frozen=True)
class EvaluationSection:
    """When and how the learned maps are scored against the simulator's truth."""

    every_s: float = 10.0
    """Scoring interval [simulated s]; one row of metrics.csv each time."""
    heldout_fraction: float = 0.1
    """Fraction of batches withheld from the learners to score the forward model."""
    reach_trials: int = 10
    """Target postures for the downstream reaching check at the end (0 disables it)."""
    reach_steps: int = 150
    """Control steps allowed per reaching trial."""
    realign_tolerance: float = 0.02
    """After a body change, a map counts as re-aligned once its score is back within this
    (absolute) distance of its pre-change score (realign.* metrics; robot_twitch.evaluation.realign)."""
    withdrawal_probe_sites: int = 60
    """Stimuli of the withdrawal reflex test tried again in a copy of the world, per pool and
    test (withdrawal.*_probe metrics; robot_twitch/evaluation/withdrawal_probe.py): at most this
    many of the loaded and of the resting skin's; 0 turns the probe off. ~10 ms per stimulus and
    weight matrix on the infant."""

    def __post_init__(self) -> None:
        if not self.every_s > 0:
            raise ConfigError(None, "evaluation.every_s", f"{self.every_s!r} must be positive")
        if not 0.0 <= self.heldout_fraction < 1.0:
            raise ConfigError(None, "evaluation.heldout_fraction", f"{self.heldout_fraction!r} must be in [0, 1)")
        if not self.realign_tolerance >= 0:
            raise ConfigError(None, "evaluation.realign_tolerance", f"{self.realign_tolerance!r} must be >= 0")
        if self.withdrawal_probe_sites < 0:
            raise ConfigError(None, "evaluation.withdrawal_probe_sites", f"{self.withdrawal_probe_sites!r} must be >= 0")
        if self.reach_trials < 0 or self.reach_steps < 1:
            raise ConfigError(None, "evaluation.reach_trials", "reach_trials must be >= 0, reach_steps >= 1")


@dataclass(frozen=True)
class BodyChange:
    """A change of the body at a simulated time (experiment 6). The truth follows it."""

    at_s: float
    """When the change happens [simulated s]."""
    kind: BodyChangeKind
    """Which change: a kind registered in robot_twitch/body/changes.py, with the keys it needs."""
    muscle: str = ""
    """Name of the muscle changed."""
    link: str = ""
    """Name of the link grown."""
    factor: float = 0.5
    """Force scale for weaken_muscle; length scale for scale_segment."""
    point: int = -1
    """Path point index for move_attachment (-1: the insertion)."""
    offset_m: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Shift of the path point in its link frame [m] for move_attachment."""
    joint: str = ""
    """Joint whose moment-arm sign a tendon_transfer flips."""
    insertion_m: tuple[float, float, float] | None = None
    """New insertion of a tendon_transfer, in the insertion's link frame [m]."""
    via_m: tuple[float, float, float] | None = None
    """New position of the path point before the insertion (the re-routing pulley) of a
    tendon_transfer, in its link frame [m]; None keeps it."""

    def __post_init__(self) -> None:
        if self.kind not in BODY_CHANGE_REGISTRY:
            raise ConfigError(None, "body_changes.kind", BODY_CHANGE_REGISTRY.unknown(self.kind))
        BODY_CHANGE_REGISTRY[self.kind].factory.check(self)


@dataclass(frozen=True)
class VideoSection:
    """A video of the run, recorded while it runs."""

    enabled: bool = False
    """Record a video into the run directory."""
    seconds: float = 10.0
    """Length of the recorded stretch [simulated s], from the start."""
    every_s: float | None = None
    """Simulated time between frames [s] for a time-lapse: frame k shows time k * every_s, so the
    video plays every_s * fps times faster than real time (3 with fps 20: 300 s in 5 s, 100 frames
    over seconds=300); None: 1 / fps, real time."""
    width: int = 640
    """Frame width [px]."""
    height: int = 480
    """Frame height [px]."""
    fps: int = 30
    """Frames per second of the video (and of simulated time)."""
    format: Literal["mp4", "gif"] = "mp4"
    """Container: mp4 (libx264) or gif."""
    panel: Literal["auto", "motor_map", "skinmap", "none"] = "auto"
    """Side panel: the map a learner is learning, as it forms. auto: the motor map when learner
    motor_map runs, else the skin map when learner skinmap runs, else none; motor_map or skinmap:
    that learner's map (the learner must run); none: no panel."""

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ConfigError(None, "video.seconds", f"{self.seconds!r} must be positive")
        if self.every_s is not None and not self.every_s > 0:
            raise ConfigError(None, "video.every_s", f"{self.every_s!r} must be positive (simulated s between "
                                                     "frames) or null (real time)")
        if self.every_s is not None and round(self.seconds / self.every_s) < 1:
            raise ConfigError(None, "video.every_s", f"{self.every_s!r} gives no frame in video.seconds "
                                                     f"{self.seconds!r}: expected at most the seconds filmed")
        if not 1 <= self.fps <= 240:
            raise ConfigError(None, "video.fps", f"{self.fps!r} must be in [1, 240]")
        for key in ("width", "height"):
            if not 16 <= getattr(self, key) <= 4096:
                raise ConfigError(None, f"video.{key}", f"{getattr(self, key)!r} must be in [16, 4096] px")


@dataclass(frozen=True)
class OutputSection:
    """What a run writes besides metrics.csv, summary.json and config.yaml."""

    plots: bool = True
    """Write plots/ (maps beside the truth, learning curves, twitch raster)."""
    checkpoint_every_s: float = 10.0
    """Checkpoint interval [simulated s]; an interrupted run resumes from the last one."""
    video: VideoSection = field(default_factory=VideoSection)
    """Optional video of the run."""
    dataset: bool = False
    """Record the run's stream into stream/: sensor readings, excitations and the truth per step (twitch
    onsets and polarity, sleep state, R(q), contacts); `robot-twitch export` makes it a Minari dataset
    (docs/datasets.md)."""
    tensorboard: bool = False
    """Write the metrics and the map figures at each scoring time as TensorBoard event files into
    tensorboard/ (needs the `tensorboard` extra; docs/datasets.md)."""

    def __post_init__(self) -> None:
        if not self.checkpoint_every_s > 0:
            raise ConfigError(None, "outputs.checkpoint_every_s", f"{self.checkpoint_every_s!r} must be positive")


@dataclass(frozen=True)
class SweepSection:
    """The default grid of `robot-twitch sweep` for this config (--grid and --seeds override it)."""

    grid: dict[str, list[Any]] = field(default_factory=dict)
    """Key -> values to sweep; the product of all keys is run."""
    seeds: int = 10
    """Seeds per condition (config seed, seed + 1, ...)."""


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole experiment: body, physics, drive, learners, duration, evaluation, outputs."""

    name: str = "experiment"
    """Name used for the run directory."""
    description: str = ""
    """What the experiment tests (free text)."""
    seed: int = 0
    """Seed of every random generator in the run."""
    body: str = "planar_arm"
    """A built-in body name or a path to a body YAML (relative to the config file)."""
    duration_s: float = 60.0
    """Simulated time [s]."""
    sim: SimConfig = field(default_factory=SimConfig)
    """Physics settings."""
    sensors: SensorConfig = field(default_factory=SensorConfig)
    """Sensor noise and delays."""
    drive: DriveSection = field(default_factory=DriveSection)  # type: ignore[valid-type]
    """The motor drive."""
    learners: LearnerSection = field(default_factory=LearnerSection)
    """Learners watching the run."""
    evaluation: EvaluationSection = field(default_factory=EvaluationSection)
    """Scoring schedule."""
    body_changes: tuple[BodyChange, ...] = ()
    """Changes of the body during the run (experiment 6)."""
    outputs: OutputSection = field(default_factory=OutputSection)
    """What the run writes."""
    sweep: SweepSection = field(default_factory=SweepSection)
    """Default grid and seeds for `robot-twitch sweep`."""

    def __post_init__(self) -> None:
        if not self.duration_s > 0:
            raise ConfigError(None, "duration_s", f"{self.duration_s!r} must be positive")
        if not self.duration_s <= MAX_DURATION_S:
            raise ConfigError(None, "duration_s", f"{self.duration_s!r} is beyond the limit of {MAX_DURATION_S:.0f} s "
                                                  "(10 days of simulated time)")
        panel = self.outputs.video.panel
        if panel in ("motor_map", "skinmap") and panel not in self.learners.names:
            raise ConfigError(None, "outputs.video.panel", f"{panel!r} shows learner {panel!r}, which is not in "
                                                           f"learners.names {list(self.learners.names)}")
        for k, change in enumerate(self.body_changes):
            if not 0 <= change.at_s <= self.duration_s:
                raise ConfigError(None, f"body_changes[{k}].at_s",
                                  f"{change.at_s!r} must be within the run (0..{self.duration_s})")

    def to_dict(self) -> dict[str, Any]:
        return to_plain(self)


def parse_override(text: str) -> tuple[str, Any]:
    """'a.b=value' -> ('a.b', YAML-parsed value)."""
    if "=" not in text:
        raise ConfigError(None, "--set", f"{text!r} is invalid: expected KEY=VALUE, e.g. duration_s=30")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key:
        raise ConfigError(None, "--set", f"{text!r} has an empty key")
    try:
        value = load_yaml_text(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key, value


def apply_override(data: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key in nested dicts, creating sections as needed."""
    node = data
    parts = key.split(".")
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(None, key, f"{part!r} is not a section that can hold {parts[-1]!r}")
        node = child
    node[parts[-1]] = value


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] = ()) -> ExperimentConfig:
    """Read a YAML config, apply KEY=VALUE overrides, validate. Raises ConfigError."""
    from robot_twitch.body.spec import builtin_bodies

    path = Path(path)
    if not path.is_file():
        # A built-in name, or configs/NAME.yaml as the docs write it (outside a checkout too).
        named = builtin_configs().get(str(path).removesuffix(".yaml"))
        if named is None and path.parent.name == "configs" and path.suffix == ".yaml":
            named = builtin_configs().get(path.stem)
        if named is None:
            raise ConfigError(path, None, f"config file not found (built-in configs: {sorted(builtin_configs())})")
        path = named
    data = read_yaml_mapping(path, ConfigError, "a mapping of config sections")
    for text in overrides:
        key, value = parse_override(text)
        apply_override(data, key, value)
    config = build(ExperimentConfig, data, path)
    body = config.body
    if body not in builtin_bodies():
        candidate = Path(body)
        if not candidate.is_absolute():
            relative = (path.parent / candidate).resolve()
            candidate = relative if relative.exists() or not candidate.exists() else candidate.resolve()
        if not candidate.is_file():
            import difflib

            hint = difflib.get_close_matches(body, list(builtin_bodies()), n=1)
            extra = f"; did you mean {hint[0]!r}?" if hint else ""
            raise ConfigError(path, "body", f"{body!r} is neither a built-in body {sorted(builtin_bodies())} "
                                            f"nor an existing body file{extra}")
        config = replace(config, body=str(candidate))
    _validate_components(config, path)
    return config


def _validate_components(config: ExperimentConfig, path: Path) -> None:
    """Build the pieces whose own checks span several keys, anchoring errors at this file."""
    from robot_twitch.body.spec import load_body
    from robot_twitch.learn.registry import make_learners

    body = load_body(config.body)
    for k, change in enumerate(config.body_changes):
        try:
            BODY_CHANGE_REGISTRY[change.kind].factory.check(change, body)
        except ConfigError as exc:
            raise ConfigError(path, f"body_changes[{k}].{(exc.key or 'kind').rsplit('.', 1)[-1]}", exc.problem) from None
    try:
        make_learners(config, config.sim.control_dt_s)
    except ConfigError as exc:
        raise ConfigError(path, exc.key, exc.problem) from None


def builtin_configs() -> dict[str, Path]:
    """Shipped experiment configs by name (configs/NAME.yaml)."""
    here = Path(__file__).resolve().parent
    for root in (here / "configs", here.parent / "configs"):
        if root.is_dir():
            return {p.stem: p for p in sorted(root.glob("*.yaml"))}
    return {}


def dump_config(config: ExperimentConfig, path: Path) -> None:
    path.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False))
