"""Issue 22: whole journeys through the real UI, each person on their own device (a phone at
390 × 844 for buddies and participants, a laptop at 1,366 × 900 for the coordinator), axe-core
on every page visited and a screenshot of each step under var/screenshots/journey-*.

Celery's work is done by a real worker and beat (the `worker_and_beat` fixture,
tests/browser/background.py): separate processes on the live server's database and the test's
broker, started before the first journey, and again after each journey that moved the clock
(its pair is stopped with it), all stopped after the last. They deliver the outbox (emails are
read back from the worker's file backend, texts from its file SMS backend) and beat's sweep
raises the alerts; the test only waits for them, polling with a deadline. Where time must pass,
`clock.move_to` / `clock.shift` move the test's clock (time-machine: the live server runs in
the test's process) and the worker's and beat's (libfaketime, from an offset file) together.
"""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import BuddyStage, Role, TrainingModule

from ..factories import PASSWORD, MembershipFactory, SchemeFactory, enrol_totp, menu
from .conftest import log_in, screenshot, serious_accessibility_problems

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
LAPTOP = {"viewport": {"width": 1366, "height": 900}}
# The worker and beat need the live server's database to be a real one, and a real broker.
pytestmark = [pytest.mark.postgres, pytest.mark.redis]


class Journey:
    """Numbers the screenshots of one journey and checks every page with axe as it goes."""

    def __init__(self, name):
        self.name = name
        self.step = 0

    def check(self, page, what):
        """axe (zero serious or critical), nothing wider than a phone, then a screenshot."""
        page.wait_for_load_state()
        assert serious_accessibility_problems(page) == [], what
        width = page.viewport_size["width"]
        if width < 500:
            assert page.evaluate("document.documentElement.scrollWidth") <= width, what
        self.step += 1
        screenshot(page, f"journey-{self.name}-{self.step:02d}-{what}")


def _coordinator(scheme, email="lead@example.org"):
    coordinator = MembershipFactory(
        scheme=scheme,
        role=Role.COORDINATOR,
        user__email=email,
        user__first_name="Nadia",
        user__last_name="Coordinator",
    )
    return coordinator, enrol_totp(coordinator.user)


def _link(worker_and_beat, email_to, pattern):
    """The path of the link in the first email the worker sent to `email_to`."""
    message = worker_and_beat.wait_for_mail(email_to)
    return re.search(r"https?://[^/\s]+(" + pattern + r")", message.body).group(1)


