"""Real PostgreSQL: two reminder runs, or two coordinators pressing Nudge, at the same moment
queue each message once (the conditional UPDATE is the claim and the rate limit)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from buddyscheme.errors import DomainError
from buddyscheme.models import AuditEvent, Notification, Role
from matching import proposals, services

from ..factories import MembershipFactory, SchemeFactory, cleared_buddy, waiting_participant
from ..meetings.test_concurrency import run_together

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _proposals(count):
    scheme = SchemeFactory()
    coordinator = MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user
    proposed_at = timezone.now() - timedelta(days=4)
    return coordinator, [
        services.match_create(
            participant=waiting_participant(scheme),
            buddy=cleared_buddy(scheme),
            by=coordinator,
            state="proposed",
            now=proposed_at,
        )
        for _ in range(count)
    ]


def test_two_reminder_runs_at_once_remind_each_person_once():
    _, matches = _proposals(10)
    run_together(proposals.proposals_remind, copies=4)
    reminders = Notification.objects.filter(template="match_reminder")
    assert reminders.count() == 10 * 2  # buddy and participant, by email
    assert AuditEvent.objects.filter(verb="match_remind").count() == 10


def test_two_nudges_at_once_send_once():
    coordinator, [match] = _proposals(1)
    refused = []

    def nudge():
        try:
            proposals.match_nudge(match=match, by=coordinator)
        except DomainError:
            refused.append(True)

    run_together(nudge, copies=4)
    assert len(refused) == 3
    assert Notification.objects.filter(template="match_reminder").count() == 2
    assert AuditEvent.objects.filter(verb="match_nudge").count() == 1
