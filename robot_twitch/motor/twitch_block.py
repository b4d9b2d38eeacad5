"""The parts of one block of sleep twitches, each a small pure function.

:class:`~robot_twitch.motor.twitch.TwitchDrive` draws candidate twitch onsets and, for each, every
random attribute up front (so twitch identities do not depend on the hypnogram: common random
numbers across conditions).  It then composes these steps to turn one block of control steps
into excitation:

1. :func:`near_transition` and :func:`gate_by_state`: which candidates the sleep state lets
   through (active sleep; quiet sleep, wake and state changes by their rate factors).
2. :func:`choose_muscles`: which muscles twitch (weighted draw without replacement at the
   onset's age), and :func:`add_mirrors`: their left/right partners under bilateral coupling.
3. :func:`twitch_polarity`: positive pulse, or negative myoclonus where there is tone to lose.
4. :func:`write_pulses`: the pulse shapes, added (positive) or multiplied in (negative).
5. :func:`twitch_event`: the event record of each muscle's twitch.

Nothing here draws random numbers or keeps state; the drive owns both.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from robot_twitch.motor.base import STATE_ORDER
from robot_twitch.motor.events import TwitchEvent


def near_transition(change_steps: np.ndarray, onset_steps: np.ndarray, control_dt_s: float,
                    window_s: float) -> np.ndarray:
    """(N,) bool: each onset step (N,) lies within ``window_s`` of a change of sleep state.

    ``change_steps`` (C,): sorted steps at which the state changes (C may be 0).
    """
    if change_steps.size == 0 or onset_steps.size == 0:
        return np.zeros(onset_steps.size, dtype=bool)
    idx = np.clip(np.searchsorted(change_steps, onset_steps), 1, change_steps.size) - 1
    after = change_steps[np.minimum(idx + 1, change_steps.size - 1)]
    nearest = np.minimum(np.abs(onset_steps - change_steps[idx]), np.abs(after - onset_steps))
    return nearest * control_dt_s <= window_s


def gate_by_state(gate_u: np.ndarray, state_codes: np.ndarray, near: np.ndarray,
                  state_factor: np.ndarray, transition_rate_factor: float) -> np.ndarray:
    """(N,) bool: which candidate twitches occur (thinning of the active-sleep process).

    A candidate in a state with rate factor f (``state_factor`` (3,) by state code; 1 in active
    sleep) survives with probability f; near a change of state (``near`` (N,)) the larger of f
    and ``transition_rate_factor`` applies.  ``gate_u`` (N,): uniform draws in [0, 1);
    ``state_codes`` (N,): the state at each onset.
    """
    factor = state_factor[state_codes]
    if transition_rate_factor > 0:
        factor = np.where(near, np.maximum(factor, transition_rate_factor), factor)
    return gate_u < factor


def choose_muscles(weights: np.ndarray, gumbel: np.ndarray, k: int) -> np.ndarray:
    """(N, k) muscle indices per twitch: a weighted draw of k muscles without replacement.

    Gumbel top-k: with ``weights`` (N, M) (rows: choice probabilities at each onset's age) and
    ``gumbel`` (N, M) standard Gumbel noise, the k largest log(weight) + noise are a weighted
    sample without replacement.  Zero-weight muscles are never chosen while others remain.
    """
    with np.errstate(divide="ignore"):
        keys = np.log(weights)
    keys = keys + gumbel
    return np.argsort(-keys, axis=1, kind="stable")[:, :k]


def add_mirrors(chosen: Sequence[int], mirror: np.ndarray, couple_u: np.ndarray,
                coupling: float) -> tuple[list[int], list[int]]:
    """Muscles of one twitch with coupled left/right partners, and each one's draw slot.

    ``chosen`` (k,): the twitch's muscles; ``mirror`` (M,): each muscle's mirror or -1;
    ``couple_u`` (k,): uniform draws.  Muscle j's mirror joins when ``couple_u[j] < coupling``
    and it is not already part of the twitch.  Slot j < k is chosen muscle j, slot k + j its
    mirror (the slot indexes the twitch's polarity, amplitude and duration draws).
    """
    k = len(chosen)
    muscles = [int(x) for x in chosen]
    slots = list(range(k))
    for j in range(k):
        partner = int(mirror[muscles[j]])
        if partner >= 0 and partner not in muscles and couple_u[j] < coupling:
            muscles.append(partner)
            slots.append(k + j)
    return muscles, slots


def twitch_polarity(tone: float, neg_u: float, amplitude: float, negative_fraction: float,
                    negative_depth: float) -> tuple[bool, float]:
    """(negative, amplitude) of one muscle's twitch.

    Negative myoclonus needs tone to lose: with excitation ``tone`` > 0 at onset (sleep tone, or
    awake movement in wake) the twitch is negative when ``neg_u < negative_fraction`` and then
    removes ``tone * negative_depth``; against atonia every twitch is positive with the drawn
    ``amplitude``.
    """
    negative = tone > 0.0 and neg_u < negative_fraction
    return negative, (tone * negative_depth if negative else amplitude)


def write_pulses(add: np.ndarray, mul: np.ndarray, rows: np.ndarray, cols: np.ndarray,
                 lens: np.ndarray, amps: np.ndarray, negative: np.ndarray, shape: str,
                 negative_depth: float) -> None:
    """Write E pulses into the block's additive and multiplicative layers, in place.

    ``add`` (T, M) gains ``amp * s(t)`` for positive pulses; ``mul`` (T, M) becomes at most
    ``1 - negative_depth * s(t)`` for negative ones (overlapping negatives keep the deepest).
    ``rows`` (E,) onset row, ``cols`` (E,) muscle, ``lens`` (E,) length in steps (>= 1, and
    rows + lens <= T), ``amps`` (E,), ``negative`` (E,) bool; s is :func:`pulse_shape`.
    """
    if len(rows) == 0:
        return
    lens = np.asarray(lens)
    rows0 = np.repeat(np.asarray(rows), lens)
    cols = np.repeat(np.asarray(cols), lens)
    offsets = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
    s = pulse_shape(shape, np.repeat(lens, lens), offsets)
    amps = np.repeat(np.asarray(amps), lens)
    neg = np.repeat(np.asarray(negative), lens)
    at = rows0 + offsets
    pos = ~neg
    np.add.at(add, (at[pos], cols[pos]), amps[pos] * s[pos])
    np.minimum.at(mul, (at[neg], cols[neg]), 1.0 - negative_depth * s[neg])


def pulse_shape(shape: str, n_steps: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Pulse value at step ``j`` of a pulse ``n_steps`` long, sampled at step midpoints.

    Args:
        shape: one of ``PULSE_SHAPES`` ("rectangular", "half_sine", "alpha").
        n_steps: (K,) pulse lengths in steps (>= 1).
        j: (K,) step index within the pulse, 0 <= j < n_steps.

    Returns:
        (K,) values in [0, 1] (peak 1).
    """
    x = (j + 0.5) / n_steps
    if shape == "rectangular":
        return np.ones_like(x)
    if shape == "half_sine":
        return np.sin(np.pi * x)
    u = 5.0 * x  # alpha function with tau = duration / 5, peak 1 at t = tau
    return u * np.exp(1.0 - u)


def twitch_event(onset_step: int, control_dt_s: float, muscle_index: int, muscle: str, region: str,
                 negative: bool, amplitude: float, n_steps: int, state_code: int, burst_index: int,
                 twitch_index: int, near: bool) -> TwitchEvent:
    """The event record of one muscle's twitch (times in whole control steps)."""
    return TwitchEvent(
        onset_s=onset_step * control_dt_s,
        muscle=muscle,
        muscle_index=muscle_index,
        region=region,
        polarity="negative" if negative else "positive",
        amplitude=amplitude,
        duration_s=n_steps * control_dt_s,
        sleep_state=STATE_ORDER[state_code].value,
        burst_index=burst_index,
        twitch_index=twitch_index,
        near_transition=near,
    )
