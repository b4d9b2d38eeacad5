"""Tasks: reward and termination, separate from the physics (dm_control's Task objects).

A task is built for a body (``factory(body, settings)``) and knows nothing of the env that steps
it. Every task is registered in TASK_REGISTRY (robot_twitch/registry.py) with its settings class
and its gymnasium id; the ids (robot_twitch.envs.ENV_REGISTRY), the env's ``task=`` names,
docs/config.md and ``robot-twitch envs`` are read from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np

from robot_twitch.registry import Registry
from robot_twitch.typed import build

if TYPE_CHECKING:
    from robot_twitch.body.spec import Body
    from robot_twitch.sim import LimbState


class Task(Protocol):
    """Reward and termination for a limb. Reward terms are named and returned in info."""

    body: Body

    def reset(self, rng: np.random.Generator, target: np.ndarray | None = None) -> None:
        """Start an episode: draw what the task needs from ``rng``, or take ``target`` (a task
        without one refuses it)."""
        ...

    def evaluate(self, state: LimbState) -> tuple[float, dict[str, float], bool]:
        """(reward, named reward terms, task terminated)."""
        ...


class PlantTask:
    """The bare plant: zero reward, never terminates."""

    def __init__(self, body: Body, config: None = None) -> None:
        self.body = body

    def reset(self, rng: np.random.Generator, target: np.ndarray | None = None) -> None:
        if target is not None:
            raise ValueError("the plant task has no target (use RobotTwitch/Reach-v0 for one)")

    def evaluate(self, state: LimbState) -> tuple[float, dict[str, float], bool]:
        return 0.0, {}, False


REACH_MODES: tuple[str, ...] = ("posture", "fingertip")


@dataclass(frozen=True)
class ReachConfig:
    """Reach a target posture (joint angles) or, in fingertip mode, a fingertip position."""

    mode: Literal["posture", "fingertip"] = "posture"
    """"posture": the target is joint angles q*; "fingertip": the position FK(q*) of tip_link."""
    tolerance_rad: float = 0.1
    """Posture mode: success when every joint is within this of its target [rad]."""
    tolerance_m: float | None = None
    """Fingertip mode: success within this distance [m]; None: 5% of the body's reach (reach_m)."""
    hold_steps: int = 10
    """Consecutive in-tolerance steps that solve the task (>= 1)."""
    error_weight: float = 1.0
    """Scale of the error term of the reward (>= 0)."""
    effort_weight: float = 0.05
    """Scale of the effort term, -effort_weight * sum(u^2) per step (>= 0)."""
    success_bonus: float = 10.0
    """Reward paid on the step that solves the task (>= 0)."""
    margin: float = 0.1
    """Fraction of each joint's range left out at each end when targets are drawn ([0, 0.5))."""
    tip_link: str | None = None
    """Fingertip mode: the link whose frame origin is the fingertip; None: the last leaf link."""

    def __post_init__(self) -> None:
        if self.mode not in REACH_MODES:
            raise ValueError(f"mode must be one of {REACH_MODES}, got {self.mode!r}")
        if not (self.tolerance_rad > 0 and (self.tolerance_m is None or self.tolerance_m > 0)):
            raise ValueError("tolerance_rad and tolerance_m must be positive")
        if int(self.hold_steps) != self.hold_steps or self.hold_steps < 1:
            raise ValueError(f"hold_steps must be an integer >= 1, got {self.hold_steps!r}")
        if min(self.error_weight, self.effort_weight, self.success_bonus) < 0:
            raise ValueError("error_weight, effort_weight and success_bonus must be >= 0")
        if not 0.0 <= self.margin < 0.5:
            raise ValueError(f"margin must be in [0, 0.5), got {self.margin!r}")


@dataclass(frozen=True)
class ReachTipConfig(ReachConfig):
    """Reach a target fingertip position (ReachConfig with mode "fingertip")."""

    mode: Literal["posture", "fingertip"] = "fingertip"
    """"fingertip": the target is the position FK(q*) of tip_link; "posture": joint angles q*."""


