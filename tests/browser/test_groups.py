"""Issue 17 on a phone: a facilitator runs a group session: checks in, starts it, records that
the ground rules were read out, marks a member here, counts who came, shows the feedback QR,
checks out for both facilitators and sends the group debrief."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from contracts.services import contract_sign
from groups import services
from groups.models import GroupSession
from meetings.models import MeetingState

from ..factories import MembershipFactory, cleared_buddy, venue
from .conftest import log_in, screenshot, serious_accessibility_problems
from .test_buddy_day import scheme_with_cover


def test_a_facilitator_runs_a_session_on_a_phone(open_phone):
    scheme, on_call = scheme_with_cover()
    first = cleared_buddy(scheme, email="walker@example.org")
    second = cleared_buddy(scheme, email="second@example.org")
    for buddy in (first, second):
        buddy.is_facilitator = True
        buddy.save(update_fields=["is_facilitator"])
    group = services.group_create(
        scheme=scheme,
        by=on_call.user,
        name="HIV peer group",
        neutral_name="Tuesday group",
        purpose="Peer support",
        venue=venue(scheme, name="Room 2", kind="in_house", key_holder=on_call.user),
        signage_text="Private meeting",
        complaints_contact="Ruth on 020 7946 0000",
    )
    now = timezone.now()
    session = services.group_session_create(
        group=group,
        planned_start=now + timedelta(minutes=5),
        planned_end=now + timedelta(minutes=95),
        by=None,
    )
    for buddy in (first, second):
        services.facilitator_add(session=session, membership=buddy, by=None)
    participant = MembershipFactory(
        scheme=scheme, role="participant", user__first_name="Grace", user__last_name="Obi"
    )
    member = services.group_member_add(group=group, membership=participant, answers={}, by=None)
    contract_sign(
        contract=member.agreement,
        membership=participant,
        typed_name="Grace Obi",
        agreed=True,
        read_to_end=True,
    )

    page = open_phone()
    log_in(page, "walker@example.org")
    page.get_by_role("link", name="Tuesday group").click()
    expect(page.get_by_text("Ruth on 020 7946 0000")).to_be_visible()
    page.get_by_role("button", name="I've arrived").click()
    expect(page.get_by_text("You have checked in")).to_be_visible()
    page.get_by_role("button", name="Start the session").click()
    expect(page.get_by_text("The session has started")).to_be_visible()
    page.get_by_role("button", name="We read the ground rules out").click()
    expect(page.get_by_text("read out to everyone at")).to_be_visible()
    page.get_by_role("button", name="Mark GO here").click()
    expect(page.get_by_text("Marked present")).to_be_visible()
    page.get_by_label("New this time").fill("2")
    page.get_by_label("Came before").fill("4")
    page.get_by_role("button", name="Save the counts").click()
    expect(page.get_by_text("Counts saved")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "group-session-375")

    page.get_by_role("link", name="Show the feedback code").click()
    expect(page.get_by_alt_text("QR code for the anonymous feedback form")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "group-feedback-code-375")
    page.get_by_role("link", name="Back to the session").click()

    # The other facilitator checked in on their own phone; one check-out closes both.
    services.session_check_in(session=session, membership=second, key="second-in")
    page.reload()
    expect(page.get_by_text("second").or_(page.get_by_text("In progress")).first).to_be_visible()
    page.get_by_role("button", name="We've both left safely").click()
    expect(page.get_by_text("Checked out: both of you")).to_be_visible()
    page.get_by_label("What went well").fill("Lively discussion, everyone spoke.")
    page.get_by_label("Issues to pick up").fill("The room was too small.")
    page.get_by_role("button", name="Send the debrief").click()
    expect(page.get_by_text("Debrief sent to the coordinator")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    screenshot(page, "group-debrief-sent-375")

    session = GroupSession.objects.get(pk=session.pk)
    assert (session.state, session.new_count, session.returning_count) == ("finished", 2, 4)
    assert session.ground_rules_read_out_at is not None
    assert session.attendances.get().present
    assert {f.meeting.state for f in session.facilitators.select_related("meeting")} == {
        MeetingState.CHECKED_OUT
    }
    assert session.debrief.to_pick_up == "The room was too small."
