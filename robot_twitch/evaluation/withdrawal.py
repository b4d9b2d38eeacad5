"""Withdrawal-reflex truth and the reflex test (issue 16; docs/learners.md "Withdrawal reflex").

Truth. A noxious stimulus pushes on a skin site from outside, along the site's inward normal
-n. Muscle m withdraws site i when its contraction moves the site along -n: the withdrawal
speed is

    w_im = -n_i . J_i(q) a_m,          (T, M) for T taxels and M muscles,

with J_i(q) (3, J) the site's translational Jacobian from our own kinematics (the joint twists
of robot_twitch/body/kinematics.py applied to the site's world position) and a_m (J,) the
muscle's joint action. We take the quasi-static, overdamped action a_m = B^-1 R(q)^T e_m F_m:
the joint velocity the muscle's full-force torque gives against the joint viscosity B (the body
file's joint_damping_nms). The body generator sets B = I_eff / 0.1 s per joint, so B^-1 R^T is,
up to the constant 0.1 s, the diagonal part of the inertial response M(q)^-1 R^T; the compiled
kernel's full M(q) is not exposed in Python, and over a twitch (~0.1 s, the damping time
constant) the viscous terminal velocity is what sets the direction the site moves. Gravity and
contact forces are left out: the test asks which way the reflex's own torques move the site.
The root is fixed in every shipped body with skin (the infant's trunk lies on the mattress).

Reflex test (Schouenborg & Weng 1994; Waldenström, Thelin, Thimansson, Levinsson & Schouenborg
2003, J Neurosci 23:7719, who count a reflex as erroneous when the limb moves toward the
stimulus). A learned weight matrix W (T, M) >= 0 maps a stimulus at site i to the muscle
pattern u = W[i] (excitatory skin -> motoneuron connections); the site's initial motion under
that pattern is sum_m u_m w_im (the Jacobian linearisation, exact for the direction the reflex
starts moving, and microseconds per stimulus; evaluation/withdrawal_probe.py tries the same
stimuli in a copy of the Bullet world, with gravity and contact). The reflex is erroneous when
that motion is not away from the stimulus (<= 0), including when the pattern moves nothing at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from robot_twitch.body.skin import skin_part
from robot_twitch.body.spec import Body
from robot_twitch.learn.base import spearman_rho


def joint_action(body: Body, q: np.ndarray) -> np.ndarray:
    """(M, J) quasi-static joint velocity per muscle at full force: B^-1 R(q)^T F [rad/s]."""
    damping = np.asarray(body.spec.joint_damping_nms, dtype=float)
    damping = np.where(damping > 0, damping, 1.0)
    force_n = np.asarray(body.muscle_params.max_isometric_force_n, dtype=float)
    return body.moment_arms(q) * force_n[:, None] / damping[None, :]


def site_jacobians(body: Body, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Translational Jacobians (T, 3, J) [m/rad] of every taxel and outward normals (T, 3) in the world."""
    kin, skin = body.kinematics, body.skin
    rot, pos = kin.link_frames(np.asarray(q, dtype=float)[None], body.root_rotation, body.root_position_m)
    twists = kin.joint_twists(rot, pos)[0]  # (J, 6): (omega, v)
    rot, pos = rot[0], pos[0]
    sites = skin.world_positions(rot, pos)  # (T, 3)
    normals = (rot[skin.taxel_link] @ skin.normal[..., None])[..., 0]  # (T, 3)
    omega, v = twists[:, :3], twists[:, 3:]
    # velocity of point p under unit joint twist j: omega_j x p + v_j, if p moves with joint j
    vel = np.cross(omega[None, :, :], sites[:, None, :]) + v[None, :, :]  # (T, J, 3)
    vel *= kin.descends.T[skin.taxel_link][:, :, None]
    return vel.transpose(0, 2, 1), normals


def withdrawal_field(body: Body, q: np.ndarray) -> np.ndarray:
    """(T, M) withdrawal speed w_im [m/s] of site i under muscle m at posture q (> 0: away from a stimulus)."""
    jac, normals = site_jacobians(body, q)
    inward = -np.einsum("tkj,tk->tj", jac, normals)  # (T, J) inward site speed per unit joint velocity
    return inward @ joint_action(body, q).T


