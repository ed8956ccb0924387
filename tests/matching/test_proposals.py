"""Issue 14 point 3: nobody was told about a proposal. Proposing tells each person who must
answer (discreetly, texts only with consent), their home page asks them, a reminder goes once
after three days, and the coordinator sees what is waiting, nudges, and records phone answers."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from buddyscheme.channels import ConsoleSMSBackend
from buddyscheme.consent import consent_give
from buddyscheme.models import AuditEvent, Channel, ConsentKind, Notification, Role
from buddyscheme.notifications import notifications_deliver
from evaluation.dashboard import forget_figures
from matching import proposals, services
from matching.models import Match, MatchState

from ..base import PersonaTestCase, assert_audited
from ..factories import (
    MembershipFactory,
    SchemeFactory,
    cleared_buddy,
    menu,
    waiting_participant,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme():
    # The charity's real name says what the scheme is about; nothing we send may.
    return SchemeFactory(name="Positive Living HIV Buddies", sender_name="Appointments")


@pytest.fixture
def coordinator(scheme):
    return MembershipFactory(scheme=scheme, role=Role.COORDINATOR).user


def _with_phone(membership, phone="07700 900123"):
    membership.user.profile.phone = phone
    membership.user.profile.save()
    return membership


def _messages(match, template="match_proposed"):
    return Notification.objects.filter(template=template, context__match_id=match.pk)


def _addressed(rows):
    return sorted((row.recipient_id, row.channel) for row in rows)


def test_proposing_tells_each_person_discreetly_and_texts_only_with_consent(scheme, coordinator):
    participant = _with_phone(waiting_participant(scheme))
    buddy = _with_phone(cleared_buddy(scheme), "07700 900456")
    match = services.match_create(participant=participant, buddy=buddy, by=coordinator)
    assert not _messages(match).exists()  # a draft is the coordinator's working note

    ConsoleSMSBackend.sent.clear()
    services.match_propose(match=match, by=coordinator)
    # The participant has a phone but never agreed to texts: email only. Buddies are texted
    # unless they opted out.
    assert _addressed(_messages(match)) == sorted(
        [
            (participant.user_id, Channel.EMAIL),
            (buddy.user_id, Channel.EMAIL),
            (buddy.user_id, Channel.SMS),
        ]
    )
    notifications_deliver()
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert message.from_email.startswith("Appointments <")
        assert f"/matches/{match.pk}/" in message.body
        for text in (message.subject, message.body):
            assert "HIV" not in text and "Positive Living" not in text
            assert participant.user.first_name not in text and buddy.user.first_name not in text
    [(_, phone, text)] = ConsoleSMSBackend.sent
    assert phone.endswith("7700900456") and f"/matches/{match.pk}/" in text and "HIV" not in text


def test_a_participant_who_agreed_to_texts_is_texted(scheme, coordinator):
    participant = _with_phone(waiting_participant(scheme))
    consent_give(membership=participant, kind=ConsentKind.SMS, by=coordinator)
    match = services.match_create(
        participant=participant, buddy=cleared_buddy(scheme), by=coordinator, state="proposed"
    )
    assert (participant.user_id, Channel.SMS) in _addressed(_messages(match))


def test_releasing_a_round_tells_everyone_in_it(scheme, coordinator):
    items = menu(scheme, "Cooking")
    people = [waiting_participant(scheme, items=items) for _ in range(2)]
    buddies = [cleared_buddy(scheme, items=items) for _ in range(2)]
    matching_round = services.round_run(
        scheme=scheme,
        participant_ids=[p.pk for p in people],
        buddy_ids=[b.pk for b in buddies],
        by=coordinator,
    )
    assert not Notification.objects.filter(template="match_proposed").exists()
    services.round_release(matching_round=matching_round, by=coordinator)
    told = {row.recipient_id for row in Notification.objects.filter(template="match_proposed")}
    assert told == {m.user_id for m in people + buddies}


def test_choosing_a_buddy_asks_only_the_buddy(scheme, coordinator):
    participant = waiting_participant(scheme)
    buddy = cleared_buddy(scheme)
    offer = services.suggestion_offer_create(participant=participant, by=coordinator)
    match = services.suggestion_choose(
        offer=offer, option_id=offer.options.get().pk, by_membership=participant
    )
    assert {row.recipient_id for row in _messages(match)} == {buddy.user_id}


def test_an_unanswered_proposal_is_reminded_once_after_three_days(scheme, coordinator):
    from matching.tasks import remind_unanswered_proposals

    start = timezone.now()
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    with time_machine.travel(start, tick=False):
        match = services.match_create(
            participant=participant, buddy=buddy, by=coordinator, state="proposed"
        )
        services.match_accept(match=match, by_membership=participant)
    for days in (1, 2, 2.9):
        with time_machine.travel(start + timedelta(days=days), tick=False):
            remind_unanswered_proposals()
    assert not _messages(match, "match_reminder").exists()
    # After three days the one who has not answered (the buddy) is reminded, once, however often
    # the schedule runs (or runs twice).
    for days in (3.1, 3.1, 4, 10):
        with time_machine.travel(start + timedelta(days=days), tick=False):
            remind_unanswered_proposals()
    assert {row.recipient_id for row in _messages(match, "match_reminder")} == {buddy.user_id}
    assert _messages(match, "match_reminder").count() == 1  # email only: no phone
    match.refresh_from_db()
    assert match.reminded_at == start + timedelta(days=3.1)
    assert_audited(verb="match_remind", obj=match, actor=None, scheme=scheme)


def test_answered_and_withdrawn_proposals_are_not_reminded(scheme, coordinator):
    from matching.tasks import remind_unanswered_proposals

    start = timezone.now() - timedelta(days=5)
    with time_machine.travel(start, tick=False):
        answered = services.match_create(
            participant=waiting_participant(scheme),
            buddy=cleared_buddy(scheme),
            by=coordinator,
            state="proposed",
        )
        withdrawn = services.match_create(
            participant=waiting_participant(scheme),
            buddy=cleared_buddy(scheme),
            by=coordinator,
            state="proposed",
        )
    services.match_accept(match=answered, by_membership=answered.participant)
    services.match_accept(match=answered, by_membership=answered.buddy)
    services.match_withdraw(match=withdrawn, by=coordinator)
    remind_unanswered_proposals()
    assert not Notification.objects.filter(template="match_reminder").exists()


def test_the_reminder_is_on_the_one_schedule():
    from buddyscheme.celery import app

    entry = app.conf.beat_schedule["remind-unanswered-proposals"]
    assert entry["task"] == "matching.tasks.remind_unanswered_proposals"
    assert entry["task"] in app.tasks


def test_nudging_is_once_a_day_and_audited(scheme, coordinator):
    start = timezone.now()
    participant, buddy = waiting_participant(scheme), cleared_buddy(scheme)
    match = services.match_create(
        participant=participant, buddy=buddy, by=coordinator, state="proposed"
    )
    with time_machine.travel(start, tick=False):
        proposals.match_nudge(match=match, by=coordinator)
    assert {row.recipient_id for row in _messages(match, "match_reminder")} == {
        participant.user_id,
        buddy.user_id,
    }
    with (
        time_machine.travel(start + timedelta(hours=23), tick=False),
        pytest.raises(Exception, match="already reminded"),
    ):
        proposals.match_nudge(match=match, by=coordinator)
    assert _messages(match, "match_reminder").count() == 2
    services.match_accept(match=match, by_membership=participant)
    with time_machine.travel(start + timedelta(hours=25), tick=False):
        proposals.match_nudge(match=match, by=coordinator)
    # The second nudge goes only to the buddy, who has still not answered.
    assert _messages(match, "match_reminder").filter(recipient=buddy.user).count() == 2
    assert _messages(match, "match_reminder").filter(recipient=participant.user).count() == 1
    assert AuditEvent.objects.filter(verb="match_nudge", object_id=match.pk).count() == 2


class ProposalPagesTest(PersonaTestCase):
    """The home pages ask; the coordinator sees what is waiting, nudges, and records answers."""

    def setUp(self):
        self.items = menu(self.scheme, "Cooking")
        self.waiting = waiting_participant(self.scheme, items=self.items, email="grace@a.example")
        self.cleared = cleared_buddy(self.scheme, items=self.items, email="amara@a.example")
        self.cleared.user.profile.preferred_name = "Amara"
        self.cleared.user.profile.save()
        self.waiting.user.profile.preferred_name = "Grace"
        self.waiting.user.profile.save()
        self.match = services.match_create(
            participant=self.waiting, buddy=self.cleared, by=self.coordinator, state="proposed"
        )

    def test_the_participants_home_and_the_buddys_today_ask_for_an_answer(self):
        self.client.force_login(self.waiting.user)
        home = self.client.get("/me/")
        self.assertContains(home, "Please answer")
        self.assertContains(home, f'href="/matches/{self.match.pk}/"')
        self.assertContains(home, "Amara")
        self.client.force_login(self.cleared.user)
        today = self.client.get("/today/")
        self.assertContains(today, "Please answer")
        self.assertContains(today, f'href="/matches/{self.match.pk}/"')
        # Once answered, the card goes from that person's page only.
        services.match_accept(match=self.match, by_membership=self.cleared)
        self.assertNotContains(self.client.get("/today/"), "Please answer")
        self.client.force_login(self.waiting.user)
        self.assertContains(self.client.get("/me/"), "Please answer")

    def test_the_coordinator_sees_proposals_awaiting_an_answer_and_nudges(self):
        self.login_as("coordinator")
        page = self.client.get("/coordinator/matching/")
        self.assertContains(page, "Proposals awaiting an answer")
        self.assertContains(page, f"/coordinator/matching/matches/{self.match.pk}/nudge/")
        self.assertContains(self.client.get("/coordinator/"), "Proposals awaiting an answer")
        url = f"/coordinator/matching/matches/{self.match.pk}/nudge/"
        response = self.client.post(url, follow=True)
        self.assertContains(response, "reminder has gone")
        response = self.client.post(url, follow=True)
        self.assertContains(response, "already reminded")
        self.assertEqual(
            Notification.objects.filter(
                template="match_reminder", context__match_id=self.match.pk
            ).count(),
            2,
        )
        assert_audited(
            verb="match_nudge", obj=self.match, actor=self.coordinator, scheme=self.scheme
        )
        self.assertContains(self.client.get("/coordinator/matching/"), "Nudged")

    def test_a_coordinator_records_an_answer_given_by_phone(self):
        self.login_as("coordinator")
        url = f"/coordinator/matching/matches/{self.match.pk}/answer/"
        response = self.client.post(url, {"side": "participant", "answer": ""})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "This field is required")
        self.assertRegex(response.content.decode(), r'value="participant"[^>]*checked')
        self.assertRedirects(
            self.client.post(url, {"side": "participant", "answer": "yes"}),
            f"/matches/{self.match.pk}/",
        )
        self.match.refresh_from_db()
        self.assertIsNotNone(self.match.participant_accepted_at)
        self.assertEqual(self.match.participant_answer_recorded_by, self.coordinator)
        page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(page, f"recorded by {self.coordinator.display_name}")
        self.client.post(url, {"side": "buddy", "answer": "no", "reason": ""})
        self.match.refresh_from_db()
        self.assertEqual(
            (self.match.state, self.match.declined_by, self.match.buddy_answer_recorded_by),
            (MatchState.DECLINED, "buddy", self.coordinator),
        )
        rows = AuditEvent.objects.filter(
            object_id=self.match.pk, verb__in=["match_accept", "match_decline"]
        )
        self.assertEqual({row.actor_id for row in rows}, {self.coordinator.pk})

    def test_a_participant_sees_who_recorded_their_answer(self):
        proposals.match_answer_record(
            match=self.match, side="participant", answer="yes", reason="", by=self.coordinator
        )
        self.client.force_login(self.waiting.user)
        page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(page, "You said yes")
        self.assertContains(page, self.coordinator.display_name)

    def test_the_waiting_list_stays_flat_as_proposals_grow(self):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.login_as("coordinator")

        def count(url):
            forget_figures(self.scheme)  # the cached figures worked out afresh each time
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get(url).status_code, 200)
            return len(queries)

        small = {url: count(url) for url in ("/coordinator/matching/", "/coordinator/")}
        for _ in range(4):
            match = services.match_create(
                participant=waiting_participant(self.scheme, items=self.items),
                buddy=cleared_buddy(self.scheme, items=self.items),
                by=self.coordinator,
                state="proposed",
            )
            proposals.match_nudge(match=match, by=self.coordinator)
            proposals.match_answer_record(
                match=match, side="buddy", answer="yes", reason="", by=self.coordinator
            )
        self.assertEqual(small, {url: count(url) for url in small})
        self.assertEqual(Match.objects.filter(state=MatchState.PROPOSED).count(), 5)


class ParticipantProposalScreenTest(PersonaTestCase):
    """Issue 14 point 4: the screen said nothing about the buddy."""

    def setUp(self):
        from matching.models import MatchProfile, slot_index

        cooking, forms, gardening, english = menu(
            self.scheme, "Cooking on a budget", "Benefits forms", "Gardening", "English practice"
        )
        self.waiting = waiting_participant(
            self.scheme,
            items=[cooking, forms, english],
            email="grace@a.example",
            languages=["english", "shona"],
            availability=1 << slot_index(0, 0) | 1 << slot_index(2, 2),
        )
        self.cleared = cleared_buddy(
            self.scheme,
            items=[cooking, forms, gardening],
            languages=["english", "shona", "french"],
            availability=1 << slot_index(0, 0)
            | 1 << slot_index(4, 1)
            | 1 << slot_index(5, 1)
            | 1 << slot_index(5, 2),
            about="I love cooking and long walks.",
        )
        self.cleared.user.first_name, self.cleared.user.last_name = "Amara", "Okafor-Surname"
        self.cleared.user.save()
        MatchProfile.objects.filter(membership=self.cleared).update(capacity=2)
        self.match = services.match_create(
            participant=self.waiting, buddy=self.cleared, by=self.coordinator, state="proposed"
        )
        self.url = f"/matches/{self.match.pk}/"
        self.client.force_login(self.waiting.user)

    def test_the_participant_reads_about_the_buddy_before_answering(self):
        page = self.client.get(self.url)
        self.assertContains(page, "Amara")
        self.assertNotContains(page, "Okafor-Surname")
        # What they can help with: the buddy's offers this participant wants, and only those.
        self.assertContains(page, "Cooking on a budget")
        self.assertContains(page, "Benefits forms")
        self.assertNotContains(page, "Gardening")
        self.assertNotContains(page, "English practice")
        self.assertContains(page, "Shona")
        self.assertContains(page, "French")
        self.assertContains(page, "Monday morning")
        self.assertContains(page, "Friday afternoon")
        self.assertContains(page, "Saturday afternoon and evening")  # a line a day
        self.assertContains(page, "I love cooking and long walks.")
        self.assertContains(page, "What happens next")
        # Yes and No look the same; no reason is asked for before No.
        content = page.content.decode()
        yes = re.search(r'<button[^>]*class="([^"]*)"[^>]*>\s*Yes', content)
        no = re.search(
            r'<form method="get" action="[^"]*decline/">\s*<button[^>]*class="([^"]*)"[^>]*>\s*No',
            content,
        )
        self.assertIsNotNone(yes, "a Yes button")
        self.assertIsNotNone(no, "a No button that opens the decline page")
        self.assertEqual(yes.group(1), no.group(1))
        self.assertNotContains(page, 'name="reason"')
        self.assertContains(page, "talk to my coordinator first")

    def test_yes_is_one_press(self):
        response = self.client.post(self.url + "accept/")
        self.assertRedirects(response, self.url)
        self.match.refresh_from_db()
        self.assertIsNotNone(self.match.participant_accepted_at)
        self.assertContains(self.client.get(self.url), "You said yes")

    def test_no_asks_for_a_reason_afterwards_and_it_is_optional(self):
        page = self.client.get(self.url + "decline/")
        self.assertContains(page, 'name="reason"')
        self.assertContains(page, "optional")
        self.assertRedirects(self.client.post(self.url + "decline/", {"reason": ""}), "/matches/")
        self.match.refresh_from_db()
        self.assertEqual(
            (self.match.state, self.match.declined_by, self.match.decline_reason),
            (MatchState.DECLINED, "participant", ""),
        )

    def test_a_reason_given_is_kept(self):
        self.client.post(self.url + "decline/", {"reason": "I work evenings"})
        self.match.refresh_from_db()
        self.assertEqual(self.match.decline_reason, "I work evenings")

    def test_asking_to_talk_first_tells_the_coordinator_and_leaves_it_open(self):
        response = self.client.post(self.url + "talk/", follow=True)
        self.assertContains(response, "We have told your coordinator")
        self.match.refresh_from_db()
        self.assertEqual(self.match.state, MatchState.PROPOSED)
        self.assertIsNotNone(self.match.talk_requested_at)
        told = Notification.objects.filter(template="match_talk_request")
        self.assertEqual({row.recipient_id for row in told}, {self.coordinator.pk})
        self.assertNotIn("Grace", str(told.first().context))
        # Pressing again does not send again, and the page says it has been asked.
        self.client.post(self.url + "talk/")
        self.assertEqual(told.count(), 1)
        page = self.client.get(self.url)
        self.assertContains(page, "You asked to talk to your coordinator")
        self.assertContains(page, "accept/")  # still open: they can answer after the call
        assert_audited(
            verb="match_talk_request", obj=self.match, actor=self.waiting.user, scheme=self.scheme
        )
        self.login_as("coordinator")
        self.assertContains(self.client.get("/coordinator/matching/"), "Asked to talk")

    def test_nobody_else_can_answer(self):
        self.login_as("participant")  # another participant of the same scheme
        self.assertEqual(self.client.post(self.url + "accept/").status_code, 403)
        self.assertEqual(self.client.post(self.url + "talk/").status_code, 403)
        self.assertEqual(self.client.get(self.url + "decline/").status_code, 403)
        self.login_as("coordinator")  # coordinators record answers on their own page
        self.assertEqual(self.client.post(self.url + "accept/").status_code, 403)
        self.match.refresh_from_db()
        self.assertIsNone(self.match.participant_accepted_at)
