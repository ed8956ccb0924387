"""Assigning many people at once: optimal rounds, a greedy baseline, and stable matching.

Pure functions over numbers and ids; no database.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment


def assign_optimal(
    scores: np.ndarray, allowed: np.ndarray, capacities: list[int]
) -> list[tuple[int, int]]:
    """Pairs (participant row, buddy column) with the maximum total score.

    Each participant gets at most one buddy; buddy j at most capacities[j] participants. Only
    allowed pairs with a positive score are used. Buddies are repeated `capacity` times as
    columns so the Hungarian algorithm (scipy) solves the capacitated problem exactly.
    Forbidden pairs weigh 0: any partial assignment extends to a full one with zero-weight
    pairs, so the optimum over allowed pairs is the optimum of this matrix.
    """
    if scores.size == 0:
        return []
    weights = np.where(allowed & (scores > 0), scores, 0.0)
    columns = np.repeat(np.arange(len(capacities)), capacities)
    if columns.size == 0:
        return []
    expanded = weights[:, columns]
    rows, cols = linear_sum_assignment(expanded, maximize=True)
    return [
        (int(r), int(columns[c])) for r, c in zip(rows, cols, strict=True) if expanded[r, c] > 0
    ]


def assign_greedy(
    scores: np.ndarray, allowed: np.ndarray, capacities: list[int]
) -> list[tuple[int, int]]:
    """Best pair first: what a busy coordinator would do by hand. For comparison only."""
    weights = np.where(allowed & (scores > 0), scores, 0.0)
    flat = np.flatnonzero(weights)
    order = flat[np.argsort(-weights.ravel()[flat], kind="stable")]
    left = list(capacities)
    taken = np.zeros(weights.shape[0], dtype=bool)
    pairs = []
    n_cols = weights.shape[1]
    for index in order:
        row, col = divmod(int(index), n_cols)
        if not taken[row] and left[col] > 0:
            taken[row] = True
            left[col] -= 1
            pairs.append((row, col))
    return pairs


def total(scores: np.ndarray, pairs: list[tuple[int, int]]) -> float:
    return float(sum(scores[r, c] for r, c in pairs))


def stable_match(
    participant_prefs: dict[int, list[int]],
    buddy_prefs: dict[int, list[int]],
    capacities: dict[int, int],
) -> dict[int, int]:
    """Participant-proposing deferred acceptance with buddy capacities (hospitals/residents).

    A pair is acceptable only if each appears in the other's list (vetoes are simply left out
    of the lists). The result is stable: no participant and buddy both prefer each other to
    what they got (a buddy with a free place prefers any acceptable participant to nobody).
    Returns participant -> buddy.
    """
    buddy_rank = {b: {p: i for i, p in enumerate(prefs)} for b, prefs in buddy_prefs.items()}
    proposals = {
        p: [b for b in prefs if p in buddy_rank.get(b, {})]
        for p, prefs in participant_prefs.items()
    }
    next_choice = dict.fromkeys(proposals, 0)
    held: dict[int, list[int]] = {b: [] for b in buddy_prefs}
    free = [p for p in proposals if proposals[p]]
    while free:
        participant = free.pop()
        choices = proposals[participant]
        if next_choice[participant] >= len(choices):
            continue
        buddy = choices[next_choice[participant]]
        next_choice[participant] += 1
        holding = held[buddy]
        holding.append(participant)
        holding.sort(key=lambda p: buddy_rank[buddy][p])
        if len(holding) > capacities.get(buddy, 0):
            rejected = holding.pop()
            if next_choice[rejected] < len(proposals[rejected]):
                free.append(rejected)
    return {p: b for b, ps in held.items() for p in ps}


def why_left_out(
    preferences_allow: np.ndarray, allowed: np.ndarray, pairs: list[tuple[int, int]]
) -> dict[int, str]:
    """Each participant row the assignment left out, with the reason (a LeftOutReason value).

    `preferences_allow` is the declared-preference mask alone; `allowed` every rule together.
    A row with an allowed pair left unmatched is one whose buddies were all full: an optimal
    assignment never leaves an allowed, positive pair unmade while the buddy has a place.
    """
    matched = {row for row, _ in pairs}
    reasons = {}
    for row in range(allowed.shape[0]):
        if row in matched:
            continue
        if allowed.shape[1] and not preferences_allow[row].any():
            reasons[row] = "preference"
        elif not allowed[row].any():
            reasons[row] = "no_eligible_buddy"
        else:
            reasons[row] = "all_full"
    return reasons
