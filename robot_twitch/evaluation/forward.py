"""forward.*: a forward model's prediction of held-out transitions (batches the learners never saw)."""

from __future__ import annotations

from typing import Any

from robot_twitch.learn.base import TransitionBatch

#: Held-out batches a run keeps for scoring the forward model (the most recent ones; a checkpoint
#: saves them, so a resumed run scores on the same set).
HELDOUT_BATCHES_KEPT = 20


def score_forward(model: Any, heldout: TransitionBatch) -> dict[str, float]:
    """forward.r2 and forward.nrmse of a model with ``scores(batch) -> (r2, nrmse)``."""
    if not hasattr(model, "scores"):
        raise ValueError(f"{type(model).__name__} has no scores(batch) method")
    r2, nrmse = model.scores(heldout)
    return {"forward.r2": float(r2), "forward.nrmse": float(nrmse)}