def test_journey_1_a_buddy_is_invited_vetted_and_approved(open_phone, worker_and_beat):
    scheme = SchemeFactory(name="Riverside Buddies", sender_name="Riverside")
    _coordinator_membership, secret = _coordinator(scheme)
    menu(scheme, "Cooking on a budget", "Benefits forms", "Gardening")
    TrainingModule.objects.create(scheme=scheme, name="Safeguarding basics", mandatory=True)
    journey = Journey("1-buddy")

    laptop = open_phone(LAPTOP)
    log_in(laptop, "lead@example.org", totp_secret=secret)
    laptop.goto("/coordinator/invitations/")
    journey.check(laptop, "coordinator-invitations")
    laptop.get_by_label("Email").fill("ifeoma.buddy@example.org")
    laptop.get_by_label("Buddy", exact=True).check()
    laptop.get_by_role("button", name="Send invitation").click()
    # An invitation grants a role, so the password is asked for again; the invitation posted
    # is kept meanwhile and sent once it is typed.
    laptop.wait_for_url("**/reauthenticate/**")
    journey.check(laptop, "coordinator-password-again-for-the-invitation")
    laptop.fill("input[name=password]", PASSWORD)
    laptop.get_by_role("button", name="Confirm").click()
    expect(laptop.get_by_text("Invitation sent.")).to_be_visible()
    journey.check(laptop, "coordinator-invitation-sent")

    link = _link(worker_and_beat, "ifeoma.buddy@example.org", r"/invite/\S+/")

    phone = open_phone(PHONE)
    phone.goto(link)
    expect(phone.get_by_role("heading", name="You have been invited")).to_be_visible()
    journey.check(phone, "buddy-invitation")
    phone.get_by_label("What should we call you?").fill("Ifeoma")
    phone.get_by_label("Choose a password").fill("a kettle by the window")
    phone.get_by_label("Type the password again").fill("a kettle by the window!")
    phone.get_by_role("button", name="Create my account").click()
    expect(phone.locator(".invalid-feedback, .alert-danger").first).to_be_visible()
    journey.check(phone, "buddy-password-mismatch")
    phone.get_by_label("Choose a password").fill("a kettle by the window")
    phone.get_by_label("Type the password again").fill("a kettle by the window")
    phone.get_by_role("button", name="Create my account").click()
    expect(phone.get_by_text("Welcome to Riverside Buddies")).to_be_visible()
    journey.check(phone, "buddy-welcome")

    phone.goto("/profile/")
    phone.get_by_label("Phone").first.fill("07700 900456")
    phone.get_by_label("Emergency contact name").fill("Chidi")
    phone.get_by_label("Emergency contact phone").fill("07700 900789")
    phone.get_by_role("button", name=re.compile("Save")).click()
    expect(phone.get_by_text("Your details are saved.")).to_be_visible()
    journey.check(phone, "buddy-profile")

    phone.goto("/menu/")
    phone.get_by_label("Cooking on a budget").check()
    phone.get_by_label("Benefits forms").check()
    phone.get_by_label("Tuesday evening").check()
    phone.get_by_label("Saturday morning").check()
    phone.get_by_label("Languages you speak").fill("English, Igbo")
    phone.get_by_label("First half of your postcode").fill("se15")
    journey.check(phone, "buddy-menu")
    # The availability grid's Evening column is whole at 390 px and at 320 px (no sideways
    # scrolling inside its box either).
    for width in (390, 320):
        phone.set_viewport_size({"width": width, "height": 844})
        grid = phone.locator(".availability-grid")
        assert grid.evaluate(
            "table => table.parentElement.scrollWidth <= table.parentElement.clientWidth"
        )
        evening = phone.get_by_role("columnheader", name="Evening").bounding_box()
        assert evening["x"] + evening["width"] <= width
        expect(phone.get_by_label("Wednesday evening")).to_be_in_viewport()
    journey.check(phone, "buddy-menu-320")
    phone.set_viewport_size(PHONE["viewport"])
    phone.get_by_role("button", name=re.compile("Save")).click()
    expect(phone.get_by_text("Saved. Thank you.")).to_be_visible()
    journey.check(phone, "buddy-menu-saved")

    from buddyscheme.models import Membership

    buddy = Membership.objects.get(scheme=scheme, role=Role.BUDDY)
    assert buddy.user.profile.preferred_name == "Ifeoma"
    assert sorted(buddy.match_profile.items.values_list("name", flat=True)) == [
        "Benefits forms",
        "Cooking on a budget",
    ]

    laptop.goto(f"/coordinator/people/{buddy.pk}/")
    journey.check(laptop, "coordinator-person-applied")

    def record_step(stage_label, evidence):
        form = laptop.locator("form", has=laptop.get_by_role("button", name="Record this step"))
        form.get_by_label("Move to").select_option(label=stage_label)
        form.get_by_label("Evidence").fill(evidence)
        form.get_by_role("button", name="Record this step").click()
        expect(laptop.get_by_role("heading", name=f"Vetting: {stage_label}")).to_be_visible()

    record_step("References", "Two references asked for by email")
    record_step("DBS/CRB check", "Both references returned, read by N.C.")

    dbs = laptop.locator("form", has=laptop.get_by_role("button", name="Record DBS check"))
    dbs.get_by_label("Level").select_option(label="Enhanced")
    dbs.get_by_label("Certificate number").fill("001234567890")
    today = timezone.localdate()
    dbs.get_by_label("Issue date").fill(today.isoformat())
    dbs.get_by_label("Renewal due").fill((today + timedelta(days=3 * 365)).isoformat())
    dbs.get_by_role("button", name="Record DBS check").click()
    expect(laptop.get_by_text("DBS check recorded.")).to_be_visible()
    record_step("Induction and training", "Enhanced DBS seen, certificate checked by N.C.")

    # Approving before the mandatory training is recorded is refused, in words.
    form = laptop.locator("form", has=laptop.get_by_role("button", name="Record this step"))
    form.get_by_label("Move to").select_option(label="Approved")
    form.get_by_label("Evidence").fill("Induction done")
    form.get_by_role("button", name="Record this step").click()
    expect(laptop.get_by_text(re.compile("Cannot approve yet"))).to_be_visible()
    journey.check(laptop, "coordinator-approve-refused")

    training = laptop.locator("form", has=laptop.get_by_role("button", name="Record training"))
    training.get_by_label("Module").select_option(label="Safeguarding basics")
    training.get_by_label("Completed on").fill(today.isoformat())
    training.get_by_role("button", name="Record training").click()
    expect(laptop.locator("#person-training").locator("..")).to_contain_text("Safeguarding basics")
    record_step("Approved", "Induction and safeguarding done")
    journey.check(laptop, "coordinator-person-approved")

    buddy.vetting.refresh_from_db()
    assert buddy.vetting.stage == BuddyStage.APPROVED
    phone.goto("/today/")
    journey.check(phone, "buddy-today-approved")


