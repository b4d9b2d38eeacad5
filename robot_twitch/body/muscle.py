"""Hill-type muscle model, vectorised over any leading batch shape (..., M).

Force of the muscle-tendon unit with a rigid tendon (the fibre takes all length change; see
docs/muscles.md for why this default is acceptable for the short, stiff-tendon muscles here):

    F = F_max * (a * f_L(l~) * f_V(v~) + f_PE(l~) + beta * v~),   F >= 0

l~ = fibre length / optimal length, v~ = fibre velocity / (v_max * l_opt), a = activation.
Curves: active force-length and passive force-length after Thelen (2003, J Biomech Eng 125),
force-velocity after De Groote et al. (2016, Ann Biomed Eng 44), a small fibre damping beta as
in Millard et al. (2013, J Biomech Eng 135). Activation dynamics are first order with an
activation-dependent time constant (Thelen 2003), integrated exactly over each control step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Thelen (2003) curve constants.
ACTIVE_FL_WIDTH = 0.45  # gamma: width of the Gaussian active force-length curve
PASSIVE_STRAIN_AT_F0 = 0.6  # epsilon_0: fibre strain at which passive force reaches F_max
PASSIVE_SHAPE = 4.0  # k_PE
# De Groote et al. (2016) force-velocity constants.
_FV_D1, _FV_D2, _FV_D3, _FV_D4 = -0.318, -8.149, -0.374, 0.886
FIBRE_DAMPING = 0.1  # beta, Millard et al. (2013)
# The published fit gives 1.0023 at zero velocity; dividing by it makes isometric force exactly F_max.
_FV_ISOMETRIC = _FV_D1 * np.arcsinh(_FV_D3) + _FV_D4


@dataclass(frozen=True)
class MuscleParameters:
    """Per-muscle constants, arrays of shape (M,)."""

    max_isometric_force_n: np.ndarray
    optimal_fiber_length_m: np.ndarray
    tendon_slack_length_m: np.ndarray
    max_contraction_velocity_lopt_per_s: np.ndarray
    activation_time_constant_s: float = 0.010
    deactivation_time_constant_s: float = 0.040

    @property
    def n_muscles(self) -> int:
        return int(self.max_isometric_force_n.shape[0])


@dataclass
class MuscleState:
    """What the muscle model reports for the current posture; arrays (..., M)."""

    fiber_length_norm: np.ndarray  # l~
    fiber_velocity_norm: np.ndarray  # v~ (negative when shortening)
    force_n: np.ndarray  # tendon force


def active_force_length(fiber_length_norm: np.ndarray) -> np.ndarray:
    """Gaussian active force-length curve, 1 at optimal length (Thelen 2003)."""
    return np.exp(-((fiber_length_norm - 1.0) ** 2) / ACTIVE_FL_WIDTH)


def passive_force_length(fiber_length_norm: np.ndarray) -> np.ndarray:
    """Exponential passive force, zero below optimal length (Thelen 2003)."""
    strain = np.maximum(fiber_length_norm - 1.0, 0.0)
    return (np.exp(PASSIVE_SHAPE * strain / PASSIVE_STRAIN_AT_F0) - 1.0) / (np.exp(PASSIVE_SHAPE) - 1.0)


def force_velocity(fiber_velocity_norm: np.ndarray) -> np.ndarray:
    """Force-velocity multiplier: ~0 at -v_max, 1 isometric, ~1.8 eccentric (De Groote 2016)."""
    x = _FV_D2 * np.clip(fiber_velocity_norm, -1.0, 1.0) + _FV_D3
    return (_FV_D1 * np.log(x + np.sqrt(x * x + 1.0)) + _FV_D4) / _FV_ISOMETRIC


def activation_step(
    excitation: np.ndarray, activation: np.ndarray, dt_s: float, params: MuscleParameters
) -> np.ndarray:
    """Activation after dt_s of constant excitation u (first order, Thelen 2003).

    tau = tau_act * (0.5 + 1.5 a) when u > a, else tau_deact / (0.5 + 1.5 a); the exact
    exponential solution keeps the update stable at any control step.
    """
    scale = 0.5 + 1.5 * activation
    # exp(-dt / tau) with the division folded into the branch: -dt / (tau_act s) or -dt s / tau_deact.
    rate = np.where(excitation > activation, (-dt_s / params.activation_time_constant_s) / scale,
                    (-dt_s / params.deactivation_time_constant_s) * scale)
    return excitation + (activation - excitation) * np.exp(rate)


@dataclass(frozen=True)
class HillConstants:
    """Per-muscle products of MuscleParameters and curve constants, computed once; arrays (M,)."""

    tendon_slack_length_m: np.ndarray
    inv_optimal_fiber_length_per_m: np.ndarray  # 1 / l_opt
    inv_max_velocity_s_per_m: np.ndarray  # 1 / (v_max l_opt)
    max_isometric_force_n: np.ndarray
    passive_scale_n: np.ndarray  # F_max / (exp(k_PE) - 1)
    damping_scale_n: np.ndarray  # F_max * beta
    fv_scale_n: np.ndarray  # F_max * d1 / f_V(0)
    fv_offset_n: np.ndarray  # F_max * d4 / f_V(0)

    @classmethod
    def from_params(cls, params: MuscleParameters) -> HillConstants:
        fmax = np.asarray(params.max_isometric_force_n, dtype=float)
        lopt = np.asarray(params.optimal_fiber_length_m, dtype=float)
        return cls(
            tendon_slack_length_m=np.asarray(params.tendon_slack_length_m, dtype=float),
            inv_optimal_fiber_length_per_m=1.0 / lopt,
            inv_max_velocity_s_per_m=1.0 / (params.max_contraction_velocity_lopt_per_s * lopt),
            max_isometric_force_n=fmax,
            passive_scale_n=fmax / (np.exp(PASSIVE_SHAPE) - 1.0),
            damping_scale_n=fmax * FIBRE_DAMPING,
            fv_scale_n=fmax * (_FV_D1 / _FV_ISOMETRIC),
            fv_offset_n=fmax * (_FV_D4 / _FV_ISOMETRIC),
        )


def hill_force_split(
    length_m: np.ndarray, velocity_m_per_s: np.ndarray, k: HillConstants
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fibre state and the force split F = a * active_unit + passive, before the F >= 0 clamp.

    Same curves as muscle_force() with fewer array operations (the hot path of the simulator).
    Arrays (..., M) -> (l~, v~ clipped to [-1, 1], active_unit [N], passive [N]).
    """
    l_norm = length_m - k.tendon_slack_length_m
    np.maximum(l_norm, 1e-4, out=l_norm)
    l_norm *= k.inv_optimal_fiber_length_per_m
    v_norm = velocity_m_per_s * k.inv_max_velocity_s_per_m
    np.minimum(v_norm, 1.0, out=v_norm)
    np.maximum(v_norm, -1.0, out=v_norm)
    stretch = l_norm - 1.0
    active = np.square(stretch)
    active *= -1.0 / ACTIVE_FL_WIDTH
    np.exp(active, out=active)
    fv = v_norm * _FV_D2
    fv += _FV_D3
    np.arcsinh(fv, out=fv)  # log(x + sqrt(x^2 + 1))
    fv *= k.fv_scale_n
    fv += k.fv_offset_n
    active *= fv
    np.maximum(stretch, 0.0, out=stretch)
    stretch *= PASSIVE_SHAPE / PASSIVE_STRAIN_AT_F0
    passive = np.expm1(stretch, out=stretch)  # exp(x) - 1
    passive *= k.passive_scale_n
    fv = np.multiply(k.damping_scale_n, v_norm, out=fv)
    passive += fv
    return l_norm, v_norm, active, passive


def muscle_force(
    activation: np.ndarray,
    length_m: np.ndarray,
    velocity_m_per_s: np.ndarray,
    params: MuscleParameters,
) -> MuscleState:
    """Tendon force of every muscle, rigid tendon. All arrays (..., M)."""
    fiber_length = np.maximum(length_m - params.tendon_slack_length_m, 1e-4)
    lopt = params.optimal_fiber_length_m
    l_norm = fiber_length / lopt
    v_norm = velocity_m_per_s / (params.max_contraction_velocity_lopt_per_s * lopt)
    force = params.max_isometric_force_n * (
        activation * active_force_length(l_norm) * force_velocity(v_norm)
        + passive_force_length(l_norm)
        + FIBRE_DAMPING * np.clip(v_norm, -1.0, 1.0)
    )
    return MuscleState(l_norm, v_norm, np.maximum(force, 0.0))
