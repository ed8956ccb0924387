"""No personal data in logs or in what is queued for Celery (issue 21).

Every log record (all loggers, at DEBUG wherever the settings let a logger speak: the root
logger is lowered to DEBUG for the test; `django.db.backends`, `weasyprint` and `fontTools`
keep their configured WARNING, as in production) and every task queued (its args and kwargs,
recorded where Celery's apply_async is called) is searched for people's distinctive names,
emails and phone numbers.

Two journeys are driven:
- an invitation through the coordinator's page, its email sent by the outbox, the invitation
  accepted with a name;
- the full journey of a buddy and a participant, each with a distinctive name, surname, email
  and phone (texts allowed: buddies by default, the participant by consent): a match made and
  proposed (services), both say yes (their pages), the coordinator makes the agreement and all
  three sign it (pages), the match introduced and started (services), a meeting booked
  (service) and checked in (the buddy's Today page), left overdue so the sweep raises the
  check-out prompt and the overdue alert which the outbox delivers by email and text, checked
  out (Today page) so the all-clear goes, a debrief sent (its page), and a message from the
  buddy to the coordinators answered by a coordinator (their pages).

So the test can fail, it also checks that the identifiers did reach where they belong (the
emails and texts sent, the signatures) and that log records were captured at all.
"""

import logging
from contextlib import contextmanager
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

import time_machine
from celery.app.task import Task
from django.core import mail
from django.db import connection

from buddyscheme.channels import ConsoleSMSBackend
from buddyscheme.consent import consent_give
from buddyscheme.models import ConsentKind, Invitation, Notification, Role, Scheme, User
from buddyscheme.notifications import notifications_deliver
from contracts.models import Contract, ContractState
from contracts.services import SPECIFIC_DEFAULTS
from matching import services as matching_services
from matching.models import MatchState
from meetings import services as meeting_services
from meetings.models import Debrief, MeetingState
from messaging.models import Message

from ..base import PersonaTestCase
from ..factories import MembershipFactory, book_meeting, cleared_buddy, waiting_participant

EMAIL = "quillon.farthingale@example.org"
NAME = "Quillon"


class NoPersonalDataTest(PersonaTestCase):
    def test_an_invitation_leaves_no_personal_data_in_logs_or_queued_tasks(self):
        queued = []

        def record(task, args=None, kwargs=None, **options):
            queued.append((task.name, args, kwargs))

        with (
            self.assertLogs(level=logging.DEBUG) as logs,
            mock.patch.object(Task, "apply_async", autospec=True, side_effect=record),
        ):
            logging.getLogger("buddyscheme").debug("capture on")
            self.reauthenticate("coordinator")  # sending an invitation asks again
            with self.captureOnCommitCallbacks(execute=True):
                response = self.client.post(
                    "/coordinator/invitations/", {"email": EMAIL, "role": Role.BUDDY}
                )
            self.assertEqual(response.status_code, 302)
            notifications_deliver()
            invitation = Invitation.objects.get(email=EMAIL)
            self.client.logout()
            self.client.post(
                f"/invite/{invitation.token}/",
                {
                    "preferred_name": NAME,
                    "password1": "a-long-unusual-passphrase-71",
                    "password2": "a-long-unusual-passphrase-71",
                },
            )
            self.client.get(f"/invite/{invitation.token}/")
        self.assertTrue(any(m.to == [EMAIL] for m in mail.outbox), "the invitation was sent")
        self.assertTrue(queued, "the outbox queued its delivery task")
        logged = "\n".join(logs.output)
        for identifier in (EMAIL, "farthingale", NAME):
            self.assertNotIn(identifier.lower(), logged.lower())
            self.assertNotIn(identifier.lower(), repr(queued).lower())


UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 10:00 in London too (GMT)

BUDDY = {
    "first_name": "Ysolde",
    "last_name": "Brackenthorpe",
    "email": "ysolde.brackenthorpe@example.net",
    "phone": "07700 900417",
}
PARTICIPANT = {
    "first_name": "Corwenna",
    "last_name": "Hollinsclough",
    "email": "corwenna.hollinsclough@example.com",
    "phone": "07700 900582",
}


def identifiers(person):
    """Every way the app stores or prints this person: names, email, the phone as typed
    ("07700 900417"), without its spaces ("07700900417") and as texted ("+447700900417")."""
    national = person["phone"].replace(" ", "")
    return [
        person["first_name"],
        person["last_name"],
        person["email"],
        person["phone"],
        national,
        "+44" + national[1:],
    ]


