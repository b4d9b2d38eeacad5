"""Sleep-twitch drive: infant-like sleep myoclonus on top of a sleep-wake cycle.

What is modelled (facts from SCIENCE.md, "The phenomenon"):

* **Polarity.** Positive myoclonus is a brief excitation pulse added to a muscle; negative
  myoclonus is a brief drop of the muscle's excitation at onset (tone in quiet sleep, the awake
  movement in wake), so it can only occur where the muscle has tone to lose: never against the
  atonia of active sleep (a negative twitch drawn for a muscle without excitation becomes
  positive).
* **When.** Twitches occur in active (REM) sleep against atonia; none in quiet sleep or wake
  by default, since twitching stops at waking.  From ~3 months twitches also appear in quiet
  sleep with sleep spindles (Sokoloff et al. 2021, Curr Biol): ``quiet_rate_factor``.  Around
  changes of state (drowsiness at sleep onset, arousals) ``transition_rate_factor`` applies.
* **Age.** ``age_rate_weeks_per_h`` advances the age during the run; each twitch's muscle is
  drawn with the region weights at its onset age.
* **Timing.** At all ages twitches come mostly in bursts separated by <= 10 s (Sokoloff,
  Hickerson, Wen, Tobias, McMurray & Blumberg, Dev Psychobiol; human infants, first 7 months);
  within a burst they are tens to hundreds of ms apart.  Inter-burst intervals are lognormal
  (median 3 s: 95.7% <= 10 s by default), burst sizes geometric, within-burst intervals
  lognormal.  ``timing="poisson"`` is the control condition with the same mean rate.
* **Where.** Each muscle's rate is proportional to its region's weight.  Face/head (here: neck)
  twitches dominate after birth and decline once the head is held up (~3-4 months); hands and
  feet twitch more than other parts; wrist and finger twitches rise around reaching onset
  (~4-5 months).  ``age_weeks`` moves the emphasis from neck to wrists and fingers.  Optional
  left/right coupling twitches a muscle's mirror together with it (bilateral coupling emerges
  with age).  Twitches are mostly one muscle at a time (``muscles_per_twitch`` = 1), which is
  what makes their reafference easy to credit (Blumberg, Marques & Iida 2013, Curr Biol;
  Marques, Imtiaz, Iida & Pfeifer 2013, Biol Cybern).
* **Pulse.** Amplitude ~0.8, lognormal duration with median 80 ms clipped to [30, 300] ms.
  A twitch must survive the muscle's activation low-pass (about 10 ms activation / 40 ms
  deactivation): a 30 ms rectangular pulse reaches ~95% of its amplitude, and it must still
  move the limb.  Short twitches can be too weak to move a limb (Schumacher et al. 2023,
  DEP-RL), so amplitude, duration and shape are config fields to be tuned and swept.
  Human-infant twitch durations and rates are not published: these are parameters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from robot_twitch.motor.babble import AwakeConfig, AwakeMovement
from robot_twitch.motor.base import (
    ACTIVE_CODE,
    QUIET_CODE,
    WAKE_CODE,
    BufferedDrive,
    MuscleLike,
    SleepState,
    check_choice,
    check_range,
    child_rngs,
    clipped_lognormal_cdf,
    clipped_lognormal_mean,
    fail,
)
from robot_twitch.motor.sleep import SleepConfig, SleepCycle
from robot_twitch.motor.twitch_block import (
    add_mirrors,
    choose_muscles,
    gate_by_state,
    near_transition,
    twitch_event,
    twitch_polarity,
    write_pulses,
)

KNOWN_REGIONS: tuple[str, ...] = (
    "neck",
    "shoulder",
    "elbow",
    "wrist",
    "fingers",
    "hip",
    "knee",
    "ankle",
)
"""Regions of the built-in bodies; any other region name works with ``default_region_weight``."""

DEFAULT_REGION_WEIGHTS: Mapping[str, float] = MappingProxyType(
    {
        # Head/face twitches are the most common after birth (SCIENCE.md).
        "neck": 3.0,
        "shoulder": 1.0,
        "elbow": 1.0,
        # Hands and feet twitch at a consistently higher rate than other parts (SCIENCE.md).
        "wrist": 1.5,
        "fingers": 1.5,
        "hip": 1.0,
        "knee": 1.0,
        "ankle": 1.5,
    }
)
PULSE_SHAPES: tuple[str, ...] = ("rectangular", "half_sine", "alpha")
_OWNER = "TwitchConfig"


def _frozen_weights(value: Mapping[str, float]) -> Mapping[str, float]:
    return MappingProxyType({str(k): float(v) for k, v in dict(value).items()})


@dataclass(frozen=True)
class TwitchConfig:
    """Configuration of :class:`TwitchDrive` (defaults: a newborn in active sleep)."""

    # -- timing ----------------------------------------------------------------------------
    timing: str = "burst"
    """"burst" (Sokoloff et al.: bursts <= 10 s apart) or "poisson" (control, same mean rate)."""
    inter_burst_median_s: float = 3.0
    """Median inter-burst interval [s] (last twitch of a burst to first of the next)."""
    inter_burst_sigma: float = 0.7
    """Log-space sd of the lognormal inter-burst interval."""
    inter_burst_min_s: float = 1.0
    """Shortest inter-burst interval [s]; must exceed ``within_burst_max_s``."""
    inter_burst_max_s: float = 60.0
    """Longest inter-burst interval [s]."""
    burst_size_mean: float = 3.0
    """Mean twitches per burst (geometric on 1, 2, ...; 1 = every twitch isolated)."""
    within_burst_median_s: float = 0.15
    """Median interval between twitches of a burst [s] (tens to hundreds of ms)."""
    within_burst_sigma: float = 0.6
    """Log-space sd of the within-burst interval."""
    within_burst_min_s: float = 0.03
    """Shortest within-burst interval [s]."""
    within_burst_max_s: float = 0.8
    """Longest within-burst interval [s]."""
    poisson_rate_hz: float | None = None
    """Rate for ``timing="poisson"`` [twitches/s]; None = the burst settings' mean rate."""
    # -- state gating ----------------------------------------------------------------------
    quiet_rate_factor: float = 0.0
    """Twitch rate in quiet sleep relative to active sleep (0: none; >0 from ~3 months)."""
    wake_rate_factor: float = 0.0
    """Twitch rate in wake relative to active sleep (0: twitching stops at waking)."""
    transition_rate_factor: float = 0.0
    """Twitch rate within ``transition_window_s`` of a change of sleep state (drowsiness at
    sleep onset, arousals, quiet-active transitions; hypnic jerks), relative to active sleep;
    the larger of this and the state's own factor applies (0: no extra twitching)."""
    transition_window_s: float = 10.0
    """Half-width of the window around each change of sleep state [s]."""
    # -- polarity ------------------------------------------------------------------------------
    negative_fraction: float = 0.2
    """Probability that a twitch of a muscle with tone (its excitation at onset, from tone or
    awake movement) is negative myoclonus, a brief loss of that excitation."""
    negative_depth: float = 1.0
    """Fraction of the tone removed at the trough of a negative twitch."""
    # -- pulse -------------------------------------------------------------------------------
    pulse_shape: str = "half_sine"
    """"rectangular", "half_sine" or "alpha" (peak at duration/5, truncated at duration)."""
    amplitude_mean: float = 0.8
    """Mean peak excitation added by a positive twitch."""
    amplitude_sd: float = 0.05
    """Jitter (sd) of the positive amplitude; draws are clipped to [amplitude_min, 1]."""
    amplitude_min: float = 0.1
    """Smallest positive amplitude."""
    duration_median_s: float = 0.08
    """Median pulse duration [s]."""
    duration_sigma: float = 0.4
    """Log-space sd of the lognormal pulse duration."""
    duration_min_s: float = 0.03
    """Shortest pulse [s] (must survive the ~10/40 ms activation filter)."""
    duration_max_s: float = 0.3
    """Longest pulse [s]."""
    # -- where -------------------------------------------------------------------------------
    muscles_per_twitch: int = 1
    """Muscles activated together per twitch (1 = isolated twitches)."""
    bilateral_coupling: float = 0.0
    """Probability that a twitching muscle's left/right mirror twitches with it."""
    spatial_mode: str = "developmental"
    """"developmental" (region weights and age schedule) or "uniform" (all muscles equal)."""
    age_weeks: float = 0.0
    """Postnatal age at the start of the run [weeks]; drives the developmental schedule."""
    age_rate_weeks_per_h: float = 0.0
    """Development during the run: weeks of age per simulated hour (0: age fixed). Age at time
    t is age_weeks + age_rate_weeks_per_h * t / 3600, and the region weights follow it."""
    region_weights: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_REGION_WEIGHTS, hash=False
    )
    """Relative twitch rate per muscle by region, at birth (replaces the defaults)."""
    default_region_weight: float = 1.0
    """Weight of regions missing from ``region_weights`` (unknown regions: intermediate)."""
    head_control_regions: tuple[str, ...] = ("neck",)
    """Regions whose twitching falls off once head control arrives."""
    head_control_weeks: float = 15.0
    """Age of head control [weeks] (~3-4 months): midpoint of the neck decline."""
    neck_late_factor: float = 0.2
    """Factor the head-control regions' weight falls to after head control."""
    reaching_regions: tuple[str, ...] = ("wrist", "fingers")
    """Regions whose twitching rises around reaching onset."""
    reaching_onset_weeks: float = 19.5
    """Age of reaching onset [weeks] (~4-5 months): midpoint of the distal rise."""
    distal_late_factor: float = 2.0
    """Factor the reaching regions' weight rises to after reaching onset."""
    transition_width_weeks: float = 2.0
    """Width (logistic scale) of both developmental transitions [weeks]."""
    # -- other states --------------------------------------------------------------------------
    sleep: SleepConfig = field(default_factory=SleepConfig)
    """Sleep-wake cycle and tone per state."""
    wake_movement: AwakeConfig | None = field(default_factory=AwakeConfig)
    """Awake movement in wake bouts; None = constant ``sleep.wake_tone``."""

    def __post_init__(self) -> None:
        o = _OWNER
        check_choice(o, "timing", self.timing, ("burst", "poisson"))
        check_range(o, "inter_burst_median_s", self.inter_burst_median_s, 0.0, lo_open=True)
        check_range(o, "inter_burst_sigma", self.inter_burst_sigma, 0.0, 5.0)
        check_range(o, "inter_burst_min_s", self.inter_burst_min_s, 0.0, lo_open=True)
        check_range(o, "inter_burst_max_s", self.inter_burst_max_s, self.inter_burst_min_s)
        check_range(o, "burst_size_mean", self.burst_size_mean, 1.0)
        check_range(o, "within_burst_median_s", self.within_burst_median_s, 0.0, lo_open=True)
        check_range(o, "within_burst_sigma", self.within_burst_sigma, 0.0, 5.0)
        check_range(o, "within_burst_min_s", self.within_burst_min_s, 0.0, lo_open=True)
        check_range(o, "within_burst_max_s", self.within_burst_max_s, self.within_burst_min_s)
        if self.within_burst_max_s >= self.inter_burst_min_s:
            fail(o, "within_burst_max_s", self.within_burst_max_s,
                 f"< inter_burst_min_s ({self.inter_burst_min_s}) so bursts stay separable")
        if self.poisson_rate_hz is not None:
            check_range(o, "poisson_rate_hz", self.poisson_rate_hz, 0.0, lo_open=True)
        check_range(o, "quiet_rate_factor", self.quiet_rate_factor, 0.0, 1.0)
        check_range(o, "wake_rate_factor", self.wake_rate_factor, 0.0, 1.0)
        check_range(o, "transition_rate_factor", self.transition_rate_factor, 0.0, 1.0)
        check_range(o, "transition_window_s", self.transition_window_s, 0.0)
        check_range(o, "negative_fraction", self.negative_fraction, 0.0, 1.0)
        check_range(o, "negative_depth", self.negative_depth, 0.0, 1.0)
        check_choice(o, "pulse_shape", self.pulse_shape, PULSE_SHAPES)
        check_range(o, "amplitude_mean", self.amplitude_mean, 0.0, 1.0)
        check_range(o, "amplitude_sd", self.amplitude_sd, 0.0)
        check_range(o, "amplitude_min", self.amplitude_min, 0.0, 1.0)
        check_range(o, "duration_median_s", self.duration_median_s, 0.0, lo_open=True)
        check_range(o, "duration_sigma", self.duration_sigma, 0.0, 5.0)
        check_range(o, "duration_min_s", self.duration_min_s, 0.0, lo_open=True)
        check_range(o, "duration_max_s", self.duration_max_s, self.duration_min_s, 10.0)
        if isinstance(self.muscles_per_twitch, bool) or not isinstance(
            self.muscles_per_twitch, int
        ):
            fail(o, "muscles_per_twitch", self.muscles_per_twitch, "an int >= 1")
        check_range(o, "muscles_per_twitch", self.muscles_per_twitch, 1)
        check_range(o, "bilateral_coupling", self.bilateral_coupling, 0.0, 1.0)
        check_choice(o, "spatial_mode", self.spatial_mode, ("developmental", "uniform"))
        check_range(o, "age_weeks", self.age_weeks, 0.0, 520.0)
        check_range(o, "age_rate_weeks_per_h", self.age_rate_weeks_per_h, 0.0, 1000.0)
        if not isinstance(self.region_weights, Mapping):
            fail(o, "region_weights", self.region_weights, "a mapping region -> weight >= 0")
        for region, w in self.region_weights.items():
            check_range(o, f"region_weights[{region!r}]", w, 0.0)
        object.__setattr__(self, "region_weights", _frozen_weights(self.region_weights))
        check_range(o, "default_region_weight", self.default_region_weight, 0.0)
        for name in ("head_control_regions", "reaching_regions"):
            value = getattr(self, name)
            if isinstance(value, str) or not all(isinstance(r, str) for r in value):
                fail(o, name, value, "a tuple of region names")
            object.__setattr__(self, name, tuple(value))
        check_range(o, "head_control_weeks", self.head_control_weeks, 0.0)
        check_range(o, "neck_late_factor", self.neck_late_factor, 0.0)
        check_range(o, "reaching_onset_weeks", self.reaching_onset_weeks, 0.0)
        check_range(o, "distal_late_factor", self.distal_late_factor, 0.0)
        check_range(o, "transition_width_weeks", self.transition_width_weeks, 0.0, lo_open=True)
        if not isinstance(self.sleep, SleepConfig):
            fail(o, "sleep", self.sleep, "a SleepConfig")
        if self.wake_movement is not None and not isinstance(self.wake_movement, AwakeConfig):
            fail(o, "wake_movement", self.wake_movement, "an AwakeConfig or None")

    # -- derived quantities ------------------------------------------------------------------

    def _ibi_mu(self) -> float:
        return math.log(self.inter_burst_median_s)

    def _wbi_mu(self) -> float:
        return math.log(self.within_burst_median_s)

    def mean_inter_burst_s(self) -> float:
        """Mean inter-burst interval [s] (clipped lognormal, analytical)."""
        return clipped_lognormal_mean(
            self._ibi_mu(), self.inter_burst_sigma, self.inter_burst_min_s, self.inter_burst_max_s
        )

    def mean_within_burst_s(self) -> float:
        """Mean within-burst interval [s] (clipped lognormal, analytical)."""
        return clipped_lognormal_mean(
            self._wbi_mu(),
            self.within_burst_sigma,
            self.within_burst_min_s,
            self.within_burst_max_s,
        )

    def burst_rate_hz(self) -> float:
        """Mean rate of twitches in active sleep under burst timing [twitches/s]."""
        k = self.burst_size_mean
        return k / (self.mean_inter_burst_s() + (k - 1.0) * self.mean_within_burst_s())

    def expected_rate_hz(self) -> float:
        """Mean rate of (possibly multi-muscle) twitches in active sleep [twitches/s]."""
        if self.timing == "poisson" and self.poisson_rate_hz is not None:
            return float(self.poisson_rate_hz)
        return self.burst_rate_hz()

    def fraction_ibi_at_most(self, limit_s: float = 10.0) -> float:
        """Probability that an inter-burst interval is <= ``limit_s`` (burst timing)."""
        return clipped_lognormal_cdf(
            limit_s,
            self._ibi_mu(),
            self.inter_burst_sigma,
            self.inter_burst_min_s,
            self.inter_burst_max_s,
        )

    def age_at(self, time_s: np.ndarray | float) -> np.ndarray:
        """Age [weeks] at simulated time(s) ``time_s``: age_weeks + rate * t / 3600."""
        return self.age_weeks + self.age_rate_weeks_per_h * np.asarray(time_s, dtype=float) / 3600.0

    def region_weight(self, region: str, age_weeks: float | None = None) -> float:
        """Relative per-muscle twitch rate of ``region`` at ``age_weeks`` (default: the start age).

        Neck (head-control regions): base * (late + (1 - late) * (1 - s(head_control))).
        Wrist/fingers (reaching regions): base * (1 + (late - 1) * s(reaching_onset)),
        with s(a0) = logistic((age - a0) / transition_width_weeks).
        """
        age = self.age_weeks if age_weeks is None else age_weeks
        return float(self.region_weights_at([region], np.array([age]))[0, 0])

    def region_weights_at(self, regions: Sequence[str], ages_weeks: np.ndarray) -> np.ndarray:
        """(A, R) weights of ``regions`` (R,) at each of ``ages_weeks`` (A,) (see region_weight)."""
        ages = np.asarray(ages_weeks, dtype=float)[:, None]
        if self.spatial_mode == "uniform":
            return np.ones((ages.shape[0], len(regions)))
        w = np.array([float(self.region_weights.get(r, self.default_region_weight)) for r in regions])
        w = np.broadcast_to(w, (ages.shape[0], len(regions))).copy()

        def s(a0: float) -> np.ndarray:
            return 1.0 / (1.0 + np.exp(-(ages - a0) / self.transition_width_weeks))

        neck = np.array([r in self.head_control_regions for r in regions])
        distal = np.array([r in self.reaching_regions for r in regions])
        late = self.neck_late_factor
        w = np.where(neck, w * (late + (1.0 - late) * (1.0 - s(self.head_control_weeks))), w)
        return np.where(distal, w * (1.0 + (self.distal_late_factor - 1.0) * s(self.reaching_onset_weeks)), w)


