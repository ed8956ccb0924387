"""Debrief pages for each role: the buddy's form after checking out (drafts, the initials-only
warning), carried actions on Today, the coordinator's lists, feedback, follow-up and recording
on the buddy's behalf, the match page and the dashboard; lists keep their query counts flat."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluation.dashboard import forget_figures
from matching.models import Match
from meetings import services
from meetings.models import BoundaryQuestion, Debrief, DebriefItem, FollowUp
from meetings.services import Action, DebriefContent

from ..base import PersonaTestCase
from ..factories import book_meeting, cleared_buddy, waiting_participant

UTC = ZoneInfo("UTC")
MONDAY_10AM = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


class DebriefCase(PersonaTestCase):
    def setUp(self):
        self.buddy_member = cleared_buddy(self.scheme, email="phone.buddy@a.example")
        self.participant_member = waiting_participant(self.scheme, email="dan@a.example")
        user = self.participant_member.user
        user.first_name, user.last_name = "Daniel", "Okonkwo"
        user.save()
        self.match = Match.objects.create(
            scheme=self.scheme,
            buddy=self.buddy_member,
            participant=self.participant_member,
            state="active",
        )

    def at(self, moment, user=None):
        traveller = time_machine.travel(moment, tick=False)
        traveller.start()
        self.addCleanup(traveller.stop)
        self.client.force_login(user or self.buddy_member.user)

    def met(self, start=MONDAY_10AM, check_out=True):
        meeting = book_meeting(self.buddy_member, start, match=self.match)
        services.meeting_check_in(meeting=meeting, key=f"in-{start}", by=None, now=start)
        if check_out:
            services.meeting_check_out(
                meeting=meeting, key=f"out-{start}", by=None, now=start + timedelta(hours=1)
            )
        meeting.refresh_from_db()
        return meeting

    def sent(self, meeting, **content):
        values = {
            "how_it_went": 4,
            "what_happened": "Coffee and forms.",
            "actions": [Action("Phone the housing office", "participant", date(2026, 12, 4))],
            "goals": ["Walk to the library"],
        }
        return services.debrief_send(
            meeting=meeting, content=DebriefContent(**{**values, **content}), by=None
        )


class CheckOutToDebriefTest(DebriefCase):
    def test_checking_out_leads_to_the_debrief(self):
        meeting = self.met(check_out=False)
        self.at(MONDAY_10AM + timedelta(minutes=55))
        page = self.client.post(f"/meetings/{meeting.pk}/check-out/", {"key": "out-1"}, follow=True)
        self.assertEqual(page.redirect_chain, [(f"/meetings/{meeting.pk}/debrief/", 302)])
        self.assertContains(page, "You have checked out safely")
        self.assertContains(page, "<legend", html=False)
        self.assertContains(page, "How did it go?")
        for label in ("Very hard", "Hard", "OK", "Good", "Very good"):
            self.assertContains(page, f"<span>{label}</span>", html=True)
        self.assertContains(page, 'type="radio" name="how_it_went"', count=5)

    def test_a_duress_check_out_goes_to_the_same_debrief(self):
        services.buddy_pins_set(
            membership=self.buddy_member, check_out_pin="1234", duress_pin="9876"
        )
        meeting = self.met(check_out=False)
        self.at(MONDAY_10AM + timedelta(minutes=55))
        response = self.client.post(
            f"/meetings/{meeting.pk}/check-out/", {"key": "out-1", "pin": "9876"}
        )
        self.assertRedirects(response, f"/meetings/{meeting.pk}/debrief/")

    def test_a_wrong_pin_stays_on_today(self):
        services.buddy_pins_set(
            membership=self.buddy_member, check_out_pin="1234", duress_pin="9876"
        )
        meeting = self.met(check_out=False)
        self.at(MONDAY_10AM + timedelta(minutes=55))
        response = self.client.post(
            f"/meetings/{meeting.pk}/check-out/", {"key": "out-1", "pin": "5555"}
        )
        self.assertRedirects(response, "/today/")

    def test_no_debrief_form_before_checking_out(self):
        meeting = self.met(check_out=False)
        self.at(MONDAY_10AM + timedelta(minutes=20))
        response = self.client.get(f"/meetings/{meeting.pk}/debrief/", follow=True)
        self.assertContains(response, "once you have checked out")

    def test_another_buddys_debrief_is_refused(self):
        meeting = self.met()
        other = cleared_buddy(self.scheme, email="other.buddy@a.example")
        self.at(MONDAY_10AM + timedelta(hours=2), user=other.user)
        self.assertEqual(self.client.get(f"/meetings/{meeting.pk}/debrief/").status_code, 403)
        self.assertEqual(
            self.client.post(f"/meetings/{meeting.pk}/debrief/draft/").status_code, 403
        )


class DraftAndSendTest(DebriefCase):
    def setUp(self):
        super().setUp()
        self.meeting = self.met()
        self.at(MONDAY_10AM + timedelta(hours=1, minutes=5))
        self.url = f"/meetings/{self.meeting.pk}/debrief/"

    def form_data(self, **overrides):
        data = {
            "how_it_went": "4",
            "what_happened": "D.O. and I had coffee and did the housing form.",
            "action_rows": "2",
            "goal_rows": "1",
            "action_0_text": "Phone the housing office",
            "action_0_who": "participant",
            "action_0_due": "2026-12-04",
            "goal_0": "Walk to the library",
        }
        data.update(overrides)
        return data

    def test_the_phone_saves_a_draft_as_the_buddy_types(self):
        response = self.client.post(
            self.url + "draft/", self.form_data(how_it_went=""), headers={"HX-Request": "true"}
        )
        self.assertContains(response, "Draft saved at 11:05.")
        debrief = Debrief.objects.get(meeting=self.meeting)
        self.assertEqual((debrief.state, debrief.how_it_went), ("draft", None))
        self.assertIn("housing form", debrief.what_happened)
        # The page opened again (a new phone, the old one died) shows what was typed.
        page = self.client.get(self.url)
        self.assertContains(page, "Phone the housing office")
        self.assertContains(page, "Walk to the library")
        self.assertContains(page, 'value="2026-12-04"')

    def test_without_javascript_save_draft_returns_to_the_form(self):
        response = self.client.post(self.url + "draft/", self.form_data())
        self.assertRedirects(response, self.url)
        self.assertContains(self.client.get(self.url), "housing form")

    def test_add_another_action_saves_and_shows_one_more_row(self):
        data = self.form_data(action_1_text="Bring the letter", action_1_who="buddy", add="action")
        response = self.client.post(self.url + "draft/", data)
        self.assertRedirects(response, self.url + "?add=action")
        page = self.client.get(response["Location"])
        self.assertContains(page, 'name="action_3_text"')
        self.assertNotContains(page, 'name="action_4_text"')

    def test_a_bad_date_in_a_draft_is_not_lost(self):
        response = self.client.post(self.url + "draft/", self.form_data(action_0_due="not a date"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Enter a valid date")
        self.assertContains(response, "housing form")
        htmx = self.client.post(
            self.url + "draft/",
            self.form_data(action_0_due="not a date"),
            headers={"HX-Request": "true"},
        )
        self.assertContains(htmx, "Not saved yet")

    def test_sending_needs_how_it_went_and_keeps_the_text(self):
        response = self.client.post(self.url + "send/", self.form_data(how_it_went=""))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Choose how it went.")
        self.assertContains(response, "housing form")
        self.assertFalse(Debrief.objects.filter(meeting=self.meeting, state="sent").exists())

    def test_a_name_in_the_text_is_highlighted_and_sent_after_an_edit(self):
        typed = "Daniel rang me from 07700 900123 about the form."
        response = self.client.post(self.url + "send/", self.form_data(what_happened=typed))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Check before you send: this may identify someone")
        self.assertContains(
            response, "<mark>Daniel</mark> rang me from <mark>07700 900123</mark> about the form."
        )
        self.assertContains(response, "“Daniel”: a name: use initials instead")
        self.assertContains(response, typed)  # the textarea keeps what was typed
        self.assertFalse(Debrief.objects.filter(state="sent").exists())
        response = self.client.post(
            self.url + "send/", self.form_data(what_happened="D.O. rang me about the form.")
        )
        self.assertRedirects(response, "/today/")
        debrief = Debrief.objects.get(meeting=self.meeting)
        self.assertEqual(debrief.state, "sent")
        self.assertIsNone(debrief.identifying_confirmed_at)

    def test_ticking_i_have_checked_sends_it_as_written(self):
        typed = "Picked D.O. up from 12 Acacia Avenue."
        first = self.client.post(self.url + "send/", self.form_data(what_happened=typed))
        shown = first.context["form"]["identifying_shown"].value()
        self.assertContains(first, "an address")
        response = self.client.post(
            self.url + "send/",
            self.form_data(what_happened=typed, identifying_shown=shown, not_identifying="on"),
        )
        self.assertRedirects(response, "/today/")
        debrief = Debrief.objects.get(meeting=self.meeting)
        self.assertEqual(debrief.what_happened, typed)
        self.assertIsNotNone(debrief.identifying_confirmed_at)

    def test_an_action_with_a_name_is_caught_too(self):
        response = self.client.post(
            self.url + "send/", self.form_data(action_0_text="Daniel to phone the office")
        )
        self.assertContains(response, "<mark>Daniel</mark> to phone the office")

    def test_boundary_and_worry_answers_are_sent(self):
        gifts = BoundaryQuestion.objects.filter(scheme=self.scheme).first()
        response = self.client.post(
            self.url + "send/",
            self.form_data(
                **{f"boundary_{gifts.pk}": "yes"}, worried_about="myself", concerns="Tired."
            ),
        )
        self.assertRedirects(response, "/today/")
        debrief = Debrief.objects.get(meeting=self.meeting)
        self.assertEqual(debrief.follow_up, FollowUp.OPEN)
        self.assertEqual(list(debrief.boundary_answers.values_list("crossed", flat=True)), [True])
        page = self.client.get(self.url)
        self.assertContains(page, "Debrief sent")
        self.assertContains(page, f"{gifts.text} <strong>Yes</strong>", html=True)

    def test_the_sent_debrief_shows_the_coordinators_feedback(self):
        debrief = self.sent(self.meeting)
        services.debrief_feedback(
            debrief=debrief, text="Thank you, good work.", by=self.coordinator
        )
        page = self.client.get(self.url)
        self.assertContains(page, "From your coordinator")
        self.assertContains(page, "Thank you, good work.")
        listing = self.client.get("/debriefs/")
        self.assertContains(listing, "your coordinator has replied")

    def test_bad_posted_row_counts_do_not_break_the_form(self):
        response = self.client.post(
            self.url + "send/", self.form_data(action_rows="many", goal_rows="-4")
        )
        self.assertRedirects(response, "/today/")


class CarriedForwardTest(DebriefCase):
    def test_actions_show_on_the_next_meetings_card_before_it_starts_and_are_ticked_off(self):
        first = self.met()
        self.sent(first)
        second_start = MONDAY_10AM + timedelta(days=7)
        second = book_meeting(self.buddy_member, second_start, match=self.match)
        self.at(second_start - timedelta(hours=2))
        today = self.client.get("/today/")
        self.assertContains(today, "From last time")
        self.assertContains(today, "Action: Phone the housing office")
        self.assertContains(today, "(The person I support, by 4 Dec)")
        self.assertContains(today, "Goal for next time: Walk to the library")
        # The week before, it showed under Coming up too.
        self.at(second_start - timedelta(days=3))
        self.assertContains(self.client.get("/today/"), "Phone the housing office")
        # After the meeting the debrief lists it to tick off.
        services.meeting_check_in(meeting=second, key="in-2", by=None, now=second_start)
        services.meeting_check_out(
            meeting=second, key="out-2", by=None, now=second_start + timedelta(hours=1)
        )
        self.at(second_start + timedelta(hours=1, minutes=1))
        action = DebriefItem.objects.get(text="Phone the housing office")
        page = self.client.get(f"/meetings/{second.pk}/debrief/")
        self.assertContains(page, f'name="done_{action.pk}"')
        self.client.post(
            f"/meetings/{second.pk}/debrief/send/",
            {
                "how_it_went": "5",
                "what_happened": "Walked to the library.",
                f"done_{action.pk}": "on",
            },
        )
        action.refresh_from_db()
        self.assertIsNotNone(action.done_at)
        # The match page lists it done, for the buddy and the coordinator, never the participant.
        buddy_page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(buddy_page, "Actions and goals")
        self.assertContains(buddy_page, "Phone the housing office")
        self.client.force_login(self.coordinator)
        coordinator_page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(coordinator_page, "Phone the housing office")
        self.assertContains(coordinator_page, "Latest debriefs")
        self.client.force_login(self.participant_member.user)
        self.assertNotContains(self.client.get(f"/matches/{self.match.pk}/"), "Actions and goals")

    def test_today_lists_debriefs_to_write(self):
        meeting = self.met()
        self.at(MONDAY_10AM + timedelta(hours=3))
        today = self.client.get("/today/")
        self.assertContains(today, "Debriefs to write")
        self.assertContains(today, f'href="/meetings/{meeting.pk}/debrief/"')
        self.assertContains(today, "with DO")  # initials only

    def test_today_keeps_a_flat_query_count(self):
        def count():
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get("/today/").status_code, 200)
            return len(queries)

        first = self.met()
        self.sent(first)
        book_meeting(self.buddy_member, MONDAY_10AM + timedelta(days=2), match=self.match)
        self.at(MONDAY_10AM + timedelta(days=1))
        few = count()
        for day in (3, 4):
            book_meeting(self.buddy_member, MONDAY_10AM + timedelta(days=day), match=self.match)
        self.sent(self.met(start=MONDAY_10AM + timedelta(hours=3)))
        self.assertEqual(count(), few)


class CoordinatorTest(DebriefCase):
    def setUp(self):
        super().setUp()
        self.client.force_login(self.coordinator)

    def test_records_a_debrief_given_by_phone(self):
        meeting = self.met()
        url = f"/coordinator/meetings/{meeting.pk}/debrief/"
        page = self.client.get(url)
        self.assertContains(page, "Record a debrief for")
        response = self.client.post(url, {"how_it_went": "3", "what_happened": "By phone: OK."})
        self.assertContains(response, "Say how the buddy gave this debrief.")
        response = self.client.post(
            url, {"given_by": "phone", "how_it_went": "3", "what_happened": "By phone: OK."}
        )
        debrief = Debrief.objects.get(meeting=meeting)
        self.assertRedirects(response, f"/coordinator/debriefs/{debrief.pk}/")
        self.assertEqual((debrief.given_by, debrief.recorded_by), ("phone", self.coordinator))
        self.assertContains(self.client.get(response["Location"]), "Given by phone")
        # Once sent, the page goes to the debrief instead of a second form.
        self.assertRedirects(self.client.get(url), f"/coordinator/debriefs/{debrief.pk}/")

    def test_the_meeting_list_links_each_finished_meeting_to_its_debrief(self):
        sent = self.sent(self.met())
        waiting = self.met(start=MONDAY_10AM + timedelta(hours=3))
        self.at(MONDAY_10AM + timedelta(hours=5), user=self.coordinator)
        with CaptureQueriesContext(connection) as queries:
            page = self.client.get("/coordinator/meetings/")
        self.assertContains(page, f'href="/coordinator/debriefs/{sent.pk}/"')
        self.assertContains(page, f'href="/coordinator/meetings/{waiting.pk}/debrief/"')
        self.sent(self.met(start=MONDAY_10AM + timedelta(days=1)))
        with CaptureQueriesContext(connection) as more:
            self.client.get("/coordinator/meetings/")
        self.assertEqual(len(more), len(queries))

    def test_the_guard_asks_the_coordinator_too(self):
        meeting = self.met()
        response = self.client.post(
            f"/coordinator/meetings/{meeting.pk}/debrief/",
            {"given_by": "email", "how_it_went": "3", "what_happened": "Okonkwo was fine."},
        )
        self.assertContains(response, "<mark>Okonkwo</mark> was fine.")

    def test_feedback_and_follow_up(self):
        debrief = self.sent(self.met(), worried_about="participant", concerns="Low mood.")
        url = f"/coordinator/debriefs/{debrief.pk}/"
        page = self.client.get(url)
        self.assertContains(page, "Low mood.")
        self.assertContains(page, "To follow up")
        response = self.client.post(url + "feedback/", {"feedback": ""})
        self.assertContains(response, "Write some feedback first.")
        response = self.client.post(url + "feedback/", {"feedback": "Thanks, I will call."})
        self.assertRedirects(response, url)
        response = self.client.post(url + "follow-up/", {"follow_up": "done", "note": "Called."})
        self.assertRedirects(response, url)
        debrief.refresh_from_db()
        self.assertEqual((debrief.follow_up, debrief.follow_up_note), ("done", "Called."))
        self.assertEqual(debrief.feedback, "Thanks, I will call.")

    def test_lists_by_buddy_and_by_match_and_ignores_nonsense(self):
        self.sent(self.met())
        other_buddy = cleared_buddy(self.scheme)
        other_match = Match.objects.create(
            scheme=self.scheme,
            buddy=other_buddy,
            participant=waiting_participant(self.scheme),
            state="active",
        )
        other = book_meeting(other_buddy, MONDAY_10AM + timedelta(hours=3), match=other_match)
        services.meeting_check_in(meeting=other, key="i", by=None, now=other.planned_start)
        services.meeting_check_out(meeting=other, key="o", by=None, now=other.planned_end)
        services.debrief_send(
            meeting=other,
            content=DebriefContent(how_it_went=2, what_happened="Hard going."),
            by=None,
        )
        everything = self.client.get("/coordinator/debriefs/")
        self.assertEqual(len(everything.context["debriefs"]), 2)
        mine = self.client.get(f"/coordinator/debriefs/?buddy={self.buddy_member.pk}")
        self.assertEqual(len(mine.context["debriefs"]), 1)
        by_match = self.client.get(f"/coordinator/debriefs/?match={other_match.pk}")
        self.assertContains(by_match, "Hard")
        self.assertEqual(len(by_match.context["debriefs"]), 1)
        for nonsense in ("?buddy=abc", "?match=99999999", "?follow_up=<script>", "?buddy=1e9"):
            self.assertEqual(self.client.get("/coordinator/debriefs/" + nonsense).status_code, 200)

    def test_another_schemes_debrief_is_not_found(self):
        debrief = self.sent(self.met())
        self.client.force_login(self.other_coordinator)
        self.assertEqual(self.client.get(f"/coordinator/debriefs/{debrief.pk}/").status_code, 404)
        listing = self.client.get(f"/coordinator/debriefs/?buddy={self.buddy_member.pk}")
        self.assertEqual(len(listing.context["debriefs"]), 0)

    def test_the_list_keeps_a_flat_query_count(self):
        def count():
            with CaptureQueriesContext(connection) as queries:
                self.assertEqual(self.client.get("/coordinator/debriefs/").status_code, 200)
            return len(queries)

        gifts = BoundaryQuestion.objects.filter(scheme=self.scheme).first()
        self.sent(self.met(), boundaries={gifts.pk: True})
        few = count()
        for day in range(1, 5):
            self.sent(
                self.met(start=MONDAY_10AM + timedelta(days=day)), boundaries={gifts.pk: True}
            )
        self.assertEqual(count(), few)


class DashboardTest(DebriefCase):
    def test_missing_and_to_follow_up_appear_with_a_flat_query_count(self):
        def dashboard():
            forget_figures(self.scheme)  # the cached figures worked out afresh each time
            with CaptureQueriesContext(connection) as queries:
                page = self.client.get("/coordinator/")
            self.assertEqual(page.status_code, 200)
            return page, len(queries)

        gifts = BoundaryQuestion.objects.filter(scheme=self.scheme).first()
        self.sent(self.met(), boundaries={gifts.pk: True})
        missing = self.met(start=MONDAY_10AM + timedelta(days=1))
        self.at(MONDAY_10AM + timedelta(days=2, hours=10), user=self.coordinator)
        page, _ = dashboard()
        self.assertNotContains(page, f"/coordinator/meetings/{missing.pk}/debrief/")
        self.assertContains(page, f"{gifts.text} Yes")
        self.at(MONDAY_10AM + timedelta(days=3, hours=11), user=self.coordinator)
        page, few = dashboard()
        self.assertContains(page, "Debriefs missing after 48 hours")
        self.assertContains(page, f"/coordinator/meetings/{missing.pk}/debrief/")
        for day in range(4, 8):
            self.sent(
                self.met(start=MONDAY_10AM - timedelta(days=day)), boundaries={gifts.pk: True}
            )
            self.met(start=MONDAY_10AM - timedelta(days=day, hours=-3))
        _, many = dashboard()
        self.assertEqual(many, few)

    def test_a_crossed_boundary_flags_the_match_page(self):
        gifts = BoundaryQuestion.objects.filter(scheme=self.scheme).first()
        self.sent(self.met(), boundaries={gifts.pk: True})
        self.client.force_login(self.coordinator)
        page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(page, "Boundary answers to follow up")
        # The buddy sees the actions but not the coordinator's flag.
        self.client.force_login(self.buddy_member.user)
        page = self.client.get(f"/matches/{self.match.pk}/")
        self.assertContains(page, "Actions and goals")
        self.assertNotContains(page, "Boundary answers to follow up")
