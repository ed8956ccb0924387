"""A coordinator sets the scheme up on a phone, without the admin: every settings page passes
axe-core, a shift is added by choosing a name, and a venue past its review date is saved with a
warning."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import Role, TrainingModule
from matching.models import MenuCategory, MenuItem
from meetings.models import OnCallShift, Venue

from ..factories import MembershipFactory, SchemeFactory, enrol_totp, venue
from .conftest import log_in, screenshot, serious_accessibility_problems

PAGES = [
    ("/coordinator/settings/", "Settings"),
    ("/coordinator/settings/scheme/", "Scheme details"),
    ("/coordinator/settings/office-hours/", "Office hours"),
    ("/coordinator/settings/on-call/", "On-call rota"),
    ("/coordinator/settings/on-call/new/", "Add a shift"),
    ("/coordinator/settings/venues/", "Venues"),
    ("/coordinator/settings/venues/new/", "Add a venue"),
    ("/coordinator/settings/safety/", "Safety timings"),
    ("/coordinator/settings/training/", "Training modules"),
    ("/coordinator/settings/eligibility/", "Eligibility questions"),
    ("/coordinator/settings/menu/", "Menu"),
]


def test_a_coordinator_sets_the_scheme_up_on_a_phone(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme,
        role=Role.COORDINATOR,
        user__email="coordinator@example.org",
        user__first_name="Ruth",
    )
    MembershipFactory(scheme=scheme, role=Role.BUDDY, user__first_name="Amara")
    TrainingModule.objects.create(scheme=scheme, name="Induction")
    MenuItem.objects.create(
        category=MenuCategory.objects.create(scheme=scheme, name="Practical help"),
        name="Shopping",
    )
    venue(scheme, name="Corner café")
    secret = enrol_totp(coordinator.user)
    phone = open_phone()
    log_in(phone, "coordinator@example.org", totp_secret=secret)
    for url, heading in PAGES:
        phone.goto(url)
        expect(phone.get_by_role("heading", level=1)).to_contain_text(heading)
        assert serious_accessibility_problems(phone) == [], url
        # Nothing wider than the phone: no sideways scrolling.
        assert phone.evaluate("document.documentElement.scrollWidth") <= 375, url
    screenshot(phone, "phone-settings-menu")

    # A shift: the responder is chosen by name, the times in the scheme's local time.
    tomorrow = timezone.localdate() + timedelta(days=1)
    phone.goto(f"/coordinator/settings/on-call/new/?day={tomorrow:%Y-%m-%d}")
    phone.get_by_label("Who is on call").select_option(label="Amara (buddy)")
    phone.get_by_label("From (time)").fill("17:30")
    phone.get_by_label("Until (time)").fill("09:00")
    phone.get_by_role("button", name="Add shift").click()
    expect(phone.get_by_text("Shift added to the rota.")).to_be_visible()
    expect(phone.locator("main")).to_contain_text("Amara on call from 17:30")
    assert OnCallShift.objects.get().responder.user.first_name == "Amara"
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-settings-rota")

    # A venue whose assessment is already overdue: saved, with a warning that it cannot be booked.
    phone.goto("/coordinator/settings/venues/new/")
    phone.get_by_label("Name buddies see").fill("Library study room")
    phone.get_by_label("Community venue").check()
    phone.get_by_label("Review the risk assessment by").fill(
        f"{timezone.localdate() - timedelta(days=3):%Y-%m-%d}"
    )
    phone.get_by_role("button", name="Add venue").click()
    expect(phone.get_by_role("status").filter(has_text="has passed")).to_be_visible()
    expect(phone.get_by_text("Review overdue")).to_be_visible()
    assert Venue.objects.filter(name="Library study room").exists()
    screenshot(phone, "phone-settings-venues")
