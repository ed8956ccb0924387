"""Rounds are optimal and never break a constraint; speed-buddying is stable and honours vetoes."""

import itertools
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.assignment import (
    assign_greedy,
    assign_min_cost_flow_reference,
    assign_optimal,
    stable_match,
    total,
)
from matching.scoring import Facts, Weights, preference_problems, round_scores, score_pair


def brute_force_best(scores, allowed, capacities):
    """Try every way of giving each participant one buddy or none."""
    n_participants, n_buddies = scores.shape
    best = 0.0
    for choice in itertools.product(range(-1, n_buddies), repeat=n_participants):
        used = [0] * n_buddies
        value = 0.0
        feasible = True
        for row, col in enumerate(choice):
            if col < 0:
                continue
            used[col] += 1
            if used[col] > capacities[col] or not allowed[row, col] or scores[row, col] <= 0:
                feasible = False
                break
            value += scores[row, col]
        if feasible:
            best = max(best, value)
    return best


def check_constraints(pairs, allowed, capacities, n_participants):
    rows = [r for r, _ in pairs]
    assert len(rows) == len(set(rows)), "a participant got two buddies"
    assert all(0 <= r < n_participants for r in rows)
    for col, capacity in enumerate(capacities):
        assert sum(1 for _, c in pairs if c == col) <= capacity, "a buddy is over capacity"
    assert all(allowed[r, c] for r, c in pairs), "a forbidden pair was assigned"


def test_optimal_equals_brute_force_on_small_random_cases():
    rng = random.Random(20261123)
    for _ in range(300):
        n_participants, n_buddies = rng.randint(1, 5), rng.randint(1, 4)
        scores = np.array(
            [
                [rng.choice([0, 1, 2, 3, 5, 8, 13]) for _ in range(n_buddies)]
                for _ in range(n_participants)
            ],
            dtype=float,
        )
        allowed = np.array(
            [[rng.random() > 0.25 for _ in range(n_buddies)] for _ in range(n_participants)]
        )
        capacities = [rng.randint(0, 3) for _ in range(n_buddies)]
        pairs = assign_optimal(scores, allowed, capacities)
        check_constraints(pairs, allowed, capacities, n_participants)
        assert total(scores, pairs) == brute_force_best(scores, allowed, capacities)


def test_optimal_beats_greedy_where_greedy_is_short_sighted():
    # Greedy takes the 10 first and strands the second participant; optimal gives 9 + 9.
    scores = np.array([[10.0, 9.0], [9.0, 0.0]])
    allowed = np.ones_like(scores, dtype=bool)
    assert total(scores, assign_greedy(scores, allowed, [1, 1])) == 10
    assert total(scores, assign_optimal(scores, allowed, [1, 1])) == 18


def test_greedy_respects_the_same_constraints():
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 20, size=(30, 8)).astype(float)
    allowed = rng.random((30, 8)) > 0.3
    capacities = list(rng.integers(0, 4, size=8))
    check_constraints(assign_greedy(scores, allowed, capacities), allowed, capacities, 30)


def test_empty_inputs():
    assert assign_optimal(np.zeros((0, 0)), np.zeros((0, 0), dtype=bool), []) == []
    assert assign_optimal(np.ones((2, 1)), np.ones((2, 1), dtype=bool), [0]) == []


@st.composite
def speed_events(draw):
    participants = list(range(draw(st.integers(1, 7))))
    buddies = list(range(100, 100 + draw(st.integers(1, 5))))
    met = {(p, b) for p in participants for b in buddies if draw(st.booleans())}
    participant_prefs, buddy_prefs = {}, {b: [] for b in buddies}
    vetoes = set()
    for p in participants:
        ranked = [b for b in buddies if (p, b) in met]
        ranked = draw(st.permutations(ranked))
        vetoed = {b for b in ranked if draw(st.integers(0, 5)) == 0}
        vetoes |= {(p, b) for b in vetoed}
        participant_prefs[p] = [b for b in ranked if b not in vetoed]
    for b in buddies:
        ranked = draw(st.permutations([p for p in participants if (p, b) in met]))
        vetoed = {p for p in ranked if draw(st.integers(0, 5)) == 0}
        vetoes |= {(p, b) for p in vetoed}
        buddy_prefs[b] = [p for p in ranked if p not in vetoed]
    capacities = {b: draw(st.integers(0, 3)) for b in buddies}
    return participant_prefs, buddy_prefs, capacities, vetoes, met