class ReachTask:
    """Reach a target posture (joint angles) or, in fingertip mode, a fingertip position.

    At every reset a target posture q* is drawn from the given generator (the env's
    ``np_random``), uniformly within the inner ``1 - 2 * margin`` of each joint's range (default
    margin 0.1: the inner 80%), unless a target is passed in. In fingertip mode the target is the
    world position x* = FK(q*) of ``tip_link``'s frame origin (reachable by construction).

    Reward terms (``info["reward_terms"]``; they sum to the reward):
        posture_error  -error_weight * ||q - q*||_2 [rad]      (posture mode)
        tip_error      -error_weight * ||x - x*||_2 / reach_m   (fingertip mode; reach_m is the
                       body's reach, so the term is unitless and of order 1)
        effort         -effort_weight * sum(u^2), u the (clipped) excitation of this step
        success        +success_bonus on the step the task is solved, else 0

    Success (terminates the episode): within tolerance for ``hold_steps`` consecutive steps;
    posture mode: max_j |q_j - q*_j| < tolerance_rad; fingertip mode: ||x - x*|| < tolerance_m.

    Args:
        body: the body reached with.
        config: a ReachConfig (or a mapping of its fields); None: the defaults.
    """

    def __init__(self, body: Body, config: ReachConfig | dict[str, Any] | None = None) -> None:
        config = build(ReachConfig, config, key="task_config")
        self.body = body
        self.config = config
        self.mode = config.mode
        self.tolerance_rad = float(config.tolerance_rad)
        self._tolerance_m = None if config.tolerance_m is None else float(config.tolerance_m)
        self.hold_steps = int(config.hold_steps)
        self.error_weight = float(config.error_weight)
        self.effort_weight = float(config.effort_weight)
        self.success_bonus = float(config.success_bonus)
        self.margin = float(config.margin)
        self.tip_link = config.tip_link
        self._tip_index = self._resolve_tip()
        # fingertip length scale: root-to-tip distance at the initial posture [m]
        self.reach_m = self._reach() if self.mode == "fingertip" else None
        self.target_joint_pos: np.ndarray | None = None
        self.target_tip_pos: np.ndarray | None = None
        self._held = 0
        self.solved = False

    @property
    def tolerance_m(self) -> float:
        """Fingertip tolerance [m] (5% of reach_m unless given)."""
        if self._tolerance_m is not None:
            return self._tolerance_m
        return 0.05 * (self.reach_m or 1.0)

    # -- geometry -----------------------------------------------------------------------------
    def target_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) (J,) of the target-drawing box."""
        kin = self.body.kinematics
        span = kin.joint_upper - kin.joint_lower
        return kin.joint_lower + self.margin * span, kin.joint_upper - self.margin * span

    def _resolve_tip(self) -> int:
        names = list(self.body.link_names)
        if self.tip_link is not None:
            if self.tip_link not in names:
                raise ValueError(f"tip_link {self.tip_link!r} is not a link of body {self.body.name!r}: {names}")
            return names.index(self.tip_link)
        parents = {j.parent for j in self.body.skeleton.joints}
        leaves = [i for i, n in enumerate(names) if n not in parents]
        return leaves[-1] if leaves else len(names) - 1

    def tip_position(self, q: np.ndarray) -> np.ndarray:
        """World position (3,) [m] of the fingertip link's frame origin at posture q (J,)."""
        body = self.body
        _, pos = body.kinematics.link_frames(np.asarray(q, dtype=np.float64)[None], body.root_rotation,
                                             body.root_position_m)
        return pos[0, self._tip_index].copy()

    def _reach(self) -> float:
        """Root-to-tip distance at the initial posture (a length scale for tip_error) [m]."""
        root = np.asarray(self.body.root_position_m, dtype=np.float64)
        d = float(np.linalg.norm(self.tip_position(self.body.initial_posture()) - root))
        return d if d > 1e-6 else 1.0

    # -- Task protocol ------------------------------------------------------------------------
    def reset(self, rng: np.random.Generator, target: np.ndarray | None = None) -> None:
        """Draw the episode's target posture from ``rng``, or take ``target`` (J,) [rad] (clipped
        to the joint range; ``rng`` is then not used)."""
        lo, hi = self.target_bounds()
        if target is not None:
            target = np.asarray(target, dtype=np.float64)
            if target.shape != lo.shape or not np.all(np.isfinite(target)):
                raise ValueError(f"target_joint_pos must be {lo.shape} finite joint angles, got {target!r}")
            kin = self.body.kinematics
            target = np.clip(target, kin.joint_lower, kin.joint_upper)
        else:
            target = rng.uniform(lo, hi)
        self.target_joint_pos = target
        self._held = 0
        self.solved = False
        self.target_tip_pos = self.tip_position(target) if self.mode == "fingertip" else None

    def error(self, q: np.ndarray) -> tuple[float, bool]:
        """(distance to the target, within tolerance) at posture q."""
        if self.target_joint_pos is None:
            raise RuntimeError("ReachTask.error called before reset")
        if self.mode == "fingertip":
            assert self.target_tip_pos is not None
            d = float(np.linalg.norm(self.tip_position(q) - self.target_tip_pos))
            return d, d < self.tolerance_m
        diff = np.asarray(q) - self.target_joint_pos
        return float(np.linalg.norm(diff)), bool(np.max(np.abs(diff)) < self.tolerance_rad)

    def evaluate(self, state: LimbState) -> tuple[float, dict[str, float], bool]:
        dist, inside = self.error(state.joint_pos_rad)
        self._held = self._held + 1 if inside else 0
        done = self._held >= self.hold_steps
        self.solved = self.solved or done
        u = np.asarray(state.excitation, dtype=np.float64)
        if self.mode == "fingertip":
            terms = {"tip_error": -self.error_weight * dist / (self.reach_m or 1.0)}
        else:
            terms = {"posture_error": -self.error_weight * dist}
        terms["effort"] = -self.effort_weight * float(np.dot(u, u))
        terms["success"] = self.success_bonus if done else 0.0
        return float(sum(terms.values())), terms, done


