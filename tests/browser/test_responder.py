"""Issue: an on-call buddy who is not a coordinator opens the link in the alert message on their
phone, signs in, acknowledges and resolves the alert choosing what happened; the coordinator's
board shows the same alert with the venue's address."""

import re
from datetime import timedelta

from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Role
from buddyscheme.notifications import notifications_deliver
from meetings import services
from meetings.models import OnCallShift

from ..factories import PASSWORD, MembershipFactory, SchemeFactory, cleared_buddy, enrol_totp, venue
from .conftest import log_in, screenshot, serious_accessibility_problems

ADDRESS = "Flat 3, 12 Mare Street\nLondon E8 1HR"


def test_an_on_call_buddy_acts_on_an_alert_from_the_link_in_the_message(
    open_phone, live_server, settings
):
    settings.SITE_URL = live_server.url
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="c@example.org", user__first_name="Cora"
    )
    secret = enrol_totp(coordinator.user)
    night = MembershipFactory(
        scheme=scheme,
        role=Role.BUDDY,
        is_on_call=True,
        user__email="night@example.org",
        user__first_name="Nadia",
    )
    now = timezone.now()
    OnCallShift.objects.create(
        scheme=scheme,
        responder=night,
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(hours=5),
    )
    buddy = cleared_buddy(scheme, email="walker@example.org")
    buddy.user.first_name = "Samira"
    buddy.user.save()
    buddy.user.profile.phone = "07700 900456"
    buddy.user.profile.emergency_contact_name = "Jo"
    buddy.user.profile.emergency_contact_phone = "07700 900789"
    buddy.user.profile.save()
    place = venue(scheme, name="Corner café", area="Hackney", address=ADDRESS)
    start = now - timedelta(minutes=30)
    meeting = services.meeting_book(
        buddy=buddy,
        venue=place,
        planned_start=start,
        planned_end=start + timedelta(hours=1),
        purpose="Coffee",
        by=None,
        now=start - timedelta(minutes=1),
    )
    services.meeting_check_in(meeting=meeting, key="in", by=None, now=start)
    alert = services.meeting_help(meeting=meeting, key="help", by=None, now=now)
    notifications_deliver()  # what the worker does (it may have done it already)
    message = next(m for m in mail.outbox if m.to == ["night@example.org"])
    assert "Samira" in message.body and "Mare Street" not in message.body
    link = re.search(r"http\S+/r/\S+", message.body).group(0)

    # The coordinator's board, on a laptop: the alert with the venue's address.
    laptop = open_phone({"viewport": {"width": 1366, "height": 900}})
    log_in(laptop, "c@example.org", totp_secret=secret)
    laptop.goto("/coordinator/board/")
    expect(laptop.get_by_text("Level 3: Help requested")).to_be_visible()
    expect(laptop.get_by_text("12 Mare Street").first).to_be_visible()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "board-help-alert-1366")

    # The on-call buddy, on their phone: the link asks them to sign in first.
    page = open_phone()
    page.goto(link)
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/r/"))
    expect(page.get_by_text("Mare Street")).to_have_count(0)
    page.fill("input[name=login]", "night@example.org")
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page).to_have_url(re.compile(rf"/alerts/{alert.pk}/$"))
    expect(page.get_by_role("heading", name="Samira asked for help")).to_be_visible()
    expect(page.get_by_text("12 Mare Street")).to_be_visible()
    expect(page.get_by_role("link", name="Call Samira: 07700 900456")).to_have_attribute(
        "href", "tel:07700900456"
    )
    assert serious_accessibility_problems(page) == []
    screenshot(page, "responder-phone-open")

    page.get_by_role("button", name="Acknowledge: I am dealing with it").click()
    expect(page.get_by_text("Acknowledged: escalation has stopped")).to_be_visible()
    expect(page.get_by_text("by Nadia at")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "responder-phone-acknowledged")

    # Nothing is chosen for them: they say what happened.
    expect(page.get_by_role("radio", name="Safe")).not_to_be_checked()
    page.locator(f"label[for=outcome-{alert.pk}-safe]").click()
    page.get_by_label("Notes (initials only)").fill("Spoke to SA, all well")
    page.get_by_role("button", name="Resolve").click()
    expect(page.get_by_text("Resolved: safe.")).to_be_visible()
    screenshot(page, "responder-phone-resolved")
    alert.refresh_from_db()
    assert (alert.outcome, alert.resolved_by, alert.acknowledged_by) == (
        "safe",
        night.user,
        night.user,
    )
