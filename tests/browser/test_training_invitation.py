"""Issue 15 on a phone: a buddy still in training sees the invitation on Today, opens their
training page, says they are coming, then changes their mind and sends apologies."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import BuddyStage, BuddyVetting, Role, TrainingModule
from meetings import services
from meetings.models import TrainingInvitation

from ..factories import MembershipFactory, SchemeFactory, venue
from .conftest import log_in, screenshot, serious_accessibility_problems


def test_a_buddy_answers_a_training_invitation_on_their_phone(open_phone):
    scheme = SchemeFactory(name="Positive Steps")
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    buddy = MembershipFactory(
        scheme=scheme, role=Role.BUDDY, user__email="trainee@example.org", user__first_name="Kim"
    )
    BuddyVetting.objects.create(membership=buddy, stage=BuddyStage.TRAINING)
    module = TrainingModule.objects.create(scheme=scheme, name="Lone working", mandatory=True)
    start = timezone.now() + timedelta(days=6)
    session = services.training_session_create(
        scheme=scheme,
        module=module,
        venue=venue(scheme, name="Meeting room, first floor"),
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        capacity=8,
        by=coordinator.user,
    )
    services.training_invite(session=session, invitees=[buddy], by=coordinator.user)

    page = open_phone()
    log_in(page, "trainee@example.org")
    page.goto("/today/")
    card = page.locator(".training-card")
    expect(card).to_contain_text("You are invited to 1 session: Lone working")
    card.get_by_role("link", name="Your training").click()
    expect(page.get_by_role("heading", name="Your training")).to_be_visible()
    expect(page.locator(".training-invitation")).to_contain_text("Meeting room, first floor")
    assert serious_accessibility_problems(page) == []
    # Nothing wider than the phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    screenshot(page, "training-invitation-375")

    page.get_by_role("button", name="I'm coming").click()
    expect(page.get_by_text("we have you down as coming")).to_be_visible()
    expect(page.get_by_text("You said you are coming.")).to_be_visible()
    assert TrainingInvitation.objects.get(invitee=buddy).answer == "attending"

    page.get_by_role("button", name="Send my apologies").click()
    expect(page.get_by_text("your apologies are sent")).to_be_visible()
    assert TrainingInvitation.objects.get(invitee=buddy).answer == "apologies"
    # Lone working is still due: the training page says so.
    expect(page.get_by_role("heading", name="Training you need")).to_be_visible()
    expect(page.get_by_text("Not done yet")).to_be_visible()
    screenshot(page, "training-apologies-375")
