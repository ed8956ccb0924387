"""Issue 16 on a phone: checking out opens the debrief, which saves itself as a draft; a name
in it is highlighted and corrected before it is sent; its action shows on the next meeting's
card. Then the coordinator reads it on a desktop and leaves feedback."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from matching.models import Match
from meetings import services
from meetings.models import Debrief, DebriefItem

from ..factories import book_meeting, cleared_buddy, enrol_totp, waiting_participant
from .conftest import log_in, screenshot, serious_accessibility_problems
from .test_buddy_day import in_two_days_at, scheme_with_cover

DESKTOP = {"viewport": {"width": 1366, "height": 900}}


def a_match(scheme):
    buddy = cleared_buddy(scheme, email="walker@example.org")
    buddy.user.first_name = "Martha"
    buddy.user.save()
    participant = waiting_participant(scheme, email="daniel@example.org")
    participant.user.first_name, participant.user.last_name = "Daniel", "Okonkwo"
    participant.user.save()
    return Match.objects.create(scheme=scheme, buddy=buddy, participant=participant, state="active")


def test_check_out_then_debrief_with_the_initials_warning_then_the_next_card(open_phone):
    scheme, _ = scheme_with_cover()
    match = a_match(scheme)
    now = timezone.now()
    meeting = book_meeting(match.buddy, now + timedelta(minutes=5), match=match, now=now)
    services.meeting_check_in(meeting=meeting, key="in", by=None, now=now)
    book_meeting(match.buddy, in_two_days_at(14, scheme), match=match, now=now)

    page = open_phone()
    log_in(page, "walker@example.org")
    page.get_by_role("button", name="I've left safely").click()
    expect(page.get_by_role("heading", name="Debrief")).to_be_visible()
    expect(page.get_by_text("You have checked out safely")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "debrief-form-375")

    # The five faces are a radio group with words; the draft saves itself as the buddy types.
    good = page.get_by_role("radio", name="Good", exact=True)
    page.locator(f'label[for="{good.get_attribute("id")}"]').click()  # the face the buddy taps
    expect(good).to_be_checked()
    page.get_by_label("What happened").fill("Daniel and I had coffee and did the housing form.")
    page.get_by_label("Action 1").fill("Phone the housing office")
    page.get_by_label("Who").first.select_option("participant")
    expect(page.locator("#draft-status")).to_contain_text("Draft saved at", timeout=10_000)
    assert Debrief.objects.get(meeting=meeting).state == "draft"

    page.get_by_role("button", name="Send to my coordinator").click()
    warning = page.locator("#identifying-details")
    expect(warning).to_contain_text("Check before you send: this may identify someone")
    expect(warning.locator("mark")).to_have_text("Daniel")
    expect(page.get_by_label("What happened")).to_have_value(
        "Daniel and I had coffee and did the housing form."
    )
    expect(page.get_by_label("Action 1")).to_have_value("Phone the housing office")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "debrief-initials-warning-375")
    assert Debrief.objects.get(meeting=meeting).state == "draft"

    page.get_by_label("What happened").fill("D.O. and I had coffee and did the housing form.")
    page.get_by_role("button", name="Send to my coordinator").click()
    expect(page.get_by_text("Your debrief has been sent")).to_be_visible()
    debrief = Debrief.objects.get(meeting=meeting)
    assert (debrief.state, debrief.how_it_went) == ("sent", 4)
    assert debrief.identifying_confirmed_at is None
    assert DebriefItem.objects.get(debrief=debrief).who == "participant"

    # The next meeting's card, before it starts, carries the action.
    coming_up = page.locator("#coming-up").locator("..")
    expect(coming_up).to_contain_text("From last time")
    expect(coming_up).to_contain_text("Action: Phone the housing office")
    expect(coming_up).to_contain_text("The person I support")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "today-carried-action-375")

    page.get_by_role("link", name="Read it").click()
    expect(page.get_by_role("heading", name="Debrief sent")).to_be_visible()
    expect(page.get_by_text("D.O. and I had coffee")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "debrief-sent-375")


def test_the_coordinator_reads_the_debrief_and_gives_feedback(open_phone):
    scheme, coordinator = scheme_with_cover()
    secret = enrol_totp(coordinator.user)
    match = a_match(scheme)
    now = timezone.now()
    meeting = book_meeting(match.buddy, now + timedelta(minutes=5), match=match, now=now)
    services.meeting_check_in(meeting=meeting, key="in", by=None, now=now)
    services.meeting_check_out(meeting=meeting, key="out", by=None, now=now)
    gifts = scheme.boundary_questions.first()
    debrief = services.debrief_send(
        meeting=meeting,
        content=services.DebriefContent(
            how_it_went=2,
            what_happened="D.O. offered me a present; I said no.",
            actions=[services.Action("Phone the housing office", "participant")],
            boundaries={gifts.pk: True},
        ),
        by=match.buddy.user,
    )

    page = open_phone(DESKTOP)
    log_in(page, "ruth@example.org", totp_secret=secret)
    page.goto("/coordinator/")
    expect(page.get_by_role("heading", name="Debriefs to follow up")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "dashboard-debriefs-1366")
    page.get_by_role("link", name=f"{match.buddy.user.display_name}, ").click()
    expect(page.get_by_role("heading", name="Debrief: ")).to_be_visible()
    page.get_by_label("Feedback for the buddy").fill("Thank you. Saying no was right.")
    page.get_by_role("button", name="Save feedback").click()
    expect(page.get_by_text("Feedback saved")).to_be_visible()
    page.get_by_label("Followed up").check()
    page.get_by_role("button", name="Save follow-up").click()
    expect(page.get_by_text("Follow-up saved")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "debrief-detail-1366")
    debrief.refresh_from_db()
    assert (debrief.follow_up, debrief.feedback) == ("done", "Thank you. Saying no was right.")
    page.goto(f"/matches/{match.pk}/")
    expect(page.get_by_role("heading", name="Actions and goals")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "match-actions-1366")
    page.get_by_role("link", name="All debriefs of this match").click()
    expect(page.get_by_role("cell", name="Martha")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "debrief-list-1366")

    # A debrief given by phone, recorded on the buddy's behalf (on a phone-sized screen too).
    second = book_meeting(match.buddy, now + timedelta(minutes=20), match=match, now=now)
    services.meeting_check_in(meeting=second, key="in-2", by=None, now=now + timedelta(minutes=1))
    services.meeting_check_out(meeting=second, key="out-2", by=None)
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(f"/coordinator/meetings/{second.pk}/debrief/")
    page.get_by_label("Given by phone").check()
    ok = page.get_by_role("radio", name="OK", exact=True)
    page.locator(f'label[for="{ok.get_attribute("id")}"]').click()
    page.get_by_label("What happened").fill("Quiet meeting; D.O. tired.")
    assert serious_accessibility_problems(page) == []
    screenshot(page, "debrief-record-375")
    page.get_by_role("button", name="Record the debrief").click()
    expect(page.get_by_text("Debrief recorded for the buddy")).to_be_visible()
    expect(page.get_by_text("Given by phone")).to_be_visible()
