"""Issue 19 on a phone (375 px): a participant opens the ONS4 link from their message, answers a
question at a time with large buttons, stops and comes back to where they were, sends their
answers, and the link then says they are already sent. No password at any point."""

import re

from playwright.sync_api import expect

from buddyscheme.models import Role
from evaluation import questionnaires as services
from evaluation.models import Invitation, Occasion

from ..factories import MembershipFactory, SchemeFactory
from .conftest import screenshot, serious_accessibility_problems


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_participant_answers_ons4_by_link_on_a_phone(open_phone):
    scheme = SchemeFactory(name="North Buddies", sender_name="North")
    participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    invitation = services.invitation_create(
        person=participant,
        questionnaire=services.defaults_ensure(scheme)["ons4"],
        occasion=Occasion.OTHER,
    )
    link = f"/q/{services.invitation_token(invitation)}/"

    page = open_phone()
    page.goto(link)
    expect(page.get_by_text("Question 1 of 4")).to_be_visible()
    expect(
        page.get_by_role(
            "group", name=re.compile("Overall, how satisfied are you with your life nowadays")
        )
    ).to_be_visible()
    assert serious_accessibility_problems(page) == []
    assert fits_the_screen(page)
    # Each number is a large target (WCAG 2.2: at least 24 px; here 44 px or more).
    box = page.locator("label[for$='_7']").bounding_box()
    assert box["width"] >= 44 and box["height"] >= 44
    screenshot(page, "questionnaire-ons4-375")

    page.locator("label[for$='_6']").click()
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_text("Question 2 of 4")).to_be_visible()
    page.locator("label[for$='_7']").click()
    page.get_by_role("button", name="Finish later").click()
    expect(page.get_by_role("heading", name="Your answers are saved")).to_be_visible()

    # Back later with the same link: straight to the first question not answered.
    page.goto(link)
    expect(page.get_by_text("Question 3 of 4")).to_be_visible()
    page.get_by_role("button", name="Back").click()
    expect(page.get_by_text("Question 2 of 4")).to_be_visible()
    expect(page.locator("input[value='7']")).to_be_checked()
    page.get_by_role("button", name="Next", exact=True).click()
    page.locator("label[for$='_5']").click()
    page.get_by_role("button", name="Next", exact=True).click()
    expect(page.get_by_text("Question 4 of 4")).to_be_visible()
    expect(page.get_by_text("Here a lower number is better.")).to_be_visible()
    page.locator("label[for$='_3']").click()
    page.get_by_role("button", name="Next: check and send").click()

    expect(page.get_by_role("heading", name="Check and send")).to_be_visible()
    expect(page.get_by_text("You have answered 4 of 4 questions.")).to_be_visible()
    assert serious_accessibility_problems(page) == []
    assert fits_the_screen(page)
    screenshot(page, "questionnaire-send-375")
    page.get_by_role("button", name="Send my answers").click()
    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()

    invitation = Invitation.objects.get(pk=invitation.pk)
    assert invitation.completed_at is not None
    assert {q.code: v for q, v in _answers(invitation)} == {
        "life_satisfaction": 6,
        "worthwhile": 7,
        "happiness": 5,
        "anxiety": 3,
    }

    # The link again: a clear page, not an error.
    page.goto(link)
    expect(page.get_by_role("heading", name="This link cannot be used")).to_be_visible()
    expect(page.get_by_text("already been sent")).to_be_visible()
    assert fits_the_screen(page)


def _answers(invitation):
    saved = services.answers_of(invitation)
    return [(q, saved[q.pk]) for q in services.questions_of(invitation)]
