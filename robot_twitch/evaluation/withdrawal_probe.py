"""The withdrawal reflex tested in a copy of the world (issue 16; docs/learners.md "Withdrawal reflex").

The Jacobian test (evaluation/withdrawal.py) asks which way the reflex's own torques start to
move a stimulated site in free motion: gravity and contact are left out. Skin that the learner
can learn from lies on the mattress under gravity, where a muscle that pulls the site into the
mattress barely moves it and one that lifts it must first carry the limb's weight. This probe
asks the simulator instead: a copy of the run's world (a second Simulation of the same body,
with the run's muscle forces, restored from the run's snapshot), the reflex pattern held for a
reflex-long window, and the site's displacement read from the body's link frames.

Per stimulus at site i (T taxels, M muscles):

    u = max(W[i], 0) / max_m W[i, m]          excitatory pattern, strongest connection at 1
    d_i = -n_i . (x_i(u, t + window) - x_i(0, t + window))

with n_i the outward normal at the stimulus time and x_i the site's world position after the
window, with the pattern and with no excitation at all (the baseline: gravity, the mattress and
the activation already present act in both and cancel; d is the reflex's own effect, with
gravity and contact in it). The reflex is erroneous unless d_i > threshold_m. A zero row
(no connection) is erroneous without a rollout. Lost muscles (force scale 0) get no excitation,
as in the rollout. The stimulus itself is not simulated as a force: the reflex is the
response, and the test asks which way it moves the site, as in Waldenström et al. (2003,
J Neurosci 23:7719), who count a reflex as erroneous when the limb moves toward the stimulus.

Choices (docs/learners.md): window 0.1 s (PROBE_WINDOW_S: the order of a withdrawal reflex's
response to a brief noxious stimulus; the learner's twitch window; the body's joint damping
time constant, over which the Jacobian truth's quasi-static motion is set, so the two tests
look at the same stretch of motion); threshold 0.1 mm (PROBE_THRESHOLD_M: Bullet's contact solver
makes runs of the same state differ by far less; a reflex at full activation moves a free
site by millimetres to centimetres in 0.1 s); the pattern scaled to a peak of 1 (the weights'
overall scale is set by the learner's column normalisation, not by a reflex gain; the Jacobian
verdict is scale-free, the physical one is not, and a fixed peak compares weight matrices on
the shape of their patterns: W = 1 is all muscles at full excitation).

The run's own world is only read (its snapshot, muscle parameters and body): nothing of it is
stepped or reset, so a run continues bit-identically with or without the probe. Inside the copy
every rollout starts from the same Bullet state (pybullet saveState / restoreState, which keeps
the contact solver's warm-start cache), so each verdict is independent of the order of probes.
The copy starts from a freshly built world at the snapshot, as the run's own world does after
each checkpoint (robot_twitch/experiment.py).
"""

from __future__ import annotations

import numpy as np

from robot_twitch.errors import SimulationDiverged
from robot_twitch.sim import ClosedOnExit, Simulation

PROBE_WINDOW_S = 0.1  # how long the reflex pattern is held [s]
PROBE_THRESHOLD_M = 1e-4  # a reflex withdraws when the site moves away by more than this [m]
PROBE_MAX_SITES = 60  # stimuli probed per pool and test (evaluation.withdrawal_probe_sites)


def probe_subset(sites: np.ndarray, max_sites: int) -> np.ndarray:
    """At most max_sites of the sorted stimulated sites (n,), evenly spaced over them (sorted
    taxel indices run link by link, so the subset spreads over the body parts of the pool);
    all of them when there are no more. Deterministic: no generator is drawn from."""
    sites = np.asarray(sites)
    if max_sites <= 0:
        return sites[:0]
    if sites.size <= max_sites:
        return sites
    return sites[np.unique(np.linspace(0, sites.size - 1, max_sites).round().astype(int))]


