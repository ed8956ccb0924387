"""Issue 14 points 3, 4 and 5 on a phone: a proposal reaches the participant's Home and the
buddy's Today, the participant reads about the buddy and answers, the coordinator sees who is
waiting and records an answer given by phone; and a stale "choose your buddy" moves on."""

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from buddyscheme.models import DBSCheck, Notification, Role
from matching import services
from matching.models import Match, MatchState, slot_index

from ..factories import (
    MembershipFactory,
    SchemeFactory,
    cleared_buddy,
    enrol_totp,
    menu,
    waiting_participant,
)
from .conftest import log_in, screenshot, serious_accessibility_problems

LAPTOP = {"viewport": {"width": 1366, "height": 900}}


def _named(membership, name):
    membership.user.first_name = name
    membership.user.save()
    return membership


def test_a_proposal_reaches_both_phones_and_is_answered(open_phone):
    scheme = SchemeFactory(name="Scheme A", sender_name="Appointments")
    coordinator = MembershipFactory(
        scheme=scheme, role=Role.COORDINATOR, user__email="coordinator@example.org"
    )
    secret = enrol_totp(coordinator.user)
    cooking, forms, gardening = menu(scheme, "Cooking on a budget", "Benefits forms", "Gardening")
    participant = _named(
        waiting_participant(
            scheme,
            items=[cooking, forms],
            email="grace@example.org",
            languages=["english", "shona"],
            availability=1 << slot_index(0, 0) | 1 << slot_index(2, 2),
        ),
        "Grace",
    )
    buddy = _named(
        cleared_buddy(
            scheme,
            items=[cooking, forms, gardening],
            email="amara@example.org",
            languages=["english", "shona"],
            availability=1 << slot_index(0, 0) | 1 << slot_index(4, 1),
            about="I like cooking and long walks.",
        ),
        "Amara",
    )
    match = services.match_create(participant=participant, buddy=buddy, by=coordinator.user)
    services.match_propose(match=match, by=coordinator.user)
    assert {row.recipient_id for row in Notification.objects.filter(template="match_proposed")} == {
        participant.user_id,
        buddy.user_id,
    }

    phone = open_phone()
    log_in(phone, "grace@example.org")
    phone.goto("/me/")
    card = phone.locator(".answer-card")
    expect(card.get_by_role("heading", name="Please answer")).to_be_visible()
    expect(card).to_contain_text("Amara")
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-participant-home-please-answer")
    card.get_by_role("link", name="Read and answer").click()
    phone.wait_for_url(f"**/matches/{match.pk}/")
    expect(phone.get_by_role("heading", name="A buddy for you: Amara")).to_be_visible()
    expect(phone.get_by_text("Benefits forms")).to_be_visible()
    expect(phone.get_by_text("Gardening")).to_have_count(0)
    expect(phone.get_by_text("Shona (you too)")).to_be_visible()
    expect(phone.get_by_text("Monday morning")).to_be_visible()
    expect(phone.get_by_role("heading", name="What happens next")).to_be_visible()
    yes = phone.get_by_role("button", name="Yes", exact=True)
    no = phone.get_by_role("button", name="No", exact=True)
    # Equal buttons: the same size, side by side, nothing pushing towards yes.
    yes_box, no_box = yes.bounding_box(), no.bounding_box()
    assert abs(yes_box["width"] - no_box["width"]) < 1 and yes_box["height"] >= 44
    assert abs(yes_box["height"] - no_box["height"]) < 1 and yes_box["y"] == no_box["y"]
    assert phone.locator("textarea[name=reason]").count() == 0
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-participant-proposal")

    phone.get_by_role("button", name="I'd like to talk to my coordinator first").click()
    expect(phone.get_by_text("We have told your coordinator")).to_be_visible()
    assert Notification.objects.filter(
        template="match_talk_request", recipient=coordinator.user
    ).exists()

    # The buddy's Today asks too.
    buddy_phone = open_phone()
    log_in(buddy_phone, "amara@example.org")
    buddy_phone.goto("/today/")
    expect(buddy_phone.locator(".answer-card")).to_contain_text("support Grace")
    assert serious_accessibility_problems(buddy_phone) == []
    screenshot(buddy_phone, "phone-buddy-today-please-answer")

    # The coordinator calls the buddy, and records the yes they gave on the phone.
    laptop = open_phone(LAPTOP)
    log_in(laptop, "coordinator@example.org", totp_secret=secret)
    laptop.goto("/coordinator/matching/")
    awaiting = laptop.locator("section", has=laptop.locator("#awaiting"))
    expect(awaiting).to_contain_text("Asked to talk")
    expect(awaiting.get_by_role("button", name="Nudge")).to_be_visible()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "laptop-matching-awaiting")
    awaiting.get_by_role("link", name="Grace with Amara").click()
    laptop.get_by_text("Record an answer given by phone or in person").click()
    laptop.get_by_label("The buddy, Amara").check()
    laptop.get_by_label("Yes, go ahead").check()
    laptop.get_by_role("button", name="Record this answer").click()
    expect(laptop.get_by_text("Answer recorded.")).to_be_visible()
    expect(laptop.get_by_text("recorded by")).to_be_visible()
    assert serious_accessibility_problems(laptop) == []
    screenshot(laptop, "laptop-match-answer-recorded")

    # The buddy's card has gone; the participant answers yes and the match is agreed.
    buddy_phone.goto("/today/")
    expect(buddy_phone.locator(".answer-card")).to_have_count(0)
    phone.get_by_role("button", name="Yes", exact=True).click()
    expect(phone.get_by_text("You have both said yes")).to_be_visible()
    match.refresh_from_db()
    assert match.state == MatchState.ACCEPTED
    assert match.buddy_answer_recorded_by == coordinator.user
    assert match.participant_answer_recorded_by is None


