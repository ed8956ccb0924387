"""Assigning many people at once: optimal rounds, a greedy baseline, and stable matching.

Pure functions over numbers and ids; no database.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow
from scipy.optimize import linear_sum_assignment

# Each participant's best pairs at face value for the first sparse solve, and at the going
# prices after each solve. They only set the speed: the certificate decides optimality.
FIRST_CANDIDATES = 8
# A small round (up to SMALL_ROUND_CELLS participant x buddy cells) starts wider: its first
# solve then usually settles, where 8 took three solves, each with its prices and full check.
# CPU time, best of 15 on the bench's rounds: 500 x 170 20 -> 10 ms (OR-tools over every pair
# 20 ms), 1,000 x 340 62 -> 49 ms, 2,000 x 680 195 -> 181 ms; at 5,000 x 1,700 a wider start
# is slower (2.1 s with 8, 3.2 s with 16), as the sparse problem grows faster than it helps.
SMALL_ROUND_FIRST_CANDIDATES = 24
SMALL_ROUND_CELLS = 1_500_000
REPRICED_CANDIDATES = 8
MAX_SPARSE_SOLVES = 8


def assign_optimal(
    scores: np.ndarray, allowed: np.ndarray, capacities: list[int]
) -> list[tuple[int, int]]:
    """Pairs (participant row, buddy column) with the maximum total score.

    Each participant gets at most one buddy; buddy j at most capacities[j] participants. Only
    allowed pairs with a positive score are used.

    Why the answer is optimal: the problem is the linear programme
        maximise sum s[i,j] x[i,j]  subject to  sum_j x[i,j] <= 1,  sum_i x[i,j] <= cap[j],  x >= 0,
    whose dual is
        minimise sum u[i] + sum cap[j] v[j]  subject to  u[i] + v[j] >= s[i,j] (usable pairs),  u, v >= 0.
    By weak duality no assignment totals more than the objective of any feasible (u, v). So an
    assignment together with prices (u, v) that are feasible for *every* usable pair of the
    full matrix, and whose objective equals the assignment's total, proves the assignment
    optimal. That certificate is checked before returning (`_certified`, and the pair-by-pair
    check in the loop); nothing else is trusted.

    How it is found fast: the optimum uses each participant's best few buddies at the going
    prices, so the exact solve runs on a sparse candidate set (OR-tools' min-cost flow:
    source -> participant -> buddy -> sink, capacities 1, 1 and cap[j], and a source -> sink
    arc for whoever stays unmatched; integer costs, the scores on a grid of 2^-30 of the
    largest, which only steers the search: the certificate is checked on the true scores). From that
    solution come the smallest consistent buddy prices v (longest paths in its exchange graph,
    `_buddy_prices`) and u[i] = s[i, own buddy] - v[own buddy]. Every usable pair of the full
    matrix is then checked; pairs that break u[i] + v[j] >= s[i,j] (a better pair left out)
    join the candidates, with each participant's best pairs at the new prices, and the sparse
    problem is solved again. Should that not settle, the dense Hungarian algorithm over the
    whole matrix (the previous method, 5-10 times slower at 5,000 x 1,700) decides.

    Tolerances: sums are floating point, so a pair counts as breaking the certificate only
    when it beats u[i] + v[j] by more than 1e-9 of the largest score. The full-matrix check
    is screened in float32 (to halve memory traffic) with a margin far above float32 rounding,
    and every pair the screen flags is checked again in float64.
    """
    if scores.size == 0:
        return []
    capacity = np.asarray(capacities, dtype=np.int64).reshape(-1)
    if capacity.sum() <= 0:
        return []
    usable = allowed & (scores > 0) & (capacity > 0)[None, :]
    if not usable.any():
        return []
    largest = float(np.max(scores, where=usable, initial=0.0))
    tolerance = 1e-9 * max(1.0, largest)
    margin = 1e-5 * max(1.0, largest) + tolerance
    ranked = scores.astype(np.float32)
    ranked[~usable] = -np.inf
    work, spare = np.empty_like(ranked), np.empty_like(ranked)
    # Scores come on a coarse grid, so many pairs tie at the going prices: a tiny nudge per
    # buddy, far below the grid, keeps "each participant's best k" to about k pairs.
    nudge = (np.arange(len(capacity)) / max(len(capacity), 1) * 1e-4 * largest).astype(np.float32)
    first = SMALL_ROUND_FIRST_CANDIDATES if scores.size <= SMALL_ROUND_CELLS else FIRST_CANDIDATES
    candidates = _best_columns(ranked, first, spare)
    for _ in range(MAX_SPARSE_SOLVES):
        rows, cols = np.nonzero(candidates)
        pair_values = scores[rows, cols].astype(np.float64)
        buddy_of = _solve_sparse(rows, cols, pair_values, capacity, scores.shape[0])
        own = _own_values(scores, buddy_of)
        prices = _buddy_prices(rows, cols, pair_values, buddy_of, own, capacity, tolerance / 1000)
        if prices is None:
            break
        shares = np.where(buddy_of >= 0, own - prices[np.maximum(buddy_of, 0)], 0.0)
        np.subtract(ranked, (prices.astype(np.float32) + nudge)[None, :], out=work)
        repriced = _best_columns(work, REPRICED_CANDIDATES, spare)
        np.subtract(work, (shares.astype(np.float32) - nudge.max())[:, None], out=work)
        before = int(np.count_nonzero(candidates))
        if (work > margin + nudge.max()).any():  # surely broken: no need to look closer
            candidates |= repriced
            if np.count_nonzero(candidates) > before:
                continue
        flagged_rows, flagged_cols = np.nonzero(work > -margin)
        excess = scores[flagged_rows, flagged_cols] - prices[flagged_cols] - shares[flagged_rows]
        broken = usable[flagged_rows, flagged_cols] & (excess > tolerance)
        if not broken.any():
            if _certified(buddy_of, own, prices, shares, capacity, tolerance):
                return _pairs(buddy_of)
            break
        # The pairs that beat their prices most are each participant's best at those prices.
        candidates |= repriced
        if np.count_nonzero(candidates) == before:
            candidates[flagged_rows[broken], flagged_cols[broken]] = True
    return _assign_dense(np.where(usable, scores, 0.0), capacity)


def _best_columns(ranked: np.ndarray, k: int, spare: np.ndarray) -> np.ndarray:
    """Each row's k highest finite `ranked` columns, and every column tied with the k-th."""
    n_cols = ranked.shape[1]
    if k >= n_cols:
        return np.isfinite(ranked)
    np.copyto(spare, ranked)
    spare.partition(n_cols - k, axis=1)
    threshold = spare[:, n_cols - k].copy()
    return (ranked >= threshold[:, None]) & (ranked > -np.inf)


