"""Body-schema learners: each observes TransitionBatch-es online and exports named maps.

The torch forward models are imported lazily, so that importing the other learners (and
robot_twitch.evaluation) does not pay for torch.
"""

from typing import Any

from robot_twitch.learn.base import (
    Learner,
    LearnerGroup,
    RunningMoments,
    TransitionBatch,
    concat_batches,
)
from robot_twitch.learn.control import (
    LinearPlant,
    PostureController,
    allocate_excitations,
    random_policy,
    reach_success_rate,
)
from robot_twitch.learn.hebbian import HebbianReflexLearner
from robot_twitch.learn.motor_map import MotorMapLearner
from robot_twitch.learn.proprio_map import ProprioMapLearner
from robot_twitch.learn.schema_reflex import SchemaReflexLearner
from robot_twitch.learn.topology import SelfOrganizingMap, TopologyLearner, chow_liu_tree

__all__ = [
    "ForwardModel",
    "HebbianReflexLearner",
    "Learner",
    "LearnerGroup",
    "LinearForwardModel",
    "LinearPlant",
    "MotorMapLearner",
    "PostureController",
    "ProprioMapLearner",
    "RunningMoments",
    "SchemaReflexLearner",
    "SelfOrganizingMap",
    "TopologyLearner",
    "TransitionBatch",
    "allocate_excitations",
    "chow_liu_tree",
    "concat_batches",
    "random_policy",
    "reach_success_rate",
]


def __getattr__(name: str) -> Any:
    if name in ("ForwardModel", "LinearForwardModel"):
        from robot_twitch.learn import forward

        return getattr(forward, name)
    raise AttributeError(f"module 'robot_twitch.learn' has no attribute {name!r}")
