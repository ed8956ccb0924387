"""Issue: a participant chooses a buddy on a phone."""

from buddyscheme.models import Role
from matching import services
from matching.models import Match, MatchState

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, menu, waiting_participant
from .conftest import log_in, screenshot, serious_accessibility_problems


def test_a_participant_chooses_a_buddy_on_a_phone(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    cooking, forms = menu(scheme, "Cooking on a budget", "Benefits forms")
    participant = waiting_participant(scheme, items=[cooking, forms], email="chooser@example.org")
    for number, items in enumerate([[cooking, forms], [cooking], [forms]]):
        buddy = cleared_buddy(scheme, items=items)
        buddy.user.profile.preferred_name = ["Amara", "Tom", "Priya"][number]
        buddy.user.profile.save()
    services.suggestion_offer_create(participant=participant, by=coordinator.user)

    page = open_phone()
    log_in(page, "chooser@example.org")
    # Home offers the choice straight away.
    page.get_by_role("link", name="See and choose").click()
    page.wait_for_url("**/choose/**")
    assert page.get_by_role("heading", name="Amara").is_visible()
    assert page.get_by_text(
        "Offers what is wanted: Benefits forms, Cooking on a budget"
    ).is_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "participant-choose")
    page.get_by_role("button", name="Choose Amara").click()
    page.wait_for_url("**/matches/")
    assert page.get_by_text("We will ask them and let you know").is_visible()
    match = Match.objects.get(participant=participant)
    assert match.state == MatchState.PROPOSED and match.buddy.user.profile.preferred_name == "Amara"
    assert serious_accessibility_problems(page) == []