def test_journey_2_enrolled_matched_in_a_round_and_both_say_yes(open_phone, worker_and_beat):
    from matching.models import Match, MatchState

    from ..factories import cleared_buddy

    scheme = SchemeFactory(name="Riverside Buddies", sender_name="Riverside")
    _coordinator_membership, secret = _coordinator(scheme)
    cooking, forms, gardening = menu(scheme, "Cooking on a budget", "Benefits forms", "Gardening")
    participant = MembershipFactory(
        scheme=scheme,
        role=Role.PARTICIPANT,
        user__email="grace.participant@example.org",
        user__first_name="Grace",
        user__last_name="Adeyemi",
    )
    buddy = cleared_buddy(
        scheme,
        items=[cooking, forms],
        email="amara.buddy@example.org",
        about="I like cooking and long walks.",
    )
    buddy.user.first_name = "Amara"
    buddy.user.save(update_fields=["first_name"])
    journey = Journey("2-match")

    laptop = open_phone(LAPTOP)
    log_in(laptop, "lead@example.org", totp_secret=secret)
    laptop.goto(f"/coordinator/people/{participant.pk}/")
    enrolment = laptop.locator("form", has=laptop.get_by_role("button", name="Save enrolment"))
    enrolment.get_by_label("How were they referred?").select_option(index=1)
    enrolment.get_by_label(re.compile("They agree to us holding their information")).check()
    journey.check(laptop, "coordinator-enrolment")
    enrolment.get_by_role("button", name="Save enrolment").click()
    expect(laptop.get_by_text("Enrolment saved.")).to_be_visible()
    journey.check(laptop, "coordinator-enrolled")

    # The menu, filled in with Grace on a tablet.
    laptop.set_viewport_size({"width": 810, "height": 1080})
    laptop.get_by_role("link", name="Fill in their menu with them").click()
    expect(laptop.get_by_role("heading", name="Grace's menu")).to_be_visible()
    laptop.get_by_label("Cooking on a budget").check()
    laptop.get_by_label("Benefits forms").check()
    laptop.get_by_label("Thursday afternoon").check()
    journey.check(laptop, "tablet-participant-menu")
    laptop.get_by_role("button", name=re.compile("Save")).click()
    expect(laptop.get_by_text("Saved Grace's menu.")).to_be_visible()
    laptop.set_viewport_size(LAPTOP["viewport"])

    laptop.goto("/coordinator/matching/rounds/new/")
    expect(laptop.get_by_label(re.compile("Grace"))).to_be_checked()
    journey.check(laptop, "coordinator-round-new")
    laptop.get_by_role("button", name="Find the best matches").click()
    expect(laptop.get_by_role("heading", name="Grace with Amara")).to_be_visible()
    journey.check(laptop, "coordinator-round-drafts")
    laptop.get_by_role("button", name="Propose all remaining drafts").click()
    expect(laptop.get_by_text("1 match proposed.")).to_be_visible()
    journey.check(laptop, "coordinator-round-released")
    match = Match.objects.get(participant=participant)
    assert (match.buddy, match.state) == (buddy, MatchState.PROPOSED)

    phone = open_phone(PHONE)
    log_in(phone, "grace.participant@example.org")
    phone.goto("/me/")
    card = phone.locator(".answer-card")
    expect(card).to_contain_text("Amara")
    journey.check(phone, "participant-home")
    card.get_by_role("link", name="Read and answer").click()
    expect(phone.get_by_role("heading", name="A buddy for you: Amara")).to_be_visible()
    journey.check(phone, "participant-proposal")
    phone.get_by_role("button", name="Yes", exact=True).click()
    expect(phone.get_by_text("You said yes. We are waiting")).to_be_visible()
    journey.check(phone, "participant-said-yes")

    buddy_phone = open_phone(PHONE)
    log_in(buddy_phone, "amara.buddy@example.org")
    buddy_phone.goto("/today/")
    buddy_card = buddy_phone.locator(".answer-card")
    expect(buddy_card).to_contain_text("Grace")
    journey.check(buddy_phone, "buddy-today")
    buddy_card.get_by_role("link").first.click()
    buddy_phone.wait_for_url(f"**/matches/{match.pk}/")
    journey.check(buddy_phone, "buddy-proposal")
    buddy_phone.get_by_role("button", name="Yes", exact=True).click()
    expect(buddy_phone.get_by_text("You have both said yes")).to_be_visible()
    journey.check(buddy_phone, "buddy-said-yes")
    match.refresh_from_db()
    assert match.state == MatchState.ACCEPTED

    # The matches list on every state filter, at a laptop and a phone's width.
    laptop.goto("/coordinator/matching/matches/")
    expect(laptop.get_by_role("link", name="Grace")).to_be_visible()
    journey.check(laptop, "coordinator-matches")
    for size in (LAPTOP["viewport"], PHONE["viewport"]):
        laptop.set_viewport_size(size)
        for value, _label in MatchState.choices:
            laptop.goto(f"/coordinator/matching/matches/?state={value}")
            assert serious_accessibility_problems(laptop) == [], (size, value)
    journey.check(laptop, "coordinator-matches-phone-withdrawn")


def _accepted_match(scheme):
    from matching.models import Match, MatchState

    from ..factories import cleared_buddy, waiting_participant

    participant = waiting_participant(scheme, email="grace.participant@example.org")
    participant.user.first_name, participant.user.last_name = "Grace", "Adeyemi"
    participant.user.save(update_fields=["first_name", "last_name"])
    buddy = cleared_buddy(scheme, email="amara.buddy@example.org")
    buddy.user.first_name, buddy.user.last_name = "Amara", "Okonkwo"
    buddy.user.save(update_fields=["first_name", "last_name"])
    return Match.objects.create(
        scheme=scheme, participant=participant, buddy=buddy, state=MatchState.ACCEPTED
    )


def _sign(page, name, by_keyboard=False):
    if by_keyboard:
        page.get_by_label("I have read the whole agreement").focus()
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        page.keyboard.press("Space")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") == "typed_name"
        page.keyboard.type(name)
        page.keyboard.press("Enter")
    else:
        page.get_by_label("I have read the whole agreement").check()
        page.get_by_label("I agree").check()
        page.get_by_label("Type your name to sign").fill(name)
        page.get_by_role("button", name="Sign the agreement").click()
    expect(page.get_by_text("you have signed the agreement")).to_be_visible()


