"""Referrals: the public form (no login), the person at *referred*, the coordinator's
assessment, enrolment and decline, the dashboard line and the reporting selector."""

from datetime import UTC, date, datetime, timedelta

import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from buddyscheme import referrals
from buddyscheme.emails import email_build
from buddyscheme.errors import DomainError
from buddyscheme.models import (
    Channel,
    ConsentKind,
    DeclineReason,
    EligibilityQuestion,
    EnrolmentStatus,
    Membership,
    Notification,
    ParticipantEnrolment,
    Referral,
    ReferralSource,
    ReferralStatus,
    ReferralUrgency,
    Role,
    User,
)
from buddyscheme.referrals import ReferralDetails
from buddyscheme.services import invitation_accept, invitation_create

from ..base import PersonaTestCase, assert_audited
from ..factories import menu


def agency_post(**overrides):
    data = {
        "who": "else",
        "referrer_name": "Sam Nurse",
        "referrer_organisation": "Riverside Clinic",
        "referrer_role": "Specialist nurse",
        "agency_kind": ReferralSource.CLINIC,
        "referrer_email": "sam.nurse@clinic.example",
        "referrer_phone": "0161 496 0000",
        "person_name": "Robin Hartley",
        "person_email": "robin@example.org",
        "person_phone": "07700 900456",
        "preferred_contact": "phone",
        "safe_to_leave_messages": "no",
        "needs": ["Company"],
        "other_help": "Getting out more",
        "urgency": ReferralUrgency.ROUTINE,
        "consent_to_contact": "on",
        "referrer_may_be_told": "on",
        "website": "",
    }
    data.update(overrides)
    return data


def self_post(**overrides):
    data = {
        "who": "self",
        "person_name": "Alex Morgan",
        "person_email": "",
        "person_phone": "07700 900789",
        "preferred_contact": "sms",
        "safe_to_leave_messages": "yes",
        "urgency": ReferralUrgency.SOON,
        "consent_to_contact": "on",
        "website": "",
    }
    data.update(overrides)
    return data


class ReferralCase(PersonaTestCase):
    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        menu(cls.scheme, "Company", "Shopping")
        cls.url = f"/s/{cls.scheme.slug}/refer/"
        cls.question = EligibilityQuestion.objects.create(
            scheme=cls.scheme, text="Lives in the city?", eligible_answer=True
        )

    def setUp(self):
        cache.clear()  # the rate limiter counts in the cache

    def post(self, data):
        with self.captureOnCommitCallbacks(execute=True):
            return self.client.post(self.url, data)