def _reach_tip(body: Body, config: ReachTipConfig | dict[str, Any] | None = None) -> ReachTask:
    """A ReachTask in fingertip mode (its settings: ReachTipConfig)."""
    return ReachTask(body, build(ReachTipConfig, config, key="task_config"))


TASK_REGISTRY = Registry("task")
"""Task name -> Entry(factory(body, config) -> Task, settings class, doc, meta: the gymnasium id
(``env_id``), the env class (``entry_point``), ``max_episode_steps`` and a ``vector_entry_point``
where there is one)."""
TASK_REGISTRY.add("plant", PlantTask, None, meta={
    "env_id": "RobotTwitch/Limb-v0", "entry_point": "robot_twitch.envs.limb:LimbEnv", "max_episode_steps": 1000,
    "vector_entry_point": "robot_twitch.envs.vector:LimbVectorEnv"})
TASK_REGISTRY.add("reach", ReachTask, ReachConfig, "Reach a target posture (joint angles).", meta={
    "env_id": "RobotTwitch/Reach-v0", "entry_point": "robot_twitch.envs.reach:ReachEnv", "max_episode_steps": 300})
TASK_REGISTRY.add("reach_tip", _reach_tip, ReachTipConfig, meta={
    "env_id": "RobotTwitch/ReachTip-v0", "entry_point": "robot_twitch.envs.reach:ReachEnv", "max_episode_steps": 300})


def make_task(name: str, body: Body, config: Any = None) -> Task:
    """The registered task ``name`` for ``body``; ``config``: its settings class or a mapping of
    their fields (ConfigError naming the key for a bad one). ValueError for an unknown name."""
    if name not in TASK_REGISTRY:
        raise ValueError(TASK_REGISTRY.unknown(name))
    entry = TASK_REGISTRY[name]
    if entry.config is None:
        if config:
            raise ValueError(f"task {name!r} takes no settings, got {config!r}")
        return entry.factory(body)
    return entry.factory(body, build(entry.config, config, key="task_config"))