def _solve_sparse(
    rows: np.ndarray, cols: np.ndarray, pair_values: np.ndarray, capacity: np.ndarray, n_rows: int
) -> np.ndarray:
    """Each row's buddy (or -1) in a maximum-total assignment using the given pairs only."""
    n_buddies = len(capacity)
    source, sink = n_rows + n_buddies, n_rows + n_buddies + 1
    scale = 2.0**30 / max(1.0, float(pair_values.max(initial=0.0)))
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(n_rows, source), rows, n_rows + np.arange(n_buddies), [source]]),
        np.concatenate([np.arange(n_rows), n_rows + cols, np.full(n_buddies, sink), [sink]]),
        np.concatenate([np.ones(n_rows + len(rows), np.int64), capacity, [n_rows]]),
        np.concatenate(
            [
                np.zeros(n_rows, np.int64),
                -np.rint(pair_values * scale).astype(np.int64),
                np.zeros(n_buddies + 1, np.int64),
            ]
        ),
    )
    flow.set_node_supply(source, n_rows)
    flow.set_node_supply(sink, -n_rows)
    if flow.solve() != flow.OPTIMAL:
        raise ArithmeticError("min-cost flow did not solve the candidate pairs")
    used = flow.flows(np.arange(n_rows, n_rows + len(rows))) > 0
    buddy_of = np.full(n_rows, -1, dtype=np.int64)
    buddy_of[rows[used]] = cols[used]
    return buddy_of


def _own_values(scores: np.ndarray, buddy_of: np.ndarray) -> np.ndarray:
    """Each row's score with its own buddy (0 if it has none)."""
    mine = scores[np.arange(len(buddy_of)), np.maximum(buddy_of, 0)].astype(np.float64)
    return np.where(buddy_of >= 0, mine, 0.0)


