"""Scoring a participant–buddy pair: pure functions over plain facts, no database.

`score_pair` explains one pair line by line; `score_matrix` computes the same numbers for
whole lists at once (numpy) for rounds. A test keeps the two in agreement.

Waiting time is one of the reasons: the same points for every buddy of one participant, so it
never changes which buddy suits someone best, only who goes first when places are short.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

import numpy as np

from .models import SLOT_HOURS, AgeBand, Gender, TravelRange

AGE_BANDS = [band.value for band in AgeBand]
GENDERS = [gender.value for gender in Gender]


@dataclass(frozen=True)
class Facts:
    """What matching knows about one person. Never a full address: a postcode district only."""

    membership_id: int
    items: frozenset[int] = frozenset()
    languages: frozenset[str] = frozenset()
    interests: frozenset[str] = frozenset()
    availability: int = 0
    district: str = ""
    travel_range: str = TravelRange.AREA
    gender: str = Gender.UNDISCLOSED
    age_band: str = ""
    wants_buddy_gender: str = ""
    wants_age_bands: frozenset[str] = frozenset()
    capacity: int = 1
    days_waiting: int = 0


@dataclass(frozen=True)
class Weights:
    per_shared_item: float = 10
    per_hour_of_shared_availability: float = 1
    same_district: float = 15
    same_area: float = 8
    within_travel_range: float = 5
    per_shared_language: float = 6
    per_shared_interest: float = 3
    preference_fit: float = 5
    per_week_waiting: float = 1

    @classmethod
    def from_settings(cls, matching_settings) -> Weights:
        return cls(**{f.name: getattr(matching_settings, f.name) for f in fields(cls)})


WAITING = "waiting"  # the one reason about the participant alone, not about the pair


@dataclass
class Reason:
    label: str
    points: float
    kind: str = ""

    def as_dict(self):
        line = {"label": self.label, "points": round(self.points, 2)}
        return {**line, "kind": self.kind} if self.kind else line

    @property
    def about_the_pair(self) -> bool:
        return self.kind != WAITING


@dataclass
class Suggestion:
    buddy: Facts
    total: float
    reasons: list[Reason] = field(default_factory=list)


def postcode_area(district: str) -> str:
    """SW9 -> SW, M14 -> M."""
    letters = ""
    for ch in district:
        if ch.isdigit():
            break
        letters += ch
    return letters


def distance_band(a: str, b: str) -> str:
    if not a or not b:
        return "unknown"
    if a == b:
        return "same district"
    if postcode_area(a) == postcode_area(b):
        return "same area"
    return "further"


def within_travel_range(buddy: Facts, participant: Facts) -> bool:
    band = distance_band(buddy.district, participant.district)
    if buddy.travel_range == TravelRange.ANYWHERE:
        return band != "unknown"
    if buddy.travel_range == TravelRange.AREA:
        return band in ("same district", "same area")
    return band == "same district"


def shared_hours(a: int, b: int) -> int:
    both = a & b
    return sum(hours for i, hours in enumerate(SLOT_HOURS) if both >> i & 1)


def preference_problems(participant: Facts, buddy: Facts) -> list[str]:
    """Declared preferences are hard constraints: a pair that breaks one is never suggested."""
    problems = []
    if participant.wants_buddy_gender and buddy.gender != participant.wants_buddy_gender:
        problems.append(f"asked for a {Gender(participant.wants_buddy_gender).label.lower()} buddy")
    if participant.wants_age_bands and buddy.age_band not in participant.wants_age_bands:
        problems.append("asked for a buddy in another age band")
    return problems


def preference_fits(participant: Facts) -> int:
    return int(bool(participant.wants_buddy_gender)) + int(bool(participant.wants_age_bands))


def score_pair(
    participant: Facts, buddy: Facts, weights: Weights, item_names: dict[int, str]
) -> Suggestion:
    reasons: list[Reason] = []
    shared_items = sorted(participant.items & buddy.items, key=lambda pk: item_names.get(pk, ""))
    if shared_items:
        names = ", ".join(item_names.get(pk, "?") for pk in shared_items)
        reasons.append(
            Reason(f"Offers what is wanted: {names}", weights.per_shared_item * len(shared_items))
        )
    hours = shared_hours(participant.availability, buddy.availability)
    if hours:
        reasons.append(
            Reason(
                f"Both free for {hours} hours a week",
                weights.per_hour_of_shared_availability * hours,
            )
        )
    band = distance_band(participant.district, buddy.district)
    if band == "same district":
        reasons.append(
            Reason(f"Same postcode district ({participant.district})", weights.same_district)
        )
    elif band == "same area":
        reasons.append(
            Reason(f"Same postcode area ({postcode_area(participant.district)})", weights.same_area)
        )
    if within_travel_range(buddy, participant):
        reasons.append(Reason("Within the buddy's travel range", weights.within_travel_range))
    languages = sorted(participant.languages & buddy.languages)
    if languages:
        reasons.append(
            Reason(
                f"Shared language: {', '.join(languages)}",
                weights.per_shared_language * len(languages),
            )
        )
    interests = sorted(participant.interests & buddy.interests)
    if interests:
        reasons.append(
            Reason(
                f"Shared interests: {', '.join(interests)}",
                weights.per_shared_interest * len(interests),
            )
        )
    fits = preference_fits(participant)
    if fits:
        reasons.append(Reason("Fits the preferences they gave", weights.preference_fit * fits))
    if participant.days_waiting and weights.per_week_waiting:
        days = participant.days_waiting
        reasons.append(
            Reason(
                f"Waiting for {days} day{'s' if days != 1 else ''}",
                weights.per_week_waiting * days / 7,
                WAITING,
            )
        )
    return Suggestion(buddy=buddy, total=sum(r.points for r in reasons), reasons=reasons)


# --- Whole lists at once ---------------------------------------------------------------------


def _membership_matrix(sets: list[frozenset], vocabulary: dict) -> np.ndarray:
    matrix = np.zeros((len(sets), max(len(vocabulary), 1)), dtype=np.float32)
    for row, values in enumerate(sets):
        for value in values:
            matrix[row, vocabulary[value]] = 1
    return matrix


def _shared_counts(left: list[frozenset], right: list[frozenset]) -> np.ndarray:
    if len(left) == 1:  # one person against many (suggestions): set sizes beat matrices
        only = left[0]
        return np.array([[len(only & other) for other in right]], dtype=np.float32)
    vocabulary = {
        value: i for i, value in enumerate(sorted({v for s in left + right for v in s}, key=str))
    }
    return _membership_matrix(left, vocabulary) @ _membership_matrix(right, vocabulary).T


def _slots(people: list[Facts]) -> np.ndarray:
    bits = np.array([p.availability for p in people], dtype=np.int64)[:, None]
    return ((bits >> np.arange(len(SLOT_HOURS))) & 1).astype(np.float32)


def _codes(values: list[str]) -> np.ndarray:
    vocabulary: dict[str, int] = {}
    return np.array(
        [vocabulary.setdefault(v, len(vocabulary)) if v else -1 for v in values], dtype=np.int64
    )


def waiting_points(participants: list[Facts], weights: Weights) -> np.ndarray:
    """Each participant's points for time waited, as in `score_pair` (a column, one per row)."""
    days = np.array([p.days_waiting for p in participants], dtype=np.float64)
    return (weights.per_week_waiting * days / 7)[:, None]


