"""Self-touch: which body parts each hand touched over a run (BabyBench's self-touch count).

BabyBench (2025) scores self-touch as the number of distinct body parts an infant touches with
its hands. Here a body part is a link with collision shapes; a hand is a link whose name makes
it one (`robot_twitch.body.skin.skin_part` == "hands") together with the finger links below it,
and a hand's own links are not parts it can touch. Touches are read from the contacts Bullet
reports after every control step (LimbState.contacts), so the count needs no skin.
"""

from __future__ import annotations

import numpy as np

from robot_twitch.body.skin import skin_part
from robot_twitch.body.spec import Body


def hands_of(body: Body) -> dict[str, tuple[str, ...]]:
    """Each hand link -> its links (the hand and the links below it)."""
    hands = {}
    for link in body.link_names:
        if skin_part(link) != "hands":
            continue
        below = [other for other in body.link_names if link in body.skeleton.ancestors(other)]
        hands[link] = tuple(below)
    return hands


class SelfTouch:
    """Accumulates which pairs of links touched each other over a run. L links."""

    def __init__(self, body: Body) -> None:
        self.link_names = body.link_names
        self._index = {name: k for k, name in enumerate(body.link_names)}
        self.hands = hands_of(body)
        self.touched = np.zeros((len(body.link_names), len(body.link_names)), dtype=bool)  # (L, L) symmetric

    def record(self, contacts: list[tuple[str, str, float]]) -> None:
        """Record one step's contacts (link, other link or 'ground', normal force [N])."""
        for a, b, force in contacts:
            if force > 0 and b in self._index:
                i, j = self._index[a], self._index[b]
                self.touched[i, j] = self.touched[j, i] = True

    def parts(self) -> dict[str, list[str]]:
        """Each hand -> the body parts (links, not its own) it touched, in link order."""
        out = {}
        for hand, own in self.hands.items():
            rows = self.touched[[self._index[n] for n in own]].any(axis=0)
            out[hand] = [name for name, hit in zip(self.link_names, rows, strict=True) if hit and name not in own]
        return out

    def summary(self) -> dict[str, dict]:
        """{"parts": {hand: count}, "touched": {hand: [parts]}} for summary.json."""
        parts = self.parts()
        return {"parts": {hand: len(names) for hand, names in parts.items()}, "touched": parts}