class PublicFormTest(ReferralCase):
    def test_the_first_question_comes_alone_and_decides_the_wording(self):
        page = self.client.get(self.url)
        self.assertContains(page, "Are you referring yourself or someone else?")
        self.assertNotContains(page, "Your organisation")
        page = self.client.get(self.url + "?who=else")
        self.assertContains(page, "Your organisation")
        self.assertContains(page, "The person agrees to this referral")
        self.assertContains(page, "not an emergency service")
        self.assertContains(page, "Company")  # the scheme's menu, read through the signal
        page = self.client.get(self.url + "?who=self")
        self.assertNotContains(page, "Your organisation")
        self.assertContains(page, "I agree to the scheme contacting me")
        # An answer that is not one of the two asks again.
        self.assertContains(self.client.get(self.url + "?who=maybe"), "Select a valid choice")

    def test_an_unknown_scheme_is_not_found(self):
        self.assertEqual(self.client.get("/s/no-such-scheme/refer/").status_code, 404)

    def test_a_valid_agency_referral_creates_the_person_at_referred(self):
        response = self.post(agency_post())
        self.assertRedirects(response, f"/s/{self.scheme.slug}/refer/thanks/")
        referral = Referral.objects.get()
        self.assertEqual(referral.scheme, self.scheme)
        self.assertEqual(referral.source, ReferralSource.CLINIC)
        self.assertEqual(referral.referrer_organisation, "Riverside Clinic")
        self.assertEqual(referral.needs, ["Company"])
        self.assertTrue(referral.referrer_may_be_told)
        self.assertFalse(referral.safe_to_leave_messages)
        self.assertFalse(referral.is_repeat)
        user = referral.membership.user
        self.assertEqual(
            (user.email, user.first_name, user.last_name), ("robin@example.org", "Robin", "Hartley")
        )
        self.assertFalse(user.has_usable_password())
        self.assertEqual(referral.membership.role, Role.PARTICIPANT)
        # Not on anyone's lists until enrolled: the membership waits inactive.
        self.assertFalse(referral.membership.is_active)
        enrolment = ParticipantEnrolment.objects.get(membership=referral.membership)
        self.assertEqual(enrolment.status, EnrolmentStatus.REFERRED)
        self.assertEqual(enrolment.referral_source, ReferralSource.CLINIC)
        assert_audited(verb="referral_receive", obj=referral, actor=None, scheme=self.scheme)

    def test_coordinators_are_told_by_email_and_the_referrer_is_thanked(self):
        self.post(agency_post())
        referral = Referral.objects.get()
        to_coordinator = Notification.objects.get(recipient=self.coordinator)
        self.assertEqual(to_coordinator.template, "referral_received")
        self.assertEqual(to_coordinator.channel, Channel.EMAIL)  # routine: no text
        # Ids and neutral values only: no name, no contact details, no free text.
        self.assertEqual(
            to_coordinator.context, {"referral_id": referral.pk, "urgent": False, "again": False}
        )
        ack = Notification.objects.get(to_email="sam.nurse@clinic.example")
        self.assertEqual(ack.template, "referral_acknowledged")
        # The other scheme's coordinator hears nothing.
        self.assertFalse(Notification.objects.filter(recipient=self.other_coordinator).exists())

    def test_an_urgent_referral_says_so(self):
        self.post(agency_post(urgency=ReferralUrgency.URGENT))
        row = Notification.objects.get(recipient=self.coordinator, channel=Channel.EMAIL)
        self.assertTrue(row.context["urgent"])
        message = email_build(
            template=row.template, context=row.context, scheme=self.scheme, to="x@example.org"
        )
        self.assertEqual(message.subject, "Urgent: a new referral is waiting")
        self.assertIn(f"/coordinator/referrals/{Referral.objects.get().pk}/", message.body)
        self.assertNotIn("Robin", message.body)

    def test_the_acknowledgement_is_discreet(self):
        self.post(agency_post())
        row = Notification.objects.get(to_email="sam.nurse@clinic.example")
        message = email_build(
            template=row.template, context=row.context, scheme=self.scheme, to=row.to_email
        )
        self.assertIn("We have received your referral", message.body)
        self.assertNotIn("Robin", message.body + message.subject)
        self.assertIn("A Appointments", message.from_email)

    def test_a_valid_self_referral_without_email(self):
        response = self.post(self_post())
        self.assertEqual(response.status_code, 302)
        referral = Referral.objects.get()
        self.assertEqual(referral.source, ReferralSource.SELF)
        self.assertEqual(referral.referrer_email, "")
        self.assertFalse(referral.referrer_may_be_told)
        self.assertTrue(referral.membership.user.email.endswith("@no-email.invalid"))
        self.assertEqual(referral.membership.user.profile.phone, "07700 900789")
        # No email to thank them at: only the coordinators hear.
        self.assertFalse(Notification.objects.filter(recipient__isnull=True).exists())

    def test_a_self_referral_with_email_is_thanked_at_that_address(self):
        self.post(self_post(person_email="alex@example.org"))
        self.assertEqual(
            Notification.objects.get(to_email="alex@example.org").template,
            "referral_acknowledged",
        )

    def test_invalid_input_is_explained_and_kept(self):
        response = self.post(
            agency_post(person_email="", person_phone="", referrer_email="not an email")
        )
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Give an email address or a phone number")
        self.assertContains(response, "Enter a valid email address.")
        self.assertContains(response, 'value="Robin Hartley"')
        self.assertContains(response, 'value="Riverside Clinic"')
        self.assertFalse(Referral.objects.exists())

    def test_consent_is_required(self):
        data = agency_post()
        del data["consent_to_contact"]
        response = self.post(data)
        self.assertContains(response, "We can only accept a referral with this agreement.")
        self.assertFalse(Referral.objects.exists())
        details = ReferralDetails(
            source=ReferralSource.SELF,
            person_name="A B",
            person_phone="07700 900000",
            consent_to_contact=False,
        )
        with self.assertRaises(DomainError):
            referrals.referral_receive(scheme=self.scheme, details=details)

    def test_a_need_not_on_the_menu_is_refused(self):
        response = self.post(agency_post(needs=["Medication reviews"]))
        self.assertContains(response, "Select a valid choice")
        self.assertFalse(Referral.objects.exists())

    def test_spam_is_thanked_and_kept_nowhere(self):
        response = self.post(agency_post(website="http://spam.example"))
        self.assertRedirects(response, f"/s/{self.scheme.slug}/refer/thanks/")
        self.assertFalse(Referral.objects.exists())
        self.assertFalse(User.objects.filter(email="robin@example.org").exists())
        self.assertFalse(Notification.objects.exists())

    def test_the_same_form_sent_twice_is_recorded_once(self):
        self.post(agency_post())
        self.post(agency_post())
        self.assertEqual(Referral.objects.count(), 1)
        self.assertEqual(Notification.objects.filter(recipient=self.coordinator).count(), 1)

    @override_settings(ACCOUNT_RATE_LIMITS={"public_referral": "10/h/ip,2/d/key"})
    def test_too_many_from_one_referrer_are_refused_kindly(self):
        for number in range(2):
            self.post(agency_post(person_email=f"p{number}@example.org"))
        response = self.post(agency_post(person_email="p3@example.org"))
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "several referrals from here", status_code=429)
        self.assertContains(response, 'value="p3@example.org"', status_code=429)
        self.assertEqual(Referral.objects.count(), 2)

    def test_the_thanks_page_works_without_login(self):
        page = self.client.get(f"/s/{self.scheme.slug}/refer/thanks/")
        self.assertContains(page, "Thank you")