@settings(max_examples=300, deadline=None)
@given(speed_events())
def test_speed_buddying_is_stable_within_capacity_and_honours_vetoes(event):
    participant_prefs, buddy_prefs, capacities, vetoes, met = event
    result = stable_match(participant_prefs, buddy_prefs, capacities)

    for p, b in result.items():
        assert (p, b) in met, "matched people who never met"
        assert (p, b) not in vetoes, "a veto was ignored"
        assert b in participant_prefs[p] and p in buddy_prefs[b]
    for b, capacity in capacities.items():
        assert sum(1 for v in result.values() if v == b) <= capacity

    def acceptable(p, b):
        return b in participant_prefs[p] and p in buddy_prefs[b]

    for p, prefs in participant_prefs.items():
        for b in prefs:
            if not acceptable(p, b) or result.get(p) == b:
                continue
            current = result.get(p)
            participant_prefers = current is None or prefs.index(b) < prefs.index(current)
            if not participant_prefers:
                continue
            holding = [q for q, v in result.items() if v == b]
            buddy_prefers = len(holding) < capacities[b] or any(
                buddy_prefs[b].index(p) < buddy_prefs[b].index(q) for q in holding
            )
            assert not buddy_prefers, f"blocking pair ({p}, {b})"


# --- Rounds on the full score (compatibility and waiting time) ------------------------------


@st.composite
def round_instances(draw):
    """A few participants and buddies with random menus, areas, preferences and waits."""
    items = st.frozensets(st.integers(0, 3), max_size=3)
    districts = st.sampled_from(["", "SW9", "SW2", "N1"])
    participants = [
        Facts(
            i,
            items=draw(items),
            district=draw(districts),
            availability=draw(st.integers(0, 7)),
            wants_buddy_gender=draw(st.sampled_from(["", "", "woman", "man"])),
            days_waiting=draw(st.integers(0, 400)),
        )
        for i in range(draw(st.integers(1, 4)))
    ]
    buddies = [
        Facts(
            100 + j,
            items=draw(items),
            district=draw(districts),
            availability=draw(st.integers(0, 7)),
            travel_range=draw(st.sampled_from(["district", "area", "anywhere"])),
            gender=draw(st.sampled_from(["woman", "man", "undisclosed"])),
        )
        for j in range(draw(st.integers(1, 3)))
    ]
    weights = Weights(
        per_shared_item=draw(st.sampled_from([0, 3, 10])),
        same_district=draw(st.sampled_from([0, 15])),
        per_hour_of_shared_availability=draw(st.sampled_from([0, 1])),
        per_week_waiting=draw(st.sampled_from([0, 0.5, 1, 4])),
    )
    capacities = [draw(st.integers(0, 2)) for _ in buddies]
    return participants, buddies, weights, capacities


def brute_force_from_explanations(participants, buddies, weights, capacities):
    """The best total over every assignment, each pair valued by its line-by-line explanation
    and allowed only when no declared preference is broken and they have something in common."""
    value = {}
    for row, participant in enumerate(participants):
        for col, buddy in enumerate(buddies):
            explained = score_pair(participant, buddy, weights, {})
            in_common = sum(r.points for r in explained.reasons if r.about_the_pair)
            if not preference_problems(participant, buddy) and in_common > 0:
                value[row, col] = explained.total
    best = 0.0
    for choice in itertools.product(range(-1, len(buddies)), repeat=len(participants)):
        used = [0] * len(buddies)
        if any(col >= 0 and (row, col) not in value for row, col in enumerate(choice)):
            continue
        for col in choice:
            if col >= 0:
                used[col] += 1
        if all(u <= c for u, c in zip(used, capacities, strict=True)):
            best = max(best, sum(value[r, c] for r, c in enumerate(choice) if c >= 0))
    return best