class ReflexProbe(ClosedOnExit):
    """Reflex patterns tried in a copy of a Simulation's world at its current state.

    Args:
        sim: the run's Simulation (read only: snapshot, body, config, muscle parameters).
            Its root must be fixed (the infant's trunk is; a floating root's pose is not in a
            snapshot).
        muscle_on: (M,) bool, muscles that still exist (the rollout's force scale > 0); None: all.
        window_s: how long each pattern is held [s] (rounded to control steps, at least one).
        threshold_m: the displacement along the inward normal above which a site withdraws [m].

    Attributes:
        rollouts: the number of windows simulated so far (the baseline included).
    """

    def __init__(self, sim: Simulation, muscle_on: np.ndarray | None = None, window_s: float = PROBE_WINDOW_S,
                 threshold_m: float = PROBE_THRESHOLD_M) -> None:
        body = sim.body
        if not body.spec.fixed_base:
            raise ValueError(f"ReflexProbe needs a body with a fixed root; {body.name} floats")
        n_muscles = len(body.muscle_names)
        self.muscle_on = np.ones(n_muscles, dtype=bool) if muscle_on is None else np.asarray(muscle_on, dtype=bool)
        if self.muscle_on.shape != (n_muscles,):
            raise ValueError(f"muscle_on has shape {self.muscle_on.shape}, expected ({n_muscles},)")
        self.threshold_m = float(threshold_m)
        self.n_steps = max(1, int(round(window_s / sim.config.control_dt_s)))
        self.snapshot = sim.snapshot()
        self.rollouts = 0
        self._cache: dict[bytes, np.ndarray] = {}
        self.copy: Simulation | None = Simulation(body, sim.config)
        try:
            self.copy.params = sim.params  # the run's muscle forces (weakened or lost muscles)
            self.copy.restore(self.snapshot)
            self._saved = self.copy.client.saveState()
            rot, pos = self.copy.link_frames()
            skin = body.skin
            self._inward = -(rot[skin.taxel_link] @ skin.normal[..., None])[..., 0]  # (T, 3)
            self._baseline = self._end_positions(np.zeros(n_muscles))  # (T, 3)
        except BaseException:
            self.close()
            raise

    def _end_positions(self, excitation: np.ndarray) -> np.ndarray:
        """(T, 3) [m] site positions after holding `excitation` (M,) for the window from the snapshot."""
        copy = self.copy
        if copy is None:
            raise RuntimeError("this ReflexProbe is closed")
        copy.restore(self.snapshot)
        copy.client.restoreState(self._saved)  # the same contact cache for every rollout
        u = np.ascontiguousarray(excitation * self.muscle_on, dtype=float)
        for _ in range(self.n_steps):
            state = copy.step(u)
            if state.blown_up:
                raise SimulationDiverged(copy.time_s, f"reflex probe: {state.blown_up_reason}")
        self.rollouts += 1
        return copy.body.skin.world_positions(*copy.link_frames())

    def displacement_m(self, pattern: np.ndarray) -> np.ndarray:
        """(T,) every site's displacement along its inward normal [m] caused by holding the
        excitation `pattern` (M,) in [0, 1] for the window (relative to no excitation)."""
        pattern = np.ascontiguousarray(pattern, dtype=float)
        key = pattern.tobytes()
        if key not in self._cache:
            moved = self._end_positions(pattern) - self._baseline
            self._cache[key] = np.einsum("tk,tk->t", self._inward, moved)
        return self._cache[key]

    def reflex_displacement_m(self, weights: np.ndarray, sites: np.ndarray) -> np.ndarray:
        """(n,) displacement [m] of each stimulated site (sites (n,) taxel indices) along its
        inward normal under its own reflex pattern u = max(W[i], 0) / max(W[i]) (weights (T, M));
        0 for a site whose row has no positive entry (the reflex moves nothing)."""
        sites = np.asarray(sites, dtype=int)
        rows = np.maximum(np.asarray(weights, dtype=float)[sites], 0.0)  # (n, M)
        peak = rows.max(axis=1) if rows.size else np.zeros(len(sites))
        out = np.zeros(len(sites))
        for k in np.flatnonzero(peak > 0):
            out[k] = self.displacement_m(rows[k] / peak[k])[sites[k]]
        return out

    def errors(self, weights: np.ndarray, sites: np.ndarray) -> np.ndarray:
        """(n,) bool: the reflex to a stimulus at each site does not move it away by more than
        threshold_m (a zero row: an error)."""
        return ~(self.reflex_displacement_m(weights, sites) > self.threshold_m)

    def close(self) -> None:
        copy, self.copy = getattr(self, "copy", None), None
        if copy is not None:
            copy.close()
