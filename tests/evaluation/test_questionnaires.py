"""Questionnaires through their services: the shipped defaults, the builder's versions, sending
at a match's start, review and end (once each), the link, and answering."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import Notification, Role
from evaluation import questionnaires as services
from evaluation.models import (
    Answer,
    Invitation,
    Occasion,
    Question,
    QuestionKind,
    Questionnaire,
)
from evaluation.questionnaire_defaults import ONS4_MEASURES, QUOTE_CONSENT
from matching import services as matching_services
from matching.models import Match
from matching.signals import match_review_due

from ..factories import MembershipFactory, SchemeFactory
from .helpers import active_match, answer_ons4, ons4

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme():
    return SchemeFactory(sender_name="Appointments")


@pytest.fixture
def coordinator(scheme):
    return MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user


# --- The shipped defaults ---------------------------------------------------------------------


def test_a_new_scheme_has_ons4_in_ons_wording_and_the_exit_and_buddy_questionnaires(scheme):
    defaults = services.defaults_ensure(scheme)
    assert set(defaults) == {"ons4", "exit", "buddy"}
    version = services.latest_published(defaults["ons4"])
    questions = list(version.questions.all())
    assert [q.code for q in questions] == list(ONS4_MEASURES)
    assert [q.text for q in questions] == [
        "Overall, how satisfied are you with your life nowadays?",
        "Overall, to what extent do you feel that the things you do in your life are worthwhile?",
        "Overall, how happy did you feel yesterday?",
        "On a scale where 0 is not at all anxious and 10 is completely anxious, overall, how "
        "anxious did you feel yesterday?",
    ]
    assert {q.kind for q in questions} == {QuestionKind.SCALE}
    assert all(q.help_text for q in questions)
    exit_texts = [q.text for q in services.latest_published(defaults["exit"]).questions.all()]
    assert "May we quote what you wrote, without your name?" in exit_texts
    assert defaults["buddy"].audience == "buddy"
    assert defaults["ons4"].send_occasions == ["start", "review", "end"]
    assert defaults["exit"].send_occasions == defaults["buddy"].send_occasions == ["end"]
    # Made once: a second call (or the scheme saved again) adds nothing.
    scheme.save()
    services.defaults_ensure(scheme)
    assert Questionnaire.objects.filter(scheme=scheme).count() == 3


# --- The builder ------------------------------------------------------------------------------


def test_editing_a_published_questionnaire_makes_a_new_version_and_answers_keep_theirs(
    scheme, coordinator
):
    questionnaire = services.questionnaire_create(
        scheme=scheme, name="Groups", purpose="other", audience="participant", by=coordinator
    )
    draft = services.draft_of(questionnaire)
    assert draft.number == 1 and draft.is_draft
    with pytest.raises(DomainError, match="at least one question"):
        services.version_publish(version=draft, by=coordinator)
    first = services.question_add(
        version=draft,
        text="Did you feel welcome?",
        kind=QuestionKind.SINGLE,
        choices=["Yes", "No", ""],
        help_text="Choose one.",
        by=coordinator,
    )
    assert first.choices == ["Yes", "No"]
    with pytest.raises(DomainError, match="at least two choices"):
        services.question_add(
            version=draft, text="Pick", kind=QuestionKind.MULTIPLE, choices=["One"], by=coordinator
        )
    services.version_publish(version=draft, by=coordinator)
    with pytest.raises(DomainError, match="published"):
        services.question_add(version=draft, text="More?", kind="text", by=coordinator)

    participant = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    invitation = services.invitation_create(
        person=participant, questionnaire=questionnaire, occasion=Occasion.OTHER
    )
    services.answers_save(invitation=invitation, answers={first.pk: "Yes"})
    services.response_complete(invitation=invitation)

    second = services.draft_start(questionnaire=questionnaire, by=coordinator)
    assert second.number == 2
    assert services.draft_start(questionnaire=questionnaire, by=coordinator) == second  # one draft
    copied = second.questions.get()
    services.question_update(
        question=copied,
        text="Did you feel welcome today?",
        kind=QuestionKind.SINGLE,
        required=True,
        choices=["Yes", "Partly", "No"],
        by=coordinator,
    )
    services.version_publish(version=second, by=coordinator)

    # The answer still points at version 1's question, worded as it was asked.
    answer = Answer.objects.get(response__invitation=invitation)
    assert answer.question.text == "Did you feel welcome?"
    assert answer.response.version.number == 1
    later = services.invitation_create(
        person=participant, questionnaire=questionnaire, occasion=Occasion.OTHER
    )
    assert later.version == second
    assert services.questions_of(later)[0].text == "Did you feel welcome today?"


def test_questions_that_feed_the_outcomes_cannot_be_removed_or_change_kind(scheme, coordinator):
    draft = services.draft_start(questionnaire=ons4(scheme), by=coordinator)
    anxiety = draft.questions.get(code="anxiety")
    with pytest.raises(DomainError, match="outcomes"):
        services.question_delete(question=anxiety, by=coordinator)
    with pytest.raises(DomainError, match="fixed"):
        services.question_update(
            question=anxiety, text=anxiety.text, kind="text", required=True, by=coordinator
        )
    extra = services.question_add(version=draft, text="Anything else?", kind="text", by=coordinator)
    services.question_delete(question=extra, by=coordinator)
    assert list(draft.questions.values_list("position", flat=True)) == [1, 2, 3, 4]


# --- Sent at the start, review and end, once each ---------------------------------------------


def test_sent_at_start_review_and_end_once_each_through_the_outbox(scheme, coordinator):
    match = active_match(scheme, coordinator)
    start = Invitation.objects.filter(match=match, occasion=Occasion.START)
    assert [(i.questionnaire.key, i.person_id) for i in start] == [("ons4", match.participant_id)]
    notes = Notification.objects.filter(template="questionnaire_invitation")
    assert notes.count() == 1
    note = notes.get()
    # Ids only: nothing personal in the outbox row.
    assert note.context == {"questionnaire_invitation_id": start.get().pk}
    assert note.recipient_id == match.participant.user_id

    match_review_due.send(sender=Match, match=match, now=timezone.now())
    match_review_due.send(sender=Match, match=match, now=timezone.now())  # a redelivery
    assert Invitation.objects.filter(match=match, occasion=Occasion.REVIEW).count() == 1

    matching_services.match_end(
        match=match, by=coordinator, reason="planned", ending_type="planned"
    )
    ended = Invitation.objects.filter(match=match, occasion=Occasion.END)
    assert sorted((i.questionnaire.key, i.person_id) for i in ended) == sorted(
        [
            ("ons4", match.participant_id),
            ("exit", match.participant_id),
            ("buddy", match.buddy_id),
        ]
    )
    # The end signal again (a retried task): nothing new.
    services.invitations_for_occasion(match=match, occasion=Occasion.END)
    assert Invitation.objects.filter(match=match).count() == 5
    assert notes.count() == 5


def test_the_message_is_discreet_and_carries_a_working_link(scheme, coordinator, mailoutbox):
    from buddyscheme.notifications import notifications_deliver

    match = active_match(scheme, coordinator)
    notifications_deliver()
    email = next(m for m in mailoutbox if "A few questions" in m.subject)
    assert email.subject == "A few questions from Appointments"
    body = email.body
    for word in (match.buddy.user.first_name, match.participant.user.last_name, "HIV"):
        assert word not in body
    token = re.search(r"/q/([^/\s]+)/", body).group(1)
    assert services.invitation_for_token(token) == Invitation.objects.get(match=match)


def test_a_schedule_chooses_what_is_sent(scheme, coordinator):
    services.schedule_set(questionnaire=ons4(scheme), occasions=["end"], by=coordinator)
    match = active_match(scheme, coordinator)
    assert not Invitation.objects.filter(match=match).exists()
    with pytest.raises(DomainError):
        services.schedule_set(questionnaire=ons4(scheme), occasions=["never"], by=coordinator)


# --- The link ---------------------------------------------------------------------------------


def _invitation(scheme, now=None):
    person = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    return services.invitation_create(
        person=person, questionnaire=ons4(scheme), occasion=Occasion.OTHER, now=now
    )


def test_a_tampered_or_older_link_is_refused(scheme, coordinator):
    invitation = _invitation(scheme)
    token = services.invitation_token(invitation)
    assert services.invitation_for_token(token) == invitation
    for bad in (token[:-2] + "xx", "not-a-token", token.replace(":", "")):
        with pytest.raises(services.LinkUnusable) as refused:
            services.invitation_for_token(bad)
        assert refused.value.reason == "tampered"
    services.invitation_resend(invitation=invitation, by=coordinator)
    with pytest.raises(services.LinkUnusable) as refused:
        services.invitation_for_token(token)  # the old link
    assert refused.value.reason == "tampered"


def test_a_link_expires(scheme):
    with time_machine.travel("2026-11-01 10:00Z", tick=False):
        invitation = _invitation(scheme)
        token = services.invitation_token(invitation)
    with time_machine.travel("2026-11-28 10:00Z", tick=False):
        assert services.invitation_for_token(token) == invitation
    with (
        time_machine.travel("2026-11-29 10:01Z", tick=False),
        pytest.raises(services.LinkUnusable) as refused,
    ):
        services.invitation_for_token(token)
    assert refused.value.reason == "expired"


# --- Answering --------------------------------------------------------------------------------


def test_partial_answers_are_saved_and_sending_is_once(scheme):
    invitation = _invitation(scheme)
    questions = services.questions_of(invitation)
    services.answers_save(invitation=invitation, answers={questions[0].pk: "7"})
    assert services.answers_of(invitation) == {questions[0].pk: 7}
    with pytest.raises(DomainError, match="0 to 10"):
        services.answers_save(invitation=invitation, answers={questions[1].pk: "11"})
    with pytest.raises(DomainError, match="every question"):
        services.response_complete(invitation=invitation)
    # A changed mind: cleared, then answered again.
    services.answers_save(invitation=invitation, answers={questions[0].pk: ""})
    assert services.answers_of(invitation) == {}
    response = answer_ons4(
        invitation, {"life_satisfaction": 6, "worthwhile": 7, "happiness": 5, "anxiety": 3}
    )
    assert response.completed_at and response.completed_with is None
    assert response.answers.count() == 4
    with pytest.raises(services.LinkUnusable) as refused:
        services.response_complete(invitation=invitation)
    assert refused.value.reason == "used"
    with pytest.raises(services.LinkUnusable):
        services.invitation_for_token(services.invitation_token(invitation))


def test_the_quotes_consent_is_kept_with_the_answers(scheme):
    person = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    exit_form = services.defaults_ensure(scheme)["exit"]
    invitation = services.invitation_create(
        person=person, questionnaire=exit_form, occasion=Occasion.OTHER
    )
    questions = services.questions_of(invitation)
    answers = {}
    for question in questions:
        if question.code == QUOTE_CONSENT:
            answers[question.pk] = "Yes"
        elif question.kind in (QuestionKind.SINGLE, QuestionKind.LIKERT):
            answers[question.pk] = question.options[0]
        elif question.kind == QuestionKind.MULTIPLE:
            answers[question.pk] = [question.options[0], question.options[2]]
        else:
            answers[question.pk] = "It got me out of the house."
    services.answers_save(invitation=invitation, answers=answers)
    response = services.response_complete(invitation=invitation)
    assert response.quote_consent is True


def test_completed_with_a_coordinator_is_recorded_as_such(scheme, coordinator):
    match = active_match(scheme, coordinator)
    Invitation.objects.filter(match=match).delete()
    sent_before = Notification.objects.filter(template="questionnaire_invitation").count()
    invitation = services.start_with_coordinator(
        person=match.participant, questionnaire=ons4(scheme), occasion="start", by=coordinator
    )
    assert invitation.match == match and invitation.sent_at is None
    assert Notification.objects.filter(template="questionnaire_invitation").count() == sent_before
    response = answer_ons4(
        invitation,
        {"life_satisfaction": 3, "worthwhile": 4, "happiness": 2, "anxiety": 8},
        by=coordinator,
    )
    assert response.completed_with == coordinator
    with pytest.raises(DomainError, match="already answered"):
        services.start_with_coordinator(
            person=match.participant, questionnaire=ons4(scheme), occasion="start", by=coordinator
        )
    with pytest.raises(DomainError, match="for buddies"):
        services.start_with_coordinator(
            person=match.participant,
            questionnaire=services.defaults_ensure(scheme)["buddy"],
            occasion="other",
            by=coordinator,
        )


def test_an_unpublished_questionnaire_is_not_sent(scheme, coordinator):
    questionnaire = services.questionnaire_create(
        scheme=scheme, name="Draft only", purpose="other", audience="participant", by=coordinator
    )
    person = MembershipFactory(scheme=scheme, role=Role.PARTICIPANT)
    assert (
        services.invitation_create(
            person=person, questionnaire=questionnaire, occasion=Occasion.OTHER
        )
        is None
    )
    assert Question.objects.filter(version__questionnaire=questionnaire).count() == 0


def test_expiry_is_four_weeks(scheme):
    now = timezone.now()
    invitation = _invitation(scheme, now=now)
    assert invitation.expires_at == now + timedelta(days=services.LINK_VALID_DAYS)
