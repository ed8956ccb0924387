"""References by link: asked for at the references stage or by the button, single use,
expiring, tamper-proof; the reminder after 7 days (once); the coordinator's decision."""

import re
from datetime import timedelta

import time_machine
from django.core import mail, signing
from django.utils import timezone

from buddyscheme.models import AuditEvent, BuddyStage, Notification
from buddyscheme.notifications import notifications_deliver
from buddyscheme.vetting import buddy_stage_move
from recruitment import services
from recruitment.models import Reference
from recruitment.tasks import chase_references

from ..base import PersonaTestCase
from .helpers import application_arguments, publish_front_door

ANSWERS = {
    "how_known": "I managed them for four years.",
    "suitable": "yes",
    "suitability_comments": "Kind and steady.",
    "reliability": "Never missed a shift.",
    "concerns": "",
    "consent_to_share": "on",
}


def link_in(message) -> str:
    return re.search(r"https?://\S+(/reference/[^/\s]+/)", message.body).group(1)


class ReferenceTestCase(PersonaTestCase):
    def setUp(self):
        publish_front_door(self.scheme)
        self.application = services.application_submit(
            scheme=self.scheme, **application_arguments()
        )
        self.applicant = self.application.membership
        Notification.objects.all().delete()

    def ask(self, now=None):
        return services.references_request(membership=self.applicant, by=self.coordinator, now=now)

    def links(self) -> dict[str, str]:
        notifications_deliver()
        links = {message.to[0]: link_in(message) for message in mail.outbox}
        mail.outbox.clear()
        return links


class RequestTest(ReferenceTestCase):
    def test_moving_to_the_references_stage_emails_each_referee_a_link(self):
        with self.captureOnCommitCallbacks(execute=True):
            buddy_stage_move(
                membership=self.applicant,
                to_stage=BuddyStage.REFERENCES,
                by=self.coordinator,
                evidence="Interview went well",
            )
        links = self.links()
        self.assertEqual(set(links), {"ruth@example.org", "tom@example.org"})
        # The outbox keeps the reference's id, never a working link.
        for row in Notification.objects.filter(template="reference_request"):
            self.assertEqual(set(row.context), {"reference_id"})
        self.assertEqual(
            Reference.objects.filter(requested_at__isnull=False, expires_at__isnull=False).count(),
            2,
        )
        self.assertEqual(AuditEvent.objects.filter(verb="reference_request").count(), 2)

    def test_button_asks_once_and_pressing_again_sends_nothing_new(self):
        self.login_as("coordinator")
        url = f"/coordinator/people/{self.applicant.pk}/references/request/"
        self.client.post(url)
        self.client.post(url)
        self.assertEqual(Notification.objects.filter(template="reference_request").count(), 2)

    def test_other_schemes_coordinator_cannot_ask(self):
        self.login_as("other_coordinator")
        url = f"/coordinator/people/{self.applicant.pk}/references/request/"
        self.assertEqual(self.client.post(url).status_code, 404)
        self.assertFalse(Notification.objects.exists())


class LinkTest(ReferenceTestCase):
    def test_referee_answers_once_and_coordinators_are_told(self):
        self.ask()
        link = self.links()["ruth@example.org"]
        page = self.client.get(link)
        self.assertContains(page, "A reference for Sam Okafor")
        response = self.client.post(link, ANSWERS)
        self.assertRedirects(response, "/reference/thanks/")
        reference = Reference.objects.get(referee_email="ruth@example.org")
        self.assertIsNotNone(reference.returned_at)
        self.assertEqual(reference.suitable, "yes")
        self.assertTrue(reference.consent_to_share)
        told = Notification.objects.get(template="reference_returned")
        self.assertEqual(told.recipient, self.coordinator)
        # Reused: a clear page, and the answers stay as first given.
        again = self.client.post(link, {**ANSWERS, "suitable": "no"})
        self.assertEqual(again.status_code, 410)
        self.assertContains(again, "already been sent", status_code=410)
        reference.refresh_from_db()
        self.assertEqual(reference.suitable, "yes")

    def test_invalid_answers_keep_what_was_typed(self):
        self.ask()
        link = self.links()["ruth@example.org"]
        response = self.client.post(link, {**ANSWERS, "suitable": ""})
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "I managed them for four years.")
        self.assertIsNone(Reference.objects.get(referee_email="ruth@example.org").returned_at)

    def test_expired_link_is_refused(self):
        self.ask()
        link = self.links()["ruth@example.org"]
        with time_machine.travel(timezone.now() + timedelta(days=22)):
            response = self.client.get(link)
            self.assertEqual(response.status_code, 410)
            self.assertContains(response, "expired", status_code=410)
            self.client.post(link, ANSWERS)
        self.assertFalse(Reference.objects.filter(returned_at__isnull=False).exists())

    def test_tampered_links_are_refused(self):
        self.ask()
        link = self.links()["ruth@example.org"]
        token = link.split("/")[2]
        other = Reference.objects.get(referee_email="tom@example.org")
        forged = [
            token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature changed
            signing.dumps([other.pk, "guessed-nonce"], salt=services.REFERENCE_SALT),
            signing.dumps([other.pk, other.nonce], salt="another-salt"),
            "not-a-token",
        ]
        for bad in forged:
            response = self.client.post(f"/reference/{bad}/", ANSWERS)
            self.assertEqual(response.status_code, 410, bad)
            self.assertContains(response, "not complete or is no longer valid", status_code=410)
        self.assertFalse(Reference.objects.filter(returned_at__isnull=False).exists())

    def test_asking_again_after_expiry_sends_a_new_link_and_the_old_one_stops(self):
        start = timezone.now()
        self.ask(now=start)
        old = self.links()["ruth@example.org"]
        with time_machine.travel(start + timedelta(days=22)):
            asked = self.ask()
            self.assertEqual(len(asked), 2)
            new = self.links()["ruth@example.org"]
            self.assertNotEqual(old, new)
            self.assertEqual(self.client.get(old).status_code, 410)
            self.assertEqual(self.client.get(new).status_code, 200)


