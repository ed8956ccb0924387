"""The person page as one record of a person (issue 14, points 1 and 2)."""

from datetime import UTC, datetime
from html.parser import HTMLParser

import time_machine

from buddyscheme import vetting
from buddyscheme.consent import consent_withdraw
from buddyscheme.models import ConsentKind, ConsentRecord, EligibilityQuestion

from ..base import PersonaTestCase, confirmed


class _Inputs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.inputs = []
        self.buttons = []
        self._in_button = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "input":
            self.inputs.append(attributes)
        elif tag == "button":
            self._in_button = attributes
            self.buttons.append([attributes, ""])

    def handle_data(self, data):
        if self._in_button is not None:
            self.buttons[-1][1] += data

    def handle_endtag(self, tag):
        if tag == "button":
            self._in_button = None


def parse(response) -> _Inputs:
    parser = _Inputs()
    parser.feed(response.content.decode())
    return parser


def checked(response, name) -> list[str]:
    """The values of the ticked checkboxes or radios called `name` on the page."""
    return [
        field.get("value", "on")
        for field in parse(response).inputs
        if field.get("name") == name and "checked" in field
    ]


class EnrolmentFormTest(PersonaTestCase):
    """Point 1: a coordinator enrols and corrects a participant in the page."""

    def setUp(self):
        self.borough = EligibilityQuestion.objects.create(
            scheme=self.scheme, text="Lives in the borough?", eligible_answer=True, order=1
        )
        self.under_18 = EligibilityQuestion.objects.create(
            scheme=self.scheme, text="Under 18?", eligible_answer=False, order=2
        )
        self.url = f"/coordinator/people/{self.participant_membership.pk}/"
        self.login_as("coordinator")

    def enrol(self, **answers):
        return vetting.participant_enrol(
            membership=self.participant_membership,
            by=self.coordinator,
            referral_source="clinic",
            referral_detail="Riverside clinic",
            answers=answers or {self.borough.pk: True, self.under_18.pk: False},
            consent_to_hold_data=True,
            buddies_needed=2,
        )

    def test_the_form_has_a_submit_button(self):
        self.assertContains(self.client.get(self.url), "How did they agree?")
        buttons = parse(self.client.get(self.url)).buttons
        self.assertIn(
            "Save enrolment",
            [text.strip() for attributes, text in buttons if attributes.get("type") == "submit"],
        )

    def test_the_form_shows_the_stored_answers_that_the_summary_describes(self):
        self.enrol()
        page = self.client.get(self.url)
        self.assertContains(page, "eligible")
        self.assertEqual(checked(page, "consent_to_hold_data"), ["on"])
        self.assertEqual(checked(page, f"question_{self.borough.pk}"), ["yes"])
        self.assertEqual(checked(page, f"question_{self.under_18.pk}"), ["no"])
        form = page.context["enrolment_form"]
        self.assertEqual(form["referral_source"].value(), "clinic")
        self.assertEqual(form["referral_detail"].value(), "Riverside clinic")
        self.assertEqual(form["buddies_needed"].value(), 2)
        # How the consent was given is on the consents page now, not asked again.
        self.assertNotContains(page, "How did they agree?")

    def test_a_correction_is_saved_and_shown(self):
        self.enrol()
        response = self.client.post(
            f"{self.url}enrolment/",
            {
                "referral_source": "clinic",
                "referral_detail": "Riverside clinic",
                "consent_to_hold_data": "on",
                "consent_given_how": "paper",
                "buddies_needed": "1",
                f"question_{self.borough.pk}": "no",
                f"question_{self.under_18.pk}": "no",
            },
        )
        self.assertRedirects(response, self.url)
        page = self.client.get(self.url)
        self.assertContains(page, "not eligible")
        self.assertEqual(checked(page, f"question_{self.borough.pk}"), ["no"])
        self.assertEqual(page.context["enrolment_form"]["buddies_needed"].value(), 1)