class DuplicateTest(ReferralCase):
    def test_the_same_person_referred_by_another_service_is_referred_again(self):
        self.post(agency_post())
        self.post(
            agency_post(
                referrer_email="worker@council.example",
                agency_kind=ReferralSource.SOCIAL_CARE,
                person_email="ROBIN@example.org",
            )
        )
        first, second = Referral.objects.order_by("pk")
        self.assertEqual(first.membership, second.membership)
        self.assertTrue(second.is_repeat)
        self.assertEqual(User.objects.filter(email__iexact="robin@example.org").count(), 1)
        self.login_as("coordinator")
        self.assertContains(
            self.client.get(f"/coordinator/referrals/{second.pk}/"), "Referred again"
        )
        self.assertContains(self.client.get("/coordinator/referrals/"), "Referred again")
        self.assertEqual(
            Notification.objects.get(
                recipient=self.coordinator, context__referral_id=second.pk
            ).context["again"],
            True,
        )

    def test_someone_already_enrolled_stays_enrolled_and_their_account_is_not_changed(self):
        self.post(agency_post(person_email="participant@a.example", person_name="Someone Else"))
        referral = Referral.objects.get()
        self.assertEqual(referral.membership, self.participant_membership)
        self.assertTrue(referral.is_repeat)
        self.participant.refresh_from_db()
        self.assertNotEqual(self.participant.first_name, "Someone")
        self.participant_membership.refresh_from_db()
        self.assertTrue(self.participant_membership.is_active)

    def test_without_email_the_same_phone_is_the_same_person(self):
        self.post(self_post())
        self.post(agency_post(person_email="", person_phone="07700900789"))
        first, second = Referral.objects.order_by("pk")
        self.assertEqual(first.membership, second.membership)
        self.assertTrue(second.is_repeat)


