"""Tasks: reward and termination, separate from the physics (dm_control's Task objects)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from robot_twitch.envs.limb import LimbEnv
    from robot_twitch.sim import LimbState


class Task(Protocol):
    """Reward and termination for a LimbEnv. Reward terms are named and returned in info."""

    def reset(self, env: LimbEnv, rng: np.random.Generator) -> None: ...

    def evaluate(self, env: LimbEnv, state: LimbState) -> tuple[float, dict[str, float], bool]:
        """(reward, named reward terms, task terminated)."""
        ...


class PlantTask:
    """The bare plant: zero reward, never terminates."""

    def reset(self, env: LimbEnv, rng: np.random.Generator) -> None:
        return None

    def evaluate(self, env: LimbEnv, state: LimbState) -> tuple[float, dict[str, float], bool]:
        return 0.0, {}, False


REACH_MODES: tuple[str, ...] = ("posture", "fingertip")


class ReachTask:
    """Reach a target posture (joint angles) or, in ``mode="fingertip"``, a fingertip position.

    At every reset a target posture q* is drawn from the env's ``np_random``, uniformly within
    the inner ``1 - 2 * margin`` of each joint's range (default margin 0.1: the inner 80%). In
    fingertip mode the target is the world position x* = FK(q*) of ``tip_link``'s frame origin
    (reachable by construction).

    Reward terms (``info["reward_terms"]``; they sum to the reward):
        posture_error  -error_weight * ||q - q*||_2 [rad]      (posture mode)
        tip_error      -error_weight * ||x - x*||_2 / reach_m   (fingertip mode; reach_m is the
                       body's reach, so the term is unitless and of order 1)
        effort         -effort_weight * sum(u^2), u the (clipped) excitation of this step
        success        +success_bonus on the step the task is solved, else 0

    Success (terminates the episode): within tolerance for ``hold_steps`` consecutive steps;
    posture mode: max_j |q_j - q*_j| < tolerance_rad; fingertip mode: ||x - x*|| < tolerance_m.

    Args:
        mode: "posture" or "fingertip".
        tolerance_rad: posture tolerance per joint [rad].
        tolerance_m: fingertip tolerance [m]; None: 5% of the body's reach (reach_m).
        hold_steps: consecutive in-tolerance steps needed (>= 1).
        error_weight, effort_weight, success_bonus: reward scales (>= 0).
        margin: fraction of each joint's range excluded at each end when drawing targets.
        tip_link: link whose frame origin is the fingertip; None takes the last leaf link.
    """

    def __init__(
        self,
        mode: str = "posture",
        tolerance_rad: float = 0.1,
        tolerance_m: float | None = None,
        hold_steps: int = 10,
        error_weight: float = 1.0,
        effort_weight: float = 0.05,
        success_bonus: float = 10.0,
        margin: float = 0.1,
        tip_link: str | None = None,
    ) -> None:
        if mode not in REACH_MODES:
            raise ValueError(f"mode must be one of {REACH_MODES}, got {mode!r}")
        if not (tolerance_rad > 0 and (tolerance_m is None or tolerance_m > 0)):
            raise ValueError("tolerance_rad and tolerance_m must be positive")
        if int(hold_steps) != hold_steps or hold_steps < 1:
            raise ValueError(f"hold_steps must be an integer >= 1, got {hold_steps!r}")
        if min(error_weight, effort_weight, success_bonus) < 0:
            raise ValueError("error_weight, effort_weight and success_bonus must be >= 0")
        if not 0.0 <= margin < 0.5:
            raise ValueError(f"margin must be in [0, 0.5), got {margin!r}")
        self.mode = mode
        self.tolerance_rad = float(tolerance_rad)
        self._tolerance_m = None if tolerance_m is None else float(tolerance_m)
        self.hold_steps = int(hold_steps)
        self.error_weight = float(error_weight)
        self.effort_weight = float(effort_weight)
        self.success_bonus = float(success_bonus)
        self.margin = float(margin)
        self.tip_link = tip_link
        self.target_joint_pos: np.ndarray | None = None
        self.target_tip_pos: np.ndarray | None = None
        self.pending_target: np.ndarray | None = None  # set by ReachEnv.reset(options=...)
        self.reach_m: float | None = None  # fingertip length scale, set at the first reset
        self._tip_index: int | None = None
        self._held = 0
        self.solved = False

    @property
    def tolerance_m(self) -> float:
        """Fingertip tolerance [m] (5% of reach_m unless given; reach_m is known after reset)."""
        if self._tolerance_m is not None:
            return self._tolerance_m
        return 0.05 * (self.reach_m or 1.0)

    # -- geometry -----------------------------------------------------------------------------
    def target_bounds(self, env: LimbEnv) -> tuple[np.ndarray, np.ndarray]:
        """(lower, upper) (J,) of the target-drawing box."""
        kin = env.body.kinematics
        span = kin.joint_upper - kin.joint_lower
        return kin.joint_lower + self.margin * span, kin.joint_upper - self.margin * span

    def _resolve_tip(self, env: LimbEnv) -> int:
        names = list(env.body.link_names)
        if self.tip_link is not None:
            if self.tip_link not in names:
                raise ValueError(f"tip_link {self.tip_link!r} is not a link of body {env.body.name!r}: {names}")
            return names.index(self.tip_link)
        parents = {j.parent for j in env.body.skeleton.joints}
        leaves = [i for i, n in enumerate(names) if n not in parents]
        return leaves[-1] if leaves else len(names) - 1

    def tip_position(self, env: LimbEnv, q: np.ndarray) -> np.ndarray:
        """World position (3,) [m] of the fingertip link's frame origin at posture q (J,)."""
        if self._tip_index is None:
            self._tip_index = self._resolve_tip(env)
        _, pos = env.body.kinematics.link_frames(np.asarray(q, dtype=np.float64)[None],
                                                 env.body.root_rotation, env.body.root_position_m)
        return pos[0, self._tip_index].copy()

    # -- Task protocol ------------------------------------------------------------------------
    def reset(self, env: LimbEnv, rng: np.random.Generator) -> None:
        lo, hi = self.target_bounds(env)
        if self.pending_target is not None:
            target = np.asarray(self.pending_target, dtype=np.float64)
            self.pending_target = None
            if target.shape != lo.shape or not np.all(np.isfinite(target)):
                raise ValueError(f"target_joint_pos must be {lo.shape} finite joint angles, got {target!r}")
            kin = env.body.kinematics
            target = np.clip(target, kin.joint_lower, kin.joint_upper)
        else:
            target = rng.uniform(lo, hi)
        self.target_joint_pos = target
        self._held = 0
        self.solved = False
        if self.mode == "fingertip":
            self._tip_index = self._resolve_tip(env)
            self.target_tip_pos = self.tip_position(env, target)
            if self.reach_m is None:
                self.reach_m = self._reach(env)
        else:
            self.target_tip_pos = None

    def _reach(self, env: LimbEnv) -> float:
        """Root-to-tip distance at the initial posture (a length scale for tip_error) [m]."""
        root = np.asarray(env.body.root_position_m, dtype=np.float64)
        d = float(np.linalg.norm(self.tip_position(env, env.body.initial_posture()) - root))
        return d if d > 1e-6 else 1.0

    def error(self, env: LimbEnv, q: np.ndarray) -> tuple[float, bool]:
        """(distance to the target, within tolerance) at posture q."""
        if self.target_joint_pos is None:
            raise RuntimeError("ReachTask.error called before reset")
        if self.mode == "fingertip":
            assert self.target_tip_pos is not None
            d = float(np.linalg.norm(self.tip_position(env, q) - self.target_tip_pos))
            return d, d < self.tolerance_m
        diff = np.asarray(q) - self.target_joint_pos
        return float(np.linalg.norm(diff)), bool(np.max(np.abs(diff)) < self.tolerance_rad)

    def evaluate(self, env: LimbEnv, state: LimbState) -> tuple[float, dict[str, float], bool]:
        dist, inside = self.error(env, state.joint_pos_rad)
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