class OneSourceOfConsentTest(PersonaTestCase):
    """Point 2: the enrolment's consent and the consents page are the same record."""

    def setUp(self):
        self.member = self.participant_membership
        self.url = f"/coordinator/people/{self.member.pk}/"
        self.login_as("coordinator")

    def test_consent_given_at_enrolment_is_on_the_consents_page(self):
        response = self.client.post(
            f"{self.url}enrolment/",
            {
                "referral_source": "self",
                "consent_to_hold_data": "on",
                "consent_given_how": "paper",
                "buddies_needed": "1",
            },
        )
        self.assertRedirects(response, self.url)
        record = ConsentRecord.objects.get(membership=self.member, kind=ConsentKind.HOLD_DATA)
        self.assertEqual((record.given_how, record.recorded_by), ("paper", self.coordinator))
        consents_page = self.client.get(f"{self.url}consents/")
        self.assertContains(consents_page, ConsentKind.HOLD_DATA.label)

    def test_a_withdrawal_on_the_consents_page_unticks_the_enrolment(self):
        vetting.participant_enrol(
            membership=self.member,
            by=self.coordinator,
            referral_source="self",
            answers={},
            consent_to_hold_data=True,
        )
        self.assertEqual(checked(self.client.get(self.url), "consent_to_hold_data"), ["on"])
        consent_withdraw(membership=self.member, kind=ConsentKind.HOLD_DATA, by=self.coordinator)
        page = self.client.get(self.url)
        self.assertEqual(checked(page, "consent_to_hold_data"), [])
        self.assertContains(page, "withdrew their consent to us holding their information")

    def test_saving_the_enrolment_again_records_the_consent_once(self):
        for _ in range(2):
            self.client.post(
                f"{self.url}enrolment/",
                {"referral_source": "self", "consent_to_hold_data": "on", "buddies_needed": "1"},
            )
        self.assertEqual(
            ConsentRecord.objects.filter(membership=self.member, kind="hold_data").count(), 1
        )


def _active_match(participant, by, now):
    """A buddy matched with `participant` through the services, agreement signed, active."""
    from matching import services as matching

    from ..factories import cleared_buddy, sign_all

    buddy = cleared_buddy(participant.scheme)
    match = matching.match_create(participant=participant, buddy=buddy, by=by, state="proposed")
    matching.match_accept(match=match, by_membership=participant)
    matching.match_accept(match=match, by_membership=buddy)
    matching.match_introduce(match=match, intro_at=now, by=by)
    sign_all(match)
    return matching.match_activate(match=match, by=by)


# A Wednesday morning: meetings a week either side fall in office hours.
WEDNESDAY_10AM = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


