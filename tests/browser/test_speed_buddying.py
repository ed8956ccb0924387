"""Issue 14, point 7: after a speed-buddying event, a participant finds the ranking page from
their home page on a phone and gives their choices."""

from django.utils import timezone

from matching import services
from matching.models import SpeedEvent, SpeedPreference

from ..factories import SchemeFactory, cleared_buddy, waiting_participant
from .conftest import log_in, screenshot, serious_accessibility_problems


def test_rank_the_people_you_met_from_home_on_a_phone(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    participant = waiting_participant(scheme, email="ranker@example.org")
    buddies = [cleared_buddy(scheme) for _ in range(2)]
    for buddy, name in zip(buddies, ["Amara", "Tom"], strict=True):
        buddy.user.profile.preferred_name = name
        buddy.user.profile.save()
    event = SpeedEvent.objects.create(
        scheme=scheme, name="Spring mixer", held_on=timezone.localdate()
    )
    for buddy in buddies:
        services.speed_meeting_record(event=event, buddy=buddy, participant=participant)

    page = open_phone()
    log_in(page, "ranker@example.org")
    card = page.get_by_role("region", name="Rank the people you met")
    assert card.is_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "participant-home-rank-card")
    card.get_by_role("link", name="Put them in order").click()
    page.wait_for_url(f"**/events/{event.pk}/rank/")
    assert page.get_by_role("heading", name="Who would you like to be matched with?").is_visible()
    page.get_by_role("group", name="Amara").get_by_label("Your choice").select_option("2")
    page.get_by_role("group", name="Tom").get_by_label("Your choice").select_option("1")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "participant-rank")
    page.get_by_role("button", name="Save my choices").click()
    page.wait_for_url("**/matches/")
    assert page.get_by_text("Your choices are saved").is_visible()
    assert page.get_by_role("link", name="Change my choices").is_visible()
    ranks = dict(
        SpeedPreference.objects.filter(event=event, ranker=participant).values_list(
            "ranked__user__profile__preferred_name", "rank"
        )
    )
    assert ranks == {"Amara": 2, "Tom": 1}
