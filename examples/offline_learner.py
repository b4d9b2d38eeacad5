"""Fit one of robot_twitch's learners offline on a Minari dataset and score it against the truth
the dataset carries (docs/datasets.md).

    robot-twitch run quickstart --set outputs.dataset=true
    robot-twitch export runs/quickstart-seed0-YYYYMMDD-HHMMSS --minari robot_twitch/quickstart-v0
    python examples/offline_learner.py robot_twitch/quickstart-v0 --learner motor_map

The scores equal the run's own (summary.json): the learner sees the same batches in the same
order, and the truth is the same average of R(q) over the steps the run visited.
"""

from __future__ import annotations

import argparse
import json

import minari
import numpy as np

from robot_twitch.config import LEARNER_NAMES
from robot_twitch.datasets.minari_io import stream_from_minari
from robot_twitch.datasets.offline import fit, make_learner
from robot_twitch.evaluation import score_all
from robot_twitch.learn import concat_batches


def fit_offline(dataset_id: str, learner_name: str = "motor_map") -> dict[str, float]:
    """Scores of learner `learner_name` fitted on the dataset's one episode (one run)."""
    dataset = minari.load_dataset(dataset_id)
    stream = stream_from_minari(dataset)  # observations, actions and per-step truth as arrays

    # What the dataset holds: sensor groups (T+1, n), excitations (T, M), truth per step.
    episode = dataset[0]
    onsets = episode.infos["twitch"]  # (T+1, M): +1 positive, -1 negative twitch onset, 0 none
    print(f"{dataset_id}: {len(episode.actions)} steps, {int((onsets != 0).sum())} muscle twitches, "
          f"{np.mean(episode.infos['sleep_state'] == 2):.0%} of the time in active sleep")

    learner = make_learner(stream, learner_name)  # the run's parameters for this learner
    heldout = fit(stream, learner)  # the batches in the run's order; returns those it held out
    kept = heldout[-int(stream.meta["heldout_batches_kept"]):]
    return score_all(learner, stream.truth(), heldout_batch=concat_batches(kept) if kept else None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset_id")
    parser.add_argument("--learner", default="motor_map", choices=LEARNER_NAMES)
    args = parser.parse_args()
    scores = fit_offline(args.dataset_id, args.learner)
    live = minari.load_dataset(args.dataset_id).storage.metadata["robot_twitch"]["summary"]["metrics"]
    for key, value in scores.items():
        print(f"{key:<32} offline {value:.6f}   live run {live.get(key, float('nan')):.6f}")
    print(json.dumps({"equal": all(live.get(k) == v for k, v in scores.items())}))


if __name__ == "__main__":
    main()