_SIDE_WORDS = {"left": "right", "right": "left", "l": "r", "r": "l"}


def _swap_token(tok: str) -> str:
    low = tok.lower()
    if low not in _SIDE_WORDS:
        return tok
    out = _SIDE_WORDS[low]
    if tok.isupper():
        return out.upper()
    if tok[0].isupper():
        return out.capitalize()
    return out


def mirror_name_candidates(name: str) -> list[str]:
    """Names of the possible left/right mirror of ``name`` (e.g. "l_biceps" -> "r_biceps").

    First swaps whole tokens (separated by ``_ - . `` or space), then "left"/"right" anywhere.
    """
    parts = re.split(r"([_\-.\s]+)", name)
    cands = ["".join(_swap_token(p) for p in parts)]

    def sub(m: re.Match[str]) -> str:
        return _swap_token(m.group(0))

    cands.append(re.sub(r"(?i)left|right", sub, name))
    return [c for c in cands if c != name]


def mirror_indices(muscles: Sequence[MuscleLike]) -> np.ndarray:
    """(M,) index of each muscle's left/right mirror, -1 when it has none.

    A mirror has the name with left/right swapped and the opposite ``side``.
    """
    names = [m.name for m in muscles]
    index = {n: i for i, n in enumerate(names)}
    out = np.full(len(muscles), -1, dtype=np.int64)
    opposite = {"left": "right", "right": "left"}
    for i, m in enumerate(muscles):
        side = (m.side or "").lower()
        if side not in opposite:
            continue
        for cand in mirror_name_candidates(m.name):
            j = index.get(cand)
            if j is not None and (muscles[j].side or "").lower() == opposite[side]:
                out[i] = j
                break
    return out