class ReminderTest(ReferenceTestCase):
    def test_one_reminder_after_seven_days_without_an_answer(self):
        start = timezone.now()
        self.ask(now=start)
        link = self.links()["ruth@example.org"]
        self.client.post(link, ANSWERS)  # Ruth answers at once
        self.assertEqual(services.references_chase(now=start + timedelta(days=6)), 0)
        with time_machine.travel(start + timedelta(days=7, minutes=1)):
            chase_references()
            chase_references()  # a redelivered task reminds no one twice
        reminders = Notification.objects.filter(template="reference_reminder")
        self.assertEqual([row.to_email for row in reminders], ["tom@example.org"])
        mail.outbox.clear()
        notifications_deliver(now=start + timedelta(days=7, minutes=2))
        to_tom = [message for message in mail.outbox if message.to == ["tom@example.org"]]
        self.assertEqual(len(to_tom), 1)
        self.assertIn("/reference/", to_tom[0].body)
        self.assertIn("A short reminder", to_tom[0].body)
        self.assertEqual(services.references_chase(now=start + timedelta(days=10)), 0)

    def test_remind_now_button(self):
        self.ask()
        tom = Reference.objects.get(referee_email="tom@example.org")
        self.login_as("coordinator")
        response = self.client.post(f"/coordinator/references/{tom.pk}/remind/")
        self.assertEqual(response.status_code, 302)
        self.client.post(f"/coordinator/references/{tom.pk}/remind/")  # the same day: once
        self.assertEqual(Notification.objects.filter(template="reference_reminder").count(), 1)
        tom.refresh_from_db()
        self.assertIsNotNone(tom.reminded_at)
        # The automatic one then goes to the other referee only.
        services.references_chase(now=timezone.now() + timedelta(days=8))
        self.assertEqual(
            Notification.objects.filter(
                template="reference_reminder", to_email="tom@example.org"
            ).count(),
            1,
        )


class DecisionTest(ReferenceTestCase):
    def test_coordinator_records_a_decision_on_a_returned_reference(self):
        self.ask()
        link = self.links()["ruth@example.org"]
        self.client.post(link, ANSWERS)
        ruth = Reference.objects.get(referee_email="ruth@example.org")
        tom = Reference.objects.get(referee_email="tom@example.org")
        self.login_as("coordinator")
        person = self.client.get(f"/coordinator/people/{self.applicant.pk}/")
        self.assertContains(person, "Never missed a shift.")
        self.assertContains(person, "Remind now")
        self.client.post(
            f"/coordinator/references/{ruth.pk}/decision/",
            {"decision": "satisfactory", "note": "Rang to confirm"},
        )
        ruth.refresh_from_db()
        self.assertEqual((ruth.decision, ruth.decided_by), ("satisfactory", self.coordinator))
        self.assertEqual(ruth.decision_note, "Rang to confirm")
        # Not returned yet: no decision.
        self.client.post(
            f"/coordinator/references/{tom.pk}/decision/", {"decision": "satisfactory"}
        )
        tom.refresh_from_db()
        self.assertEqual(tom.decision, "")
        # Nonsense is refused without a 500.
        response = self.client.post(
            f"/coordinator/references/{ruth.pk}/decision/", {"decision": "maybe"}
        )
        self.assertEqual(response.status_code, 302)
        ruth.refresh_from_db()
        self.assertEqual(ruth.decision, "satisfactory")

    def test_other_scheme_cannot_decide(self):
        self.ask()
        ruth = Reference.objects.get(referee_email="ruth@example.org")
        self.login_as("other_coordinator")
        response = self.client.post(
            f"/coordinator/references/{ruth.pk}/decision/", {"decision": "satisfactory"}
        )
        self.assertEqual(response.status_code, 404)