@time_machine.travel(WEDNESDAY_10AM, tick=False)
class PersonRecordTest(PersonaTestCase):
    """Point 2: one page per person, built from the real records through the services."""

    def setUp(self):
        from django.utils import timezone

        from buddyscheme.models import ParticipantEnrolment
        from matching.models import MatchProfile

        self.now = timezone.now()
        self.participant_membership.user.first_name = "Grace"
        self.participant_membership.user.last_name = "Mwangi"
        self.participant_membership.user.save()
        ParticipantEnrolment.objects.create(membership=self.participant_membership, eligible=True)
        MatchProfile.objects.create(membership=self.participant_membership)
        self.url = f"/coordinator/people/{self.participant_membership.pk}/"
        self.login_as("coordinator")

    def test_a_waiting_participant_is_offered_a_buddy(self):
        page = self.client.get(self.url)
        self.assertContains(page, "for a buddy")
        self.assertContains(page, "Find a buddy")

    def test_a_matched_participant_shows_the_match_not_the_waiting_list(self):
        match = _active_match(self.participant_membership, self.coordinator, self.now)
        page = self.client.get(self.url)
        self.assertNotContains(page, "Find a buddy")
        self.assertNotContains(page, "for a buddy")
        self.assertContains(page, f"With {match.buddy.user.display_name}</a>")
        self.assertContains(page, f'href="/matches/{match.pk}/"')

    def test_past_matches_meetings_agreements_and_rematch_requests(self):
        from datetime import timedelta

        from contracts.services import contract_generate
        from matching import services as matching

        from ..factories import book_meeting

        ended = _active_match(self.participant_membership, self.coordinator, self.now)
        last_week = book_meeting(ended.buddy, self.now - timedelta(days=7), match=ended)
        matching.match_end(match=ended, by=self.coordinator, reason="Moved away")
        current = _active_match(self.participant_membership, self.coordinator, self.now)
        next_week = book_meeting(
            current.buddy,
            self.now + timedelta(days=7),
            match=current,
            now=self.now,
        )
        matching.rematch_request(
            match=current, by_membership=self.participant_membership, reason="We never meet"
        )
        # A new text of the agreement, waiting for the participant: signable in person.
        reconsent = contract_generate(match=current, by=self.coordinator)

        page = self.client.get(self.url)
        self.assertContains(page, "Moved away")
        self.assertContains(page, f'href="/coordinator/meetings/{last_week.pk}/"')
        self.assertContains(page, f'href="/coordinator/meetings/{next_week.pk}/"')
        upcoming = page.context["sections"][1].context["upcoming"]
        self.assertEqual(upcoming, [next_week])
        self.assertContains(page, "signed by everyone")
        self.assertContains(page, f'href="/coordinator/contracts/{reconsent.pk}/sign-in-person/"')
        self.assertContains(page, "We never meet")
        self.assertEqual(
            [section.title for section in page.context["sections"]],
            ["Matches", "Meetings", "Agreements", "Groups", "Questionnaires", "Messages"],
        )

    def test_a_buddy_record_has_vetting_matches_and_agreements(self):
        match = _active_match(self.participant_membership, self.coordinator, self.now)
        page = self.client.get(f"/coordinator/people/{match.buddy.pk}/")
        self.assertContains(page, "Vetting: Approved")
        self.assertContains(page, f"With {self.participant_membership.user.display_name}</a>")
        self.assertContains(page, "Draw up a volunteer agreement")
        self.assertNotContains(page, "Sign in person")  # everyone signed

    def test_consents_come_from_the_consent_records(self):
        from buddyscheme.consent import consent_give

        consent_give(
            membership=self.participant_membership,
            kind=ConsentKind.SMS,
            by=self.coordinator,
            how="paper",
        )
        consent_give(
            membership=self.participant_membership, kind=ConsentKind.PHOTOS, by=self.coordinator
        )
        consent_withdraw(
            membership=self.participant_membership, kind=ConsentKind.PHOTOS, by=self.coordinator
        )
        lines = {line.kind: line for line in self.client.get(self.url).context["consents"]}
        self.assertEqual(lines[ConsentKind.SMS].live.given_how, "paper")
        self.assertIsNone(lines[ConsentKind.PHOTOS].live)
        self.assertIsNotNone(lines[ConsentKind.PHOTOS].withdrawn.withdrawn_at)
        self.assertIsNone(lines[ConsentKind.HOLD_DATA].live)