class TwitchDrive(BufferedDrive):
    """Sleep twitches over a sleep-wake cycle (see module docstring and :class:`TwitchConfig`).

    Attributes after construction/reset:
        muscle_weights: (M,) probability that a single-muscle twitch picks each muscle.
        mirror: (M,) mirror muscle index or -1.
        tone: (3, M) tonic excitation per state code and muscle.
        sleep_cycle: the :class:`SleepCycle` (``sleep_cycle.bouts`` lists completed bouts).
    """

    def __init__(
        self,
        muscles: Sequence[MuscleLike],
        control_dt_s: float = 0.01,
        config: TwitchConfig | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.config = config or TwitchConfig()
        c = self.config
        n = len(muscles)
        weights = np.array([c.region_weight(m.region) for m in muscles], dtype=float)
        if n and c.muscles_per_twitch > int(np.count_nonzero(weights > 0)):
            fail(_OWNER, "muscles_per_twitch", c.muscles_per_twitch,
                 f"<= number of muscles with non-zero weight ({np.count_nonzero(weights > 0)})")
        self.muscle_weights: np.ndarray = weights / weights.sum() if weights.sum() > 0 else weights
        self.mirror: np.ndarray = mirror_indices(muscles)
        self.tone: np.ndarray = c.sleep.tone_matrix(muscles)
        self._regions = [m.region for m in muscles]
        self._state_factor = np.zeros(3)
        self._state_factor[WAKE_CODE] = c.wake_rate_factor
        self._state_factor[QUIET_CODE] = c.quiet_rate_factor
        self._state_factor[ACTIVE_CODE] = 1.0
        self._max_pulse_steps = int(math.ceil(c.duration_max_s / control_dt_s)) + 1
        super().__init__(muscles, control_dt_s, rng)

    # -- reset -------------------------------------------------------------------------------

    def _reset_streams(self, rng: np.random.Generator) -> None:
        c = self.config
        r_sleep, r_time, r_gate, r_where, r_pulse, r_wake = child_rngs(rng, 6)
        self.sleep_cycle = SleepCycle(c.sleep, self.control_dt_s, r_sleep)
        self._r_time, self._r_gate, self._r_where, self._r_pulse = r_time, r_gate, r_where, r_pulse
        self._wake = (
            AwakeMovement(self.n_muscles, self.control_dt_s, c.wake_movement, r_wake)
            if c.wake_movement is not None
            else None
        )
        m, lp = self.n_muscles, self._max_pulse_steps
        self._carry_add = np.zeros((lp, m))
        self._carry_mul = np.ones((lp, m))
        self._burst_index = -1
        self._left_in_burst = 0
        self._twitch_count = 0
        # Start between bursts: the first twitch comes after a fraction of an inter-burst gap.
        self._t_next_s = float(self._r_time.random()) * self._draw_gap_s()

    def _initial_state_code(self) -> int:
        return SleepState(self.config.sleep.start_state).code

    # -- timing ------------------------------------------------------------------------------

    def _draw_gap_s(self) -> float:
        """Time to the next twitch onset [s]; updates the burst bookkeeping."""
        c, r = self.config, self._r_time
        if c.timing == "poisson":
            return float(r.exponential(1.0 / c.expected_rate_hz()))
        if self._left_in_burst > 0:
            self._left_in_burst -= 1
            d = math.exp(c._wbi_mu() + c.within_burst_sigma * float(r.standard_normal()))
            return min(max(d, c.within_burst_min_s), c.within_burst_max_s)
        # New burst: geometric size on {1, 2, ...} with the configured mean.
        self._left_in_burst = int(r.geometric(1.0 / c.burst_size_mean)) - 1
        self._burst_index += 1
        d = math.exp(c._ibi_mu() + c.inter_burst_sigma * float(r.standard_normal()))
        return min(max(d, c.inter_burst_min_s), c.inter_burst_max_s)

    def _candidate_onsets(self, end_step: int) -> tuple[np.ndarray, np.ndarray]:
        """Onset steps (N,) and burst indices (N,) of the process up to ``end_step`` (excl.)."""
        steps: list[int] = []
        bursts: list[int] = []
        end_s = end_step * self.control_dt_s
        burst_timing = self.config.timing == "burst"
        while self._t_next_s < end_s:
            k = min(int(self._t_next_s / self.control_dt_s), end_step - 1)
            steps.append(k)
            bursts.append(self._burst_index if burst_timing else -1)
            self._t_next_s += self._draw_gap_s()
        return np.array(steps, dtype=np.int64), np.array(bursts, dtype=np.int64)

    # -- excitation blocks -------------------------------------------------------------------

    def _weights_at(self, onset_steps: np.ndarray) -> np.ndarray:
        """(N, M) muscle-choice probabilities at each onset's age (row-normalised)."""
        if self.config.age_rate_weeks_per_h == 0.0:
            return np.broadcast_to(self.muscle_weights, (onset_steps.size, self.n_muscles))
        ages = self.config.age_at(onset_steps * self.control_dt_s)
        w = self.config.region_weights_at(self._regions, ages)
        return w / np.maximum(w.sum(axis=1, keepdims=True), 1e-300)

    def _background(self, codes: np.ndarray) -> np.ndarray:
        """(n, M) excitation without twitches: tone per state, awake movement in wake."""
        base = self.tone[codes]
        if self._wake is not None:
            wake_rows = codes == WAKE_CODE
            base[wake_rows] = self._wake.excitation(int(np.count_nonzero(wake_rows)))
        return base

    def _draw_candidates(self, n_cand: int) -> _CandidateDraws:
        """Every random attribute of ``n_cand`` candidate twitches, drawn before gating by state
        so twitch identities do not depend on the hypnogram (common random numbers)."""
        c, m, k = self.config, self.n_muscles, self.config.muscles_per_twitch
        gate_u = self._r_gate.random(n_cand)
        gumbel = self._r_where.gumbel(size=(n_cand, m))
        couple_u = self._r_where.random((n_cand, k))
        neg_u = self._r_pulse.random((n_cand, 2 * k))
        amp = c.amplitude_mean + c.amplitude_sd * self._r_pulse.standard_normal((n_cand, 2 * k))
        dur_s = np.exp(
            math.log(c.duration_median_s)
            + c.duration_sigma * self._r_pulse.standard_normal((n_cand, 2 * k))
        )
        amp = np.clip(amp, c.amplitude_min, 1.0)
        dur_s = np.clip(dur_s, c.duration_min_s, c.duration_max_s)
        dur_steps = np.maximum(1, np.round(dur_s / self.control_dt_s)).astype(np.int64)
        return _CandidateDraws(gate_u, gumbel, couple_u, neg_u, amp, dur_steps)

    def _excitation_block(self, start_step: int, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
        c, m, dt = self.config, self.n_muscles, self.control_dt_s
        codes = self.sleep_cycle.state_codes(start_step, n_steps)
        base = self._background(codes)  # (n, M)

        # Pulses spill over block ends: the tail of the last block starts this one.
        lp = self._max_pulse_steps
        add = np.zeros((n_steps + lp, m))
        mul = np.ones((n_steps + lp, m))
        add[:lp] += self._carry_add
        mul[:lp] = self._carry_mul

        onset, burst = self._candidate_onsets(start_step + n_steps)
        draws = self._draw_candidates(onset.size)
        local = onset - start_step
        state_at = codes[local] if onset.size else np.zeros(0, dtype=np.int8)
        near = near_transition(self.sleep_cycle.change_steps(), onset, dt, c.transition_window_s)
        keep = gate_by_state(draws.gate_u, state_at, near, self._state_factor,
                             c.transition_rate_factor)
        chosen = choose_muscles(self._weights_at(onset), draws.gumbel, c.muscles_per_twitch)

        rows: list[int] = []
        cols: list[int] = []
        lens: list[int] = []
        amps: list[float] = []
        negs: list[bool] = []
        for i in np.nonzero(keep)[0]:
            muscles, slots = add_mirrors(chosen[i], self.mirror, draws.couple_u[i],
                                         c.bilateral_coupling)
            for mu, slot in zip(muscles, slots, strict=True):
                negative, a = twitch_polarity(float(base[local[i], mu]), draws.neg_u[i, slot],
                                              float(draws.amp[i, slot]), c.negative_fraction,
                                              c.negative_depth)
                n_d = int(draws.dur_steps[i, slot])
                rows.append(int(local[i]))
                cols.append(mu)
                lens.append(n_d)
                amps.append(a)
                negs.append(negative)
                self._event_log.append(twitch_event(
                    int(onset[i]), dt, mu, self.muscle_names[mu], self._regions[mu], negative, a,
                    n_d, int(state_at[i]), int(burst[i]), self._twitch_count, bool(near[i])))
                self._event_steps.append(int(onset[i]))
            self._twitch_count += 1
        write_pulses(add, mul, rows, cols, lens, amps, negs, c.pulse_shape, c.negative_depth)

        self._carry_add = add[n_steps:].copy()
        self._carry_mul = mul[n_steps:].copy()
        exc = np.clip(base * mul[:n_steps] + add[:n_steps], 0.0, 1.0)
        return exc, codes


class _CandidateDraws(NamedTuple):
    """Random attributes of N candidate twitches with k muscles each (2k slots: k chosen
    muscles, then their k possible mirrors)."""

    gate_u: np.ndarray  # (N,) uniform: survives the state gate?
    gumbel: np.ndarray  # (N, M) Gumbel noise for the muscle choice
    couple_u: np.ndarray  # (N, k) uniform: mirror coupled?
    neg_u: np.ndarray  # (N, 2k) uniform: negative myoclonus?
    amp: np.ndarray  # (N, 2k) positive amplitude
    dur_steps: np.ndarray  # (N, 2k) pulse length in control steps
