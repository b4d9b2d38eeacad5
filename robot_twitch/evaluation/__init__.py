"""Evaluation: learned maps and what they let the body do, scored against the simulator's truth.

One module per job:
    truth.py       BodyTruth: R (M, J) over the visited postures, muscle relations, the tree
    action_map.py  schema.* and proprio.*: a learned (M, J) action map vs R
    reflex.py      reflex.* and schema_reflex.*: learned reflex matrices vs the textbook relations
    topology.py    topology.*: learned muscle-joint graph, joint adjacency, somatotopy
    forward.py     forward.*: a forward model on held-out transitions
    scores.py      score_all / score_map: every score of learners or a body map dict
    reach.py       reach.*: reaching target postures with the learned map (the downstream check)
    realign.py     realign.*: time and twitches from a body change to a regained score
    withdrawal.py  the withdrawal truth (T, M), the reflex test, the field match, the error curve
    touch.py       withdrawal.*, reflex.touch_*, skinmap.*: the touch scores with their controls

Metric names (see docs/learners.md for definitions):
    schema.sign_accuracy, schema.cosine, schema.rank_corr, schema.coverage
                                        (motor map, learned from commands, vs R)
    proprio.sign_accuracy, proprio.cosine, proprio.rank_corr, proprio.coverage
                                        (proprioceptive map, spindle length vs joint angle, vs R)
    schema.lost_residual, proprio.lost_residual   (learned row of a lost muscle / typical intact row)
    reflex.pattern_accuracy, reflex.stretch, reflex.reciprocal_inhibition, reflex.synergist,
    reflex.reverse_myotatic, reflex.specificity, reflex.velocity_*   (Hebbian reflex matrices)
    schema_reflex.*                     (reflex read out of the motor and proprioceptive maps)
    forward.r2, forward.nrmse                                        (held-out forward model)
    topology.f1, topology.link_f1, topology.somatotopy_rho          (topology and somatotopy)
    reach.success_learned_map, reach.success_true_map, reach.success_random   (reach check)
    realign.<score>_s, _twitches, _realigned, _drop                  (after a body change)
    withdrawal.error_rate*, withdrawal.field_match*, reflex.touch_*  (withdrawal reflex test)
    skinmap.adjacency, skinmap.adjacency_initial, skinmap.adjacency_shuffled, ...   (skin map)

The map scores are importable from here; the reach check (which steps a Simulation) is imported
from robot_twitch.evaluation.reach, the touch scores from robot_twitch.evaluation.touch.
"""

from robot_twitch.evaluation.action_map import (
    balance,
    defined_rows,
    per_joint_scaled,
    score_action_map,
    undefined_reason,
)
from robot_twitch.evaluation.forward import HELDOUT_BATCHES_KEPT, score_forward
from robot_twitch.evaluation.reflex import reflex_relations, score_reflex, specificity
from robot_twitch.evaluation.scores import score_all, score_map
from robot_twitch.evaluation.topology import score_topology
from robot_twitch.evaluation.truth import NEAR_ZERO_REL, TOPOLOGY_REL, BodyTruth, body_truth

__all__ = [
    "HELDOUT_BATCHES_KEPT",
    "NEAR_ZERO_REL",
    "TOPOLOGY_REL",
    "BodyTruth",
    "balance",
    "body_truth",
    "defined_rows",
    "per_joint_scaled",
    "reflex_relations",
    "score_action_map",
    "score_all",
    "score_forward",
    "score_map",
    "score_reflex",
    "score_topology",
    "specificity",
    "undefined_reason",
]