@settings(max_examples=300, deadline=None)
@given(round_instances())
def test_a_round_is_optimal_for_the_score_with_waiting_time(instance):
    participants, buddies, weights, capacities = instance
    scores, allowed = round_scores(participants, buddies, weights)
    pairs = assign_optimal(scores, allowed, capacities)
    check_constraints(pairs, allowed, capacities, len(participants))
    assert total(scores, pairs) == pytest.approx(
        brute_force_from_explanations(participants, buddies, weights, capacities), abs=1e-6
    )


# --- Agreement with an independent solver on medium instances -------------------------------


def min_cost_flow_total(scores, allowed, capacities):
    """The independent reference's total (matching.assignment.assign_min_cost_flow_reference)."""
    return total(scores, assign_min_cost_flow_reference(scores, allowed, capacities))


def medium_instance(seed):
    """Scores on the grid real rounds use (whole points plus weeks waited, in sevenths) or
    arbitrary floats; places short or plentiful; some pairs forbidden; some buddies full."""
    rng = np.random.default_rng(seed)
    n_participants, n_buddies = int(rng.integers(50, 400)), int(rng.integers(10, 150))
    if seed % 2:
        scores = rng.integers(0, 60, size=(n_participants, n_buddies)).astype(float)
        scores += (rng.integers(0, 365, size=n_participants) / 7)[:, None]
    else:
        scores = rng.random((n_participants, n_buddies)) * 100
    allowed = rng.random((n_participants, n_buddies)) > rng.uniform(0, 0.9)
    capacities = rng.integers(0, 4, size=n_buddies)
    return scores, allowed, capacities


@pytest.mark.parametrize("start", ["small round", "large round"])
@pytest.mark.parametrize("seed", range(12))
def test_optimal_agrees_with_or_tools_min_cost_flow_on_medium_instances(seed, start, monkeypatch):
    """Whichever first candidate set the round's size picks (SMALL_ROUND_CELLS)."""
    from matching import assignment

    if start == "large round":
        monkeypatch.setattr(assignment, "SMALL_ROUND_CELLS", 0)
    scores, allowed, capacities = medium_instance(seed)
    pairs = assign_optimal(scores, allowed, list(capacities))
    check_constraints(pairs, allowed, capacities, scores.shape[0])
    assert total(scores, pairs) == pytest.approx(
        min_cost_flow_total(scores, allowed, capacities), rel=1e-9, abs=1e-6
    )


@pytest.mark.parametrize("seed", range(4))
def test_few_candidates_still_reach_the_optimum_through_the_certificate(seed, monkeypatch):
    """One candidate per participant is far too few: the prices must pull in the rest."""
    from matching import assignment

    monkeypatch.setattr(assignment, "FIRST_CANDIDATES", 1)
    monkeypatch.setattr(assignment, "SMALL_ROUND_FIRST_CANDIDATES", 1)
    monkeypatch.setattr(assignment, "REPRICED_CANDIDATES", 1)
    monkeypatch.setattr(assignment, "MAX_SPARSE_SOLVES", 200)
    dense = []
    monkeypatch.setattr(assignment, "_assign_dense", lambda *a: dense.append(1) or [])
    scores, allowed, capacities = medium_instance(seed)
    pairs = assign_optimal(scores, allowed, list(capacities))
    assert not dense, "the certificate was never met"
    assert total(scores, pairs) == pytest.approx(
        min_cost_flow_total(scores, allowed, capacities), rel=1e-9, abs=1e-6
    )


def test_the_dense_fallback_is_optimal_too(monkeypatch):
    from matching import assignment

    monkeypatch.setattr(assignment, "MAX_SPARSE_SOLVES", 0)
    scores, allowed, capacities = medium_instance(3)
    pairs = assign_optimal(scores, allowed, list(capacities))
    check_constraints(pairs, allowed, capacities, scores.shape[0])
    assert total(scores, pairs) == pytest.approx(
        min_cost_flow_total(scores, allowed, capacities), rel=1e-9, abs=1e-6
    )
