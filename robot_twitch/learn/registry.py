"""The learner registry: every body-schema learner a config can name, as a factory.

A factory takes the learner's keyword arguments from the config (``learners.params.NAME``), the
experiment config (seed, the body's activation dynamics, the sensor delay) and the control step,
and returns a Learner (robot_twitch/learn/base.py). The forward models are imported only when
built.

Adding a learner: write its module (a class with observe(batch), body_map() and
state_dict()/load_state_dict(), see learn/base.py) with its test, and add one
``LEARNER_REGISTRY.add`` line here (and its name to SKIN_LEARNERS if it reads the skin); the
config's allowed names (``learners.names``), docs/config.md and ``robot-twitch run --help``
follow from the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from robot_twitch.errors import ConfigError
from robot_twitch.learn.base import Learner, LearnerGroup
from robot_twitch.registry import Registry

if TYPE_CHECKING:
    from robot_twitch.config import ExperimentConfig

LEARNER_REGISTRY = Registry("learner")
"""Learner name -> Entry(factory(params, config, dt_s) -> Learner, None, doc)."""


def motor_map_defaults(config: ExperimentConfig) -> dict[str, Any]:
    """The motor-map learner assumes the body's own activation dynamics and afferent delay (the
    developing circuits are tuned to their own muscles and nerves); learner params override."""
    return {"dt_s": config.sim.control_dt_s,
            "activation_time_constant_s": config.sim.activation_time_constant_s,
            "deactivation_time_constant_s": config.sim.deactivation_time_constant_s,
            "delay_steps": int(config.sensors.delay_steps.get("joint_vel", 0))}


def _hebbian(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """Sensorimotor correlations: the reflex matrix (Hebbian, with decay)."""
    from robot_twitch.learn.hebbian import HebbianReflexLearner

    return HebbianReflexLearner(dt_s=dt_s, **params)


def _motor_map(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """The body schema from each muscle's own command (efference -> reafference)."""
    from robot_twitch.learn import MotorMapLearner

    return MotorMapLearner(**{**motor_map_defaults(config), **params})


def _proprio(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """Spindle length -> joint angle map (proprioception without commands)."""
    from robot_twitch.learn import ProprioMapLearner

    return ProprioMapLearner(**params)


def _schema_reflex(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """Reflexes read out of the body schema (motor map x proprioceptive map)."""
    from robot_twitch.learn import SchemaReflexLearner

    return SchemaReflexLearner(**{**motor_map_defaults(config), **params})


def _forward(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """Forward model of the sensory consequences of a command (MLP)."""
    from robot_twitch.learn.forward import ForwardModel

    return ForwardModel(**{"seed": config.seed, **params})


def _forward_linear(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """Linear forward model, the MLP's baseline."""
    from robot_twitch.learn.forward import LinearForwardModel

    return LinearForwardModel(**params)


def _topology(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """Which muscle moves which joint, the link tree and a somatotopic map."""
    from robot_twitch.learn import TopologyLearner

    return TopologyLearner(**{"seed": config.seed, **params})


def _withdrawal(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """Skin -> muscle withdrawal reflex from twitch-induced unloading (Petersson et al. 2003; bodies with skin).

    Params field_spacings (2.0) and field_min_radius_m (0.005) set the skin receptive fields' radius.
    """
    from robot_twitch.body.spec import load_body
    from robot_twitch.learn.withdrawal import WithdrawalLearner, receptive_fields

    params = dict(params)
    fields = receptive_fields(load_body(config.body).skin, params.pop("field_min_radius_m", 0.005),
                              params.pop("field_spacings", 2.0))
    return WithdrawalLearner(**{"dt_s": dt_s, "seed": config.seed, "receptive_field": fields, **params})


def _skinmap(params: dict[str, Any], config: ExperimentConfig, dt_s: float) -> Learner:
    """Somatotopic skin map: a Kohonen map of touch patterns (Kohonen 1982; bodies with skin).

    Param field_spacings (1.0; 0: none): each afferent pools its taxel's neighbours in a Gaussian
    of this many times the link's spacing (learn/skinmap.py).
    """
    from robot_twitch.body.spec import load_body
    from robot_twitch.learn.skinmap import SkinMapLearner
    from robot_twitch.learn.withdrawal import receptive_fields

    params = dict(params)
    spacings = params.pop("field_spacings", 1.0)
    if not (isinstance(spacings, (int, float)) and not isinstance(spacings, bool) and spacings >= 0):
        raise ValueError(f"skinmap field_spacings {spacings!r} must be a number >= 0 (0: no pooling)")
    fields = receptive_fields(load_body(config.body).skin, 0.0, float(spacings)) if spacings > 0 else None
    return SkinMapLearner(**{"seed": config.seed, "receptive_field": fields, **params})


LEARNER_REGISTRY.add("hebbian", _hebbian)
LEARNER_REGISTRY.add("motor_map", _motor_map)
LEARNER_REGISTRY.add("proprio", _proprio)
LEARNER_REGISTRY.add("schema_reflex", _schema_reflex)
LEARNER_REGISTRY.add("forward", _forward)
LEARNER_REGISTRY.add("forward_linear", _forward_linear)
LEARNER_REGISTRY.add("topology", _topology)
LEARNER_REGISTRY.add("withdrawal", _withdrawal)
LEARNER_REGISTRY.add("skinmap", _skinmap)

SKIN_LEARNERS = ("withdrawal", "skinmap")
"""Learners that read the skin group: the run's sensor layout then includes it (thousands of
taxels), and the body must have skin."""

_TUPLE_PARAMS = ("hidden", "som_grid", "grid")  # YAML lists that constructors take as tuples


def make_learners(config: ExperimentConfig, dt_s: float) -> LearnerGroup:
    """The learners named in ``config.learners.names`` with their ``learners.params``; a
    parameter a constructor rejects raises ConfigError at ``learners.params.NAME``."""
    learners = []
    for name in config.learners.names:
        params = dict(config.learners.params.get(name, {}))
        for key in _TUPLE_PARAMS:
            if key in params:
                params[key] = tuple(params[key])
        try:
            learners.append(LEARNER_REGISTRY[name].factory(params, config, dt_s))
        except (TypeError, ValueError) as exc:
            raise ConfigError(None, f"learners.params.{name}", str(exc)) from None
    return LearnerGroup(learners)
