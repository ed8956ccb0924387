"""Issue: a coordinator on a laptop works through a buddy's vetting and a participant's
enrolment on the person page, each form posting to its own address."""

from playwright.sync_api import expect

from buddyscheme.models import AuditEvent, DBSCheck, EligibilityQuestion, Role

from ..factories import MembershipFactory, SchemeFactory, enrol_totp
from .conftest import log_in, screenshot, serious_accessibility_problems

LAPTOP = {"viewport": {"width": 1366, "height": 900}}


def test_vetting_and_enrolment_from_the_person_page(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coordinator@example.org"
    )
    secret = enrol_totp(coordinator.user)
    buddy = MembershipFactory(scheme=scheme, role=Role.BUDDY, user__first_name="Sam")
    participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT, user__first_name="Grace")
    EligibilityQuestion.objects.create(scheme=scheme, text="Do you live in the borough?")

    laptop = open_phone(LAPTOP)
    log_in(laptop, "coordinator@example.org", totp_secret=secret)
    laptop.goto(f"/coordinator/people/{buddy.pk}/")
    expect(laptop.get_by_role("heading", name="Vetting: Applied")).to_be_visible()
    laptop.get_by_label("Evidence").fill("Two references back")
    laptop.get_by_role("button", name="Record this step").click()
    expect(laptop.get_by_text("Step recorded.")).to_be_visible()
    expect(laptop.get_by_role("heading", name="Vetting: References")).to_be_visible()

    # Dates the wrong way round: the page comes back with the error and what was typed.
    laptop.get_by_label("Level").select_option("enhanced")
    laptop.get_by_label("Certificate number").fill("001122")
    laptop.get_by_label("Issue date").fill("2026-11-01")
    laptop.get_by_label("Renewal due").fill("2026-10-01")
    laptop.get_by_role("button", name="Record DBS check").click()
    expect(laptop.locator(".error-summary")).to_contain_text("must be after the issue date")
    expect(laptop.get_by_label("Certificate number")).to_have_value("001122")
    assert not DBSCheck.objects.exists()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "laptop-person-buddy-dbs-error")
    laptop.get_by_label("Renewal due").fill("2029-11-01")
    laptop.get_by_role("button", name="Record DBS check").click()
    expect(laptop.get_by_text("DBS check recorded.")).to_be_visible()

    laptop.goto(f"/coordinator/people/{participant.pk}/")
    laptop.get_by_label("How were they referred?").select_option("clinic")
    laptop.get_by_label("Yes").check()
    laptop.get_by_label("They agree to us holding their information").check()
    laptop.get_by_role("button", name="Save enrolment").click()
    expect(laptop.get_by_text("Enrolment saved.")).to_be_visible()
    expect(laptop.get_by_text("No consent to hold sensitive information")).to_be_visible()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "laptop-person-participant")
    assert set(AuditEvent.objects.values_list("verb", flat=True)) == {
        "buddy_stage_move",
        "dbs_check_record",
        "participant_enrol",
        "consent_give",  # the consent ticked at enrolment is a consent record
        "participant_record_view",  # the coordinator opened the participant's page (access log)
    }