def key_on(page, path):
    """The idempotency key of the Today page's form that posts to `path`."""
    html = page.content.decode()
    start = html.index(f'action="{path}"')
    key_at = html.index('name="key" value="', start) + len('name="key" value="')
    return html[key_at : html.index('"', key_at)]


class FullJourneyNoPersonalDataTest(PersonaTestCase):
    scheme: Scheme  # set by PersonaTestCase.setUpTestData
    coordinator: User

    def setUp(self):
        MembershipFactory(
            scheme=self.scheme, role=Role.COORDINATOR, is_on_call=True, user__email="oc@a.example"
        )
        self.buddy_member = cleared_buddy(self.scheme, email=BUDDY["email"])
        self.participant_member = waiting_participant(self.scheme, email=PARTICIPANT["email"])
        for member, person in (
            (self.buddy_member, BUDDY),
            (self.participant_member, PARTICIPANT),
        ):
            user = member.user
            user.first_name, user.last_name = person["first_name"], person["last_name"]
            user.save()
            user.profile.phone = person["phone"]
            user.profile.save()
        consent_give(membership=self.participant_member, kind=ConsentKind.SMS, by=self.coordinator)
        mail.outbox.clear()
        ConsoleSMSBackend.sent.clear()

    def as_user(self, user):
        self.client.logout()
        self.client.force_login(user)

    @contextmanager
    def step(self):
        """One request's or service call's transaction: its on-commit work (queueing the
        outbox's delivery task) runs, so what it queues is recorded; and it is then forgotten,
        as after a real commit, so the next step queues its own task."""
        start = len(connection.run_on_commit)
        with self.captureOnCommitCallbacks(execute=True):
            yield
        del connection.run_on_commit[start:]

    def journey(self):
        scheme, coordinator = self.scheme, self.coordinator
        buddy, participant = self.buddy_member, self.participant_member

        # A match made and proposed; each is told (email, and a text).
        with time_machine.travel(MONDAY_10AM - timedelta(days=7), tick=False):
            with self.step():
                match = matching_services.match_create(
                    participant=participant, buddy=buddy, by=coordinator
                )
            with self.step():
                matching_services.match_propose(match=match, by=coordinator)
            notifications_deliver()
            # Both say yes on their own page.
            for member in (participant, buddy):
                self.as_user(member.user)
                with self.step():
                    response = self.client.post(f"/matches/{match.pk}/accept/")
                self.assertEqual(response.status_code, 302)
            match.refresh_from_db()
            self.assertEqual(match.state, MatchState.ACCEPTED)

            # The agreement: made by the coordinator, signed by all three.
            self.as_user(coordinator)
            with self.step():
                response = self.client.post(
                    f"/coordinator/matches/{match.pk}/contract/",
                    {**SPECIFIC_DEFAULTS, "coordinator_phone": ""},
                )
            contract = Contract.objects.get(match=match)
            self.assertRedirects(response, f"/contracts/{contract.pk}/")
            for user in (participant.user, buddy.user, coordinator):
                self.as_user(user)
                with self.step():
                    response = self.client.post(
                        f"/contracts/{contract.pk}/",
                        {"typed_name": user.get_full_name(), "agreed": "on", "read_to_end": "on"},
                    )
                self.assertRedirects(response, f"/contracts/{contract.pk}/")
            contract.refresh_from_db()
            self.assertEqual(contract.state, ContractState.SIGNED)
            notifications_deliver()
            with self.step():
                matching_services.match_introduce(
                    match=match, intro_at=MONDAY_10AM - timedelta(days=7), by=coordinator
                )
            with self.step():
                match = matching_services.match_activate(match=match, by=coordinator)
            self.assertEqual(match.state, MatchState.ACTIVE)

        # A meeting booked and checked in on the buddy's Today page.
        with self.step():
            meeting = book_meeting(buddy, MONDAY_10AM, match=match)
        with time_machine.travel(MONDAY_10AM, tick=False):
            self.as_user(buddy.user)
            path = f"/meetings/{meeting.pk}/check-in/"
            with self.step():
                self.client.post(path, {"key": key_on(self.client.get("/today/"), path)})
        meeting.refresh_from_db()
        self.assertEqual(meeting.state, MeetingState.CHECKED_IN)

        # Overdue: the sweep raises the check-out prompt, then the overdue alert; the outbox
        # sends them by email and text.
        for late in (71, 81):
            moment = MONDAY_10AM + timedelta(minutes=late)
            with time_machine.travel(moment, tick=False), self.step():
                meeting_services.sweep(now=moment)
                notifications_deliver(now=moment)
        self.assertEqual(sorted(meeting.alerts.values_list("level", flat=True)), [1, 2])

        # Checked out on Today: the all-clear goes; the debrief is sent from its page.
        moment = MONDAY_10AM + timedelta(minutes=85)
        with time_machine.travel(moment, tick=False):
            self.as_user(buddy.user)
            path = f"/meetings/{meeting.pk}/check-out/"
            with self.step():
                response = self.client.post(path, {"key": key_on(self.client.get("/today/"), path)})
            self.assertRedirects(response, f"/meetings/{meeting.pk}/debrief/")
            notifications_deliver(now=moment)
            self.assertTrue(Notification.objects.filter(template="all_clear").exists())
            with self.step():
                response = self.client.post(
                    f"/meetings/{meeting.pk}/debrief/send/",
                    {
                        "how_it_went": "4",
                        "what_happened": "C.H. and I had coffee and did the housing form.",
                        "action_rows": "1",
                        "goal_rows": "1",
                        "action_0_text": "Ring the housing office",
                        "action_0_who": "participant",
                        "action_0_due": "2026-12-04",
                        "goal_0": "Walk to the library",
                    },
                )
            self.assertRedirects(response, "/today/", fetch_redirect_response=False)
            self.assertTrue(Debrief.objects.filter(meeting=meeting, state="sent").exists())

        # A message from the buddy to the coordinators, and a coordinator's reply.
        moment = MONDAY_10AM + timedelta(hours=2)
        with time_machine.travel(moment, tick=False):
            self.as_user(buddy.user)
            page = self.client.get("/messages/coordinators/")
            with self.step():
                self.client.post(
                    "/messages/coordinators/",
                    {
                        "text": "Can we talk about Thursday?",
                        "form_key": page.context["form"].initial["form_key"],
                    },
                )
            message = Message.objects.get()
            self.as_user(coordinator)
            thread = f"/coordinator/messages/{message.conversation_id}/"
            page = self.client.get(thread)
            with self.step():
                self.client.post(
                    thread,
                    {
                        "text": "Yes, I will ring at 2.",
                        "form_key": page.context["form"].initial["form_key"],
                    },
                )
            self.assertEqual(Message.objects.count(), 2)
            notifications_deliver(now=moment)
        self.assertEqual(scheme.pk, match.scheme_id)

    def test_a_full_journey_leaves_no_personal_data_in_logs_or_queued_tasks(self):
        queued = []

        def record(task, args=None, kwargs=None, **options):
            queued.append((task.name, args, kwargs))

        with (
            self.assertLogs(level=logging.DEBUG) as logs,
            mock.patch.object(Task, "apply_async", autospec=True, side_effect=record),
        ):
            logging.getLogger("buddyscheme").debug("capture on")
            self.journey()

        # It reached where it belongs: emails and texts to each person, the buddy's name and
        # phone in the alerts to staff, the names typed on the agreement.
        sent_to = {address for message in mail.outbox for address in message.to}
        self.assertLessEqual({BUDDY["email"], PARTICIPANT["email"]}, sent_to)
        texted = {phone for _, phone, _ in ConsoleSMSBackend.sent}
        self.assertLessEqual({"+447700900417", "+447700900582"}, texted)
        staff_bodies = "\n".join(
            str(m.body)
            for m in mail.outbox
            if m.to not in ([BUDDY["email"]], [PARTICIPANT["email"]])
        )
        self.assertIn(BUDDY["first_name"], staff_bodies)
        self.assertIn(BUDDY["phone"], staff_bodies)
        typed = " ".join(Contract.objects.get().signatures.values_list("typed_name", flat=True))
        for name in ("last_name", "first_name"):
            self.assertIn(BUDDY[name], typed)
            self.assertIn(PARTICIPANT[name], typed)

        # …and nowhere it does not: not in the logs, not in what was queued for Celery.
        self.assertGreater(len(logs.output), 1, "log records were captured")
        self.assertGreater(len(queued), 5, "the outbox queued a delivery task at each step")
        logged, tasks = "\n".join(logs.output).lower(), repr(queued).lower()
        for identifier in identifiers(BUDDY) + identifiers(PARTICIPANT):
            self.assertNotIn(identifier.lower(), logged)
            self.assertNotIn(identifier.lower(), tasks)