def test_journey_3_the_agreement_is_signed_by_all_three_and_downloaded(
    open_phone, worker_and_beat, tmp_path
):
    import subprocess

    from contracts.models import Contract, ContractState

    scheme = SchemeFactory(name="Riverside Buddies", sender_name="Riverside")
    _coordinator_membership, secret = _coordinator(scheme)
    match = _accepted_match(scheme)
    journey = Journey("3-agreement")

    laptop = open_phone(LAPTOP)
    log_in(laptop, "lead@example.org", totp_secret=secret)
    laptop.goto(f"/matches/{match.pk}/")
    laptop.get_by_role("link", name="Make the agreement to sign").click()
    journey.check(laptop, "coordinator-specifics")
    laptop.get_by_role("button", name="Make the agreement").click()
    expect(laptop.get_by_text("Agreement made.")).to_be_visible()
    journey.check(laptop, "coordinator-agreement-made")
    contract = Contract.objects.get(match=match)

    phone = open_phone(PHONE)
    log_in(phone, "grace.participant@example.org")
    phone.goto("/contracts/")
    journey.check(phone, "participant-agreements")
    phone.get_by_role("link", name="Buddy agreement").click()
    journey.check(phone, "participant-agreement")
    # Signed with the keyboard alone: ticks with Space, the name typed, Enter sends.
    _sign(phone, "Grace Adeyemi", by_keyboard=True)
    journey.check(phone, "participant-signed")

    buddy_phone = open_phone(PHONE)
    log_in(buddy_phone, "amara.buddy@example.org")
    buddy_phone.goto(f"/contracts/{contract.pk}/")
    # A name that is not theirs is refused in words, and can be corrected.
    buddy_phone.get_by_label("I have read the whole agreement").check()
    buddy_phone.get_by_label("I agree").check()
    buddy_phone.get_by_label("Type your name to sign").fill("Somebody Else")
    buddy_phone.get_by_role("button", name="Sign the agreement").click()
    # The problem is in the error summary at the top (and again under the field).
    summary = buddy_phone.locator(".error-summary")
    expect(summary.get_by_text("does not match the name we have for you")).to_be_visible()
    journey.check(buddy_phone, "buddy-name-mismatch")
    _sign(buddy_phone, "Amara Okonkwo")
    journey.check(buddy_phone, "buddy-signed")

    laptop.goto(f"/contracts/{contract.pk}/")
    _sign(laptop, "Nadia Coordinator")
    journey.check(laptop, "coordinator-signed")
    contract.refresh_from_db()
    assert contract.state == ContractState.SIGNED
    assert contract.signatures.count() == 3

    href = laptop.get_by_role("link", name="Download as PDF").get_attribute("href")
    # A coordinator taking someone else's agreement away types the password again first.
    laptop.goto(href)
    laptop.wait_for_url("**/reauthenticate/**")
    journey.check(laptop, "coordinator-password-again-for-the-agreement")
    laptop.fill("input[name=password]", PASSWORD)
    laptop.get_by_role("button", name="Confirm").click()
    response = laptop.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / "agreement.pdf"
    pdf.write_bytes(response.body())
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    # The discreet PDF (the default): the participant by initials only, everyone's signature,
    # the clause on stopping, and the hash of the text that was signed.
    assert "between G.A. (the person being supported), Amara (the buddy)" in text
    assert "Adeyemi" not in text
    assert re.search(r"Participant\s+G\.A\.\s+\d", text)
    assert re.search(r"Buddy\s+Amara Okonkwo\s+\d", text)
    assert re.search(r"Coordinator\s+Nadia Coordinator\s+\d", text)
    assert "Stopping at once" in text and contract.sha256 in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    from pathlib import Path
    from shutil import copyfile

    folder = Path(__file__).resolve().parents[2] / "var" / "screenshots"
    copyfile(next(tmp_path.glob("page*.png")), folder / "journey-3-agreement-pdf-page-1.png")


