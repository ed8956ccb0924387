"""The public buddy application form: valid, invalid (keeps what was typed), spam, repeated,
rate-limited; what it creates and who is told."""

from django.core import mail
from django.test import override_settings

from buddyscheme.models import (
    AuditEvent,
    BuddyStage,
    BuddyVetting,
    Membership,
    Notification,
    Role,
    User,
)
from buddyscheme.notifications import notifications_deliver
from recruitment.models import Application, Reference

from ..base import PersonaTestCase
from .helpers import application_post, publish_front_door


class ApplicationFormTest(PersonaTestCase):
    def setUp(self):
        publish_front_door(self.scheme)
        self.url = f"/s/{self.scheme.slug}/volunteer/"

    def test_form_opens_without_login(self):
        response = self.client.get(self.url)
        self.assertContains(response, "What attracts you to being a buddy?")
        self.assertContains(response, 'name="website"')  # the honeypot

    def test_valid_application_creates_the_person_at_applied_and_tells_coordinators(self):
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(self.url, application_post())
        self.assertRedirects(
            response, f"/s/{self.scheme.slug}/volunteer/thanks/", fetch_redirect_response=True
        )
        user = User.objects.get(email="sam@example.org")
        self.assertFalse(user.has_usable_password())
        self.assertEqual((user.first_name, user.last_name), ("Sam", "Okafor"))
        self.assertEqual(user.profile.phone, "07700 900123")
        membership = Membership.objects.get(user=user, scheme=self.scheme, role=Role.BUDDY)
        vetting = BuddyVetting.objects.get(membership=membership)
        self.assertEqual(vetting.stage, BuddyStage.APPLIED)
        application = Application.objects.get(membership=membership)
        self.assertEqual(application.heard_from, "event")
        # ... and the recruitment figures count it (buddyscheme/pipeline.py).
        self.assertEqual(vetting.recruitment_source, "event")
        self.assertFalse(application.is_repeat)
        self.assertEqual(
            list(application.references.values_list("referee_email", flat=True)),
            ["ruth@example.org", "tom@example.org"],
        )
        self.assertFalse(Reference.objects.filter(requested_at__isnull=False).exists())
        self.assertEqual(AuditEvent.objects.filter(verb="application_submit").count(), 1)

        notifications_deliver()
        by_address = {message.to[0]: message for message in mail.outbox}
        self.assertEqual(set(by_address), {"coordinator@a.example", "sam@example.org"})
        to_coordinator = by_address["coordinator@a.example"]
        self.assertIn(f"/coordinator/people/{membership.pk}/", to_coordinator.body)
        # Discreet: neither email carries the applicant's name or what they wrote.
        for message in mail.outbox:
            for private in ("Okafor", "I had a buddy once", "07700"):
                self.assertNotIn(private, message.subject + message.body)
        self.assertIn("received your application", by_address["sam@example.org"].subject)
        self.assertFalse(Notification.objects.filter(channel="sms").exists())

    def test_invalid_application_keeps_what_was_typed(self):
        response = self.client.post(
            self.url,
            application_post(email="not-an-email", consent_to_checks="", referee2_name=""),
        )
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        self.assertEqual(set(form.errors), {"email", "consent_to_checks", "referee2_name"})
        self.assertContains(response, "I had a buddy once and it made a difference.")
        self.assertContains(response, 'value="Okafor"')
        # The shared error summary (templates/bootstrap5/errors.html) links to each field.
        self.assertContains(response, "There is a problem")
        self.assertContains(response, 'href="#id_email"')
        self.assertContains(response, 'href="#id_consent_to_checks"')
        self.assertFalse(User.objects.filter(last_name="Okafor").exists())

    def test_referee_cannot_be_the_applicant_or_the_same_person_twice(self):
        response = self.client.post(
            self.url,
            application_post(referee1_email="sam@example.org", referee2_email="sam@example.org"),
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("referee1_email", response.context["form"].errors)
        self.assertIn("referee2_email", response.context["form"].errors)
        self.assertFalse(Application.objects.exists())

    def test_spam_pretends_success_and_keeps_nothing(self):
        response = self.client.post(self.url, application_post(website="http://spam.example"))
        self.assertRedirects(response, f"/s/{self.scheme.slug}/volunteer/thanks/")
        self.assertFalse(User.objects.filter(email="sam@example.org").exists())
        self.assertFalse(Application.objects.exists())
        self.assertFalse(Notification.objects.exists())

    def test_same_email_applying_again_is_one_person_and_a_repeat(self):
        self.client.post(self.url, application_post())
        self.client.post(self.url, application_post(email="SAM@example.org", phone="07700 900999"))
        self.assertEqual(User.objects.filter(email__iexact="sam@example.org").count(), 1)
        membership = Membership.objects.get(user__email="sam@example.org", role=Role.BUDDY)
        applications = list(Application.objects.filter(membership=membership))
        self.assertEqual([a.is_repeat for a in applications], [True, False])
        # Coordinators hear of the repeat as a repeat.
        repeat = Notification.objects.get(
            template="application_received", dedupe_key__contains=f":{applications[0].pk}:"
        )
        self.assertTrue(repeat.context["repeat"])
        self.login_as("coordinator")
        self.assertContains(
            self.client.get(f"/coordinator/people/{membership.pk}/"), "Applied 2 times"
        )

    def test_someone_already_in_the_scheme_as_a_buddy_keeps_their_stage(self):
        vetting = BuddyVetting.objects.create(
            membership=self.buddy_membership, stage=BuddyStage.APPROVED
        )
        self.client.post(self.url, application_post(email="buddy@a.example"))
        vetting.refresh_from_db()
        self.assertEqual(vetting.stage, BuddyStage.APPROVED)
        self.assertEqual(Application.objects.get().membership, self.buddy_membership)
        self.assertTrue(self.buddy.has_usable_password())

    @override_settings(ACCOUNT_RATE_LIMITS={"public_application": "10/h/ip,1/d/key"})
    def test_rate_limited_gets_a_friendly_429_and_nothing_is_kept(self):
        self.client.post(self.url, application_post())
        response = self.client.post(self.url, application_post())
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "Please try again later", status_code=429)
        self.assertEqual(Application.objects.count(), 1)

    def test_closed_page_takes_no_application(self):
        self.scheme.front_door.is_published = False
        self.scheme.front_door.save()
        response = self.client.post(self.url, application_post())
        self.assertEqual(response.status_code, 404)
        self.assertFalse(Application.objects.exists())

    @override_settings(ACCOUNT_RATE_LIMITS={"public_application": "10/h/ip,1/d/key"})
    def test_corrections_of_an_invalid_form_do_not_use_up_the_limit(self):
        self.client.post(self.url, application_post(consent_to_checks=""))
        self.client.post(self.url, application_post(phone=""))
        response = self.client.post(self.url, application_post())
        self.assertEqual(response.status_code, 302)
        self.assertEqual(Application.objects.count(), 1)