def test_no_asks_for_a_reason_afterwards_on_a_phone(open_phone):
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    participant = waiting_participant(scheme, email="owen@example.org")
    buddy = _named(cleared_buddy(scheme), "Tom")
    match = services.match_create(
        participant=participant, buddy=buddy, by=coordinator.user, state=MatchState.PROPOSED
    )
    phone = open_phone()
    log_in(phone, "owen@example.org")
    phone.goto(f"/matches/{match.pk}/")
    phone.get_by_role("button", name="No", exact=True).click()
    expect(phone.get_by_label("Would you like to tell us why? (optional)")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-participant-decline")
    phone.get_by_role("button", name="Send my answer: no, thank you").click()
    expect(phone.get_by_text("Thank you for letting us know")).to_be_visible()
    match.refresh_from_db()
    assert (match.state, match.decline_reason) == (MatchState.DECLINED, "")


def test_a_stale_choice_moves_on_to_the_next_buddy(open_phone):
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR)
    items = menu(scheme, "Cooking", "Forms", "Walks", "English", "Phones")
    participant = waiting_participant(scheme, items=items, email="chooser@example.org")
    buddies = [
        _named(cleared_buddy(scheme, items=items[: 5 - number]), name)
        for number, name in enumerate(["Amara", "Tom", "Priya", "Kwame", "Sian"])
    ]
    offer = services.suggestion_offer_create(participant=participant, by=coordinator.user)

    phone = open_phone()
    log_in(phone, "chooser@example.org")
    phone.goto(f"/choose/{offer.pk}/")
    expect(phone.get_by_role("button", name="Choose Amara")).to_be_visible()
    expect(phone.get_by_role("button", name="Choose Kwame")).to_have_count(0)
    # While the page is open, Amara's only place is taken and Tom's DBS lapses.
    services.match_create(
        participant=waiting_participant(scheme), buddy=buddies[0], by=coordinator.user
    )
    DBSCheck.objects.filter(membership=buddies[1]).update(
        renewal_due=timezone.localdate() - timedelta(days=1)
    )
    phone.get_by_role("button", name="Choose Tom").click()
    expect(phone.get_by_text("Tom can no longer take on someone new")).to_be_visible()
    for gone in ("Amara", "Tom"):
        expect(phone.get_by_role("button", name=f"Choose {gone}")).to_have_count(0)
    for shown in ("Priya", "Kwame", "Sian"):
        expect(phone.get_by_role("button", name=f"Choose {shown}")).to_be_visible()
    assert serious_accessibility_problems(phone) == []
    screenshot(phone, "phone-participant-choose-moved-on")
    # Coming back later, the page still says why the list changed.
    phone.reload()
    expect(phone.get_by_text("Someone we suggested before is no longer free")).to_be_visible()
    phone.get_by_role("button", name="Choose Kwame").click()
    expect(phone.get_by_text("We will ask them and let you know")).to_be_visible()
    chosen = Match.objects.get(participant=participant)
    assert chosen.buddy == buddies[3] and chosen.state == MatchState.PROPOSED