def test_journey_4_an_overdue_meeting_raises_an_alert_that_is_answered_then_all_clear(
    open_phone, worker_and_beat, live_server, settings
):
    import datetime as dt

    from django.utils import timezone

    from matching.models import Match
    from meetings.models import Alert, Debrief, Meeting, MeetingState, OnCallShift

    from ..factories import PASSWORD, cleared_buddy, venue, waiting_participant

    settings.SITE_URL = live_server.url
    # A Wednesday morning in spring, the clock running on from there (the worker's and beat's
    # too).
    with worker_and_beat.travel(dt.datetime(2027, 3, 10, 10, 0, tzinfo=dt.UTC)) as clock:
        scheme = SchemeFactory(name="Riverside Buddies", sender_name="Riverside")
        _coordinator_membership, secret = _coordinator(scheme)
        responder = MembershipFactory(
            scheme=scheme,
            role=Role.BUDDY,
            is_on_call=True,
            user__email="tunde.oncall@example.org",
            user__first_name="Tunde",
        )
        responder.user.profile.phone = "07700 900321"  # texted as well as emailed
        responder.user.profile.save(update_fields=["phone"])
        now = timezone.now()
        OnCallShift.objects.create(
            scheme=scheme,
            responder=responder,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=2),
        )
        buddy = cleared_buddy(scheme, email="amara.buddy@example.org")
        buddy.user.first_name = "Amara"
        buddy.user.save(update_fields=["first_name"])
        participant = waiting_participant(scheme, email="grace.participant@example.org")
        participant.user.first_name, participant.user.last_name = "Grace", "Adeyemi"
        participant.user.save(update_fields=["first_name", "last_name"])
        match = Match.objects.create(
            scheme=scheme, buddy=buddy, participant=participant, state="active"
        )
        venue(scheme, name="Corner café", area="Peckham")
        journey = Journey("4-safety")

        phone = open_phone(PHONE)
        log_in(phone, "amara.buddy@example.org")
        phone.goto("/meetings/new/")
        phone.get_by_label("Who with").select_option(index=1)
        phone.get_by_label("Where").select_option(label="Corner café")
        local = timezone.localtime(timezone.now(), scheme.zone)
        phone.get_by_label("Date").fill(local.date().isoformat())
        phone.get_by_label("From").fill("10:30")
        phone.get_by_label("Until").fill("11:30")
        journey.check(phone, "buddy-log-meeting")
        phone.get_by_role("button", name="Save").click()
        expect(phone.get_by_text("Meeting logged")).to_be_visible()
        journey.check(phone, "buddy-meeting-logged")
        meeting = Meeting.objects.get(buddy=buddy)
        assert meeting.match == match

        clock.move_to(meeting.planned_start - timedelta(minutes=2))
        phone.goto("/today/")
        phone.get_by_role("button", name="I've arrived").click()
        expect(phone.get_by_text("Remember to tap")).to_be_visible()
        journey.check(phone, "buddy-checked-in")

        laptop = open_phone(LAPTOP)
        log_in(laptop, "lead@example.org", totp_secret=secret)
        laptop.goto("/coordinator/board/")
        expect(laptop.get_by_text("No open alerts.")).to_be_visible()
        journey.check(laptop, "coordinator-board-quiet")

        # Time passes: the meeting runs over. Each time the next level falls due, beat's sweep
        # (in the worker) raises it: level 1 prompts the buddy, level 2 tells the coordinator,
        # level 3 the on-call phone.
        for level in (1, 2, 3):
            meeting.refresh_from_db()
            clock.move_to(meeting.next_alert_at + timedelta(seconds=5))
            worker_and_beat.wait_until(
                lambda level=level: Alert.objects.filter(meeting=meeting, level=level).exists(),
                f"beat's sweep raises the level {level} alert",
            )
        alert = Alert.objects.get(meeting=meeting, level=3)
        # Sessions end after an idle half hour: the open board notices on its next refresh and
        # takes the whole page to the sign-in (not the sign-in page inside the board).
        expect(laptop).to_have_url(
            re.compile(r"/accounts/login/\?next=/coordinator/board/"), timeout=15_000
        )
        expect(laptop.locator("main main")).to_have_count(0)
        log_in(laptop, "lead@example.org", totp_secret=secret)
        laptop.goto("/coordinator/board/")
        expect(laptop.get_by_text(re.compile("Level 3: ")).first).to_be_visible()
        journey.check(laptop, "coordinator-board-alert")

        # The worker sends it to the on-call responder: an email, and a text whose link the
        # responder's phone opens.
        message = worker_and_beat.wait_for_mail("tunde.oncall@example.org")
        assert re.search(r"https?://[^/\s]+/r/\S+", message.body)
        text = worker_and_beat.wait_until(
            lambda: next((t for t in worker_and_beat.texts() if t["to"] == "+447700900321"), None),
            "a text to the on-call responder's phone",
        )
        assert "Amara not checked out at Corner café" in text["text"]
        link = re.search(r"https?://[^/\s]+(/r/\S+)", text["text"]).group(1)
        on_call_phone = open_phone(PHONE)
        on_call_phone.goto(link)
        on_call_phone.fill("input[name=login]", "tunde.oncall@example.org")
        on_call_phone.fill("input[name=password]", PASSWORD)
        on_call_phone.get_by_role("button", name="Sign In").click()
        on_call_phone.wait_for_url(f"**/alerts/{alert.pk}/")
        journey.check(on_call_phone, "responder-alert")
        on_call_phone.get_by_role("button", name="Acknowledge: I am dealing with it").click()
        expect(on_call_phone.get_by_text("Acknowledged: escalation has stopped")).to_be_visible()
        journey.check(on_call_phone, "responder-acknowledged")

        # An idle half hour ends any session: the clock jumped, so the buddy signs in again.
        log_in(phone, "amara.buddy@example.org")
        phone.goto("/today/")
        phone.get_by_role("button", name="I've left safely").click()
        expect(phone.get_by_text("You have checked out safely")).to_be_visible()
        journey.check(phone, "buddy-checked-out-debrief")
        meeting.refresh_from_db()
        alert.refresh_from_db()
        assert meeting.state == MeetingState.CHECKED_OUT
        assert alert.resolved_at is not None and alert.all_clear_at is not None
        assert not Alert.objects.filter(meeting=meeting, resolved_at__isnull=True).exists()

        # Everyone the alerts reached hears the all-clear once (the check-out queued the
        # worker); the buddy does not need it.
        def all_clear():
            return [m for m in worker_and_beat.mails() if m.subject.startswith("All clear")]

        worker_and_beat.wait_until(lambda: len(all_clear()) >= 2, "the all-clear emails")
        assert sorted(m.to[0] for m in all_clear()) == [
            "lead@example.org",
            "tunde.oncall@example.org",
        ]
        assert all(m.subject.startswith("All clear: Amara is safe") for m in all_clear())
        worker_and_beat.wait_until(
            lambda: any("all clear" in t["text"] for t in worker_and_beat.texts()),
            "the all-clear text to the on-call responder's phone",
        )

        # The debrief: a full name is caught, shown, and corrected to initials.
        good = phone.get_by_role("radio", name="Good", exact=True)
        phone.locator(f'label[for="{good.get_attribute("id")}"]').click()
        phone.get_by_label("What happened").fill("Grace and I ran over at the café, all fine.")
        phone.get_by_role("button", name="Send to my coordinator").click()
        warning = phone.locator("#identifying-details")
        expect(warning).to_contain_text("Check before you send: this may identify someone")
        expect(warning.locator("mark")).to_have_text("Grace")
        journey.check(phone, "buddy-debrief-initials-warning")
        phone.get_by_label("What happened").fill("G.A. and I ran over at the café, all fine.")
        phone.get_by_role("button", name="Send to my coordinator").click()
        expect(phone.get_by_text("Your debrief has been sent")).to_be_visible()
        journey.check(phone, "buddy-debrief-sent")
        debrief = Debrief.objects.get(meeting=meeting)
        assert (debrief.state, debrief.what_happened) == (
            "sent",
            "G.A. and I ran over at the café, all fine.",
        )
        laptop.goto("/coordinator/board/")
        expect(laptop.get_by_text("No open alerts.")).to_be_visible()
        journey.check(laptop, "coordinator-board-clear")