def score_matrix(
    participants: list[Facts], buddies: list[Facts], weights: Weights
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (participants × buddies) and a mask of pairs the declared preferences allow."""
    compatible, allowed = _compatibility_matrix(participants, buddies, weights)
    return compatible + waiting_points(participants, weights), allowed


def round_scores(
    participants: list[Facts], buddies: list[Facts], weights: Weights
) -> tuple[np.ndarray, np.ndarray]:
    """What a round maximises: the full scores, and the pairs a round may make.

    A round may pair people only when the declared preferences allow it and they have
    something in common: waiting long raises a participant's priority, but never makes a pair
    with nothing in common worth making.
    """
    compatible, allowed = _compatibility_matrix(participants, buddies, weights)
    return compatible + waiting_points(participants, weights), allowed & (compatible > 0)


def _compatibility_matrix(
    participants: list[Facts], buddies: list[Facts], weights: Weights
) -> tuple[np.ndarray, np.ndarray]:
    """Every reason but waiting, and the preference mask."""
    shared_items = _shared_counts([p.items for p in participants], [b.items for b in buddies])
    hours = (_slots(participants) * np.array(SLOT_HOURS, dtype=np.float32)) @ _slots(buddies).T
    languages = _shared_counts([p.languages for p in participants], [b.languages for b in buddies])
    interests = _shared_counts([p.interests for p in participants], [b.interests for b in buddies])

    districts = _codes([p.district for p in participants] + [b.district for b in buddies])
    areas = _codes(
        [postcode_area(p.district) for p in participants]
        + [postcode_area(b.district) for b in buddies]
    )
    p_district, b_district = (
        districts[: len(participants), None],
        districts[None, len(participants) :],
    )
    p_area, b_area = areas[: len(participants), None], areas[None, len(participants) :]
    known = (p_district >= 0) & (b_district >= 0)
    same_district = known & (p_district == b_district)
    same_area = known & ~same_district & (p_area == b_area)
    travel = np.array([b.travel_range for b in buddies])[None, :]
    within = (
        (travel == TravelRange.ANYWHERE) & known
        | (travel == TravelRange.AREA) & (same_district | same_area)
        | (travel == TravelRange.DISTRICT) & same_district
    )

    fits = np.array([preference_fits(p) for p in participants], dtype=np.float32)[:, None]
    compatible = (
        weights.per_shared_item * shared_items
        + weights.per_hour_of_shared_availability * hours
        + weights.same_district * same_district
        + weights.same_area * same_area
        + weights.within_travel_range * within
        + weights.per_shared_language * languages
        + weights.per_shared_interest * interests
        + weights.preference_fit * fits
    ).astype(np.float64)
    return compatible, preferences_allow(participants, buddies)


def preferences_allow(participants: list[Facts], buddies: list[Facts]) -> np.ndarray:
    """(participants × buddies): True where no declared preference is broken."""
    wanted_gender = np.array(
        [GENDERS.index(p.wants_buddy_gender) if p.wants_buddy_gender else -1 for p in participants]
    )
    buddy_gender = np.array([GENDERS.index(b.gender) for b in buddies])
    wanted_ages = np.array(
        [sum(1 << AGE_BANDS.index(a) for a in p.wants_age_bands) for p in participants],
        dtype=np.int64,
    )
    buddy_age = np.array(
        [AGE_BANDS.index(b.age_band) if b.age_band else -1 for b in buddies], dtype=np.int64
    )
    gender_ok = (wanted_gender[:, None] == -1) | (wanted_gender[:, None] == buddy_gender[None, :])
    age_ok = (wanted_ages[:, None] == 0) | (
        (buddy_age[None, :] >= 0)
        & ((wanted_ages[:, None] >> np.maximum(buddy_age, 0)[None, :]) & 1).astype(bool)
    )
    return gender_ok & age_ok