class AssessmentTest(ReferralCase):
    def setUp(self):
        super().setUp()
        self.post(agency_post())
        self.referral = Referral.objects.get()
        self.page = f"/coordinator/referrals/{self.referral.pk}/"
        self.login_as("coordinator")
        Notification.objects.all().delete()

    def assess(self, **overrides):
        data = {
            f"question_{self.question.pk}": "yes",
            "needs": ["Company", "Shopping"],
            "risks": "R. has a dog; meet outside at first.",
        }
        data.update(overrides)
        return self.client.post(self.page + "assess/", data)

    def test_the_page_shows_the_referral_and_the_forms(self):
        page = self.client.get(self.page)
        self.assertContains(page, "Robin Hartley")
        self.assertContains(page, "Riverside Clinic")
        self.assertContains(page, "Lives in the city?")
        self.assertContains(page, "Decline the referral")

    def test_save_the_assessment(self):
        self.assertRedirects(self.assess(), self.page)
        self.referral.refresh_from_db()
        self.assertEqual(self.referral.status, ReferralStatus.ASSESSING)
        self.assertEqual(self.referral.eligibility_answers, {str(self.question.pk): True})
        self.assertEqual(self.referral.needs, ["Company", "Shopping"])
        assert_audited(
            verb="referral_assess", obj=self.referral, actor=self.coordinator, scheme=self.scheme
        )

    def test_risks_that_name_the_person_are_stopped_by_the_initials_guard(self):
        response = self.assess(risks="Robin has a dog.")
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "this may identify someone")
        self.assertContains(response, "Robin has a dog.")
        self.referral.refresh_from_db()
        self.assertEqual(self.referral.risks, "")

    def test_enrol_after_the_assessment(self):
        self.assess()
        response = self.client.post(
            self.page + "enrol/",
            {"consent_to_hold_data": "on", "consent_given_how": "verbal", "buddies_needed": 1},
        )
        self.assertRedirects(response, self.page)
        self.referral.refresh_from_db()
        self.assertEqual(self.referral.status, ReferralStatus.ENROLLED)
        membership = self.referral.membership
        membership.refresh_from_db()
        self.assertTrue(membership.is_active)
        enrolment = membership.enrolment
        self.assertEqual(enrolment.status, EnrolmentStatus.ENROLLED)
        self.assertTrue(enrolment.eligible)
        self.assertTrue(membership.consents.filter(kind=ConsentKind.HOLD_DATA).exists())
        # The referrer may be told: one line, no details.
        update = Notification.objects.get(to_email="sam.nurse@clinic.example")
        self.assertEqual(
            (update.template, update.context), ("referral_decided", {"accepted": True})
        )
        # The help asked for is ticked in their menu, ready for matching.
        self.assertEqual(
            sorted(membership.match_profile.items.values_list("name", flat=True)),
            ["Company", "Shopping"],
        )
        # Their record says how they came.
        record = self.client.get(f"/coordinator/people/{membership.pk}/")
        self.assertContains(record, f'href="/coordinator/referrals/{self.referral.pk}/"')
        self.assertContains(record, "Riverside Clinic")
        # A second press changes nothing.
        response = self.client.post(
            self.page + "enrol/",
            {"consent_to_hold_data": "on", "consent_given_how": "verbal", "buddies_needed": 1},
            follow=True,
        )
        self.assertContains(response, "This referral is already enrolled.")
        self.assertEqual(
            Notification.objects.filter(to_email="sam.nurse@clinic.example").count(), 1
        )

    def test_enrolment_needs_every_answer_and_consent(self):
        response = self.client.post(
            self.page + "enrol/", {"consent_given_how": "verbal", "buddies_needed": 1}
        )
        self.assertContains(response, "agrees to us holding their information")
        response = self.client.post(
            self.page + "enrol/",
            {"consent_to_hold_data": "on", "consent_given_how": "verbal", "buddies_needed": 1},
        )
        self.assertContains(response, "Answer every eligibility question")
        self.assess(**{f"question_{self.question.pk}": "no"})
        response = self.client.post(
            self.page + "enrol/",
            {"consent_to_hold_data": "on", "consent_given_how": "verbal", "buddies_needed": 1},
        )
        self.assertContains(response, "not eligible")
        self.referral.refresh_from_db()
        self.assertEqual(self.referral.status, ReferralStatus.ASSESSING)

    def test_decline_with_a_reason_and_signposting(self):
        response = self.client.post(
            self.page + "decline/",
            {"reason": DeclineReason.OUTSIDE_OFFER, "signposting": "Citizens Advice for benefits."},
        )
        self.assertRedirects(response, self.page)
        self.referral.refresh_from_db()
        self.assertEqual(self.referral.status, ReferralStatus.DECLINED)
        self.assertEqual(self.referral.signposting, "Citizens Advice for benefits.")
        self.assertEqual(self.referral.membership.enrolment.status, EnrolmentStatus.DECLINED)
        update = Notification.objects.get(to_email="sam.nurse@clinic.example")
        self.assertEqual(update.context, {"accepted": False})
        self.assertContains(self.client.get(self.page), "Needs are outside what we offer")

    def test_decline_needs_a_reason(self):
        response = self.client.post(self.page + "decline/", {"signposting": ""})
        self.assertContains(response, "Choose a reason.")

    def test_the_referrer_is_not_told_without_consent(self):
        Referral.objects.filter(pk=self.referral.pk).update(referrer_may_be_told=False)
        self.client.post(self.page + "decline/", {"reason": DeclineReason.NO_CAPACITY})
        self.assertFalse(Notification.objects.filter(recipient__isnull=True).exists())

    def test_another_schemes_coordinator_cannot_see_it(self):
        self.login_as("other_coordinator")
        self.assertEqual(self.client.get(self.page).status_code, 404)
        self.assertEqual(
            self.client.post(self.page + "decline/", {"reason": "other"}).status_code, 404
        )


