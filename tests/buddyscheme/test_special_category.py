"""Special-category notes (health, HIV status, sexuality): the text for the scheme's
coordinators while consent is on record; a phrase for everyone and everywhere else."""

from buddyscheme.consent import consent_give, consent_withdraw
from buddyscheme.models import ConsentKind, ParticipantEnrolment, Role
from buddyscheme.special_category import (
    CONSENT_NOT_ON_RECORD,
    HELD_FOR_COORDINATORS,
    special_category_text,
)

from ..base import PersonaTestCase
from ..factories import MembershipFactory, UserFactory, enrol_totp

NOTES = "Zirconia clinic on Thursdays"


class SpecialCategoryTest(PersonaTestCase):
    def setUp(self):
        consent_give(
            membership=self.participant_membership,
            kind=ConsentKind.SPECIAL_CATEGORY,
            by=self.coordinator,
        )
        self.enrolment = ParticipantEnrolment.objects.create(
            membership=self.participant_membership, sensitive_notes=NOTES
        )

    def _withdraw(self):
        consent_withdraw(
            membership=self.participant_membership,
            kind=ConsentKind.SPECIAL_CATEGORY,
            by=self.coordinator,
        )

    def test_coordinator_of_the_scheme_reads_it_while_consent_is_on_record(self):
        self.assertEqual(special_category_text(self.enrolment, viewer=self.coordinator), NOTES)
        self._withdraw()
        self.assertEqual(
            special_category_text(self.enrolment, viewer=self.coordinator), CONSENT_NOT_ON_RECORD
        )

    def test_anyone_else_gets_the_phrase(self):
        a_second_role = MembershipFactory(
            scheme=self.other_scheme, role=Role.COORDINATOR, user=self.buddy
        )
        for viewer in (self.buddy, self.participant, self.other_coordinator, None):
            self.assertEqual(
                special_category_text(self.enrolment, viewer=viewer), HELD_FOR_COORDINATORS
            )
        self.assertTrue(a_second_role.pk)

    def test_nothing_held_shows_nothing(self):
        self.enrolment.sensitive_notes = ""
        self.assertEqual(special_category_text(self.enrolment, viewer=self.coordinator), "")

    def test_person_page_shows_it_to_the_coordinator_until_consent_is_withdrawn(self):
        self.login_as("coordinator")
        url = f"/coordinator/people/{self.participant_membership.pk}/"
        self.assertContains(self.client.get(url), NOTES)
        self._withdraw()
        page = self.client.get(url)
        self.assertNotContains(page, NOTES)
        self.assertContains(page, "Consent withdrawn")

    def test_admin_never_shows_the_text(self):
        url = f"/admin/buddyscheme/participantenrolment/{self.enrolment.pk}/change/"
        self.login_as("coordinator")
        page = self.client.get(url)
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, NOTES)
        self.assertContains(page, HELD_FOR_COORDINATORS)
        self.assertNotContains(page, 'name="sensitive_notes"')
        self.assertNotContains(self.client.get("/admin/buddyscheme/participantenrolment/"), NOTES)
        superuser = UserFactory(is_staff=True, is_superuser=True)
        enrol_totp(superuser)
        self.client.force_login(superuser)
        page = self.client.get(url)
        self.assertEqual(page.status_code, 200)
        self.assertNotContains(page, NOTES)
        self._withdraw()
        self.assertContains(self.client.get(url), CONSENT_NOT_ON_RECORD)

    def test_admin_save_keeps_the_notes(self):
        """The notes are not on the admin's form, so saving it neither shows nor clears them."""
        self.login_as("coordinator")
        url = f"/admin/buddyscheme/participantenrolment/{self.enrolment.pk}/change/"
        self.client.post(
            url,
            {
                "status": self.enrolment.status,
                "referral_source": self.enrolment.referral_source,
                "waiting_since": "2026-01-05",
                "buddies_needed": 1,
            },
        )
        self.enrolment.refresh_from_db()
        self.assertEqual(self.enrolment.sensitive_notes, NOTES)