def _buddy_prices(
    rows: np.ndarray,
    cols: np.ndarray,
    pair_values: np.ndarray,
    buddy_of: np.ndarray,
    own: np.ndarray,
    capacity: np.ndarray,
    step: float,
) -> np.ndarray | None:
    """The smallest prices v >= 0 with u[i] + v[j] >= s[i,j] on the given pairs, where u[i] is
    what row i keeps of its own pair (s[i,k] - v[k]), or 0 if unmatched. So v[j] >= s[i,j] for
    an unmatched i, and v[j] >= v[k] + s[i,j] - s[i,k] for i matched to k: longest paths from
    a root, by Bellman-Ford rounds over all pairs at once. None if they do not settle (a cycle
    that gains: the assignment was not optimal on these pairs)."""
    n_buddies = len(capacity)
    source = buddy_of[rows]
    gain = pair_values - own[rows]
    prices = np.zeros(n_buddies)
    from_root = source < 0
    np.maximum.at(prices, cols[from_root], gain[from_root])
    chain = ~from_root & (source != cols)
    source, target, gain = source[chain], cols[chain], gain[chain]
    if not target.size:
        return prices
    order = np.argsort(target, kind="stable")
    source, target, gain = source[order], target[order], gain[order]
    heads, first = np.unique(target, return_index=True)
    for _ in range(n_buddies + 1):
        offered = np.maximum.reduceat(prices[source] + gain, first)
        # A raise below `step` is rounding noise: ties make cycles that gain exactly 0.
        raised = offered > prices[heads] + step
        if not raised.any():
            return prices
        prices[heads[raised]] = offered[raised]
    return None


def _certified(
    buddy_of: np.ndarray,
    own: np.ndarray,
    prices: np.ndarray,
    shares: np.ndarray,
    capacity: np.ndarray,
    tolerance: float,
) -> bool:
    """The rest of the certificate: u, v >= 0, a buddy with a free place has price 0, and the
    dual objective equals the assignment's total (the pair-by-pair check was done by the caller)."""
    load = np.bincount(buddy_of[buddy_of >= 0], minlength=len(capacity))
    if (shares < -tolerance).any() or (prices[load < capacity] > tolerance).any():
        return False
    primal = float(own.sum())
    dual = float(np.maximum(shares, 0).sum() + (capacity * prices).sum())
    return abs(dual - primal) <= tolerance * (len(buddy_of) + len(capacity))


def _pairs(buddy_of: np.ndarray) -> list[tuple[int, int]]:
    return [(int(row), int(buddy_of[row])) for row in np.flatnonzero(buddy_of >= 0)]


def _assign_dense(values: np.ndarray, capacity: np.ndarray) -> list[tuple[int, int]]:
    """The Hungarian algorithm on the whole matrix, buddies repeated by capacity. Unusable
    pairs weigh 0: any partial assignment extends to a full one with zero-weight pairs, so the
    optimum over usable pairs is the optimum of this matrix."""
    columns = np.repeat(np.arange(len(capacity)), capacity)
    expanded = values[:, columns]
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


def assign_min_cost_flow_reference(
    scores: np.ndarray, allowed: np.ndarray, capacities
) -> list[tuple[int, int]]:
    """The same round as one min-cost flow over every usable pair (no pruning, no prices), by
    OR-tools: the independent reference that tests and `make bench` hold assign_optimal to.
    Integer costs: scores on a grid of 2^-30 of the largest."""
    n_rows, n_buddies = scores.shape
    rows, cols = np.nonzero(allowed & (scores > 0))
    scale = 2.0**30 / max(1.0, float(scores.max()))
    source, sink = n_rows + n_buddies, n_rows + n_buddies + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(
        np.concatenate([np.full(n_rows, source), rows, n_rows + np.arange(n_buddies), [source]]),
        np.concatenate([np.arange(n_rows), n_rows + cols, np.full(n_buddies, sink), [sink]]),
        np.concatenate(
            [np.ones(n_rows + len(rows), np.int64), np.asarray(capacities, np.int64), [n_rows]]
        ),
        np.concatenate(
            [
                np.zeros(n_rows, np.int64),
                -np.rint(scores[rows, cols] * scale).astype(np.int64),
                np.zeros(n_buddies + 1, np.int64),
            ]
        ),
    )
    flow.set_node_supply(source, n_rows)
    flow.set_node_supply(sink, -n_rows)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("the reference min-cost flow found no optimum")
    used = flow.flows(np.arange(n_rows, n_rows + len(rows))) > 0
    return list(zip(rows[used].tolist(), cols[used].tolist(), strict=True))


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