class ListAndDashboardTest(ReferralCase):
    def test_the_list_puts_urgent_first_then_oldest(self):
        with time_machine.travel(datetime(2026, 11, 1, 10, tzinfo=UTC), tick=False):
            self.post(agency_post(person_email="old@example.org"))
        with time_machine.travel(datetime(2026, 11, 5, 10, tzinfo=UTC), tick=False):
            self.post(agency_post(person_email="newer@example.org", person_name="Newer Person"))
            self.post(
                agency_post(
                    person_email="urgent@example.org",
                    person_name="Urgent Person",
                    urgency=ReferralUrgency.URGENT,
                )
            )
        with time_machine.travel(datetime(2026, 11, 8, 10, tzinfo=UTC), tick=False):
            listed = referrals.referrals_for_scheme(self.scheme)
            self.assertEqual(
                [r.person_email for r in listed["new"]],
                ["urgent@example.org", "old@example.org", "newer@example.org"],
            )
            self.login_as("coordinator")
            page = self.client.get("/coordinator/referrals/")
            self.assertContains(page, "waiting 7 days")
            dashboard = self.client.get("/coordinator/").content.decode()
            self.assertIn("3 new referrals", dashboard)
            self.assertIn("1 urgent", dashboard)

    def test_the_dashboard_line_costs_one_query(self):
        def count():
            with CaptureQueriesContext(connection) as queries:
                referrals.referral_counts(self.scheme)
            return len(queries)

        before = count()
        for number in range(4):
            self.post(agency_post(person_email=f"x{number}@example.org"))
        self.assertEqual((before, count()), (1, 1))
        self.assertEqual(referrals.referral_counts(self.scheme), {"new": 4, "urgent": 0})


class ReportTest(ReferralCase):
    def test_by_source_month_reason_and_time_to_decision(self):
        with time_machine.travel(datetime(2026, 10, 10, 10, tzinfo=UTC), tick=False):
            self.post(self_post())
            self.post(agency_post())
        with time_machine.travel(datetime(2026, 11, 2, 10, tzinfo=UTC), tick=False):
            self.post(
                agency_post(
                    person_email="b@example.org",
                    agency_kind=ReferralSource.SOCIAL_CARE,
                    referrer_email="w@council.example",
                )
            )
        by_self, by_clinic, by_council = Referral.objects.order_by("pk")
        referrals.referral_decline(
            referral=by_self,
            by=self.coordinator,
            reason=DeclineReason.NO_CONTACT,
            now=by_self.received_at + timedelta(days=3),
        )
        referrals.referral_assess(
            referral=by_clinic,
            by=self.coordinator,
            answers={self.question.pk: True},
            needs=[],
            risks="",
        )
        referrals.referral_enrol(
            referral=by_clinic,
            by=self.coordinator,
            consent_to_hold_data=True,
            now=by_clinic.received_at + timedelta(days=9),
        )
        report = referrals.referrals_report(self.scheme)
        self.assertEqual(report.total, 3)
        self.assertEqual(
            report.by_source,
            {"Self-referral": 1, "Clinic or GP": 1, "Social worker or care team": 1},
        )
        self.assertEqual(report.by_month, {"2026-10": 2, "2026-11": 1})
        self.assertEqual(report.declines_by_reason, {"Could not contact": 1})
        self.assertEqual((report.enrolled, report.declined, report.open), (1, 1, 1))
        self.assertEqual(sorted(report.days_to_decision), [3, 9])
        self.assertEqual(report.median_days_to_decision, 6.0)
        november = referrals.referrals_report(
            self.scheme, since=date(2026, 11, 1), until=date(2026, 11, 30)
        )
        self.assertEqual(november.total, 1)
        self.assertFalse(
            Membership.objects.filter(scheme=self.other_scheme, referrals__isnull=False)
        )


class InvitationAfterReferralTest(ReferralCase):
    def test_someone_referred_can_accept_an_invitation_and_choose_a_password(self):
        self.post(agency_post())
        referral = Referral.objects.get()
        invitation = invitation_create(
            scheme=self.scheme,
            email="robin@example.org",
            role=Role.PARTICIPANT,
            invited_by=self.coordinator,
        )
        user, membership = invitation_accept(token=invitation.token, password="a-long-pass-2026")
        self.assertEqual(user, referral.membership.user)
        self.assertEqual(membership, referral.membership)
        self.assertTrue(user.check_password("a-long-pass-2026"))

    def test_an_account_with_a_password_still_has_to_log_in_first(self):
        invitation = invitation_create(
            scheme=self.scheme,
            email="buddy@a.example",
            role=Role.PARTICIPANT,
            invited_by=self.coordinator,
        )
        with self.assertRaises(DomainError):
            invitation_accept(token=invitation.token, password="a-long-pass-2026")