def test_journey_5_a_one_to_one_with_shared_notes_and_a_drop_in_run_by_two(
    open_phone, worker_and_beat
):
    import datetime as dt

    from django.utils import timezone

    from buddyscheme.models import Supervision
    from contracts.services import contract_sign
    from groups import services as group_services
    from groups.models import GroupSession, SessionFeedback
    from meetings.models import MeetingState, OnCallShift

    from ..factories import cleared_buddy, venue

    # A Monday morning; the one-to-one is booked for the next day.
    with worker_and_beat.travel(dt.datetime(2027, 3, 8, 9, 0, tzinfo=dt.UTC)) as clock:
        scheme = SchemeFactory(name="Riverside Buddies", sender_name="Riverside")
        coordinator, secret = _coordinator(scheme)
        coordinator.is_on_call = True
        coordinator.save(update_fields=["is_on_call"])
        now = timezone.now()
        OnCallShift.objects.create(
            scheme=scheme,
            responder=coordinator,
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=5),
        )
        first = cleared_buddy(scheme, email="amara.buddy@example.org")
        second = cleared_buddy(scheme, email="kofi.buddy@example.org")
        for buddy, name in ((first, "Amara"), (second, "Kofi")):
            buddy.user.first_name = name
            buddy.user.save(update_fields=["first_name"])
            buddy.is_facilitator = True
            buddy.save(update_fields=["is_facilitator"])
        journey = Journey("5-support")

        laptop = open_phone(LAPTOP)
        log_in(laptop, "lead@example.org", totp_secret=secret)
        laptop.goto(f"/coordinator/people/{first.pk}/support/")
        journey.check(laptop, "coordinator-buddy-support")
        laptop.get_by_role("link", name="Book a one-to-one").click()
        laptop.get_by_label("Phone call").check()
        laptop.get_by_label("Date").fill("2027-03-09")
        laptop.get_by_label("From").fill("10:00")
        laptop.get_by_label("Until").fill("11:00")
        journey.check(laptop, "coordinator-book-one-to-one")
        laptop.get_by_role("button", name="Book it").click()
        expect(laptop.get_by_text("One-to-one booked.")).to_be_visible()
        journey.check(laptop, "coordinator-one-to-one-booked")
        supervision = Supervision.objects.get(buddy=first)

        phone = open_phone(PHONE)
        log_in(phone, "amara.buddy@example.org")
        phone.goto("/support/")
        expect(phone.get_by_role("heading", name="My support", exact=True)).to_be_visible()
        journey.check(phone, "buddy-my-support")

        clock.move_to(dt.datetime(2027, 3, 9, 11, 30, tzinfo=dt.UTC))
        log_in(laptop, "lead@example.org", totp_secret=secret)
        laptop.goto(f"/coordinator/one-to-ones/{supervision.pk}/")
        laptop.get_by_label("Notes").fill(
            "Talked about boundaries with G.A. Agreed to ring if unsure."
        )
        laptop.get_by_role("button", name="It took place: save").click()
        journey.check(laptop, "coordinator-one-to-one-held")
        laptop.get_by_role("button", name="Share the notes with Amara").click()
        journey.check(laptop, "coordinator-notes-shared")
        supervision.refresh_from_db()
        assert supervision.shared_at is not None

        log_in(phone, "amara.buddy@example.org")
        phone.goto(f"/support/one-to-ones/{supervision.pk}/")
        expect(phone.get_by_text("Agreed to ring if unsure.")).to_be_visible()
        journey.check(phone, "buddy-reads-notes")

        # A drop-in the next day, run by Amara and Kofi.
        group = group_services.group_create(
            scheme=scheme,
            by=coordinator.user,
            name="Peer support drop-in",
            neutral_name="Wednesday group",
            purpose="Peer support",
            venue=venue(scheme, name="Room 2", kind="in_house", key_holder=coordinator.user),
            signage_text="Private meeting",
            complaints_contact="Nadia on 020 7946 0000",
        )
        clock.move_to(dt.datetime(2027, 3, 10, 13, 50, tzinfo=dt.UTC))
        start = timezone.now() + timedelta(minutes=10)
        session = group_services.group_session_create(
            group=group, planned_start=start, planned_end=start + timedelta(minutes=90), by=None
        )
        for buddy in (first, second):
            group_services.facilitator_add(session=session, membership=buddy, by=None)
        attendee = MembershipFactory(
            scheme=scheme, role=Role.PARTICIPANT, user__first_name="Grace", user__last_name="Obi"
        )
        member = group_services.group_member_add(
            group=group, membership=attendee, answers={}, by=None
        )
        contract_sign(
            contract=member.agreement,
            membership=attendee,
            typed_name="Grace Obi",
            agreed=True,
            read_to_end=True,
        )

        log_in(phone, "amara.buddy@example.org")
        phone.goto("/today/")
        phone.get_by_role("link", name="Wednesday group").click()
        journey.check(phone, "facilitator-1-session")
        phone.get_by_role("button", name="I've arrived").click()
        expect(phone.get_by_text("You have checked in")).to_be_visible()

        kofi = open_phone(PHONE)
        log_in(kofi, "kofi.buddy@example.org")
        kofi.goto("/today/")
        kofi.get_by_role("link", name="Wednesday group").click()
        kofi.get_by_role("button", name="I've arrived").click()
        expect(kofi.get_by_text("You have checked in")).to_be_visible()
        journey.check(kofi, "facilitator-2-checked-in")

        phone.reload()
        phone.get_by_role("button", name="Start the session").click()
        expect(phone.get_by_text("The session has started")).to_be_visible()
        phone.get_by_role("button", name="We read the ground rules out").click()
        expect(phone.get_by_text("read out to everyone at")).to_be_visible()
        phone.get_by_role("button", name="Mark GO here").click()
        expect(phone.get_by_text("Marked present")).to_be_visible()
        phone.get_by_label("New this time").fill("1")
        phone.get_by_label("Came before").fill("3")
        phone.get_by_role("button", name="Save the counts").click()
        expect(phone.get_by_text("Counts saved")).to_be_visible()
        journey.check(phone, "facilitator-1-session-running")

        phone.get_by_role("link", name="Show the feedback code").click()
        expect(phone.get_by_alt_text("QR code for the anonymous feedback form")).to_be_visible()
        journey.check(phone, "facilitator-1-feedback-code")
        feedback_url = phone.locator("a[href*='/feedback/']").get_attribute("href")

        # Someone who came answers on their own phone, with no account.
        visitor = open_phone(PHONE)
        visitor.goto(feedback_url)
        expect(
            visitor.get_by_role("heading", name="Wednesday group: how was today?")
        ).to_be_visible()
        journey.check(visitor, "attendee-feedback")
        visitor.locator("input[name=felt_welcome][value='4']").check()
        visitor.locator("input[name=felt_safe][value='3']").check()
        visitor.locator("input[name=would_come_again][value='yes']").check()
        visitor.get_by_label("Anything else? (optional)").fill("Friendly, thank you.")
        visitor.get_by_role("button", name="Send").click()
        expect(visitor.get_by_text("Your answers are anonymous")).to_be_visible()
        journey.check(visitor, "attendee-feedback-sent")
        feedback = SessionFeedback.objects.get()
        assert (feedback.felt_welcome, feedback.felt_safe) == (4, 3)

        clock.move_to(start + timedelta(minutes=85))
        log_in(phone, "amara.buddy@example.org")
        phone.goto(f"/groups/sessions/{session.pk}/")
        phone.get_by_role("button", name="We've both left safely").click()
        expect(phone.get_by_text("Checked out: both of you")).to_be_visible()
        phone.get_by_label("What went well").fill("Everyone spoke; G.O. came back.")
        phone.get_by_label("Issues to pick up").fill("The room was cold.")
        phone.get_by_role("button", name="Send the debrief").click()
        expect(phone.get_by_text("Debrief sent to the coordinator")).to_be_visible()
        journey.check(phone, "facilitator-1-debrief-sent")

        session = GroupSession.objects.get(pk=session.pk)
        assert (session.state, session.new_count, session.returning_count) == ("finished", 1, 3)
        assert session.ground_rules_read_out_at is not None
        assert session.attendances.get().present
        assert {f.meeting.state for f in session.facilitators.select_related("meeting")} == {
            MeetingState.CHECKED_OUT
        }
        log_in(laptop, "lead@example.org", totp_secret=secret)
        laptop.goto(f"/coordinator/group-sessions/{session.pk}/")
        expect(laptop.get_by_text("The room was cold.")).to_be_visible()
        journey.check(laptop, "coordinator-group-session")


