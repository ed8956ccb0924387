import random
from dataclasses import replace

import numpy as np

from matching.models import SLOT_HOURS, slot_index
from matching.scoring import (
    Facts,
    Weights,
    distance_band,
    preference_problems,
    round_scores,
    score_matrix,
    score_pair,
)

MONDAY_MORNING, MONDAY_EVENING = slot_index(0, 0), slot_index(0, 2)


def test_reasons_are_explained_line_by_line_and_add_up():
    participant = Facts(
        1,
        items=frozenset({1, 2, 3}),
        languages=frozenset({"english", "shona"}),
        interests=frozenset({"music"}),
        availability=1 << MONDAY_MORNING | 1 << MONDAY_EVENING,
        district="SW9",
        wants_buddy_gender="woman",
    )
    buddy = Facts(
        2,
        items=frozenset({2, 3, 4}),
        languages=frozenset({"shona"}),
        interests=frozenset({"music", "films"}),
        availability=1 << MONDAY_EVENING,
        district="SW2",
        travel_range="area",
        gender="woman",
    )
    result = score_pair(participant, buddy, Weights(), {2: "Cooking", 3: "Benefits forms"})
    lines = {r.label: r.points for r in result.reasons}
    assert lines == {
        "Offers what is wanted: Benefits forms, Cooking": 20,
        "Both free for 4 hours a week": 4,
        "Same postcode area (SW)": 8,
        "Within the buddy's travel range": 5,
        "Shared language: shona": 6,
        "Shared interests: music": 3,
        "Fits the preferences they gave": 5,
    }
    assert result.total == sum(lines.values()) == 51


def test_weights_change_the_score():
    participant, buddy = Facts(1, items=frozenset({1})), Facts(2, items=frozenset({1}))
    assert score_pair(participant, buddy, Weights(per_shared_item=25), {}).total == 25


def test_distance_bands_use_postcode_districts_only():
    assert distance_band("SW9", "SW9") == "same district"
    assert distance_band("SW9", "SW1A") == "same area"
    assert distance_band("SW9", "S10") == "further"
    assert distance_band("", "SW9") == "unknown"


def test_declared_preferences_are_hard_constraints():
    wants_woman_under_35 = Facts(
        1, wants_buddy_gender="woman", wants_age_bands=frozenset({"18_24", "25_34"})
    )
    assert (
        preference_problems(wants_woman_under_35, Facts(2, gender="woman", age_band="25_34")) == []
    )
    assert (
        len(preference_problems(wants_woman_under_35, Facts(3, gender="man", age_band="25_34")))
        == 1
    )
    assert (
        len(preference_problems(wants_woman_under_35, Facts(4, gender="woman", age_band=""))) == 1
    )


def random_facts(rng, pk, participant):
    return Facts(
        pk,
        items=frozenset(rng.sample(range(12), rng.randint(0, 4))),
        languages=frozenset(
            rng.sample(["english", "french", "shona", "polish"], rng.randint(0, 2))
        ),
        interests=frozenset(rng.sample(["music", "films", "walking"], rng.randint(0, 2))),
        availability=rng.getrandbits(len(SLOT_HOURS)),
        district=rng.choice(["", "SW9", "SW2", "SE5", "N1", "M14"]),
        travel_range=rng.choice(["district", "area", "anywhere"]),
        gender=rng.choice(["woman", "man", "non_binary", "undisclosed"]),
        age_band=rng.choice(["", "18_24", "25_34", "35_49", "50_64", "65_plus"]),
        wants_buddy_gender=rng.choice(["", "", "woman", "man"]) if participant else "",
        wants_age_bands=frozenset(rng.sample(["25_34", "35_49", "50_64"], rng.randint(0, 2)))
        if participant
        else frozenset(),
    )


def test_the_matrix_agrees_with_the_explained_score_for_every_pair():
    rng = random.Random(5)
    participants = [random_facts(rng, i, True) for i in range(40)]
    buddies = [random_facts(rng, 100 + i, False) for i in range(25)]
    weights = Weights(per_shared_item=7, same_area=3.5)
    scores, allowed = score_matrix(participants, buddies, weights)
    for row, participant in enumerate(participants):
        for col, buddy in enumerate(buddies):
            assert np.isclose(scores[row, col], score_pair(participant, buddy, weights, {}).total)
            assert allowed[row, col] == (not preference_problems(participant, buddy))


def test_waiting_time_is_a_reason_of_its_own():
    participant = Facts(1, items=frozenset({1}), days_waiting=101)
    buddy = Facts(2, items=frozenset({1}))
    result = score_pair(participant, buddy, Weights(per_week_waiting=1), {1: "Cooking"})
    lines = {r.label: r.as_dict()["points"] for r in result.reasons}
    assert lines == {"Offers what is wanted: Cooking": 10, "Waiting for 101 days": 14.43}
    assert result.total == 10 + 101 / 7
    # The scheme sets the weight; a scheme that does not count waiting shows no line for it.
    unweighted = score_pair(participant, buddy, Weights(per_week_waiting=0), {1: "Cooking"})
    assert [r.label for r in unweighted.reasons] == ["Offers what is wanted: Cooking"]
    assert score_pair(Facts(3), buddy, Weights(), {}).reasons == []


def test_the_round_matrix_agrees_with_the_explanation_and_needs_something_in_common():
    rng = random.Random(11)
    participants = [
        replace(random_facts(rng, i, True), days_waiting=rng.randint(0, 400)) for i in range(40)
    ]
    buddies = [random_facts(rng, 100 + i, False) for i in range(25)]
    weights = Weights(per_shared_item=7, same_area=3.5, per_week_waiting=2)
    scores, allowed = round_scores(participants, buddies, weights)
    for row, participant in enumerate(participants):
        for col, buddy in enumerate(buddies):
            explained = score_pair(participant, buddy, weights, {})
            assert np.isclose(scores[row, col], explained.total)
            in_common = any(r.about_the_pair for r in explained.reasons)
            assert allowed[row, col] == (not preference_problems(participant, buddy) and in_common)