def reflex_errors(weights: np.ndarray, field: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """(len(sites),) bool: the reflex to a stimulus at each site does not move it away.

    weights: (T, M) skin -> muscle connections (negative entries are treated as 0: excitatory
    synapses); field: (T, M) true withdrawal speeds; sites: indices of stimulated taxels.
    """
    pattern = np.maximum(np.asarray(weights, dtype=float)[sites], 0.0)  # (n, M)
    motion = np.einsum("nm,nm->n", pattern, field[sites])
    scale = np.einsum("nm,nm->n", pattern, np.abs(field[sites]))
    return ~(motion > 1e-9 * np.maximum(scale, 1e-30))


def touch_reflex_weights(touch_corr: np.ndarray, link_names: tuple[str, ...] | list[str], skin) -> np.ndarray:
    """(T, M) per-taxel reflex weights of a link-level touch map, for the reflex test.

    touch_corr: (M, L) correlation of each muscle's motor signal with each link's contact force
    (the Hebbian learner's touch columns, robot_twitch/learn/hebbian.py); link_names: (L,) the
    links of those columns; skin: the body's SkinLayout. Touch on link l drives muscle m with
    max(-C[m, l], 0): a negative correlation means the muscle's twitches unloaded the link, the
    withdrawal rule's sign (Petersson et al. 2003). Every taxel of link l gets that link's pattern;
    taxels on links without a touch channel get none (their reflex moves nothing: an error).
    """
    corr = np.asarray(touch_corr, dtype=float)
    column = {name: k for k, name in enumerate(link_names)}
    drive = np.maximum(-corr, 0.0).T  # (L, M)
    out = np.zeros((skin.n_taxels, corr.shape[0]))
    for k, name in enumerate(skin.link_names):
        if name in column:
            out[skin.taxel_link == k] = drive[column[name]]
    return out


FIELD_MIN_SITES = 5  # a muscle's field is scored when it moves at least this many tested sites


def field_match(weights: np.ndarray, field: np.ndarray, sites: np.ndarray,
                min_sites: int = FIELD_MIN_SITES, rel_tol: float = 1e-3) -> tuple[float, int]:
    """Per-muscle receptive-field match of the learned weights to the withdrawal truth.

    Petersson et al. (2003, Fig. 3) compare each muscle's withdrawal field (the skin from which
    it is driven) with the skin it moves away. For each muscle m: the Spearman rank correlation,
    over the tested sites i that m moves at all (|w_im| > rel_tol x the body's largest speed),
    of the learned column W[i, m] with the true withdrawal speed w_im (> 0: away from a
    stimulus). 1: the muscle is driven most from the sites it withdraws fastest; -1: from the
    sites it pushes into the stimulus; 0 (chance): no relation. A column that is constant over
    those sites has no ranking and scores 0, so the all-muscle reflex (W = 1) scores exactly
    chance: unlike the error rate, this score needs specific, per-muscle structure.

    weights, field: (T, M); sites: (n,) tested taxel indices (chosen without the truth; the
    truth only decides which of them each muscle moves). Returns (mean over the muscles that
    move >= min_sites tested sites with a non-constant truth there, that number of muscles);
    (nan, 0) when no muscle qualifies.
    """
    w = np.asarray(weights, dtype=float)[sites]
    f = np.asarray(field, dtype=float)[sites]
    top = float(np.abs(field).max()) if np.size(field) else 0.0
    rhos = []
    for m in range(f.shape[1]):
        moved = np.abs(f[:, m]) > rel_tol * top
        if moved.sum() < min_sites or np.ptp(f[moved, m]) == 0:
            continue
        col = w[moved, m]
        rhos.append(spearman_rho(col, f[moved, m]) if np.ptp(col) > 0 else 0.0)
    return (float(np.mean(rhos)) if rhos else float("nan")), len(rhos)


LOADED_N = 1e-3  # a taxel bears load above this normal force [N] (below: sensor noise, 2 mN sd)


def withdrawable_sites(field: np.ndarray, rel_tol: float = 1e-3) -> np.ndarray:
    """(T,) bool: some muscle moves the site away faster than rel_tol x the body's largest speed."""
    top = float(np.abs(field).max()) if field.size else 0.0
    return field.max(axis=1) > rel_tol * top if top > 0 else np.zeros(field.shape[0], dtype=bool)


REST_S = 10.0  # skin that bore load this long in total "rests" on a support (see ReflexTest)


@dataclass(frozen=True)
class ReflexTest:
    """Noxious stimuli at sampled sites; error rates overall and per body part.

    n_stimuli: sites stimulated per pool and test (sampled without replacement).
    rest_s: load time [s] from which skin counts as resting on a support (the second pool).
    """

    n_stimuli: int = 200
    rest_s: float = REST_S

    def pools(self, field: np.ndarray, load_s: np.ndarray) -> dict[str, np.ndarray]:
        """(T,) bool masks of the tested pools, keyed by their error-rate metric:
        withdrawal.error_rate (withdrawable skin that bore load at some time), _resting (that bore
        load for >= rest_s in total), _all (any withdrawable site). field: (T, M) withdrawal truth
        (which sites some muscle can withdraw); load_s: (T,) load time [s]."""
        ok = withdrawable_sites(field)
        load_s = np.asarray(load_s, dtype=float)
        return {"withdrawal.error_rate": ok & (load_s > 0), "withdrawal.error_rate_resting": ok & (load_s >= self.rest_s),
                "withdrawal.error_rate_all": ok}

    def draw_sites(self, field: np.ndarray, load_s: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The stimulated sites (sorted taxel indices) of each pool (`pools`), drawn in the pools'
        order from rng, at most n_stimuli each without replacement (an empty pool draws nothing)."""
        out = {}
        for key, pool in self.pools(field, load_s).items():
            idx = np.flatnonzero(pool)
            out[key] = np.sort(rng.choice(idx, size=min(self.n_stimuli, idx.size), replace=False)) if idx.size \
                else idx
        return out

    def score(self, body: Body, field: np.ndarray, sites: dict[str, np.ndarray], weights: np.ndarray) -> dict[str, float]:
        """The error rate of `weights` (T, M) on each pool's stimuli (`draw_sites`: the same stimuli
        can score several weight matrices), .error_rate.<part> (the loaded stimuli of each body part),
        and on the loaded stimuli the per-muscle receptive-field match .field_match (field_match)
        and .field_muscles, the number of muscles it averages; nan for an empty pool."""
        out: dict[str, float] = {"withdrawal.field_match": float("nan"), "withdrawal.field_muscles": 0.0}
        for key, stimulated in sites.items():
            if stimulated.size == 0:
                out[key] = float("nan")
                continue
            errors = reflex_errors(weights, field, stimulated)
            out[key] = float(errors.mean())
            if key == "withdrawal.error_rate":
                out["withdrawal.field_match"], n_muscles = field_match(weights, field, stimulated)
                out["withdrawal.field_muscles"] = float(n_muscles)
                parts = np.array([skin_part(body.skin.link_names[k]) for k in body.skin.taxel_link[stimulated]])
                for part in sorted(set(parts)):
                    out[f"withdrawal.error_rate.{part}"] = float(errors[parts == part].mean())
        return out

    def run(self, body: Body, q: np.ndarray, load_s: np.ndarray, weights: np.ndarray,
            rng: np.random.Generator) -> dict[str, float]:
        """The test of one weight matrix at posture q (J,): stimuli drawn from rng (`draw_sites`),
        scored (`score`: withdrawal.error_rate on skin that has borne load on a support or the body
        at some time, load_s (T,) [s] > 0, where the twitch-touch rule can have learned anything;
        .error_rate_resting on skin that bore load for >= rest_s in total, where twitches of the few
        muscles that withdraw a site had time to happen while it rested; .error_rate_all on any
        withdrawable site; per part; the field match), and the pools' sizes .sites_loaded,
        .sites_resting. A bool load_s counts as loaded, never resting."""
        field = withdrawal_field(body, q)
        return {**self.score(body, field, self.draw_sites(field, load_s, rng), weights),
                **self.pool_sizes(field, load_s)}

    def pool_sizes(self, field: np.ndarray, load_s: np.ndarray) -> dict[str, float]:
        """withdrawal.sites_loaded, .sites_resting: the sizes of the first two pools."""
        pools = self.pools(field, load_s)
        return {"withdrawal.sites_loaded": float(pools["withdrawal.error_rate"].sum()),
                "withdrawal.sites_resting": float(pools["withdrawal.error_rate_resting"].sum())}


def plot_error_curve(rows: list[dict[str, float]], path: Path) -> None:
    """Figure: withdrawal error rates against twitches: learned (skin that bore load, resting skin,
    all skin), the shuffled control, the initial weights and the all-muscle reflex."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    twitches = [row["twitches"] for row in rows]
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    for key, style, label in (("withdrawal.error_rate", "-o", "learned (skin that bore load)"),
                              ("withdrawal.error_rate_resting", "-s", "learned (resting skin)"),
                              ("withdrawal.error_rate_shuffled", "-x", "shuffled control (bore load)"),
                              ("withdrawal.error_rate_initial", "--", "initial weights (bore load)"),
                              ("withdrawal.error_rate_uniform", "-.", "all muscles at once (bore load)"),
                              ("withdrawal.error_rate_all", ":", "learned (all withdrawable skin)")):
        if any(key in row for row in rows):
            ax.plot(twitches, [row.get(key, np.nan) for row in rows], style, label=label, ms=4)
    ax.axhline(0.1, color="grey", lw=0.8)
    ax.set_xlabel("twitches")
    ax.set_ylabel("erroneous withdrawal reflexes")
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, frameon=False, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