def _pdf_text(page, href, tmp_path, name):
    import subprocess

    response = page.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf"
    pdf = tmp_path / f"{name}.pdf"
    pdf.write_bytes(response.body())
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_journey_6_friends_next_steps_exit_feedback_and_the_funder_report(
    open_phone, worker_and_beat, live_server, settings, tmp_path
):
    from django.core import signing
    from django.utils import timezone

    from evaluation import questionnaires
    from evaluation.models import Invitation, Purpose
    from matching import services as matching_services
    from matching.models import EndingType, MatchState
    from signposting.models import NextStepsPlan

    from ..factories import cleared_buddy, sign_all, waiting_participant
    from ..signposting.helpers import add_entry

    settings.SITE_URL = live_server.url
    scheme = SchemeFactory(name="Riverside Buddies", sender_name="Riverside")
    coordinator, secret = _coordinator(scheme)
    add_entry(scheme, coordinator.user, name="Peckham Walking Club", area="Southwark")
    participant = waiting_participant(scheme, email="grace.participant@example.org")
    participant.user.first_name, participant.user.last_name = "Grace", "Adeyemi"
    participant.user.save(update_fields=["first_name", "last_name"])
    buddy = cleared_buddy(scheme, email="amara.buddy@example.org")
    buddy.user.first_name = "Amara"
    buddy.user.save(update_fields=["first_name"])
    match = matching_services.match_create(
        participant=participant, buddy=buddy, by=coordinator.user, state=MatchState.PROPOSED
    )
    matching_services.match_accept(match=match, by_membership=participant)
    matching_services.match_accept(match=match, by_membership=buddy)
    matching_services.match_introduce(
        match=match, intro_at=timezone.now() - timedelta(days=90), by=None
    )
    sign_all(match)
    match = matching_services.match_activate(match=match, by=coordinator.user)
    journey = Journey("6-ending")

    phone = open_phone(PHONE)
    log_in(phone, "amara.buddy@example.org")
    phone.goto("/today/")
    phone.get_by_role("link", name="We have become friends").click()
    journey.check(phone, "buddy-friends")
    phone.get_by_role("button", name="Tell my coordinator").click()
    expect(phone.get_by_text("You told us on")).to_be_visible()
    journey.check(phone, "buddy-friends-told")

    laptop = open_phone(LAPTOP)
    log_in(laptop, "lead@example.org", totp_secret=secret)
    laptop.goto(f"/matches/{match.pk}/")
    laptop.get_by_role("link", name="End this match").click()
    expect(laptop.get_by_label("Became friends")).to_be_checked()
    journey.check(laptop, "coordinator-ending-type")
    laptop.get_by_role("button", name="Next: the questions").click()
    journey.check(laptop, "coordinator-ending-questions")
    laptop.get_by_role("button", name="Next: check what will happen").click()
    journey.check(laptop, "coordinator-ending-confirm")
    laptop.get_by_role("button", name="Confirm: end the match").click()
    expect(laptop.get_by_text("The match has ended.")).to_be_visible()
    expect(laptop.get_by_text("How it ended: Became friends")).to_be_visible()
    journey.check(laptop, "coordinator-match-ended")
    match.refresh_from_db()
    assert (match.state, match.ending_type) == (MatchState.ENDED, EndingType.FRIENDSHIP)

    # Ending the match drafted its next-steps plan; it is finished with the participant.
    laptop.get_by_role("link", name="Open the plan").click()
    expect(laptop.get_by_role("heading", name=re.compile("Next-steps plan for"))).to_be_visible()
    step = laptop.locator("form", has=laptop.get_by_role("button", name="Add the step"))
    step.get_by_label("When").fill((timezone.localdate() + timedelta(days=14)).isoformat())
    step.get_by_label("What").fill("Go to the Saturday walk")
    service = step.get_by_label("Service from the directory (optional)")
    service.select_option(
        service.locator("option", has_text="Peckham Walking Club").get_attribute("value")
    )
    journey.check(laptop, "coordinator-plan-step")
    step.get_by_role("button", name="Add the step").click()
    expect(laptop.get_by_text("The step is added.")).to_be_visible()
    laptop.get_by_role("button", name="Finish the plan").click()
    journey.check(laptop, "coordinator-plan-finished")
    plan = NextStepsPlan.objects.get(match=match)
    assert plan.state == "finished"
    assert plan.actions.get().entry.name == "Peckham Walking Club"

    # The exit questionnaire, answered from the link in the participant's email (the worker
    # sends it).
    invitation = Invitation.objects.get(person=participant, questionnaire__purpose=Purpose.EXIT)

    def exit_link():
        for message in worker_and_beat.mails():
            link = re.search(r"https?://[^/\s]+/q/([^/\s]+)/", message.body)
            token = link.group(1) if link and message.to == [participant.user.email] else None
            if token and signing.loads(token, salt=questionnaires.LINK_SALT)[0] == invitation.pk:
                return f"/q/{token}/"
        return None

    path = worker_and_beat.wait_until(exit_link, "the exit questionnaire's email")
    answer = open_phone(PHONE)
    answer.goto(path)
    journey.check(answer, "participant-exit-first-question")
    for _ in range(30):
        if answer.get_by_role("heading", name="Check and send").count():
            break
        radios = answer.locator("input[type=radio]")
        if radios.count():
            answer.locator(f"label[for='{radios.first.get_attribute('id')}']").click()
        for box in answer.locator("textarea").all():
            box.fill("A. helped me get out and about again.")
        answer.get_by_role("button", name=re.compile("^Next")).click()
        answer.wait_for_load_state()
    journey.check(answer, "participant-exit-check-and-send")
    answer.get_by_role("button", name="Send my answers").click()
    expect(answer.get_by_role("heading", name="Thank you")).to_be_visible()
    journey.check(answer, "participant-exit-thanks")
    invitation.refresh_from_db()
    assert invitation.completed_at is not None

    laptop.goto("/coordinator/reports/funder/")
    today = timezone.localdate()
    laptop.get_by_label("From").fill((today - timedelta(days=200)).isoformat())
    laptop.get_by_label("To").fill(today.isoformat())
    journey.check(laptop, "coordinator-funder-reports")
    laptop.get_by_role("button", name="Make the report").click()
    expect(laptop.get_by_role("link", name="Download the PDF")).to_be_visible()
    journey.check(laptop, "coordinator-funder-report")
    href = laptop.get_by_role("link", name="Download the PDF").get_attribute("href")
    # A report download asks for the password again when the sign-in is older than five
    # minutes (the clock has moved on since): the coordinator types it, and the PDF follows.
    laptop.goto(href)
    laptop.wait_for_url("**/reauthenticate/**")
    journey.check(laptop, "coordinator-password-again-for-the-report")
    laptop.fill("input[name=password]", PASSWORD)
    laptop.get_by_role("button", name="Confirm").click()
    text = _pdf_text(laptop, href, tmp_path, "funder")
    assert "How matches ended" in text
    # One friendship ending (small numbers are suppressed: "fewer than 5"), no other kind.
    assert re.search(r"Became friends\s+fewer than 5", text)
    assert re.search(r"Planned completion\s+0\n", text)
    assert re.search(r"The match broke down\s+0\n", text)
    assert "Adeyemi" not in text
