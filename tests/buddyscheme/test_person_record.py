"""The person page as one record of a person (issue 14, points 1 and 2)."""

from html.parser import HTMLParser

from buddyscheme import vetting
from buddyscheme.consent import consent_withdraw
from buddyscheme.models import ConsentKind, ConsentRecord, EligibilityQuestion

from ..base import PersonaTestCase


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
