"""Issue 21, "Bad input": a ranking after speed-buddying with a bad place is refused whole; the
person's earlier ranking stays as it was (it was deleted, and half the new one saved)."""

import pytest

from buddyscheme.errors import DomainError
from matching import services
from matching.models import SpeedPreference

from ..factories import SchemeFactory, cleared_buddy, waiting_participant
from .test_speed_buddying import met, new_event


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [" x", "abc", "0", "-1", "3", "1.5", "²", "9" * 30])
def test_a_bad_place_changes_nothing(bad):
    scheme = SchemeFactory()
    buddy = cleared_buddy(scheme)
    first, second = waiting_participant(scheme), waiting_participant(scheme)
    event = new_event(scheme)
    met(event, [(first, buddy), (second, buddy)])
    services.speed_preferences_save(
        event=event, ranker=buddy, choices={first.pk: "1", second.pk: "2"}
    )

    with pytest.raises(DomainError, match="Places are numbers from 1 to 2"):
        services.speed_preferences_save(
            event=event, ranker=buddy, choices={first.pk: "veto", second.pk: bad}
        )

    saved = SpeedPreference.objects.filter(event=event, ranker=buddy)
    assert sorted((p.ranked_id, p.rank, p.veto) for p in saved) == [
        (first.pk, 1, False),
        (second.pk, 2, False),
    ]


@pytest.mark.django_db
def test_spaces_around_a_place_are_forgiven():
    scheme = SchemeFactory()
    buddy = cleared_buddy(scheme)
    participant = waiting_participant(scheme)
    event = new_event(scheme)
    met(event, [(participant, buddy)])
    services.speed_preferences_save(event=event, ranker=buddy, choices={participant.pk: " 1 "})
    assert SpeedPreference.objects.get(event=event, ranker=buddy).rank == 1
