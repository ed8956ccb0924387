"""Matches and answered questionnaires for the evaluation tests, made through the services."""

from datetime import timedelta

from django.utils import timezone

from evaluation import questionnaires as services
from evaluation.models import Invitation, Occasion, Questionnaire
from matching import services as matching_services

from ..factories import cleared_buddy, sign_all, waiting_participant


def active_match(scheme, coordinator, now=None):
    """A match taken through the real flow to active (which sends the start questionnaires)."""
    now = now or timezone.now()
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    match = matching_services.match_create(participant=participant, buddy=buddy, by=coordinator)
    matching_services.match_propose(match=match, by=coordinator)
    matching_services.match_accept(match=match, by_membership=participant)
    matching_services.match_accept(match=match, by_membership=buddy)
    matching_services.match_introduce(match=match, intro_at=now + timedelta(days=3), by=coordinator)
    sign_all(match)
    return matching_services.match_activate(match=match, by=coordinator, now=now)


def ons4(scheme) -> Questionnaire:
    return services.defaults_ensure(scheme)["ons4"]


def answer_ons4(invitation: Invitation, scores: dict[str, int], now=None, by=None):
    """Answer and send an ONS4 invitation: {measure code: score}."""
    questions = {q.code: q for q in services.questions_of(invitation)}
    services.answers_save(
        invitation=invitation,
        answers={questions[code].pk: str(score) for code, score in scores.items()},
        now=now,
    )
    return services.response_complete(invitation=invitation, by=by, now=now)


def paired(scheme, match, start_scores, end_scores, ended_at):
    """ONS4 answered at the match's start and end (the end sent at `ended_at`)."""
    questionnaire = ons4(scheme)
    for occasion, scores, at in (
        (Occasion.START, start_scores, ended_at - timedelta(days=180)),
        (Occasion.END, end_scores, ended_at),
    ):
        invitation = services.invitation_create(
            person=match.participant,
            questionnaire=questionnaire,
            occasion=occasion,
            match=match,
            now=at,
        )
        answer_ons4(invitation, scores, now=at)
