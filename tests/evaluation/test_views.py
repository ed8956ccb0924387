"""Questionnaire pages: answering by link on a phone (saved as they go, sent once; expired,
reused and tampered links get a clear page), filling in with a coordinator, the builder, and the
outcomes page."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import override_settings
from django.urls import reverse

from buddyscheme.models import AuditEvent, Role
from evaluation import questionnaires as services
from evaluation.models import Answer, Invitation, Occasion, Questionnaire, Response
from matching.models import Match

from ..base import PersonaTestCase
from ..factories import MembershipFactory
from .helpers import paired

SCORES = {"life_satisfaction": 4, "worthwhile": 6, "happiness": 5, "anxiety": 7}


@override_settings(SECURE_SSL_REDIRECT=False)
class AnswerByLinkTest(PersonaTestCase):
    def setUp(self):
        self.ons4 = services.defaults_ensure(self.scheme)["ons4"]
        with time_machine.travel("2026-11-01 10:00Z", tick=False):
            self.invitation = services.invitation_create(
                person=self.participant_membership,
                questionnaire=self.ons4,
                occasion=Occasion.OTHER,
            )
        self.token = services.invitation_token(self.invitation)
        self.url = reverse("evaluation:answer", args=[self.token])
        self.questions = services.questions_of(self.invitation)
        self.traveller = time_machine.travel("2026-11-10 10:00Z", tick=False)
        self.traveller.start()
        self.addCleanup(self.traveller.stop)

    def _post(self, step, value, action="next"):
        question = self.questions[step - 1]
        return self.client.post(
            self.url, {"step": step, f"q{question.pk}": value, "action": action}
        )

    def test_one_question_a_screen_saved_as_they_go_then_sent_once(self):
        page = self.client.get(self.url)
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "Question 1 of 4")
        self.assertContains(page, "Overall, how satisfied are you with your life nowadays?")
        self.assertContains(page, "Finish later")
        self.assertIn("no-cache", page["Cache-Control"])

        response = self._post(1, "4")
        self.assertRedirects(response, self.url + "?step=2", fetch_redirect_response=False)
        response = self._post(2, "6", action="later")
        self.assertRedirects(response, reverse("evaluation:answer_saved"))
        self.assertEqual(
            services.answers_of(self.invitation),
            {self.questions[0].pk: 4, self.questions[1].pk: 6},
        )
        # Opening the link again carries on at the first question not answered.
        page = self.client.get(self.url)
        self.assertContains(page, "Question 3 of 4")

        # A wrong value: the same question again, with a message.
        page = self._post(3, "12")
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "Select a valid choice")

        self._post(3, "5")
        self._post(4, "7")
        send = self.client.get(self.url + "?step=5")
        self.assertContains(send, "You have answered 4 of 4 questions")
        response = self.client.post(self.url, {"step": 5, "action": "send"})
        self.assertRedirects(response, reverse("evaluation:answer_thanks"))
        self.invitation.refresh_from_db()
        self.assertIsNotNone(self.invitation.completed_at)
        self.assertIsNone(self.invitation.response.completed_with)

        # A second tap, or the link opened again: a clear page, and nothing recorded twice.
        again = self.client.post(self.url, {"step": 5, "action": "send"})
        self.assertEqual(again.status_code, 410)
        self.assertContains(again, "already been sent", status_code=410)
        self.assertEqual(self.client.get(self.url).status_code, 410)
        self.assertEqual(Response.objects.filter(invitation=self.invitation).count(), 1)
        self.assertEqual(Answer.objects.filter(response__invitation=self.invitation).count(), 4)

    def test_sending_with_a_needed_answer_missing_says_which(self):
        self._post(1, "4")
        page = self.client.post(self.url, {"step": 5, "action": "send"})
        self.assertEqual(page.status_code, 200)
        self.assertContains(page, "These still need an answer")
        self.assertContains(page, f"{self.url}?step=2")
        self.invitation.refresh_from_db()
        self.assertIsNone(self.invitation.completed_at)

    def test_an_expired_link_gets_a_clear_page(self):
        with time_machine.travel("2026-12-01 10:00Z", tick=False):
            page = self.client.get(self.url)
        self.assertEqual(page.status_code, 410)
        self.assertContains(page, "This link has expired", status_code=410)

    def test_a_tampered_link_gets_a_clear_page(self):
        for url in (
            reverse("evaluation:answer", args=[self.token[:-3] + "abc"]),
            reverse("evaluation:answer", args=["nothing-signed"]),
        ):
            page = self.client.get(url)
            self.assertEqual(page.status_code, 400)
            self.assertContains(page, "This link cannot be used", status_code=400)
        page = self.client.post(
            reverse("evaluation:answer", args=[self.token[:-3] + "abc"]), {"step": 1}
        )
        self.assertEqual(page.status_code, 400)

    def test_a_step_out_of_range_or_not_a_number_is_harmless(self):
        for step in ("0", "99", "abc", "-1", "²"):
            page = self.client.get(self.url, {"step": step})
            self.assertEqual(page.status_code, 200, step)


@override_settings(SECURE_SSL_REDIRECT=False)
class CoordinatorPagesTest(PersonaTestCase):
    def setUp(self):
        self.defaults = services.defaults_ensure(self.scheme)
        self.login_as("coordinator")

    def test_building_and_publishing_a_questionnaire(self):
        response = self.client.post(
            reverse("evaluation:questionnaire_new"),
            {"name": "Group feedback", "purpose": "other", "audience": "participant"},
        )
        questionnaire = Questionnaire.objects.get(name="Group feedback")
        detail = reverse("evaluation:questionnaire", args=[questionnaire.pk])
        self.assertRedirects(response, detail)
        new_question = reverse("evaluation:question_new", args=[questionnaire.pk])
        # A choice question with one choice: the form again, with what was typed.
        page = self.client.post(
            new_question, {"text": "How was it?", "kind": "single", "choices": "Good"}
        )
        self.assertContains(page, "at least two choices")
        self.assertContains(page, "How was it?")
        self.client.post(
            new_question,
            {
                "text": "How was it?",
                "kind": "single",
                "choices": "Good\nAll right\nNot good",
                "required": "on",
                "help_text": "Choose one.",
            },
        )
        self.client.post(reverse("evaluation:questionnaire_publish", args=[questionnaire.pk]))
        page = self.client.get(detail)
        self.assertContains(page, "Version 1, published")
        self.assertContains(page, "Good · All right · Not good")
        self.client.post(reverse("evaluation:questionnaire_draft", args=[questionnaire.pk]))
        page = self.client.get(detail)
        self.assertContains(page, "Version 2 (draft)")
        self.client.post(
            reverse("evaluation:questionnaire_schedule", args=[questionnaire.pk]),
            {"occasions": ["start", "end"]},
        )
        questionnaire.refresh_from_db()
        self.assertEqual(questionnaire.send_occasions, ["start", "end"])
        listing = self.client.get(reverse("evaluation:questionnaires"))
        self.assertContains(listing, "Personal wellbeing (ONS4)")
        self.assertContains(listing, "Group feedback")

    def test_the_list_takes_the_same_queries_however_many_questionnaires(self):
        url = reverse("evaluation:questionnaires")
        few = self._count(url)  # the three shipped ones
        for number in range(10):
            services.questionnaire_create(
                scheme=self.scheme,
                name=f"More {number}",
                purpose="other",
                audience="buddy",
                by=None,
            )
        self.assertEqual(self._count(url), few)

    def _count(self, url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            self.assertEqual(self.client.get(url).status_code, 200)
        return len(queries)

    def test_filled_in_with_the_coordinator_from_the_person_page(self):
        person_page = reverse("person", args=[self.participant_membership.pk])
        page = self.client.get(person_page)
        self.assertContains(page, "Fill one in with them now")
        response = self.client.post(
            reverse("evaluation:person_start", args=[self.participant_membership.pk]),
            {"questionnaire": self.defaults["ons4"].pk, "occasion": "other"},
        )
        invitation = Invitation.objects.get(person=self.participant_membership)
        fill = reverse("evaluation:fill", args=[invitation.pk])
        self.assertRedirects(response, fill)
        questions = services.questions_of(invitation)
        # Sent with a needed answer missing: the form again with what was typed.
        partial = {f"q{questions[0].pk}": "3", "action": "send"}
        page = self.client.post(fill, partial)
        self.assertContains(page, "Please answer every question marked as needed")
        self.assertRegex(
            page.content.decode(), rf'id="id_q{questions[0].pk}_3"\s+value="3"\s+checked'
        )
        answers = {f"q{q.pk}": str(n) for n, q in enumerate(questions, 2)}
        response = self.client.post(fill, {**answers, "action": "send"})
        self.assertRedirects(response, person_page, fetch_redirect_response=False)
        invitation.refresh_from_db()
        self.assertEqual(invitation.response.completed_with, self.coordinator)
        self.assertTrue(
            AuditEvent.objects.filter(
                verb="questionnaire_complete", actor=self.coordinator
            ).exists()
        )
        page = self.client.get(person_page)
        self.assertContains(page, f"with {self.coordinator.display_name}")
        # Filled in once: the page again sends them back to the person.
        self.assertRedirects(self.client.get(fill), person_page, fetch_redirect_response=False)
        again = self.client.post(fill, {**answers, "action": "send"})
        self.assertRedirects(again, person_page, fetch_redirect_response=False)
        self.assertEqual(Response.objects.filter(invitation=invitation).count(), 1)

    def test_a_person_with_no_match_cannot_be_asked_at_a_start(self):
        response = self.client.post(
            reverse("evaluation:person_start", args=[self.participant_membership.pk]),
            {"questionnaire": self.defaults["ons4"].pk, "occasion": "start"},
            follow=True,
        )
        self.assertContains(response, "no match yet")
        self.assertFalse(Invitation.objects.exists())

    def test_the_other_schemes_questionnaire_cannot_be_used(self):
        other = services.defaults_ensure(self.other_scheme)["ons4"]
        response = self.client.post(
            reverse("evaluation:person_start", args=[self.participant_membership.pk]),
            {"questionnaire": other.pk, "occasion": "other"},
            follow=True,
        )
        self.assertContains(response, "Choose a questionnaire")
        self.assertFalse(Invitation.objects.exists())

    def test_the_outcomes_page_shows_figures_and_hides_small_numbers(self):
        ended = datetime(2026, 6, 15, 12, 0, tzinfo=ZoneInfo("Europe/London"))
        url = reverse("evaluation:outcomes")
        period = {"start": "2026-01-01", "end": "2026-12-31"}
        for number in range(4):
            match = Match.objects.create(
                scheme=self.scheme,
                buddy=MembershipFactory(scheme=self.scheme, role=Role.BUDDY),
                participant=MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT),
                state="ended",
            )
            paired(self.scheme, match, {**SCORES}, {**SCORES, "anxiety": 2 + number}, ended)
        page = self.client.get(url, period)
        self.assertContains(page, "Not shown: fewer than 5 pairs.", count=4)
        self.assertContains(page, "<strong>fewer than 5</strong>", html=False)
        self.assertContains(page, "There is no comparison group")
        match = Match.objects.create(
            scheme=self.scheme,
            buddy=MembershipFactory(scheme=self.scheme, role=Role.BUDDY),
            participant=MembershipFactory(scheme=self.scheme, role=Role.PARTICIPANT),
            state="ended",
        )
        paired(self.scheme, match, {**SCORES}, {**SCORES, "anxiety": 9}, ended)
        page = self.client.get(url, period)
        self.assertNotContains(page, "Not shown: fewer than 5 pairs.")
        self.assertContains(page, "No change to test", count=3)
        self.assertContains(page, "W = ")
        # A period that ends before it starts: a message, not an error.
        page = self.client.get(url, {"start": "2026-12-31", "end": "2026-01-01"})
        self.assertContains(page, "The period must end after it starts.")
        # The other scheme's coordinator sees only their own (nothing).
        self.login_as("other_coordinator")
        page = self.client.get(url, period)
        self.assertContains(page, "No one has answered both yet.", count=4)

    def test_default_period_is_the_last_year(self):
        with time_machine.travel("2026-11-28 10:00Z", tick=False):
            page = self.client.get(reverse("evaluation:outcomes"))
        self.assertEqual(page.context["summary"].start, date(2025, 11, 28))
        self.assertEqual(page.context["summary"].end, date(2026, 11, 28))