class CaseNotesTest(PersonaTestCase):
    """Point 2: a short log of case notes; initials only (DESIGN §4)."""

    def setUp(self):
        self.member = self.participant_membership
        self.member.user.first_name = "Grace"
        self.member.user.last_name = "Mwangi-Otieno"
        self.member.user.save()
        self.url = f"/coordinator/people/{self.member.pk}/"
        self.login_as("coordinator")

    def test_a_note_is_saved_audited_and_listed(self):
        from buddyscheme.models import CaseNote

        from ..base import assert_audited

        response = self.client.post(f"{self.url}notes/", {"text": "G.M. rang about Tuesday."})
        self.assertRedirects(response, f"{self.url}#case-notes")
        note = CaseNote.objects.get(membership=self.member)
        self.assertEqual((note.author, note.names_confirmed), (self.coordinator, False))
        assert_audited(verb="case_note_add", obj=note, actor=self.coordinator, scheme=self.scheme)
        self.assertContains(self.client.get(self.url), "G.M. rang about Tuesday.")

    def test_a_note_naming_the_person_is_kept_only_once_confirmed(self):
        from buddyscheme.models import CaseNote

        typed = "Spoke to Grace about otieno family visit, 07700 900123"
        response = self.client.post(f"{self.url}notes/", {"text": typed})
        self.assertEqual(response.status_code, 200)
        # The one guard (buddyscheme/initials.py): names, in any case for an unusual name, and
        # the phone number, each highlighted.
        for hit in ("Grace", "otieno", "07700 900123"):
            self.assertContains(response, f"<mark>{hit}</mark>")
        self.assertContains(response, typed)  # kept as typed, to edit
        self.assertEqual(checked(response, "not_identifying"), [])
        self.assertEqual(
            [field.get("name") for field in parse(response).inputs].count("not_identifying"), 1
        )
        self.assertFalse(CaseNote.objects.exists())

        self.client.post(f"{self.url}notes/", {"text": typed, **confirmed(response)})
        self.assertTrue(CaseNote.objects.get().names_confirmed)

    def test_initials_and_other_words_are_not_names(self):
        from buddyscheme.identifiers import identifying_words

        self.assertEqual(identifying_words("G. M. is graceful today", person=self.member), [])
        self.assertEqual(identifying_words("GRACE called", person=self.member), ["GRACE"])
        # An address line identifies them as surely as a name does.
        self.assertEqual(
            identifying_words("Visited 12 Gracefield Road", person=self.member),
            ["12 Gracefield Road"],
        )

    def test_an_empty_note_is_refused_with_a_message(self):
        response = self.client.post(f"{self.url}notes/", {"text": "   "})
        self.assertContains(response, "This field is required")


@time_machine.travel(WEDNESDAY_10AM, tick=False)
class PersonPageQueriesTest(PersonaTestCase):
    """The record's query count does not grow with the person's history."""

    def _count(self, url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        return len(queries)

    def _history(self, participant, rounds):
        from datetime import timedelta

        from django.utils import timezone

        from buddyscheme.consent import consent_give
        from buddyscheme.services import case_note_add
        from matching import services as matching

        from ..factories import book_meeting

        now = timezone.now()
        buddies = []
        for number in range(rounds):
            match = _active_match(participant, self.coordinator, now)
            buddies.append(match.buddy)
            weeks = timedelta(weeks=number + 1)
            book_meeting(match.buddy, now - weeks, match=match)
            book_meeting(match.buddy, now + weeks, match=match, now=now)
            matching.rematch_request(match=match, by_membership=participant, reason="Too far")
            matching.match_end(match=match, by=self.coordinator, reason="Ended")
            case_note_add(membership=participant, text=f"Note {number}", by=self.coordinator)
            case_note_add(membership=buddies[-1], text=f"Note {number}", by=self.coordinator)
        for kind in (ConsentKind.SMS, ConsentKind.PHOTOS)[:rounds]:
            consent_give(membership=participant, kind=kind, by=self.coordinator)
        _active_match(participant, self.coordinator, now)
        return buddies

    def test_a_participant_and_a_buddy_with_one_or_many_rows(self):
        from buddyscheme.models import ParticipantEnrolment
        from matching.models import MatchProfile

        from ..factories import MembershipFactory

        counts = {}
        for rounds in (1, 4):
            participant = MembershipFactory(scheme=self.scheme, role="participant")
            ParticipantEnrolment.objects.create(membership=participant, eligible=True)
            MatchProfile.objects.create(membership=participant)
            buddy = self._history(participant, rounds)[0]
            self.login_as("coordinator")
            counts[rounds] = (
                self._count(f"/coordinator/people/{participant.pk}/"),
                self._count(f"/coordinator/people/{buddy.pk}/"),
            )
        self.assertEqual(counts[1], counts[4])
