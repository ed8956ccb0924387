"""Issue 18, endings: a participant on a 375 px phone says "I want to stop" (we are not getting
on); it reaches the coordinator at once, shows on the dashboard, and the coordinator's ending
flow starts from it with the type chosen, asks its questions, confirms and marks it handled.
A buddy has the same way to stop, and "We have become friends", on Today."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Notification, Role
from matching import services as matching_services
from matching.models import EndingType, Match, MatchState, PairBlock, StopRequest

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    cleared_buddy,
    enrol_totp,
    sign_all,
    waiting_participant,
)
from .conftest import log_in, screenshot, serious_accessibility_problems

LAPTOP = {"viewport": {"width": 1366, "height": 900}}


def _active_match():
    scheme = SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__first_name="Ruth", user__last_name="Morgan"
    )
    participant = waiting_participant(scheme, email="grace@example.org")
    buddy = cleared_buddy(scheme, email="amara@example.org")
    buddy.user.first_name = "Amara"
    buddy.user.save()
    match = matching_services.match_create(
        participant=participant, buddy=buddy, by=coordinator.user, state=MatchState.PROPOSED
    )
    matching_services.match_accept(match=match, by_membership=participant)
    matching_services.match_accept(match=match, by_membership=buddy)
    matching_services.match_introduce(
        match=match, intro_at=timezone.now() - timedelta(days=7), by=None
    )
    sign_all(match)
    match = matching_services.match_activate(match=match, by=coordinator.user)
    return match, coordinator, enrol_totp(coordinator.user)


def test_a_participants_stop_reaches_the_coordinator_who_ends_the_match(open_phone):
    match, coordinator, secret = _active_match()
    phone = open_phone()
    log_in(phone, "grace@example.org")
    phone.goto("/me/")
    phone.get_by_role("link", name="I want to stop").click()
    expect(phone.get_by_text("You do not need to give a reason.")).to_be_visible()
    phone.get_by_label("We are not getting on").check()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-participant-stop-reason")
    phone.get_by_role("button", name="Yes, I want to stop").click()
    expect(phone.get_by_text("Thank you for telling us.")).to_be_visible()
    stop_request = StopRequest.objects.get()
    assert stop_request.reason == "not_getting_on"
    told = Notification.objects.filter(template="participant_stop", recipient=coordinator.user)
    assert told.exists()

    laptop = open_phone(LAPTOP)
    log_in(laptop, coordinator.user.email, totp_secret=secret)
    laptop.goto("/coordinator/")
    section = laptop.locator("section", has=laptop.get_by_role("heading", name="Endings to handle"))
    expect(section.get_by_text("Asked to stop: “We are not getting on”")).to_be_visible()
    screenshot(laptop, "dashboard-endings-1366")
    section.get_by_role("link", name="End the match").click()
    expect(laptop.get_by_role("heading", name="End this match")).to_be_visible()
    expect(laptop.get_by_label("The match broke down")).to_be_checked()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "ending-start-1366")
    laptop.get_by_role("button", name="Next: the questions").click()
    laptop.get_by_label("What went wrong").fill("They did not get on; nobody's fault.")
    laptop.get_by_label("Offer the participant a new buddy").check()
    laptop.get_by_label("Never re-match this pair").check()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "ending-breakdown-1366")
    laptop.get_by_role("button", name="Next: check what will happen").click()
    expect(laptop.get_by_text("This pair will never be matched again.")).to_be_visible()
    screenshot(laptop, "ending-confirm-1366")
    laptop.get_by_role("button", name="Confirm: end the match").click()
    expect(laptop.get_by_text("The match has ended.")).to_be_visible()
    expect(laptop.get_by_text("How it ended: The match broke down")).to_be_visible()

    match = Match.objects.get(pk=match.pk)
    assert (match.state, match.ending_type) == (MatchState.ENDED, EndingType.BREAKDOWN)
    assert PairBlock.objects.filter(buddy=match.buddy, participant=match.participant).exists()
    stop_request.refresh_from_db()
    assert stop_request.handled_at is not None
    assert Notification.objects.filter(
        template="rematch_offer", recipient=match.participant.user
    ).exists()
    laptop.goto("/coordinator/")
    expect(laptop.get_by_text("Asked to stop")).to_have_count(0)
    expect(laptop.get_by_text("One-to-one after an ending (the match broke down)")).to_be_visible()


def test_a_buddy_can_stop_or_say_they_are_friends_from_today(open_phone):
    match, coordinator, _ = _active_match()
    phone = open_phone()
    log_in(phone, "amara@example.org")
    phone.goto("/today/")
    expect(phone.get_by_role("heading", name="Want to stop?")).to_be_visible()
    screenshot(phone, "phone-buddy-today-stop")
    phone.get_by_role("link", name="We have become friends").click()
    expect(phone.get_by_role("heading", name="We have become friends")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-buddy-friends")
    phone.get_by_role("button", name="Tell my coordinator").click()
    expect(phone.get_by_text("You told us on")).to_be_visible()
    assert Notification.objects.filter(template="friendship_told").exists()
    phone.goto("/today/")
    phone.get_by_role("link", name="I want to stop").click()
    assert serious_accessibility_problems(phone) == []
    phone.get_by_role("button", name="Yes, I want to stop").click()
    expect(phone.get_by_text("Thank you for telling us.")).to_be_visible()
    assert Notification.objects.filter(template="buddy_stop").exists()
